// `kubemend rules test`: plays a scenario on the sandbox in virtual time and
// runs the rules against it exactly as `kubemend watch` would against a real
// cluster — informers over HTTP, the same engine — so what a rule does here
// is what it will do in production. After every virtual second the loop
// waits until each informer has seen the store's latest change of its kind,
// which makes runs deterministic however fast the CPU is.
import { KubeConfig } from '@kubernetes/client-node';
import { playFast } from '../sandbox/scenarios/index.ts';
import { findKind } from '../sandbox/scenarios/kinds.ts';
import type { Scenario } from '../sandbox/scenarios/schema.ts';
import { DetectionEngine, type DetectionChange, type Notification } from './engine.ts';
import type { LoadedRule } from './loader.ts';
import { KubeSource } from './sources/kube-source.ts';
import { kindsToWatch } from './kinds-needed.ts';
import type { Detection } from './types.ts';

export interface PlaybackOptions {
  rules: LoadedRule[];
  scenario: Scenario;
  /** Virtual ms after the start at which to restart the API server (drops every watch). */
  dropWatchesAtMs?: number[];
  /** Virtual ms after the start at which to compact history while watches are down (forces 410 → relist). */
  forceGoneAtMs?: number[];
  onDetection?(d: Detection, change: DetectionChange, elapsedMs: number): void;
  onNotify?(n: Notification, elapsedMs: number): void;
}

export interface PlaybackResult {
  detections: Detection[];
  notifications: Notification[];
  /** Every detection change in order, with virtual time since the start. */
  timeline: { elapsedMs: number; change: DetectionChange; rule: string; subject: string; count: number; status: string }[];
  /** Requests the (last) API server served, by "verb resource". */
  requests: Record<string, number>;
  /** Informer counters summed over kinds: lists, watches, relists after 410, resumes. */
  informers: { lists: number; watches: number; relistsAfterGone: number; resumes: number };
  durationMs: number;
  startedAt: number;
}

export async function playRules(opts: PlaybackOptions): Promise<PlaybackResult> {
  const play = playFast(opts.scenario);
  const { sandbox, clock } = play;
  const start = clock.now();
  await sandbox.listen();
  const kc = new KubeConfig();
  kc.loadFromString(sandbox.kubeconfig());
  const kinds = kindsToWatch(opts.rules);
  const source = new KubeSource({ cluster: 'sandbox', kubeconfig: kc, clock, kinds });
  const notifications: Notification[] = [];
  const timeline: PlaybackResult['timeline'] = [];
  const engine = new DetectionEngine({
    clock,
    rules: opts.rules,
    lookup: (_cluster, kind, ns) => source.list(kind, ns),
    hooks: {
      onDetection(d, change) {
        const elapsedMs = clock.now() - start;
        const s = d.subject;
        timeline.push({ elapsedMs, change, rule: d.rule, subject: `${s.kind.toLowerCase()}/${s.namespace ? `${s.namespace}/` : ''}${s.name}`, count: d.count, status: d.status });
        opts.onDetection?.(d, change, elapsedMs);
      },
      onNotify(n) {
        notifications.push(n);
        opts.onNotify?.(n, clock.now() - start);
      },
    },
  });
  const storages = [...new Set(kinds.map((k) => findKind(k)!.storage))];
  const drops = new Set((opts.dropWatchesAtMs ?? []).map((t) => Math.floor(t / 1000)));
  const gones = new Set((opts.forceGoneAtMs ?? []).map((t) => Math.floor(t / 1000)));
  try {
    await source.start((s) => engine.ingest(s));
    const scheduled = opts.rules.filter((r) => r.rule.spec.source === 'schedule');
    const nextSweep = new Map(scheduled.map((r) => [r.rule.metadata.name, 0]));
    for (let second = 0; clock.now() - start < opts.scenario.spec.duration; second++) {
      if (drops.has(second) || gones.has(second)) {
        const port = Number(new URL(sandbox.url).port);
        await sandbox.api!.close();
        if (gones.has(second)) sandbox.store.compact();
        await sandbox.listen({ port });
      }
      await clock.advance(1000);
      await caughtUp(sandbox.store, storages, source);
      for (const r of scheduled) {
        const name = r.rule.metadata.name;
        if (clock.now() - start >= nextSweep.get(name)!) {
          engine.sweep(name, 'sandbox');
          nextSweep.set(name, clock.now() - start + intervalOf(r.rule.spec.schedule!));
        }
      }
    }
    return {
      detections: engine.detections(),
      notifications,
      timeline,
      requests: sandbox.api!.requestCounts(),
      informers: source.kinds().map((k) => source.informer(k.kind)!.stats).reduce(
        (a, x) => ({ lists: a.lists + x.lists, watches: a.watches + x.watches, relistsAfterGone: a.relistsAfterGone + x.relistsAfterGone, resumes: a.resumes + x.resumes }),
        { lists: 0, watches: 0, relistsAfterGone: 0, resumes: 0 },
      ),
      durationMs: clock.now() - start,
      startedAt: start,
    };
  } finally {
    engine.stop();
    source.stop();
    play.runner.stop();
    await sandbox.stop();
  }
}

async function caughtUp(store: { lastChangeRV(s: string): number }, storages: string[], source: KubeSource): Promise<void> {
  const target = new Map(storages.map((s) => [s, store.lastChangeRV(s)]));
  const t0 = Date.now();
  for (;;) {
    const behind = source.kinds().some((k) => {
      const want = target.get(findKind(k.kind)!.storage) ?? 0;
      return Number(source.informer(k.kind)!.resourceVersion || 0) < want;
    });
    if (!behind) return;
    if (Date.now() - t0 > 30_000) throw new Error('informers did not catch up with the sandbox within 30s');
    await new Promise((r) => setImmediate(r));
  }
}

/** Playback sweeps schedules by interval; cron schedules are swept every minute of virtual time. */
function intervalOf(schedule: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(schedule.trim());
  if (!m) return 60_000;
  return Number(m[1]) * ({ ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const)[m[2] as 'ms' | 's' | 'm' | 'h'];
}
