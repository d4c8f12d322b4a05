// Subresources of the sandbox API server through @kubernetes/client-node 2.x:
// status and scale, eviction against PodDisruptionBudgets, pod logs, binding
// and namespace finalize.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as k8s from '@kubernetes/client-node';
import type { LogBook } from '../../src/sandbox/logs.ts';
import type { ObjectStore } from '../../src/sandbox/store.ts';
import type { ApiServer } from '../../src/sandbox/server/index.ts';
import { NS, apiError, deployment, patchAs, pod, startTestServer } from './server-setup.ts';

describe('sandbox API server with @kubernetes/client-node: subresources', () => {
  let store: ObjectStore;
  let logs: LogBook;
  let server: ApiServer;
  let core: k8s.CoreV1Api;
  let apps: k8s.AppsV1Api;
  let policy: k8s.PolicyV1Api;

  before(async () => {
    ({ store, logs, server, core, apps, policy } = await startTestServer());
  });

  after(async () => {
    await server.close();
  });

  it('serves the status and scale subresources', async () => {
    await apps.createNamespacedDeployment({ namespace: NS, body: deployment('sub', 2) });
    const d = await apps.readNamespacedDeployment({ name: 'sub', namespace: NS });
    const withStatus = await apps.replaceNamespacedDeploymentStatus({
      name: 'sub',
      namespace: NS,
      body: { ...d, spec: { ...d.spec!, replicas: 9 }, status: { replicas: 2, readyReplicas: 1 } },
    });
    assert.equal(withStatus.status?.readyReplicas, 1);
    assert.equal(withStatus.spec?.replicas, 2, 'a status write ignores spec');
    const ignored = await apps.replaceNamespacedDeployment({ name: 'sub', namespace: NS, body: { ...withStatus, status: { replicas: 0 } } });
    assert.equal(ignored.status?.replicas, 2, 'a main-resource write ignores status');

    const scale = await apps.readNamespacedDeploymentScale({ name: 'sub', namespace: NS });
    assert.equal(scale.kind, 'Scale');
    assert.equal(scale.spec?.replicas, 2);
    assert.equal(scale.status?.replicas, 2);
    assert.equal(scale.status?.selector, 'app=sub');
    const scaled = await apps.replaceNamespacedDeploymentScale({ name: 'sub', namespace: NS, body: { ...scale, spec: { replicas: 5 } } });
    assert.equal(scaled.spec?.replicas, 5);
    assert.equal((await apps.readNamespacedDeployment({ name: 'sub', namespace: NS })).spec?.replicas, 5);
    const stale = await apiError(apps.replaceNamespacedDeploymentScale({ name: 'sub', namespace: NS, body: { ...scale, spec: { replicas: 6 } } }));
    assert.equal(stale.code, 409);
    const patched = await apps.patchNamespacedDeploymentScale({ name: 'sub', namespace: NS, body: { spec: { replicas: 1 } } }, patchAs(k8s.PatchStrategy.MergePatch));
    assert.equal(patched.spec?.replicas, 1);
  });

  it('refuses an eviction that would violate a PodDisruptionBudget with 429, and spends the budget otherwise', async () => {
    const running = (name: string) => {
      store.create('pods', pod(name, { app: 'guarded' }, 'node-1'));
      store.mutate('pods', NS, name, (p) => {
        p.status = { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] };
      }, { subresource: 'status' });
    };
    running('guarded-1');
    running('guarded-2');
    await policy.createNamespacedPodDisruptionBudget({ namespace: NS, body: { metadata: { name: 'guard' }, spec: { minAvailable: 2, selector: { matchLabels: { app: 'guarded' } } } } });
    const setBudget = (allowed: number) =>
      store.mutate('policy/poddisruptionbudgets', NS, 'guard', (p) => {
        p.status = { observedGeneration: p.metadata.generation, disruptionsAllowed: allowed, currentHealthy: 2, desiredHealthy: 2, expectedPods: 2 };
      }, { subresource: 'status' });
    setBudget(0);
    const evict = (name: string) =>
      core.createNamespacedPodEviction({ name, namespace: NS, body: { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name, namespace: NS } } });
    const refused = await apiError(evict('guarded-1'));
    assert.equal(refused.code, 429);
    const status = JSON.parse(String(refused.body));
    assert.equal(status.reason, 'TooManyRequests');
    assert.equal(status.message, "Cannot evict pod as it would violate the pod's disruption budget.");
    assert.equal(status.details.causes[0].reason, 'DisruptionBudget');
    assert.equal(status.details.causes[0].message, 'The disruption budget guard needs 2 healthy pods and has 2 currently');
    assert.equal(store.get('pods', NS, 'guarded-1')?.metadata.deletionTimestamp, undefined);

    setBudget(1);
    await evict('guarded-1');
    assert.ok(store.get('pods', NS, 'guarded-1')?.metadata.deletionTimestamp, 'evicted pods are deleted gracefully');
    const pdb = await policy.readNamespacedPodDisruptionBudget({ name: 'guard', namespace: NS });
    assert.equal(pdb.status?.disruptionsAllowed, 0);
    assert.ok(pdb.status?.disruptedPods?.['guarded-1']);
    assert.equal((await apiError(evict('guarded-2'))).code, 429);
  });

  it('serves pod logs with the real errors', async () => {
    store.create('pods', pod('logger', {}, 'node-1', ['app', 'side']));
    logs.append(NS, 'logger', 'app', 'first');
    logs.append(NS, 'logger', 'app', 'second');
    const text = await core.readNamespacedPodLog({ name: 'logger', namespace: NS, container: 'app' });
    assert.equal(text, 'first\nsecond\n');
    assert.equal(await core.readNamespacedPodLog({ name: 'logger', namespace: NS, container: 'app', tailLines: 1 }), 'second\n');
    const which = await apiError(core.readNamespacedPodLog({ name: 'logger', namespace: NS }));
    assert.equal(which.code, 400);
    assert.equal(JSON.parse(String(which.body)).message, 'a container name must be specified for pod logger, choose one of: [app side]');
    const previous = await apiError(core.readNamespacedPodLog({ name: 'logger', namespace: NS, container: 'app', previous: true }));
    assert.equal(JSON.parse(String(previous.body)).message, 'previous terminated container "app" in pod "logger" not found');
  });

  it('follows a log until the pod goes away', async () => {
    store.create('pods', pod('follower', {}, 'node-1'));
    logs.append(NS, 'follower', 'app', 'one');
    const res = await fetch(`${server.url}/api/v1/namespaces/${NS}/pods/follower/log?follow=true`);
    assert.equal(res.status, 200);
    const reader = res.body!.getReader();
    let text = '';
    const read = async (want: string) => {
      while (!text.includes(want)) {
        const { value, done } = await reader.read();
        if (done) assert.fail(`stream ended before ${JSON.stringify(want)}`);
        text += new TextDecoder().decode(value);
      }
    };
    await read('one\n');
    logs.append(NS, 'follower', 'app', 'two');
    await read('two\n');
    store.remove('pods', store.get('pods', NS, 'follower')!);
    assert.equal((await reader.read()).done, true);
    assert.equal(text, 'one\ntwo\n');
  });

  it('binds pods to nodes through the binding subresource', async () => {
    store.create('pods', pod('unbound'));
    await core.createNamespacedPodBinding({ name: 'unbound', namespace: NS, body: { metadata: { name: 'unbound' }, target: { kind: 'Node', name: 'node-1' } } });
    const bound = store.get('pods', NS, 'unbound')!;
    assert.equal(bound.spec.nodeName, 'node-1');
    assert.equal(bound.status.conditions.find((c: any) => c.type === 'PodScheduled')?.status, 'True');
    const again = await apiError(core.createNamespacedPodBinding({ name: 'unbound', namespace: NS, body: { metadata: { name: 'unbound' }, target: { kind: 'Node', name: 'node-1' } } }));
    assert.equal(again.code, 409);
    assert.match(JSON.parse(String(again.body)).message, /pod unbound is already assigned to node "node-1"/);
  });

  it('finalizes a terminating namespace', async () => {
    await core.createNamespace({ body: { metadata: { name: 'doomed' } } });
    await core.deleteNamespace({ name: 'doomed' });
    const terminating = await core.readNamespace({ name: 'doomed' });
    assert.equal(terminating.status?.phase, 'Terminating');
    await core.replaceNamespaceFinalize({ name: 'doomed', body: { ...terminating, spec: { finalizers: [] } } });
    assert.equal(store.get('namespaces', undefined, 'doomed'), undefined);
  });
});
