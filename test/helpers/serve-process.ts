// `kubemend serve` as a real child process, for the service's acceptance
// tests: start it, wait for lines, read its HTTP endpoints, stop it (SIGTERM)
// or kill it (SIGKILL, no clean-up).
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../bin/kubemend.js', import.meta.url));

export interface ServeProcess {
  child: ChildProcess;
  /** The base URL once it serves. */
  base: string;
  output(): string;
  waitFor(re: RegExp, what: string, ms?: number): Promise<RegExpExecArray>;
  /** SIGTERM, and the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL: no clean-up at all. */
  kill9(): Promise<void>;
}

export async function until<T>(what: string, fn: () => T | undefined | false | Promise<T | undefined | false>, ms: number, diag: () => string = () => ''): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms}ms waiting for ${what}\n${diag()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Spawns `kubemend serve ARGS` and waits until it serves. */
export async function startServe(args: string[], env: NodeJS.ProcessEnv = {}): Promise<ServeProcess> {
  const child = spawn(process.execPath, [BIN, 'serve', ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exit = once(child, 'exit') as Promise<[number | null]>;
  const output = () => out;
  const waitFor = (re: RegExp, what: string, ms = 60_000) => until(what, () => {
    if (child.exitCode !== null) throw new Error(`serve exited ${child.exitCode} while waiting for ${what}:\n${out}`);
    return re.exec(out) ?? undefined;
  }, ms, () => out);
  const base = (await waitFor(/kubemend serving on (http:\/\/\S+)/, 'the server to start'))[1];
  return {
    child,
    base,
    output,
    waitFor,
    async stop() {
      if (child.exitCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      const [code] = await exit;
      return code;
    },
    async kill9() {
      if (child.exitCode !== null) return;
      child.kill('SIGKILL');
      await exit;
    },
  };
}

/** A scrape of /metrics as { 'name{labels}': value }. */
export async function scrape(base: string): Promise<Map<string, number>> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const i = line.lastIndexOf(' ');
    out.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return out;
}

/** Sum of every series of a metric whose labels include all of `labels`. */
export function metric(m: Map<string, number>, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const [k, v] of m) {
    const [n, rest = ''] = k.split('{');
    if (n !== name) continue;
    if (Object.entries(labels).every(([lk, lv]) => rest.includes(`${lk}="${lv}"`))) sum += v;
  }
  return sum;
}
