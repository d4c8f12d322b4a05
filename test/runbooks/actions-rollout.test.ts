// k8s.rolloutRestart and k8s.promote against the sandbox over HTTP.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KubeConfig } from '@kubernetes/client-node';
import { KubeHttp } from '../../src/kube/http.ts';
import { Sandbox } from '../../src/sandbox/cluster.ts';
import { ActionError } from '../../src/runbooks/types.ts';
import { promote, rolloutRestart, waitRollout, OPERATION_ANNOTATION } from '../../src/runbooks/actions/index.ts';
import { cluster, deployment, IMAGES, rolledOut, SERVICE_USER, until } from './actions-fixture.ts';

test('rolloutRestart stamps restartedAt from the injected clock and rolls new pods; a retry does not restart twice', async () => {
  const f = await cluster({ images: IMAGES });
  try {
    f.sandbox.apply([deployment('web', 'shop/web:1')]);
    await until(() => rolledOut(f.sandbox, 'default', 'web'), 'web rolled out');
    const before = new Set(f.sandbox.store.list('pods', 'default').items.map((p) => p.metadata.name));
    assert.deepEqual(await f.check(rolloutRestart, { namespace: 'default', name: 'web' }), { state: 'not-done' });
    const mark = f.mark();
    const t0 = f.sandbox.clock.now();
    const r = await f.run(rolloutRestart, { namespace: 'default', name: 'web' });
    assert.equal(r.mutated, true);
    assert.match(String(r.outputs.restartedAt), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const stamped = Date.parse(String(r.outputs.restartedAt));
    assert.ok(stamped >= t0 - 1000 && stamped <= f.sandbox.clock.now(), 'stamped with cluster time');
    const d = f.sandbox.store.get('apps/deployments', 'default', 'web')!;
    assert.equal(d.spec.template.metadata.annotations['kubectl.kubernetes.io/restartedAt'], r.outputs.restartedAt);
    assert.equal(d.metadata.annotations?.[OPERATION_ANNOTATION], 'run-1/step-1');
    const muts = f.mutationsSince(mark);
    assert.equal(muts.length, 1);
    assert.equal(muts[0].user, SERVICE_USER);
    await until(() => {
      const pods = f.sandbox.store.list('pods', 'default').items;
      return rolledOut(f.sandbox, 'default', 'web') && pods.length > 0 && pods.every((p) => !before.has(p.metadata.name));
    }, 'all pods replaced');

    const c = (await f.check(rolloutRestart, { namespace: 'default', name: 'web' })) as any;
    assert.equal(c.state, 'done');
    assert.equal(c.outputs.restartedAt, r.outputs.restartedAt);
    const again = await f.run(rolloutRestart, { namespace: 'default', name: 'web' });
    assert.equal(again.mutated, false);
    assert.equal(f.mutationsSince(mark).length, 1);

    f.sandbox.store.mutate('apps/deployments', 'default', 'web', (x) => void (x.spec.paused = true));
    const paused = await f.run(rolloutRestart, { namespace: 'default', name: 'web' }, { operationKey: 'run-2/s' }).catch((e) => e);
    assert.equal(paused.reason, 'PAUSED');
  } finally {
    await f.close();
  }
});

test('promote copies images from the same workload in another namespace (the roll-forward)', async () => {
  const f = await cluster({ images: IMAGES });
  try {
    f.sandbox.store.create('namespaces', { metadata: { name: 'staging' } });
    f.sandbox.apply([deployment('web', 'shop/web:2'), deployment('web', 'shop/web:3', { namespace: 'staging', replicas: 1 })]);
    // The source must have shown its images work before they are promoted.
    await until(() => rolledOut(f.sandbox, 'staging', 'web'), 'the source rolled out');
    const mark = f.mark();
    const plan = await f.plan(promote, { namespace: 'default', name: 'web', fromNamespace: 'staging' });
    assert.deepEqual(plan.map((c) => c.method), ['CHECK', 'PATCH'], 'the plan shows the health verdict, then the change');
    assert.match(plan[0].description, /^source deployment staging\/web is healthy \(1\/1 available, 1 pod\(s\) of its current revision checked over the last 10m\)$/);
    assert.match(plan[1].description, /web=shop\/web:3/);
    assert.deepEqual(f.mutationsSince(mark), []);
    const r = await f.run(promote, { namespace: 'default', name: 'web', fromNamespace: 'staging' });
    assert.equal(r.mutated, true);
    assert.deepEqual(r.outputs.changes, [{ container: 'web', old: 'shop/web:2', new: 'shop/web:3' }]);
    assert.equal((r.outputs.sourceHealth as { healthy: boolean }).healthy, true);
    assert.equal(f.sandbox.store.get('apps/deployments', 'default', 'web')!.spec.template.spec.containers[0].image, 'shop/web:3');
    const muts = f.mutationsSince(mark);
    assert.ok(muts.length > 0 && muts.every((m) => m.user === SERVICE_USER), JSON.stringify(muts));
    await until(() => rolledOut(f.sandbox, 'default', 'web'), 'promoted rollout completes');
    assert.equal((await f.check(promote, { namespace: 'default', name: 'web', fromNamespace: 'staging' }) as any).state, 'done');
    // Already equal: nothing to do even for a new step.
    const same = await f.run(promote, { namespace: 'default', name: 'web', fromNamespace: 'staging' }, { operationKey: 'run-2/p' });
    assert.equal(same.mutated, false);
    assert.throws(() => promote.params.parse({ namespace: 'default', name: 'web' }));
    const self = await f.run(promote, { namespace: 'default', name: 'web', fromNamespace: 'default' }).catch((e) => e);
    assert.equal(self.reason, 'INVALID');
  } finally {
    await f.close();
  }
});

test('promote from another cluster resolves it through kubeFor', async () => {
  const f = await cluster({ images: IMAGES });
  const other = new Sandbox({ speed: 50, images: IMAGES });
  await other.listen();
  try {
    other.apply([deployment('web', 'shop/web:3', { replicas: 1 })]);
    f.sandbox.apply([deployment('web', 'shop/web:1')]);
    await until(() => rolledOut(other, 'default', 'web'), 'the source rolled out in the other cluster');
    const kc = new KubeConfig();
    kc.loadFromString(other.kubeconfig());
    const otherKube = new KubeHttp(kc);
    const kubeFor = (c: string) => (c === 'prod-eu' ? otherKube : undefined);
    const r = await f.run(promote, { namespace: 'default', name: 'web', fromCluster: 'prod-eu' }, { kubeFor });
    assert.equal(r.outputs.images && (r.outputs.images as any).web, 'shop/web:3');
    assert.equal(f.sandbox.store.get('apps/deployments', 'default', 'web')!.spec.template.spec.containers[0].image, 'shop/web:3');
    assert.equal(other.api!.requestLog.filter((e) => e.method !== 'GET').length, 0, 'the source cluster is only read');
    const unknown = await f.run(promote, { namespace: 'default', name: 'web', fromCluster: 'nowhere' }, { kubeFor }).catch((e) => e);
    assert.ok(unknown instanceof ActionError);
    assert.equal(unknown.reason, 'UNKNOWN_CLUSTER');
  } finally {
    await other.stop();
    await f.close();
  }
});

test('rolloutRestart and waitRollout work for a DaemonSet too', async () => {
  const f = await cluster({ images: IMAGES, nodes: [{ name: 'node-1' }, { name: 'node-2' }] });
  try {
    f.sandbox.apply([{
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name: 'agent', namespace: 'default' },
      spec: { selector: { matchLabels: { app: 'agent' } }, template: { metadata: { labels: { app: 'agent' } }, spec: { containers: [{ name: 'agent', image: 'shop/web:1' }] } } },
    }]);
    await f.run(waitRollout, { kind: 'DaemonSet', namespace: 'default', name: 'agent', timeout: '2m' });
    const r = await f.run(rolloutRestart, { kind: 'DaemonSet', namespace: 'default', name: 'agent' });
    assert.equal(r.mutated, true);
    const w = await f.run(waitRollout, { kind: 'DaemonSet', namespace: 'default', name: 'agent', timeout: '2m' });
    assert.match(String(w.outputs.message), /daemon set "agent" successfully rolled out/);
    const ds = f.sandbox.store.get('apps/daemonsets', 'default', 'agent')!;
    assert.equal(ds.status.updatedNumberScheduled, 2);
  } finally {
    await f.close();
  }
});
