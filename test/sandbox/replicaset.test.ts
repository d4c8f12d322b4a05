import { test } from 'node:test';
import assert from 'node:assert/strict';
import { k8sTime } from '../../src/common/clock.ts';
import { ReplicaSetController, podsToDelete } from '../../src/sandbox/controllers/replicaset.ts';
import type { K8sObject } from '../../src/sandbox/types.ts';
import { harness, type Harness } from './harness.ts';

/** The scheduler and kubelet in one step: bound, Running and (optionally) Ready now. */
function run(h: Harness, name: string, ready = true, node = 'node-1'): void {
  const t = k8sTime(h.clock.now());
  const r = ready ? 'True' : 'False';
  h.store.mutate('pods', 'default', name, (o) => { o.spec.nodeName = node; });
  h.store.mutate('pods', 'default', name, (o) => {
    o.status = {
      phase: 'Running',
      conditions: [
        { type: 'Ready', status: r, lastTransitionTime: t },
        { type: 'ContainersReady', status: r, lastTransitionTime: t },
        { type: 'PodScheduled', status: 'True', lastTransitionTime: t },
      ],
      containerStatuses: [{ name: 'app', ready, restartCount: 0, state: { running: { startedAt: t } } }],
    };
  }, { subresource: 'status' });
}

function replicaSet(name: string, replicas: number, extra: Record<string, any> = {}): K8sObject {
  return {
    metadata: { name, namespace: 'default' },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name, tier: 'web' } }, spec: { containers: [{ name: 'app', image: 'nginx:1.27' }] } },
      ...extra,
    },
  };
}

async function settle(h: Harness, ms = 0): Promise<void> {
  for (let i = 0; i < 10; i++) await h.advance(0);
  if (ms) await h.advance(ms);
}

const pods = (h: Harness) => h.store.list('pods', 'default').items;
const active = (h: Harness) => pods(h).filter((p) => !p.metadata.deletionTimestamp && !['Failed', 'Succeeded'].includes(p.status?.phase));
const getRS = (h: Harness, name: string) => h.store.get('apps/replicasets', 'default', name)!;

function setup(): Harness {
  const h = harness();
  h.run(new ReplicaSetController());
  return h;
}

test('creates owned pods from the template with SuccessfulCreate events', async () => {
  const h = setup();
  const rs = h.store.create('apps/replicasets', replicaSet('web-abc', 3));
  await settle(h);
  const ps = pods(h);
  assert.equal(ps.length, 3);
  for (const p of ps) {
    assert.match(p.metadata.name!, /^web-abc-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    assert.equal(p.metadata.generateName, 'web-abc-');
    assert.deepEqual(p.metadata.labels, { app: 'web-abc', tier: 'web' });
    assert.deepEqual(p.metadata.ownerReferences, [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-abc', uid: rs.metadata.uid, controller: true, blockOwnerDeletion: true }]);
  }
  const created = h.events('SuccessfulCreate', 'web-abc');
  assert.deepEqual(created.map((e) => e.message).sort(), ps.map((p) => `Created pod: ${p.metadata.name}`).sort());
  assert.equal(created[0].source.component, 'replicaset-controller');
  const status = getRS(h, 'web-abc').status;
  assert.equal(status.replicas, 3);
  assert.equal(status.fullyLabeledReplicas, 3);
  assert.equal(status.readyReplicas, undefined);
  assert.equal(status.observedGeneration, 1);
  h.stop();
});

test('adopts a matching orphan and releases a pod whose labels stop matching', async () => {
  const h = setup();
  h.store.create('pods', { metadata: { name: 'stray', namespace: 'default', labels: { app: 'web-abc' } }, spec: { containers: [{ name: 'app', image: 'nginx' }] } });
  const rs = h.store.create('apps/replicasets', replicaSet('web-abc', 2));
  await settle(h);
  assert.equal(pods(h).length, 2);
  const stray = h.store.get('pods', 'default', 'stray')!;
  assert.equal(stray.metadata.ownerReferences?.[0].uid, rs.metadata.uid);
  assert.equal(getRS(h, 'web-abc').status.fullyLabeledReplicas, 1, 'the adopted pod lacks the tier label');

  h.store.mutate('pods', 'default', 'stray', (o) => { o.metadata.labels = { app: 'debug' }; });
  await settle(h);
  assert.equal(h.store.get('pods', 'default', 'stray')!.metadata.ownerReferences, undefined);
  assert.equal(active(h).filter((p) => p.metadata.labels!.app === 'web-abc').length, 2, 'a replacement was created');
  h.stop();
});

test('replaces a Failed (evicted) pod and leaves the failed one in place', async () => {
  const h = setup();
  h.store.create('apps/replicasets', replicaSet('web-abc', 2));
  await settle(h);
  const [victim] = pods(h);
  run(h, victim.metadata.name!);
  h.store.mutate('pods', 'default', victim.metadata.name!, (o) => {
    o.status = { ...o.status, phase: 'Failed', reason: 'Evicted', message: 'The node was low on resource: memory.' };
  }, { subresource: 'status' });
  await settle(h);
  assert.equal(pods(h).length, 3);
  assert.equal(active(h).length, 2);
  assert.equal(h.store.get('pods', 'default', victim.metadata.name!)!.status.reason, 'Evicted');
  assert.equal(getRS(h, 'web-abc').status.replicas, 2);
  h.stop();
});

test('scale-down deletes unscheduled, then not-ready, then the newest ready pods', async () => {
  const h = setup();
  h.store.create('apps/replicasets', replicaSet('web-abc', 5));
  await settle(h);
  const names = pods(h).map((p) => p.metadata.name!);
  // Ready at different times: names[0] oldest ready, names[2] newest ready.
  run(h, names[0]);
  await h.advance(60_000);
  run(h, names[1]);
  await h.advance(60_000);
  run(h, names[2]);
  run(h, names[3], false);
  // names[4] stays unscheduled and Pending.
  await settle(h);
  const rs = getRS(h, 'web-abc');
  rs.spec.replicas = 2;
  h.store.update('apps/replicasets', rs);
  await settle(h);
  const left = h.store.list('pods', 'default').items.filter((p) => !p.metadata.deletionTimestamp).map((p) => p.metadata.name);
  assert.deepEqual(left.sort(), [names[0], names[1]].sort(), 'the two longest-ready pods stay');
  const deleted = h.events('SuccessfulDelete', 'web-abc').map((e) => e.message).sort();
  assert.deepEqual(deleted, [names[2], names[3], names[4]].map((n) => `Deleted pod: ${n}`).sort());
  // Scheduled pods terminate gracefully; the unscheduled one is gone at once.
  assert.equal(h.store.get('pods', 'default', names[4]), undefined);
  assert.ok(h.store.get('pods', 'default', names[3])!.metadata.deletionTimestamp);
  h.stop();
});

test('ranking: doubled-up nodes, deletion cost and restarts break ties', () => {
  const t = (s: number) => k8sTime(Date.UTC(2026, 0, 1) + s * 1000);
  const pod = (name: string, node: string, extra: { cost?: number; restarts?: number; created?: number } = {}): K8sObject => ({
    metadata: { name, uid: name, creationTimestamp: t(extra.created ?? 0), ...(extra.cost !== undefined ? { annotations: { 'controller.kubernetes.io/pod-deletion-cost': String(extra.cost) } } : {}) },
    spec: { nodeName: node },
    status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: t(10) }], containerStatuses: [{ restartCount: extra.restarts ?? 0 }] },
  });
  const a = pod('a', 'n1');
  const b = pod('b', 'n1');
  const c = pod('c', 'n2');
  assert.equal(podsToDelete([c, a, b], [a, b, c], 1)[0].metadata.name, 'a', 'a pod sharing a node goes first');
  const cheap = pod('cheap', 'n2', { cost: -10 });
  assert.equal(podsToDelete([a, b, cheap], [a, b, cheap], 1)[0].metadata.name, 'cheap');
  const crashy = pod('crashy', 'n3', { restarts: 5 });
  const calm = pod('calm', 'n4', { created: 100 });
  assert.equal(podsToDelete([calm, crashy], [calm, crashy], 1)[0].metadata.name, 'crashy');
});

test('availableReplicas honours minReadySeconds in cluster time', async () => {
  const h = setup();
  h.store.create('apps/replicasets', replicaSet('web-abc', 2, { minReadySeconds: 30 }));
  await settle(h);
  for (const p of pods(h)) run(h, p.metadata.name!);
  await settle(h);
  let status = getRS(h, 'web-abc').status;
  assert.equal(status.readyReplicas, 2);
  assert.equal(status.availableReplicas, undefined);
  await h.advance(29_000);
  assert.equal(getRS(h, 'web-abc').status.availableReplicas, undefined);
  await h.advance(2_000);
  await settle(h);
  status = getRS(h, 'web-abc').status;
  assert.equal(status.availableReplicas, 2);
  h.stop();
});

test('pod creation failures are reported and retried', async () => {
  const h = harness({ namespaces: ['doomed'] });
  h.run(new ReplicaSetController());
  h.store.create('apps/replicasets', { ...replicaSet('web-abc', 1), metadata: { name: 'web-abc', namespace: 'doomed' } });
  await settle(h);
  assert.equal(h.store.list('pods', 'doomed').items.length, 1);
  h.store.delete('namespaces', undefined, 'doomed');
  h.store.remove('pods', h.store.list('pods', 'doomed').items[0]);
  await settle(h);
  const rs = h.store.get('apps/replicasets', 'doomed', 'web-abc')!;
  const failure = rs.status.conditions.find((c: any) => c.type === 'ReplicaFailure');
  assert.equal(failure.reason, 'FailedCreate');
  assert.match(failure.message, /forbidden: unable to create new content in namespace doomed because it is being terminated/);
  h.stop();
});
