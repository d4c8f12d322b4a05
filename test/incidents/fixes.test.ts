// The fixes' YAML is made once per document: asked again, the same text;
// asked for another workload, container list or comment, its own text — the
// same as a fresh rendering would give.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'yaml';
import { limitRangeFix, memoryLimitFix, pdbFix } from '../../src/incidents/fixes.ts';

test('a fix asked twice is the same text, and each document keeps its own', { timeout: 10_000 }, () => {
  const a = memoryLimitFix('Deployment/shop/api', ['app']);
  assert.equal(memoryLimitFix('Deployment/shop/api', ['app']), a);
  const b = memoryLimitFix('Deployment/shop/api', ['app', 'sidecar']);
  assert.deepEqual(parse(b).spec.template.spec.containers.map((c: { name: string }) => c.name), ['app', 'sidecar']);
  // Same document, another comment (the namespace and name live only in the comment).
  const c = memoryLimitFix('Deployment/billing/api', ['app']);
  assert.match(c, /kubectl -n billing patch deployment api/);
  assert.match(a, /kubectl -n shop patch deployment api/);
  assert.equal(parse(limitRangeFix('x')).metadata.namespace, 'x');
  assert.equal(parse(limitRangeFix('y')).metadata.namespace, 'y');
  assert.equal(parse(pdbFix('Deployment/shop/api', { app: 'api' }, 1)).spec.minAvailable, 1);
  assert.equal(parse(pdbFix('Deployment/shop/api', { app: 'api' }, 2)).spec.minAvailable, 2);
  for (let i = 0; i < 6000; i++) limitRangeFix(`ns-${i}`);
  assert.equal(parse(limitRangeFix('ns-1')).metadata.namespace, 'ns-1', 'past the bound: still right');
});
