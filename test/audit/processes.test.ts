// Real processes against one store: a writer killed with SIGKILL mid-burst
// loses no committed record and leaves a verifiable chain; two writers
// appending at once (migrating the fresh database at once, too) produce one
// linear chain holding every record of both — also when each appends from
// many tasks at once, so that its appends go in as group commits.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { openStore } from '../../src/store/index.ts';
import { forEachDialect, type Place } from './helpers.ts';

const WRITER = fileURLToPath(new URL('./fixtures/writer.ts', import.meta.url));

interface Writer {
  child: ChildProcessWithoutNullStreams;
  lines: string[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  waitFor(pred: (lines: string[]) => boolean, what: string, ms?: number): Promise<void>;
  stderr(): string;
}

function startWriter(place: Place, tag: string, count: number, maxBatch: number, concurrency?: number): Writer {
  const child = spawn(process.execPath, [WRITER, JSON.stringify({ dataDir: place.dataDir, db: place.db, tag, count, maxBatch, concurrency })], { stdio: ['pipe', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let partial = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => {
    const parts = (partial + d.toString()).split('\n');
    partial = parts.pop() ?? '';
    lines.push(...parts);
  });
  child.stderr.on('data', (d: Buffer) => (err += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.on('exit', (code, signal) => r({ code, signal })));
  return {
    child,
    lines,
    exited,
    stderr: () => err,
    async waitFor(pred, what, ms = 60_000) {
      const t0 = Date.now();
      while (!pred(lines)) {
        if (child.exitCode !== null || child.signalCode !== null) throw new Error(`writer ${tag} exited before ${what}: ${err}`);
        if (Date.now() - t0 > ms) throw new Error(`writer ${tag}: timed out waiting for ${what}; stderr: ${err}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    },
  };
}

const committed = (lines: string[]) => lines.filter((l) => l.startsWith('committed ')).map((l) => Number(l.split(' ')[1]));

forEachDialect((env) => {
  it('loses no committed record when the writer is SIGKILLed mid-burst', async () => {
    const place = await env.place();
    const w = startWriter(place, 'crash', 0, 40);
    try {
      await w.waitFor((l) => l.includes('ready'), 'ready');
      w.child.stdin.write('go\n');
      await w.waitFor((l) => committed(l).length >= 30, '30 committed batches');
    } finally {
      w.child.kill('SIGKILL');
    }
    const exit = await w.exited;
    assert.equal(exit.signal, 'SIGKILL');
    const seen = committed(w.lines);
    const store = await openStore({ dataDir: place.dataDir, db: place.db, clock: place.clock });
    try {
      const v = await store.audit.verify();
      assert.equal(v.ok, true, JSON.stringify(v));
      const seqs = new Set((await store.audit.list()).map((r) => r.seq));
      for (const s of seen) assert.ok(seqs.has(s), `committed seq ${s} survived`);
      assert.ok(v.records >= Math.max(...seen), 'at least every reported record is there');
      // The store stays writable after the crash.
      await store.audit.append({ actor: { type: 'system', name: 'test' }, action: 'after.crash' });
      assert.equal((await store.audit.verify()).ok, true);
    } finally {
      await store.close();
    }
  });

  it('two processes appending at once keep one consistent chain', async (t) => {
    const place = await env.place();
    const count = 400;
    const writers = [startWriter(place, 'alpha', count, 6), startWriter(place, 'beta', count, 6)];
    try {
      await Promise.all(writers.map((w) => w.waitFor((l) => l.includes('ready'), 'ready')));
      for (const w of writers) w.child.stdin.write('go\n');
      const exits = await Promise.all(writers.map((w) => w.exited));
      exits.forEach((e, i) => assert.deepEqual(e, { code: 0, signal: null }, writers[i].stderr()));
    } finally {
      for (const w of writers) if (w.child.exitCode === null) w.child.kill('SIGKILL');
    }
    const store = await openStore({ dataDir: place.dataDir, db: place.db, clock: place.clock });
    try {
      const v = await store.audit.verify();
      assert.deepEqual(v.ok && v.records, 2 * count, JSON.stringify(v));
      const all = await store.audit.list();
      assert.deepEqual(all.map((r) => r.seq), Array.from({ length: 2 * count }, (_, i) => i + 1), 'one gap-free sequence');
      for (const tag of ['alpha', 'beta']) {
        const mine = all.filter((r) => r.data?.tag === tag).map((r) => r.data?.i);
        assert.deepEqual(mine, Array.from({ length: count }, (_, i) => i), `${tag}: every record, in its own order`);
      }
      // Each writer's reported seqs are exactly where its batches ended.
      for (const w of writers) for (const s of committed(w.lines)) assert.equal(all[s - 1].actor.name, w === writers[0] ? 'alpha' : 'beta');
      let switches = 0;
      for (let i = 1; i < all.length; i++) if (all[i].actor.name !== all[i - 1].actor.name) switches++;
      t.diagnostic(`${env.name}: the two writers' batches interleaved ${switches} times`);
    } finally {
      await store.close();
    }
  });

  it('two processes each group-committing concurrent appends keep one chain, each in its own call order', async (t) => {
    const place = await env.place();
    const count = 300;
    const writers = [startWriter(place, 'alpha', count, 1, 8), startWriter(place, 'beta', count, 1, 8)];
    try {
      await Promise.all(writers.map((w) => w.waitFor((l) => l.includes('ready'), 'ready')));
      for (const w of writers) w.child.stdin.write('go\n');
      const exits = await Promise.all(writers.map((w) => w.exited));
      exits.forEach((e, i) => assert.deepEqual(e, { code: 0, signal: null }, writers[i].stderr()));
    } finally {
      for (const w of writers) if (w.child.exitCode === null) w.child.kill('SIGKILL');
    }
    const store = await openStore({ dataDir: place.dataDir, db: place.db, clock: place.clock });
    try {
      const v = await store.audit.verify();
      assert.deepEqual(v.ok && v.records, 2 * count, JSON.stringify(v));
      const all = await store.audit.list();
      assert.deepEqual(all.map((r) => r.seq), Array.from({ length: 2 * count }, (_, i) => i + 1), 'one gap-free sequence');
      for (const [k, tag] of ['alpha', 'beta'].entries()) {
        const mine = all.filter((r) => r.data?.tag === tag).map((r) => r.data?.i);
        assert.deepEqual(mine, Array.from({ length: count }, (_, i) => i), `${tag}: every record, in the order its appends were called`);
        const stats = writers[k].lines.find((l) => l.startsWith('groups '))?.split(' ').map(Number);
        assert.ok(stats, `${tag} reported its transactions`);
        assert.equal(stats[2], count);
        assert.ok(stats[1] < count, `${tag}: ${count} single appends from 8 tasks took ${stats[1]} transactions`);
        t.diagnostic(`${env.name}: ${tag} committed ${count} records in ${stats[1]} transactions`);
      }
    } finally {
      await store.close();
    }
  });
});
