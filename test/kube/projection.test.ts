// The field trees the informer cache projects objects through: what a tree
// keeps (presence, every element, map values), that identity metadata is
// always kept, and that covers() never claims a narrower cache serves a
// wider need (a wrong "yes" is a reload whose rules read fields the cache
// lacks, so it is checked against projection itself on random trees).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EACH, addPath, covers, fieldTree, mergeTrees, objectProjector, parseFieldPath, projector, stripBulk, treePaths, withIdentity, type FieldTree } from '../../src/kube/index.ts';
import { realisticPod } from '../../bench/fixtures/pods.ts';

test('paths parse with dots, [] for every element and ["…"] for names with dots', () => {
  assert.deepEqual(parseFieldPath('status.containerStatuses[].state.waiting.reason'), ['status', 'containerStatuses', EACH, 'state', 'waiting', 'reason']);
  assert.deepEqual(parseFieldPath('metadata.annotations["kubemend.dev/team"]'), ['metadata', 'annotations', 'kubemend.dev/team']);
  assert.throws(() => parseFieldPath('a..b'), /bad field path/);
  assert.throws(() => parseFieldPath(''), /bad field path/);
});

test('a tree keeps named fields, every element of a list, presence, and whole values', () => {
  const t = fieldTree(['spec.containers[].name', 'status.phase', 'metadata.labels']);
  addPath(t, ['spec', 'containers', EACH, 'resources', 'limits'], false);
  const p = projector(t);
  const o = {
    spec: { containers: [{ name: 'a', image: 'x', resources: { limits: { memory: '1Gi' }, requests: {} } }, { name: 'b', image: 'y', resources: {} }], volumes: [{ name: 'v' }] },
    status: { phase: 'Running', hostIP: '10.0.0.1' },
    metadata: { labels: { a: '1', b: '2' }, annotations: { x: 'y' } },
  };
  assert.deepEqual(p(o), {
    spec: { containers: [{ name: 'a', resources: { limits: {} } }, { name: 'b', resources: {} }] },
    status: { phase: 'Running' },
    metadata: { labels: { a: '1', b: '2' } },
  });
  // Projection copies: the input is untouched, and what is absent stays absent (no key with undefined).
  assert.equal(o.spec.containers[0]!.image, 'x');
  assert.deepEqual(p({ spec: {} }), { spec: {} });
  assert.equal('status' in (p({ spec: {} }) as object), false);
});

test('`each` on a map keeps every key, with the named key getting both its own and every value\'s fields', () => {
  const t = fieldTree(['data[].x', 'data.special.y']);
  assert.deepEqual(projector(t)({ data: { a: { x: 1, z: 2 }, special: { x: 3, y: 4, z: 5 } } }), { data: { a: { x: 1 }, special: { x: 3, y: 4 } } });
});

test('a list reached without `each` keeps its length (size() and exists() see what they would on the full object)', () => {
  const t: FieldTree = {};
  addPath(t, ['spec', 'containers'], false);
  assert.deepEqual(projector(t)({ spec: { containers: [{ name: 'a' }, { name: 'b' }], other: 1 } }), { spec: { containers: [{}, {}] } });
  assert.deepEqual(projector(fieldTree(['args']))({ args: ['a', 'b'], x: 1 }), { args: ['a', 'b'] });
});

test('the informer transform always keeps identity metadata and the compact managedFields', () => {
  const pod = stripBulk(realisticPod(3, 1234, 'crashloop') as never);
  const project = objectProjector(fieldTree(['status.phase']))!;
  const out = project(pod);
  assert.deepEqual(Object.keys(out).sort(), ['apiVersion', 'kind', 'metadata', 'status']);
  for (const k of ['name', 'namespace', 'uid', 'resourceVersion', 'labels', 'ownerReferences', 'creationTimestamp', 'managedFields']) assert.deepEqual(out.metadata[k], pod.metadata[k], k);
  assert.equal(out.metadata.annotations, undefined);
  assert.deepEqual(out.status, { phase: 'Running' });
  assert.equal(objectProjector(undefined), undefined, 'no tree: whole objects');
  assert.equal(objectProjector({ all: true }), undefined);
  assert.ok(treePaths(withIdentity(fieldTree(['status.phase']))).includes('metadata.managedFields'));
});

test('a projected pod is a fraction of the stripped one', () => {
  const pod = stripBulk(realisticPod(8, 1001, 'crashloop') as never);
  const out = objectProjector(fieldTree(['status.containerStatuses[].state', 'spec.containers[].name']))!(pod);
  assert.ok(JSON.stringify(out).length * 3 < JSON.stringify(pod).length);
});

test('treePaths lists kept leaves; presence-only ones end in {}', () => {
  const t = fieldTree(['a.b', 'c[].d', 'metadata.annotations["x/y"]']);
  addPath(t, ['e'], false);
  assert.deepEqual(treePaths(t), ['a.b', 'c[].d', 'e{}', 'metadata.annotations["x/y"]']);
  assert.deepEqual(treePaths({ all: true }), ['(everything)']);
});

test('mergeTrees keeps what either keeps; a whole side wins', () => {
  const m = mergeTrees(fieldTree(['a.b']), fieldTree(['a.c', 'd[].e']));
  assert.deepEqual(treePaths(m), ['a.b', 'a.c', 'd[].e']);
  assert.deepEqual(mergeTrees(fieldTree(['a.b']), fieldTree(['a'])), fieldTree(['a']));
  assert.deepEqual(mergeTrees(undefined, { all: true }), { all: true });
});

test('covers: a wider cache serves a narrower need, not the other way round', () => {
  const wide = fieldTree(['spec', 'status.containerStatuses[].name', 'status.containerStatuses[].restartCount']);
  const narrow = fieldTree(['spec.containers[].name', 'status.containerStatuses[].name']);
  assert.equal(covers(wide, narrow), true);
  assert.equal(covers(narrow, wide), false);
  assert.equal(covers(undefined, wide), true, 'whole objects cover everything');
  assert.equal(covers(wide, undefined), false, 'nothing covers whole objects but whole objects');
  assert.equal(covers(fieldTree(['a[].b']), fieldTree(['a[].b', 'a[].c'])), false);
  assert.equal(covers(fieldTree(['a[]']), fieldTree(['a.x.y', 'a[].c'])), true);
});

// Random trees over a small alphabet, and random values shaped like them.
function rng(seed: number) {
  let s = seed;
  return () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
}
const KEYS = ['a', 'b', 'c'];

function randomTree(r: () => number, depth: number): FieldTree {
  const x = r();
  if (depth === 0 || x < 0.15) return x < 0.07 ? { all: true } : {};
  const t: FieldTree = {};
  for (const k of KEYS) if (r() < 0.4) (t.keys ??= new Map()).set(k, randomTree(r, depth - 1));
  if (r() < 0.3) t.each = randomTree(r, depth - 1);
  return t;
}

function randomValue(r: () => number, depth: number): unknown {
  const x = r();
  if (depth === 0 || x < 0.2) return x < 0.1 ? 7 : 's';
  if (x < 0.45) return Array.from({ length: 1 + Math.floor(r() * 2) }, () => randomValue(r, depth - 1));
  const o: Record<string, unknown> = {};
  for (const k of [...KEYS, 'd']) if (r() < 0.6) o[k] = randomValue(r, depth - 1);
  return o;
}

test('covers is sound: when it says yes, projecting by the wider tree loses nothing the narrower keeps', () => {
  const r = rng(16);
  let yes = 0;
  for (let i = 0; i < 3000; i++) {
    const have = randomTree(r, 3);
    const want = i % 3 === 0 ? mergeTrees(have, randomTree(r, 2)) : randomTree(r, 3);
    if (!covers(have, want)) continue;
    yes++;
    const pw = projector(want);
    const ph = projector(have);
    for (let j = 0; j < 5; j++) {
      const v = randomValue(r, 4);
      assert.deepEqual(pw(ph(v)), pw(v), `have ${JSON.stringify(treePaths(have))} want ${JSON.stringify(treePaths(want))} value ${JSON.stringify(v)}`);
    }
  }
  assert.ok(yes > 300, `only ${yes} covered pairs were tried`);
});

/** The projection as the plain loop first wrote it: what the generated named-field copies must equal. */
function reference(tree: FieldTree): (v: unknown) => unknown {
  if (tree.all) return (v) => v;
  const each = tree.each ? reference(tree.each) : undefined;
  const keys = [...(tree.keys ?? [])].map(([k, sub]) => [k, reference(tree.each ? mergeTrees(sub, tree.each) : sub)] as const);
  const byKey = new Map(keys);
  const self = (v: unknown): unknown => {
    if (v === null || typeof v !== 'object') return v;
    if (Array.isArray(v)) return v.map(each ?? self);
    const o = v as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    if (each) {
      for (const k in o) if (Object.hasOwn(o, k)) out[k] = (byKey.get(k) ?? each)(o[k]);
      return out;
    }
    for (const [k, p] of keys) if (Object.hasOwn(o, k) && o[k] !== undefined) out[k] = p(o[k]);
    return out;
  };
  return self;
}

test('named-field copies give what the plain loop gives, for realistic pods and for field names that look like code', async () => {
  const { realisticPod } = await import('../../bench/fixtures/pods.ts');
  const { writeRuleSet } = await import('../../bench/fixtures/rules.ts');
  const { loadRules } = await import('../../src/rules/index.ts');
  const { cacheFields } = await import('../../src/pipeline/index.ts');
  const { rmSync } = await import('node:fs');
  const dir = writeRuleSet(200);
  try {
    const tree = withIdentity(cacheFields(loadRules(dir), { incidents: true }).forKind('Pod'));
    const fast = projector(tree);
    const slow = reference(tree);
    for (let i = 0; i < 100; i++) {
      const pod = stripBulk(realisticPod(i, i + 1) as never);
      assert.deepStrictEqual(fast(pod), slow(pod));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const odd = ['a"b', 'back\\slash', '\u2028line', '"); globalThis.pwned = 1; ("', '0', 'constructor', 'toString', 'a.b', ''];
  const tree: FieldTree = { keys: new Map(odd.map((k, i) => [k, i % 2 ? { all: true } : { keys: new Map([['x', { all: true }]]) }])) };
  const input = Object.fromEntries(odd.map((k, i) => [k, i % 2 ? [1, { y: 2 }] : [{ x: 1, z: 2 }, { z: 3 }, null]]));
  assert.deepStrictEqual(projector(tree)(input), reference(tree)(input));
  assert.deepStrictEqual(projector(tree)({ a: 1, toString: undefined }), {});
  assert.equal((globalThis as { pwned?: unknown }).pwned, undefined);
  // A field named __proto__ behaves as it did in the loop.
  const proto: FieldTree = { keys: new Map([['__proto__', { all: true }], ['a', { all: true }]]) };
  const withProto = JSON.parse('{"__proto__": {"x": 1}, "a": 2}');
  assert.deepStrictEqual(projector(proto)(withProto), reference(proto)(withProto));
});
