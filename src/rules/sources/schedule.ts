// Schedule ticks for `source: schedule` rules. croner only computes the next
// run from a date; the timers themselves come from the injected Clock, so a
// day of cron ticks replays in milliseconds under ManualClock and agrees with
// the sandbox's virtual time under ScaledClock.
import { Cron } from 'croner';
import { parseDuration, type Clock, type TimerHandle } from '../../common/index.ts';
import type { Signal } from '../types.ts';
import type { Emit, Source } from './source.ts';

/** A schedule tick, tagged with the rule it is for (until Signal grows a field for it). */
export type ScheduleSignal = Signal & { source: 'schedule'; scheduleRule: string };

export interface ScheduleEntry {
  ruleName: string;
  /** An interval ("30s", "5m", "1h30m") or a cron expression ("*\/5 * * * *", "@hourly"). */
  schedule: string;
  /** Cluster the tick is for; defaults to the source's cluster. */
  cluster?: string;
}

export interface ScheduleSourceOptions {
  clock: Clock;
  /** Cluster stamped on ticks whose entry names none. */
  cluster: string;
  /** IANA zone cron expressions are read in ("Europe/Berlin"); default: the process's local zone, as cron does. */
  timezone?: string;
  /** Tick every rule once at start, then on its schedule: a sweep should not wait a whole interval after a restart. */
  runAtStart?: boolean;
}

export type ParsedSchedule =
  | { kind: 'interval'; ms: number }
  | { kind: 'cron'; cron: Cron };

/**
 * Reads a schedule string. Anything parseDuration accepts is an interval;
 * everything else must be a cron expression (5–7 fields or an @nickname).
 * Throws RangeError naming both readings, so a rule loader can report it.
 */
export function parseSchedule(schedule: string, timezone?: string): ParsedSchedule {
  const text = schedule.trim();
  if (!/\s/.test(text) && !text.startsWith('@')) {
    let ms: number;
    try {
      ms = parseDuration(text);
    } catch (err) {
      throw new RangeError(`schedule "${schedule}" is neither an interval (like 30s, 5m, 1h30m) nor a cron expression (like "*/5 * * * *")`, { cause: err });
    }
    if (!(ms > 0)) throw new RangeError(`schedule "${schedule}": an interval must be longer than 0`);
    return { kind: 'interval', ms };
  }
  try {
    // No callback: croner schedules nothing itself, it only answers nextRun().
    return { kind: 'cron', cron: new Cron(text, { timezone }) };
  } catch (err) {
    throw new RangeError(`schedule "${schedule}" is not a valid cron expression: ${(err as Error).message}`, { cause: err });
  }
}

/** The first fire time strictly after `after` (ms), or null when a cron expression never fires again. */
export function nextFireTime(s: ParsedSchedule, after: number, anchor = after): number | null {
  if (s.kind === 'interval') {
    // Fixed rate from the anchor: ticks stay on anchor + k·interval however late a timer runs.
    const k = Math.floor((after - anchor) / s.ms) + 1;
    return anchor + Math.max(1, k) * s.ms;
  }
  const next = s.cron.nextRun(new Date(after));
  return next ? next.getTime() : null;
}

// Node timers overflow past ~24.8 days; long waits are taken in hops and re-checked.
const MAX_HOP = 24 * 3_600_000;

interface Job {
  entry: ScheduleEntry;
  parsed: ParsedSchedule;
  anchor: number;
  /** Next fire time (ms), or null when finished. */
  next: number | null;
  timer?: TimerHandle;
}

export class ScheduleSource implements Source {
  readonly name = 'schedules';
  private readonly clock: Clock;
  private readonly cluster: string;
  private readonly runAtStart: boolean;
  private readonly jobs: Job[];
  private emit: Emit | null = null;

  /** Parses every schedule up front, so a bad one fails construction rather than a later tick. */
  constructor(entries: readonly ScheduleEntry[], opts: ScheduleSourceOptions) {
    this.clock = opts.clock;
    this.cluster = opts.cluster;
    this.runAtStart = opts.runAtStart ?? false;
    this.jobs = entries.map((entry) => {
      let parsed: ParsedSchedule;
      try {
        parsed = parseSchedule(entry.schedule, opts.timezone);
      } catch (err) {
        throw new RangeError(`rule "${entry.ruleName}": ${(err as Error).message}`, { cause: err });
      }
      return { entry, parsed, anchor: 0, next: null };
    });
  }

  start(emit: Emit): void {
    if (this.emit) throw new Error('internal: ScheduleSource already started');
    this.emit = emit;
    const now = this.clock.now();
    for (const job of this.jobs) {
      job.anchor = now;
      job.next = this.runAtStart ? now : nextFireTime(job.parsed, now, now);
      this.arm(job);
    }
  }

  stop(): void {
    this.emit = null;
    for (const job of this.jobs) {
      job.timer?.cancel();
      job.timer = undefined;
      job.next = null;
    }
  }

  /** When each rule ticks next (ms), for status pages; null once a cron expression has no future run. */
  nextRuns(): { rule: string; at: number | null }[] {
    return this.jobs.map((j) => ({ rule: j.entry.ruleName, at: j.next }));
  }

  private arm(job: Job): void {
    job.timer?.cancel();
    job.timer = undefined;
    if (job.next === null || !this.emit) return;
    const wait = Math.max(0, job.next - this.clock.now());
    job.timer = this.clock.setTimeout(() => this.onTimer(job), Math.min(wait, MAX_HOP));
  }

  private onTimer(job: Job): void {
    const emit = this.emit;
    if (!emit || job.next === null) return;
    const now = this.clock.now();
    if (now < job.next) {
      this.arm(job); // an intermediate hop of a long wait
      return;
    }
    // Re-arm before emitting so a throwing consumer cannot stop the schedule.
    // Ticks missed while late are skipped, not replayed in a burst.
    job.next = nextFireTime(job.parsed, Math.max(now, job.next), job.anchor);
    this.arm(job);
    const signal: ScheduleSignal = {
      source: 'schedule',
      cluster: job.entry.cluster ?? this.cluster,
      time: now,
      scheduleRule: job.entry.ruleName,
    };
    emit(signal);
  }
}
