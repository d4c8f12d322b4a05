// Writes to a Jira ticket: a comment (POST /rest/api/{2|3}/issue/{key}/comment)
// and a transition (GET then POST /rest/api/{v}/issue/{key}/transitions).
// REST v2 (Jira Data Center / Server, a personal access token as Bearer)
// takes the comment body as wiki markup; v3 (Jira Cloud, e-mail and API
// token as Basic) as an Atlassian Document Format document. Both are built
// from one neutral CommentDoc, so the two say the same thing.
//
// Failures are retried with back-off (p-retry): the network, 5xx and 429
// (after its Retry-After); another 4xx is final — the request itself is
// wrong, and sending it again changes nothing.
import pRetry from 'p-retry';
import { KubemendError, Errors, retryAfterMs } from '../common/index.ts';

/** One inline run of text: plain, bold, code (ids), or a link. */
export interface Inline {
  text: string;
  strong?: boolean;
  code?: boolean;
  href?: string;
}

/** Paragraphs of inline runs. */
export type CommentDoc = Inline[][];

export interface JiraWriteOptions {
  url: string;
  token?: string;
  user?: string;
  /** 2 (wiki markup) or 3 (ADF); default 3 with `user` (Jira Cloud's Basic auth), else 2. */
  apiVersion?: 2 | 3;
  timeoutMs?: number;
  retries?: number;
  minTimeoutMs?: number;
  maxTimeoutMs?: number;
}

/** A failed Jira request: `final` when retrying cannot help (a 4xx other than 429). */
export class JiraRequestError extends KubemendError {
  readonly status?: number;
  readonly final: boolean;
  readonly retryAfterMs?: number;
  constructor(what: string, o: { status?: number; detail?: string; retryAfterMs?: number }) {
    const final = o.status !== undefined && o.status >= 400 && o.status < 500 && o.status !== 429;
    super(final ? Errors.JIRA_REFUSED : Errors.JIRA_UNAVAILABLE, `${what}: ${o.status !== undefined ? `HTTP ${o.status}` : 'no answer'}${o.detail ? ` (${o.detail})` : ''}`);
    this.status = o.status;
    this.final = final;
    this.retryAfterMs = o.retryAfterMs;
  }
}

export class JiraWriter {
  readonly apiVersion: 2 | 3;
  private readonly o: JiraWriteOptions;

  constructor(o: JiraWriteOptions) {
    this.o = o;
    this.apiVersion = o.apiVersion ?? (o.user ? 3 : 2);
  }

  /** Posts one comment; returns Jira's id for it. */
  async comment(key: string, doc: CommentDoc): Promise<string> {
    const body = this.apiVersion === 3 ? adf(doc) : wiki(doc);
    const res = (await this.request('POST', `issue/${encodeURIComponent(key)}/comment`, `comment on ${key}`, { body })) as { id?: string };
    return String(res.id ?? '');
  }

  /** Moves the ticket through the transition called `name` (or leading to a status called so); returns its id. */
  async transition(key: string, name: string): Promise<string> {
    const what = `transition ${key} to "${name}"`;
    const list = (await this.request('GET', `issue/${encodeURIComponent(key)}/transitions`, what)) as { transitions?: { id: string; name?: string; to?: { name?: string } }[] };
    const all = list.transitions ?? [];
    const wanted = name.toLowerCase();
    const t = all.find((x) => x.name?.toLowerCase() === wanted) ?? all.find((x) => x.to?.name?.toLowerCase() === wanted);
    if (!t) throw new KubemendError(Errors.JIRA_REFUSED, `${what}: the ticket offers no such transition now (available: ${all.map((x) => x.name).join(', ') || 'none'})`);
    await this.request('POST', `issue/${encodeURIComponent(key)}/transitions`, what, { transition: { id: t.id } });
    return t.id;
  }

  private headers(): Record<string, string> {
    const h: Record<string, string> = { Accept: 'application/json', 'Content-Type': 'application/json' };
    if (this.o.token && this.o.user) h.Authorization = `Basic ${Buffer.from(`${this.o.user}:${this.o.token}`).toString('base64')}`;
    else if (this.o.token) h.Authorization = `Bearer ${this.o.token}`;
    return h;
  }

  private request(method: 'GET' | 'POST', path: string, what: string, body?: unknown): Promise<unknown> {
    const url = `${this.o.url.replace(/\/+$/, '')}/rest/api/${this.apiVersion}/${path}`;
    const once = async () => {
      let res: Response;
      try {
        res = await fetch(url, { method, headers: this.headers(), body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(this.o.timeoutMs ?? 10_000) });
      } catch (err) {
        const e = err as Error & { cause?: Error };
        throw new JiraRequestError(what, { detail: e.name === 'TimeoutError' ? 'timed out' : (e.cause?.message ?? e.message) });
      }
      const text = await res.text();
      if (!res.ok) throw new JiraRequestError(what, { status: res.status, detail: errorDetail(text), retryAfterMs: retryAfterMs(res.headers.get('retry-after')) });
      return text ? JSON.parse(text) : {};
    };
    const max = this.o.maxTimeoutMs ?? 60_000;
    return pRetry(once, {
      retries: this.o.retries ?? 5,
      minTimeout: this.o.minTimeoutMs ?? 1000,
      maxTimeout: max,
      shouldRetry: ({ error }) => !(error instanceof JiraRequestError && error.final),
      // Jira's rate limiter says when to come back; p-retry's own delay follows this wait.
      onFailedAttempt: async ({ error, retriesLeft, retryDelay }) => {
        const wait = error instanceof JiraRequestError && error.retryAfterMs !== undefined && retriesLeft > 0 ? Math.min(error.retryAfterMs, max) - retryDelay : 0;
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      },
    });
  }
}

/** Jira's error shape: {errorMessages: [...], errors: {field: message}}. */
function errorDetail(text: string): string | undefined {
  try {
    const b = JSON.parse(text) as { errorMessages?: string[]; errors?: Record<string, string> };
    const parts = [...(b.errorMessages ?? []), ...Object.entries(b.errors ?? {}).map(([k, v]) => `${k}: ${v}`)];
    return parts.length ? parts.join('; ').slice(0, 300) : undefined;
  } catch {
    return undefined;
  }
}

// A URL ends at whitespace, quotes and the characters of wiki markup, so it can never carry markup with it.
const URL_RE = /(https?:\/\/[^\s<>"'[\]{}|\\]+)/;

/** Jira wiki markup; user text cannot open a macro or a link ({…}, […|…]). */
export function wiki(doc: CommentDoc): string {
  const esc = (s: string) => s.replace(/([{}[\]|\\])/g, '\\$1');
  return doc.map((p) => p.map((i) => {
    if (i.href) return `[${esc(i.text)}|${i.href}]`;
    if (i.code) return `{{${esc(i.text)}}}`;
    if (i.strong) return `*${esc(i.text)}*`;
    // Bare URLs link themselves in wiki markup; escaping them would break them.
    return i.text.split(URL_RE).map((s, n) => (n % 2 ? s : esc(s))).join('');
  }).join('')).join('\n');
}

type AdfMark = { type: 'strong' } | { type: 'code' } | { type: 'link'; attrs: { href: string } };
type AdfText = { type: 'text'; text: string; marks?: AdfMark[] };

/** An Atlassian Document Format document: doc (version 1) → paragraphs → text nodes with marks; bare URLs become links. */
export function adf(doc: CommentDoc): { type: 'doc'; version: 1; content: { type: 'paragraph'; content: AdfText[] }[] } {
  const nodes = (i: Inline): AdfText[] => {
    if (i.href) return [{ type: 'text', text: i.text, marks: [{ type: 'link', attrs: { href: i.href } }] }];
    if (i.code) return [{ type: 'text', text: i.text, marks: [{ type: 'code' }] }];
    if (i.strong) return [{ type: 'text', text: i.text, marks: [{ type: 'strong' }] }];
    return i.text.split(URL_RE).filter(Boolean).map((s) => (URL_RE.test(s) ? { type: 'text' as const, text: s, marks: [{ type: 'link' as const, attrs: { href: s } }] } : { type: 'text' as const, text: s }));
  };
  // ADF refuses empty text nodes.
  return { type: 'doc', version: 1, content: doc.map((p) => ({ type: 'paragraph' as const, content: p.filter((i) => i.text).flatMap(nodes) })) };
}
