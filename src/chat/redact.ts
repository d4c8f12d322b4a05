// Every reply the bot posts passes through here: chat rooms are read by many
// people, logged by the platform and pasted into tickets. Credentials that
// programs print (bearer headers, password=…, tokens of well-known services,
// private keys, base64 blobs such as Secret data) are masked, and so is any
// value the engine was told is secret (e.g. one the user pasted by mistake).

const MASK = '[redacted]';

const PATTERNS: [RegExp, string][] = [
  // PEM private keys, whole.
  [/-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(-----END [A-Z ]*PRIVATE KEY-----|$)/g, MASK],
  // Authorization headers and schemes.
  [/\b(authorization\s*[:=]\s*)("[^"]*"|'[^']*'|[^\s,;]+(\s+[A-Za-z0-9._~+/=-]+)?)/gi, `$1${MASK}`],
  [/\b(bearer|basic|token)\s+[A-Za-z0-9._~+/=-]{8,}/gi, `$1 ${MASK}`],
  // key=value / key: value / "key": "value" for secret-looking keys.
  [/\b([A-Za-z0-9_.-]*(?:password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|credential)s?["']?)(\s*[=:]\s*)("[^"]*"|'[^']*'|[^\s,;}]+)/gi, `$1$2${MASK}`],
  // Credentials inside URLs.
  [/\b([a-z][a-z0-9+.-]*:\/\/)[^/\s:@]+:[^/\s@]+@/gi, `$1${MASK}@`],
  // JWTs, Slack, GitHub, GitLab, AWS and Google keys.
  [/\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/g, MASK],
  [/\bxox[abposr]-[A-Za-z0-9-]{10,}/g, MASK],
  [/\bgh[pousr]_[A-Za-z0-9]{20,}/g, MASK],
  [/\bglpat-[A-Za-z0-9_-]{20,}/g, MASK],
  [/\b(AKIA|ASIA)[0-9A-Z]{16}\b/g, MASK],
  [/\bAIza[0-9A-Za-z_-]{35}\b/g, MASK],
  // Long base64 runs (Secret data, keys): mixed case with digits, or padded. Paths, words and hex digests are kept.
  [/(?<![A-Za-z0-9+/=])(?:(?=[A-Za-z0-9+/]*[A-Z])(?=[A-Za-z0-9+/]*[a-z])(?=[A-Za-z0-9+/]*\d)[A-Za-z0-9+/]{24,}={0,2}|[A-Za-z0-9+/]{12,}={1,2})(?![A-Za-z0-9+/=])/g, MASK],
];

export class Redactor {
  private readonly known = new Set<string>();

  /** Values that must never be shown, with their base64 forms. Short values (under 4 characters) would mask innocent text: ignored. */
  addSecret(value: string): void {
    if (value.length < 4) return;
    this.known.add(value);
    this.known.add(Buffer.from(value).toString('base64'));
    this.known.add(Buffer.from(value).toString('base64').replace(/=+$/, ''));
  }

  redact(text: string): string {
    let out = text;
    // Longest first, so a value containing another is masked whole.
    for (const v of [...this.known].sort((a, b) => b.length - a.length)) out = out.split(v).join(MASK);
    for (const [re, rep] of PATTERNS) out = out.replace(re, rep);
    return out;
  }
}

/** Masks credentials with the patterns only (no known values). */
export function redact(text: string): string {
  return DEFAULT.redact(text);
}

const DEFAULT = new Redactor();
