// Checks a ticket with Jira's REST API (v2, Server/Data Center and Cloud):
// GET /rest/api/2/issue/{key}?fields=status,summary. The ticket justifies an
// action only when it exists and its status is one of the allowed ones. Any
// failure to find out (network, credentials) refuses the justification:
// failing open would make "approved ticket" mean "any string".
import type { TicketChecker, TicketVerdict } from './justification.ts';

export interface JiraOptions {
  /** Base URL, e.g. https://jira.example.com (a context path is kept: https://host/jira). */
  url: string;
  allowedStatuses: string[];
  /** A personal access token (sent as Bearer), or with `user` an API token (Basic, Jira Cloud). */
  token?: string;
  user?: string;
  timeoutMs?: number;
}

interface IssueBody {
  key?: string;
  fields?: { status?: { name?: string }; summary?: string };
  errorMessages?: string[];
}

export class JiraTicketChecker implements TicketChecker {
  private readonly o: JiraOptions;
  private readonly allowed: string[];

  constructor(o: JiraOptions) {
    this.o = o;
    this.allowed = o.allowedStatuses.map((s) => s.toLowerCase());
  }

  async check(key: string): Promise<TicketVerdict> {
    const url = `${this.o.url.replace(/\/+$/, '')}/rest/api/2/issue/${encodeURIComponent(key)}?fields=status,summary`;
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (this.o.token && this.o.user) headers.Authorization = `Basic ${Buffer.from(`${this.o.user}:${this.o.token}`).toString('base64')}`;
    else if (this.o.token) headers.Authorization = `Bearer ${this.o.token}`;
    let res: Response;
    try {
      res = await fetch(url, { headers, signal: AbortSignal.timeout(this.o.timeoutMs ?? 5000), redirect: 'follow' });
    } catch (err) {
      const ms = this.o.timeoutMs ?? 5000;
      const why = (err as Error).name === 'TimeoutError' ? `no answer within ${ms < 1000 ? `${ms}ms` : `${Math.round(ms / 1000)}s`}` : ((err as Error & { cause?: Error }).cause?.message ?? (err as Error).message);
      return { ok: false, reason: `cannot reach Jira at ${new URL(this.o.url).host} to check ${key} (${why})` };
    }
    let body: IssueBody | undefined;
    try {
      body = (await res.json()) as IssueBody;
    } catch {
      body = undefined;
    }
    if (res.status === 404) return { ok: false, reason: `ticket ${key} does not exist (or kubemend's Jira user may not see it)` };
    if (res.status === 401 || res.status === 403) return { ok: false, reason: `Jira refused kubemend's credentials (HTTP ${res.status}) when checking ${key}; an administrator must fix the Jira token` };
    if (!res.ok) return { ok: false, reason: `Jira answered HTTP ${res.status} for ${key}${body?.errorMessages?.length ? `: ${body.errorMessages.join('; ')}` : ''}` };
    const status = body?.fields?.status?.name;
    if (!status) return { ok: false, reason: `Jira's answer for ${key} has no status` };
    // A moved issue answers under its new key; the audit log should name the ticket as it is now.
    const actual = body?.key ?? key;
    if (!this.allowed.includes(status.toLowerCase())) {
      return { ok: false, reason: `ticket ${actual} is "${status}"; it must be ${this.o.allowedStatuses.join(' or ')} to justify an action` };
    }
    return { ok: true, key: actual, status, summary: body?.fields?.summary };
  }
}
