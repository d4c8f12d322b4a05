// Alert links are checked against the Alertmanager that serves them: a link
// whose host is right but whose alert was made up proves nothing. A link must
// be on a configured Alertmanager (same origin, under its path) and name its
// alert with a filter; kubemend then asks that Alertmanager's API v2
// (GET /api/v2/alerts?filter=…) — at the configured address, never at one
// taken from the link — whether a matching alert is firing, or ended within
// the window.
//
// Accepted links (what Alertmanager's own UI and API show):
//   <url>/#/alerts?filter={alertname="KubePodCrashLooping",namespace="shop"}
//     (the UI's alert list, filtered; other parameters such as receiver,
//     silenced, inhibited are allowed, receiver narrows the check)
//   <url>/api/v2/alerts?filter=alertname="KubePodCrashLooping"&filter=…
// The filter must contain alertname="…" (equality): a filter on a namespace
// alone would let any alert there justify anything. Silence links
// (#/silences/…) and links to the unfiltered list are refused.
import { KubemendError, Errors, realClock, type Clock } from '../common/index.ts';

export interface AlertmanagerSite {
  /** The Alertmanager as its links show it (its --web.external-url). */
  url: string;
  /** Where kubemend reaches its API, when not at `url` (e.g. an in-cluster service). */
  apiUrl?: string;
  /** A bearer token for the API (e.g. an authenticating proxy in front of it). */
  token?: string;
  timeoutMs?: number;
}

export type AlertVerdict = { ok: true; detail: string } | { ok: false; problem: string };

/** Checks alert links; tests and `serve` use the real Alertmanager, never a stand-in. */
export interface AlertChecker {
  /** undefined: the link is not on a configured Alertmanager. */
  check(link: URL): Promise<AlertVerdict | undefined>;
}

const MATCHER = /^\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*(?:"((?:[^"\\]|\\.)*)"|([^",{}\s]*))\s*$/;

/** The matchers of a filter as the UI writes it ({a="x",b=~"y"}) or one API filter parameter (a="x"). */
export function parseMatchers(filter: string): string[] | { problem: string } {
  const body = filter.trim().replace(/^\{/, '').replace(/\}$/, '');
  const parts: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < body.length; i++) {
    const ch = body[i];
    if (ch === '\\' && quoted) { cur += ch + (body[++i] ?? ''); continue; }
    if (ch === '"') quoted = !quoted;
    if (ch === ',' && !quoted) { parts.push(cur); cur = ''; continue; }
    cur += ch;
  }
  if (cur.trim()) parts.push(cur);
  const out: string[] = [];
  for (const p of parts) {
    const m = MATCHER.exec(p);
    if (!m) return { problem: `"${p.trim()}" is not a matcher (name="value", name!="value", name=~"regex" or name!~"regex")` };
    out.push(`${m[1]}${m[2]}"${m[3] ?? (m[4] ?? '').replace(/["\\]/g, '\\$&')}"`);
  }
  return out;
}

/** The alert a link names: its matchers and receiver, or why it names none. */
export function alertOfLink(link: URL, base: URL): { matchers: string[]; receiver?: string } | { problem: string } {
  const rest = link.pathname.slice(base.pathname.replace(/\/+$/, '').length) || '/';
  let params: URLSearchParams;
  if (rest === '/' && link.hash.startsWith('#/silences')) return { problem: 'a silence is not an alert: link the alert itself (#/alerts?filter={alertname="…"})' };
  if (rest === '/' && /^#\/alerts(\?|$)/.test(link.hash)) params = new URLSearchParams(link.hash.slice(link.hash.indexOf('?') + 1 || link.hash.length));
  else if (rest === '/api/v2/alerts' || rest === '/api/v2/alerts/groups') params = link.searchParams;
  else return { problem: `${link.href} is not an Alertmanager alert link; use the alert list filtered to the alert: ${base.href.replace(/\/+$/, '')}/#/alerts?filter={alertname="…"}` };
  const matchers: string[] = [];
  for (const f of params.getAll('filter')) {
    const m = parseMatchers(f);
    if ('problem' in m) return m;
    matchers.push(...m);
  }
  if (!matchers.some((m) => /^alertname="/.test(m))) return { problem: 'the link must name the alert: filter it by alertname="…" (the Alertmanager UI\'s filter box, e.g. {alertname="KubePodCrashLooping",namespace="shop"})' };
  const receiver = params.get('receiver') ?? undefined;
  return receiver ? { matchers, receiver } : { matchers };
}

interface ApiAlert {
  fingerprint: string;
  labels: Record<string, string>;
  startsAt: string;
  endsAt: string;
  status?: { state?: string };
}

export class AlertmanagerChecker implements AlertChecker {
  private readonly sites: AlertmanagerSite[];
  private readonly windowMs: number;
  private readonly clock: Clock;

  /** `windowMs`: an alert that ended at most this long ago (by the wall clock; Alertmanager keeps real time) still counts. */
  constructor(sites: AlertmanagerSite[], o: { windowMs: number; clock?: Clock }) {
    this.sites = sites;
    this.windowMs = o.windowMs;
    this.clock = o.clock ?? realClock;
  }

  /** The configured Alertmanager a link is on: same origin, under its path. */
  siteOf(link: URL): AlertmanagerSite | undefined {
    return this.sites.find((s) => {
      const base = new URL(s.url);
      const prefix = base.pathname.replace(/\/+$/, '');
      return link.origin === base.origin && (link.pathname === prefix || link.pathname.startsWith(`${prefix}/`) || (!prefix && link.pathname === '/'));
    });
  }

  async check(link: URL): Promise<AlertVerdict | undefined> {
    const site = this.siteOf(link);
    if (!site) return undefined;
    const want = alertOfLink(link, new URL(site.url));
    if ('problem' in want) return { ok: false, problem: want.problem };
    const api = new URL(`${(site.apiUrl ?? site.url).replace(/\/+$/, '')}/api/v2/alerts`);
    for (const m of want.matchers) api.searchParams.append('filter', m);
    for (const k of ['active', 'silenced', 'inhibited', 'unprocessed']) api.searchParams.set(k, 'true');
    if (want.receiver) api.searchParams.set('receiver', `^(?:${want.receiver.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')})$`);
    const host = new URL(site.url).host;
    let alerts: ApiAlert[];
    try {
      const res = await fetch(api, { headers: { accept: 'application/json', ...(site.token ? { authorization: `Bearer ${site.token}` } : {}) }, signal: AbortSignal.timeout(site.timeoutMs ?? 5_000) });
      if (!res.ok) return { ok: false, problem: `Alertmanager at ${host} answered HTTP ${res.status} when asked about {${want.matchers.join(',')}}; the alert cannot be checked` };
      alerts = (await res.json()) as ApiAlert[];
      if (!Array.isArray(alerts)) throw new KubemendError(Errors.CHAT_JUSTIFICATION, 'the answer is not a list of alerts');
    } catch (err) {
      return { ok: false, problem: `cannot ask Alertmanager at ${host} about {${want.matchers.join(',')}}: ${(err as Error).message}; the alert cannot be checked` };
    }
    const now = this.clock.now();
    const ends = (a: ApiAlert) => Date.parse(a.endsAt);
    const firing = alerts.filter((a) => !(ends(a) <= now));
    const recent = alerts.filter((a) => ends(a) <= now && now - ends(a) <= this.windowMs);
    const hit = firing[0] ?? recent[0];
    const what = `{${want.matchers.join(',')}} on ${host}`;
    if (!hit) return { ok: false, problem: `no alert ${what} is firing or ended within the last ${Math.round(this.windowMs / 60_000)}m, as that Alertmanager says; link an alert that is (or was just) firing` };
    const name = hit.labels.alertname ?? 'alert';
    const state = firing.length ? `firing since ${new Date(hit.startsAt).toISOString()}` : `ended ${new Date(hit.endsAt).toISOString()}`;
    return { ok: true, detail: `alert ${name} ${hit.fingerprint} on ${host}, ${state}${firing.length > 1 ? ` (${firing.length} alerts match)` : ''}` };
  }
}
