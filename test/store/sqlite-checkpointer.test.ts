// The WAL checkpoint worker (src/store/sqlite-checkpointer.ts): a busy store
// hands its checkpoints to a worker thread and keeps its own only as a
// backstop; a short-lived store never starts one; a worker that dies gives
// the checkpoints back; close() leaves no WAL behind; nothing written is lost.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteDb } from '../../src/store/sqlite.ts';
import { metricsRegistry } from '../../src/common/metrics.ts';

async function counted(outcome: string): Promise<number> {
  const m = await metricsRegistry.getSingleMetric('kubemend_sqlite_checkpoints_total')!.get();
  return m.values.find((v) => v.labels.outcome === outcome)?.value ?? 0;
}

const fresh = () => join(mkdtempSync(join(tmpdir(), 'km-ckpt-')), 'kubemend.db');

async function autocheckpoint(db: SqliteDb): Promise<number> {
  const [r] = await db.query<{ wal_autocheckpoint: number }>('PRAGMA wal_autocheckpoint');
  return Number(r.wal_autocheckpoint);
}

/** Writes `n` transactions of 20 rows of ~1 KiB. */
async function write(db: SqliteDb, n: number, from = 0): Promise<void> {
  for (let t = 0; t < n; t++) {
    await db.transaction(async (tx) => {
      for (let i = 0; i < 20; i++) await tx.exec('INSERT INTO t (k, v) VALUES (?, ?)', [(from + t) * 20 + i, 'x'.repeat(1024)]);
    });
  }
}

async function until(what: string, fn: () => boolean | Promise<boolean>, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('a busy store checkpoints on a worker thread; its own checkpoint stays only as a backstop; close() leaves no WAL and loses nothing', { timeout: 60_000 }, async () => {
  const path = fresh();
  const db = new SqliteDb(path, { checkpointer: { afterWrites: 10, intervalMs: 20 } });
  await db.exec('CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT)');
  const ck = db.walCheckpointer!;
  const before = await counted('checkpointed');
  assert.equal(await autocheckpoint(db), 1000, 'SQLite\'s default before the worker');
  await write(db, 8);
  assert.equal(ck.stats.running, false, 'not started below the threshold');
  await write(db, 200, 8);
  assert.equal(ck.stats.running, true);
  assert.equal(await autocheckpoint(db), 16_384, 'the backstop while the worker runs');
  await until('the worker to checkpoint', () => ck.stats.frames > 0);
  assert.equal(ck.stats.lastError, undefined);
  assert.ok((await counted('checkpointed')) > before, 'counted in kubemend_sqlite_checkpoints_total');
  await db.close();
  assert.equal(existsSync(`${path}-wal`) && statSync(`${path}-wal`).size > 0, false, 'the WAL was checkpointed and removed at close');
  assert.equal(ck.thread, undefined, 'the worker is gone');
  const again = new SqliteDb(path, { checkpointer: false });
  const [{ n }] = await again.query<{ n: number }>('SELECT COUNT(*) AS n FROM t');
  assert.equal(Number(n), 208 * 20);
  await again.close();
});

test('a worker that dies gives the checkpoints back to the connection; one that cannot keep up truncates the WAL', { timeout: 60_000 }, async () => {
  const db = new SqliteDb(fresh(), { checkpointer: { afterWrites: 1, intervalMs: 20, truncateBytes: 64 * 1024 } });
  await db.exec('CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT)');
  const ck = db.walCheckpointer!;
  const died = await counted('worker_died');
  await write(db, 50);
  await until('a truncation', () => ck.stats.truncations > 0);
  await ck.thread!.terminate();
  await until('the worker to be gone', () => !ck.stats.running);
  assert.match(String(ck.stats.lastError), /exited with code 1/);
  assert.equal(await counted('worker_died'), died + 1);
  assert.equal(await autocheckpoint(db), 1000, 'SQLite\'s own checkpoints again');
  await write(db, 5, 50);
  await db.close();
});

test('options passed as undefined keep their defaults: the worker starts at the 32nd write', { timeout: 30_000 }, async () => {
  const db = new SqliteDb(fresh(), { busyTimeoutMs: undefined, checkpointer: { afterWrites: undefined, intervalMs: undefined } });
  await db.exec('CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT)');
  await write(db, 30);
  assert.equal(db.walCheckpointer!.stats.running, false, 'not before the 32nd');
  await write(db, 1, 30);
  assert.equal(db.walCheckpointer!.stats.running, true);
  await db.close();
});

test('a store that writes little never starts a worker; an in-memory one has none', { timeout: 30_000 }, async () => {
  const db = new SqliteDb(fresh());
  await db.exec('CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT)');
  await write(db, 5);
  assert.equal(db.walCheckpointer!.stats.running, false);
  await db.close();
  const mem = new SqliteDb(':memory:');
  assert.equal(mem.walCheckpointer, undefined);
  await mem.close();
});

test('a database deleted before the worker starts: the worker never makes a new empty file in its place; the store checkpoints itself again and says why', { timeout: 30_000 }, async () => {
  const path = fresh();
  const db = new SqliteDb(path, { checkpointer: { afterWrites: 5, intervalMs: 20 } });
  await db.exec('CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT)');
  await write(db, 2);
  rmSync(path);
  const warnings: Error[] = [];
  const onWarning = (w: Error) => warnings.push(w);
  process.on('warning', onWarning);
  try {
    await write(db, 5, 2);
    const ck = db.walCheckpointer!;
    await until('the worker to be gone', () => !ck.stats.running);
    assert.match(String(ck.stats.lastError), /exited with code 1 \(its last error: unable to open database file\)/);
    assert.equal(existsSync(path), false, 'no new database at the path');
    assert.equal(await autocheckpoint(db), 1000);
    await until('the warning', () => warnings.some((w) => (w as { code?: string }).code === 'KUBEMEND_SQLITE_CHECKPOINTER'));
  } finally {
    process.off('warning', onWarning);
    await db.close();
  }
});
