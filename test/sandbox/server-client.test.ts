// The sandbox API server driven by @kubernetes/client-node 2.x, the client
// kubemend itself uses: CRUD, selectors, paging, watches (resume, 410,
// bookmarks), every patch type, graceful deletes, subresources, eviction,
// informers, and the request accounting kubemend's tests rely on.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as k8s from '@kubernetes/client-node';
import { ManualClock } from '../../src/common/clock.ts';
import { LogBook } from '../../src/sandbox/logs.ts';
import { ObjectStore } from '../../src/sandbox/store.ts';
import { kubeconfigYaml } from '../../src/sandbox/kubeconfig.ts';
import { startApiServer, type ApiServer } from '../../src/sandbox/server/index.ts';
import type { K8sObject } from '../../src/sandbox/types.ts';

const NS = 'default';

// Untyped on purpose: the same literal serves client-node (V1Pod) and the store (K8sObject).
function pod(name: string, labels: Record<string, string> = {}, nodeName?: string, containers = ['app']) {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: NS, labels },
    spec: { ...(nodeName ? { nodeName } : {}), containers: containers.map((c) => ({ name: c, image: 'nginx:1.27' })) },
  };
}

function deployment(name: string, replicas = 2): k8s.V1Deployment {
  return {
    metadata: { name, labels: { app: name } },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'app', image: 'nginx:1.27' }] } },
    },
  };
}

const patchAs = (type: string) => k8s.setHeaderOptions('Content-Type', type);

/** Resolves with the ApiException a call rejects with. */
async function apiError(p: Promise<unknown>): Promise<k8s.ApiException<any>> {
  try {
    await p;
  } catch (err) {
    if (err instanceof k8s.ApiException) return err;
    throw err;
  }
  assert.fail('expected the call to fail');
}

interface Seen { type: string; obj: any }

/** Starts a client-node watch and collects its events until stopped. */
async function collect(kc: k8s.KubeConfig, path: string, query: Record<string, string | number | boolean | undefined>) {
  const events: Seen[] = [];
  let ended: unknown = 'open';
  const req = await new k8s.Watch(kc).watch(path, query, (type, obj) => events.push({ type, obj }), (err) => { ended = err ?? null; });
  return { events, req, ended: () => ended };
}

async function until(cond: () => boolean, what: string, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('sandbox API server with @kubernetes/client-node', () => {
  let clock: ManualClock;
  let store: ObjectStore;
  let logs: LogBook;
  let server: ApiServer;
  let kc: k8s.KubeConfig;
  let core: k8s.CoreV1Api;
  let apps: k8s.AppsV1Api;
  let policy: k8s.PolicyV1Api;

  before(async () => {
    clock = new ManualClock();
    store = new ObjectStore({ clock });
    logs = new LogBook(clock);
    for (const ns of [NS, 'other']) store.create('namespaces', { metadata: { name: ns } });
    store.create('nodes', { metadata: { name: 'node-1' }, spec: {} });
    server = await startApiServer({ store, clock, logs, host: '127.0.0.1', port: 0 });
    kc = new k8s.KubeConfig();
    kc.loadFromString(kubeconfigYaml(server.url));
    core = kc.makeApiClient(k8s.CoreV1Api);
    apps = kc.makeApiClient(k8s.AppsV1Api);
    policy = kc.makeApiClient(k8s.PolicyV1Api);
  });

  after(async () => {
    await server.close();
  });

  it('serves discovery and version', async () => {
    const version = await kc.makeApiClient(k8s.VersionApi).getCode();
    assert.equal(version.gitVersion, 'v1.32.0-kubemend');
    const res = await core.getAPIResources();
    const pods = res.resources.find((r) => r.name === 'pods');
    assert.deepEqual(pods?.shortNames, ['po']);
    assert.ok(res.resources.some((r) => r.name === 'pods/log'));
    const scale = (await apps.getAPIResources()).resources.find((r) => r.name === 'deployments/scale');
    assert.equal(scale?.kind, 'Scale');
    assert.equal(scale?.group, 'autoscaling');
  });

  it('creates, gets and lists with label and field selectors', async () => {
    await core.createNamespacedPod({ namespace: NS, body: pod('sel-a', { app: 'sel', tier: 'web' }, 'node-1') });
    await core.createNamespacedPod({ namespace: NS, body: pod('sel-b', { app: 'sel', tier: 'db' }) });
    await core.createNamespacedPod({ namespace: 'other', body: { ...pod('sel-c', { app: 'sel' }), metadata: { name: 'sel-c', labels: { app: 'sel' } } } });
    const got = await core.readNamespacedPod({ name: 'sel-a', namespace: NS });
    assert.equal(got.kind, 'Pod');
    assert.equal(got.spec?.restartPolicy, 'Always', 'defaults applied');

    const web = await core.listNamespacedPod({ namespace: NS, labelSelector: 'app=sel,tier in (web)' });
    assert.deepEqual(web.items.map((p) => p.metadata?.name), ['sel-a']);
    assert.equal(web.kind, 'PodList');
    assert.equal(web.items[0].kind, 'Pod', 'items carry kind');
    const onNode = await core.listPodForAllNamespaces({ fieldSelector: 'spec.nodeName=node-1' });
    assert.deepEqual(onNode.items.map((p) => p.metadata?.name), ['sel-a']);
    const all = await core.listPodForAllNamespaces({ labelSelector: 'app=sel' });
    assert.deepEqual(all.items.map((p) => `${p.metadata?.namespace}/${p.metadata?.name}`), ['default/sel-a', 'default/sel-b', 'other/sel-c']);
    const bad = await apiError(core.listNamespacedPod({ namespace: NS, fieldSelector: 'spec.bogus=1' }));
    assert.equal(bad.code, 400);
  });

  it('pages with limit and continue, and expires continue tokens after compaction', async () => {
    for (let i = 0; i < 5; i++) await core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: `page-${i}`, labels: { page: 'yes' } } } });
    const first = await core.listNamespacedConfigMap({ namespace: NS, limit: 2 });
    assert.equal(first.items.length, 2);
    assert.ok(first.metadata?._continue);
    assert.equal(first.metadata?.remainingItemCount, 3);
    const names = first.items.map((c) => c.metadata?.name);
    let token: string | undefined = first.metadata?._continue;
    while (token) {
      const page = await core.listNamespacedConfigMap({ namespace: NS, limit: 2, _continue: token! });
      assert.equal(page.metadata?.resourceVersion, first.metadata?.resourceVersion, 'one snapshot across pages');
      names.push(...page.items.map((c) => c.metadata?.name));
      token = page.metadata?._continue;
    }
    assert.deepEqual(names, ['page-0', 'page-1', 'page-2', 'page-3', 'page-4']);

    const again = await core.listNamespacedConfigMap({ namespace: NS, limit: 2, labelSelector: 'page=yes' });
    assert.equal(again.metadata?.remainingItemCount, undefined, 'no count with a selector');
    await core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: 'page-late' } } });
    store.compact();
    const expired = await apiError(core.listNamespacedConfigMap({ namespace: NS, limit: 2, _continue: again.metadata?._continue }));
    assert.equal(expired.code, 410);
    const status = JSON.parse(String(expired.body));
    assert.equal(status.reason, 'Expired');
    assert.ok(status.metadata.continue, 'an inconsistent continue token is offered');
  });

  it('rejects a stale update with 409 Conflict', async () => {
    const cm = await core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: 'conflict' }, data: { v: '1' } } });
    await core.replaceNamespacedConfigMap({ name: 'conflict', namespace: NS, body: { ...cm, data: { v: '2' } } });
    const err = await apiError(core.replaceNamespacedConfigMap({ name: 'conflict', namespace: NS, body: { ...cm, data: { v: '3' } } }));
    assert.equal(err.code, 409);
    assert.match(JSON.parse(String(err.body)).message, /Operation cannot be fulfilled on configmaps "conflict": the object has been modified/);
    const noop = await core.readNamespacedConfigMap({ name: 'conflict', namespace: NS });
    const same = await core.replaceNamespacedConfigMap({ name: 'conflict', namespace: NS, body: noop });
    assert.equal(same.metadata?.resourceVersion, noop.metadata?.resourceVersion, 'a no-op update keeps its resourceVersion');
  });

  it('resumes a watch exactly after the given resourceVersion', async () => {
    const a = await core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: 'w-a', labels: { w: 'resume' } } } });
    await core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: 'w-b', labels: { w: 'resume' } } } });
    await core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: 'w-c', labels: { w: 'resume' } } } });
    const w = await collect(kc, `/api/v1/namespaces/${NS}/configmaps`, { resourceVersion: a.metadata?.resourceVersion, labelSelector: 'w=resume' });
    await until(() => w.events.length >= 2, 'replayed events');
    await core.patchNamespacedConfigMap({ name: 'w-a', namespace: NS, body: { data: { x: '1' } } }, patchAs(k8s.PatchStrategy.MergePatch));
    await until(() => w.events.length >= 3, 'live event');
    assert.deepEqual(w.events.map((e) => `${e.type} ${e.obj.metadata.name}`), ['ADDED w-b', 'ADDED w-c', 'MODIFIED w-a']);
    w.req.abort();
  });

  it('sends current objects as ADDED when the watch has no resourceVersion, and tracks selector transitions', async () => {
    await core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: 'sel-x', labels: { watch: 'in' } } } });
    const w = await collect(kc, `/api/v1/namespaces/${NS}/configmaps`, { labelSelector: 'watch=in' });
    await until(() => w.events.length >= 1, 'initial ADDED');
    await core.patchNamespacedConfigMap({ name: 'sel-x', namespace: NS, body: { metadata: { labels: { watch: 'out' } } } }, patchAs(k8s.PatchStrategy.MergePatch));
    await core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: 'sel-y', labels: { watch: 'out' } } } });
    await core.patchNamespacedConfigMap({ name: 'sel-y', namespace: NS, body: { metadata: { labels: { watch: 'in' } } } }, patchAs(k8s.PatchStrategy.MergePatch));
    await until(() => w.events.length >= 3, 'transition events');
    assert.deepEqual(w.events.map((e) => `${e.type} ${e.obj.metadata.name}`), ['ADDED sel-x', 'DELETED sel-x', 'ADDED sel-y']);
    w.req.abort();
  });

  it('answers a compacted resourceVersion with an ERROR event carrying 410', async () => {
    const cm = await core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: 'old-rv' } } });
    await core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: 'newer-rv' } } });
    store.compact();
    const w = await collect(kc, `/api/v1/namespaces/${NS}/configmaps`, { resourceVersion: cm.metadata?.resourceVersion });
    await until(() => w.ended() !== 'open', 'the stream to end');
    assert.equal(w.events.length, 1);
    assert.equal(w.events[0].type, 'ERROR');
    assert.equal(w.events[0].obj.code, 410);
    assert.equal(w.events[0].obj.reason, 'Expired');
  });

  it('sends bookmarks with the latest resourceVersion when asked', async () => {
    const w = await collect(kc, `/api/v1/namespaces/${NS}/pods`, { resourceVersion: String(store.resourceVersion()), allowWatchBookmarks: true });
    await core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: 'bookmark-bump' } } });
    await until(() => w.events.some((e) => e.type === 'BOOKMARK'), 'a bookmark', 3000);
    const bm = w.events.find((e) => e.type === 'BOOKMARK')!;
    assert.equal(bm.obj.kind, 'Pod');
    assert.equal(Number(bm.obj.metadata.resourceVersion), store.resourceVersion());
    w.req.abort();
  });

  it('streams initial events then an initial-events-end bookmark for sendInitialEvents', async () => {
    await core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: 'wl-1', labels: { wl: 'yes' } } } });
    const w = await collect(kc, `/api/v1/namespaces/${NS}/configmaps`, {
      labelSelector: 'wl=yes', sendInitialEvents: true, allowWatchBookmarks: true, resourceVersionMatch: 'NotOlderThan',
    });
    await until(() => w.events.some((e) => e.type === 'BOOKMARK'), 'the initial-events-end bookmark');
    assert.equal(w.events[0].type, 'ADDED');
    assert.equal(w.events[1].type, 'BOOKMARK');
    assert.equal(w.events[1].obj.metadata.annotations['k8s.io/initial-events-end'], 'true');
    w.req.abort();
  });

  it('ends a watch after timeoutSeconds', async () => {
    const w = await collect(kc, `/api/v1/namespaces/${NS}/pods`, { timeoutSeconds: 1, resourceVersion: String(store.resourceVersion()) });
    await until(() => w.ended() !== 'open', 'the timeout', 3000);
    assert.equal(w.ended(), null);
  });

  it('patches with JSON patch, merge patch, strategic merge patch and server-side apply', async () => {
    await apps.createNamespacedDeployment({ namespace: NS, body: deployment('patchy') });
    const json = await apps.patchNamespacedDeployment(
      { name: 'patchy', namespace: NS, body: [{ op: 'replace', path: '/spec/replicas', value: 3 }] },
      patchAs(k8s.PatchStrategy.JsonPatch),
    );
    assert.equal(json.spec?.replicas, 3);
    const merge = await apps.patchNamespacedDeployment({ name: 'patchy', namespace: NS, body: { metadata: { labels: { merged: 'yes' } } } }, patchAs(k8s.PatchStrategy.MergePatch));
    assert.equal(merge.metadata?.labels?.merged, 'yes');
    const smp = await apps.patchNamespacedDeployment(
      { name: 'patchy', namespace: NS, body: { spec: { template: { spec: { containers: [{ name: 'sidecar', image: 'busybox' }] } } } } },
      patchAs(k8s.PatchStrategy.StrategicMergePatch),
    );
    assert.deepEqual(smp.spec?.template.spec?.containers.map((c) => c.name).sort(), ['app', 'sidecar'], 'containers merge by name');
    assert.equal(smp.metadata?.generation, 3);

    const applied = { apiVersion: 'apps/v1', kind: 'Deployment', ...deployment('applied', 1) };
    const created = await apps.patchNamespacedDeployment({ name: 'applied', namespace: NS, body: applied, fieldManager: 'kubemend' }, patchAs(k8s.PatchStrategy.ServerSideApply));
    assert.equal(created.spec?.replicas, 1, 'apply creates a missing object');
    applied.spec!.replicas = 4;
    const updated = await apps.patchNamespacedDeployment({ name: 'applied', namespace: NS, body: applied, fieldManager: 'kubemend' }, patchAs(k8s.PatchStrategy.ServerSideApply));
    assert.equal(updated.spec?.replicas, 4);
    const apply = updated.metadata?.managedFields?.find((m) => m.manager === 'kubemend');
    assert.equal(apply?.operation, 'Apply');
    assert.equal(apply?.fieldsType, 'FieldsV1');
    const missingManager = await apiError(apps.patchNamespacedDeployment({ name: 'applied', namespace: NS, body: applied }, patchAs(k8s.PatchStrategy.ServerSideApply)));
    assert.equal(missingManager.code, 422);

    const managers = (await apps.readNamespacedDeployment({ name: 'patchy', namespace: NS })).metadata?.managedFields?.map((m) => m.operation);
    assert.ok(managers?.length && managers.every((op) => op === 'Update'));
    const unsupported = await apiError(apps.patchNamespacedDeployment({ name: 'patchy', namespace: NS, body: {} }, patchAs('text/plain')));
    assert.equal(unsupported.code, 415);
  });

  it('deletes gracefully: a bound pod keeps a deletionTimestamp, others go at once', async () => {
    await core.createNamespacedPod({ namespace: NS, body: pod('bound', {}, 'node-1') });
    const pending = await core.deleteNamespacedPod({ name: 'bound', namespace: NS, gracePeriodSeconds: 20 });
    assert.ok(pending.metadata?.deletionTimestamp);
    assert.equal(pending.metadata?.deletionGracePeriodSeconds, 20);
    const still = await core.readNamespacedPod({ name: 'bound', namespace: NS });
    assert.ok(still.metadata?.deletionTimestamp, 'the kubelet must finish it');
    await core.deleteNamespacedPod({ name: 'bound', namespace: NS, gracePeriodSeconds: 0 });
    assert.equal((await apiError(core.readNamespacedPod({ name: 'bound', namespace: NS }))).code, 404);

    await core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: 'gone' } } });
    const status = (await core.deleteNamespacedConfigMap({ name: 'gone', namespace: NS })) as unknown as Record<string, any>;
    assert.equal(status.kind, 'Status');
    assert.equal(status.status, 'Success');
    assert.equal(status.details.name, 'gone');

    await apps.createNamespacedDeployment({ namespace: NS, body: deployment('fg') });
    await apps.deleteNamespacedDeployment({ name: 'fg', namespace: NS, propagationPolicy: 'Foreground' });
    assert.deepEqual(store.get('apps/deployments', NS, 'fg')?.metadata.finalizers, ['foregroundDeletion'], 'the garbage collector finishes it');
    const dry = await core.deleteNamespacedPod({ name: 'sel-b', namespace: NS, dryRun: 'All' });
    assert.equal(dry.metadata?.name, 'sel-b');
    assert.ok(store.get('pods', NS, 'sel-b'), 'dry run deletes nothing');
  });

  it('deletes a collection by label selector', async () => {
    for (const n of ['dc-1', 'dc-2', 'dc-keep']) {
      await core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: n, labels: { dc: n === 'dc-keep' ? 'keep' : 'drop' } } } });
    }
    await core.deleteCollectionNamespacedConfigMap({ namespace: NS, labelSelector: 'dc=drop' });
    const left = await core.listNamespacedConfigMap({ namespace: NS, labelSelector: 'dc' });
    assert.deepEqual(left.items.map((c) => c.metadata?.name), ['dc-keep']);
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

  it('serves events.k8s.io/v1 Events converted from the stored core Events', async () => {
    await core.createNamespacedEvent({
      namespace: NS,
      body: {
        metadata: { name: 'ev-1' },
        involvedObject: { kind: 'Pod', name: 'sel-a', namespace: NS },
        reason: 'BackOff',
        message: 'Back-off restarting failed container',
        type: 'Warning',
        count: 4,
        firstTimestamp: new Date(clock.now()),
        lastTimestamp: new Date(clock.now()),
        source: { component: 'kubelet' },
      },
    });
    const ev = await kc.makeApiClient(k8s.EventsV1Api).readNamespacedEvent({ name: 'ev-1', namespace: NS });
    assert.equal(ev.apiVersion, 'events.k8s.io/v1');
    assert.equal(ev.note, 'Back-off restarting failed container');
    assert.equal(ev.regarding?.name, 'sel-a');
    assert.equal(ev.deprecatedCount, 4);
    assert.equal(ev.series?.count, 4);
    assert.equal(ev.reportingController, 'kubelet');
    const warnings = await kc.makeApiClient(k8s.EventsV1Api).listNamespacedEvent({ namespace: NS, fieldSelector: 'type=Warning,regarding.name=sel-a' });
    assert.deepEqual(warnings.items.map((e) => e.metadata?.name), ['ev-1']);

    await kc.makeApiClient(k8s.EventsV1Api).createNamespacedEvent({
      namespace: NS,
      body: {
        metadata: { name: 'ev-2' },
        eventTime: new Date(clock.now()),
        reportingController: 'kubemend.dev/remediator',
        reportingInstance: 'kubemend-0',
        action: 'Restart',
        reason: 'Remediated',
        note: 'restarted deployment web',
        type: 'Normal',
        regarding: { kind: 'Deployment', name: 'web', namespace: NS },
      },
    });
    const core2 = await core.readNamespacedEvent({ name: 'ev-2', namespace: NS });
    assert.equal(core2.message, 'restarted deployment web');
    assert.equal(core2.involvedObject.kind, 'Deployment');
    assert.equal(core2.reportingComponent, 'kubemend.dev/remediator');
    assert.equal(core2.source?.component, 'kubemend.dev/remediator');
  });

  it('renders Tables and PartialObjectMetadata for the Accept header', async () => {
    const res = await fetch(`${server.url}/api/v1/namespaces/${NS}/pods?limit=1`, {
      headers: { Accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json' },
    });
    const table: any = await res.json();
    assert.equal(table.kind, 'Table');
    assert.equal(table.rows.length, 1);
    assert.ok(table.metadata.continue, 'paging metadata survives');
    assert.equal(table.rows[0].object.kind, 'PartialObjectMetadata');
    const meta: any = await (await fetch(`${server.url}/api/v1/namespaces/${NS}/pods`, { headers: { Accept: 'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1' } })).json();
    assert.equal(meta.kind, 'PartialObjectMetadataList');
    assert.equal(meta.items[0].spec, undefined);
  });

  it('answers unknown paths and methods with Status errors', async () => {
    const missing = await fetch(`${server.url}/api/v1/namespaces/${NS}/widgets`);
    assert.equal(missing.status, 404);
    assert.equal(((await missing.json()) as any).message, 'the server could not find the requested resource');
    const bad = await fetch(`${server.url}/api/v1/namespaces/${NS}/configmaps`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{nope' });
    assert.equal(bad.status, 400);
    assert.equal(((await bad.json()) as any).kind, 'Status');
    const method = await fetch(`${server.url}/api/v1/namespaces/${NS}/configmaps/x`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' });
    assert.equal(method.status, 405);
    assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
  });

  it('keeps an informer in sync from one list and one watch, without per-event GETs', async () => {
    const before = server.requestCounts();
    const informer = k8s.makeInformer(kc, `/api/v1/namespaces/${NS}/configmaps`, () => core.listNamespacedConfigMap({ namespace: NS, labelSelector: 'inf=yes' }), 'inf=yes');
    const seen: string[] = [];
    informer.on('add', (o) => seen.push(`add ${o.metadata?.name}`));
    informer.on('update', (o) => seen.push(`update ${o.metadata?.name}`));
    informer.on('delete', (o) => seen.push(`delete ${o.metadata?.name}`));
    await informer.start();
    store.create('configmaps', { metadata: { name: 'inf-1', namespace: NS, labels: { inf: 'yes' } } });
    store.mutate('configmaps', NS, 'inf-1', (c) => { c.data = { a: '1' }; });
    store.remove('configmaps', store.get('configmaps', NS, 'inf-1')!);
    await until(() => seen.length >= 3, 'informer callbacks');
    await informer.stop();
    assert.deepEqual(seen, ['add inf-1', 'update inf-1', 'delete inf-1']);
    const after = server.requestCounts();
    assert.equal((after['list configmaps'] ?? 0) - (before['list configmaps'] ?? 0), 1);
    assert.equal((after['watch configmaps'] ?? 0) - (before['watch configmaps'] ?? 0), 1);
    assert.equal(after['get configmaps'] ?? 0, before['get configmaps'] ?? 0, 'no per-event GETs');
  });

  it('exposes request counts at /metrics and logs impersonated identities', async () => {
    await fetch(`${server.url}/api/v1/namespaces/${NS}/configmaps`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'Impersonate-User': 'system:serviceaccount:kubemend:remediator', 'Impersonate-Group': 'kubemend:runbooks' },
      body: JSON.stringify({ metadata: { name: 'impersonated' } }),
    });
    const entry = server.requestLog.findLast((e) => e.verb === 'create' && e.resource === 'configmaps');
    assert.equal(entry?.user, 'system:serviceaccount:kubemend:remediator');
    assert.deepEqual(entry?.groups, ['kubemend:runbooks']);
    assert.equal(entry?.code, 201);
    const text = await (await fetch(`${server.url}/metrics`)).text();
    assert.match(text, /kubemend_sandbox_requests_total\{verb="list",resource="pods",code="200"\} \d+/);
    assert.match(text, /kubemend_sandbox_watches \d+/);
    const counts = server.requestCounts();
    assert.ok(counts['list pods'] >= 1);
    assert.ok(counts['create configmaps'] >= 1);
  });

  it('ends open watches promptly on close()', async () => {
    const other = await startApiServer({ store, clock, logs, port: 0 });
    const okc = new k8s.KubeConfig();
    okc.loadFromString(kubeconfigYaml(other.url));
    const w = await collect(okc, `/api/v1/namespaces/${NS}/pods`, { resourceVersion: String(store.resourceVersion()) });
    const t0 = Date.now();
    await other.close();
    await until(() => w.ended() !== 'open', 'the watch to end', 2000);
    assert.ok(Date.now() - t0 < 2000);
  });
});
