// Every command that prints JSON or an export delivers all of it to a pipe
// whose reader is slow. The pipe (a FIFO, so a kernel pipe as in a shell's
// `… | jq`) is full before the command starts and the reader waits, so
// whatever the command writes is still queued in the process when it
// finishes: exiting without flushing loses it (issue 10: 64 KiB of a 175 KB
// `rules test --json`).
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, constants, createReadStream, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { openStore } from '../../src/store/index.ts';

const BIN = fileURLToPath(new URL('../../bin/kubemend.js', import.meta.url));
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'km-output-'));
const data = join(dir, 'data');
let fifos = 0;

interface Result { code: number | null; stdout: string; stderr: string; aliveWhileHeld: boolean }

/**
 * Resolves once the process `pid` has slept, using no CPU, for `quietMs`: the
 * command is done with its work and waits — here, on the full pipe. A fixed
 * hold is both slow on an idle machine and, on a busy one, over before the
 * command has finished (so proving nothing). Without /proc: `fallbackMs`.
 */
async function settled(pid: number, quietMs = 300, fallbackMs = 2500): Promise<void> {
  if (!existsSync('/proc/self/stat')) return sleep(fallbackMs);
  let last = '';
  let since = Date.now();
  for (;;) {
    await sleep(100);
    let f: string[];
    try {
      // After the command name: the main thread's state, …, then utime and stime of all threads (fields 14 and 15).
      f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    } catch {
      return; // it has exited
    }
    const sample = f[0] === 'S' ? `${f[11]}+${f[12]}` : '';
    if (!sample || sample !== last) {
      last = sample;
      since = Date.now();
    } else if (Date.now() - since >= quietMs && allAsleep(pid)) return;
  }
}

/** Every thread asleep: none runnable, so none is a worker that is only waiting for a CPU on a busy machine. */
function allAsleep(pid: number): boolean {
  try {
    return readdirSync(`/proc/${pid}/task`).every((t) => readFileSync(`/proc/${pid}/task/${t}/stat`, 'utf8').split(') ')[1]!.startsWith('S'));
  } catch {
    return true; // it has exited
  }
}

/**
 * Runs kubemend with stdout on a FIFO that is already full, and reads it only
 * after the command has exited or has finished its work and is waiting (or,
 * with `readerLeaves`, closes it unread then).
 */
async function runIntoFullPipe(args: string[], { entry = BIN, readerLeaves = false } = {}): Promise<Result> {
  const fifo = join(dir, `out-${fifos++}`);
  execFileSync('mkfifo', [fifo]);
  // O_RDWR opens a FIFO without waiting for the other end (Linux), so the
  // blocking opens below find both ends present.
  const filler = openSync(fifo, constants.O_RDWR | constants.O_NONBLOCK);
  const reader = openSync(fifo, constants.O_RDONLY);
  const writer = openSync(fifo, constants.O_WRONLY);
  let padding = 0;
  const page = Buffer.alloc(4096, ' ');
  for (;;) {
    try {
      padding += writeSync(filler, page);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EAGAIN') break;
      throw err;
    }
  }
  closeSync(filler);
  const child = spawn(process.execPath, [entry, ...args], { cwd: ROOT, stdio: ['ignore', writer, 'pipe'] });
  closeSync(writer);
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  await Promise.race([exited, settled(child.pid!)]);
  const aliveWhileHeld = child.exitCode === null && child.signalCode === null;
  if (readerLeaves) {
    closeSync(reader);
    return { code: await exited, stdout: '', stderr, aliveWhileHeld };
  }
  const chunks: Buffer[] = [];
  for await (const c of createReadStream('', { fd: reader })) chunks.push(c as Buffer);
  const all = Buffer.concat(chunks);
  assert.equal(all.subarray(0, padding).toString().trim(), '', 'the padding comes back first');
  return { code: await exited, stdout: all.subarray(padding).toString(), stderr, aliveWhileHeld };
}

const json = (r: Result) => {
  assert.equal(r.code, 0, r.stderr);
  assert.notEqual(r.stdout, '', 'no output arrived');
  return JSON.parse(r.stdout);
};

let runId: string;
let incidentId: string;

before(async () => {
  execFileSync(process.execPath, [BIN, 'demo', '--data-dir', data], { cwd: ROOT, stdio: 'ignore' });
  // The ids only: read from the store in this process rather than by two more commands.
  const store = await openStore({ dataDir: data });
  try {
    runId = (await store.listRuns({}))[0]!.id;
    incidentId = (await store.listIncidents({}))[0]!.id;
  } finally {
    await store.close();
  }
});

// Each test has its own pipes, and the commands only read the data directory: they run side by side
// (so the suite's timeout is that of its longest test).
describe('output to a slow reader', { concurrency: true, timeout: 120_000 }, () => {
  test('a finished command waits for a slow reader instead of exiting with its output queued', { timeout: 120_000 }, async () => {
    // `npm run demo|sandbox` start src/cli/main.ts without the launcher.
    const [r, direct] = await Promise.all([
      runIntoFullPipe(['scenarios', 'list', '--json']),
      runIntoFullPipe(['scenarios', 'list', '--json'], { entry: join(ROOT, 'src/cli/main.ts') }),
    ]);
    assert.ok(r.aliveWhileHeld, 'exited while its output could not be written yet');
    assert.ok(json(r).some((s: { name: string }) => s.name === 'crashloop'));
    assert.ok(direct.aliveWhileHeld);
    assert.deepEqual(json(direct), json(r));
  });

  test('a reader that goes away (`… | head`) ends the command quietly', { timeout: 120_000 }, async () => {
    const r = await runIntoFullPipe(['scenarios', 'list', '--json'], { readerLeaves: true });
    assert.equal(r.stderr, '');
    assert.equal(r.code, 0);
  });

  test('rules test --json: the whole detection report (far more than a pipe buffer)', { timeout: 120_000 }, async () => {
    const r = await runIntoFullPipe(['rules', 'test', 'rules', '--scenario', 'event-storm', '--json']);
    const report = json(r);
    assert.equal(report.scenario, 'event-storm');
    assert.ok(report.detections.length > 0);
    assert.ok(r.stdout.length > 65_536, `only ${r.stdout.length} bytes: not a test of a full pipe`);
  });

  test('audit list --json, audit export (jsonl) and audit verify --json', { timeout: 120_000 }, async () => {
    const [list, exported, verify] = await Promise.all([
      runIntoFullPipe(['audit', 'list', '--json', '--limit', '100000', '--data-dir', data]),
      runIntoFullPipe(['audit', 'export', '--format', 'jsonl', '--data-dir', data]),
      runIntoFullPipe(['audit', 'verify', '--json', '--data-dir', data]),
    ]);
    const records = json(list) as { seq: number }[];
    assert.ok(records.length > 10);
    assert.equal(exported.code, 0, exported.stderr);
    const lines = exported.stdout.split('\n');
    assert.equal(lines.pop(), '', 'the export ends with a newline');
    assert.deepEqual(lines.map((l) => (JSON.parse(l) as { seq: number }).seq), records.map((r) => r.seq));
    assert.equal(json(verify).ok, true);
  });

  test('runs list/show --json', { timeout: 120_000 }, async () => {
    const [list, show] = await Promise.all([
      runIntoFullPipe(['runs', 'list', '--json', '--data-dir', data]),
      runIntoFullPipe(['runs', 'show', runId, '--json', '--data-dir', data]),
    ]);
    assert.ok(json(list).some((r: { id: string }) => r.id === runId));
    const shown = json(show);
    assert.equal(shown.run.id, runId);
    assert.ok(shown.transitions.length > 0);
  });

  test('incidents list/show --json and postmortem (json and Markdown)', { timeout: 120_000 }, async () => {
    const [list, show, pmJson, pmMd] = await Promise.all([
      runIntoFullPipe(['incidents', 'list', '--json', '--data-dir', data]),
      runIntoFullPipe(['incidents', 'show', incidentId, '--json', '--data-dir', data]),
      runIntoFullPipe(['incidents', 'postmortem', incidentId, '--format', 'json', '--data-dir', data]),
      runIntoFullPipe(['incidents', 'postmortem', incidentId, '--data-dir', data]),
    ]);
    assert.ok(json(list).some((i: { id: string }) => i.id === incidentId));
    assert.equal(json(show).incident.id, incidentId);
    assert.equal(json(pmJson).incident.id, incidentId);
    assert.equal(pmMd.code, 0, pmMd.stderr);
    assert.match(pmMd.stdout, /^# Post-mortem \(draft\): /);
    // The appendix is the draft's last section: its presence means the end arrived.
    assert.match(pmMd.stdout, /## Appendix: audit trail[\s\S]*\n$/);
  });

  test('silence list --json', { timeout: 120_000 }, async () => {
    assert.deepEqual(json(await runIntoFullPipe(['silence', 'list', '--json', '--data-dir', data])), []);
  });
});
