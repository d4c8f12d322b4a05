import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../src/common/clock.ts';
import { ObjectStore } from '../../src/sandbox/store.ts';
import type { StoreEvent } from '../../src/sandbox/types.ts';

function store(historyLimit?: number) {
  const s = new ObjectStore({ clock: new ManualClock(), historyLimit });
  s.create('namespaces', { metadata: { name: 'default' } });
  return s;
}

const cm = (name: string, data: Record<string, string> = {}) => ({ metadata: { name, namespace: 'default' }, data });

test('create assigns uid, resourceVersion and timestamps; duplicate is AlreadyExists', () => {
  const s = store();
  const o = s.create('configmaps', cm('a'));
  assert.ok(o.metadata.uid);
  assert.equal(o.kind, 'ConfigMap');
  assert.equal(o.apiVersion, 'v1');
  assert.match(o.metadata.creationTimestamp!, /Z$/);
  assert.throws(() => s.create('configmaps', cm('a')), (e: any) => e.code === 409 && e.reason === 'AlreadyExists');
});

test('create in a missing namespace is NotFound', () => {
  const s = store();
  assert.throws(() => s.create('configmaps', { metadata: { name: 'x', namespace: 'nope' } }), (e: any) => e.code === 404);
});

test('update with a stale resourceVersion is a 409 Conflict', () => {
  const s = store();
  const o = s.create('configmaps', cm('a'));
  const u = s.update('configmaps', { ...o, data: { k: 'v' } });
  assert.notEqual(u.metadata.resourceVersion, o.metadata.resourceVersion);
  assert.throws(() => s.update('configmaps', { ...o, data: { k: 'w' } }), (e: any) => e.code === 409 && e.reason === 'Conflict');
});

test('main-resource updates keep status; status updates keep spec; generation tracks spec', () => {
  const s = store();
  const d = s.create('apps/deployments', {
    metadata: { name: 'web', namespace: 'default' },
    spec: { selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } } },
  });
  assert.equal(d.metadata.generation, 1);
  const withStatus = s.update('apps/deployments', { ...d, status: { replicas: 3 } }, { subresource: 'status' });
  assert.equal(withStatus.status.replicas, 3);
  assert.equal(withStatus.metadata.generation, 1);
  const scaled = s.update('apps/deployments', { ...withStatus, spec: { ...withStatus.spec, replicas: 5 }, status: {} });
  assert.equal(scaled.status.replicas, 3, 'status is not writable through the main resource');
  assert.equal(scaled.metadata.generation, 2);
});

test('watch replays history after a resourceVersion, then streams; compaction gives 410', () => {
  const s = store();
  const rv0 = s.resourceVersion();
  s.create('configmaps', cm('a'));
  s.create('configmaps', cm('b'));
  const seen: StoreEvent[] = [];
  const stop = s.watch('configmaps', rv0, (e) => seen.push(e));
  s.delete('configmaps', 'default', 'a');
  stop();
  assert.deepEqual(seen.map((e) => `${e.type} ${e.object.metadata.name}`), ['ADDED a', 'ADDED b', 'DELETED a']);
  s.compact();
  assert.throws(() => s.watch('configmaps', rv0, () => {}), (e: any) => e.code === 410);
  assert.doesNotThrow(() => s.watch('configmaps', s.resourceVersion(), () => {})());
});

test('trimmed history makes old watches Gone', () => {
  const s = store(3);
  const rv0 = s.resourceVersion();
  for (let i = 0; i < 5; i++) s.create('configmaps', cm(`c${i}`));
  assert.throws(() => s.watch(undefined, rv0, () => {}), (e: any) => e.code === 410);
});

test('listeners that write do not reorder delivery', () => {
  const s = store();
  const order: number[] = [];
  s.subscribe((e) => {
    if (e.object.metadata.name === 'a' && e.type === 'ADDED') s.create('configmaps', cm('b'));
  });
  s.subscribe((e) => order.push(e.rv));
  s.create('configmaps', cm('a'));
  assert.deepEqual(order, [...order].sort((x, y) => x - y));
  assert.equal(order.length, 2);
});

test('a pod on a node is deleted gracefully; finalizers hold deletion', () => {
  const s = store();
  s.create('pods', { metadata: { name: 'p', namespace: 'default' }, spec: { nodeName: 'n1', containers: [{ name: 'c', image: 'nginx' }] } });
  const marked = s.delete('pods', 'default', 'p');
  assert.ok(marked.metadata.deletionTimestamp);
  assert.ok(s.get('pods', 'default', 'p'));
  s.delete('pods', 'default', 'p', { gracePeriodSeconds: 0 });
  assert.equal(s.get('pods', 'default', 'p'), undefined);

  s.create('configmaps', { metadata: { name: 'f', namespace: 'default', finalizers: ['x/y'] } });
  s.delete('configmaps', 'default', 'f');
  const held = s.get('configmaps', 'default', 'f')!;
  assert.ok(held.metadata.deletionTimestamp);
  s.update('configmaps', { ...held, metadata: { ...held.metadata, finalizers: [] } });
  assert.equal(s.get('configmaps', 'default', 'f'), undefined);
});
