// A local stand-in for the Slack Web API (Slack cannot run here). It checks
// requests the way slack.com does: the bot token as `Authorization: Bearer`
// (or a `token` field), form-encoded or JSON bodies, the arguments each
// method requires and Block Kit's documented limits, and answers in Slack's
// shape: HTTP 200 with `{ok: true, …}` or `{ok: false, error: "<code>"}`.
// It also serves response_url hooks (JSON only, at most five uses each within
// thirty minutes, `text` or `blocks`, documented response_type and
// replace_original/delete_original), keeps the messages the bot posted so
// chat.update works only on one of them, and signs requests to kubemend the
// way Slack signs them. apps.connections.open answers Socket Mode's
// WebSocket URL (fake-slack-socket.ts) to the app-level token alone.
import Fastify, { type FastifyInstance } from 'fastify';
import { slackSignature } from '../../../src/chat/adapters/slack/verify.ts';

export interface SlackCall {
  method: string;
  args: Record<string, unknown>;
  contentType: string;
  /** When it came (Date.now()). */
  at: number;
}

const BLOCK_TYPES = new Set(['section', 'actions', 'context', 'divider', 'header', 'image', 'rich_text']);

export interface SlackMessage {
  channel: string;
  ts: string;
  text?: unknown;
  blocks?: unknown;
}

// Slack: a response_url "can be used up to 5 times within 30 minutes".
const RESPONSE_URL_USES = 5;
const RESPONSE_URL_TTL_MS = 30 * 60_000;

export class FakeSlack {
  readonly calls: SlackCall[] = [];
  readonly responses: { id: string; body: Record<string, unknown> }[] = [];
  /** Messages the bot posted (by `channel/ts`), as chat.update left them. */
  readonly messages = new Map<string, SlackMessage>();
  /** Answer this many Web API calls with HTTP 429 and Retry-After, as Slack rate-limits a method. */
  rateLimitNext = 0;
  private readonly responseUses = new Map<string, { uses: number; first: number }>();
  /** Channels the bot is not a member of: chat.postMessage answers not_in_channel. */
  readonly notInChannel = new Set<string>();
  private readonly app: FastifyInstance = Fastify({ logger: false });
  private readonly token: string;
  private ts = 1_700_000_000;
  url = '';
  /** Socket Mode's WebSocket side (fake-slack-socket.ts), when the app has an app-level token. */
  socket?: { appToken: string; ticket(): string };

  constructor(botToken: string) {
    this.token = botToken;
    this.app.removeAllContentTypeParsers();
    this.app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => done(null, Object.fromEntries(new URLSearchParams(body as string))));
    this.app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
      try { done(null, JSON.parse(body as string)); } catch (e) { done(e as Error, undefined); }
    });
    this.app.post<{ Params: { method: string } }>('/api/:method', async (req, reply) => {
      const args = { ...(req.body as Record<string, unknown> ?? {}) };
      const contentType = String(req.headers['content-type'] ?? '');
      const bearer = /^Bearer (.+)$/.exec(String(req.headers.authorization ?? ''))?.[1];
      const token = bearer ?? (contentType.startsWith('application/json') ? undefined : args.token as string | undefined);
      if (!token) return { ok: false, error: 'not_authed' };
      // apps.connections.open takes only the app-level token; every other method only the bot token.
      if (req.params.method === 'apps.connections.open') {
        this.calls.push({ method: req.params.method, args, contentType, at: Date.now() });
        if (token === this.token) return { ok: false, error: 'not_allowed_token_type' };
        if (!this.socket || token !== this.socket.appToken) return { ok: false, error: 'invalid_auth' };
        return { ok: true, url: this.socket.ticket() };
      }
      if (this.socket && token === this.socket.appToken) return { ok: false, error: 'not_allowed_token_type' };
      if (token !== this.token) return { ok: false, error: 'invalid_auth' };
      delete args.token;
      this.calls.push({ method: req.params.method, args, contentType, at: Date.now() });
      if (this.rateLimitNext > 0) {
        this.rateLimitNext--;
        return reply.code(429).header('retry-after', '7').send({ ok: false, error: 'ratelimited' });
      }
      return this.method(req.params.method, args);
    });
    this.app.post<{ Params: { id: string } }>('/response/:id', async (req, reply) => {
      if (!String(req.headers['content-type']).startsWith('application/json')) return reply.code(400).send('expected JSON');
      const use = this.responseUses.get(req.params.id) ?? { uses: 0, first: Date.now() };
      this.responseUses.set(req.params.id, use);
      if (Date.now() - use.first > RESPONSE_URL_TTL_MS) return reply.code(404).send({ ok: false, error: 'expired_url' });
      if (++use.uses > RESPONSE_URL_USES) return reply.code(404).send({ ok: false, error: 'used_url' });
      const b = (req.body ?? {}) as Record<string, unknown>;
      if (b.response_type !== undefined && b.response_type !== 'ephemeral' && b.response_type !== 'in_channel') return reply.code(400).send({ ok: false, error: 'invalid_response_type' });
      for (const k of ['replace_original', 'delete_original']) if (b[k] !== undefined && typeof b[k] !== 'boolean') return reply.code(400).send({ ok: false, error: `invalid_${k}` });
      if (b.delete_original !== true && !b.text && b.blocks === undefined) return reply.code(400).send({ ok: false, error: 'no_text' });
      if (b.blocks !== undefined && !validBlocks(b.blocks)) return reply.code(400).send({ ok: false, error: 'invalid_blocks' });
      this.responses.push({ id: req.params.id, body: b });
      return { ok: true };
    });
  }

  async listen(): Promise<string> {
    await this.app.listen({ host: '127.0.0.1', port: 0 });
    this.url = `http://127.0.0.1:${(this.app.server.address() as { port: number }).port}`;
    return this.url;
  }

  close(): Promise<void> {
    return this.app.close();
  }

  callsTo(method: string): SlackCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  private method(method: string, a: Record<string, unknown>): Record<string, unknown> {
    const channel = typeof a.channel === 'string' ? a.channel : '';
    switch (method) {
      case 'chat.postMessage':
      case 'chat.postEphemeral':
      case 'chat.update': {
        if (!/^[CDG][A-Z0-9]{2,}$/.test(channel)) return { ok: false, error: 'channel_not_found' };
        if (method !== 'chat.update' && this.notInChannel.has(channel)) return { ok: false, error: 'not_in_channel' };
        let blocks: unknown;
        try {
          blocks = typeof a.blocks === 'string' ? JSON.parse(a.blocks) : a.blocks;
        } catch {
          return { ok: false, error: 'invalid_blocks_format' };
        }
        if (blocks !== undefined && !validBlocks(blocks)) return { ok: false, error: 'invalid_blocks' };
        if (!a.text && blocks === undefined) return { ok: false, error: 'no_text' };
        if (a.thread_ts !== undefined && !/^\d+\.\d+$/.test(String(a.thread_ts))) return { ok: false, error: 'invalid_thread_ts' };
        if (method === 'chat.postEphemeral') {
          if (typeof a.user !== 'string' || !/^[UW][A-Z0-9]+$/.test(a.user)) return { ok: false, error: 'user_not_in_channel' };
          return { ok: true, message_ts: this.nextTs() };
        }
        if (method === 'chat.update') {
          // Only a message the bot posted (never an ephemeral one) can be updated.
          const m = typeof a.ts === 'string' ? this.messages.get(`${channel}/${a.ts}`) : undefined;
          if (!m) return { ok: false, error: 'message_not_found' };
          if (a.text !== undefined) m.text = a.text;
          if (blocks !== undefined) m.blocks = blocks;
          return { ok: true, channel, ts: a.ts, text: a.text };
        }
        const ts = this.nextTs();
        this.messages.set(`${channel}/${ts}`, { channel, ts, text: a.text, blocks });
        return { ok: true, channel, ts, message: { type: 'message', user: 'UBOT', bot_id: 'BBOT', text: a.text, ts, blocks } };
      }
      default:
        return { ok: false, error: 'unknown_method' };
    }
  }

  private nextTs(): string {
    return `${this.ts++}.000100`;
  }
}

function textObject(t: unknown, max: number, plainOnly = false): boolean {
  const o = t as { type?: string; text?: unknown };
  return !!o && (o.type === 'plain_text' || (!plainOnly && o.type === 'mrkdwn')) && typeof o.text === 'string' && o.text.length >= 1 && o.text.length <= max;
}

/** Block Kit checks as documented: types, text objects, buttons and their limits. */
export function validBlocks(blocks: unknown): boolean {
  if (!Array.isArray(blocks) || blocks.length > 50) return false;
  const blockIds = new Set<string>();
  for (const b of blocks as Record<string, unknown>[]) {
    if (!b || typeof b.type !== 'string' || !BLOCK_TYPES.has(b.type)) return false;
    if (b.block_id !== undefined) {
      if (typeof b.block_id !== 'string' || b.block_id.length > 255 || blockIds.has(b.block_id)) return false;
      blockIds.add(b.block_id);
    }
    if (b.type === 'section' && !textObject(b.text, 3000)) return false;
    if (b.type === 'context' && (!Array.isArray(b.elements) || !b.elements.length || b.elements.length > 10 || !b.elements.every((e) => textObject(e, 3000)))) return false;
    if (b.type === 'actions') {
      const els = b.elements as Record<string, unknown>[];
      if (!Array.isArray(els) || !els.length || els.length > 25) return false;
      const ids = new Set<string>();
      for (const e of els) {
        if (e.type !== 'button' || !textObject(e.text, 75, true)) return false;
        if (typeof e.action_id !== 'string' || e.action_id.length > 255 || ids.has(e.action_id)) return false;
        ids.add(e.action_id);
        if (e.value !== undefined && (typeof e.value !== 'string' || e.value.length > 2000)) return false;
        if (e.style !== undefined && e.style !== 'primary' && e.style !== 'danger') return false;
      }
    }
  }
  return true;
}

/** Headers Slack sends with a request to kubemend, signed with `secret` at `timestamp` (seconds). */
export function slackHeaders(secret: string, body: string, contentType: string, timestamp = Math.floor(Date.now() / 1000)): Record<string, string> {
  return {
    'content-type': contentType,
    'x-slack-request-timestamp': String(timestamp),
    'x-slack-signature': slackSignature(secret, timestamp, body),
    'user-agent': 'Slackbot 1.0 (+https://api.slack.com/robots)',
  };
}
