// A local stand-in for a Mattermost server (Mattermost cannot run here). Its
// REST API checks what the real API v4 checks for the calls kubemend makes
// (POST /api/v4/posts and /api/v4/posts/ephemeral): the bot's bearer token,
// a JSON body, a 26-character channel id the bot may post to, a valid
// root_id, and interactive-message actions with an id, a name and an
// integration URL. Errors come back as Mattermost's AppError JSON. It also
// plays Mattermost's side of the integrations: slash commands (form-encoded,
// `Authorization: Token …`), outgoing webhooks, and button presses POSTed to
// the integration URL with the action's context.
import { randomBytes } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';

export interface MmPost {
  id: string;
  channel_id: string;
  message: string;
  root_id: string;
  user_id: string;
  props: { attachments?: { actions?: MmAction[] }[] } & Record<string, unknown>;
  ephemeralFor?: string;
  /** How many times the post was patched. */
  edited?: number;
}

export interface MmAction {
  id: string;
  name: string;
  type?: string;
  style?: string;
  integration: { url: string; context: Record<string, unknown> };
}

export const mmId = () => randomBytes(16).toString('hex').slice(0, 26).replace(/[^a-z0-9]/g, 'a');

export class FakeMattermost {
  readonly posts: MmPost[] = [];
  /** Channels the bot belongs to. */
  readonly channels = new Set<string>();
  readonly botUserId = mmId();
  private readonly app: FastifyInstance = Fastify({ logger: false });
  private readonly token: string;
  url = '';

  constructor(botToken: string) {
    this.token = botToken;
    this.app.removeAllContentTypeParsers();
    this.app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
      try { done(null, JSON.parse(body as string)); } catch { done(null, Symbol.for('bad-json')); }
    });
    this.app.addHook('onRequest', async (req, reply) => {
      // The server reads the scheme case-insensitively (Client4 sends "BEARER").
      const token = /^(?:bearer|token)\s+(\S+)$/i.exec(String(req.headers.authorization ?? ''))?.[1];
      if (token !== this.token) {
        return appError(reply, 401, 'api.context.session_expired.app_error', 'Invalid or expired session, please login again.');
      }
    });
    this.app.post('/api/v4/posts', async (req, reply) => {
      const post = this.validate(req.body, reply);
      return post && this.created(reply, post);
    });
    // PUT /api/v4/posts/{post_id}/patch: the fields given replace the post's (message, props); only the author's posts.
    this.app.put<{ Params: { id: string } }>('/api/v4/posts/:id/patch', async (req, reply) => {
      const post = this.posts.find((p) => p.id === req.params.id);
      if (!post) return appError(reply, 404, 'app.post.get.app_error', 'Unable to get the post.');
      const b = req.body as { message?: unknown; props?: MmPost['props'] } | undefined;
      if (b?.message !== undefined && typeof b.message !== 'string') return appError(reply, 400, 'api.context.invalid_body_param.app_error', 'Invalid or missing message in request body.');
      if (typeof b?.message === 'string') post.message = b.message;
      if (b?.props !== undefined) post.props = b.props;
      post.edited = (post.edited ?? 0) + 1;
      return reply.code(200).header('content-type', 'application/json').send(Buffer.from(JSON.stringify({ ...post, update_at: Date.now(), edit_at: Date.now() })));
    });
    this.app.post('/api/v4/posts/ephemeral', async (req, reply) => {
      const b = req.body as { user_id?: unknown; post?: unknown } | undefined;
      if (typeof b?.user_id !== 'string' || !/^[a-z0-9]{26}$/.test(b.user_id)) return appError(reply, 400, 'api.context.invalid_body_param.app_error', 'Invalid or missing user_id in request body.');
      const post = this.validate(b.post, reply);
      return post && this.created(reply, { ...post, ephemeralFor: b.user_id });
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

  /** Mattermost's request for a custom slash command (POST, form-encoded). */
  slash(target: string, token: string, f: { channel_id: string; user_id: string; user_name: string; text: string }): Promise<Response> {
    const body = new URLSearchParams({
      channel_id: f.channel_id, channel_name: 'town-square', command: '/kubemend', response_url: `${this.url}/hooks/commands/${mmId()}`,
      team_domain: 'acme', team_id: mmId(), text: f.text, token, trigger_id: randomBytes(20).toString('base64'), user_id: f.user_id, user_name: f.user_name,
    });
    return fetch(target, { method: 'POST', body, headers: { authorization: `Token ${token}`, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json', 'user-agent': 'mattermost-10.5.0' } });
  }

  /** Mattermost's request for an outgoing webhook configured with content type application/json. */
  outgoing(target: string, token: string, f: { channel_id: string; user_id: string; user_name: string; text: string; trigger_word: string }): Promise<Response> {
    const body = JSON.stringify({
      token, team_id: mmId(), team_domain: 'acme', channel_id: f.channel_id, channel_name: 'town-square', timestamp: Date.now(),
      user_id: f.user_id, user_name: f.user_name, post_id: mmId(), text: f.text, trigger_word: f.trigger_word, file_ids: '',
    });
    return fetch(target, { method: 'POST', body, headers: { 'content-type': 'application/json', accept: 'application/json' } });
  }

  /** What Mattermost does when a user presses a button: POST the action's context to its integration URL. */
  press(post: MmPost, actionId: string, user: { id: string; name: string }, contextOverride?: Record<string, unknown>): Promise<Response> {
    const action = post.props.attachments?.flatMap((a) => a.actions ?? []).find((a) => a.id === actionId);
    if (!action) throw new Error(`post ${post.id} has no action ${actionId}`);
    const body = JSON.stringify({
      user_id: user.id, user_name: user.name, channel_id: post.channel_id, channel_name: 'town-square', team_id: mmId(), team_domain: 'acme',
      post_id: post.id, trigger_id: randomBytes(20).toString('base64'), type: 'button', data_source: '', context: contextOverride ?? action.integration.context,
    });
    return fetch(action.integration.url, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
  }

  private validate(body: unknown, reply: FastifyReply): MmPost | undefined {
    const b = body as Partial<MmPost> | undefined;
    if (!b || typeof b !== 'object') {
      appError(reply, 400, 'api.context.invalid_body_param.app_error', 'Invalid or missing post in request body.');
      return undefined;
    }
    if (typeof b.channel_id !== 'string' || !/^[a-z0-9]{26}$/.test(b.channel_id)) {
      appError(reply, 400, 'model.post.is_valid.channel_id.app_error', 'Invalid channel id.');
      return undefined;
    }
    if (!this.channels.has(b.channel_id)) {
      appError(reply, 403, 'api.context.permissions.app_error', 'You do not have the appropriate permissions.');
      return undefined;
    }
    if (typeof b.message !== 'string') {
      appError(reply, 400, 'model.post.is_valid.msg.app_error', 'Invalid message.');
      return undefined;
    }
    const root = b.root_id ?? '';
    if (root && !this.posts.some((p) => p.id === root && !p.root_id && p.channel_id === b.channel_id)) {
      appError(reply, 400, 'api.post.create_post.root_id.app_error', 'Invalid RootId parameter.');
      return undefined;
    }
    for (const att of (b.props?.attachments ?? [])) {
      for (const a of att.actions ?? []) {
        const ok = typeof a.id === 'string' && /^[A-Za-z0-9]+$/.test(a.id) && typeof a.name === 'string' && a.name.length > 0
          && /^https?:\/\/[^/]+/.test(a.integration?.url ?? '') && typeof a.integration?.context === 'object';
        if (!ok) {
          appError(reply, 400, 'model.post.is_valid.props.app_error', 'Invalid props: an action needs an alphanumeric id, a name and an integration URL.');
          return undefined;
        }
      }
    }
    return { id: mmId(), channel_id: b.channel_id, message: b.message, root_id: root, user_id: this.botUserId, props: b.props ?? {} };
  }

  private created(reply: FastifyReply, post: MmPost) {
    this.posts.push(post);
    const now = Date.now();
    // Client4 only parses bodies whose Content-Type is exactly application/json, as the real server sends
    // (a Buffer, so fastify adds no charset).
    return reply.code(201).header('content-type', 'application/json').send(Buffer.from(JSON.stringify({ ...post, create_at: now, update_at: now, edit_at: 0, delete_at: 0, is_pinned: false, type: '', hashtags: '', metadata: {} })));
  }
}

function appError(reply: FastifyReply, status: number, id: string, message: string) {
  return reply.code(status).header('content-type', 'application/json').send(Buffer.from(JSON.stringify({ id, message, detailed_error: '', request_id: mmId(), status_code: status })));
}
