// The structural-schema validator, pruning and defaulting the custom
// resource strategy uses, the CRD's own structural checks, printer-column
// JSONPath, version priority, and the per-store type registry (a CRD in one
// sandbox is not served by another; a restored one is served before its
// objects load).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../../src/common/clock.ts';
import { compareKubeVersions } from '../../src/sandbox/api-types.ts';
import { applySchemaDefaults, evalJsonPath, prune, validateValue } from '../../src/sandbox/apiextensions/index.ts';
import { structuralErrors } from '../../src/sandbox/apiextensions/structural.ts';
import { Sandbox } from '../../src/sandbox/cluster.ts';

const errs = (schema: any, value: unknown, old?: unknown) =>
  validateValue(schema, value, '', old === undefined ? undefined : { value: old }).map((e) => `${e.type} ${e.field}: ${e.body}`);

describe('structural schema validation', () => {
  const spec = (properties: any, extra: any = {}) => ({ type: 'object', properties: { spec: { type: 'object', properties, ...extra } } });

  it('types: integers are numbers, but numbers are not integers; int-or-string takes both', () => {
    const s = spec({ i: { type: 'integer' }, n: { type: 'number' }, b: { type: 'boolean' }, a: { type: 'array', items: { type: 'string' } }, o: { type: 'object' }, x: { 'x-kubernetes-int-or-string': true } });
    assert.deepEqual(errs(s, { spec: { i: 1, n: 2, b: true, a: [], o: {}, x: 'a' } }), []);
    assert.deepEqual(errs(s, { spec: { x: 3 } }), []);
    assert.deepEqual(errs(s, { spec: { i: 1.5, n: 'x', b: 'true', a: {}, o: [], x: true } }), [
      'FieldValueTypeInvalid spec.i: Invalid value: "number": spec.i in body must be of type integer: "number"',
      'FieldValueTypeInvalid spec.n: Invalid value: "string": spec.n in body must be of type number: "string"',
      'FieldValueTypeInvalid spec.b: Invalid value: "string": spec.b in body must be of type boolean: "string"',
      'FieldValueTypeInvalid spec.a: Invalid value: "object": spec.a in body must be of type array: "object"',
      'FieldValueTypeInvalid spec.o: Invalid value: "array": spec.o in body must be of type object: "array"',
      'FieldValueTypeInvalid spec.x: Invalid value: "boolean": spec.x in body must be of type integer,string: "boolean"',
    ]);
  });

  it('strings, numbers and arrays: the bounds, each with its message', () => {
    const s = spec({
      s: { type: 'string', minLength: 2, maxLength: 3, pattern: '^[a-z]+$' },
      n: { type: 'number', minimum: 1, maximum: 5, exclusiveMaximum: true, multipleOf: 0.5 },
      m: { type: 'integer', minimum: 0, exclusiveMinimum: true },
      a: { type: 'array', minItems: 1, maxItems: 2, items: { type: 'integer' } },
      o: { type: 'object', minProperties: 1, additionalProperties: { type: 'string' } },
    });
    assert.deepEqual(errs(s, { spec: { s: 'ab', n: 4.5, m: 1, a: [1], o: { k: 'v' } } }), []);
    assert.deepEqual(errs(s, { spec: { s: 'A', n: 5, m: 0, a: [], o: {} } }), [
      'FieldValueInvalid spec.s: Invalid value: "A": spec.s in body should be at least 2 chars long',
      'FieldValueInvalid spec.s: Invalid value: "A": spec.s in body should match \'^[a-z]+$\'',
      'FieldValueInvalid spec.n: Invalid value: 5: spec.n in body should be less than 5',
      'FieldValueInvalid spec.m: Invalid value: 0: spec.m in body should be greater than 0',
      'FieldValueInvalid spec.a: Invalid value: 0: spec.a in body should have at least 1 items',
      'FieldValueInvalid spec.o: Invalid value: 0: spec.o in body should have at least 1 properties',
    ]);
    assert.deepEqual(errs(s, { spec: { s: 'abcd', n: 0.7, a: [1, 2, 'x'], o: { k: 1 } } }), [
      'FieldValueTooLong spec.s: Too long: may not be longer than 3',
      'FieldValueInvalid spec.n: Invalid value: 0.7: spec.n in body should be a multiple of 0.5',
      'FieldValueInvalid spec.n: Invalid value: 0.7: spec.n in body should be greater than or equal to 1',
      'FieldValueTypeInvalid spec.a[2]: Invalid value: "string": spec.a[2] in body must be of type integer: "string"',
      'FieldValueTooMany spec.a: Too many: 3: must have at most 2 items',
      'FieldValueTypeInvalid spec.o.k: Invalid value: "integer": spec.o.k in body must be of type string: "integer"',
    ]);
  });

  it('enum (strings quoted, others as JSON), required, nullable and allOf', () => {
    const s = spec({ e: { type: 'string', enum: ['a', 'b'] }, k: { type: 'integer', enum: [1, 2] }, n: { type: 'string', nullable: true }, t: { type: 'string' }, all: { type: 'integer', allOf: [{ minimum: 3 }] } }, { required: ['e', 'r'] });
    assert.deepEqual(errs(s, { spec: { e: 'c', k: 3, n: null, t: null, all: 1 } }), [
      'FieldValueNotSupported spec.e: Unsupported value: "c": supported values: "a", "b"',
      'FieldValueNotSupported spec.k: Unsupported value: 3: supported values: "1", "2"',
      'FieldValueTypeInvalid spec.t: Invalid value: "null": spec.t in body must be of type string: "null"',
      'FieldValueInvalid spec.all: Invalid value: 1: spec.all in body should be greater than or equal to 3',
      'FieldValueRequired spec.r: Required value',
    ]);
  });

  it('ratcheting: on update, unchanged invalid values are not judged again', () => {
    const s = spec({ a: { type: 'integer', maximum: 1 }, b: { type: 'integer', maximum: 1 } });
    assert.deepEqual(errs(s, { spec: { a: 5, b: 0 } }, { spec: { a: 5, b: 0 } }), []);
    assert.deepEqual(errs(s, { spec: { a: 5, b: 7 } }, { spec: { a: 5, b: 0 } }), ['FieldValueInvalid spec.b: Invalid value: 7: spec.b in body should be less than or equal to 1']);
  });
});

describe('pruning and defaulting', () => {
  const schema = {
    type: 'object',
    properties: {
      spec: {
        type: 'object',
        properties: {
          keep: { type: 'string', default: 'k' },
          list: { type: 'array', items: { type: 'object', properties: { a: { type: 'integer', default: 1 } } } },
          free: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true, properties: { known: { type: 'object', properties: { x: { type: 'string' } } } } },
          map: { type: 'object', additionalProperties: { type: 'object', properties: { v: { type: 'string', default: 'd' } } } },
          embedded: { type: 'object', 'x-kubernetes-embedded-resource': true, properties: { spec: { type: 'object' } } },
          nested: { type: 'object', default: {}, properties: { deep: { type: 'integer', default: 7 } } },
        },
      },
      status: { type: 'object', properties: { ok: { type: 'boolean' } } },
    },
  };

  it('drops what the schema does not specify and says where; keeps metadata, preserved subtrees, maps and embedded objects\' identity', () => {
    const obj: any = {
      apiVersion: 'example.com/v1', kind: 'W', metadata: { name: 'x', labels: { a: 'b' }, anything: 1 },
      spec: { keep: 'v', bogus: 1, list: [{ a: 2, b: 3 }], free: { what: 'ever', known: { x: 'y', z: 1 } }, map: { k: { v: 'x', w: 1 } }, embedded: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: {}, extra: 1 } },
      status: { ok: true, junk: 1 },
      top: 1,
    };
    assert.deepEqual(prune(schema, obj), ['spec.bogus', 'spec.list[0].b', 'spec.free.known.z', 'spec.map.k.w', 'spec.embedded.extra', 'status.junk', 'top']);
    assert.deepEqual(obj.metadata, { name: 'x', labels: { a: 'b' }, anything: 1 });
    assert.deepEqual(obj.spec.free, { what: 'ever', known: { x: 'y' } });
    assert.deepEqual(obj.spec.embedded, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: {} });
  });

  it('defaults missing fields (and nulls where null is not allowed), objects first, then inside them', () => {
    const obj: any = { metadata: { name: 'x' }, spec: { keep: null, list: [{}, { a: 5 }], map: { k: {} } } };
    applySchemaDefaults(schema, obj);
    assert.deepEqual(obj.spec, { keep: 'k', list: [{ a: 1 }, { a: 5 }], map: { k: { v: 'd' } }, nested: { deep: 7 } });
    const nulls: any = { metadata: { name: 'x' }, status: { ok: null } };
    applySchemaDefaults(schema, nulls);
    assert.deepEqual(nulls.status, {});
  });
});

describe('a CRD\'s schema must be structural', () => {
  it('reports each violation at its path, sorted as the API server sorts them', () => {
    const errors = structuralErrors({
      type: 'object',
      additionalProperties: { type: 'string' },
      properties: {
        spec: { properties: { list: { type: 'array' }, items: { type: 'array', items: { properties: {} } }, u: { type: 'string', uniqueItems: true }, bad: { type: 'strings' } } },
        metadata: { type: 'object', properties: { labels: { type: 'object' } } },
        ios: { 'x-kubernetes-int-or-string': true, anyOf: [{ type: 'integer' }, { type: 'string' }] },
      },
    }, 'spec.validation.openAPIV3Schema').map((c) => `${c.field}: ${c.message}`);
    assert.deepEqual(errors, [
      'spec.validation.openAPIV3Schema.additionalProperties: Forbidden: additionalProperties and properties are mutual exclusive',
      'spec.validation.openAPIV3Schema.additionalProperties: Forbidden: must not be used at the root',
      'spec.validation.openAPIV3Schema.properties[metadata]: Forbidden: must not specify anything other than name and generateName, but metadata is implicitly specified',
      'spec.validation.openAPIV3Schema.properties[spec].properties[bad].type: Unsupported value: "strings": supported values: "array", "boolean", "integer", "number", "object", "string"',
      'spec.validation.openAPIV3Schema.properties[spec].properties[items].items.type: Required value: must not be empty for specified array items',
      'spec.validation.openAPIV3Schema.properties[spec].properties[list].items: Required value: must be specified',
      'spec.validation.openAPIV3Schema.properties[spec].properties[u].uniqueItems: Forbidden: uniqueItems cannot be set to true since the runtime complexity becomes quadratic',
      'spec.validation.openAPIV3Schema.properties[spec].type: Required value: must not be empty for specified object fields',
    ]);
    assert.deepEqual(structuralErrors({ type: 'string' }, 'p').map((c) => `${c.field}: ${c.message}`), ['p.type: Invalid value: "string": must be object at the root']);
    assert.deepEqual(structuralErrors({ properties: {} }, 'p').map((c) => `${c.field}: ${c.message}`), ['p.type: Required value: must not be empty at the root']);
  });
});

describe('printer columns and versions', () => {
  it('JSONPath: fields, indexes, wildcards and filters', () => {
    const o = { status: { conditions: [{ type: 'Ready', status: 'True' }, { type: 'Synced', status: 'False' }] }, spec: { 'a-b': 1, list: [{ n: 'x' }, { n: 'y' }] } };
    assert.deepEqual(evalJsonPath(o, '.status.conditions[?(@.type=="Synced")].status'), ['False']);
    assert.deepEqual(evalJsonPath(o, ".status.conditions[?(@.type!='Ready')].type"), ['Synced']);
    assert.deepEqual(evalJsonPath(o, '.spec.list[1].n'), ['y']);
    assert.deepEqual(evalJsonPath(o, '.spec.list[*].n'), ['x', 'y']);
    assert.deepEqual(evalJsonPath(o, ".spec['a-b']"), [1]);
    assert.deepEqual(evalJsonPath(o, '.spec.missing.x'), []);
  });

  it('versions sort GA, beta, alpha, higher first, others last', () => {
    assert.deepEqual(['v1alpha1', 'foo', 'v1beta2', 'v2', 'v1', 'v1beta1', 'v11alpha2', 'bar'].sort(compareKubeVersions), ['v2', 'v1', 'v1beta2', 'v1beta1', 'v11alpha2', 'v1alpha1', 'bar', 'foo']);
  });
});

describe('custom resource types belong to one sandbox', { timeout: 30_000 }, () => {
  const crd = {
    apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name: 'widgets.example.com' },
    spec: { group: 'example.com', scope: 'Namespaced', names: { plural: 'widgets', kind: 'Widget' }, versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object', properties: { n: { type: 'integer' } } } } } } }] },
  };
  const settle = async (clock: ManualClock) => {
    for (let i = 0; i < 5; i++) await clock.advance(10);
  };

  it('a CRD established in one sandbox is not served by another', async () => {
    const clock = new ManualClock();
    const a = new Sandbox({ clock }).start();
    const b = new Sandbox({ clock }).start();
    a.store.create('apiextensions.k8s.io/customresourcedefinitions', structuredClone(crd));
    await settle(clock);
    assert.ok(a.store.types.find('example.com', 'v1', 'widgets'));
    assert.equal(b.store.types.find('example.com', 'v1', 'widgets'), undefined);
    await a.stop();
    await b.stop();
  });

  it('a restored sandbox serves its CRDs\' resources with their objects', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kubemend-crd-state-'));
    const stateFile = join(dir, 'state.json');
    try {
      const clock = new ManualClock();
      const first = new Sandbox({ clock, stateFile }).start();
      first.store.create('apiextensions.k8s.io/customresourcedefinitions', structuredClone(crd));
      await settle(clock);
      first.store.create('example.com/widgets', { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w', namespace: 'default' }, spec: { n: 1 } });
      await first.stop();
      const again = new Sandbox({ clock, stateFile });
      assert.equal(again.store.get('example.com/widgets', 'default', 'w')?.spec.n, 1);
      assert.ok(again.store.types.find('example.com', 'v1', 'widgets'));
      await again.stop();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
