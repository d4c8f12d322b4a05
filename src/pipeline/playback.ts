// `kubemend rules test`: a scenario played on the sandbox in virtual time
// with detection only (no store, no remediation), collecting every
// detection change and notification, and counting what the API server and
// the informers did — the proof that watching costs no request per event.
import type { Scenario } from '../sandbox/index.ts';
import type { DetectionChange, Notification, LoadedRule, Detection } from '../rules/index.ts';
import { ScenarioSession } from './scenario-session.ts';
import { subjectText } from './sink.ts';

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
  let session: ScenarioSession | undefined;
  const elapsed = () => session?.elapsedMs ?? 0;
  session = await ScenarioSession.start({
    scenario: opts.scenario,
    rules: opts.rules,
    sinks: [{
      name: 'playback',
      onDetection(d, change) {
        timeline.push({ elapsedMs: elapsed(), change, rule: d.rule, subject: subjectText(d), count: d.count, status: d.status });
        opts.onDetection?.(d, change, elapsed());
      },
      onNotify(n) {
        notifications.push(n);
        opts.onNotify?.(n, elapsed());
      },
    }],
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
