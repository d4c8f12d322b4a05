// Shared by the conformance tests: a sandbox served over HTTP, a kubeconfig
// file for it, and the three kinds of client nobody here wrote — kubectl,
// Debian's Python client and raw HTTP — pointed at it.
//
//   const c = await startConformance();            // or startConformance({ sandbox }) for one you built
//   const r = await c.kubectl(['get', 'pods', '-o', 'json']);    // { code, stdout, stderr }
//   const p = await c.python('import kubernetes ...');           // KUBECONFIG is set for it
//   const h = await c.http('GET', '/api/v1/nodes');               // { status, headers, text, json() }
//   await c.close();
//
//   startScenario('memory-cascade')   a shipped scenario played to its end, then served, frozen
//   startEveryKind()                  one of every kind (fixtures/every-kind.yaml) after 10 virtual minutes
//   needs('python3-kubernetes')       a test's `skip` option (see below)
//   meaning(obj)                      an object to compare: no resourceVersion/managedFields, times alike
//
// Clients run as child processes and must not block the event loop: the API
// server answers them from this very process. Tools the conformance suite
// needs are installed by .ci/run; a missing one fails the test file with a
// message naming the Debian package, unless KUBEMEND_SKIP_MISSING_TOOLS=1 asks
// to skip instead (for a quick local run without them). This is stricter than
// the NO_ALERTMANAGER convention (skip, saying how to install) on purpose:
// the conformance suite must run in CI.
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ManualClock } from '../../src/common/clock.ts';
import { Sandbox, type SandboxOptions } from '../../src/sandbox/cluster.ts';
import { listScenarios, playFast, type FastPlay } from '../../src/sandbox/scenarios/index.ts';

export const KUBECTL = '/usr/bin/kubectl';
/** Debian's python3: the pyenv one on PATH cannot see python3-kubernetes. */
export const PYTHON = '/usr/bin/python3';

export const NO_PYTHON_KUBERNETES = `Debian's python3-kubernetes is not importable by ${PYTHON}: `
  + 'install it with `apt-get install -y --no-install-recommends python3-kubernetes` (.ci/run does), '
  + 'or set KUBEMEND_SKIP_MISSING_TOOLS=1 to skip the tests that need it';
export const NO_KUBECTL = `kubectl is not at ${KUBECTL}: install the kubectl package (1.32), `
  + 'or set KUBEMEND_SKIP_MISSING_TOOLS=1 to skip the tests that need it';

// Probed on first need, not at import: the Python probe costs most of a CPU-second, and most files that
// import this harness (kubectl and HTTP checks, the deploy/ tests through cluster.ts) never ask for Python.
let hasPython: boolean | undefined;
let hasKubectl: boolean | undefined;
const probe = (file: string, args: string[]) => spawnSync(file, args, { stdio: 'ignore' }).status === 0;

/**
 * The `skip` option for a test that needs a tool: false when it is there.
 * When it is missing the test must not pass quietly, so this throws (failing
 * the file with the message) unless KUBEMEND_SKIP_MISSING_TOOLS=1, when the
 * message becomes the skip reason.
 */
export function needs(tool: 'python3-kubernetes' | 'kubectl'): false | string {
  if (tool === 'kubectl') return gate(hasKubectl ??= probe(KUBECTL, ['version', '--client']), NO_KUBECTL);
  return gate(hasPython ??= probe(PYTHON, ['-c', 'import kubernetes']), NO_PYTHON_KUBERNETES);
}

/** needs() for any tool: whether it is `present`, and what to say when not. */
export function gate(present: boolean, message: string, env: NodeJS.ProcessEnv = process.env): false | string {
  if (present) return false;
  if (env.KUBEMEND_SKIP_MISSING_TOOLS === '1') return message;
  throw new Error(message);
}

/** Moves a manual clock on a second at a time, so every controller tick in between runs. */
export async function advanceBy(clock: ManualClock, ms: number): Promise<void> {
  for (let t = 0; t < ms; t += 1000) await clock.advance(Math.min(1000, ms - t));
}

/** Runs kubectl and fails the check when it exits non-zero; resolves with stdout. */
export async function kubectlOk(c: Pick<Conformance, 'kubectl'>, args: string[], stdin?: string): Promise<string> {
  const r = await c.kubectl(args, { stdin });
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return r.stdout;
}

/** An object with its bookkeeping dropped and every RFC 3339 time written alike, to compare what it says. */
export function meaning(o: any): unknown {
  const walk = (v: any): any => {
    if (typeof v === 'string' && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/.test(v)) return new Date(v).toISOString();
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).filter(([, x]) => x !== null).map(([k, x]) => [k, walk(x)]));
    return v;
  };
  const { resourceVersion: _rv, managedFields: _mf, ...metadata } = o.metadata;
  return walk({ ...o, metadata });
}

export interface Run { code: number; stdout: string; stderr: string }

export interface HttpAnswer {
  status: number;
  headers: Headers;
  text: string;
  json(): any;
}

export interface Conformance {
  sandbox: Sandbox;
  url: string;
  /** A kubeconfig file for the sandbox (mode 0600, removed by close()). */
  kubeconfig: string;
  /** Runs /usr/bin/kubectl with --kubeconfig; resolves with its exit code and output (never rejects on a non-zero exit). */
  kubectl(args: string[], opts?: { stdin?: string; timeoutMs?: number }): Promise<Run>;
  /** Runs a Python program with /usr/bin/python3 and KUBECONFIG set (`kubernetes.config.load_kube_config()` finds it). */
  python(code: string, opts?: { args?: string[]; timeoutMs?: number }): Promise<Run>;
  /** A raw request with the kubeconfig's bearer token; `body` objects are sent as JSON. */
  http(method: string, path: string, opts?: { body?: unknown; headers?: Record<string, string> }): Promise<HttpAnswer>;
  /** Stops the sandbox and removes the kubeconfig. */
  close(): Promise<void>;
}

/** The names of the shipped scenarios (scenarios/*.yaml). */
export function scenarioNames(): string[] {
  return listScenarios().map((s) => s.scenario.metadata.name);
}

/**
 * When to look at each shipped scenario: at its end, and for the two that
 * take nodes down also half-way, while pods are being evicted and recreated.
 */
export function scenarioMoments(): { name: string; untilMs?: number; label: string }[] {
  return listScenarios().flatMap(({ scenario }) => {
    const name = scenario.metadata.name;
    const end = { name, label: 'at its end' };
    if (name !== 'memory-cascade' && name !== 'node-broken') return [end];
    const half = scenario.spec.duration / 2;
    return [{ name, untilMs: half, label: `half-way (+${half / 60_000}m)` }, end];
  });
}

/**
 * Plays a shipped scenario in virtual time (to its end, or `untilMs` into it),
 * then serves the cluster it left, frozen: its clock is manual and nothing
 * advances it while clients read.
 */
export async function startScenario(name: string, opts: { untilMs?: number } = {}): Promise<Conformance & { play: FastPlay }> {
  const found = listScenarios().find((s) => s.scenario.metadata.name === name);
  if (!found) throw new Error(`no shipped scenario ${name}; there are ${scenarioNames().join(', ')}`);
  const play = playFast(found.scenario);
  await play.run(opts.untilMs);
  play.runner.stop();
  return { ...(await startConformance({ sandbox: play.sandbox })), play };
}

const EVERY_KIND = fileURLToPath(new URL('./fixtures/every-kind.yaml', import.meta.url));

/**
 * A sandbox on a manual clock holding one of every kind it serves
 * (fixtures/every-kind.yaml, created with kubectl), with a rollout of the
 * Deployment and the StatefulSet, after ten virtual minutes of its
 * controllers: crash loops, an OOM kill, a failed pull, a failed Job and an
 * unschedulable pod included. Needs kubectl (see needs()).
 */
export async function startEveryKind(): Promise<Conformance & { clock: ManualClock }> {
  const clock = new ManualClock();
  const c = await startConformance({ options: { clock, images: {
    'example/crasher': { readySeconds: 1, exitAfterSeconds: 5, exitCode: 1, exitLogs: ['panic: cannot reach the database'] },
    'example/leaky': { memoryMi: 64, leakMiPerMinute: 64 },
  } } });
  const advance = (ms: number) => advanceBy(clock, ms);
  try {
    for (const args of [
      ['create', '-f', EVERY_KIND],
      ['-n', 'zoo', 'set', 'image', 'deployment/web', 'web=nginx:1.27.1'],
      ['-n', 'zoo', 'set', 'image', 'statefulset/db', 'postgres=postgres:16.4'],
    ]) {
      const r = await c.kubectl(args);
      if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr}`);
      await advance(60_000);
    }
    await advance(8 * 60_000);
  } catch (err) {
    await c.close();
    throw err;
  }
  return { ...c, clock };
}

/**
 * Serves a sandbox on a free loopback port: the one given (started if it is
 * not yet, e.g. by playFast), or a new one built from `options` (three nodes,
 * the usual namespaces, no scenario).
 */
export async function startConformance(opts: { sandbox?: Sandbox; options?: SandboxOptions } = {}): Promise<Conformance> {
  const sandbox = opts.sandbox ?? new Sandbox(opts.options);
  const { url } = await sandbox.listen({ port: 0 });
  const dir = mkdtempSync(join(tmpdir(), 'km-conformance-'));
  const kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(kubeconfig, sandbox.kubeconfig(), { mode: 0o600 });
  const token = /token: (\S+)/.exec(sandbox.kubeconfig())?.[1] ?? '';
  const env = { ...process.env, KUBECONFIG: kubeconfig };

  const run = (file: string, args: string[], stdin: string | undefined, timeoutMs: number) =>
    new Promise<Run>((resolve) => {
      const child = execFile(file, args, { env, timeout: timeoutMs, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
        const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
        resolve({ code, stdout, stderr: err && code === 1 && !stderr ? String(err.message) : stderr });
      });
      child.stdin!.end(stdin ?? '');
    });

  return {
    sandbox,
    url,
    kubeconfig,
    kubectl: (args, o = {}) => run(KUBECTL, ['--kubeconfig', kubeconfig, ...args], o.stdin, o.timeoutMs ?? 60_000),
    python: (code, o = {}) => run(PYTHON, ['-', ...(o.args ?? [])], code, o.timeoutMs ?? 60_000),
    async http(method, path, o = {}) {
      const headers: Record<string, string> = { authorization: `Bearer ${token}`, ...o.headers };
      let body: string | undefined;
      if (o.body !== undefined) {
        body = typeof o.body === 'string' ? o.body : JSON.stringify(o.body);
        if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) headers['content-type'] = 'application/json';
      }
      const res = await fetch(new URL(path, url), { method, headers, body });
      const text = await res.text();
      return { status: res.status, headers: res.headers, text, json: () => JSON.parse(text) };
    },
    async close() {
      await sandbox.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
