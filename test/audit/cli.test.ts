// `kubemend audit …` as a user runs it: the real bin/kubemend.js in a child
// process, against a store seeded through the library, on SQLite (the data
// directory's file) and PostgreSQL (--db postgres://…).
import { it, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FileWitness, checkJsonl, type AuditRecord } from '../../src/audit/index.ts';
import { type SqlStore } from '../../src/store/index.ts';
import { forEachDialect, type Place } from './helpers.ts';

const BIN = fileURLToPath(new URL('../../bin/kubemend.js', import.meta.url));
const DAY = 86_400_000;

function cli(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const base = { ...process.env };
  delete base.KUBEMEND_DB;
  delete base.KUBEMEND_HOME;
  delete base.KUBEMEND_AUDIT_KEY;
  delete base.KUBEMEND_AUDIT_RETENTION;
  delete base.KUBEMEND_AUDIT_WITNESS;
  delete base.KUBEMEND_AUDIT_REQUIRE_KEY;
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env: { ...base, ...env }, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

const where = (p: Place) => ['--data-dir', p.dataDir, ...(p.db ? ['--db', p.db] : [])];

/** Real times: the CLI resolves "--since 7d" and retention windows against the wall clock. */
async function seed(store: SqlStore): Promise<AuditRecord[]> {
  const now = Date.now();
  return store.audit.append([
    { time: now - 60 * DAY, actor: { type: 'rule', name: 'crashloop' }, action: 'detection.opened', target: { cluster: 'prod', namespace: 'shop', kind: 'Pod', name: 'checkout-1' }, detectionId: 'd1' },
    { time: now - 40 * DAY, actor: { type: 'user', name: 'alice' }, action: 'chat.restart.requested', target: { cluster: 'prod', namespace: 'shop', kind: 'Deployment', name: 'checkout' }, justification: 'crash-looping', link: 'https://tickets.example.com/OPS-1', outcome: 'pending' },
    { time: now - 2 * DAY, actor: { type: 'system', name: 'runbook-executor' }, action: 'runbook.step.succeeded', target: { cluster: 'prod', namespace: 'shop', kind: 'Deployment', name: 'checkout' }, runId: 'r1', outcome: 'success' },
    { time: now - DAY, actor: { type: 'user', name: 'bob' }, action: 'silence.created', target: { cluster: 'staging', namespace: 'payments' } },
  ]);
}

forEachDialect((env) => {
  it('audit list prints a table, filters, and --json gives the stored records', async () => {
    const place = await env.place();
    const store = await place.open();
    const recs = await seed(store);
    const table = await cli(['audit', 'list', ...where(place)]);
    assert.equal(table.code, 0, table.stderr);
    const lines = table.stdout.trimEnd().split('\n');
    assert.match(lines[0], /SEQ\s+TIME\s+ACTOR\s+ACTION\s+STEP\s+TARGET\s+OUTCOME\s+DETAILS/);
    assert.equal(lines.length, 5);
    assert.match(lines[2], /user:alice\s+chat\.restart\.requested\s+-\s+prod\/shop\/Deployment\/checkout\s+pending\s+crash-looping https:\/\/tickets\.example\.com\/OPS-1/);

    const json = await cli(['audit', 'list', '--json', ...where(place)]);
    assert.deepEqual(JSON.parse(json.stdout), recs);
    // Each flag reaches the query (the filters themselves are covered in audit-log.test.ts).
    const pick = async (...args: string[]) => (JSON.parse((await cli(['audit', 'list', '--json', ...args, ...where(place)])).stdout) as AuditRecord[]).map((r) => r.seq);
    const [byWho, byTime, byLimit] = await Promise.all([
      pick('--actor', 'user:', '--action', 'chat.*', '--target', 'shop'),
      pick('--since', new Date(recs[1].time).toISOString(), '--until', '36h', '--run', 'r1'),
      pick('--since', '7d', '--limit', '1'),
    ]);
    assert.deepEqual(byWho, [2]);
    assert.deepEqual(byTime, [3]);
    assert.deepEqual(byLimit, [4], 'the newest N, oldest first');
  });

  it('audit verify exits 0 on a sound chain and 1 naming the first bad record', async () => {
    const place = await env.place();
    const store = await place.open();
    const recs = await seed(store);
    const ok = await cli(['audit', 'verify', ...where(place)]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, new RegExp(`^audit chain ok: 4 records, head ${recs[3].hash}\\n$`));

    await store.sql.exec("UPDATE audit_log SET record = replace(record, 'crash-looping', 'routine') WHERE seq = 2");
    const broken = await cli(['audit', 'verify', ...where(place)]);
    assert.equal(broken.code, 1);
    assert.match(broken.stdout, new RegExp(`audit chain BROKEN at seq 2 \\(id ${recs[1].id}\\): the record does not match its hash`));
    assert.match(broken.stdout, /1 records verified before it/);
    assert.match(broken.stdout, /stored record: \{.*"justification":"routine"/);
    assert.match(broken.stderr, /KM-AUDIT-001 audit chain broken at seq 2/);
    const asJson = await cli(['audit', 'verify', '--json', ...where(place)]);
    assert.equal(asJson.code, 1);
    assert.deepEqual(JSON.parse(asJson.stdout).firstBad, { seq: 2, id: recs[1].id, reason: 'the record does not match its hash: it was edited' });

    await store.sql.exec("UPDATE audit_log SET record = replace(record, 'routine', 'crash-looping') WHERE seq = 2");
    await store.sql.exec('DELETE FROM audit_log WHERE seq = 3');
    const deleted = await cli(['audit', 'verify', ...where(place)]);
    assert.equal(deleted.code, 1);
    assert.match(deleted.stdout, /BROKEN at seq 3: record 3 is missing: record 4 \(id [0-9a-f-]+\) follows record 2/);
  });

  it('audit export --format jsonl writes one stored record per line', async () => {
    const place = await env.place();
    const store = await place.open();
    const recs = await seed(store);
    const out = await cli(['audit', 'export', '--format', 'jsonl', ...where(place)]);
    assert.equal(out.code, 0, out.stderr);
    const lines = out.stdout.trimEnd().split('\n');
    assert.deepEqual(lines, recs.map((r) => JSON.stringify(r)));
    assert.deepEqual(checkJsonl(lines), { ok: true, records: 4 });

    const file = join(mkdtempSync(join(tmpdir(), 'km-export-')), 'audit.jsonl');
    const [toFile, incremental] = await Promise.all([
      cli(['audit', 'export', '--output', file, '--since', '7d', ...where(place)]),
      cli(['audit', 'export', '--after-seq', '3', ...where(place)]),
    ]);
    assert.equal(toFile.code, 0, toFile.stderr);
    assert.match(toFile.stderr, /exported 2 records/);
    assert.deepEqual(readFileSync(file, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l).seq), [3, 4]);
    assert.equal(incremental.stdout, `${JSON.stringify(recs[3])}\n`);
  });

  it('audit verify --witness (or $KUBEMEND_AUDIT_WITNESS) catches a truncated tail with a restored head; without one it passes and says so', async () => {
    const place = await env.place();
    const witness = join(mkdtempSync(join(tmpdir(), 'km-witness-')), 'heads.jsonl');
    const store = await place.open({ witnesses: [new FileWitness(witness)] });
    await seed(store);
    const [saved] = await store.sql.query<Record<string, string | number>>('SELECT seq, hash, time, key_id, signature FROM audit_head WHERE id = 1');
    await store.audit.append({ actor: { type: 'user', name: 'mallory' }, action: 'secret.read' });
    await store.audit.flush();
    const sound = await cli(['audit', 'verify', '--witness', witness, ...where(place)]);
    assert.equal(sound.code, 0, sound.stderr);
    assert.match(sound.stdout, new RegExp(`witness file ${witness}: 2 heads up to seq 5, every one in the chain\n`));

    await store.sql.exec('DELETE FROM audit_log WHERE seq = 5');
    await store.sql.exec('UPDATE audit_head SET seq = ?, hash = ?, time = ?, key_id = ?, signature = ? WHERE id = 1', [saved.seq, saved.hash, saved.time, saved.key_id, saved.signature]);
    const [flagged, fromEnv, blind] = await Promise.all([
      cli(['audit', 'verify', '--witness', `file:${witness}`, ...where(place)]),
      cli(['audit', 'verify', ...where(place)], { KUBEMEND_AUDIT_WITNESS: witness }),
      cli(['audit', 'verify', ...where(place)]),
    ]);
    for (const r of [flagged, fromEnv]) {
      assert.equal(r.code, 1, r.stdout);
      assert.match(r.stdout, /audit chain BROKEN at seq 5: record 5 is missing: the witness \(file .*\) saw the chain reach seq 5/);
      assert.match(r.stderr, /KM-AUDIT-001/);
    }
    assert.equal(blind.code, 0, 'the documented limit: a restored signed head verifies on its own');
    assert.match(blind.stderr, /note: no witness checked/);
  });

  it('audit prune --retention leaves a signed checkpoint that verify continues from', async () => {
    const place = await env.place();
    const store = await place.open();
    await seed(store);
    const pruned = await cli(['audit', 'prune', '--retention', '30d', ...where(place)]);
    assert.equal(pruned.code, 0, pruned.stderr);
    assert.equal(pruned.stdout, 'pruned 2 records; signed checkpoint at seq 2\n');
    assert.equal((await cli(['audit', 'prune', ...where(place)], { KUBEMEND_AUDIT_RETENTION: '30d' })).stdout, 'nothing to prune\n');
    const v = await cli(['audit', 'verify', ...where(place)]);
    assert.equal(v.code, 0, v.stdout + v.stderr);
    assert.match(v.stdout, /audit chain ok: 2 records, head [0-9a-f]{64}, continuing from the signed checkpoint at seq 2/);

    // An auditor holding only the public key.
    const auditorKey = join(mkdtempSync(join(tmpdir(), 'km-auditor-')), 'absent.pem');
    const [noKey, withPub] = await Promise.all([
      cli(['audit', 'verify', ...where(place)], { KUBEMEND_AUDIT_KEY: auditorKey }),
      cli(['audit', 'verify', '--public-key', join(place.dataDir, 'audit-key.pub.pem'), ...where(place)], { KUBEMEND_AUDIT_KEY: auditorKey }),
    ]);
    assert.equal(noKey.code, 1);
    assert.match(noKey.stderr, /KM-AUDIT-002/);
    assert.equal(withPub.code, 0, withPub.stderr);

    // Forging the checkpoint makes verify fail and name it.
    await store.sql.exec("UPDATE audit_checkpoints SET removed = 1 WHERE seq = 2");
    const forged = await cli(['audit', 'verify', ...where(place)]);
    assert.equal(forged.code, 1);
    assert.match(forged.stdout, /BROKEN at seq 2: retention checkpoint at seq 2 has an invalid signature/);
  });
});

test('an unreachable PostgreSQL is KM-STORE-001 with the URL, password hidden', { timeout: 120_000 }, async () => {
  const r = await cli(['audit', 'list', '--db', 'postgres://kubemend:s3cret@127.0.0.1:1/nowhere']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /KM-STORE-001 cannot connect to PostgreSQL at postgres:\/\/kubemend:\*\*\*@127\.0\.0\.1:1\/nowhere/);
  assert.doesNotMatch(r.stderr, /s3cret/);
});

test('bad flag values are KM-CLI-001 errors that say what is accepted', { timeout: 120_000 }, async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'km-audit-flags-'));
  const [since, format, noWindow, window, limit] = await Promise.all([
    cli(['audit', 'list', '--since', 'yesterday-ish', '--data-dir', dataDir]),
    cli(['audit', 'export', '--format', 'csv', '--data-dir', dataDir]),
    cli(['audit', 'prune', '--data-dir', dataDir]),
    cli(['audit', 'prune', '--retention', 'forever', '--data-dir', dataDir]),
    cli(['audit', 'list', '--limit', '0', '--data-dir', dataDir]),
  ]);
  for (const r of [since, format, noWindow, window, limit]) assert.equal(r.code, 1, r.stdout);
  assert.match(since.stderr, /KM-CLI-001 "yesterday-ish" is not a time; use RFC 3339/);
  assert.match(format.stderr, /KM-CLI-001 --format csv is not supported; use jsonl/);
  assert.match(noWindow.stderr, /KM-CLI-001 audit prune needs --retention \(e\.g\. 90d\)/);
  assert.match(window.stderr, /KM-CLI-001 "forever" is not a retention window/);
  assert.match(limit.stderr, /KM-CLI-001 "0" is not a limit/);
});
