// k8s.cordon, k8s.uncordon and k8s.drain against the sandbox over HTTP:
// evictions go through the Eviction API, a PodDisruptionBudget's 429 is
// retried until the budget allows, and a budget that never allows fails the
// drain naming the pods.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ActionError } from '../../src/runbooks/types.ts';
import { cordon, drain, uncordon } from '../../src/runbooks/actions/index.ts';
import { cluster, deployment, IMAGES, rolledOut, SERVICE_USER, until, type Fixture } from './actions-fixture.ts';

const NODES = [{ name: 'node-1' }, { name: 'node-2' }];

/** web's two pods both on node-1 (node-2 cordoned while they schedule), plus a DaemonSet pod and a PDB. */
async function crowdedNode(pdb: Record<string, unknown>): Promise<Fixture> {
  const f = await cluster({ images: IMAGES, nodes: NODES });
  f.sandbox.store.mutate('nodes', undefined, 'node-2', (n) => void (n.spec.unschedulable = true));
  f.sandbox.apply([
    deployment('web', 'shop/web:1'),
    {
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name: 'agent', namespace: 'default' },
      spec: { selector: { matchLabels: { app: 'agent' } }, template: { metadata: { labels: { app: 'agent' } }, spec: { containers: [{ name: 'agent', image: 'registry.k8s.io/pause' }] } } },
    },
    { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'web', namespace: 'default' }, spec: { selector: { matchLabels: { app: 'web' } }, ...pdb } },
  ]);
  await until(() => rolledOut(f.sandbox, 'default', 'web'), 'web on node-1');
  f.sandbox.store.mutate('nodes', undefined, 'node-2', (n) => void delete n.spec.unschedulable);
  await until(() => f.sandbox.store.get('policy/poddisruptionbudgets', 'default', 'web')?.status?.currentHealthy === 2, 'PDB observed');
  return f;
}

test('cordon and uncordon are idempotent, impersonated, and checkable', async () => {
  const f = await cluster({ nodes: NODES });
  try {
    assert.deepEqual(await f.check(cordon, { node: 'node-1' }), { state: 'not-done' });
    const mark = f.mark();
    const r = await f.run(cordon, { node: 'node-1' });
    assert.equal(r.mutated, true);
    assert.equal(f.sandbox.store.get('nodes', undefined, 'node-1')!.spec.unschedulable, true);
    assert.equal((await f.check(cordon, { node: 'node-1' }) as any).state, 'done');
    assert.equal((await f.run(cordon, { node: 'node-1' })).mutated, false);
    const u = await f.run(uncordon, { node: 'node-1' });
    assert.equal(u.mutated, true);
    assert.equal(f.sandbox.store.get('nodes', undefined, 'node-1')!.spec.unschedulable, undefined);
    const muts = f.mutationsSince(mark);
    assert.equal(muts.length, 2);
    assert.ok(muts.every((m) => m.user === SERVICE_USER));
  } finally {
    await f.close();
  }
});

test('drain respects a PodDisruptionBudget: 429, back-off, then success once the replacement is ready', async () => {
  const f = await crowdedNode({ maxUnavailable: 1 });
  try {
    const mark = f.mark();
    const plan = await f.plan(drain, { node: 'node-1', interval: '5s' });
    assert.deepEqual(plan.map((c) => c.method), ['PATCH', 'POST', 'POST', 'WAIT']);
    assert.deepEqual(f.mutationsSince(mark), [], 'planning a drain changes nothing');

    const r = await f.run(drain, { node: 'node-1', timeout: '3m', interval: '5s' });
    assert.equal(r.mutated, true);
    assert.equal((r.outputs.evicted as string[]).length, 2);
    assert.deepEqual((r.outputs.skipped as any[]).map((s) => s.reason), ['ignoring DaemonSet-managed Pods']);
    const evictions = f.mutationsSince(mark).filter((m) => m.path.endsWith('/eviction'));
    assert.ok(evictions.some((e) => e.code === 429), 'the budget refused at first');
    assert.equal(evictions.filter((e) => e.code === 201).length, 2);
    assert.ok(f.mutationsSince(mark).every((m) => m.user === SERVICE_USER));
    assert.ok(f.logs.some((l) => /will retry after 5s/.test(l)));
    assert.equal(f.sandbox.store.get('nodes', undefined, 'node-1')!.spec.unschedulable, true);
    const left = f.sandbox.store.list('pods', 'default').items.filter((p) => p.spec.nodeName === 'node-1' && p.metadata.labels?.app === 'web');
    assert.deepEqual(left, []);
    assert.equal((await f.check(drain, { node: 'node-1' }) as any).state, 'done');
  } finally {
    await f.close();
  }
});

test('drain that a budget never allows fails with PDB_BLOCKED naming the pods', async () => {
  const f = await crowdedNode({ minAvailable: 2 });
  try {
    const err = await f.run(drain, { node: 'node-1', timeout: '20s', interval: '5s' }).catch((e) => e);
    assert.ok(err instanceof ActionError, String(err));
    assert.equal(err.reason, 'PDB_BLOCKED');
    assert.match(err.message, /default\/web-/);
    assert.match(err.message, /needs 2 healthy pods/);
    assert.equal((await f.check(drain, { node: 'node-1' }) as any).state, 'not-done');
  } finally {
    await f.close();
  }
});

test('drain refuses pods no controller would recreate unless forced, before changing anything', async () => {
  const f = await cluster({ images: IMAGES, nodes: NODES });
  try {
    f.sandbox.store.create('pods', { metadata: { name: 'bare', namespace: 'default' }, spec: { nodeName: 'node-1', containers: [{ name: 'c', image: 'shop/web:1' }] } });
    const mark = f.mark();
    const err = await f.run(drain, { node: 'node-1' }).catch((e) => e);
    assert.equal(err.reason, 'DRAIN_BLOCKED');
    assert.match(err.message, /declare no controller.*default\/bare/);
    assert.deepEqual(f.mutationsSince(mark), []);
    const forced = await f.run(drain, { node: 'node-1', force: true, timeout: '1m' });
    assert.deepEqual(forced.outputs.evicted, ['default/bare']);
  } finally {
    await f.close();
  }
});

test('cordon refuses to take out more nodes than the capacity guard allows, naming them', async () => {
  const f = await cluster({ nodes: [{ name: 'node-1' }, { name: 'node-2' }, { name: 'node-3' }] });
  try {
    await f.run(cordon, { node: 'node-1' });
    const mark = f.mark();
    await assert.rejects(f.run(cordon, { node: 'node-2' }), (e: unknown) => e instanceof ActionError && e.reason === 'CAPACITY_GUARD' && !e.retryable && /leave 1 of 3 nodes schedulable \(unschedulable or not ready: node-1, node-2\)/.test(e.message));
    assert.equal(f.sandbox.store.get('nodes', undefined, 'node-2')!.spec.unschedulable, undefined);
    assert.deepEqual(f.mutationsSince(mark), []);
    // An operator may allow more for a runbook.
    await f.run(cordon, { node: 'node-2', maxUnschedulableFraction: 0.7 });
    assert.equal(f.sandbox.store.get('nodes', undefined, 'node-2')!.spec.unschedulable, true);
  } finally {
    await f.close();
  }
});
