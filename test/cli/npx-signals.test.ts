// `npx kubemend sandbox` runs as npm → sh -c → node. Stopping the npx
// process a user (or a process manager) started must stop kubemend too
// (issue 10): npm hands SIGTERM only to the shell, which dies without passing
// it on, and nobody passes SIGHUP on.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = join(ROOT, 'bin/kubemend.js');
const dir = mkdtempSync(join(tmpdir(), 'km-npx-'));
const hasNpx = (() => {
  try {
    execFileSync('npx', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
const skip = process.platform === 'win32' ? 'POSIX signals' : hasNpx ? false : 'npx is not on PATH';

interface Proc { pid: number; ppid: number; args: string }

function processes(): Proc[] {
  return execFileSync('ps', ['-eo', 'pid=,ppid=,args='], { encoding: 'utf8' }).split('\n').filter(Boolean).map((l) => {
    const m = /^\s*(\d+)\s+(\d+)\s+(.*)$/.exec(l)!;
    return { pid: Number(m[1]), ppid: Number(m[2]), args: m[3] };
  });
}

/** `root` and every process below it. */
function tree(root: number): Proc[] {
  const all = processes();
  const found = all.filter((p) => p.pid === root);
  for (let i = 0; i < found.length; i++) found.push(...all.filter((p) => p.ppid === found[i].pid));
  return found;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function until(cond: () => boolean, ms: number): Promise<boolean> {
  for (const t0 = Date.now(); Date.now() - t0 < ms; await sleep(100)) if (cond()) return true;
  return cond();
}

/** `npx kubemend sandbox` from the project, up and listening; `chain` is npx and everything it started. */
async function startNpxSandbox(name: string): Promise<{ npx: ChildProcess; chain: Proc[]; output: () => string }> {
  // Its own process group, so a "Ctrl-C" can go to the group without hitting this test.
  const npx = spawn('npx', ['--offline', 'kubemend', 'sandbox', '--port', '0', '--kubeconfig-out', join(dir, `${name}.kubeconfig`)], { cwd: ROOT, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  npx.stdout!.on('data', (d) => (out += d));
  npx.stderr!.on('data', (d) => (out += d));
  if (!(await until(() => /listening on http/.test(out) || npx.exitCode !== null, 60_000))) throw new Error(`npx kubemend sandbox did not start:\n${out}`);
  assert.match(out, /listening on http/, out);
  return { npx, chain: tree(npx.pid!), output: () => out };
}

// Each test has its own npx (in its own process group), sandbox and port: they run side by side.
describe('npx kubemend and signals', { concurrency: true, timeout: 120_000 }, () => {
  for (const [signal, toGroup] of [['SIGTERM', false], ['SIGHUP', false], ['SIGINT', true]] as const) {
    test(`${signal} to ${toGroup ? 'the npx process group (Ctrl-C)' : 'the npx process'} stops kubemend`, { skip }, async () => {
      const { npx, chain, output } = await startNpxSandbox(signal);
      const kubemend = chain.find((p) => /kubemend(\.js)? sandbox/.test(p.args) && !/^(npm|sh|\/bin\/sh)\b/.test(p.args) && p.pid !== npx.pid);
      try {
        assert.ok(kubemend, `no kubemend process under npx:\n${chain.map((p) => `${p.pid} ${p.ppid} ${p.args}`).join('\n')}`);
        process.kill(toGroup ? -npx.pid! : npx.pid!, signal);
        const gone = await until(() => chain.every((p) => !alive(p.pid)), 5000);
        assert.ok(gone, `still running ${signal === 'SIGINT' ? '' : 'after npx was stopped'}: ${chain.filter((p) => alive(p.pid)).map((p) => `${p.pid} ${p.args}`).join('; ')}`);
        if (signal === 'SIGTERM') assert.match(output(), /sandbox stopped/, 'kubemend shut down cleanly');
      } finally {
        for (const p of chain) if (alive(p.pid)) process.kill(p.pid, 'SIGKILL');
      }
    });
  }

  test('outside npm, a kubemend whose parent exits keeps running (nohup kubemend … &)', { skip: process.platform === 'win32' ? 'POSIX' : false, timeout: 60_000 }, async () => {
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('npm_')));
    const log = join(dir, 'orphan.log');
    // The shell leaves only once kubemend is up, so kubemend sees its parent go.
    const script = `"$0" "$1" sandbox --port 0 --kubeconfig-out "$2" > "$3" 2>&1 & echo $!; until grep -q listening "$3"; do sleep 0.1; done`;
    // Not execFileSync: the tests beside this one keep polling while the shell waits.
    const pid = Number((await promisify(execFile)('sh', ['-c', script, process.execPath, BIN, join(dir, 'orphan.kubeconfig'), log], { env, encoding: 'utf8', timeout: 30_000 })).stdout.trim());
    try {
      assert.match(readFileSync(log, 'utf8'), /listening on http/);
      await sleep(2500);
      assert.doesNotMatch(readFileSync(log, 'utf8'), /sandbox stopped/, 'stopped although nobody asked it to');
      assert.ok(alive(pid));
      process.kill(pid, 'SIGTERM');
      assert.ok(await until(() => !alive(pid), 5000));
      assert.match(readFileSync(log, 'utf8'), /sandbox stopped/);
    } finally {
      if (alive(pid)) process.kill(pid, 'SIGKILL');
    }
  });
});
