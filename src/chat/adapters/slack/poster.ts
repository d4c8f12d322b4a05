// Posts notifications into Slack threads for the notification outbox: one
// parent message per incident, updated in place, and replies under it. Its
// own Web API client makes exactly one call per delivery — no retries here,
// and a rate limit is reported instead of waited out — because the outbox
// retries with back-off and keeps each thread in order; the chat adapter's
// client waits up to five minutes, which would stall every thread behind it.
import type { WebClient, LogLevel, Logger as SlackLogger } from '@slack/web-api';
import { slackWeb } from '../shared/lazy.ts';
import { KubemendError, Errors } from '../../../common/index.ts';
import type { ChatButton } from '../../types.ts';
import { slackBlocks } from './format.ts';
import { PosterError, type ThreadPoster } from '../shared/poster.ts';

export interface SlackPosterOptions {
  botToken: string;
  slackApiUrl?: string;
  /** Slack channel id → room name (the server config's slack.rooms): receivers may name either. */
  rooms?: Record<string, string>;
  timeoutMs?: number;
}

// Slack errors that another try cannot fix: the channel, the token or the message is wrong.
const PERMANENT = new Set(['channel_not_found', 'not_in_channel', 'is_archived', 'invalid_auth', 'not_authed', 'account_inactive', 'token_revoked', 'missing_scope', 'invalid_blocks', 'invalid_blocks_format', 'msg_too_long', 'no_text', 'message_not_found', 'cant_update_message', 'restricted_action']);

export class SlackPoster implements ThreadPoster {
  readonly web: WebClient;
  private readonly byRoom = new Map<string, string>();

  constructor(o: SlackPosterOptions) {
    if (!o.botToken) throw new KubemendError(Errors.SERVE_ADAPTERS, 'a Slack notification receiver needs the bot token (SLACK_BOT_TOKEN)');
    for (const [channel, room] of Object.entries(o.rooms ?? {})) this.byRoom.set(room, channel);
    this.web = new (slackWeb().WebClient)(o.botToken, { slackApiUrl: o.slackApiUrl, retryConfig: { retries: 0 }, rejectRateLimitedCalls: true, timeout: o.timeoutMs ?? 10_000, logger: quietLogger() });
  }

  /** A configured room name, or a channel id as Slack writes them. */
  channelOf(channel: string): string {
    const id = this.byRoom.get(channel) ?? channel;
    if (!/^[CDG][A-Z0-9]{2,}$/.test(id)) throw new PosterError(`"${channel}" is neither a room named in server.slack.rooms nor a Slack channel id (C…)`, false);
    return id;
  }

  async post(m: { channel: string; text: string; thread?: string; buttons?: ChatButton[] }): Promise<string> {
    const channel = this.channelOf(m.channel);
    const { text, blocks } = slackBlocks({ room: m.channel, text: m.text, buttons: m.buttons });
    const res = await this.call(() => this.web.chat.postMessage({ channel, text, blocks, thread_ts: m.thread, unfurl_links: false, unfurl_media: false }));
    if (!res.ts) throw new PosterError('Slack answered chat.postMessage without a ts', true);
    return res.ts;
  }

  async update(m: { channel: string; ref: string; text: string; buttons?: ChatButton[] }): Promise<void> {
    const channel = this.channelOf(m.channel);
    const { text, blocks } = slackBlocks({ room: m.channel, text: m.text, buttons: m.buttons });
    // Without blocks, chat.update would keep the old ones (and their stale buttons).
    await this.call(() => this.web.chat.update({ channel, ts: m.ref, text, blocks: blocks ?? [{ type: 'section', text: { type: 'mrkdwn', text } }] }));
  }

  private async call<T>(f: () => Promise<T>): Promise<T> {
    try {
      return await f();
    } catch (err) {
      throw classify(err);
    }
  }
}

function classify(err: unknown): PosterError {
  const e = err as { code?: string; data?: { error?: string }; retryAfter?: number; statusCode?: number; message?: string };
  const { ErrorCode } = slackWeb();
  if (e.code === ErrorCode.RateLimitedError) return new PosterError('Slack rate-limited the call', true, (e.retryAfter ?? 30) * 1000);
  if (e.code === ErrorCode.PlatformError) {
    const code = e.data?.error ?? 'unknown_error';
    return new PosterError(`Slack answered ${code}`, !PERMANENT.has(code));
  }
  if (e.code === ErrorCode.HTTPError) return new PosterError(`Slack answered HTTP ${e.statusCode}`, (e.statusCode ?? 500) >= 500 || e.statusCode === 429);
  return new PosterError(`cannot reach Slack: ${e.message ?? String(err)}`, true);
}

function quietLogger(): SlackLogger {
  let level = slackWeb().LogLevel.ERROR;
  return { debug() {}, info() {}, warn() {}, error() {}, setLevel: (l: LogLevel) => { level = l; }, getLevel: () => level, setName() {} };
}
