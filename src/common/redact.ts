// One redactor for the whole process. Evidence enters kubemend as text that
// programs wrote (log tails, Event messages, command output, what people type
// in chat) and is then kept for good: runs, step transitions, detections and
// the append-only audit log, which cannot be cleaned afterwards. So text is
// masked where it enters, and the audit log masks once more before hashing.
//
// Three layers, their findings merged into one set of ranges:
//  - values the process knows are secret (its configured tokens, the DB
//    password, values of Secrets a collected pod mounts), with their base64
//    and URL-encoded forms: `addSecret`;
//  - kubemend's own patterns (secret-patterns.ts), each gated by keywords;
//  - secretlint's recommended preset for provider tokens (secretlint.ts).
import { secretlintRanges } from './secretlint.ts';
import { SECRET_KEY, SECRET_RULES } from './secret-patterns.ts';

export const REDACTED = '[redacted]';

/** Shorter values would mask ordinary words wherever they appear. */
const MIN_SECRET = 6;
/** Known values kept at most (with their encoded forms); past it new ones are refused, and counted. */
const MAX_KNOWN = 20_000;

export class Redactor {
  private readonly known = new Set<string>();
  private knownRegex: RegExp | undefined;
  private dirty = false;
  /** Known values refused because the set was full, and rules that threw: both mean something may have been missed. */
  readonly stats = { refused: 0, ruleFailures: { count: 0 } };

  /**
   * A value that must never be shown, in any text this redactor sees. Values
   * under 6 characters, and placeholders, are ignored; a multi-line value
   * (a key file, a config file) is also masked line by line for its long
   * unbroken lines, since a log prints such a file a line at a time.
   */
  addSecret(value: string | undefined | null): void {
    if (typeof value !== 'string') return;
    const v = value.trim();
    if (v.length < MIN_SECRET || /^(?:true|false|null|none|\*+)$/i.test(v)) return;
    this.addForms(v);
    if (v.includes('\n')) for (const line of v.split('\n').map((l) => l.trim())) if (line.length >= 12 && !/\s/.test(line)) this.addForms(line);
  }

  /** The password of a URL (postgres://user:password@host/db), if it has one. */
  addUrlPassword(url: string | undefined): void {
    if (!url || !url.includes('://')) return;
    try {
      const u = new URL(url);
      if (u.password) {
        this.addSecret(decodeURIComponent(u.password));
        this.addSecret(u.password);
      }
    } catch {
      // Not a URL (a SQLite path): nothing to learn from it.
    }
  }

  get knownCount(): number {
    return this.known.size;
  }

  private addForms(v: string): void {
    for (const form of new Set([v, Buffer.from(v).toString('base64'), Buffer.from(v).toString('base64').replace(/=+$/, ''), encodeURIComponent(v)])) {
      if (this.known.has(form)) continue;
      if (this.known.size >= MAX_KNOWN) {
        this.stats.refused++;
        continue;
      }
      this.known.add(form);
      this.dirty = true;
    }
  }

  /** Masks every secret found in `text`; text without any comes back as the same string. */
  redact(text: string): string {
    if (typeof text !== 'string' || text.length < MIN_SECRET) return text;
    const ranges: number[] = [];
    const known = this.knownPattern();
    if (known) {
      known.lastIndex = 0;
      for (let m = known.exec(text); m; m = known.exec(text)) ranges.push(m.index, m.index + m[0].length);
    }
    const present = keywordsIn(text);
    for (const rule of SECRET_RULES) {
      if (rule.keywords.length && !rule.keywords.some((k) => present.has(k))) continue;
      // exec with lastIndex, not matchAll: matchAll copies the regex on every call.
      const re = rule.regex;
      re.lastIndex = 0;
      for (let m = re.exec(text); m; m = re.exec(text)) {
        if (m[0] === '') re.lastIndex++;
        const s = m.groups?.s ?? m[0];
        if (!s || (rule.accept && !rule.accept(s))) continue;
        // The group is the match's tail (rules are written so), so its place needs no `d` flag.
        const end = m.index + m[0].length;
        ranges.push(end - s.length, end);
      }
    }
    secretlintRanges(text, ranges, this.stats.ruleFailures);
    return ranges.length ? mask(text, ranges) : text;
  }

  /**
   * Masks a JSON-like value: every string in it, and the whole value under a
   * key that names a secret (`password`, `apiKey`, `Authorization`, …).
   * Returns a copy; the input is not changed.
   */
  redactDeep<T>(value: T): T {
    return this.deep(value, 0) as T;
  }

  private deep(v: unknown, depth: number): unknown {
    if (typeof v === 'string') return this.redact(v);
    if (v === null || typeof v !== 'object' || depth > 64) return v;
    if (Array.isArray(v)) return v.map((x) => this.deep(x, depth + 1));
    if (Object.getPrototypeOf(v) !== Object.prototype && Object.getPrototypeOf(v) !== null) return v;
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      out[k] = SECRET_KEY.test(k) && x !== null && x !== undefined && typeof x !== 'boolean' && x !== '' ? REDACTED : this.deep(x, depth + 1);
    }
    return out;
  }

  private knownPattern(): RegExp | undefined {
    if (this.dirty) {
      const values = [...this.known].sort((a, b) => b.length - a.length).map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
      this.knownRegex = values.length ? new RegExp(values.join('|'), 'g') : undefined;
      this.dirty = false;
    }
    return this.knownRegex;
  }
}

/** Every rule keyword, found in one case-insensitive pass instead of one search of the text per keyword. */
const KEYWORDS = new RegExp([...new Set(SECRET_RULES.flatMap((r) => r.keywords))].sort((a, b) => b.length - a.length).map((k) => k.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'), 'gi');

function keywordsIn(text: string): Set<string> {
  const found = new Set<string>();
  KEYWORDS.lastIndex = 0;
  for (let m = KEYWORDS.exec(text); m; m = KEYWORDS.exec(text)) {
    found.add(m[0].toLowerCase());
    // One keyword may begin inside another's match: the next search starts one character on, not after it.
    KEYWORDS.lastIndex = m.index + 1;
  }
  return found;
}

/** Replaces the union of [start, end) pairs with the mask. */
function mask(text: string, ranges: number[]): string {
  const pairs: [number, number][] = [];
  for (let i = 0; i < ranges.length; i += 2) pairs.push([ranges[i], ranges[i + 1]]);
  pairs.sort((a, b) => a[0] - b[0]);
  let out = '';
  let at = 0;
  let open = false;
  for (const [s, e] of pairs) {
    if (e <= at) continue;
    // Overlapping or touching ranges make one mask.
    if (!open || s > at) out += text.slice(at, s) + REDACTED;
    open = true;
    at = e;
  }
  return out + text.slice(at);
}

/**
 * The process's redactor. Whatever reads a secret from the environment or
 * the cluster tells it (`redactor.addSecret`), and every path where text
 * enters uses it, so a token configured for Slack is masked in a log tail too.
 */
export const redactor = new Redactor();

/** `redactor.redact`. */
export function redact(text: string): string {
  return redactor.redact(text);
}

/** `redactor.redactDeep`. */
export function redactDeep<T>(value: T): T {
  return redactor.redactDeep(value);
}
