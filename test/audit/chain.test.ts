// The hash chain's building blocks, independent of any database.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { GENESIS_HASH, canonicalJson, chainHash, digest, recomputeHash } from '../../src/audit/index.ts';
import { bodyTemplate, recordBody } from '../../src/audit/chain.ts';

test('canonical JSON sorts keys at every depth and drops undefined members', () => {
  assert.equal(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: undefined }, e: 'x' }), '{"a":{"d":[3,{"y":2,"z":1}]},"b":1,"e":"x"}');
  assert.equal(canonicalJson([undefined, null, true]), '[null,null,true]');
  assert.equal(canonicalJson({ s: 'quote " backslash \\ newline \n ünï 🚀' }), JSON.stringify({ s: 'quote " backslash \\ newline \n ünï 🚀' }));
  assert.equal(canonicalJson({ d: new Date(0) }), '{"d":"1970-01-01T00:00:00.000Z"}');
  assert.equal(canonicalJson({ n: 1.5e-7, m: -0, big: 1e21 }), '{"big":1e+21,"m":0,"n":1.5e-7}');
});

test('canonical JSON rejects what JSON cannot hold instead of storing something else', () => {
  assert.throws(() => canonicalJson({ a: Number.NaN }), /\$\.a: NaN/);
  assert.throws(() => canonicalJson({ a: [Infinity] }), /\$\.a\[0\]/);
  assert.throws(() => canonicalJson({ a: 1n }), /bigint/);
});

test('the chain hash is sha256 over prevHash, a newline and the canonical body', () => {
  const body = canonicalJson({ seq: 1, action: 'x' });
  assert.equal(chainHash(GENESIS_HASH, body), createHash('sha256').update(`${GENESIS_HASH}\n${body}`).digest('hex'));
  assert.notEqual(chainHash(GENESIS_HASH, body), chainHash('1'.repeat(64), body));
});

test('digest is independent of key order', () => {
  assert.equal(digest({ a: 1, b: [1, 2] }), digest({ b: [1, 2], a: 1 }));
  assert.match(digest({}), /^sha256:[0-9a-f]{64}$/);
});

test('a record body keeps only documented fields and drops empty target parts', () => {
  const body = recordBody({ actor: { type: 'user', name: 'alice', extra: 1 } as never, action: 'a.b', target: { namespace: 'shop', name: '' }, outcome: 'success', hash: 'x' } as never, 7, 'id-7', 1000);
  assert.deepEqual(body, { seq: 7, id: 'id-7', time: 1000, actor: { type: 'user', name: 'alice' }, action: 'a.b', target: { namespace: 'shop' }, outcome: 'success' });
  assert.equal(recordBody({ actor: { type: 'rule', name: 'r' }, action: 'a', target: { name: '' } }, 1, 'i', 1).target, undefined);
  assert.throws(() => recordBody({ actor: { type: 'user', name: 'a' }, action: 'a', outcome: 'maybe' as never }, 1, 'i', 1), /outcome/);
});

test('an exported record re-hashes from its own fields', () => {
  const body = recordBody({ actor: { type: 'system', name: 's' }, action: 'a', data: { k: 'v' } }, 1, 'i', 5);
  const hash = chainHash(GENESIS_HASH, canonicalJson(body));
  assert.equal(recomputeHash({ ...body, prevHash: GENESIS_HASH, hash }), hash);
});

test('a body encoded before its seq is known is byte for byte the canonical JSON with the seq', () => {
  const full = recordBody({ actor: { type: 'user', name: 'alice' }, action: 'a.b', target: { cluster: 'c', namespace: 'n' }, justification: 'why', outcome: 'success', runId: 'r', detectionId: 'd', incidentId: 'i', beforeDigest: 'sha256:a', afterDigest: 'sha256:b', diff: [{ op: 'add' }], link: 'https://x', data: { seq: 0, 'ünï': [1, { z: 1, a: null }], sequel: 's' } }, 0, 'id', 1000);
  const template = bodyTemplate(full);
  for (const seq of [1, 42, 9_007_199_254_740_991]) assert.equal(template(seq), canonicalJson({ ...full, seq }));
  // Keys only before "seq", and only after it.
  assert.equal(bodyTemplate({ action: 'a' } as never)(3), canonicalJson({ action: 'a', seq: 3 }));
  assert.equal(bodyTemplate({ time: 1 } as never)(3), canonicalJson({ seq: 3, time: 1 }));
  assert.equal(bodyTemplate({} as never)(3), '{"seq":3}');
  // Checked when encoded, before any seq: a bad record never reaches a group commit.
  assert.throws(() => bodyTemplate({ ...full, data: { n: Number.NaN } }), /\$\.data\.n: NaN/);
});
