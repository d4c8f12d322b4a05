// The checkpoint worker beside other processes: a process that leaves its
// store open still exits by itself.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SqliteDb } from '../../src/store/sqlite.ts';

const CHILD = fileURLToPath(new URL('./fixtures/checkpoint-child.ts', import.meta.url));
const fresh = () => join(mkdtempSync(join(tmpdir(), 'km-ckpt-p-')), 'kubemend.db');

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
