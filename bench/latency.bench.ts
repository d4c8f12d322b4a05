// Latency at 500 events/s (issue 16): how soon a write is detected and how
// soon remediation's first request reaches the API server. The API server is
// the sandbox's HTTP API in a process of its own (bench/fixtures/latency-server.ts)
// over realistic pods (bench/fixtures/pods.ts), written at a steady rate by
// the kubelet's status updates, one in 50 putting a pod into a failing state.
// Each round, on the same write stream:
//   A. a plain HTTP watch client (fetch + NDJSON, nothing else) timestamps each write's event;
//   B. `kubemend run`'s pipeline (shipped rules and runbooks, SQLite store,
//      remediation, incidents) timestamps each write's detection change, and
//      the latency hooks (common/latency.ts) give detection → first request.
// Write times come from the server process, on a clock offset measured by pings.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { KubeConfig } from '@kubernetes/client-node';
import { realClock, onLatency } from '../src/common/index.ts';
import { loadRules } from '../src/rules/index.ts';
import { ACTIONS, LineNotifier, loadRunbooks } from '../src/runbooks/index.ts';
import { LinePrinter, Pipeline, type Sink } from '../src/pipeline/index.ts';
import { openStore } from '../src/store/index.ts';
import { kubeconfigYaml, SANDBOX_TOKEN } from '../src/sandbox/kubeconfig.ts';
import { goalRow, rounds, type BenchCase, type BenchSection, type GoalRow } from './harness.ts';

const SERVER = fileURLToPath(new URL('./fixtures/latency-server.ts', import.meta.url));
const RULES = fileURLToPath(new URL('../rules', import.meta.url));
const RUNBOOKS = fileURLToPath(new URL('../runbooks', import.meta.url));
const PODS = Number(process.env.KUBEMEND_BENCH_LATENCY_PODS ?? 5000);
const RATE = 500;
const SECONDS = Number(process.env.KUBEMEND_BENCH_LATENCY_SECONDS ?? 20);
const ROUNDS = Number(process.env.KUBEMEND_BENCH_LATENCY_ROUNDS ?? 3);
/** Real time after the last write for the last detections and first requests to come in. */
const DRAIN_MS = 3000;

const now = () => performance.timeOrigin + performance.now();

interface Write {
  n: number;
  rv: number;
  /** Epoch ms on this process's clock. */
  t: number;
  failing: boolean;
}

/** The API server process and its line protocol. */
class Server {
  readonly child: ChildProcessWithoutNullStreams;
  private readonly lines: AsyncIterator<string>;
  url = '';
  /** server clock − this process's clock, ms. */
  offset = 0;
  private err = '';

  constructor() {
    this.child = spawn(process.execPath, [SERVER, String(PODS)], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stderr.on('data', (d: Buffer) => (this.err += d));
    this.lines = createInterface({ input: this.child.stdout })[Symbol.asyncIterator]();
  }

  async next<T>(): Promise<T> {
    const r = await this.lines.next();
    if (r.done) throw new Error(`the latency server ended: ${this.err}`);
    return JSON.parse(r.value) as T;
  }

  send(cmd: Record<string, unknown>): void {
    this.child.stdin.write(`${JSON.stringify(cmd)}\n`);
  }

  async start(): Promise<void> {
    this.url = (await this.next<{ url: string }>()).url;
    // The offset at the smallest round trip: both clocks are epoch ms, off by what each process took as its origin.
    let best = Infinity;
    for (let k = 0; k < 30; k++) {
      const t0 = now();
      this.send({ cmd: 'ping' });
      const { t } = await this.next<{ t: number }>();
      const t1 = now();
      if (t1 - t0 < best) {
        best = t1 - t0;
        this.offset = t - (t0 + t1) / 2;
      }
    }
  }

  async go(): Promise<{ writes: Write[]; ms: number }> {
    this.send({ cmd: 'go', rate: RATE, seconds: SECONDS });
    const r = await this.next<{ ms: number; writes: [number, number, number, number][] }>();
    return { ms: r.ms, writes: r.writes.map(([n, rv, t, f]) => ({ n, rv, t: t - this.offset, failing: f === 1 })) };
  }

  async reset(): Promise<void> {
    this.send({ cmd: 'reset' });
    await this.next();
  }

  async stop(): Promise<void> {
    this.send({ cmd: 'stop' });
    await new Promise((r) => this.child.once('exit', r));
  }
}

const percentile = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]! : NaN;
};

async function resourceVersion(url: string): Promise<string> {
  const res = await fetch(`${url}/api/v1/pods?limit=1`, { headers: { Authorization: `Bearer ${SANDBOX_TOKEN}` } });
  return ((await res.json()) as { metadata: { resourceVersion: string } }).metadata.resourceVersion;
}

/** A: the plain watch client. Returns arrival time by pod resourceVersion. */
async function plainWatch(server: Server): Promise<{ arrivals: Map<number, number>; writes: Write[]; ms: number }> {
  const arrivals = new Map<number, number>();
  const abort = new AbortController();
  const res = await fetch(`${server.url}/api/v1/pods?watch=true&resourceVersion=${await resourceVersion(server.url)}`, { headers: { Authorization: `Bearer ${SANDBOX_TOKEN}` }, signal: abort.signal });
  const reading = (async () => {
    const decoder = new TextDecoder();
    let buf = '';
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        buf += decoder.decode(chunk, { stream: true });
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          if (!line) continue;
          const ev = JSON.parse(line) as { object: { metadata: { resourceVersion: string } } };
          arrivals.set(Number(ev.object.metadata.resourceVersion), now());
        }
      }
    } catch (err) {
      if ((err as Error).name !== 'AbortError') throw err;
    }
  })();
  const { writes, ms } = await server.go();
  const last = writes[writes.length - 1]!.rv;
  const deadline = Date.now() + 30_000;
  while (!arrivals.has(last) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  abort.abort();
  await reading;
  return { arrivals, writes, ms };
}

/** B: the pipeline `kubemend run` builds. Returns each write's detection time, and the detection → first request samples (ms). */
async function pipelineRun(server: Server): Promise<{ detections: Map<number, number>; firstRequests: number[]; parts: { toRun: number[]; toRequest: number[] }; runs: number; writes: Write[]; ms: number }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'km-bench-latency-'));
  const store = await openStore({ dataDir, clock: realClock });
  const kc = new KubeConfig();
  kc.loadFromString(kubeconfigYaml(server.url));
  const detections = new Map<number, number>();
  const firstRequests: number[] = [];
  const parts = { toRun: [] as number[], toRequest: [] as number[] };
  const unsubscribe = onLatency((metric, s) => {
    if (metric === 'kubemend_detection_to_first_request_seconds') firstRequests.push(s * 1000);
    else if (metric === 'kubemend_detection_to_run_seconds') parts.toRun.push(s * 1000);
    else if (metric === 'kubemend_run_to_first_request_seconds') parts.toRequest.push(s * 1000);
  });
  const collector: Sink = {
    name: 'bench',
    onDetection: (_d, _change, signal) => {
      const rv = Number(signal?.object?.metadata?.resourceVersion);
      if (signal?.object?.kind === 'Pod' && !detections.has(rv)) detections.set(rv, now());
    },
  };
  const quiet = () => {};
  const pipeline = new Pipeline({
    clock: realClock,
    clusters: [{ name: 'bench', kubeconfig: kc }],
    rules: loadRules(RULES),
    store,
    // Budgets out of the way: every detection that names a runbook starts a run, so every one is measured.
    remediation: { runbooks: loadRunbooks(RUNBOOKS, { actions: ACTIONS }), notifiers: [new LineNotifier(quiet)], budgets: { concurrentPerCluster: 100_000, concurrentPerNamespace: 100_000 } },
    incidents: {},
    sinks: [new LinePrinter(quiet), collector],
    log: quiet,
  });
  try {
    await pipeline.start();
    const { writes, ms } = await server.go();
    await new Promise((r) => setTimeout(r, DRAIN_MS));
    const runs = (await store.listRuns({})).length;
    return { detections, firstRequests, parts, runs, writes, ms };
  } finally {
    unsubscribe();
    pipeline.remediation?.executor.cancelAll();
    await pipeline.stop();
    await store.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

export async function run(): Promise<BenchSection> {
  const cases: BenchCase[] = [];
  const notes: string[] = [];
  const loadAtStart = loadavg()[0]!;
  const ratios: number[] = [];
  const firstP99s: number[] = [];
  const rss = () => process.memoryUsage().rss / 2 ** 20;
  await rounds(async (r) => {
    const server = new Server();
    try {
      await server.start();
      const a = await plainWatch(server);
      await server.reset();
      const b = await pipelineRun(server);
      // The writes the pipeline turned into detection changes, and the same writes (by their place in the stream) as the plain client saw them.
      const plainByN = new Map(a.writes.map((w) => [w.n, (a.arrivals.get(w.rv) ?? NaN) - w.t]));
      const detected = b.writes.filter((w) => b.detections.has(w.rv));
      const pipe = detected.map((w) => b.detections.get(w.rv)! - w.t);
      const plain = detected.map((w) => plainByN.get(w.n)!).filter(Number.isFinite);
      const missed = a.writes.filter((w) => !a.arrivals.has(w.rv)).length;
      if (missed) throw new Error(`the plain watch client missed ${missed} writes`);
      const p99 = { plain: percentile(plain, 99), pipe: percentile(pipe, 99), first: percentile(b.firstRequests, 99) };
      const allPlain = a.writes.map((w) => a.arrivals.get(w.rv)! - w.t);
      cases.push({ name: `round ${r + 1}: plain watch client, p99 write → event over all ${a.writes.length} writes (ms; p50 ${percentile(allPlain, 50).toFixed(1)})`, n: a.writes.length, ms: percentile(allPlain, 99), rssMb: rss() });
      cases.push({ name: `round ${r + 1}: plain watch client, p99 write → event over the ${plain.length} writes the pipeline detected (ms)`, n: plain.length, ms: p99.plain, rssMb: rss() });
      cases.push({ name: `round ${r + 1}: kubemend run, p99 write → detection change (ms; p50 ${percentile(pipe, 50).toFixed(1)})`, n: pipe.length, ms: p99.pipe, rssMb: rss() });
      cases.push({ name: `round ${r + 1}: kubemend run, p99 detection → first runbook request over ${b.firstRequests.length} runs (ms; p50 ${percentile(b.firstRequests, 50).toFixed(1)})`, n: b.firstRequests.length, ms: p99.first, rssMb: rss() });
      cases.push({ name: `round ${r + 1}: of which detection → run launched (stored, audited) p99 (ms; p50 ${percentile(b.parts.toRun, 50).toFixed(1)})`, n: b.parts.toRun.length, ms: percentile(b.parts.toRun, 99), rssMb: rss() });
      cases.push({ name: `round ${r + 1}: of which run launched → first request p99 (ms; p50 ${percentile(b.parts.toRequest, 50).toFixed(1)})`, n: b.parts.toRequest.length, ms: percentile(b.parts.toRequest, 99), rssMb: rss() });
      cases.push({ name: `round ${r + 1}: server write rate achieved (writes/s), A then B`, n: Math.round((a.writes.length / a.ms) * 1000), ms: Math.round((b.writes.length / b.ms) * 1000), rssMb: rss() });
      ratios.push(p99.pipe / p99.plain);
      firstP99s.push(p99.first);
      return 0;
    } finally {
      await server.stop().catch(() => server.child.kill('SIGKILL'));
    }
  }, ROUNDS);
  const goals: GoalRow[] = [
    goalRow({ row: `detection → first runbook request to the API server, p99 at ${RATE} events/s`, baseline: 'latency hooks (kubemend_detection_to_first_request_seconds), every run of the round', goal: 100, better: 'lower', unit: 'ms' }, [...firstP99s].sort((x, y) => x - y)),
    goalRow({ row: 'write → detection p99 of `kubemend run` (the pipeline)', baseline: 'a plain fetch + NDJSON watch of pods, same writes, same server, same round', goal: 1.1, better: 'lower', unit: '×' }, [...ratios].sort((x, y) => x - y)),
  ];
  notes.push(
    `Load average (1 min) ${loadAtStart.toFixed(1)} at the start and ${loadavg()[0]!.toFixed(1)} at the end, on ${cpus().length} cores: other work on the machine (other helpers' test suites) shares them with the bench, its API server and the pipeline.`,
    `${PODS.toLocaleString('en-US')} realistic pods (bench/fixtures/pods.ts, ~7.5 KiB with managedFields) with their Deployments and ReplicaSets; ${SECONDS} s of status writes at ${RATE}/s per phase, 1 in 50 putting a pod into crashloop, OOM, pending or image-pull (as watchStream). The API server is the sandbox's HTTP API in its own process, without controllers.`,
    'A and B run one after the other on the same server and the same write stream (pods reset to running in between), so the plain client does not share the event loop with the pipeline. Write times are the server\'s, moved onto this process\'s clock by the offset of the fastest of 30 pings.',
    'The pipeline is what `kubemend run` assembles: shipped rules and runbooks, a SQLite store (recorder, audit), remediation with budgets raised so every detection\'s run starts, the incident tracker, a printer. Its write → detection time is taken by a sink after the built-in sinks.',
    'In the cases table the "ms" column holds the figure named (p99 in ms; for the rate row, N = writes/s of phase A, ms = writes/s of phase B).',
  );
  return {
    title: `Latency at ${RATE} events/s: write → detection and detection → first request (issue 16)`,
    budget: 'none in ms; the goal rows compare with a plain watch client in the same round, and the detection → first request p99 with 100 ms',
    cases,
    goals,
    notes,
  };
}
