// The built-in web console: a page at /console/ where a signed-in user types
// commands to the same engine the chat platforms use, presses buttons, and
// sees run progress arrive live over Server-Sent Events.
//
// Sign-in is deliberately simple: each user has an access token (kubemend
// keeps only its SHA-256), sent as `Authorization: Bearer` by scripts or
// exchanged once on the login form for an HttpOnly, SameSite=Strict session
// cookie. Single sign-on belongs in front of kubemend (an authenticating
// proxy), not in it. The page runs no inline script and its Content Security
// Policy allows none, and it only ever writes text nodes, so a reply cannot
// inject markup.
//
// Rooms: console users talk in one room (`room`, default `console`; name it
// as your RBAC policy does, e.g. `ops`). The answers to a command go to its
// sender only; later replies to the room (run progress, results, approval
// requests) reach everyone signed in, as in a chat channel; `console:<name>`
// reaches one user.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { realClock, type Clock, KubemendError, Errors } from '../../../common/index.ts';
import type { ChatReply, ChatUser } from '../../types.ts';
import { BaseAdapter, chatRepliesTotal, rawBodyParsers, type ChatIdentity } from '../shared/base.ts';

export interface ConsoleUser extends ChatIdentity {
  /** The access token in clear (e.g. from an environment variable)… */
  token?: string;
  /** …or only its SHA-256 in hex, so the config file holds no secret. */
  tokenSha256?: string;
}

export interface ConsoleAdapterOptions {
  users: ConsoleUser[];
  clock?: Clock;
  /** How long a login lasts (default 12 hours). */
  sessionTtlMs?: number;
  /** The room console users talk in (default `console`). */
  room?: string;
  /** Mark the cookie Secure (set when kubemend is served over HTTPS). */
  secureCookie?: boolean;
  /**
   * Origins besides the server's own (its Host header) that may post to the
   * console, e.g. `https://kubemend.example.com` behind a proxy that rewrites Host.
   */
  origins?: string[];
}

const COOKIE = 'kubemend_console';
/** The header a cookie-authenticated POST carries its session's CSRF token in. */
export const CSRF_HEADER = 'x-kubemend-csrf';
export const SECURITY_HEADERS = {
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};
const REPLAY_MAX = 200;

interface Stream {
  user: ChatUser;
  res: ServerResponse;
}

export class ConsoleAdapter extends BaseAdapter {
  readonly name = 'console';
  private readonly byTokenHash = new Map<string, ChatUser>();
  private readonly sessions = new Map<string, { user: ChatUser; expires: number; csrf: string }>();
  private readonly streams = new Set<Stream>();
  // Recent live replies, so a reconnecting EventSource (Last-Event-ID) misses nothing.
  private readonly recent: { id: number; reply: ChatReply }[] = [];
  private nextId = 1;
  private readonly clock: Clock;
  private readonly opts: ConsoleAdapterOptions;
  readonly room: string;

  constructor(opts: ConsoleAdapterOptions) {
    super();
    this.opts = opts;
    this.clock = opts.clock ?? realClock;
    this.room = opts.room ?? 'console';
    for (const u of opts.users) {
      const hash = u.tokenSha256?.toLowerCase() ?? (u.token ? sha256(u.token) : undefined);
      if (!hash || !/^[0-9a-f]{64}$/.test(hash)) throw new KubemendError(Errors.SERVE_ADAPTERS, `console user "${u.name}" needs a token or a tokenSha256 (64 hex digits)`);
      this.byTokenHash.set(hash, { platform: 'console', id: u.name, displayName: u.name, name: u.name, groups: u.groups ?? [], mapping: 'mapped' });
    }
  }

  /**
   * The console's guards for a fastify scope: security headers on every
   * answer, and every state change from the console's own page (sameSiteJson)
   * with its session's CSRF token. The server's console views use the same.
   */
  guard(app: FastifyInstance): void {
    rawBodyParsers(app, 64 * 1024);
    app.addHook('onSend', async (_req, reply) => { reply.headers(SECURITY_HEADERS); });
    app.addHook('onRequest', async (req, reply) => this.sameSiteJson(req, reply));
  }

  // The page and its files are served by the server's console plugin (src/server/console/).
  async routes(app: FastifyInstance): Promise<void> {
    this.guard(app);
    app.post('/console/login', (req, reply) => this.login(req, reply));
    app.post('/console/logout', (req, reply) => {
      const sid = cookie(req, COOKIE);
      if (sid) this.sessions.delete(sid);
      return reply.header('set-cookie', this.cookie('', 0)).send({ ok: true });
    });
    app.get('/console/api/me', (req, reply) => {
      const user = this.authenticate(req);
      return user ? { user: { name: user.name, groups: user.groups }, csrf: this.csrfOf(req) } : this.unauthorized(reply);
    });
    app.post('/console/api/messages', (req, reply) => this.message(req, reply));
    app.get('/console/api/events', (req, reply) => this.events(req, reply));
    app.addHook('preClose', async () => this.closeStreams());
  }

  async deliver(reply: ChatReply): Promise<void> {
    const entry = { id: this.nextId++, reply };
    this.recent.push(entry);
    if (this.recent.length > REPLAY_MAX) this.recent.shift();
    for (const s of this.streams) if (this.visible(reply, s.user)) write(s.res, entry);
  }

  override owns(room: string): boolean {
    return room === this.room || super.owns(room);
  }

  override async stop(): Promise<void> {
    this.closeStreams();
    await super.stop();
  }

  /**
   * Every state change (login, logout, a message) must come from the console
   * page itself: a JSON body, which a cross-site form cannot send without a
   * CORS preflight kubemend never grants, and — when the browser says where
   * the request comes from — this server's origin. Scripts with a bearer
   * token send neither Origin nor Sec-Fetch-Site and are not affected.
   */
  private async sameSiteJson(req: FastifyRequest, reply: FastifyReply) {
    if (req.method === 'GET' || req.method === 'HEAD') return;
    const foreign = this.foreignOrigin(req);
    if (foreign) {
      this.refused(req, 'cross_site', 403, foreign);
      this.log.warn({ adapter: this.name, reason: foreign }, 'refused a cross-site console request');
      return reply.code(403).send({ error: `${foreign}: the console only accepts requests from its own page` });
    }
    if (!/^application\/json\s*(;|$)/i.test(String(req.headers['content-type'] ?? ''))) {
      this.refused(req, 'not_json', 415, `Content-Type ${String(req.headers['content-type'] ?? 'none').slice(0, 80)}`);
      return reply.code(415).send({ error: 'send JSON with Content-Type: application/json' });
    }
    // Synchronizer token: a session cookie is sent by the browser on its own, so a POST that relies on
    // it must also prove it was made by the page that read the token. Login has no session yet; a bearer
    // token is never sent by a browser on its own, so it needs none.
    const sid = cookie(req, COOKIE);
    const session = sid ? this.sessions.get(sid) : undefined;
    if (!session || this.bearer(req) || req.url.split('?')[0].endsWith('/console/login')) return;
    const sent = String(req.headers[CSRF_HEADER] ?? '');
    if (!sameToken(sent, session.csrf)) {
      this.refused(req, 'csrf', 403, sent ? 'wrong CSRF token' : 'no CSRF token');
      return reply.code(403).send({ error: `send the session's CSRF token in the ${CSRF_HEADER} header (from /console/api/me); reload the page` });
    }
  }

  /** The CSRF token of the request's cookie session (undefined for bearer tokens). */
  csrfOf(req: FastifyRequest): string | undefined {
    const sid = cookie(req, COOKIE);
    return sid ? this.sessions.get(sid)?.csrf : undefined;
  }

  private bearer(req: FastifyRequest): string | undefined {
    return /^Bearer\s+(\S+)\s*$/i.exec(String(req.headers.authorization ?? ''))?.[1];
  }

  private foreignOrigin(req: FastifyRequest): string | undefined {
    const site = req.headers['sec-fetch-site'];
    if (site !== undefined && site !== 'same-origin') return `Sec-Fetch-Site is ${String(site).slice(0, 40)}`;
    const origin = req.headers.origin;
    if (origin === undefined) return undefined;
    if ((this.opts.origins ?? []).some((o) => o.replace(/\/+$/, '').toLowerCase() === origin.toLowerCase())) return undefined;
    let host: string | undefined;
    try {
      host = new URL(origin).host;
    } catch {
      host = undefined; // "null" (a sandboxed frame, a file) is no origin of ours
    }
    if (host && host === String(req.headers.host ?? '').toLowerCase()) return undefined;
    return `Origin ${origin.slice(0, 100)} is not this server`;
  }

  private async login(req: FastifyRequest, reply: FastifyReply) {
    const token = (req.body as { token?: unknown } | undefined)?.token;
    const user = typeof token === 'string' ? this.byTokenHash.get(sha256(token)) : undefined;
    if (!user) {
      this.refused(req, 'bad_login', 401, 'unknown access token');
      this.log.warn({ adapter: this.name }, 'console login refused');
      return reply.code(401).send({ error: 'unknown access token' });
    }
    const sid = randomBytes(32).toString('base64url');
    const ttl = this.opts.sessionTtlMs ?? 12 * 3600_000;
    const csrf = randomBytes(24).toString('base64url');
    this.sessions.set(sid, { user, expires: this.clock.now() + ttl, csrf });
    this.log.info({ adapter: this.name, user: user.name }, 'console login');
    return reply.header('set-cookie', this.cookie(sid, Math.floor(ttl / 1000))).send({ user: { name: user.name, groups: user.groups }, csrf });
  }

  private async message(req: FastifyRequest, reply: FastifyReply) {
    const user = this.authenticate(req);
    if (!user) return this.unauthorized(reply, req);
    // A cross-site form cannot send JSON without a CORS preflight, which kubemend never grants.
    if (!String(req.headers['content-type'] ?? '').startsWith('application/json')) {
      return reply.code(415).send({ error: 'send the message as JSON: {"text": "…"}' });
    }
    const text = (req.body as { text?: unknown } | undefined)?.text;
    if (typeof text !== 'string' || !text.trim()) return reply.code(400).send({ error: 'the message needs a non-empty "text"' });
    return { replies: await this.say(user, text) };
  }

  /**
   * A command from a signed-in user, in the console's room, to the chat
   * engine: the same grammar, policy, four-eyes and audit as every chat
   * platform. Returns the sender's own replies; the rest go out live.
   */
  async say(user: ChatUser, text: string): Promise<ChatReply[]> {
    const room = this.room;
    const mine: ChatReply[] = [];
    await this.dispatch({ adapter: this.name, room, user, text: text.trim().slice(0, 4000), time: this.clock.now() }, async (r) => {
      // The sender's own replies come back in this response; the rest go out live or to other adapters.
      if (r.room === room && (!r.ephemeralTo || r.ephemeralTo === user.id)) {
        mine.push(r);
        chatRepliesTotal.inc({ adapter: this.name });
      } else await this.post(r);
    });
    return mine;
  }

  private events(req: FastifyRequest, reply: FastifyReply) {
    const user = this.authenticate(req);
    if (!user) return this.unauthorized(reply, req);
    const stream = { user, res: openEventStream(req, reply, () => this.streams.delete(stream)) };
    const last = Number(req.headers['last-event-id']);
    if (Number.isInteger(last)) for (const e of this.recent) if (e.id > last && this.visible(e.reply, user)) write(stream.res, e);
    this.streams.add(stream);
  }

  private visible(reply: ChatReply, user: ChatUser): boolean {
    if (reply.ephemeralTo && reply.ephemeralTo !== user.id) return false;
    return reply.room === this.room || reply.room === `console:${user.name}`;
  }

  /** The signed-in user of a request: a bearer token, or an unexpired session cookie. */
  authenticate(req: FastifyRequest): ChatUser | undefined {
    const bearer = this.bearer(req);
    // Token hashes are map keys: a lookup's timing reveals nothing about a token's bytes.
    if (bearer) return this.byTokenHash.get(sha256(bearer));
    const sid = cookie(req, COOKIE);
    const s = sid ? this.sessions.get(sid) : undefined;
    if (!s) return undefined;
    if (s.expires <= this.clock.now()) {
      this.sessions.delete(sid!);
      return undefined;
    }
    return s.user;
  }

  /** Counts and audits a refused console request (the server's console views refuse through this too). */
  refuse(req: FastifyRequest, reason: string, status: number, detail?: string): void {
    this.refused(req, reason, status, detail);
  }

  /** Answers 401 (and audits the refusal when `req` is given). */
  unauthorized(reply: FastifyReply, req?: FastifyRequest) {
    if (req) this.refused(req, 'unauthenticated', 401, 'no valid session or bearer token');
    return reply.code(401).header('www-authenticate', 'Bearer realm="kubemend console"').send({ error: 'sign in first' });
  }

  private cookie(value: string, maxAge: number): string {
    return `${COOKIE}=${value}; Path=/console; HttpOnly; SameSite=Strict; Max-Age=${maxAge}${this.opts.secureCookie ? '; Secure' : ''}`;
  }

  private closeStreams(): void {
    for (const s of this.streams) s.res.end();
    this.streams.clear();
  }
}

/**
 * Takes over a request as a Server-Sent Events stream (the console's chat
 * replies, and the views' live stream): the console's security headers, a
 * reconnect delay, a comment every 20 s so proxies keep an idle stream open,
 * and `closed` when the page goes away.
 */
export function openEventStream(req: FastifyRequest, reply: FastifyReply, closed: () => void): ServerResponse {
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': 'text/event-stream; charset=utf-8', connection: 'keep-alive', 'x-accel-buffering': 'no' });
  res.write('retry: 2000\n: connected\n\n');
  const ping = setInterval(() => res.write(': ping\n\n'), 20_000);
  req.raw.on('close', () => {
    clearInterval(ping);
    closed();
  });
  return res;
}

function write(res: ServerResponse, e: { id: number; reply: ChatReply }): void {
  res.write(`id: ${e.id}\nevent: reply\ndata: ${JSON.stringify(e.reply)}\n\n`);
}

function sameToken(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function sha256(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}

function cookie(req: FastifyRequest, name: string): string | undefined {
  for (const part of String(req.headers.cookie ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) return part.slice(i + 1).trim();
  }
  return undefined;
}
