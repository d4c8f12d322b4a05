// The store's copies: deep, equal to what was stored, sharing nothing with it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cloneObject } from '../../src/sandbox/clone.ts';
import { ManualClock } from '../../src/common/clock.ts';
import { Sandbox } from '../../src/sandbox/cluster.ts';

test('cloneObject copies JSON data deeply, as structuredClone does', () => {
  const o: { a: unknown[]; d: { e: { f: number } }; u: undefined; empty: object; none: never[] } = { a: [1, { b: 'x', c: null }, [true]], d: { e: { f: 2.5 } }, u: undefined, empty: {}, none: [] };
  const c = cloneObject(o);
  assert.deepEqual(c, structuredClone(o));
  assert.ok(Object.hasOwn(c, 'u'), 'an undefined property stays a property');
  c.a[1] = 'changed';
  c.d.e.f = 3;
  assert.deepEqual(o.a[1], { b: 'x', c: null });
  assert.equal(o.d.e.f, 2.5);
});

test('a "__proto__" key stays a key, and a Date is still a Date', () => {
  const o = JSON.parse('{"data":{"__proto__":"kept","k":"v"}}');
  const c = cloneObject(o);
  assert.deepEqual(Object.keys(c.data), ['__proto__', 'k']);
  assert.equal(Object.getPrototypeOf(c.data), Object.prototype);
  assert.equal(JSON.stringify(c), JSON.stringify(o));
  const when = { at: new Date(0) };
  assert.ok(cloneObject(when).at instanceof Date);
  assert.notEqual(cloneObject(when).at, when.at);
});

test('what the store hands out is a copy: editing it changes nothing stored', () => {
  const s = new Sandbox({ clock: new ManualClock(), nodes: [] });
  s.apply([{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm', namespace: 'default' }, data: { k: 'v' } }]);
  const read = s.store.get('configmaps', 'default', 'cm')!;
  read.data.k = 'edited';
  s.store.list('configmaps').items[0].data.k = 'edited too';
  assert.equal(s.store.get('configmaps', 'default', 'cm')!.data.k, 'v');
});
