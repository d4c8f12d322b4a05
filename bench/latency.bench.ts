// Latency at 500 events/s (issue 16): how soon a write is detected and how
// soon remediation's first request reaches the API server. The API server is
// the sandbox's HTTP API in a process of its own (bench/fixtures/latency-server.ts)
// over realistic pods (bench/fixtures/pods.ts), written at a steady rate by
// the kubelet's status updates, one in 50 putting a pod into a failing state.
// Each round, on one write stream, at the same time:
//   - a plain HTTP watch client (bench/fixtures/plain-watch.ts: fetch + NDJSON,
//     nothing else, in its own process) timestamps each write's event;
//   - `kubemend run`'s pipeline (shipped rules and runbooks, SQLite store,
//     remediation, incidents), in this process, timestamps each write's
//     detection change, and its latency hooks (common/latency.ts) give
//     detection → first request.
// Times are epoch ms; each child's are moved onto this process's clock by the
// offset measured at the fastest of 30 pings.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { KubeConfig } from '@kubernetes/client-node';
import { emittedAt, onLatency, realClock } from '../src/common/index.ts';
import { loadRules } from '../src/rules/index.ts';
import { ACTIONS, LineNotifier, loadRunbooks } from '../src/runbooks/index.ts';
import { LinePrinter, Pipeline, type Sink } from '../src/pipeline/index.ts';
import { openStore } from '../src/store/index.ts';
import { kubeconfigYaml, SANDBOX_TOKEN } from '../src/sandbox/kubeconfig.ts';
import { goalRow, rounds, type BenchCase, type BenchSection, type GoalRow } from './harness.ts';

const SERVER = fileURLToPath(new URL('./fixtures/latency-server.ts', import.meta.url));
const WATCHER = fileURLToPath(new URL('./fixtures/plain-watch.ts', import.meta.url));
const RULES = fileURLToPath(new URL('../rules', import.meta.url));
const RUNBOOKS = fileURLToPath(new URL('../runbooks', import.meta.url));
const PODS = Number(process.env.KUBEMEND_BENCH_LATENCY_PODS ?? 5000);
const RATE = 500;
const SECONDS = Number(process.env.KUBEMEND_BENCH_LATENCY_SECONDS ?? 30);
const ROUNDS = Number(process.env.KUBEMEND_BENCH_LATENCY_ROUNDS ?? 3);
/** Real time after the last write for the last events, detections and first requests to come in. */
const DRAIN_MS = 3000;

const now = () => performance.timeOrigin + performance.now();

interface Write {
  n: number;
  rv: number;
  /** Epoch ms on this process's clock. */
  t: number;
}

/** A child process speaking JSON lines, with its clock's offset from ours. */
class Child {
  readonly proc: ChildProcessWithoutNullStreams;
  /** The child's clock − this process's clock, ms. */
  offset = 0;
  private readonly lines: AsyncIterator<string>;
  private readonly exited: Promise<void>;
  private err = '';

  constructor(file: string, args: string[]) {
    this.proc = spawn(process.execPath, [file, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.proc.stderr.on('data', (d: Buffer) => (this.err += d));
    // A child that has already exited closes its stdin: a late "stop" is nobody's business.
    this.proc.stdin.on('error', () => {});
    this.exited = new Promise((r) => this.proc.once('exit', () => r()));
    this.lines = createInterface({ input: this.proc.stdout })[Symbol.asyncIterator]();
  }

  async next<T>(): Promise<T> {
    const r = await this.lines.next();
    if (r.done) throw new Error(`${this.proc.spawnargs[1]} ended: ${this.err}`);
    return JSON.parse(r.value) as T;
  }

  send(cmd: Record<string, unknown>): void {
    this.proc.stdin.write(`${JSON.stringify(cmd)}\n`);
  }

  /** The offset at the smallest round trip: both clocks are epoch ms, off by what each process took as its origin. */
  async sync(): Promise<void> {
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

  /** Asks the child to stop, and kills it if it has not within 10 s. */
  async stop(): Promise<void> {
    if (this.proc.stdin.writable) this.send({ cmd: 'stop' });
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), 10_000);
    await this.exited;
    clearTimeout(timer);
  }
}

const percentile = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]! : NaN;
};

interface Round {
  writes: Write[];
  /** Achieved writes per second. */
  rate: number;
  /** Arrival at the plain client, by resourceVersion (our clock). */
  arrivals: Map<number, number>;
  /** The pipeline's first detection change per write, by resourceVersion. */
  detections: Map<number, number>;
  /** ms samples from the latency hooks. */
  firstRequests: number[];
  toRun: number[];
  toRequest: number[];
  /** Synchronous ms per call of each sink's onDetection and observe. */
  sinkMs: Map<string, number[]>;
  /** Watch event received by the informer → detection change emitted (the hooks' kubemend_watch_to_detection_seconds). */
  processing: number[];
}

/** One round: the API server, the plain client and the pipeline on one write stream. */
async function round(): Promise<Round> {
  const server = new Child(SERVER, [String(PODS)]);
  let watcher: Child | undefined;
  const dataDir = mkdtempSync(join(tmpdir(), 'km-bench-latency-'));
  const store = await openStore({ dataDir, clock: realClock });
  const detections = new Map<number, number>();
  const samples = { firstRequests: [] as number[], toRun: [] as number[], toRequest: [] as number[], processing: [] as number[] };
  const unsubscribe = onLatency((metric, s) => {
    if (metric === 'kubemend_detection_to_first_request_seconds') samples.firstRequests.push(s * 1000);
    else if (metric === 'kubemend_detection_to_run_seconds') samples.toRun.push(s * 1000);
    else if (metric === 'kubemend_run_to_first_request_seconds') samples.toRequest.push(s * 1000);
    else if (metric === 'kubemend_watch_to_detection_seconds') samples.processing.push(s * 1000);
  });
  let pipeline: Pipeline | undefined;
  try {
    const { url } = await server.next<{ url: string }>();
    await server.sync();
    watcher = new Child(WATCHER, [url, SANDBOX_TOKEN]);
    await watcher.next();
    await watcher.sync();
    const kc = new KubeConfig();
    kc.loadFromString(kubeconfigYaml(url));
    // When the change was emitted: the latency hooks' mark, taken as the engine hands it to the sinks.
    const collector: Sink = {
      name: 'bench',
      onDetection: (d, _change, signal) => {
        const rv = Number(signal?.object?.metadata?.resourceVersion);
        const at = emittedAt(d);
        if (signal?.object?.kind === 'Pod' && at !== undefined && !detections.has(rv)) detections.set(rv, performance.timeOrigin + at);
      },
    };
    const quiet = () => {};
    pipeline = new Pipeline({
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
    // Where the event loop goes: the synchronous time each sink takes per detection change and per signal.
    const sinkMs = new Map<string, number[]>();
    for (const sink of pipeline.sinks) {
      for (const m of ['onDetection', 'observe'] as const) {
        const f = sink[m] as ((...a: unknown[]) => void) | undefined;
        if (!f) continue;
        const key = `${sink.name}.${m}`;
        (sink as unknown as Record<string, unknown>)[m] = (...a: unknown[]) => {
          const t0 = performance.now();
          try {
            f.apply(sink, a);
          } finally {
            (sinkMs.get(key) ?? sinkMs.set(key, []).get(key)!).push(performance.now() - t0);
          }
        };
      }
    }
    await pipeline.start();
    await pipeline.flush();
    sinkMs.clear();
    // What the first LIST found is not part of the stream.
    detections.clear();
    for (const k of Object.keys(samples) as (keyof typeof samples)[]) samples[k].length = 0;
    server.send({ cmd: 'go', rate: RATE, seconds: SECONDS });
    const done = await server.next<{ ms: number; writes: [number, number, number][] }>();
    await new Promise((r) => setTimeout(r, DRAIN_MS));
    watcher.send({ cmd: 'stop' });
    const { arrivals } = await watcher.next<{ arrivals: [number, number][] }>();
    return {
      writes: done.writes.map(([n, rv, t]) => ({ n, rv, t: t - server.offset })),
      rate: (done.writes.length / done.ms) * 1000,
      arrivals: new Map(arrivals.map(([rv, t]) => [rv, t - watcher!.offset])),
      detections,
      sinkMs,
      ...samples,
    };
  } finally {
    unsubscribe();
    pipeline?.remediation?.executor.cancelAll();
    await pipeline?.stop();
    await store.close();
    rmSync(dataDir, { recursive: true, force: true });
    await watcher?.stop();
    await server.stop();
  }
}

export async function run(): Promise<BenchSection> {
  const cases: BenchCase[] = [];
  const notes: string[] = [];
  const loadAtStart = loadavg()[0]!;
  const ratios: number[] = [];
  const firstP99s: number[] = [];
  const rss = () => process.memoryUsage().rss / 2 ** 20;
  const ms = (xs: number[]) => `p50 ${percentile(xs, 50).toFixed(1)}, p90 ${percentile(xs, 90).toFixed(1)}, p99 ${percentile(xs, 99).toFixed(1)}`;
  await rounds(async (r) => {
    const o = await round();
    const missed = o.writes.filter((w) => !o.arrivals.has(w.rv)).length;
    if (missed) throw new Error(`the plain watch client missed ${missed} of ${o.writes.length} writes`);
    // The writes the pipeline turned into detection changes, as each client saw them.
    const detected = o.writes.filter((w) => o.detections.has(w.rv));
    const pipe = detected.map((w) => o.detections.get(w.rv)! - w.t);
    const plain = detected.map((w) => o.arrivals.get(w.rv)! - w.t);
    const allPlain = o.writes.map((w) => o.arrivals.get(w.rv)! - w.t);
    const p99 = { plain: percentile(plain, 99), pipe: percentile(pipe, 99), first: percentile(o.firstRequests, 99) };
    const tag = `round ${r + 1}`;
    cases.push({ name: `${tag}: plain watch client, write → event, all ${o.writes.length} writes (${ms(allPlain)}); ms = p99`, n: o.writes.length, ms: percentile(allPlain, 99), rssMb: rss() });
    cases.push({ name: `${tag}: plain watch client, write → event, the ${plain.length} writes the pipeline detected (${ms(plain)}); ms = p99`, n: plain.length, ms: p99.plain, rssMb: rss() });
    cases.push({ name: `${tag}: kubemend run, write → detection change (${ms(pipe)}); ms = p99`, n: pipe.length, ms: p99.pipe, rssMb: rss() });
    cases.push({ name: `${tag}: … of which the informer receiving the event → the change emitted, every change but repeats (${ms(o.processing)}); ms = p99`, n: o.processing.length, ms: percentile(o.processing, 99), rssMb: rss() });
    cases.push({ name: `${tag}: kubemend run, detection → first runbook request, every run (${ms(o.firstRequests)}); ms = p99`, n: o.firstRequests.length, ms: p99.first, rssMb: rss() });
    cases.push({ name: `${tag}: … of which detection → run launched: admitted, stored, audited (${ms(o.toRun)}); ms = p99`, n: o.toRun.length, ms: percentile(o.toRun, 99), rssMb: rss() });
    cases.push({ name: `${tag}: … and run launched → first request (${ms(o.toRequest)}); ms = p99`, n: o.toRequest.length, ms: percentile(o.toRequest, 99), rssMb: rss() });
    const heavy = [...o.sinkMs].map(([k, xs]) => ({ k, xs, total: xs.reduce((a, b) => a + b, 0) })).sort((a, b) => b.total - a.total).slice(0, 3);
    for (const h of heavy) cases.push({ name: `${tag}: sink ${h.k}, synchronous time per call (${ms(h.xs)}, max ${Math.max(...h.xs).toFixed(1)}; ${Math.round(h.total)} ms in all); ms = p99`, n: h.xs.length, ms: percentile(h.xs, 99), rssMb: rss() });
    cases.push({ name: `${tag}: writes the API server made, per s (goal ${RATE}); ms = seconds of writing`, n: Math.round(o.rate), ms: o.writes.length / o.rate, rssMb: rss() });
    ratios.push(p99.pipe / p99.plain);
    firstP99s.push(p99.first);
    return 0;
  }, ROUNDS);
  const goals: GoalRow[] = [
    goalRow({ row: `detection → first runbook request to the API server, p99 at ${RATE} events/s`, baseline: 'the latency hooks (kubemend_detection_to_first_request_seconds), every run of the round', goal: 100, better: 'lower', unit: 'ms' }, [...firstP99s].sort((x, y) => x - y)),
    goalRow({ row: 'write → detection p99 of `kubemend run` (the pipeline)', baseline: 'a plain fetch + NDJSON watch of pods in its own process: same writes, same server, same moment', goal: 1.1, better: 'lower', unit: '×' }, [...ratios].sort((x, y) => x - y)),
  ];
  notes.push(
    `Load average (1 min) ${loadAtStart.toFixed(1)} at the start and ${loadavg()[0]!.toFixed(1)} at the end, on ${cpus().length} cores: other work on the machine (other helpers' test suites) shares them with the bench, its API server and its plain client.`,
    `${PODS.toLocaleString('en-US')} realistic pods (bench/fixtures/pods.ts, ~7.5 KiB with managedFields) with their Deployments and ReplicaSets; ${SECONDS} s of status writes at ${RATE}/s per round, 1 in 50 putting a pod into crashloop, OOM, pending or image-pull (spread over the pods). The API server is the sandbox's HTTP API in its own process, without controllers (nothing writes but the bench and the runs).`,
    'The pipeline is what `kubemend run` assembles: shipped rules and runbooks, a SQLite store (recorder, audit), remediation with the concurrency budgets raised so every detection\'s run starts, the incident tracker, a printer. Its write → detection time ends at the latency hooks\' mark of the change, taken as the engine hands it to the sinks; the plain client\'s when it has parsed the event.',
    'p99 over a round\'s detected writes (a few hundred) and runs (dozens) is close to their maximum: one stall of the machine shows in it.',
  );
  return {
    title: `Latency at ${RATE} events/s: write → detection and detection → first request (issue 16)`,
    budget: 'none in ms; the goal rows compare with a plain watch client at the same moment, and the detection → first request p99 with 100 ms',
    cases,
    goals,
    notes,
  };
}
