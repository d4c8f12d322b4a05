// Tests that guard the guards: each attack here gets past every check but
// one, so a one-line slip in that check (a comparison dropped, "untrusted"
// taken for "valid") turns the test red instead of leaving a hole nobody sees.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, sign } from 'node:crypto';
import { GENESIS_HASH, canonicalJson, chainHash, headMessage, keyId, type VerifyResult } from '../../src/audit/index.ts';
import type { SqlStore } from '../../src/store/index.ts';
import { forEachDialect } from './helpers.ts';

async function seed(store: SqlStore, n: number): Promise<void> {
  await store.audit.append(Array.from({ length: n }, (_, i) => ({ actor: { type: 'system' as const, name: 'test' }, action: 'test.appended', data: { i: i + 1 } })));
}

function assertBad(r: VerifyResult, seq: number, reason: RegExp): void {
  assert.equal(r.ok, false, `verify should fail, got ${JSON.stringify(r)}`);
  if (r.ok) return;
  assert.equal(r.firstBad.seq, seq, `first bad record: ${JSON.stringify(r.firstBad)}`);
  assert.match(r.firstBad.reason, reason);
}

/** The attacker re-hashes every record from `from` on (after `edit` changed it) and returns the new last hash. */
async function rechain(store: SqlStore, from: number, edit: (body: Record<string, unknown>) => void): Promise<string> {
  const rows = await store.sql.query<{ seq: number; record: string; prev_hash: string }>('SELECT seq, record, prev_hash FROM audit_log ORDER BY seq');
  let prev = GENESIS_HASH;
  for (const row of rows) {
    const seq = Number(row.seq);
    if (seq < from) {
      prev = chainHash(row.prev_hash, row.record);
      continue;
    }
    const body = JSON.parse(row.record) as Record<string, unknown>;
    if (seq === from) edit(body);
    const text = canonicalJson(body);
    const hash = chainHash(prev, text);
    await store.sql.exec('UPDATE audit_log SET record = ?, prev_hash = ?, hash = ? WHERE seq = ?', [text, prev, hash, seq]);
    prev = hash;
  }
  return prev;
}

forEachDialect((env) => {
  it('a record rewritten with only its own hash recomputed fails at the next record\'s prevHash check', async () => {
    const { store } = await env.store();
    await seed(store, 10);
    const [row] = await store.sql.query<{ record: string; prev_hash: string }>('SELECT record, prev_hash FROM audit_log WHERE seq = 4');
    const text = row.record.replace('"i":4', '"i":40');
    assert.notEqual(text, row.record);
    // Record 4 is self-consistent now: its body, hash and prevHash all agree. Only record 5's link to it can tell.
    await store.sql.exec('UPDATE audit_log SET record = ?, hash = ? WHERE seq = 4', [text, chainHash(row.prev_hash, text)]);
    const r = await store.audit.verify();
    assertBad(r, 5, /prevHash does not match the hash of record 4: that record was rewritten, or this one was inserted/);
    assert.equal(r.records, 4, 'records 1–4 passed every check of their own');
  });

  it('a re-chained log whose head an attacker signed with their own key is reported as signed by an untrusted key', async () => {
    const { store } = await env.store();
    await seed(store, 6);
    const last = await rechain(store, 3, (b) => (b.data = { i: 'rewritten' }));
    const attacker = generateKeyPairSync('ed25519');
    const attackerId = keyId(attacker.publicKey);
    const signature = sign(null, Buffer.from(headMessage({ seq: 6, hash: last }), 'utf8'), attacker.privateKey).toString('base64');
    await store.sql.exec('UPDATE audit_head SET hash = ?, key_id = ?, signature = ? WHERE id = 1', [last, attackerId, signature]);
    assert.equal((await store.sql.query('SELECT 1 FROM audit_checkpoints')).length, 0, 'no checkpoint: the head signature is the only anchor');
    assertBad(await store.audit.verify(), 6, new RegExp(`chain head is signed by untrusted key ${attackerId}: records were rewritten and re-hashed, or the head was replaced`));
  });
});
