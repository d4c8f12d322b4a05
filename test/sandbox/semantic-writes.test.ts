// The store compares what objects mean, as kube-apiserver compares decoded Go
// structs: a client that sends keys in another order (the Python client
// writes its models' attribute order) or leaves out nulls changes nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../src/common/clock.ts';
import { ObjectStore } from '../../src/sandbox/store.ts';
import { semanticallyEqual } from '../../src/sandbox/canonical.ts';

/** The same object with every object's keys in reverse order. */
function reversed(v: any): any {
  if (Array.isArray(v)) return v.map(reversed);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).reverse().map(([k, x]) => [k, reversed(x)]));
  return v;
}

function store() {
  const s = new ObjectStore({ clock: new ManualClock() });
  s.create('namespaces', { metadata: { name: 'default' } });
  return s;
}

const deployment = {
  metadata: { name: 'web', namespace: 'default', labels: { app: 'web' } },
  spec: {
    replicas: 2,
    selector: { matchLabels: { app: 'web', tier: 'front' } },
    template: { metadata: { labels: { app: 'web', tier: 'front' } }, spec: { containers: [{ name: 'web', image: 'nginx:1.27', resources: { limits: { memory: '128Mi' } } }] } },
  },
};

test('an update that only reorders keys is a no-op: same resourceVersion, same generation', () => {
  const s = store();
  const created = s.create('apps/deployments', structuredClone(deployment));
  const again = s.update('apps/deployments', reversed(structuredClone(created)));
  assert.equal(again.metadata.resourceVersion, created.metadata.resourceVersion);
  assert.equal(again.metadata.generation, 1);
});

test('a metadata change sent with the spec\'s keys reordered does not bump generation', () => {
  const s = store();
  const created = s.create('apps/deployments', structuredClone(deployment));
  const next = reversed(structuredClone(created));
  next.metadata.labels.owner = 'team-a';
  const updated = s.update('apps/deployments', next);
  assert.notEqual(updated.metadata.resourceVersion, created.metadata.resourceVersion);
  assert.equal(updated.metadata.generation, 1);
});

test('an update that reorders a selector is not a change to the immutable selector', () => {
  const s = store();
  const created = s.create('apps/deployments', structuredClone(deployment));
  const next = structuredClone(created);
  next.spec.selector = { matchLabels: { tier: 'front', app: 'web' } };
  next.spec.replicas = 3;
  assert.equal(s.update('apps/deployments', next).spec.replicas, 3);
});

test('a pod written back with its keys in another order is accepted (its spec is immutable, not its spelling)', () => {
  const s = store();
  const pod = s.create('pods', { metadata: { name: 'p', namespace: 'default' }, spec: { containers: [{ name: 'app', image: 'nginx:1.27' }] } });
  const back = s.update('pods', reversed(structuredClone(pod)));
  assert.equal(back.metadata.resourceVersion, pod.metadata.resourceVersion);
  const changed = reversed(structuredClone(pod));
  changed.spec.containers[0].name = 'renamed';
  assert.throws(() => s.update('pods', changed), (e: any) => e.code === 422 && /pod updates may not change fields/.test(e.message));
});

test('semantic equality: key order and null fields aside, values still count', () => {
  assert.ok(semanticallyEqual({ a: 1, b: { c: [1, { d: 2, e: 3 }] } }, { b: { c: [1, { e: 3, d: 2 }] }, a: 1 }));
  assert.ok(semanticallyEqual({ a: 1, lastProbeTime: null }, { a: 1 }), 'a null field is an absent one');
  assert.ok(!semanticallyEqual({ a: [1, 2] }, { a: [2, 1] }), 'array order counts');
  assert.ok(!semanticallyEqual({ a: '1' }, { a: 1 }), 'types count');
  assert.ok(!semanticallyEqual({ a: { b: 1 } }, { a: { b: 1, c: 0 } }), 'a zero is a value');
});
