// toCel converts an object once per resourceVersion while it is read again
// soon (several rules, one event), but keeps a bounded number of
// conversions: a converted copy per cached object, alive as long as the
// cache holds it, doubled the heap of a 50k-pod cluster (issue 16).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { celHelpers, RuleEnvironment } from '../../src/rules/index.ts';
import { realisticPod } from '../../bench/fixtures/pods.ts';

const h = celHelpers;
const pod = (i: number, rv: number) => ({ kind: 'Pod', metadata: { name: `p${i}`, resourceVersion: String(rv) }, status: { restartCount: 3 } });

test('an object read again is converted once per resourceVersion', () => {
  h.forgetConverted();
  const o = pod(1, 1);
  const a = h.toCel(o) as { status: { restartCount: unknown } };
  assert.equal(a.status.restartCount, 3n);
  assert.equal(h.toCel(o), a, 'the same conversion');
  const changed = { ...o, metadata: { ...o.metadata, resourceVersion: '2' } };
  assert.notEqual(h.toCel(changed), a);
});

test('the conversions kept stay bounded however many objects are converted, the latest kept', () => {
  h.forgetConverted();
  const objects = Array.from({ length: h.CONVERTED_KEPT * 3 }, (_, i) => pod(i, i + 1));
  const first = h.toCel(objects[0]);
  for (const o of objects) h.toCel(o);
  assert.equal(h.convertedCount(), h.CONVERTED_KEPT);
  const last = objects.at(-1)!;
  assert.equal(h.toCel(last), h.toCel(last));
  assert.notEqual(h.toCel(objects[0]), first, 'the oldest was let go');
  // Read again, an object moves to the back and outlives those read less recently.
  h.forgetConverted();
  const kept = h.toCel(objects[0]);
  for (let i = 1; i < h.CONVERTED_KEPT * 2; i++) {
    h.toCel(objects[i]);
    h.toCel(objects[0]);
  }
  assert.equal(h.toCel(objects[0]), kept);
});

test("a signal's own object is converted for that signal, not kept; a lookup's conversion of the same version is reused", () => {
  h.forgetConverted();
  const env = new RuleEnvironment();
  const objects = Array.from({ length: 50 }, (_, i) => pod(i, i + 1));
  for (const o of objects) {
    const act = env.activation({ cluster: 'c', object: o, oldObject: o });
    assert.equal((act.object as { status: { restartCount: unknown } }).status.restartCount, 3n);
    assert.equal((act.oldObject as { status: { restartCount: unknown } }).status.restartCount, 3n);
  }
  assert.equal(h.convertedCount(), 0, 'nothing kept past its signal');
  // What objects() converted lately (kept) serves a signal about the same version…
  const o = pod(7, 70);
  const kept = h.toCel(o);
  assert.equal(h.toCelOnce(o), kept);
  // …but never a newer version of it (an object changed in place keeps its identity).
  (o.status as { restartCount: number }).restartCount = 9;
  o.metadata.resourceVersion = '71';
  assert.equal((h.toCelOnce(o) as { status: { restartCount: unknown } }).status.restartCount, 9n);
});

test('the old object is converted when first read, once per signal', () => {
  const env = new RuleEnvironment();
  const old = pod(1, 1);
  const act = env.activation({ cluster: 'c', object: pod(1, 2), oldObject: old });
  const first = act.oldObject;
  assert.equal(act.oldObject, first, 'the same conversion on every read');
  assert.equal(env.activation(act), act, 'an activation passed again is itself');
  assert.equal(env.activation({ cluster: 'c', object: null }).oldObject, null);
});

/** The conversion as it was first written: every map and list copied. The shared one must give the same values. */
function convertAll(v: unknown): unknown {
  if (typeof v === 'number') return Number.isSafeInteger(v) ? BigInt(v) : v;
  if (v === null || typeof v !== 'object') return v === undefined ? null : v;
  if (Array.isArray(v)) return v.map(convertAll);
  const out: Record<string, unknown> = {};
  for (const k in v) if (Object.hasOwn(v, k) && (v as Record<string, unknown>)[k] !== undefined) out[k] = convertAll((v as Record<string, unknown>)[k]);
  return out;
}

test('conversion copies only the paths to numbers, leaves its input as it was, and gives what a full copy gives', () => {
  const pods = Array.from({ length: 50 }, (_, i) => realisticPod(i, i + 1) as Record<string, any>);
  const odd = [{ a: undefined, b: [1, undefined, 2.5, 'x'], c: { d: null, e: 1e300, f: 2 ** 60, g: -0 } }, [[], [{}], [1]], Object.assign(Object.create({ inherited: 1 }), { own: 2 })];
  for (const o of [...pods, ...odd]) {
    const before = JSON.stringify(o);
    const c = h.toCelOnce(o);
    assert.deepStrictEqual(c, convertAll(o));
    assert.equal(JSON.stringify(o), before, 'the input is not changed (a BigInt in it would not even serialise)');
  }
  const pod = pods[0]!;
  const c = h.toCelOnce(pod) as Record<string, any>;
  assert.notEqual(c, pod);
  assert.equal(c.metadata.labels, pod.metadata.labels, 'a map of strings is shared');
  assert.notEqual(c.status.containerStatuses, pod.status.containerStatuses, 'restart counts become ints: copied');
  assert.equal(typeof c.status.containerStatuses[0].restartCount, 'bigint');
  assert.equal(h.toCelOnce(pod.metadata.labels), pod.metadata.labels);
});
