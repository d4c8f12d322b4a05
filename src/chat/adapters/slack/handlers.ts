// What Slack sends, handled the same whichever way it arrives — HTTP
// requests (adapter.ts) or Socket Mode envelopes (socket.ts): events (app
// mentions, direct messages), the /kubemend slash command and button
// presses become engine messages with the same identity mapping, the same
// dedup of event ids and presses, and the same replies. The transports only
// acknowledge (at once: Slack waits three seconds) and hand the payload here.
import type { WebClient, LogLevel, RetryOptions, Logger as SlackLogger } from '@slack/web-api';
import { slackWeb } from '../shared/lazy.ts';
import { realClock, type Clock, KubemendError, Errors } from '../../../common/index.ts';
import type { ChatMessage, ChatReply, ChatUser } from '../../types.ts';
import { BaseAdapter, RecentIds, chatAdapterErrorsTotal, type ChatIdentity } from '../shared/base.ts';
import { mapIdentity, type GuestRole } from '../../identity.ts';
import { slackBlocks, slackTextToPlain, type SlackBlock } from './format.ts';

export interface SlackAdapterOptions {
  /** The app's signing secret (Basic Information → App Credentials); not needed in Socket Mode. */
  signingSecret?: string;
  /** The bot token (xoxb-…) used for chat.postMessage. */
  botToken: string;
  /** Receive over Socket Mode (a WebSocket kubemend opens to Slack) instead of HTTP requests; needs appToken. */
  socketMode?: boolean;
  /** The app-level token (xapp-…, scope connections:write) Socket Mode connects with. */
  appToken?: string;
  /** Web API base URL (default https://slack.com/api/); tests point it at a local fake. */
  slackApiUrl?: string;
  clock?: Clock;
  /** Slack channel id → room name as RBAC policies write it (`C0OPS: ops`); other channels are `slack:<id>`. */
  rooms?: Record<string, string>;
  /** Slack user id → the name and groups RBAC and Kubernetes impersonation use; other users are refused… */
  users?: Record<string, ChatIdentity>;
  /** …or, when set, act as `slack:<id>` with only these groups. */
  guest?: GuestRole;
  /** Web API retries (default: five retries in five minutes, as @slack/web-api recommends). */
  retryConfig?: RetryOptions;
  /** Socket Mode: how long to wait for a pong, and the first reconnect delay (default 5 s, as @slack/socket-mode). */
  socketPingTimeoutMs?: number;
}

export interface SlackEvent {
  type?: string;
  subtype?: string;
  bot_id?: string;
  user?: string;
  text?: string;
  ts?: string;
  thread_ts?: string;
  channel?: string;
  channel_type?: string;
}

/** The Events API's outer body (event_callback), over HTTP and inside an events_api envelope alike. */
export interface SlackEventBody {
  type?: string;
  challenge?: string;
  event_id?: string;
  event?: SlackEvent;
}

export interface BlockActionsPayload {
  type?: string;
  user?: { id?: string };
  channel?: { id?: string };
  container?: { type?: string; channel_id?: string; message_ts?: string; thread_ts?: string; is_ephemeral?: boolean };
  message?: { ts?: string; thread_ts?: string; text?: string; blocks?: SlackBlock[] };
  response_url?: string;
  actions?: { type?: string; action_id?: string; action_ts?: string; value?: string; text?: { text?: string } }[];
}

/** A slash command's fields: form fields over HTTP, a JSON object in a slash_commands envelope. */
export type SlashCommand = Record<string, string | undefined>;

export abstract class SlackHandlers extends BaseAdapter {
  readonly name = 'slack';
  readonly web: WebClient;
  protected readonly opts: SlackAdapterOptions;
  protected readonly clock: Clock;
  private readonly seenEvents: RecentIds;
  private readonly seenActions: RecentIds;

  constructor(opts: SlackAdapterOptions) {
    super();
    if (!opts.botToken) throw new KubemendError(Errors.SERVE_ADAPTERS, 'the Slack adapter needs a bot token (SLACK_BOT_TOKEN)');
    this.opts = opts;
    this.nameRooms(opts.rooms);
    this.clock = opts.clock ?? realClock;
    this.seenEvents = new RecentIds(this.clock);
    this.seenActions = new RecentIds(this.clock);
    this.web = new (slackWeb().WebClient)(opts.botToken, {
      slackApiUrl: opts.slackApiUrl,
      retryConfig: opts.retryConfig ?? slackWeb().retryPolicies.fiveRetriesInFiveMinutes,
      timeout: 10_000,
      logger: this.slackLogger(),
    });
  }

  async deliver(reply: ChatReply, responseUrl?: string): Promise<void> {
    const channel = this.channelOf(reply.room);
    const { text, blocks } = slackBlocks(reply);
    try {
      if (reply.ephemeralTo) {
        await this.web.chat.postEphemeral({ channel, user: reply.ephemeralTo, text, blocks, thread_ts: reply.thread });
      } else {
        await this.web.chat.postMessage({ channel, text, blocks, thread_ts: reply.thread, unfurl_links: false, unfurl_media: false });
      }
    } catch (err) {
      // A slash command works in channels the bot is not in; Slack's response_url still reaches them.
      const code = (err as { data?: { error?: string } }).data?.error;
      if (!responseUrl || (code !== 'not_in_channel' && code !== 'channel_not_found')) throw err;
      await this.respond(responseUrl, { response_type: reply.ephemeralTo ? 'ephemeral' : 'in_channel', replace_original: false, text, blocks });
    }
  }

  /**
   * An Events API callback. Slack re-sends an event it believes was not
   * acknowledged; event ids are remembered for an hour, so a retry is
   * acknowledged again (by the transport) but never handled twice.
   */
  protected handleEvent(body: SlackEventBody, retry?: { num?: string | number; reason?: string }): void {
    if (body.type !== 'event_callback' || !body.event_id) return;
    if (this.seenEvents.seen(body.event_id)) {
      this.log.info({ adapter: this.name, event_id: body.event_id, retry: retry?.num, reason: retry?.reason }, 'Slack event already handled; acknowledged again');
      return;
    }
    const msg = this.eventMessage(body.event);
    if (msg) this.track(this.dispatch(msg).then(() => undefined));
  }

  private eventMessage(ev: SlackEvent | undefined): ChatMessage | undefined {
    // Bots (kubemend included) and edits/deletions never start a command: that way lie loops.
    if (!ev?.user || !ev.channel || ev.bot_id || ev.subtype) return undefined;
    let thread: string | undefined;
    if (ev.type === 'app_mention') thread = ev.thread_ts ?? ev.ts; // answer in a thread, not all over the channel
    else if (ev.type === 'message' && ev.channel_type === 'im') thread = ev.thread_ts;
    else return undefined; // channel messages arrive as app_mention too; handling both would run commands twice
    const text = slackTextToPlain(ev.text ?? '').replace(/^(\s*@[UW][A-Z0-9]+\s*)+/, '').trim();
    return { adapter: this.name, room: this.roomOf(ev.channel), user: this.identity(ev.user), text: text || 'help', thread, time: this.clock.now() };
  }

  /** The /kubemend slash command; returns what is wrong with a malformed one. */
  protected handleCommand(b: SlashCommand): string | undefined {
    if (!b.channel_id || !b.user_id) return 'a slash command needs channel_id and user_id';
    const text = slackTextToPlain(b.text ?? '').trim() || 'help';
    const msg: ChatMessage = { adapter: this.name, room: this.roomOf(b.channel_id), user: this.identity(b.user_id, b.user_name), text, time: this.clock.now() };
    this.track(this.dispatch(msg, (r) => this.postVia(r, b.channel_id!, b.response_url)).then(() => undefined));
    return undefined;
  }

  /** An interaction payload; only button presses (block_actions) are kubemend's. Returns what is wrong with a malformed one. */
  protected handleInteraction(p: BlockActionsPayload): string | undefined {
    if (p.type !== 'block_actions') return undefined; // modals, shortcuts: not kubemend's
    const channel = p.channel?.id ?? p.container?.channel_id;
    const user = p.user?.id;
    if (!channel || !user) return 'block_actions payload without channel or user';
    for (const a of p.actions ?? []) {
      if (a.type !== 'button' || typeof a.value !== 'string') continue;
      if (this.seenActions.seen(`${p.container?.message_ts}:${a.action_id}:${a.action_ts}:${user}`)) continue;
      const msg: ChatMessage = {
        adapter: this.name, room: this.roomOf(channel), user: this.identity(user), text: a.value,
        thread: p.message?.thread_ts ?? p.container?.thread_ts, time: this.clock.now(),
      };
      this.track(this.press(p, msg, channel, a.text?.text ?? a.value));
    }
    return undefined;
  }

  /**
   * The engine decides first; only a press it took removes the buttons. A
   * press it refused (its only answers are private ones to the presser: not
   * the requester, not an approver, nothing to confirm) or could not handle
   * leaves them for the person who may press them, and the presser is
   * answered privately.
   */
  private async press(p: BlockActionsPayload, msg: ChatMessage, channel: string, label: string): Promise<void> {
    const { replies, failed } = await this.ask(msg);
    const refused = replies.length > 0 && replies.every((r) => r.ephemeralTo === msg.user.id);
    if (!failed && !refused) await this.markPressed(p, channel, p.user!.id!, label);
    for (const r of replies) {
      // The failure notice goes to the presser alone: the buttons are still there for everyone.
      await this.postVia(failed ? { ...r, ephemeralTo: msg.user.id } : r, channel, p.response_url);
    }
  }

  /** Replaces a pressed message's buttons with who chose what, so nobody presses a stale button. */
  private async markPressed(p: BlockActionsPayload, channel: string, user: string, label: string): Promise<void> {
    if (p.container?.type !== 'message' || p.container.is_ephemeral || !p.message?.ts) return;
    const kept = (p.message.blocks ?? []).filter((b) => b.type !== 'actions');
    const chose: SlackBlock = { type: 'context', elements: [{ type: 'mrkdwn', text: `<@${user}> chose *${label.replace(/[*&<>]/g, '')}*` }] };
    try {
      await this.web.chat.update({ channel, ts: p.message.ts, text: p.message.text ?? label, blocks: [...kept, chose] });
    } catch (err) {
      chatAdapterErrorsTotal.inc({ adapter: this.name, reason: 'update_failed' });
      this.log.warn({ adapter: this.name, error: (err as { data?: { error?: string } }).data?.error ?? (err as Error).message }, 'could not remove the buttons of a pressed message');
    }
  }

  /** Replies to the command's own channel may fall back to its response_url. */
  private postVia(reply: ChatReply, channel: string, responseUrl: string | undefined): Promise<void> {
    if (!responseUrl || reply.room !== this.roomOf(channel)) return this.post(reply);
    return this.post(reply, (r) => this.deliver(r, responseUrl));
  }

  private async respond(url: string, body: Record<string, unknown>): Promise<void> {
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(10_000) });
    if (!res.ok) throw new KubemendError(Errors.CHAT_DELIVERY, `Slack response_url answered HTTP ${res.status}`);
  }

  private identity(id: string, displayName?: string): ChatUser {
    return mapIdentity({ platform: this.name, id, displayName, users: this.opts.users, guest: this.opts.guest });
  }

  /** @slack/web-api's (and @slack/socket-mode's) logger, routed into ours; it logs method names and error codes, never the token. */
  protected slackLogger(): SlackLogger {
    let level = slackWeb().LogLevel.WARN;
    return {
      debug: () => {},
      info: () => {},
      warn: (...m: unknown[]) => this.log.warn({ adapter: this.name }, m.map(String).join(' ')),
      error: (...m: unknown[]) => this.log.error({ adapter: this.name }, m.map(String).join(' ')),
      setLevel: (l: LogLevel) => { level = l; },
      getLevel: () => level,
      setName: () => {},
    };
  }
}
