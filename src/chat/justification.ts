// Why an action is taken: a reason in words plus a link someone can follow
// later — an alert that a configured Alertmanager says is firing (or ended
// within recentWindow; alerts.ts), a kubemend detection (det:ID) that is open
// or resolved within recentWindow, or a ticket whose tracker says it is
// approved. Anything unverifiable is refused: a justification nobody can
// check is only a comment.
import type { Store } from '../store/index.ts';
import { formatDuration, realClock, type Clock } from '../common/index.ts';
import { AlertmanagerChecker, type AlertChecker } from './alerts.ts';
import type { ChatSettings } from './settings.ts';

export type TicketVerdict = { ok: true; key: string; status: string; summary?: string } | { ok: false; reason: string };

/** Asks a ticket tracker whether a ticket exists and is in an approved state. */
export interface TicketChecker {
  check(key: string): Promise<TicketVerdict>;
}

/** Ticket statuses given in the settings: for trying the bot without a tracker. */
export class StaticTicketChecker implements TicketChecker {
  private readonly statuses: Map<string, string>;
  private readonly allowed: string[];

  constructor(statuses: Record<string, string>, allowed: string[] = ['Approved']) {
    this.statuses = new Map(Object.entries(statuses));
    this.allowed = allowed;
  }

  async check(key: string): Promise<TicketVerdict> {
    const status = this.statuses.get(key);
    if (status === undefined) return { ok: false, reason: `ticket ${key} does not exist` };
    if (!this.allowed.some((a) => a.toLowerCase() === status.toLowerCase())) return { ok: false, reason: `ticket ${key} is "${status}"; it must be ${this.allowed.join(' or ')}` };
    return { ok: true, key, status };
  }
}

export type LinkKind = 'alert' | 'detection' | 'ticket';

export interface Justification {
  reason: string;
  link: string;
  kind: LinkKind;
  /** What was verified, for the confirmation and the audit log: "ticket OPS-1 (Approved)". */
  detail: string;
  /** The ticket key the tracker accepted (its current key, if the ticket moved): where the trace is written back. */
  ticket?: string;
}

export type JustificationResult =
  | { ok: true; justification: Justification }
  /** missing: nothing was given (ask); otherwise what was given does not hold. */
  | { ok: false; missing: boolean; problem: string };

export interface JustificationContext {
  settings: ChatSettings;
  store: Store;
  tickets?: TicketChecker;
  /** Default: the settings' Alertmanagers, without tokens. */
  alerts?: AlertChecker;
  /** Cluster time, as detections are stamped (default the wall clock). */
  clock?: Clock;
}

const URL_RE = /^https?:\/\/\S+$/i;
const DET_RE = /^det:([0-9a-f-]{8,36})$/i;

export function looksLikeLink(token: string, settings: ChatSettings): boolean {
  return URL_RE.test(token) || DET_RE.test(token) || new RegExp(settings.justification.ticketPattern).test(token);
}

/** The reason and link from what the user wrote: a link may be given with --link or inside the reason. */
export function splitJustification(input: { reason?: string; link?: string }, settings: ChatSettings): { reason: string; link?: string } {
  const words = (input.reason ?? '').split(/\s+/).filter(Boolean);
  let link = input.link;
  if (!link) {
    const i = words.findIndex((w) => looksLikeLink(w.replace(/[.,;)]+$/, ''), settings));
    if (i >= 0) link = words[i].replace(/[.,;)]+$/, '');
  }
  return { reason: words.join(' '), link };
}

export async function checkJustification(input: { reason?: string; link?: string }, ctx: JustificationContext): Promise<JustificationResult> {
  const s = ctx.settings.justification;
  const { reason, link } = splitJustification(input, ctx.settings);
  if (!reason && !link) return { ok: false, missing: true, problem: 'no justification given' };
  const words = link ? reason.replace(link, '').trim() : reason;
  if (words.length < s.minReasonLength) return { ok: false, missing: !reason, problem: `say why in at least ${s.minReasonLength} characters (--reason "…")` };
  if (!link) return { ok: false, missing: false, problem: 'a reason needs a link: an alert URL, a detection (det:ID) or an approved ticket' };
  const checked = await checkLink(link, ctx);
  if ('problem' in checked) return { ok: false, missing: false, problem: checked.problem };
  return { ok: true, justification: { reason, link, kind: checked.kind, detail: checked.detail, ...('ticket' in checked && checked.ticket ? { ticket: checked.ticket } : {}) } };
}

async function checkLink(link: string, ctx: JustificationContext): Promise<{ kind: LinkKind; detail: string; ticket?: string } | { problem: string }> {
  const s = ctx.settings.justification;
  if (URL_RE.test(link)) {
    let u: URL;
    try {
      u = new URL(link);
    } catch {
      return { problem: `"${link}" is not a valid URL` };
    }
    if (u.username || u.password) return { problem: 'alert links must not carry credentials' };
    const alerts = ctx.alerts ?? new AlertmanagerChecker(s.alertmanagers.map((a) => ({ url: a.url, apiUrl: a.apiUrl, timeoutMs: a.timeout })), { windowMs: s.recentWindow });
    const verdict = await alerts.check(u);
    if (!verdict) {
      const known = s.alertmanagers.map((a) => a.url);
      return { problem: `${u.origin} is not a configured Alertmanager${known.length ? ` (${known.join(', ')})` : ' (none are configured)'}; link an alert from one of them, a detection (det:ID) or an approved ticket` };
    }
    if (!verdict.ok) return { problem: verdict.problem };
    return { kind: 'alert', detail: verdict.detail };
  }
  const det = DET_RE.exec(link);
  if (det) {
    const d = await findDetection(ctx.store, det[1].toLowerCase());
    if (!d) return { problem: `no detection ${link} in kubemend's store` };
    const now = (ctx.clock ?? realClock).now();
    // A detection justifies while it fires, and for a while after: an action right after recovery is still about it.
    if (d.status === 'resolved' && now - d.lastSeen > s.recentWindow) return { problem: `detection ${link} resolved ${formatDuration(now - d.lastSeen)} ago; only open detections, or ones resolved within ${formatDuration(s.recentWindow)}, justify an action` };
    return { kind: 'detection', detail: `detection ${d.rule} on ${d.subject.kind.toLowerCase()} ${d.subject.namespace ? `${d.subject.namespace}/` : ''}${d.subject.name} (${d.status})` };
  }
  if (new RegExp(s.ticketPattern).test(link)) {
    const checker = ctx.tickets;
    if (!checker) return { problem: `no ticket tracker is configured to check ${link}; link an alert or a detection instead` };
    let v: TicketVerdict;
    try {
      v = await checker.check(link);
    } catch (err) {
      return { problem: `could not check ticket ${link}: ${(err as Error).message}` };
    }
    if (!v.ok) return { problem: v.reason };
    return { kind: 'ticket', detail: `ticket ${v.key} (${v.status})`, ticket: v.key };
  }
  return { problem: `"${link}" is neither an alert URL, a detection (det:ID) nor a ticket key (${s.ticketPattern})` };
}

/** A full detection id, or an unambiguous prefix of at least 8 characters (ids are long to type in chat). */
async function findDetection(store: Store, id: string) {
  const exact = await store.getDetection(id);
  if (exact) return exact;
  if (id.length >= 36) return undefined;
  const hits = (await store.listDetections({ limit: 1000 })).filter((d) => d.id.startsWith(id));
  return hits.length === 1 ? hits[0] : undefined;
}
