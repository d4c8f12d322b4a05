// Go's time.Parse for the two layouts the API server decodes timestamps with
// (metav1.Time: RFC 3339; metav1.MicroTime: RFC 3339 with exactly six
// fractional digits), with Go's error messages, so a bad timestamp is refused
// in the words kube-apiserver uses and a good one is re-encoded as it would be.

export const RFC3339 = '2006-01-02T15:04:05Z07:00';
export const RFC3339_MICRO = '2006-01-02T15:04:05.000000Z07:00';

/** A parsed instant: whole seconds since the epoch (UTC) and nanoseconds. */
export interface GoTime {
  seconds: number;
  nanos: number;
}

export class GoTimeError extends Error {}

const isDigit = (s: string, i: number) => i < s.length && s[i] >= '0' && s[i] <= '9';
const quote = (s: string) => JSON.stringify(s);

function getnum(s: string, fixed: boolean): [number, string] | undefined {
  if (!isDigit(s, 0)) return undefined;
  if (!isDigit(s, 1)) return fixed ? undefined : [Number(s[0]), s.slice(1)];
  return [Number(s.slice(0, 2)), s.slice(2)];
}

/** value[0] is '.' or ',', then digits up to `n` bytes in all: nanoseconds (at most nine digits count). */
function nanosOf(value: string, n: number): number | undefined {
  if (value[0] !== '.' && value[0] !== ',') return undefined;
  const digits = value.slice(1, Math.min(n, 10));
  if (!/^\d+$/.test(digits)) return undefined;
  return Number(digits.padEnd(9, '0'));
}

/** Date.UTC without its 1900 offset for years below 100. */
function utc(year: number, month: number, day: number, h = 0, m = 0, s = 0): number {
  const d = new Date(0);
  d.setUTCFullYear(year, month, day);
  d.setUTCHours(h, m, s, 0);
  return d.getTime();
}

const daysIn = (month: number, year: number) => new Date(utc(year, month, 0)).getUTCDate();

type Chunk = { lit: string } | { std: '2006' | '01' | '02' | '15' | '04' | '05' | '.000000' | 'Z07:00' };

const CHUNKS: Chunk[] = [
  { std: '2006' }, { lit: '-' }, { std: '01' }, { lit: '-' }, { std: '02' }, { lit: 'T' },
  { std: '15' }, { lit: ':' }, { std: '04' }, { lit: ':' }, { std: '05' },
];

/** time.Parse(layout, value) for RFC3339 or RFC3339Micro; throws GoTimeError with Go's message. */
export function parseGoTime(value: string, layout: typeof RFC3339 | typeof RFC3339_MICRO): GoTime {
  const chunks: Chunk[] = [...CHUNKS, ...(layout === RFC3339_MICRO ? [{ std: '.000000' } as Chunk] : []), { std: 'Z07:00' }];
  const bad = (elem: string, rest: string) => new GoTimeError(`parsing time ${quote(value)} as ${quote(layout)}: cannot parse ${quote(rest)} as ${quote(elem)}`);
  const range = (what: string) => new GoTimeError(`parsing time ${quote(value)}: ${what} out of range`);
  let v = value;
  let year = 0, month = 0, day = 0, hour = 0, min = 0, sec = 0, nanos = 0, offset = 0;
  for (const c of chunks) {
    if ('lit' in c) {
      if (v[0] !== c.lit) throw bad(c.lit, v);
      v = v.slice(1);
      continue;
    }
    const hold = v;
    let got: [number, string] | undefined;
    switch (c.std) {
      case '2006':
        if (v.length < 4 || !/^\d{4}$/.test(v.slice(0, 4))) throw bad(c.std, hold);
        year = Number(v.slice(0, 4));
        v = v.slice(4);
        break;
      case '01': case '02': case '15': case '04': case '05':
        got = getnum(v, c.std !== '15');
        if (!got) throw bad(c.std, hold);
        [, v] = got;
        if (c.std === '01') { month = got[0]; if (month < 1 || month > 12) throw range('month'); }
        if (c.std === '02') day = got[0];
        if (c.std === '15') { hour = got[0]; if (hour >= 24) throw range('hour'); }
        if (c.std === '04') { min = got[0]; if (min >= 60) throw range('minute'); }
        if (c.std === '05') {
          sec = got[0];
          if (sec >= 60) throw range('second');
          // A fraction the layout does not name is still read (Go does so after seconds).
          if (layout === RFC3339 && v.length >= 2 && (v[0] === '.' || v[0] === ',') && isDigit(v, 1)) {
            let n = 2;
            while (isDigit(v, n)) n++;
            nanos = nanosOf(v, n)!;
            v = v.slice(n);
          }
        }
        break;
      case '.000000': {
        const n = nanosOf(v, 7);
        if (v.length < 7 || n === undefined) throw bad(c.std, hold);
        nanos = n;
        v = v.slice(7);
        break;
      }
      case 'Z07:00': {
        if (v[0] === 'Z') { v = v.slice(1); break; }
        if (v.length < 6 || v[3] !== ':') throw bad(c.std, hold);
        const hh = getnum(v.slice(1, 3), true);
        const mm = getnum(v.slice(4, 6), true);
        if (!hh || !mm || (v[0] !== '+' && v[0] !== '-')) throw bad(c.std, hold);
        if (hh[0] > 24) throw range('time zone offset hour');
        if (mm[0] > 60) throw range('time zone offset minute');
        offset = (v[0] === '-' ? -1 : 1) * (hh[0] * 60 + mm[0]) * 60;
        v = v.slice(6);
        break;
      }
    }
  }
  if (v) throw new GoTimeError(`parsing time ${quote(value)}: extra text: ${quote(v)}`);
  if (day < 1 || day > daysIn(month, year)) throw range('day');
  const seconds = utc(year, month - 1, day, hour, min, sec) / 1000 - offset;
  return { seconds, nanos };
}

function utcDate(seconds: number): string {
  return new Date(seconds * 1000).toISOString().slice(0, 19);
}

/** metav1.Time as JSON: UTC, whole seconds, `Z`. */
export function formatTime(t: GoTime): string {
  return `${utcDate(t.seconds)}Z`;
}

/** metav1.MicroTime as JSON: UTC, six fractional digits, `Z`. */
export function formatMicroTime(t: GoTime): string {
  return `${utcDate(t.seconds)}.${String(Math.floor(t.nanos / 1000)).padStart(6, '0')}Z`;
}
