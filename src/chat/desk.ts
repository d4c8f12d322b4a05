// What the incident and run commands need besides the store: the incident
// desk (a port the pipeline implements over its incident tracker, since chat
// may not import incidents/ or pipeline/), and the policy check each item
// goes through. Reads and writes are authorised per item, on the item's
// cluster and namespace (an incident's is its first detection's; a
// cluster-scoped one has the empty namespace, which only `*` matches).
import type { AuditTarget } from '../audit/index.ts';
import type { Authorizer, ChatAction } from '../authz/index.ts';
import { Errors, formatDuration, type Clock } from '../common/index.ts';
import type { IncidentRecord, Store } from '../store/index.ts';
import type { RequestBook } from './conversation.ts';
import type { Out, ReplyOptions } from './reply.ts';
import type { ChatMessage, ChatReply } from './types.ts';

/**
 * The incident tracker as chat uses it. Every method takes an id or a unique
 * prefix of one and rejects with a KubemendError (KM-INCIDENT-001 unknown or
 * ambiguous, -002 already resolved, -003 nothing to change, -004 a bad note);
 * the changes are audited by the tracker with the person as the actor.
 */
export interface IncidentDesk {
  /** Under way (open, acknowledged, mitigated), or with `all` every incident; newest first. */
  list(o: { all: boolean; limit?: number }): Promise<IncidentRecord[]>;
  get(idOrPrefix: string): Promise<IncidentRecord>;
  ack(idOrPrefix: string, by: string): Promise<IncidentRecord>;
  assign(idOrPrefix: string, owner: string, by: string): Promise<IncidentRecord>;
  resolve(idOrPrefix: string, by: string, reason?: string): Promise<IncidentRecord>;
  note(idOrPrefix: string, by: string, text: string): Promise<IncidentRecord>;
}

export interface DeskContext {
  store: Store;
  clock: Clock;
  authorizer: Authorizer;
  book: RequestBook;
  reply: (msg: ChatMessage, text: string, o?: ReplyOptions) => ChatReply;
}

/** Where an item is, for the policy: cluster and namespace. */
export interface Scope {
  cluster: string;
  namespace: string;
  target?: AuditTarget;
}

export function incidentScope(i: IncidentRecord): Scope {
  const root = (i.data as { detections?: { subject: { kind: string; namespace?: string; name: string } }[] }).detections?.[0]?.subject;
  return { cluster: i.cluster, namespace: root?.namespace ?? '', target: root ? { cluster: i.cluster, kind: root.kind, namespace: root.namespace, name: root.name } : { cluster: i.cluster } };
}

export type Check = { allowed: true } | { allowed: false; reason: string; dimension: string };

export async function check(ctx: DeskContext, msg: ChatMessage, action: ChatAction, s: Scope): Promise<Check> {
  const d = await ctx.authorizer.check({ user: msg.user.name, groups: msg.user.groups, cluster: s.cluster, namespace: s.namespace, room: msg.room, action });
  return d.allowed ? { allowed: true } : { allowed: false, reason: d.reason, dimension: d.dimension };
}

/** A policy refusal: audited as chat.<action>.denied, answered with KM-CHAT-001. */
export async function refuse(ctx: DeskContext, msg: ChatMessage, action: ChatAction, why: Extract<Check, { allowed: false }>, o: { target?: AuditTarget; data?: Record<string, unknown> } = {}): Promise<Out> {
  await ctx.book.refusal(msg, `chat.${action}.denied`, { code: Errors.CHAT_NOT_ALLOWED.code, reason: why.reason, target: o.target, data: { dimension: why.dimension, ...(o.data ?? {}) } });
  return [ctx.reply(msg, `${Errors.CHAT_NOT_ALLOWED.code} not allowed — ${why.reason}.`, { ephemeral: true })];
}

/** Items the user may see with `action`; when there were some and none is allowed, the refusal of the first. */
export async function visible<T>(ctx: DeskContext, msg: ChatMessage, action: ChatAction, items: T[], scope: (t: T) => Scope): Promise<{ shown: T[]; hidden: number; refused?: Extract<Check, { allowed: false }> }> {
  const shown: T[] = [];
  let refused: Extract<Check, { allowed: false }> | undefined;
  for (const t of items) {
    const c = await check(ctx, msg, action, scope(t));
    if (c.allowed) shown.push(t);
    else refused ??= c;
  }
  return { shown, hidden: items.length - shown.length, ...(shown.length === 0 && refused ? { refused } : {}) };
}

export function age(ctx: DeskContext, since: number): string {
  return formatDuration(Math.max(0, ctx.clock.now() - since));
}

/** One line, at most n characters. */
export function clip(s: string, n: number): string {
  const one = s.replace(/\s+/g, ' ').trim();
  return one.length > n ? `${one.slice(0, n - 1)}…` : one;
}
