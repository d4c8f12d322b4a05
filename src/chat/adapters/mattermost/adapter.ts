// Mattermost: a custom slash command (`/kubemend …`) or an outgoing webhook
// (trigger word `kubemend`) POSTs to /mattermost/command; kubemend answers
// with posts made through @mattermost/client's Client4 as a bot account, and
// buttons are interactive-message actions whose integration URL points back
// at /mattermost/actions.
//
// Mattermost authenticates the command and webhook calls with the token it
// showed when the integration was created (in the body, and for slash
// commands also as `Authorization: Token …`). Button presses carry no token,
// so each button's context is signed here (HMAC over channel and value): a
// press is only accepted for the value and channel kubemend put on it.
import { createHmac } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Client4 } from '@mattermost/client';
import { mattermostClient } from '../shared/lazy.ts';
import type { Post } from '@mattermost/types/posts';
import { realClock, type Clock, sameSecret, KubemendError, Errors } from '../../../common/index.ts';
import type { ChatMessage, ChatReply, ChatUser } from '../../types.ts';
import { BaseAdapter, RecentIds, rawBodyParsers, type ChatIdentity } from '../shared/base.ts';
import { mapIdentity, type GuestRole } from '../../identity.ts';

export interface MattermostAdapterOptions {
  /** The Mattermost server, e.g. https://chat.example.com (MATTERMOST_URL). */
  serverUrl: string;
  /** A bot account's access token (MATTERMOST_TOKEN); posts are made as that bot. */
  botToken: string;
  /** Tokens of the slash commands and outgoing webhooks that point at kubemend. */
  commandTokens: string[];
  /** kubemend's base URL as the Mattermost server reaches it, for button callbacks. */
  publicUrl: string;
  /** Key that signs button contexts; default derived from the bot token. */
  actionSecret?: string;
  /** Mattermost channel id → room name as RBAC policies write it; other channels are `mattermost:<id>`. */
  rooms?: Record<string, string>;
  /** Mattermost user id (never the username: users choose those) → the name and groups used for RBAC; other users are refused… */
  users?: Record<string, ChatIdentity>;
  /** …or, when set, act as `mattermost:<id>` with only these groups. */
  guest?: GuestRole;
  clock?: Clock;
}

interface ActionPayload {
  user_id?: string;
  user_name?: string;
  channel_id?: string;
  post_id?: string;
  trigger_id?: string;
  context?: { value?: unknown; sig?: unknown };
}

export class MattermostAdapter extends BaseAdapter {
  readonly name = 'mattermost';
  readonly client: Client4;
  /** kubemend's base URL as Mattermost reaches it (settable once the server knows its port). */
  publicUrl: string;
  private readonly opts: MattermostAdapterOptions;
  private readonly clock: Clock;
  private readonly actionKey: string;
  private readonly seenActions: RecentIds;

  constructor(opts: MattermostAdapterOptions) {
    super();
    if (!opts.serverUrl) throw new KubemendError(Errors.SERVE_ADAPTERS, 'the Mattermost adapter needs the server URL (MATTERMOST_URL)');
    if (!opts.botToken) throw new KubemendError(Errors.SERVE_ADAPTERS, 'the Mattermost adapter needs a bot token (MATTERMOST_TOKEN)');
    if (!opts.commandTokens.length) throw new KubemendError(Errors.SERVE_ADAPTERS, 'the Mattermost adapter needs the slash command or outgoing webhook token (MATTERMOST_COMMAND_TOKEN)');
    if (!/^https?:\/\//.test(opts.publicUrl)) throw new KubemendError(Errors.SERVE_ADAPTERS, `the Mattermost adapter needs kubemend's public URL for button callbacks (got "${opts.publicUrl}")`);
    this.opts = opts;
    this.nameRooms(opts.rooms);
    this.publicUrl = opts.publicUrl.replace(/\/+$/, '');
    this.clock = opts.clock ?? realClock;
    this.seenActions = new RecentIds(this.clock);
    this.actionKey = opts.actionSecret ?? createHmac('sha256', opts.botToken).update('kubemend mattermost actions').digest('hex');
    this.client = new (mattermostClient().Client4)();
    this.client.setUrl(opts.serverUrl.replace(/\/+$/, ''));
    this.client.setToken(opts.botToken);
    this.client.setIncludeCookies(false);
    this.client.setUserAgent('kubemend');
  }

  async routes(app: FastifyInstance): Promise<void> {
    rawBodyParsers(app);
    app.post('/mattermost/command', (req, reply) => this.onCommand(req, reply));
    app.post('/mattermost/actions', (req, reply) => this.onAction(req, reply));
  }

  async deliver(reply: ChatReply): Promise<void> {
    const post = this.postOf(reply);
    if (reply.ephemeralTo) await this.client.createPostEphemeral(reply.ephemeralTo, post as Post);
    else await this.client.createPost(post);
  }

  /** The post a reply becomes: escaped text, thread, and buttons whose presses come back signed for this channel. */
  postOf(reply: ChatReply): Partial<Post> & Pick<Post, 'channel_id' | 'message'> {
    const post: Partial<Post> & Pick<Post, 'channel_id' | 'message'> = {
      channel_id: this.channelOf(reply.room),
      message: mattermostText(reply),
      root_id: reply.thread ?? '',
    };
    if (reply.buttons?.length) {
      post.props = {
        attachments: [{
          actions: reply.buttons.map((b, i) => ({
            id: `kubemend${i}`, // action ids end up in a URL path: letters and digits only
            type: 'button',
            name: b.label,
            style: b.style ?? 'default',
            integration: { url: `${this.publicUrl}/mattermost/actions`, context: { value: b.value, sig: this.sign(post.channel_id, b.value) } },
          })),
        }],
      };
    }
    return post;
  }

  private async onCommand(req: FastifyRequest, reply: FastifyReply) {
    const b = (req.body ?? {}) as Record<string, unknown>;
    const auth = /^Token\s+(\S+)$/i.exec(String(req.headers.authorization ?? ''))?.[1];
    const token = typeof b.token === 'string' ? b.token : auth;
    if (!token || !this.opts.commandTokens.some((t) => sameSecret(token, t))) {
      this.refused(req, 'bad_token', 401, token ? 'the integration token does not match' : 'no integration token');
      this.log.warn({ adapter: this.name }, 'refused a Mattermost command: the token does not match');
      return reply.code(401).send({ text: 'kubemend does not recognise this integration token.' });
    }
    const channel = str(b.channel_id);
    const userId = str(b.user_id);
    if (!channel || !userId) return reply.code(400).send({ text: 'channel_id and user_id are required' });
    let text = str(b.text) ?? '';
    const trigger = str(b.trigger_word);
    if (!b.command && trigger && text.startsWith(trigger)) text = text.slice(trigger.length); // outgoing webhook
    const msg: ChatMessage = {
      adapter: this.name, room: this.roomOf(channel), user: this.identity(userId, str(b.user_name)),
      text: text.trim() || 'help', time: this.clock.now(),
    };
    this.track(this.dispatch(msg).then(() => undefined));
    // An empty answer posts nothing: the replies come as the bot's own posts.
    return reply.code(200).header('content-type', 'application/json').send('{}');
  }

  private async onAction(req: FastifyRequest, reply: FastifyReply) {
    const p = (req.body ?? {}) as ActionPayload;
    const value = p.context?.value;
    const sig = p.context?.sig;
    if (!p.channel_id || !p.user_id || typeof value !== 'string' || typeof sig !== 'string' || !sameSecret(sig, this.sign(p.channel_id, value))) {
      this.refused(req, 'bad_action', 403, 'a button press kubemend did not sign for this channel');
      this.log.warn({ adapter: this.name }, 'refused a Mattermost button press: unsigned or signed for another channel');
      return reply.code(403).send({ error: { message: 'kubemend did not make this button for this channel.' } });
    }
    if (this.seenActions.seen(`${p.post_id}:${p.trigger_id ?? ''}:${p.user_id}:${value}`)) return { ephemeral_text: 'Already received.' };
    const msg: ChatMessage = {
      adapter: this.name, room: this.roomOf(p.channel_id), user: this.identity(p.user_id, p.user_name), text: value, time: this.clock.now(),
    };
    this.track(this.dispatch(msg).then(() => undefined));
    return { ephemeral_text: `Received: ${escapeMattermost(value)}` };
  }

  private sign(channel: string, value: string): string {
    return createHmac('sha256', this.actionKey).update(`${channel}\n${value}`).digest('base64url');
  }

  private identity(id: string, username: string | undefined): ChatUser {
    return mapIdentity({ platform: this.name, id, displayName: username, users: this.opts.users, guest: this.opts.guest });
  }
}

/** Mentions first (the configured ones are real); the text is escaped, so it shows as typed and never pages anyone. */
export function mattermostText(reply: ChatReply): string {
  const mentions = (reply.mention ?? []).map((m) => `@${m.replace(/^@/, '')}`).join(' ');
  const text = escapeMattermost(reply.text);
  return mentions ? `${mentions} ${text}` : text;
}

/**
 * Reply text carries what users typed and what the cluster says (object
 * names, event messages, reasons), so Mattermost must render it as text:
 * markdown that would make links, images, tables, headings or emphasis is
 * backslash-escaped (shown as typed), and an @ starting a word gets a
 * zero-width space, so neither @channel/@all/@here nor @someone notifies.
 * Bare URLs stay clickable: what they show is where they go.
 */
export function escapeMattermost(text: string): string {
  return text
    .replace(/[\\`*_~[\]<>|]/g, '\\$&')
    .replace(/^([ \t]*)#/gm, '$1\\#')
    .replace(/(^|[^\w.+-])@(?=[\w.-])/g, '$1@\u200b');
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v ? v : undefined;
}
