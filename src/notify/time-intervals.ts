// Alertmanager's time intervals (its timeinterval package), for routes'
// mute_time_intervals and active_time_intervals: times of day (start
// inclusive, end exclusive, "HH:MM", end up to 24:00), weekdays, days of the
// month (negative counts from the month's end), months and years, each a
// list of inclusive ranges `a:b` or single values, all read in `location`
// (an IANA time zone, default UTC). An interval holds when every field it
// gives holds; a named set holds when any of its intervals does.

export interface TimeIntervalSpec {
  times?: { start_time: string; end_time: string }[];
  weekdays?: string[];
  days_of_month?: string[];
  months?: string[];
  years?: string[];
  location?: string;
}

type Range = [number, number];

export interface CompiledInterval {
  times?: Range[];
  weekdays?: Range[];
  daysOfMonth?: Range[];
  months?: Range[];
  years?: Range[];
  location: string;
}

const WEEKDAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];
const MONTHS = ['january', 'february', 'march', 'april', 'may', 'june', 'july', 'august', 'september', 'october', 'november', 'december'];
const TIME = /^(?:(?:[01][0-9]|2[0-3]):[0-5][0-9]|24:00)$/;

export class IntervalError extends Error {
  readonly path: (string | number)[];
  constructor(path: (string | number)[], message: string) {
    super(message);
    this.path = path;
  }
}

function minutes(t: string, path: (string | number)[]): number {
  if (!TIME.test(t)) throw new IntervalError(path, `"${t}" is not a time of day: HH:MM from 00:00 to 24:00`);
  const [h, m] = t.split(':').map(Number);
  return h * 60 + m;
}

function ranges(list: string[] | undefined, field: string, member: (s: string) => number | undefined, check: (r: Range, s: string) => string | undefined): Range[] | undefined {
  if (list === undefined) return undefined;
  return list.map((raw, i) => {
    const s = raw.trim().toLowerCase();
    const parts = s.split(':');
    if (parts.length > 2) throw new IntervalError([field, i], `"${raw}" is not a value or a range a:b`);
    const [a, b] = [member(parts[0]), member(parts[1] ?? parts[0])];
    if (a === undefined || b === undefined) throw new IntervalError([field, i], `"${raw}" is not a valid ${field.replace(/_/g, ' ').replace(/s$/, '')}`);
    const problem = check([a, b], raw);
    if (problem) throw new IntervalError([field, i], problem);
    return [a, b] as Range;
  });
}

const int = (s: string) => (/^-?\d+$/.test(s) ? Number(s) : undefined);

/** Validates one interval; throws IntervalError with the path of the bad field. */
export function compileInterval(spec: TimeIntervalSpec): CompiledInterval {
  const location = spec.location ?? 'UTC';
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: location });
  } catch {
    throw new IntervalError(['location'], `"${location}" is not an IANA time zone (e.g. Europe/Berlin, America/New_York, UTC)`);
  }
  const times = spec.times?.map((t, i): Range => {
    const start = minutes(t.start_time, ['times', i, 'start_time']);
    const end = minutes(t.end_time, ['times', i, 'end_time']);
    if (start >= end) throw new IntervalError(['times', i], 'start_time must be before end_time (a range over midnight is two ranges)');
    return [start, end];
  });
  const weekdays = ranges(spec.weekdays, 'weekdays', (s) => (WEEKDAYS.includes(s) ? WEEKDAYS.indexOf(s) : undefined), ([a, b], raw) => (a > b ? `"${raw}": the start day is after the end day (weeks start on sunday)` : undefined));
  const daysOfMonth = ranges(spec.days_of_month, 'days_of_month', int, ([a, b], raw) => {
    if (a === 0 || b === 0 || Math.abs(a) > 31 || Math.abs(b) > 31) return `"${raw}": days of the month are 1 to 31, or -31 to -1 from the end`;
    if (a < 0 && b > 0) return `"${raw}": the end day must be negative when the start day is`;
    if ((a < 0 ? 28 + a : a) > (b < 0 ? 28 + b : b)) return `"${raw}": the end day is always before the start day`;
    return undefined;
  });
  const months = ranges(spec.months, 'months', (s) => (MONTHS.includes(s) ? MONTHS.indexOf(s) + 1 : int(s)), ([a, b], raw) => {
    if (a < 1 || b > 12) return `"${raw}": months are 1 to 12 or january to december`;
    return a > b ? `"${raw}": the end month is before the start month` : undefined;
  });
  const years = ranges(spec.years, 'years', int, ([a, b], raw) => (a < 1 || a > b ? `"${raw}": the end year is before the start year` : undefined));
  return { times, weekdays, daysOfMonth, months, years, location };
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** The wall-clock fields of `ms` in a time zone. */
function wallClock(ms: number, zone: string): { year: number; month: number; day: number; weekday: number; minute: number; daysInMonth: number } {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', weekday: 'long' });
    formatters.set(zone, f);
  }
  const p: Record<string, string> = {};
  for (const part of f.formatToParts(new Date(ms))) p[part.type] = part.value;
  const year = Number(p.year);
  const month = Number(p.month);
  return {
    year,
    month,
    day: Number(p.day),
    weekday: WEEKDAYS.indexOf(p.weekday.toLowerCase()),
    minute: Number(p.hour) * 60 + Number(p.minute),
    daysInMonth: new Date(Date.UTC(year, month, 0)).getUTCDate(),
  };
}

const within = (rs: Range[] | undefined, v: number) => rs === undefined || rs.some(([a, b]) => v >= a && v <= b);

export function intervalContains(iv: CompiledInterval, ms: number): boolean {
  const w = wallClock(ms, iv.location);
  if (iv.times && !iv.times.some(([a, b]) => w.minute >= a && w.minute < b)) return false;
  if (iv.daysOfMonth) {
    const ok = iv.daysOfMonth.some(([a, b]) => {
      const begin = a < 0 ? w.daysInMonth + a + 1 : a;
      const end = b < 0 ? w.daysInMonth + b + 1 : b;
      if (begin > w.daysInMonth) return false;
      return w.day >= begin && w.day <= Math.min(end, w.daysInMonth);
    });
    if (!ok) return false;
  }
  return within(iv.months, w.month) && within(iv.weekdays, w.weekday) && within(iv.years, w.year);
}
