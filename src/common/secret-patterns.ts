// kubemend's own secret patterns: the shapes programs print that a
// provider-token scanner (secretlint, see secretlint.ts) does not look for —
// `NAME=value` for secret-looking names (DB_PASSWORD, AWS_SECRET_ACCESS_KEY,
// clientSecret, "password" in JSON), Authorization headers and bearer tokens,
// credentials in URLs, JWTs, PEM private keys, long base64 blobs (Secret data)
// — and a few provider prefixes kept here too because they are cheap and
// must not depend on one library's version (AKIA ids, AIza keys, Stripe,
// Slack, GitHub, GitLab). Each rule names keywords: it runs only when one of
// them is in the text, so a log tail without any costs one lower-casing.
// Every quantifier is bounded or anchored on a literal, so a hostile log
// line cannot make a rule backtrack for long.

export interface SecretRule {
  id: string;
  /** Lower-case substrings, one of which must appear for the rule to run; none: always runs. */
  keywords: readonly string[];
  /** A global regex; the named group `s`, always the match's tail, (else the whole match) is what gets masked. */
  regex: RegExp;
  /** A last look at the masked part, for shapes a regex states badly (entropy, mixed case). */
  accept?: (secret: string) => boolean;
}

/** The words that make a name secret-looking: `DB_PASSWORD`, `clientSecret`, `x-api-key`, `AWS_SECRET_ACCESS_KEY`. */
const WORDS = String.raw`(?:password|passwd|passphrase|pwd|[_.-]pass|secret|token|api[_-]?key|apikey|access[_-]?key|private[_-]?key|credentials?|signature|dsn)(?:[_.-]?(?:access[_-]?)?key)?s?`;

/** A whole key (object property, header, env var) that names a secret. `secretName`, `tokenCount` are not. */
export const SECRET_KEY = new RegExp(String.raw`^(?:[\w.-]{0,60}?${WORDS}|(?:proxy-)?authorization|cookie|set-cookie)$`, 'i');

const PLACEHOLDER = /^(?:["']?(?:\[redacted\]|\*+|<[^>]*>|\$\{[^}]*\}|\$[A-Za-z_]\w*|\{\{.*\}\}|null|nil|none|true|false|undefined|-|)["']?|\\"\\")$/i;

/** Looks like a credential rather than a word: "authentication failed" keeps its word. */
function tokenLike(v: string): boolean {
  return /\d/.test(v) || /=$/.test(v) || (v.length >= 16 && /[A-Z]/.test(v) && /[a-z]/.test(v));
}

/** Mixed-case base64 with digits, or padded; a path (`/api/v1/Namespaces/x`) has word segments and is kept. */
function base64Like(v: string): boolean {
  const core = v.replace(/=+$/, '');
  const upper = /[A-Z]/.test(core);
  const lower = /[a-z]/.test(core);
  if (!upper || !lower) return false;
  if (v.endsWith('=') && core.length >= 16) return true;
  if (core.length < 24 || !/\d/.test(core)) return false;
  return !core.includes('/') || !core.split('/').some((seg) => /^[a-z]{3,}$/.test(seg));
}

export const SECRET_RULES: readonly SecretRule[] = [
  {
    id: 'private-key',
    keywords: ['private key'],
    // To its END line, or to the end of the text when a tail cut it.
    regex: /-----BEGIN[A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----[\s\S]*?(?:-----END[A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----|$)/g,
  },
  {
    id: 'authorization-header',
    keywords: ['authorization'],
    regex: /\b(?:proxy-)?authorization["']?\s{0,3}[:=]\s{0,3}(?<s>"[^"\n]{0,4096}"|'[^'\n]{0,4096}'|[^\s,;]{1,4096}(?:[ \t]+[A-Za-z0-9._~+/=-]{1,4096})?)/gi,
    accept: (s) => !PLACEHOLDER.test(s),
  },
  {
    id: 'bearer-token',
    keywords: ['bearer', 'basic', 'token'],
    regex: /\b(?:bearer|basic|token)[ \t]+(?<s>[A-Za-z0-9._~+/-]{8,4096}=*)/gi,
    accept: tokenLike,
  },
  {
    id: 'secret-assignment',
    keywords: ['pass', 'pwd', 'secret', 'token', 'key', 'credential', 'signature', 'dsn'],
    // NAME=value, NAME: value, "name": "value", name => 'value', and JSON escaped inside a string (\"password\":\"x\", or with \').
    regex: new RegExp(
      String.raw`(?<![\w.-])[\w.-]{0,60}?${WORDS}\\?["']?[ \t]{0,3}(?::=|=>|=|:)[ \t]{0,3}(?<s>\$\{[^}\n]{0,200}\}|\\["'](?:[^"'\\\n]|\\[^"'\n]){0,4096}\\["']|"(?:[^"\\\n]|\\.){0,4096}"|'[^'\n]{0,4096}'|[^\s,;&"'{}()[\]]{1,4096})`,
      'gi',
    ),
    accept: (s) => !PLACEHOLDER.test(s),
  },
  {
    id: 'url-credentials',
    keywords: ['://'],
    regex: /\b[a-z][a-z0-9+.-]{0,30}:\/\/(?<s>[^\s/:@'"]{1,256}:[^\s/'"]{1,256})(?=@)/gi,
  },
  {
    id: 'jwt',
    keywords: ['eyj'],
    regex: /\beyJ[A-Za-z0-9_-]{8,8192}\.[A-Za-z0-9_-]{8,16384}\.[A-Za-z0-9_-]{8,8192}/g,
  },
  {
    id: 'aws-access-key-id',
    keywords: ['akia', 'asia', 'abia', 'acca', 'agpa', 'aida', 'aroa', 'aipa', 'anpa', 'anva', 'a3t'],
    regex: /\b(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA)[A-Z0-9]{16}\b/g,
  },
  { id: 'gcp-api-key', keywords: ['aiza'], regex: /\bAIza[A-Za-z0-9_-]{35}(?![A-Za-z0-9_-])/g },
  { id: 'stripe-secret-key', keywords: ['sk_live', 'sk_test', 'rk_live', 'rk_test'], regex: /\b[rs]k_(?:live|test)_[A-Za-z0-9]{10,247}\b/g },
  { id: 'slack-token', keywords: ['xox', 'xapp-'], regex: /\b(?:xox[abposre]|xapp)-[A-Za-z0-9-]{10,512}/g },
  { id: 'slack-webhook', keywords: ['hooks.slack.com'], regex: /hooks\.slack\.com\/(?:services|workflows|triggers)\/(?<s>[A-Za-z0-9+/_-]{10,512})/g },
  { id: 'github-token', keywords: ['ghp_', 'gho_', 'ghu_', 'ghs_', 'ghr_', 'github_pat_'], regex: /\b(?:gh[pousr]_[A-Za-z0-9]{20,255}|github_pat_[A-Za-z0-9_]{20,255})\b/g },
  { id: 'gitlab-token', keywords: ['glpat-', 'gldt-', 'glptt-', 'glrt-', 'glsoat-'], regex: /\bgl(?:pat|dt|ptt|rt|soat)-[A-Za-z0-9_-]{20,255}/g },
  {
    id: 'base64-blob',
    keywords: [],
    // A base64 run standing alone: not part of a dashed name (pod names, UIDs) or of a base64url token.
    regex: /(?<![A-Za-z0-9+/=_-])[A-Za-z0-9+/]{16,8192}={0,2}(?![A-Za-z0-9+/=_-])/g,
    accept: base64Like,
  },
];
