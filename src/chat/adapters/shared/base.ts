// What the chat adapters have in common: the kubemend counters on /metrics,
// the raw-body parsers that signature checks need, a bounded memory of
// deliveries already handled, and the loop that hands a platform message to
// the engine and posts what comes back.
//
// Rooms: a channel configured with a name (`rooms: {C0OPS: ops}`) is the room
// `ops`, the name RBAC policies use; any other channel is
// `<adapter>:<platform id>` (slack:C0123, mattermost:4xp…), which only a
// policy for every room (`*`) or for that id matches. Either way one process
// can serve several platforms: an async reply (run progress, an approval
// request) reaches the adapter that owns its room.
import type { FastifyBaseLogger, FastifyInstance, FastifyRequest } from 'fastify';
import { Counter } from 'prom-client';
import { type Clock, KubemendError, Errors, type RefusalAudit } from '../../../common/index.ts';
import type { ChatAdapter, ChatEngine, ChatMessage, ChatReply } from '../../types.ts';

export const chatMessagesTotal = new Counter({
  name: 'kubemend_chat_messages_total',
  help: 'Chat messages received from users and handed to the command engine, by adapter.',
  labelNames: ['adapter'] as const,
});

export const chatRepliesTotal = new Counter({
  name: 'kubemend_chat_replies_total',
  help: 'Chat replies posted to users, by adapter.',
  labelNames: ['adapter'] as const,
});

export const chatAdapterErrorsTotal = new Counter({
  name: 'kubemend_chat_adapter_errors_total',
  help: 'Requests turned away or replies that could not be posted, by adapter and reason.',
  labelNames: ['adapter', 'reason'] as const,
});

/** A chat adapter that is reached over kubemend's own HTTP server. */
export interface HttpChatAdapter extends ChatAdapter {
  /** Registers the adapter's routes; called inside its own encapsulated fastify context. */
  routes(app: FastifyInstance): Promise<void>;
  /** Whether replies to this room are this adapter's to post. */
  owns(room: string): boolean;
  /** Posts one reply to a room this adapter owns. */
  deliver(reply: ChatReply): Promise<void>;
  /** Posts a reply (counted; failures logged, not thrown), handing foreign rooms to `forward`. */
  post(reply: ChatReply): Promise<void>;
  /** Where replies for rooms of another adapter go (set by the server). */
  forward?: (reply: ChatReply) => Promise<void>;
  /** Resolves once every message received so far has been handled and answered. */
  idle(): Promise<void>;
}

export type Logger = Pick<FastifyBaseLogger, 'info' | 'warn' | 'error' | 'debug'>;

export const silentLogger: Logger = { info() {}, warn() {}, error() {}, debug() {} };

/** A user identity as configured for an adapter: the name RBAC and impersonation use. */
export interface ChatIdentity {
  name: string;
  groups?: string[];
}

/**
 * Remembers ids (Slack event ids, button presses) for `ttlMs`, so a retried
 * delivery is acknowledged without being handled twice. Bounded: the oldest
 * ids go first when `max` is reached.
 */
export class RecentIds {
  private readonly ids = new Map<string, number>();
  private readonly ttlMs: number;
  private readonly max: number;
  private readonly clock: Clock;

  constructor(clock: Clock, ttlMs = 60 * 60_000, max = 10_000) {
    this.clock = clock;
    this.ttlMs = ttlMs;
    this.max = max;
  }

  /** True when `id` was seen within the window; otherwise records it and returns false. */
  seen(id: string): boolean {
    const now = this.clock.now();
    for (const [k, at] of this.ids) {
      if (now - at < this.ttlMs && this.ids.size < this.max) break;
      this.ids.delete(k); // Map keeps insertion order: the first entries are the oldest
    }
    const at = this.ids.get(id);
    if (at !== undefined && now - at < this.ttlMs) return true;
    this.ids.set(id, now);
    return false;
  }
}

/**
 * Accepts JSON and form-encoded bodies in this fastify context and keeps the
 * exact bytes, because platform signatures are computed over them.
 */
export function rawBodyParsers(app: FastifyInstance, bodyLimit = 1024 * 1024): (req: FastifyRequest) => Buffer {
  const raw = new WeakMap<FastifyRequest, Buffer>();
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'buffer', bodyLimit }, (req, body, done) => {
    raw.set(req, body as Buffer);
    const text = (body as Buffer).toString('utf8');
    if (!text.trim()) return done(null, undefined);
    try {
      done(null, JSON.parse(text));
    } catch {
      done(Object.assign(new Error('the body is not valid JSON'), { statusCode: 400 }), undefined);
    }
  });
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'buffer', bodyLimit }, (req, body, done) => {
    raw.set(req, body as Buffer);
    done(null, Object.fromEntries(new URLSearchParams((body as Buffer).toString('utf8'))));
  });
  return (req) => raw.get(req) ?? Buffer.alloc(0);
}

/** A short description of an error that is safe to log: never a request, header or token. */
export function describeError(err: unknown): string {
  if (err instanceof KubemendError) return `${err.code} ${err.message}`;
  const e = err as { code?: string; message?: string; data?: { error?: string }; status_code?: number; server_error_id?: string };
  if (e?.data?.error) return `${e.code ?? 'error'}: ${e.data.error}`;
  if (e?.server_error_id) return `${e.server_error_id} (HTTP ${e.status_code ?? '?'})`;
  return e?.message ?? String(err);
}

/**
 * The part every adapter shares: hands messages to the engine, posts the
 * replies to the rooms they name, follows async replies for owned rooms, and
 * keeps track of work in flight so stop() and tests can wait for it.
 */
export abstract class BaseAdapter implements HttpChatAdapter {
  abstract readonly name: string;
  forward?: (reply: ChatReply) => Promise<void>;
  protected engine?: ChatEngine;
  protected log: Logger = silentLogger;
  private refusals?: RefusalAudit;
  private unsubscribe?: () => void;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly roomNames = new Map<string, string>();
  private readonly roomChannels = new Map<string, string>();

  abstract routes(app: FastifyInstance): Promise<void>;
  abstract deliver(reply: ChatReply): Promise<void>;

  owns(room: string): boolean {
    return this.roomChannels.has(room) || room.startsWith(`${this.name}:`);
  }

  /** Names channels: platform channel id → room name (as RBAC policies write it). */
  protected nameRooms(rooms: Record<string, string> | undefined): void {
    for (const [channel, room] of Object.entries(rooms ?? {})) {
      if (this.roomChannels.has(room)) throw new KubemendError(Errors.SERVE_ROOMS, `${this.name}: two channels are named room "${room}"`);
      this.roomNames.set(channel, room);
      this.roomChannels.set(room, channel);
    }
  }

  /** The room a platform channel is. */
  protected roomOf(channel: string): string {
    return this.roomNames.get(channel) ?? `${this.name}:${channel}`;
  }

  /** The platform channel a room (owned by this adapter) is. */
  protected channelOf(room: string): string {
    return this.roomChannels.get(room) ?? room.slice(this.name.length + 1);
  }

  setLogger(log: Logger): void {
    this.log = log;
  }

  /** Where refused requests are audited (the server's rate-limited audit of every door). */
  setRefusals(refusals: RefusalAudit): void {
    this.refusals = refusals;
  }

  /**
   * Counts a refused request (kubemend_chat_adapter_errors_total{reason}) and
   * audits it as chat.request.refused: route, reason, status, caller address
   * and agent, and `detail` — which must never hold the credential.
   */
  protected refused(req: FastifyRequest, reason: string, status: number, detail?: string): void {
    chatAdapterErrorsTotal.inc({ adapter: this.name, reason });
    const ua = req.headers['user-agent'];
    this.refusals?.record({
      action: 'chat.request.refused',
      // The route's pattern, not the URL: bounded, and without a query string.
      route: req.routeOptions.url ?? 'unknown',
      reason, status, detail,
      remoteAddress: req.ip,
      userAgent: Array.isArray(ua) ? ua[0] : ua,
    });
  }

  async start(engine: ChatEngine): Promise<void> {
    this.engine = engine;
    this.unsubscribe = engine.onAsyncReply((reply) => {
      if (this.owns(reply.room)) this.track(this.post(reply));
    });
  }

  async stop(): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    await this.idle();
  }

  async idle(): Promise<void> {
    while (this.inFlight.size) await Promise.allSettled([...this.inFlight]);
  }

  /** Runs `work` after the HTTP acknowledgement, counted as in flight. */
  protected track(work: Promise<void>): void {
    const p = work.catch((err) => this.log.error({ adapter: this.name, error: describeError(err) }, 'chat adapter work failed'));
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p));
  }

  /** Hands one message to the engine and posts every reply; returns the replies. */
  protected async dispatch(msg: ChatMessage, post: (r: ChatReply) => Promise<void> = (r) => this.post(r)): Promise<ChatReply[]> {
    const { replies } = await this.ask(msg);
    for (const r of replies) await post(r);
    return replies;
  }

  /** Hands one message to the engine; an engine failure becomes a polite reply (and `failed`). Posts nothing. */
  protected async ask(msg: ChatMessage): Promise<{ replies: ChatReply[]; failed: boolean }> {
    if (!this.engine) throw new Error(`internal: the ${this.name} adapter received a message before start()`);
    chatMessagesTotal.inc({ adapter: this.name });
    try {
      return { replies: await this.engine.handle(msg), failed: false };
    } catch (err) {
      chatAdapterErrorsTotal.inc({ adapter: this.name, reason: 'engine_failed' });
      this.log.error({ adapter: this.name, error: describeError(err) }, 'the chat engine failed on a message');
      return { replies: [{ room: msg.room, thread: msg.thread, text: 'kubemend could not handle that message; the error is in the server log.' }], failed: true };
    }
  }

  /** Posts a reply here or hands it to the adapter that owns its room; failures are counted, not thrown. */
  async post(reply: ChatReply, deliver: (r: ChatReply) => Promise<void> = (r) => this.deliver(r)): Promise<void> {
    if (!this.owns(reply.room)) {
      if (this.forward) return this.forward(reply);
      chatAdapterErrorsTotal.inc({ adapter: this.name, reason: 'no_adapter_for_room' });
      this.log.warn({ adapter: this.name, room: reply.room }, 'no chat adapter serves this room; reply dropped');
      return;
    }
    try {
      await deliver(reply);
      chatRepliesTotal.inc({ adapter: this.name });
    } catch (err) {
      chatAdapterErrorsTotal.inc({ adapter: this.name, reason: 'post_failed' });
      this.log.error({ adapter: this.name, room: reply.room, error: describeError(err) }, 'posting a chat reply failed');
    }
  }
}
