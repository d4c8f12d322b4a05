// The checkpoint worker beside other processes: a process that leaves its
// store open still exits by itself; a reader in another process (`kubemend
// audit verify` in another shell) neither holds up the writer through the
// worker's truncation nor makes it count truncations that did not happen.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SqliteDb } from '../../src/store/sqlite.ts';

const CHILD = fileURLToPath(new URL('./fixtures/checkpoint-child.ts', import.meta.url));
const fresh = () => join(mkdtempSync(join(tmpdir(), 'km-ckpt-p-')), 'kubemend.db');
const walBytes = (path: string) => (existsSync(`${path}-wal`) ? statSync(`${path}-wal`).size : 0);

/** Starts the fixture; resolves once it printed `line`, with a promise of its exit. */
async function child(args: string[], line: string): Promise<{ exited: Promise<number | null>; kill: () => void }> {
  const c = spawn(process.execPath, [CHILD, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  c.stderr.on('data', (d: Buffer) => (err += d));
  const exited = new Promise<number | null>((r) => c.on('exit', (code) => r(code)));
  await new Promise<void>((resolve, reject) => {
    c.stdout.on('data', (d: Buffer) => {
      out += d;
      if (out.includes(line)) resolve();
    });
    void exited.then((code) => reject(new Error(`the ${args[0]} child exited (${code}) before "${line}": ${err}`)));
  });
  return { exited, kill: () => c.kill('SIGKILL') };
}

async function until(what: string, fn: () => boolean, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('a process that leaves its store open, with the checkpoint worker running, still exits by itself; nothing is lost', { timeout: 60_000 }, async () => {
  const path = fresh();
  const c = await child(['leave-open', path], 'left open');
  const ended = await Promise.race([c.exited, new Promise<'still running'>((r) => setTimeout(() => r('still running'), 10_000))]);
  if (ended === 'still running') c.kill();
  assert.equal(ended, 0, 'the process ended by itself, its event loop empty');
  const db = new SqliteDb(path, { checkpointer: false });
  const [{ n }] = await db.query<{ n: number }>('SELECT COUNT(*) AS n FROM t');
  assert.equal(Number(n), 40);
  const [{ integrity_check }] = await db.query<{ integrity_check: string }>('PRAGMA integrity_check');
  assert.equal(integrity_check, 'ok');
  await db.close();
});

/** A writer whose WAL passes the worker's truncation bound while another process holds a read transaction. */
async function beside(holdMs: number) {
  const path = fresh();
  // The writer waits one second for the write lock, the worker far longer: a worker that waits for the reader while holding the lock fails the writer.
  const db = new SqliteDb(path, { busyTimeoutMs: 1_000, checkpointer: { afterWrites: 1, intervalMs: 20, truncateBytes: 64 * 1024, busyTimeoutMs: 30_000 } });
  await db.exec('CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT)');
  const reader = await child(['reader', path, String(holdMs)], 'reading');
  let worst = 0;
  let k = 0;
  const writes = async (ms: number) => {
    const end = Date.now() + ms;
    while (Date.now() < end) {
      const t0 = Date.now();
      await db.transaction(async (tx) => {
        for (let i = 0; i < 10; i++) await tx.exec('INSERT INTO t (k, v) VALUES (?, ?)', [k++, 'x'.repeat(1024)]);
      });
      worst = Math.max(worst, Date.now() - t0);
      await new Promise((r) => setTimeout(r, 5));
    }
  };
  return { path, db, reader, writes, worst: () => worst, rows: () => k };
}

test('a reader in another process does not hold up the writer through the worker\'s truncation', { timeout: 60_000 }, async (t) => {
  const w = await beside(5_000);
  try {
    await w.writes(4_000);
    assert.ok(walBytes(w.path) > 64 * 1024, 'the WAL passed the truncation bound while the reader held it');
    t.diagnostic(`the slowest transaction took ${w.worst()} ms`);
  } finally {
    w.reader.kill();
    await w.db.close();
  }
});

test('a truncation the reader prevented is not counted; once the reader is gone, the WAL is truncated', { timeout: 60_000 }, async () => {
  const w = await beside(3_000);
  const ck = w.db.walCheckpointer!;
  try {
    await w.writes(2_000);
    assert.ok(walBytes(w.path) > 64 * 1024, 'the WAL passed the truncation bound');
    assert.equal(ck.stats.truncations, 0, 'no truncation while the reader holds the WAL');
    assert.ok(ck.stats.frames >= 0, `frames moved: ${ck.stats.frames}`);
    assert.equal(await w.reader.exited, 0);
    await until('a truncation', () => ck.stats.truncations > 0);
    assert.ok(walBytes(w.path) <= 64 * 1024, 'the WAL is back under its bound');
    assert.equal(ck.stats.lastError, undefined);
  } finally {
    w.reader.kill();
    await w.db.close();
  }
  const again = new SqliteDb(w.path, { checkpointer: false });
  const [{ n }] = await again.query<{ n: number }>('SELECT COUNT(*) AS n FROM t');
  assert.equal(Number(n), w.rows());
  await again.close();
});
