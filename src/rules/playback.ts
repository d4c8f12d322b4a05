// `kubemend rules test`: plays a scenario on the sandbox in virtual time and
// runs the rules against it exactly as `kubemend watch` would against a real
// cluster — informers over HTTP, the same engine — so what a rule does here
// is what it will do in production. After every virtual second the loop
// waits until each informer has seen the store's latest change of its kind,
// which makes runs deterministic however fast the CPU is.
import type { Scenario } from '../sandbox/scenarios/schema.ts';
import type { DetectionChange, Notification } from './engine.ts';
import type { LoadedRule } from './loader.ts';
import { SandboxSession } from './session.ts';
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
  const notifications: Notification[] = [];
  const timeline: PlaybackResult['timeline'] = [];
  let session: SandboxSession | undefined;
  const elapsed = () => session?.elapsedMs ?? 0;
  session = await SandboxSession.start(opts.scenario, opts.rules, {
    onDetection(d, change) {
      const s = d.subject;
      timeline.push({ elapsedMs: elapsed(), change, rule: d.rule, subject: `${s.kind.toLowerCase()}/${s.namespace ? `${s.namespace}/` : ''}${s.name}`, count: d.count, status: d.status });
      opts.onDetection?.(d, change, elapsed());
    },
    onNotify(n) {
      notifications.push(n);
      opts.onNotify?.(n, elapsed());
    },
  });
  const drops = new Set((opts.dropWatchesAtMs ?? []).map((t) => Math.floor(t / 1000)));
  const gones = new Set((opts.forceGoneAtMs ?? []).map((t) => Math.floor(t / 1000)));
  try {
    for (let second = 0; !session.done; second++) {
      if (drops.has(second) || gones.has(second)) await session.disrupt(gones.has(second));
      await session.tick();
    }
    const source = session.source;
    return {
      detections: session.engine.detections(),
      notifications,
      timeline,
      requests: session.sandbox.api!.requestCounts(),
      informers: source.kinds().map((k) => source.informer(k.kind)!.stats).reduce(
        (a, x) => ({ lists: a.lists + x.lists, watches: a.watches + x.watches, relistsAfterGone: a.relistsAfterGone + x.relistsAfterGone, resumes: a.resumes + x.resumes }),
        { lists: 0, watches: 0, relistsAfterGone: 0, resumes: 0 },
      ),
      durationMs: session.elapsedMs,
      startedAt: session.startedAt,
    };
  } finally {
    await session.stop();
  }
}
