// Interning the strings of cached objects (src/kube/intern.ts) changes no
// value: projected pods equal their uninterned copies, the table keeps one
// entry per distinct short string, and a full table starts over.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { intern, internDeep, internTableSize } from '../../src/kube/intern.ts';
import { objectProjector, fieldTree } from '../../src/kube/index.ts';
import { realisticPod } from '../../bench/fixtures/pods.ts';

test('interned values equal the originals, and repeated strings take one entry', { timeout: 30_000 }, () => {
  const a = intern(`ns-${'x'.repeat(3)}`);
  const before = internTableSize();
  assert.equal(intern(['ns-', 'xxx'].join('')), a);
  assert.equal(internTableSize(), before, 'a second copy adds no entry');
  const long = 'y'.repeat(500);
  assert.equal(intern(long), long);
  assert.equal(internTableSize(), before, 'long strings are not kept');
  const v = { a: ['b', { c: 'd', n: 1, t: true, z: null }], e: 'f' };
  assert.deepEqual(internDeep(structuredClone(v)), v);
});

test('every value a projection keeps equals the value at the same place in the uninterned pod', { timeout: 30_000 }, () => {
  const tree = fieldTree(['metadata.labels', 'spec.nodeName', 'spec.containers[].image', 'status.containerStatuses[].state', 'status.phase']);
  const project = objectProjector(tree)!;
  let leaves = 0;
  const same = (got: unknown, plain: unknown, path: string) => {
    if (got === null || typeof got !== 'object') {
      assert.equal(got, plain, path);
      leaves++;
      return;
    }
    for (const [k, v] of Object.entries(got)) same(v, (plain as Record<string, unknown>)[k], `${path}.${k}`);
  };
  for (let i = 0; i < 200; i++) {
    const pod = realisticPod(i, 1000 + i, i % 7 === 0 ? 'crashloop' : 'running');
    same(project(JSON.parse(JSON.stringify(pod))), pod, `pod ${i}`);
  }
  assert.ok(leaves > 200 * 8, `the projection kept values to compare: ${leaves}`);
});

test('a full table starts over and keeps interning', { timeout: 30_000 }, () => {
  for (let i = 0; i < 70_000; i++) intern(`unique-${i}`);
  assert.ok(internTableSize() <= 65_536, `bounded: ${internTableSize()}`);
  assert.ok(internTableSize() > 0);
  assert.equal(intern('after-reset'), 'after-reset');
});
