// CronJob schedules as the controller reads them (robfig/cron's ParseStandard):
// five fields or a descriptor (@hourly, @daily, @midnight, @weekly, @monthly,
// @yearly/@annually, @every <duration>), in spec.timeZone or UTC. croner does
// the field arithmetic (day-of-month and day-of-week OR'ed, as cron does);
// this file adds what robfig does differently, and pkg/controller/cronjob's
// mostRecentScheduleTime / nextScheduleTimeDuration.
import { Cron } from 'croner';

export interface Schedule {
  /** The first activation strictly after `t` (ms), or null when there is none. */
  next(t: number): number | null;
}

const DESCRIPTORS: Record<string, string> = {
  '@yearly': '0 0 1 1 *', '@annually': '0 0 1 1 *', '@monthly': '0 0 1 * *', '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *', '@midnight': '0 0 * * *', '@hourly': '0 * * * *',
};

const UNIT_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Go's time.ParseDuration, for `@every 1h30m`. */
function parseGoDuration(s: string): number | undefined {
  if (s === '0') return 0;
  if (!/^(?:\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h))+$/.test(s)) return undefined;
  let total = 0;
  for (const m of s.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)) total += Number(m[1]) * UNIT_MS[m[2]];
  return total;
}

/** Whether Go's time.LoadLocation knows the zone ("" and "UTC"/"Local" included). */
export function knownTimeZone(tz: string): boolean {
  if (tz === '' || tz === 'UTC' || tz === 'Local') return true;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** Parses like cron.ParseStandard; throws with robfig's wording where it is known. */
export function parseSchedule(spec: string, timeZone?: string | null): Schedule {
  let text = spec.trim();
  let tz = timeZone || 'UTC';
  const tzPrefix = text.match(/^(?:CRON_TZ|TZ)=(\S+)\s+(.*)$/);
  if (tzPrefix) {
    tz = tzPrefix[1];
    text = tzPrefix[2].trim();
    if (!knownTimeZone(tz)) throw new RangeError(`provided bad location ${tz}: unknown time zone ${tz}`);
  }
  if (text.startsWith('@every ')) {
    const ms = parseGoDuration(text.slice('@every '.length).trim());
    if (ms === undefined) throw new RangeError(`failed to parse duration ${text}: time: invalid duration "${text.slice('@every '.length).trim()}"`);
    // ConstantDelaySchedule: at least a second, whole seconds, counted from the given time.
    const delay = Math.max(1000, Math.floor(ms / 1000) * 1000);
    return { next: (t) => t - (t % 1000) + delay };
  }
  if (text.startsWith('@')) {
    const expanded = DESCRIPTORS[text];
    if (!expanded) throw new RangeError(`unrecognized descriptor: ${text}`);
    text = expanded;
  }
  const fields = text.split(/\s+/).filter(Boolean);
  if (fields.length !== 5) throw new RangeError(`expected exactly 5 fields, found ${fields.length}: [${fields.join(' ')}]`);
  let cron: Cron;
  try {
    cron = new Cron(fields.join(' '), { timezone: tz === 'Local' ? 'UTC' : tz, legacyMode: true });
  } catch (err) {
    throw new RangeError((err as Error).message.replace(/^CronPattern: /, ''));
  }
  return { next: (t) => cron.nextRun(new Date(t))?.getTime() ?? null };
}

export type Missed = 'none' | 'few' | 'many';

export interface MostRecent {
  earliest: number;
  mostRecent: number | null;
  missed: Missed;
  missedCount: number;
  error?: string;
}

/**
 * mostRecentScheduleTime (utils.go): the latest activation at or before
 * `now` since the last schedule (or creation), bounded by
 * startingDeadlineSeconds when asked; with how many were missed.
 */
export function mostRecentScheduleTime(cj: { creationMs: number; lastScheduleMs?: number; startingDeadlineSeconds?: number | null }, now: number, s: Schedule, withDeadline: boolean): MostRecent {
  let earliest = cj.lastScheduleMs ?? cj.creationMs;
  if (withDeadline && cj.startingDeadlineSeconds != null) {
    const deadline = now - cj.startingDeadlineSeconds * 1000;
    if (deadline > earliest) earliest = deadline;
  }
  const t1 = s.next(earliest);
  const t2 = t1 === null ? null : s.next(t1);
  if (t1 !== null && now < t1) return { earliest, mostRecent: null, missed: 'none', missedCount: 0 };
  if (t1 !== null && t2 !== null && now < t2) return { earliest, mostRecent: t1, missed: 'none', missedCount: 0 };
  const between = t1 === null || t2 === null ? 0 : Math.round((t2 - t1) / 1000);
  if (between < 1) return { earliest, mostRecent: null, missed: 'none', missedCount: 0, error: 'time difference between two schedules is less than 1 second' };
  const elapsed = Math.floor((now - t1!) / 1000);
  const missedCount = Math.floor(elapsed / between) + 1;
  // Start a little before the estimate and let the schedule find the last activation exactly.
  const potentialEarliest = t1! + (missedCount - 2) * between * 1000;
  let mostRecent: number | null = null;
  for (let t = s.next(potentialEarliest); t !== null && t <= now; t = s.next(t)) mostRecent = t;
  const missed: Missed = missedCount > 100 ? 'many' : missedCount > 0 ? 'few' : 'none';
  return { earliest, mostRecent, missed, missedCount };
}

/** nextScheduleTimeDuration: how long until the next activation, plus 100ms for clock skew. */
export function nextScheduleDelay(cj: { creationMs: number; lastScheduleMs?: number; startingDeadlineSeconds?: number | null }, now: number, s: Schedule): number | null {
  const r = mostRecentScheduleTime(cj, now, s, false);
  let from: number;
  if (r.error) from = now;
  else if (r.mostRecent === null) from = r.missed === 'none' ? r.earliest : now;
  else from = r.mostRecent;
  const next = s.next(from);
  return next === null ? null : next + 100 - now;
}
