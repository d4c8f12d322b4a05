// The audit log against SQLite and PostgreSQL: appends chain, queries filter,
// tampering directly in the database is caught and the record named,
// retention prunes behind a signed checkpoint that cannot be forged.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, sign } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { KubemendError } from '../../src/common/errors.ts';
import { GENESIS_HASH, canonicalJson, chainHash, checkJsonl, exportJsonl, keyId, pruneExpired, recomputeHash, type AuditInput, type VerifyResult } from '../../src/audit/index.ts';
import { type SqlStore } from '../../src/store/index.ts';
import { checkpointMessage } from '../../src/audit/checkpoint.ts';
import { forEachDialect } from './helpers.ts';

const T0 = Date.UTC(2026, 0, 1);
const DAY = 86_400_000;

const input = (i: number, over: Partial<AuditInput> = {}): AuditInput => ({
  actor: { type: 'system', name: 'test' },
  action: 'test.appended',
  data: { i },
  ...over,
});

async function seed(store: SqlStore, n: number, at = (i: number) => T0 + i * 1000): Promise<void> {
  await store.audit.append(Array.from({ length: n }, (_, i) => input(i + 1, { time: at(i + 1) })));
}

function assertBad(r: VerifyResult, seq: number, reason: RegExp): void {
  assert.equal(r.ok, false, `verify should fail, got ${JSON.stringify(r)}`);
  if (r.ok) return;
  assert.equal(r.firstBad.seq, seq, `first bad record: ${JSON.stringify(r.firstBad)}`);
  assert.match(r.firstBad.reason, reason);
}

forEachDialect((env) => {
  it('appends records on a hash chain and returns them as stored', async () => {
    const { store, place } = await env.store();
    const [first] = await store.audit.append({
      actor: { type: 'user', name: 'alice' },
      action: 'chat.restart.requested',
      target: { cluster: 'prod', namespace: 'shop', kind: 'Deployment', name: 'checkout' },
      justification: 'checkout is crash-looping after the 14:02 deploy',
      link: 'https://tickets.example.com/OPS-1234',
      outcome: 'pending',
      beforeDigest: 'sha256:aa',
      diff: [{ op: 'replace', path: '/spec/replicas', value: 3 }],
      runId: 'r1',
      data: { room: '#ops', 'ünïcode': '✓', nested: { b: 2, a: [1, null] } },
    });
    assert.equal(first.seq, 1);
    assert.equal(first.time, T0, 'time defaults to the injected clock');
    assert.equal(first.prevHash, GENESIS_HASH);
    assert.equal(first.hash, recomputeHash(first));
    await place.clock.advance(10);
    const batch = await store.audit.append([input(2), input(3, { time: T0 - 5 })]);
    assert.deepEqual(batch.map((r) => r.seq), [2, 3]);
    assert.equal(batch[0].prevHash, first.hash);
    assert.equal(batch[1].prevHash, batch[0].hash);
    assert.equal(batch[0].time, T0 + 10);
    assert.equal(batch[1].time, T0 - 5, 'an explicit time is kept');
    assert.deepEqual(await store.audit.list(), [first, ...batch], 'append returns exactly what list reads back');
    assert.deepEqual(await store.audit.append([]), []);
    const v = await store.audit.verify();
    assert.deepEqual(v, { ok: true, records: 3, head: batch[1].hash });
  });

  it('rejects a malformed input and appends nothing from its batch', async () => {
    const { store } = await env.store();
    await assert.rejects(store.audit.append([input(1), { actor: { type: 'robot' as 'user', name: 'x' }, action: 'a' }]), TypeError);
    await assert.rejects(store.audit.append({ actor: { type: 'user', name: 'x' }, action: '' }), TypeError);
    await assert.rejects(store.audit.append({ ...input(1), data: { n: Number.NaN } }), TypeError);
    assert.deepEqual(await store.audit.list(), []);
    const [r] = await store.audit.append({ ...input(1), seq: 99, hash: 'forged' } as AuditInput);
    assert.equal(r.seq, 1, 'a caller cannot choose seq or hash');
    assert.equal((await store.audit.verify()).ok, true);
  });

  it('filters by time, actor, action, target and correlation ids', async () => {
    const { store } = await env.store();
    await store.audit.append([
      { time: T0, actor: { type: 'rule', name: 'crashloop' }, action: 'detection.opened', target: { cluster: 'prod', namespace: 'shop', kind: 'Pod', name: 'checkout-1' }, detectionId: 'd1' },
      { time: T0 + 1000, actor: { type: 'system', name: 'runbook-executor' }, action: 'runbook.step.started', target: { cluster: 'prod', namespace: 'shop', kind: 'Deployment', name: 'checkout' }, runId: 'r1', detectionId: 'd1' },
      { time: T0 + 2000, actor: { type: 'system', name: 'runbook-executor' }, action: 'runbook.step.succeeded', target: { cluster: 'prod', namespace: 'shop', kind: 'Deployment', name: 'checkout' }, runId: 'r1', outcome: 'success' },
      { time: T0 + 3000, actor: { type: 'user', name: 'alice' }, action: 'incident.opened', target: { cluster: 'staging' }, incidentId: 'i1' },
      { time: T0 + 4000, actor: { type: 'user', name: 'runbook-executor' }, action: 'silence.created', target: { namespace: 'Shop' } },
    ]);
    const seqs = async (q: Parameters<SqlStore['audit']['list']>[0]) => (await store.audit.list(q)).map((r) => r.seq);
    assert.deepEqual(await seqs({ since: T0 + 1000, until: T0 + 3000 }), [2, 3], 'since inclusive, until exclusive');
    assert.deepEqual(await seqs({ actor: 'runbook-executor' }), [2, 3, 5]);
    assert.deepEqual(await seqs({ actor: 'system:runbook-executor' }), [2, 3]);
    assert.deepEqual(await seqs({ actor: 'user:' }), [4, 5]);
    assert.deepEqual(await seqs({ action: 'runbook.step.started' }), [2]);
    assert.deepEqual(await seqs({ action: 'runbook.*' }), [2, 3]);
    assert.deepEqual(await seqs({ target: 'checkout' }), [1, 2, 3]);
    assert.deepEqual(await seqs({ target: 'shop' }), [1, 2, 3], 'target matching is case-sensitive on both stores');
    assert.deepEqual(await seqs({ target: 'Deploy' }), [2, 3]);
    assert.deepEqual(await seqs({ detectionId: 'd1' }), [1, 2]);
    assert.deepEqual(await seqs({ runId: 'r1', action: 'runbook.step.succeeded' }), [3]);
    assert.deepEqual(await seqs({ incidentId: 'i1' }), [4]);
    assert.deepEqual(await seqs({ afterSeq: 2, limit: 2 }), [3, 4]);
    assert.deepEqual(await seqs({ order: 'desc', limit: 2 }), [5, 4]);
  });

  it('iterates every record in pages, in order', async () => {
    const { store } = await env.store();
    await seed(store, 2500);
    let n = 0;
    for await (const r of store.audit.iterate()) assert.equal(r.seq, ++n);
    assert.equal(n, 2500);
    const some: number[] = [];
    for await (const r of store.audit.iterate({ afterSeq: 995, limit: 10 })) some.push(r.seq);
    assert.deepEqual(some, [996, 997, 998, 999, 1000, 1001, 1002, 1003, 1004, 1005]);
    const desc: number[] = [];
    for await (const r of store.audit.iterate({ order: 'desc', limit: 1003 })) desc.push(r.seq);
    assert.equal(desc.length, 1003);
    assert.deepEqual(desc.slice(-2), [1499, 1498]);
  });

  it('keeps one chain under concurrent appends from one process', async () => {
    const { store } = await env.store();
    await Promise.all(Array.from({ length: 20 }, (_, i) => store.audit.append(Array.from({ length: (i % 4) + 1 }, (_, j) => input(i * 10 + j)))));
    const all = await store.audit.list();
    assert.deepEqual(all.map((r) => r.seq), Array.from({ length: all.length }, (_, i) => i + 1));
    assert.equal(all.length, 50);
    assert.deepEqual(await store.audit.verify(), { ok: true, records: 50, head: all[49].hash });
  });

  it('is empty and valid before the first record', async () => {
    const { store } = await env.store();
    assert.deepEqual(await store.audit.verify(), { ok: true, records: 0, head: GENESIS_HASH });
  });

  // Tampering, done the way an insider with database access would: plain SQL.

  it('detects an edited record body and names it', async () => {
    const { store } = await env.store();
    await seed(store, 10);
    const [row] = await store.sql.query<{ record: string; id: string }>('SELECT record, id FROM audit_log WHERE seq = 4');
    await store.sql.exec('UPDATE audit_log SET record = ? WHERE seq = 4', [row.record.replace('"test.appended"', '"test.nothing-to-see"')]);
    const r = await store.audit.verify();
    assertBad(r, 4, /does not match its hash: it was edited/);
    assert.equal(!r.ok && r.firstBad.id, row.id);
    assert.equal(r.records, 3);
  });

  it('detects an edited indexed column and names it', async () => {
    const { store } = await env.store();
    await seed(store, 10);
    await store.sql.exec("UPDATE audit_log SET actor_name = 'mallory' WHERE seq = 6");
    assertBad(await store.audit.verify(), 6, /column actor_name \("mallory"\) does not match the hashed record \("test"\)/);
  });

  it('detects an edited time column', async () => {
    const { store } = await env.store();
    await seed(store, 5);
    await store.sql.exec('UPDATE audit_log SET time = time - 86400000 WHERE seq = 2');
    assertBad(await store.audit.verify(), 2, /column time/);
  });

  it('detects a deleted record in the middle and names its seq', async () => {
    const { store } = await env.store();
    await seed(store, 10);
    await store.sql.exec('DELETE FROM audit_log WHERE seq = 5');
    assertBad(await store.audit.verify(), 5, /record 5 is missing/);
  });

  it('detects deleted records at the end against the chain head', async () => {
    const { store } = await env.store();
    await seed(store, 10);
    await store.sql.exec('DELETE FROM audit_log WHERE seq >= 9');
    assertBad(await store.audit.verify(), 9, /records 9–10 are missing: the chain head says the log ends at seq 10/);
  });

  it('detects a deleted first record', async () => {
    const { store } = await env.store();
    await seed(store, 3);
    await store.sql.exec('DELETE FROM audit_log WHERE seq = 1');
    assertBad(await store.audit.verify(), 1, /record 1 is missing/);
  });

  it('detects reordered records (seqs swapped) and names the first', async () => {
    const { store } = await env.store();
    await seed(store, 10);
    await store.sql.exec('UPDATE audit_log SET seq = -1 WHERE seq = 3');
    await store.sql.exec('UPDATE audit_log SET seq = 3 WHERE seq = 7');
    await store.sql.exec('UPDATE audit_log SET seq = 7 WHERE seq = -1');
    assertBad(await store.audit.verify(), 3, /holds the hashed record of seq 7: records were reordered/);
  });

  it('detects a rewritten record even when every later hash and the head hash are recomputed', async () => {
    const { store } = await env.store();
    await seed(store, 6);
    // The insider re-chains from record 3 on, but cannot sign the new head without the key.
    const rows = await store.sql.query<{ seq: number; record: string }>('SELECT seq, record FROM audit_log ORDER BY seq');
    let prev = GENESIS_HASH;
    for (const row of rows) {
      const seq = Number(row.seq);
      const body = JSON.parse(row.record);
      if (seq === 3) body.data = { i: 'rewritten' };
      const text = canonicalJson(body);
      const hash = chainHash(prev, text);
      await store.sql.exec('UPDATE audit_log SET record = ?, prev_hash = ?, hash = ? WHERE seq = ?', [text, prev, hash, seq]);
      prev = hash;
    }
    await store.sql.exec('UPDATE audit_head SET hash = ? WHERE id = 1', [prev]);
    assertBad(await store.audit.verify(), 6, /chain head signature is invalid/);
  });

  it('detects a record inserted after the head', async () => {
    const { store } = await env.store();
    await seed(store, 3);
    const [last] = await store.sql.query<{ hash: string }>('SELECT hash FROM audit_log WHERE seq = 3');
    const body = { seq: 4, id: 'x', time: T0, actor: { type: 'user', name: 'mallory' }, action: 'cover.up' };
    const text = canonicalJson(body);
    await store.sql.exec(
      "INSERT INTO audit_log (seq, id, time, actor_type, actor_name, action, record, prev_hash, hash) VALUES (4, 'x', ?, 'user', 'mallory', 'cover.up', ?, ?, ?)",
      [T0, text, last.hash, chainHash(last.hash, text)],
    );
    assertBad(await store.audit.verify(), 4, /inserted outside kubemend/);
  });

  // Retention.

  it('prunes old records behind a signed checkpoint; verify continues from it', async () => {
    const { store, place } = await env.store();
    await seed(store, 10, (i) => T0 + i * DAY);
    const r = await store.audit.prune(T0 + 4 * DAY);
    assert.deepEqual(r, { removed: 3, checkpointSeq: 3 });
    assert.deepEqual((await store.audit.list()).map((x) => x.seq), [4, 5, 6, 7, 8, 9, 10]);
    const v = await store.audit.verify();
    assert.equal(v.ok, true);
    assert.equal(v.ok && v.fromCheckpoint, 3);
    assert.equal(v.records, 7);
    assert.deepEqual(await store.audit.prune(T0 + 4 * DAY), { removed: 0 }, 'pruning again removes nothing');
    await store.audit.append(input(11));
    assert.equal((await store.audit.verify()).ok, true);
    // A retention window relative to the injected clock.
    await place.clock.advance(12 * DAY);
    assert.deepEqual(await pruneExpired(store.audit, 5 * DAY, place.clock), { removed: 3, checkpointSeq: 6 });
    const v2 = await store.audit.verify();
    assert.equal(v2.ok && v2.fromCheckpoint, 6);
    assert.equal((await store.audit.checkpoints()).length, 2);
    // Deleting what a checkpoint covers, plus one more, is still caught.
    await store.sql.exec('DELETE FROM audit_log WHERE seq = 8');
    assertBad(await store.audit.verify(), 8, /record 8 is missing/);
  });

  it('prunes only a prefix, so backdated records never leave a gap', async () => {
    const { store } = await env.store();
    const times = [T0 + DAY, T0 + 2 * DAY, T0 + 5 * DAY, T0, T0 + 6 * DAY];
    await seed(store, 5, (i) => times[i - 1]);
    assert.deepEqual(await store.audit.prune(T0 + 3 * DAY), { removed: 2, checkpointSeq: 2 });
    assert.deepEqual((await store.audit.list()).map((x) => x.seq), [3, 4, 5], 'record 4 is old but follows a kept record, so it stays');
    assert.equal((await store.audit.verify()).ok, true);
    assert.deepEqual(await store.audit.prune(Infinity), { removed: 3, checkpointSeq: 5 });
    const v = await store.audit.verify();
    assert.equal(v.ok && v.records, 0);
    assert.equal(v.ok && v.fromCheckpoint, 5);
  });

  it('fails verification on a forged or altered checkpoint', async () => {
    const { store } = await env.store();
    await seed(store, 10, (i) => T0 + i * DAY);
    await store.audit.prune(T0 + 4 * DAY);
    // Hiding records 4–5 behind a checkpoint that claims more was pruned.
    const [r5] = await store.sql.query<{ hash: string }>('SELECT hash FROM audit_log WHERE seq = 5');
    await store.sql.exec('DELETE FROM audit_log WHERE seq <= 5');
    await store.sql.exec('UPDATE audit_checkpoints SET seq = 5, hash = ? WHERE seq = 3', [r5.hash]);
    assertBad(await store.audit.verify(), 5, /retention checkpoint at seq 5 has an invalid signature/);
    // The same, signed with the insider's own key: not a key this verifier trusts.
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const payload = { seq: 5, hash: r5.hash, time: T0, removed: 5 };
    const sig = sign(null, Buffer.from(checkpointMessage(payload)), privateKey).toString('base64');
    await store.sql.exec('UPDATE audit_checkpoints SET time = ?, removed = ?, key_id = ?, signature = ? WHERE seq = 5', [T0, 5, keyId(publicKey), sig]);
    assertBad(await store.audit.verify(), 5, /signed by untrusted key/);
  });

  it('refuses to prune a broken chain (KM-AUDIT-001)', async () => {
    const { store } = await env.store();
    await seed(store, 5);
    await store.sql.exec('DELETE FROM audit_log WHERE seq = 2');
    await assert.rejects(store.audit.prune(Infinity), (e: unknown) => e instanceof KubemendError && e.code === 'KM-AUDIT-001' && /seq 2/.test(e.message));
    assert.equal((await store.audit.list()).length, 4, 'nothing was pruned');
  });

  // Keys.

  it('verifies with only the public key, and needs one (KM-AUDIT-002)', async () => {
    const { store, place } = await env.store();
    await seed(store, 3);
    await store.audit.prune(T0 + 1500);
    await store.close();
    const auditor = mkdtempSync(join(tmpdir(), 'km-auditor-'));
    const keyless = await place.open({ keyFile: join(auditor, 'none.pem') });
    await assert.rejects(keyless.audit.verify(), (e: unknown) => e instanceof KubemendError && e.code === 'KM-AUDIT-002');
    const withPub = await place.open({ keyFile: join(auditor, 'none.pem'), trustedKeys: [join(place.dataDir, 'audit-key.pub.pem')] });
    const v = await withPub.audit.verify();
    assert.equal(v.ok, true);
    assert.equal(v.records, 2);
    const otherKey = join(auditor, 'other.pub.pem');
    writeFileSync(otherKey, generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }));
    const wrong = await place.open({ keyFile: join(auditor, 'none.pem'), trustedKeys: [otherKey] });
    const bad = await wrong.audit.verify();
    assert.equal(bad.ok, false);
    assert.match(!bad.ok ? bad.firstBad.reason : '', /untrusted key/);
  });

  // Export.

  it('masks credentials in free text before hashing: nothing of them is stored, and the chain still verifies', async () => {
    const { store } = await env.store();
    const secrets = ['hunter2-Correct-Horse', 'ghp_R8f2kLm9QzX4vB7nT1yW6cJ3hD5sA0pE2uGi', 'S3cr3tPassw0rd', 'Tr0ub4dor-3x', 'b64-Tail-Value-99'];
    const [rec] = await store.audit.append({
      actor: { type: 'user', name: 'alice' },
      action: 'chat.restart.requested',
      target: { cluster: 'prod', namespace: 'shop', kind: 'Deployment', name: 'checkout' },
      justification: 'pasted by mistake: DB_PASSWORD=hunter2-Correct-Horse',
      link: 'https://deploy:Tr0ub4dor-3x@tickets.example.com/OPS-1',
      diff: [{ op: 'replace', path: '/spec/template/spec/containers/0/args/0', value: '--db=postgres://app:S3cr3tPassw0rd@db:5432/shop' }],
      data: { output: { lines: ['cloning with ghp_R8f2kLm9QzX4vB7nT1yW6cJ3hD5sA0pE2uGi'] }, apiKey: 'b64-Tail-Value-99', room: '#ops' },
    });
    const raw = JSON.stringify(await store.sql.query('SELECT * FROM audit_log'));
    assert.ok(secrets.length === 5);
    for (const s of secrets) assert.ok(!raw.includes(s), `the audit table keeps ${s}`);
    assert.equal(rec.justification, 'pasted by mistake: DB_PASSWORD=[redacted]');
    assert.equal(rec.link, 'https://[redacted]@tickets.example.com/OPS-1');
    assert.deepEqual(rec.data, { output: { lines: ['cloning with [redacted]'] }, apiKey: '[redacted]', room: '#ops' });
    assert.deepEqual(rec.target, { cluster: 'prod', namespace: 'shop', kind: 'Deployment', name: 'checkout' });
    assert.equal(rec.hash, recomputeHash(rec), 'the hash covers the masked record');
    assert.deepEqual((await store.audit.list())[0], rec);
    assert.equal((await store.audit.verify()).ok, true);
  });

  it('exports JSON Lines exactly as stored, re-checkable offline', async () => {
    const { store } = await env.store();
    await store.audit.append([input(1, { justification: 'line\nbreak "quoted"', data: { emoji: '🚀', deep: { z: 1, a: [true, null, 1.5] } } }), input(2), input(3)]);
    const out = new PassThrough();
    let text = '';
    out.on('data', (d) => (text += d));
    assert.equal(await exportJsonl(store.audit, out), 3);
    const lines = text.trimEnd().split('\n');
    assert.equal(lines.length, 3);
    const stored = await store.audit.list();
    assert.deepEqual(lines.map((l) => JSON.parse(l)), stored);
    assert.deepEqual(checkJsonl(lines), { ok: true, records: 3 });
    const edited = [...lines];
    edited[1] = edited[1].replace('"test"', '"mallory"');
    assert.equal(checkJsonl(edited).ok, false);
  });
});
