// Witnesses anchor the chain outside the database. The attack they exist for:
// an insider deletes the newest records and puts back a head row (with its
// genuine signature) saved earlier. Everything left verifies — without a
// witness that is a documented limit, with one it is caught and named.
import { it, test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPairSync, sign } from 'node:crypto';
import { KubemendError } from '../../src/common/errors.ts';
import { auditWitnessFailuresTotal } from '../../src/common/metrics.ts';
import { FileWitness, canonicalJson, chainHash, headLine, headMessage, keyId, parseHeadLines, type AuditWitness, type SignedHead, type VerifyResult } from '../../src/audit/index.ts';
import { openStore, type SqlStore } from '../../src/store/index.ts';
import { ManualClock } from '../../src/common/clock.ts';
import { forEachDialect, type Place } from './helpers.ts';

const input = (i: number) => ({ actor: { type: 'system' as const, name: 'test' }, action: 'test.appended', data: { i } });

function assertBad(r: VerifyResult, seq: number, reason: RegExp): void {
  assert.equal(r.ok, false, `verify should fail, got ${JSON.stringify(r)}`);
  if (r.ok) return;
  assert.equal(r.firstBad.seq, seq, `first bad record: ${JSON.stringify(r.firstBad)}`);
  assert.match(r.firstBad.reason, reason);
}

const witnessFile = () => join(mkdtempSync(join(tmpdir(), 'km-witness-')), 'heads.jsonl');
const fileHeads = (path: string): SignedHead[] => parseHeadLines(readFileSync(path, 'utf8'), path);

/** The file's seqs once it holds `n` heads (the write is real I/O, outside the manual clock). */
async function seqsOnceWritten(path: string, n: number): Promise<number[]> {
  const t0 = Date.now();
  for (;;) {
    const heads = existsSync(path) ? fileHeads(path) : [];
    if (heads.length >= n || Date.now() - t0 > 2_000) return heads.map((h) => h.seq);
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function withWitness(place: Place, path = witnessFile(), intervalMs?: number): Promise<{ store: SqlStore; witness: FileWitness }> {
  const witness = new FileWitness(path);
  return { store: await place.open({ witnesses: [witness], witnessIntervalMs: intervalMs }), witness };
}

type HeadRow = { seq: number; hash: string; time: number; key_id: string; signature: string };

/** The insider's move: drop everything after `keep` and put back the head row saved when the log ended there. */
async function truncate(store: SqlStore, keep: number, saved: HeadRow): Promise<void> {
  await store.sql.exec('DELETE FROM audit_log WHERE seq > ?', [keep]);
  await store.sql.exec('UPDATE audit_head SET seq = ?, hash = ?, time = ?, key_id = ?, signature = ? WHERE id = 1', [saved.seq, saved.hash, saved.time, saved.key_id, saved.signature]);
}

forEachDialect((env) => {
  it('truncation with a restored signed head passes without a witness (the documented limit) and is caught with one', async () => {
    const place = await env.place();
    const { store, witness } = await withWitness(place);
    await store.audit.append([input(1), input(2), input(3)]);
    const [saved] = await store.sql.query<HeadRow>('SELECT seq, hash, time, key_id, signature FROM audit_head WHERE id = 1');
    await store.audit.append([input(4), input(5)]);
    await store.audit.append([input(6), input(7)]);
    await store.audit.flush();
    await truncate(store, 3, saved);

    const blind = await store.audit.verify();
    assert.deepEqual(blind.ok && { ok: blind.ok, records: blind.records }, { ok: true, records: 3 }, 'without a witness the shortened log is indistinguishable from a genuine one');
    const r = await store.audit.verify({ witnesses: [witness] });
    assertBad(r, 4, new RegExp(`records 4–7 are missing: the witness \\(file ${witness.path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\) saw the chain reach seq 7 at .*, but the database ends at seq 3: the newest records were deleted and an older signed head put back`));
  });

  it('catches a chain rewritten and signed again by an insider who also took the key', async () => {
    const place = await env.place();
    const { store, witness } = await withWitness(place);
    for (let i = 1; i <= 6; i++) {
      await store.audit.append(input(i));
      await store.audit.flush();
    }
    const rows = await store.sql.query<{ seq: number; record: string; prev_hash: string }>('SELECT seq, record, prev_hash FROM audit_log ORDER BY seq');
    let prev = rows[2].prev_hash;
    for (const row of rows.slice(2)) {
      const body = JSON.parse(row.record);
      if (Number(row.seq) === 3) body.data = { i: 'rewritten' };
      const text = canonicalJson(body);
      const hash = chainHash(prev, text);
      await store.sql.exec('UPDATE audit_log SET record = ?, prev_hash = ?, hash = ? WHERE seq = ?', [text, prev, hash, Number(row.seq)]);
      prev = hash;
    }
    const sig = store.audit.keys.sign(headMessage({ seq: 6, hash: prev }));
    await store.sql.exec('UPDATE audit_head SET hash = ?, key_id = ?, signature = ? WHERE id = 1', [prev, sig.keyId, sig.signature]);
    assert.equal((await store.audit.verify()).ok, true, 'with the key, the rewrite verifies on its own');
    assertBad(await store.audit.verify({ witnesses: [witness] }), 3, /record 3 is not the one the witness .* saw .*: the chain was rewritten up to there and signed again/);
  });

  it('reports a witnessed head signed by an untrusted key', async () => {
    const place = await env.place();
    const { store, witness } = await withWitness(place);
    await store.audit.append([input(1), input(2)]);
    await store.audit.flush();
    const rogue = generateKeyPairSync('ed25519');
    const [row] = await store.sql.query<{ hash: string }>('SELECT hash FROM audit_log WHERE seq = 2');
    const forged: SignedHead = { seq: 2, hash: row.hash, time: 0, keyId: keyId(rogue.publicKey), signature: sign(null, Buffer.from(headMessage({ seq: 2, hash: row.hash })), rogue.privateKey).toString('base64') };
    appendFileSync(witness.path, `${headLine(forged)}\n`);
    assertBad(await store.audit.verify({ witnesses: [witness] }), 2, new RegExp(`signed by untrusted key ${forged.keyId}`));
  });

  it('witnesses every committed head, only ever moving forward, and verifies clean', async () => {
    const place = await env.place();
    const { store, witness } = await withWitness(place);
    await Promise.all(Array.from({ length: 20 }, (_, i) => store.audit.append([input(i), input(i + 100)])));
    await store.audit.flush();
    const heads = fileHeads(witness.path);
    assert.ok(heads.length >= 1 && heads.length <= 20);
    for (let i = 1; i < heads.length; i++) assert.ok(heads[i].seq > heads[i - 1].seq, `seqs increase: ${heads.map((h) => h.seq)}`);
    assert.equal(heads.at(-1)!.seq, 40);
    const v = await store.audit.verify({ witnesses: [witness] });
    assert.equal(v.ok, true, JSON.stringify(v));
    assert.deepEqual(v.ok && v.witnesses, [{ name: witness.name, heads: heads.length, newest: 40, checked: heads.length }]);
  });

  it('writes at most once per interval, the newest head, and everything pending on close', async () => {
    const place = await env.place();
    const { store, witness } = await withWitness(place, witnessFile(), 10_000);
    await store.audit.append(input(1));
    await store.audit.append(input(2));
    await store.audit.append(input(3));
    await place.clock.advance(9_999);
    await seqsOnceWritten(witness.path, 1);
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(fileHeads(witness.path).map((h) => h.seq), [1], 'the first head at once, the next ones wait for the interval');
    await place.clock.advance(1);
    assert.deepEqual(await seqsOnceWritten(witness.path, 2), [1, 3], 'after the interval, only the newest');
    await store.audit.append(input(4));
    await store.close();
    assert.deepEqual(fileHeads(witness.path).map((h) => h.seq), [1, 3, 4], 'close() writes what is pending');
  });

  it('a failing witness never fails an append: it is logged, counted, and caught up by the next head', async () => {
    const place = await env.place();
    const dir = join(mkdtempSync(join(tmpdir(), 'km-witness-')), 'not-yet');
    const witness = new FileWitness(join(dir, 'heads.jsonl'));
    const logged: string[] = [];
    const store = await place.open({ witnesses: [witness], log: (l) => logged.push(l) });
    const before = (await auditWitnessFailuresTotal.get()).values[0]?.value ?? 0;
    const [rec] = await store.audit.append(input(1));
    assert.equal(rec.seq, 1);
    await store.audit.flush();
    assert.equal((await auditWitnessFailuresTotal.get()).values[0]?.value, before + 1);
    assert.match(logged.join('\n'), /could not write the audit head at seq 1 to the witness \(file .*not-yet\/heads\.jsonl\): KM-AUDIT-003|cannot append to the audit witness/);
    mkdirSync(dir);
    await store.audit.append(input(2));
    await store.audit.flush();
    assert.deepEqual(fileHeads(witness.path).map((h) => h.seq), [2]);
    assert.equal((await store.audit.verify({ witnesses: [witness] })).ok, true);
  });

  it('a missing witness file fails verification (KM-AUDIT-003) rather than passing as empty', async () => {
    const place = await env.place();
    const store = await place.open();
    await store.audit.append(input(1));
    await assert.rejects(store.audit.verify({ witnesses: [new FileWitness(join(tmpdir(), 'km-no-such-witness.jsonl'))] }), (e: unknown) => e instanceof KubemendError && e.code === 'KM-AUDIT-003');
  });

  it('reads the witness before the snapshot: a head witnessed while verify runs is not mistaken for truncation', { timeout: 30_000 }, async () => {
    const place = await env.place();
    const { store, witness } = await withWitness(place);
    await store.audit.append(input(1));
    await store.audit.flush();
    // The witness answers only after another append has landed and been witnessed.
    const busy: AuditWitness = {
      name: witness.name,
      record: (h) => witness.record(h),
      async heads() {
        await store.audit.append(input(2));
        await store.audit.flush();
        return witness.heads();
      },
    };
    const v = await store.audit.verify({ witnesses: [busy] });
    assert.equal(v.ok, true, JSON.stringify(v));
    assert.equal(v.ok && v.witnesses?.[0].newest, 2);
  });
});

test('close() does not hang on a witness that never answers', { timeout: 30_000 }, async () => {
  const stuck: AuditWitness = { name: 'stuck', record: () => new Promise<void>(() => {}), heads: async () => [] };
  const store = await openStore({ dataDir: mkdtempSync(join(tmpdir(), 'km-witness-stuck-')), clock: new ManualClock(), witnesses: [stuck] });
  await store.audit.append(input(1));
  const t0 = Date.now();
  await store.close();
  assert.ok(Date.now() - t0 < 10_000, `closed after ${Date.now() - t0} ms`);
});
