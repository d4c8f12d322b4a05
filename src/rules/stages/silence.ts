// Silences, with Alertmanager's matcher syntax so that operators can reuse
// what they already type there. A silenced detection is still recorded (the
// engine marks it 'silenced' with the silence's id); a silence only withholds
// notifications and actions.
import { randomUUID } from 'node:crypto';
import { type Clock, parseDuration, Errors, KubemendError } from '../../common/index.ts';
import type { Silence } from '../types.ts';

export type Matcher = Silence['matchers'][number];
export type MatchOp = Matcher['op'];

const SYNTAX = 'expected name=value, name!=value, name=~regex or name!~regex';
const NAME = /^[A-Za-z_][A-Za-z0-9_./-]*$/;
const MATCHER = /^\s*([A-Za-z_][A-Za-z0-9_./-]*)\s*(=~|!~|!=|=)\s*(.*?)\s*$/s;
const OPS: readonly MatchOp[] = ['=', '!=', '=~', '!~'];

function invalid(message: string): KubemendError {
  return new KubemendError(Errors.SILENCE_INVALID, message);
}

/**
 * Parses one matcher: `namespace=shop`, `name!=x`, `rule=~"crash.*"`,
 * `severity!~info`. The value may be double-quoted (JSON string escapes).
 */
export function parseMatcher(input: string): Matcher {
  const m = MATCHER.exec(input);
  if (!m) throw invalid(`invalid silence matcher "${input}": ${SYNTAX}`);
  const [, name, op, raw] = m;
  let value = raw;
  if (raw.startsWith('"')) {
    try {
      const parsed: unknown = JSON.parse(raw);
      if (typeof parsed !== 'string') throw new Error('not a string');
      value = parsed;
    } catch {
      throw invalid(`invalid silence matcher "${input}": the quoted value is not closed or has a bad escape; ${SYNTAX}`);
    }
  }
  const matcher: Matcher = { name, op: op as MatchOp, value };
  compileMatcher(matcher, input);
  return matcher;
}

/** A matcher ready to test labels; a missing label counts as the empty string, as in Alertmanager. */
export type CompiledMatcher = (labels: Record<string, string>) => boolean;

export function compileMatcher(m: Matcher, source = formatMatcher(m)): CompiledMatcher {
  if (!NAME.test(m.name)) throw invalid(`invalid silence matcher "${source}": bad label name "${m.name}"; ${SYNTAX}`);
  if (!OPS.includes(m.op)) throw invalid(`invalid silence matcher "${source}": unknown operator "${m.op}"; ${SYNTAX}`);
  if (typeof m.value !== 'string') throw invalid(`invalid silence matcher "${source}": the value must be a string`);
  const get = (labels: Record<string, string>) => labels[m.name] ?? '';
  switch (m.op) {
    case '=': return (l) => get(l) === m.value;
    case '!=': return (l) => get(l) !== m.value;
    default: {
      let re: RegExp;
      try {
        // Anchored like Alertmanager: `crash.*` must match the whole value.
        re = new RegExp(`^(?:${m.value})$`);
      } catch (err) {
        throw invalid(`invalid silence matcher "${source}": the regex does not compile (${(err as Error).message}); ${SYNTAX}`);
      }
      return m.op === '=~' ? (l) => re.test(get(l)) : (l) => !re.test(get(l));
    }
  }
}

export function formatMatcher(m: Matcher): string {
  return `${m.name}${m.op}${JSON.stringify(m.value)}`;
}

export interface SilenceInput {
  matchers: string[] | Matcher[];
  /** Epoch ms or an RFC 3339 time; default now. A start in the past becomes now. */
  startsAt?: number | string;
  /** Epoch ms or an RFC 3339 time. Give this or `duration`. */
  endsAt?: number | string;
  /** Milliseconds, or a duration string such as "2h" or "30m". */
  duration?: number | string;
  createdBy: string;
  comment: string;
}

export type SilenceState = 'pending' | 'active' | 'expired';

export function silenceState(s: Silence, now: number): SilenceState {
  if (now < s.startsAt) return 'pending';
  return now < s.endsAt ? 'active' : 'expired';
}

export interface SilencesOptions {
  /** How long expired silences stay listed (default 5 days, as in Alertmanager). */
  retentionMs?: number;
}

export class Silences {
  private readonly clock: Clock;
  private readonly retentionMs: number;
  private readonly silences = new Map<string, { silence: Silence; test: CompiledMatcher[] }>();

  constructor(clock: Clock, opts: SilencesOptions = {}) {
    this.clock = clock;
    this.retentionMs = opts.retentionMs ?? 5 * 86_400_000;
  }

  /** Validates and stores a silence; throws KubemendError SILENCE_INVALID naming what is wrong. */
  add(input: SilenceInput): Silence {
    const now = this.clock.now();
    if (!input.matchers?.length) throw invalid(`a silence needs at least one matcher; ${SYNTAX}`);
    const matchers = input.matchers.map((m) => (typeof m === 'string' ? parseMatcher(m) : { ...m }));
    const test = matchers.map((m) => compileMatcher(m));
    if (test.every((t) => t({}))) {
      throw invalid(`silence matchers ${matchers.map(formatMatcher).join(', ')} would match every detection: at least one matcher must not match an empty value (e.g. rule=~".+")`);
    }
    const startsAt = Math.max(now, input.startsAt === undefined ? now : toTime(input.startsAt, 'startsAt'));
    let endsAt: number;
    if (input.endsAt !== undefined) endsAt = toTime(input.endsAt, 'endsAt');
    else if (input.duration !== undefined) endsAt = startsAt + toDuration(input.duration);
    else throw invalid('a silence needs endsAt or duration');
    if (!(endsAt > startsAt)) throw invalid(`a silence must end after it starts (startsAt ${iso(startsAt)}, endsAt ${iso(endsAt)})`);
    if (!input.createdBy?.trim()) throw invalid('a silence needs createdBy: who is silencing');
    if (!input.comment?.trim()) throw invalid('a silence needs a comment: why it is silenced');
    const silence: Silence = { id: randomUUID(), matchers, startsAt, endsAt, createdBy: input.createdBy, comment: input.comment };
    this.silences.set(silence.id, { silence, test });
    return silence;
  }

  /**
   * Replaces the set with silences saved earlier (the CLI's file, later the
   * store), keeping their ids and times; each is re-validated.
   */
  replaceAll(saved: readonly Silence[]): void {
    this.silences.clear();
    for (const s of saved) {
      const matchers = s.matchers.map((m) => ({ ...m }));
      this.silences.set(s.id, { silence: { ...s, matchers }, test: matchers.map((m) => compileMatcher(m)) });
    }
  }

  /** Ends a pending or active silence now; false if unknown or already expired. */
  expire(id: string): boolean {
    const entry = this.silences.get(id);
    const now = this.clock.now();
    if (!entry || silenceState(entry.silence, now) === 'expired') return false;
    const s = entry.silence;
    if (s.startsAt > now) s.startsAt = now;
    s.endsAt = now;
    return true;
  }

  get(id: string): Silence | undefined {
    return this.silences.get(id)?.silence;
  }

  active(now = this.clock.now()): Silence[] {
    this.prune();
    return [...this.silences.values()].map((e) => e.silence).filter((s) => silenceState(s, now) === 'active');
  }

  /** The first active silence (in creation order) whose matchers all match the labels. */
  match(labels: Record<string, string>): Silence | undefined {
    const now = this.clock.now();
    this.prune();
    for (const { silence, test } of this.silences.values()) {
      if (silenceState(silence, now) === 'active' && test.every((t) => t(labels))) return silence;
    }
    return undefined;
  }

  /** Every silence still retained: pending, active and recently expired. */
  list(): Silence[] {
    this.prune();
    return [...this.silences.values()].map((e) => e.silence);
  }

  private prune(): void {
    const cutoff = this.clock.now() - this.retentionMs;
    for (const [id, { silence }] of this.silences) if (silence.endsAt <= cutoff) this.silences.delete(id);
  }
}

function toTime(v: number | string, field: string): number {
  const t = typeof v === 'number' ? v : Date.parse(v);
  if (!Number.isFinite(t)) throw invalid(`silence ${field} "${v}" is not a time: use epoch milliseconds or RFC 3339 (2026-01-01T12:00:00Z)`);
  return t;
}

function toDuration(v: number | string): number {
  if (typeof v === 'number') {
    if (!(v > 0) || !Number.isFinite(v)) throw invalid(`silence duration ${v} must be a positive number of milliseconds`);
    return v;
  }
  try {
    return parseDuration(v);
  } catch (err) {
    throw invalid(`silence duration: ${(err as Error).message}`);
  }
}

function iso(ms: number): string {
  return Number.isFinite(ms) ? new Date(ms).toISOString() : String(ms);
}
