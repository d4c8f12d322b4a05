// Issue 16's memory row: heap per cached pod for the whole watch process —
// informers, engine and everything the pipeline keeps per object — at 50k
// realistic pods (bench/fixtures/pods.ts), with the 13 shipped rules and
// with the 1,000-rule set, against whole objects in the same run. The pods
// come over HTTP from the sandbox's API server in a child process
// (bench/fixtures/pod-server.ts), so this process's heap holds only
// kubemend's side. Each round builds a Pipeline as `kubemend watch` does
// (without a store), waits for its caches to sync and the engine to
// evaluate every pod, and measures the heap after a forced GC.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { KubeConfig } from '@kubernetes/client-node';
import { realClock } from '../src/common/clock.ts';
import { objectProjector, stripBulk } from '../src/kube/index.ts';
import { celHelpers, loadRules, type LoadedRule } from '../src/rules/index.ts';
import { Pipeline } from '../src/pipeline/index.ts';
import { cacheFields } from '../src/pipeline/cache-fields.ts';
import { goalRow, rounds, type BenchCase, type BenchSection, type GoalRow } from './harness.ts';
import { realisticPod } from './fixtures/pods.ts';
import { benchPodState, NAMESPACES } from './fixtures/pod-server.ts';
import { SHIPPED_RULES, writeRuleSet } from './fixtures/rules.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const heapBytes = () => {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
};

const PODS = Number(process.env.BENCH_PODS ?? 50_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
/** The whole-object baseline is context for the goal rows, not a goal: fewer rounds keep the module within its time. */
const BASE_ROUNDS = Number(process.env.BENCH_BASE_ROUNDS ?? 1);
const GOAL_KIB = 3;

async function podServer(pods: number): Promise<{ child: ChildProcess; kubeconfig: string }> {
  const script = fileURLToPath(new URL('./fixtures/pod-server.ts', import.meta.url));
  const child = spawn(process.execPath, ['--max-old-space-size=8192', script, String(pods)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise<string>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`pod server exited with ${code}`)));
    createInterface({ input: child.stdout! }).once('line', resolve);
  });
  return { child, kubeconfig: (JSON.parse(line) as { kubeconfig: string }).kubeconfig };
}

interface Round {
  kib: number;
  syncMs: number;
  pods: number;
  rssMb: number;
}

/** One watch process's heap per cached pod: start, sync, evaluate every pod, GC, measure, stop. */
async function round(kubeconfig: string, rulesDir: string, whole: boolean): Promise<Round> {
  // Loaded per round, before the heap is measured: compiled programs keep their last activation (and through it
  // the engine and its caches) until they run again, so a previous round's pipeline would otherwise stay counted.
  const rules = loadRules(rulesDir);
  celHelpers.forgetConverted();
  const kc = new KubeConfig();
  kc.loadFromString(kubeconfig);
  const before = heapBytes();
  let pipeline: Pipeline | undefined = new Pipeline({ clock: realClock, clusters: [{ name: 'bench', kubeconfig: kc }], rules, cacheWholeObjects: whole, log: () => {} });
  const t0 = performance.now();
  await pipeline.start();
  const syncMs = performance.now() - t0;
  // Microtasks the engine queued (rollout looks) have run; timers (holds, schedules) are part of what it keeps.
  await new Promise((r) => setTimeout(r, 100));
  const after = heapBytes();
  const pods = pipeline.cached('bench', 'Pod')?.length ?? 0;
  const rssMb = process.memoryUsage().rss / 2 ** 20;
  await pipeline.stop();
  pipeline = undefined;
  // The informers' aborted watches settle on the next turns of the event loop; until then they hold their caches.
  for (let i = 0; i < 3; i++) await new Promise((r) => setTimeout(r, 50));
  if (pods !== PODS) throw new Error(`the cache holds ${pods} pods, not ${PODS}`);
  return { kib: (after - before) / pods / 1024, syncMs, pods, rssMb };
}

/**
 * Per pod, in µs: converting it to CEL values (what the engine does per
 * event), whole against projected; and what projecting costs the informer
 * per event, against JSON.parse and stripBulk of the same watch line.
 */
function perPodCosts(rules: LoadedRule[]): { celWhole: number; celProjected: number; parse: number; project: number } {
  const project = objectProjector(cacheFields(rules).forKind('Pod'))!;
  const lines = Array.from({ length: 2000 }, (_, i) => JSON.stringify(realisticPod(i, 1000 + i, benchPodState(i), { namespaces: NAMESPACES })));
  const whole = lines.map((l) => stripBulk(JSON.parse(l)));
  const projected = whole.map(project);
  const time = (fn: () => void) => {
    fn();
    const t0 = performance.now();
    for (let r = 0; r < 10; r++) fn();
    return ((performance.now() - t0) * 1000) / (lines.length * 10);
  };
  const cel = (objs: object[]) => () => {
    celHelpers.forgetConverted();
    for (const o of objs) celHelpers.toCel(o);
  };
  return {
    celWhole: time(cel(whole)),
    celProjected: time(cel(projected)),
    parse: time(() => lines.forEach((l) => stripBulk(JSON.parse(l)))),
    project: time(() => whole.forEach(project)),
  };
}

export async function run(): Promise<BenchSection> {
  const shipped = loadRules(SHIPPED_RULES);
  const manyDir = writeRuleSet(1000);
  const many = loadRules(manyDir);
  const { child, kubeconfig } = await podServer(PODS);
  const cases: BenchCase[] = [];
  const goals: GoalRow[] = [];
  const notes: string[] = [];
  try {
    const measure = async (label: string, rulesDir: string, whole: boolean, n: number) => {
      const results: Round[] = [];
      const sorted = await rounds(async () => {
        const r = await round(kubeconfig, rulesDir, whole);
        results.push(r);
        return r.kib;
      }, n);
      for (const [i, r] of results.entries()) cases.push({ name: `${label}, round ${i + 1}: list ${r.pods.toLocaleString('en-US')} pods, evaluate, GC (${r.kib.toFixed(2)} KiB/pod)`, n: r.pods, ms: r.syncMs, rssMb: r.rssMb });
      return sorted;
    };
    const base = await measure(`whole objects, ${shipped.length} rules`, SHIPPED_RULES, true, BASE_ROUNDS);
    const fmt = (xs: number[]) => `${xs[xs.length - 1]!.toFixed(2)}–${xs[Math.floor((xs.length - 1) / 2)]!.toFixed(2)} KiB`;
    const small = await measure(`projected, ${shipped.length} rules`, SHIPPED_RULES, false, ROUNDS);
    goals.push(goalRow({ row: `heap per cached pod, whole watch process, ${PODS.toLocaleString('en-US')} pods, ${shipped.length} shipped rules`, baseline: `whole objects: ${fmt(base)}`, goal: GOAL_KIB, better: 'lower', unit: 'KiB' }, small));
    const large = await measure(`projected, ${many.length} rules`, manyDir, false, ROUNDS);
    goals.push(goalRow({ row: `heap per cached pod, whole watch process, ${PODS.toLocaleString('en-US')} pods, ${many.length} rules`, baseline: `whole objects (${shipped.length} rules): ${fmt(base)}`, goal: GOAL_KIB, better: 'lower', unit: 'KiB' }, large));
    const cost = perPodCosts(shipped);
    notes.push(
      `Pods: ${PODS.toLocaleString('en-US')} from bench/fixtures/pods.ts (realisticPod, one in 50 failing), served by the sandbox's API server in a child process with no controllers; each round is a fresh Pipeline as \`kubemend watch\` builds it (no store), over HTTP.`,
      'KiB/pod: heap used after two forced GCs with the pipeline synced and every pod evaluated, minus before, over the pods cached — informer caches, engine state, detections, rollout watcher, the converted-object memo (at most 1,024 objects).',
      `Converting a pod to CEL values per event: ${cost.celProjected.toFixed(1)} µs projected, ${cost.celWhole.toFixed(1)} µs whole (2,000 pods × 10): the cache keeps JSON and the engine converts per event (keeping the last 1,024 conversions), not a CEL copy per cached pod — that copy was half the heap per pod, and a CEL (BigInt) copy in the cache itself would break every other reader (arithmetic, JSON.stringify of evidence).`,
      `Projecting a pod on entry: ${cost.project.toFixed(1)} µs, against ${cost.parse.toFixed(1)} µs for JSON.parse and stripBulk of its watch line.`,
    );
  } finally {
    child.kill('SIGTERM');
  }
  return {
    title: 'Cache memory (src/kube/projection.ts, src/pipeline/cache-fields.ts)',
    budget: `heap per cached pod ≤ ${GOAL_KIB} KiB for the whole watch process at ${PODS.toLocaleString('en-US')} pods (goal rows); the cases are the rounds (ms: list, sync and first evaluation).`,
    cases,
    goals,
    notes,
  };
}
