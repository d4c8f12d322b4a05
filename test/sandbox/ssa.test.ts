// The pieces of server-side apply, against structured-merge-diff's own
// behaviour: FieldsV1 as written, list merge order, pruning, scopes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FieldSet, pathString } from '../../src/sandbox/server/fieldpath.ts';
import { applyConfiguration, recordUpdate } from '../../src/sandbox/server/managed.ts';
import { shapeForKind } from '../../src/sandbox/server/ssa-schema.ts';
import { compare, merge, removeItems, toFieldSet } from '../../src/sandbox/server/ssa-typed.ts';
import type { K8sObject } from '../../src/sandbox/types.ts';

const POD = shapeForKind('Pod');
const DEPLOY = shapeForKind('Deployment');

test('FieldsV1: read and written back unchanged, in fieldpath order ("." first, fields, keys, values)', () => {
  const v1 = {
    'f:metadata': { 'f:finalizers': { '.': {}, 'v:"a"': {}, 'v:"b"': {} }, 'f:labels': { '.': {}, 'f:app': {} } },
    'f:spec': {
      'f:containers': {
        'k:{"name":"a"}': { '.': {}, 'f:image': {}, 'f:name': {}, 'f:ports': { 'k:{"containerPort":80,"protocol":"TCP"}': { '.': {}, 'f:containerPort': {} } } },
        'k:{"name":"b"}': { '.': {}, 'f:name': {} },
      },
      'f:replicas': {},
    },
  };
  const set = FieldSet.fromFieldsV1(v1);
  assert.equal(JSON.stringify(set.toFieldsV1()), JSON.stringify(v1));
  // Set.Iterate: a level's members, then each child's paths in turn.
  assert.deepEqual(set.toPaths().map(pathString), [
    '.metadata.finalizers',
    '.metadata.labels',
    '.metadata.finalizers[="a"]',
    '.metadata.finalizers[="b"]',
    '.metadata.labels.app',
    '.spec.replicas',
    '.spec.containers[name="a"]',
    '.spec.containers[name="b"]',
    '.spec.containers[name="a"].image',
    '.spec.containers[name="a"].name',
    '.spec.containers[name="a"].ports[containerPort=80,protocol="TCP"]',
    '.spec.containers[name="a"].ports[containerPort=80,protocol="TCP"].containerPort',
    '.spec.containers[name="b"].name',
  ]);
});

test('ToFieldSet: leaves, list items by key (defaults filled in), atomic selectors and lists; empty maps own nothing', () => {
  const set = toFieldSet({
    spec: {
      selector: { matchLabels: { app: 'web' } },
      template: { spec: { containers: [{ name: 'web', command: ['sleep', '1'], ports: [{ containerPort: 80 }], resources: {} }] } },
    },
  }, DEPLOY);
  assert.deepEqual(set.toPaths().map(pathString), [
    '.spec.selector',
    '.spec.template.spec.containers[name="web"]',
    '.spec.template.spec.containers[name="web"].command',
    '.spec.template.spec.containers[name="web"].name',
    '.spec.template.spec.containers[name="web"].ports[containerPort=80,protocol="TCP"]',
    '.spec.template.spec.containers[name="web"].ports[containerPort=80,protocol="TCP"].containerPort',
  ]);
  assert.throws(() => toFieldSet({ spec: { containers: [{ image: 'x' }] } }, POD), /associative list with keys has an element that omits key field "name"/);
  assert.throws(() => toFieldSet({ spec: { containers: [{ name: 'a' }, { name: 'a' }] } }, POD), /duplicate entries for key \[name="a"\]/);
});

test('merge: the applied order wins; items only the live list has keep their place among the shared ones', () => {
  const c = (...names: string[]) => ({ spec: { containers: names.map((name) => ({ name })) } });
  const names = (v: any) => v.spec.containers.map((x: any) => x.name);
  assert.deepEqual(names(merge(c('a', 'b', 'c'), c('c', 'a'), POD)), ['b', 'c', 'a']);
  assert.deepEqual(names(merge(c('a', 'b'), c('b', 'x', 'a'), POD)), ['b', 'x', 'a']);
  assert.deepEqual(names(merge(c('a', 'live'), c('a', 'new'), POD)), ['a', 'live', 'new']);
  // Atomic lists are replaced; maps merge key by key.
  const m = merge({ spec: { containers: [{ name: 'a', command: ['x', 'y'], env: [{ name: 'A', value: '1' }] }] } }, { spec: { containers: [{ name: 'a', command: ['z'], env: [{ name: 'B', value: '2' }] }] } }, POD) as any;
  assert.deepEqual(m.spec.containers[0].command, ['z']);
  assert.deepEqual(m.spec.containers[0].env, [{ name: 'A', value: '1' }, { name: 'B', value: '2' }]);
});

test('compare and removeItems: a map that appears is owned itself; removing its last entry removes it', () => {
  const c = compare({ metadata: {} }, { metadata: { labels: { a: '1' } } }, DEPLOY);
  assert.deepEqual(c.added.toPaths().map(pathString), ['.metadata.labels', '.metadata.labels.a']);
  const out = removeItems({ metadata: { labels: { a: '1' }, name: 'x' } }, FieldSet.of([['f:metadata', 'f:labels', 'f:a']]), DEPLOY);
  assert.deepEqual(out, { metadata: { name: 'x' } });
});

const obj = (spec: any, extra: any = {}): K8sObject => ({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd', namespace: 'n', ...extra }, spec });

test('apply prunes only what its manager applied last time and nobody else owns; defaulted fields stay', () => {
  const who = { manager: 'flux', operation: 'Apply' as const, apiVersion: 'apps/v1' };
  const first = applyConfiguration(obj({}, { managedFields: [{ manager: 'x', operation: 'Update', apiVersion: 'apps/v1', fieldsType: 'FieldsV1', fieldsV1: { 'f:spec': { 'f:paused': {} } } }] }), obj({ replicas: 2, minReadySeconds: 5 }), who, false, 0).object;
  const live = { ...first, spec: { ...first.spec, revisionHistoryLimit: 10 } } as K8sObject;
  const second = applyConfiguration(live, obj({ replicas: 2 }), who, false, 1000).object;
  assert.deepEqual(second.spec, { replicas: 2, revisionHistoryLimit: 10 }, 'minReadySeconds went; the unowned default stayed');
});

test('an update through /status owns only status; through the main resource, never status', () => {
  const old = obj({ replicas: 1 });
  const next = { ...obj({ replicas: 2 }), status: { replicas: 2 } } as K8sObject;
  const main = recordUpdate(old, next, { manager: 'm', operation: 'Update', apiVersion: 'apps/v1' }, 0)!;
  assert.deepEqual(main[0].fieldsV1, { 'f:spec': { 'f:replicas': {} } });
  const status = recordUpdate(old, next, { manager: 'm', operation: 'Update', apiVersion: 'apps/v1', subresource: 'status' }, 0)!;
  assert.deepEqual(status[0].fieldsV1, { 'f:status': { 'f:replicas': {} } });
  assert.equal(recordUpdate(old, structuredClone(old), { manager: 'm', operation: 'Update', apiVersion: 'apps/v1' }, 0), undefined, 'a write that changed nothing owns nothing');
});
