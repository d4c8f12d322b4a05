// One chat request from command to result. Every transition is stored as a
// ChatRequestRecord and appended to the audit log as
// chat.<action>.<verb> in the same step, so the audit trail and the request's
// state never disagree about what happened, who did it, and why.
import { randomInt } from 'node:crypto';
import type { Actor, AuditInput, AuditRecord, AuditTarget } from '../audit/index.ts';
import type { ChatRequestRecord, Store } from '../store/index.ts';
import type { Clock, TimerHandle } from '../common/index.ts';
import type { ActionCommand } from './grammar.ts';
import type { Justification } from './justification.ts';
import type { Operation, Preview } from './operations.ts';
import type { ChatMessage, ChatUser } from './types.ts';
import { auditIdentity } from './identity.ts';

export type RequestStatus = ChatRequestRecord['status'];

/** Audit verbs, as chat.<action>.<verb>. */
export type Verb =
  | 'requested' | 'authorized' | 'denied' | 'unjustified' | 'justified' | 'confirmed' | 'cancelled'
  | 'approval-requested' | 'approved' | 'approval-refused' | 'rejected' | 'started' | 'executed' | 'failed' | 'expired'
  | 'refused' | 'stop-requested' | 'preempting';

const OUTCOME: Record<Verb, NonNullable<AuditInput['outcome']>> = {
  requested: 'pending', authorized: 'success', denied: 'denied', unjustified: 'denied', justified: 'success',
  confirmed: 'success', cancelled: 'info', 'approval-requested': 'pending', approved: 'success',
  'approval-refused': 'denied', rejected: 'denied', started: 'pending', executed: 'success', failed: 'failure', expired: 'info',
  refused: 'denied', 'stop-requested': 'info', preempting: 'pending',
};

export const OPEN: readonly RequestStatus[] = ['awaiting-justification', 'awaiting-confirmation', 'awaiting-approval'];
/** Where a request ends: nothing more happens to it after one of these. */
export const ENDED: readonly RequestStatus[] = ['executed', 'failed', 'denied', 'cancelled', 'expired'];

/** A request's end, as recorded: who ended it (a person) and the audit record of the end. */
export interface RequestEnded {
  c: Conversation;
  verb: Verb;
  reason?: string;
  by?: string;
  record: AuditRecord;
}

export interface Conversation {
  record: ChatRequestRecord;
  cmd: ActionCommand;
  requester: ChatUser;
  thread?: string;
  production: boolean;
  justification?: Justification;
  op?: Operation;
  preview?: Preview;
  /** Who cancelled the run under way (it stops at its next step boundary). */
  stoppedBy?: ChatUser;
  /** Cluster time when the current wait (justification, confirmation, approval) ends. */
  expiresAt: number;
  timer?: TimerHandle;
}

export const SYSTEM_ACTOR: Actor = { type: 'system', name: 'chat' };

/** Short ids people can type: 6 characters without look-alikes (0/o, 1/l/i). */
const ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789';

export class RequestBook {
  private readonly store: Store;
  private readonly clock: Clock;
  private readonly redact: (s: string) => string;
  private readonly live = new Map<string, Conversation>();
  private readonly locks = new Map<string, Promise<unknown>>();
  /** Told when a request ends (its end recorded), e.g. to write the trace back to its ticket; must not throw. */
  onEnd?: (e: RequestEnded) => void;

  constructor(store: Store, clock: Clock, redact: (s: string) => string) {
    this.store = store;
    this.clock = clock;
    this.redact = redact;
  }

  async newId(): Promise<string> {
    for (;;) {
      const id = Array.from({ length: 6 }, () => ALPHABET[randomInt(ALPHABET.length)]).join('');
      if (!this.live.has(id) && !(await this.store.getChatRequest(id))) return id;
    }
  }

  get(id: string): Conversation | undefined {
    return this.live.get(id);
  }

  open(): Conversation[] {
    return [...this.live.values()];
  }

  track(c: Conversation): void {
    this.live.set(c.record.id, c);
  }

  /** Forgets a finished conversation (its record stays in the store). */
  finish(c: Conversation): void {
    c.timer?.cancel();
    c.timer = undefined;
    this.live.delete(c.record.id);
  }

  /** Runs fn with no other transition of the same request in between (a double-clicked button confirms once). */
  async locked<T>(id: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.locks.get(id) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    const tail = next.catch(() => undefined);
    this.locks.set(id, tail);
    try {
      return await next;
    } finally {
      if (this.locks.get(id) === tail) this.locks.delete(id);
    }
  }

  /**
   * Stores the new state and appends the audit record of the transition:
   * made by `by` (default the requester) or, with `system`, by kubemend.
   * Every record names the requester's and the actor's platform identity.
   */
  async transition(c: Conversation, status: RequestStatus | undefined, verb: Verb, o: { by?: ChatUser; system?: boolean; data?: Record<string, unknown>; reason?: string } = {}): Promise<void> {
    const now = this.clock.now();
    const r = c.record;
    if (status) r.status = status;
    r.updatedAt = now;
    if (c.justification) {
      r.justification = this.redact(c.justification.reason);
      r.link = c.justification.link;
    }
    await this.store.putChatRequest(r);
    const by = o.system ? undefined : (o.by ?? c.requester);
    const data: Record<string, unknown> = {
      request: r.id, room: r.room, adapter: r.adapter, command: r.command, status: r.status, ...(c.production ? { production: true } : {}),
      requester: auditIdentity(c.requester), ...(by ? { user: auditIdentity(by) } : {}),
    };
    if (o.reason) data.reason = this.redact(o.reason);
    if (c.justification) data.linkKind = c.justification.kind;
    if (c.justification) data.linkDetail = c.justification.detail;
    const [record] = await this.store.audit.append({
      time: now,
      actor: by ? { type: 'user', name: by.name } : SYSTEM_ACTOR,
      action: `chat.${r.action}.${verb}`,
      target: r.target,
      justification: r.justification,
      link: r.link,
      outcome: OUTCOME[verb],
      runId: r.runId,
      data: { ...data, ...(o.data ?? {}) },
    });
    if (status && ENDED.includes(status)) this.onEnd?.({ c, verb, reason: data.reason as string | undefined, by: by?.name, record });
  }

  /**
   * A refusal that never became a request (an unmapped user, a command that
   * does not parse, an unknown cluster, a limit): audited all the same, as
   * who tried what from where.
   */
  async refusal(msg: ChatMessage, action: string, o: { code: string; reason: string; target?: AuditTarget; data?: Record<string, unknown> }): Promise<void> {
    await this.store.audit.append({
      time: this.clock.now(),
      actor: { type: 'user', name: msg.user.name },
      action,
      target: o.target,
      outcome: 'denied',
      data: { room: msg.room, adapter: msg.adapter, command: this.redact(msg.text.trim()), code: o.code, reason: this.redact(o.reason), user: auditIdentity(msg.user), ...(o.data ?? {}) },
    });
  }

  /** Requests an earlier process left waiting: they expire (nobody should act on a confirmation given to a process that died). */
  /** Requests left waiting by a process that is gone; with `idleMs`, only those not updated for that long. */
  async expireOrphans(now: number, idleMs = 0): Promise<ChatRequestRecord[]> {
    const orphans = (await this.store.listChatRequests({ status: [...OPEN] })).filter((r) => !this.live.has(r.id) && now - r.updatedAt >= idleMs);
    for (const r of orphans) {
      r.status = 'expired';
      r.updatedAt = now;
      await this.store.putChatRequest(r);
      await this.store.audit.append({ time: now, actor: SYSTEM_ACTOR, action: `chat.${r.action}.expired`, target: r.target, justification: r.justification, link: r.link, outcome: 'info', data: { request: r.id, room: r.room, adapter: r.adapter, command: r.command, status: r.status, requester: { platform: r.adapter, subject: r.user }, reason: 'kubemend restarted while the request was waiting' } });
    }
    return orphans;
  }
}

export function newRecord(o: { id: string; user: ChatUser; room: string; adapter: string; command: string; cmd: ActionCommand; cluster: string; now: number }): ChatRequestRecord {
  return {
    id: o.id,
    user: o.user.name,
    room: o.room,
    adapter: o.adapter,
    command: o.command,
    action: o.cmd.action,
    cluster: o.cluster,
    target: { cluster: o.cluster, kind: o.cmd.kind, namespace: o.cmd.namespace, name: o.cmd.name },
    status: 'awaiting-justification',
    approvals: [],
    createdAt: o.now,
    updatedAt: o.now,
  };
}
