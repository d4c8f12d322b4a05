// What every console route needs, decided once: who is asking (the chat
// adapter's session or bearer token), whether the chat policy lets them (the
// same casbin model and rules as every chat command, the console's room as
// the room), and the audit of every refusal. Mutations that chat already
// has (approve, deny, incident ack/assign/note/resolve, run abort) go
// through `say`, so the console cannot grow a second, weaker path to them.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Clock } from '../../common/index.ts';
import type { Store } from '../../store/index.ts';
import type { Authorizer, ChatAction, Decision } from '../../authz/index.ts';
import type { LoadedRunbook, PendingApproval } from '../../runbooks/index.ts';
import type { ChangeEntry } from '../../incidents/index.ts';
import type { ChatReply, ChatUser, ConsoleAdapter } from '../../chat/index.ts';
import type { LiveHub } from './live.ts';

export interface ConsoleServices {
  store: Store;
  clock: Clock;
  authorizer: Authorizer;
  /** The runbooks new runs use (hot reload may change them). */
  runbooks: () => readonly LoadedRunbook[];
  /** The clusters kubemend watches; the first is the default. */
  clusters: readonly string[];
  /** The change feed the incident tracker keeps (time order); absent when incidents are off. */
  changes?: (q: { cluster?: string }) => ChangeEntry[];
  /** How often the live stream looks for new audit records (default 1000 ms of real time). */
  livePollMs?: number;
  /** Runbook approval steps waiting in this process, with the ids chat's approve/deny take. */
  runbookApprovals?: () => readonly (PendingApproval & { short: string })[];
}

/** Where a thing lives, for the policy: its cluster and namespace ('' for cluster-scoped). */
export interface Scope {
  cluster?: string;
  namespace?: string;
}

export class ConsoleContext {
  readonly adapter: ConsoleAdapter;
  readonly services: ConsoleServices;
  readonly live: LiveHub;

  constructor(adapter: ConsoleAdapter, services: ConsoleServices, live: LiveHub) {
    this.adapter = adapter;
    this.services = services;
    this.live = live;
  }

  get store(): Store {
    return this.services.store;
  }

  get room(): string {
    return this.adapter.room;
  }

  /** The signed-in user, or undefined after answering 401 (audited). */
  user(req: FastifyRequest, reply: FastifyReply): ChatUser | undefined {
    const u = this.adapter.authenticate(req);
    if (!u) void this.adapter.unauthorized(reply, req);
    return u;
  }

  /** The policy's decision on `user` taking `action` in `scope` from the console's room. */
  decide(user: ChatUser, action: ChatAction, scope: Scope = {}): Promise<Decision> {
    return this.services.authorizer.check({
      user: user.name,
      groups: user.groups,
      cluster: scope.cluster ?? this.services.clusters[0] ?? '*',
      namespace: scope.namespace ?? '',
      room: this.room,
      action,
    });
  }

  /** Whether the policy lets `user` take `action` in `scope` from the console's room. */
  async may(user: ChatUser, action: ChatAction, scope: Scope = {}): Promise<boolean> {
    return (await this.decide(user, action, scope)).allowed;
  }

  /**
   * A per-request filter for lists: one policy decision per distinct
   * cluster/namespace, so a page of 100 items costs a handful of checks.
   */
  visibility(user: ChatUser, action: ChatAction): (scope: Scope) => Promise<boolean> {
    const memo = new Map<string, Promise<boolean>>();
    return (scope) => {
      const k = `${scope.cluster ?? ''}\u0000${scope.namespace ?? ''}`;
      let p = memo.get(k);
      if (!p) memo.set(k, (p = this.may(user, action, scope)));
      return p;
    };
  }

  /** The user when the policy allows `action` in `scope`; else answers 401/403 (audited) and returns undefined. */
  async require(req: FastifyRequest, reply: FastifyReply, action: ChatAction, scope: Scope = {}): Promise<ChatUser | undefined> {
    const user = this.user(req, reply);
    if (!user) return undefined;
    const d = await this.decide(user, action, scope);
    if (d.allowed) return user;
    this.forbid(req, reply, user, d.reason);
    return undefined;
  }

  /** Answers 403 for `user` (audited as a refused console request). */
  forbid(req: FastifyRequest, reply: FastifyReply, user: ChatUser, reason: string): void {
    this.adapter.refuse(req, 'forbidden', 403, `${user.name}: ${reason}`.slice(0, 300));
    void reply.code(403).send({ error: reason });
  }

  /** A chat command as `user` in the console's room (the chat engine's policy, four-eyes and audit); the sender's replies. */
  say(user: ChatUser, text: string): Promise<ChatReply[]> {
    return this.adapter.say(user, text);
  }
}

/** A bounded page size from a query string value (default 50, at most 200). */
export function pageSize(v: unknown, fallback = 50, max = 200): number {
  const n = Number(v);
  return Number.isInteger(n) && n > 0 ? Math.min(n, max) : fallback;
}
