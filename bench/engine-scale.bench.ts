// The full detection path at cluster scale (issue 16, first row): a watch
// stream of realistic pods, read by the Informer as it reads kube-apiserver
// (NDJSON chunks through readline, JSON.parse, cache, old object), turned
// into signals as KubeSource does, through the engine with the 1,000-rule set
// — against JSON.parse of the same stream in the same run. The goal: the
// whole path at least half as fast as parsing alone.
import { rmSync } from 'node:fs';
import { ManualClock } from '../src/common/clock.ts';
import { Informer, kindRef, objectProjector, type KubeHttp, type KubeObject } from '../src/kube/index.ts';
import { cacheFields } from '../src/pipeline/index.ts';
import { DetectionEngine } from '../src/rules/engine.ts';
import { loadRules, type LoadedRule } from '../src/rules/loader.ts';
import type { Signal } from '../src/rules/types.ts';
import { realisticPod, watchStream } from './fixtures/pods.ts';
import { writeRuleSet, SHIPPED_RULES } from './fixtures/rules.ts';
import { goalRow, rounds, type BenchCase, type BenchSection, type GoalRow } from './harness.ts';

const PODS = 5_000;
const EVENTS = 6_000;
const CHUNK = 64 * 1024;

/** The stream as the network delivers it: byte chunks that cut lines anywhere. */
function chunks(lines: string[]): Uint8Array[] {
  const bytes = new TextEncoder().encode(lines.map((l) => `${l}\n`).join(''));
  const out: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i += CHUNK) out.push(bytes.subarray(i, i + CHUNK));
  return out;
}

/** A KubeHttp that answers the informer's LIST with `items` and its WATCH with `body`, then a watch that never ends. */
function streamHttp(items: KubeObject[], body: Uint8Array[]): KubeHttp {
  let watches = 0;
  return {
    request: async () => ({ kind: 'PodList', apiVersion: 'v1', metadata: { resourceVersion: '999' }, items }),
    raw: async (_m: string, _p: string, opts: { signal?: AbortSignal }) => {
      const first = watches++ === 0;
      const stream = new ReadableStream<Uint8Array>({
        start(c) {
          if (!first) {
            opts.signal?.addEventListener('abort', () => c.close());
            return;
          }
          for (const b of body) c.enqueue(b);
          c.close();
        },
      });
      return new Response(stream, { status: 200 });
    },
  } as unknown as KubeHttp;
}

/** CPU ms of this process: on a 2-core machine shared with other work, wall time measures the neighbours; both sides of each ratio are timed alike. */
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

const OPERATION = { ADDED: 'create', MODIFIED: 'update', DELETED: 'delete' } as const;

/**
 * ms for the informer + engine to handle every watched event of `lines` (the initial LIST is not timed).
 * `detect` false: the informer and the signals alone, the engine left out — what no change to the engine can beat.
 */
export async function fullPath(rules: LoadedRule[], lines: string[], body: Uint8Array[], detect = true): Promise<number> {
  const clock = new ManualClock(Date.parse('2026-11-02T00:00:00Z'));
  const items = Array.from({ length: PODS }, (_, i) => realisticPod(i, 100 + i) as KubeObject);
  let informer: Informer | undefined;
  const engine = new DetectionEngine({ clock, rules, lookup: (_c, kind, ns) => (kind === 'Pod' ? informer?.list(ns) ?? [] : []) });
  let seen = 0;
  let t0 = 0;
  const done = Promise.withResolvers<number>();
  // The cache keeps what the pipeline keeps: the rules' fields and the incident tracker's (serve runs with incidents on).
  const transform = objectProjector(cacheFields(rules, { incidents: true }).forKind('Pod'));
  informer = new Informer(streamHttp(items, body), kindRef('Pod')!, {
    transform,
    onChange: (c) => {
      const signal: Signal = { source: 'object', cluster: 'bench', time: clock.now(), operation: OPERATION[c.type], object: c.object, oldObject: c.oldObject, fromRelist: c.fromRelist };
      if (detect) engine.ingest(signal);
      if (!c.initial && ++seen === lines.length) done.resolve(cpuMs() - t0);
    },
    onError: (err) => done.reject(err),
  });
  informer.start();
  await informer.synced;
  t0 = cpuMs();
  const ms = await done.promise;
  informer.stop();
  engine.stop();
  return ms;
}

/**
 * Why the goal rows stop short of 0.5 here, as measured (2026-12-06): not a
 * proof that 0.5 cannot be reached, but where the time goes and how much is
 * left for the engine.
 */
/**
 * Why a goal row stops short, in parses per event (medians of this run):
 * full = parse ÷ (informer + engine), so 0.5 × needs informer + engine ≤ 2
 * parses, and the informer alone already takes 1 ÷ its ratio.
 */
const limit = (floor: string, informer: { min: number; median: number }, full: number) => {
  const informerParses = 1 / informer.median;
  const room = 2 - informerParses;
  const engine = 1 / full - informerParses;
  return `not reached: the informer alone (projection, cache, indexes, signals; no engine) measures ${informer.min.toFixed(2)}–${informer.median.toFixed(2)} × JSON.parse here `
    + `(a Map keeping each whole parsed object, nothing else, measures ${floor} ×: keeping objects costs a parse or so whatever the cache does), so 0.5 × would leave the engine ${room > 0 ? `${room.toFixed(2)} of a parse per event` : 'nothing'}; `
    + `it costs ${engine.toFixed(2)} parses per event here (medians); profile in the notes`;
};

const PROFILE = [
  'Profile (2026-12-06, the inspector\'s sampling profiler over the timed part only, this 2-core machine at load 6–9 from other sessions; shares of main-thread samples): ' +
    'shipped rules — JSON.parse and line cutting 43 %, GC on the main thread 16 %, the informer\'s own work (projection, managedFields, cache and its indexes) 16 %, CEL evaluation 9 %, conversion to CEL values 5 %, engine and rule index 4 %, detections (diff, masking) 4 %; ' +
    '1,000 rules — JSON.parse 30 %, informer 17 %, CEL evaluation 14 %, GC 14 %, engine and rule index 13 %, conversion 6 %, detections 3 %. ' +
    'Besides the main thread, 7–28 % of the process\'s CPU time is in other threads (V8\'s parallel and concurrent GC), which the JSON.parse baseline hardly has: it keeps nothing, while the cache keeps every new object and drops the old.',
  'With the engine left out, the informer alone spent 41 % of its main-thread samples in JSON.parse, 27 % in GC and 17 % projecting (before the named-field projection): keeping 6,000 objects in a cache costs about half as much again as parsing them, so for 0.5 × the engine would have to cost at most about a third of a parse per event. What is left in the engine, in order of size: the CEL interpreter (compiling rules to closures that read JSON directly would remove it and most of the conversion to CEL values), per-candidate bookkeeping of 1,000 rules (about 19 candidates per pod event), conversion.',
  'Compiling CEL to closures (the issue\'s last engine item, "where the interpreter remains the bottleneck") was not built, because the interpreter is not the bottleneck: CEL evaluation and conversion to CEL values together take 20 % of the 1,000-rule path\'s samples in the profile above (14 % + 6 %), and 14 % of the shipped rules\' (9 % + 5 %). A compiler that cost nothing at all would raise the full path at most 1 ÷ (1 − 0.20) = 1.25 × with 1,000 rules and 1.16 × with the shipped rules, from the 0.24–0.38 × measured on 2026-12-06 to at most 0.30–0.44 ×, short of 0.5 ×; the informer alone (in the notes above) bounds any engine work from above as well.',
  'Figures vary by up to 2× between rounds on this shared machine (a round\'s GC and the neighbours\' load); the worst round of a row is often its first.',
];

function parseOnly(lines: string[]): number {
  const t0 = cpuMs();
  let n = 0;
  for (const l of lines) n += (JSON.parse(l) as { type: string }).type.length;
  if (n === 0) throw new Error('internal: nothing parsed');
  return cpuMs() - t0;
}

/**
 * The least any watch cache can do with the stream: bytes decoded, cut into
 * lines, parsed, and each object kept in a Map in place of its old version
 * (no projection, no indexes, no signals). What it costs over JSON.parse is
 * the floor under the informer, and so under the full path.
 */
function keepOnly(body: Uint8Array[], keep = true): number {
  const kept = new Map<string, unknown>();
  for (let i = 0; i < PODS; i++) {
    const p = realisticPod(i, 100 + i) as KubeObject;
    kept.set(`${p.metadata.namespace}/${p.metadata.name}`, p);
  }
  const t0 = cpuMs();
  const decoder = new TextDecoder();
  let rest = '';
  for (const chunk of body) {
    const text = rest + decoder.decode(chunk, { stream: true });
    let start = 0;
    for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', start)) {
      const ev = JSON.parse(text.slice(start, nl)) as { object: KubeObject };
      start = nl + 1;
      if (keep) kept.set(`${ev.object.metadata.namespace}/${ev.object.metadata.name}`, ev.object);
      else if (!ev.object.metadata.name) throw new Error('internal: an event without a name');
    }
    rest = text.slice(start);
  }
  const ms = cpuMs() - t0;
  if (kept.size < PODS) throw new Error('internal: the pods were not cached');
  return ms;
}

export async function run(): Promise<BenchSection> {
  const lines = watchStream(EVENTS, PODS);
  const body = chunks(lines);
  const dir = writeRuleSet(1000);
  try {
    const sets: [string, LoadedRule[]][] = [['1,000 rules', loadRules(dir)], ['shipped rules', loadRules(SHIPPED_RULES)]];
    const cases: BenchCase[] = [];
    const goals: GoalRow[] = [];
    const ceilings: string[] = [];
    // The floor, once for both rule sets: it reads no rule.
    const keepless: number[] = [];
    const floor = await rounds(async (r) => {
      const parse = parseOnly(lines);
      const decoded = keepOnly(body, false);
      const keep = keepOnly(body);
      cases.push({ name: `decode, cut and JSON.parse, keep nothing, round ${r + 1}`, n: lines.length, ms: decoded, rssMb: process.memoryUsage().rss / 2 ** 20 });
      cases.push({ name: `decode, cut, JSON.parse and keep in a Map (no projection, no engine), round ${r + 1}`, n: lines.length, ms: keep, rssMb: process.memoryUsage().rss / 2 ** 20 });
      keepless.push(parse / decoded);
      return parse / keep;
    });
    const span = (xs: number[]) => {
      const g = goalRow({ row: '', baseline: '', goal: 0, better: 'higher', unit: '×' }, [...xs].sort((a, b) => a - b));
      return `${g.min.toFixed(2)}–${g.median.toFixed(2)}`;
    };
    const floorSpan = span(floor);
    const keeplessSpan = span(keepless);
    for (const [label, rules] of sets) {
      await fullPath(rules, lines.slice(0, 500), chunks(lines.slice(0, 500))); // warm-up
      const ratios = await rounds(async (r) => {
        const parse = parseOnly(lines);
        const full = await fullPath(rules, lines, body);
        cases.push({ name: `${label}: JSON.parse of the stream, round ${r + 1}`, n: lines.length, ms: parse, rssMb: process.memoryUsage().rss / 2 ** 20 });
        cases.push({ name: `${label} (${rules.length}): informer + engine, round ${r + 1}`, n: lines.length, ms: full, rssMb: process.memoryUsage().rss / 2 ** 20 });
        return parse / full;
      });
      // The same path without the engine, in the same run: the ceiling of any engine work.
      const alone = await rounds(async (r) => {
        const parse = parseOnly(lines);
        const informer = await fullPath(rules, lines, body, false);
        cases.push({ name: `${label}: informer alone (no engine), round ${r + 1}`, n: lines.length, ms: informer, rssMb: process.memoryUsage().rss / 2 ** 20 });
        return parse / informer;
      });
      const ceiling = goalRow({ row: '', baseline: '', goal: 0, better: 'higher', unit: '×' }, alone);
      ceilings.push(`${label}: ${ceiling.min.toFixed(2)}–${ceiling.median.toFixed(2)} ×`);
      goals.push(goalRow({ row: `full path (parse → informer → engine), ${label} (${rules.length})`, baseline: 'JSON.parse of the same stream', goal: 0.5, better: 'higher', unit: '×', limit: limit(floorSpan, ceiling, goalRow({ row: '', baseline: '', goal: 0, better: 'higher', unit: '×' }, ratios).median) }, ratios));
    }
    const avg = lines.reduce((n, l) => n + l.length, 0) / lines.length;
    return {
      title: 'Detection at cluster scale: the full path against JSON.parse (issue 16)',
      budget: 'none in ms; the goal rows compare with JSON.parse of the same stream in the same run',
      cases,
      goals,
      notes: [
        `${EVENTS.toLocaleString('en-US')} watch events over ${PODS.toLocaleString('en-US')} cached pods (bench/fixtures/pods.ts, ${(avg / 1024).toFixed(1)} KiB per event on average, managedFields included); 1 event in 50 a pod in a failing state.`,
        'Times are this process\'s CPU time (user + system), for the parse baseline and the full path alike: the machine is shared, and wall time would measure the neighbours.',
        'The informer reads the stream as it reads kube-apiserver (64 KiB chunks cut into lines, JSON.parse, the projection the pipeline sets for these rules with incidents on, cache with the old object); KubeSource\'s signal mapping; the detection engine with its stages. The initial LIST is not timed.',
        'The 1,000-rule set (bench/fixtures/rules.ts): copies of the shipped rules, 60 % scoped to one of 100 namespaces, 35 % to one team label, 5 % cluster-wide, each with a varied condition; all pass `rules check`.',
        `The informer alone (the same stream, projection and cache, signals built, no engine) against JSON.parse in this run, worst–median: ${ceilings.join('; ')}. No work on the engine can take the full path above it.`,
        `The least any watch cache can do with this stream — decode the bytes, cut lines, JSON.parse, keep each object in a Map in place of its old version, nothing else — against JSON.parse of the lines in this run, worst–median: ${floorSpan} ×; decoding, cutting and parsing without keeping: ${keeplessSpan} ×. Decoding and cutting cost about nothing beside parsing; what keeping adds is the collector's work on 6,000 kept objects of ~8 KiB whose old versions die in the old generation (it varies most from round to round) — V8's and this machine's cost, which no watch cache avoids. The informer keeps projections (a third of the bytes), which is why it measures as well as this floor or better, projecting included.`,
        ...PROFILE,
      ],
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
