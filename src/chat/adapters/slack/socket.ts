// Slack's Socket Mode: kubemend opens a WebSocket to Slack (with an
// app-level xapp- token, through apps.connections.open) instead of Slack
// calling kubemend's HTTP endpoints, so a bot behind a firewall needs no
// public URL. @slack/socket-mode (Slack's maintained client) speaks the
// protocol: the hello, envelopes {envelope_id, type, payload}, the
// acknowledgement {envelope_id}, pings, and reconnecting when Slack sends
// `disconnect` (refresh_requested, warning) or the connection drops.
//
// Every envelope is acknowledged before it is handled: Slack wants the ack
// within three seconds and re-sends what it did not get one for, while a
// command may take longer than that to answer.
import type { SocketModeClient } from '@slack/socket-mode';
import { slackSocket } from '../shared/lazy.ts';
import type { Logger as SlackLogger } from '@slack/web-api';
import { Counter, Gauge } from 'prom-client';
import { KubemendError, Errors } from '../../../common/index.ts';
import type { Logger } from '../shared/base.ts';

export const slackSocketConnected = new Gauge({
  name: 'kubemend_slack_socket_connected',
  help: 'Whether the Slack Socket Mode connection is up (1) or not (0).',
});

export const slackSocketReconnectsTotal = new Counter({
  name: 'kubemend_slack_socket_reconnects_total',
  help: 'Slack Socket Mode reconnections (Slack asked for a refresh, or the connection dropped).',
});

export const slackSocketEnvelopesTotal = new Counter({
  name: 'kubemend_slack_socket_envelopes_total',
  help: 'Slack Socket Mode envelopes received, by type and whether the acknowledgement was sent.',
  labelNames: ['type', 'ack'] as const,
});

/** One envelope: its type (events_api, slash_commands, interactive) and payload. */
export interface SlackEnvelope {
  type: string;
  body: unknown;
  retryNum?: number;
  retryReason?: string;
}

export interface SlackSocketOptions {
  appToken: string;
  slackApiUrl?: string;
  /** apps.connections.open retries (default @slack/socket-mode's). */
  retryConfig?: { retries: number };
  /** How long to wait for a pong, and the unit of the reconnect delay (default 5 s). */
  pingTimeoutMs?: number;
  /** How long start() waits for the first connection (default 30 s). */
  connectTimeoutMs?: number;
  logger: SlackLogger;
  log: () => Logger;
  handle: (e: SlackEnvelope) => void;
}

// Slack's answers to apps.connections.open that no retry can fix.
const TOKEN_ERRORS = new Set(['not_authed', 'invalid_auth', 'account_inactive', 'token_revoked', 'not_allowed_token_type', 'user_removed_from_team', 'team_disabled']);

export class SlackSocket {
  private readonly o: SlackSocketOptions;
  private client?: SocketModeClient;

  constructor(o: SlackSocketOptions) {
    if (!o.appToken) throw new KubemendError(Errors.SLACK_APP_TOKEN, 'Slack Socket Mode needs an app-level token (SLACK_APP_TOKEN, xapp-…)');
    // A bot or user token here would loop on not_allowed_token_type: @slack/socket-mode retries that one.
    if (!o.appToken.startsWith('xapp-')) throw new KubemendError(Errors.SLACK_APP_TOKEN, `SLACK_APP_TOKEN is not an app-level token: it starts with "${o.appToken.slice(0, 5)}", not "xapp-"`);
    this.o = o;
  }

  async start(): Promise<void> {
    const client = new (slackSocket().SocketModeClient)({
      appToken: this.o.appToken,
      logger: this.o.logger,
      clientPingTimeout: this.o.pingTimeoutMs,
      clientOptions: { slackApiUrl: this.o.slackApiUrl, ...(this.o.retryConfig ? { retryConfig: this.o.retryConfig } : {}) },
    });
    this.client = client;
    client.on('connected', () => {
      slackSocketConnected.set(1);
      this.o.log().info({ adapter: 'slack' }, 'Slack Socket Mode connected');
    });
    client.on('close', () => slackSocketConnected.set(0));
    client.on('disconnected', () => slackSocketConnected.set(0));
    client.on('reconnecting', () => {
      slackSocketReconnectsTotal.inc();
      this.o.log().info({ adapter: 'slack' }, 'Slack Socket Mode reconnecting');
    });
    client.on('slack_event', (e: { ack: () => Promise<void>; type: string; body: unknown; retry_num?: number; retry_reason?: string }) => void this.envelope(e));
    const limit = this.o.connectTimeoutMs ?? 30_000;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new KubemendError(Errors.SLACK_SOCKET, `no Slack Socket Mode connection within ${Math.round(limit / 1000)}s (apps.connections.open, then the WebSocket it names)`)), limit);
    });
    try {
      await Promise.race([client.start(), timeout]);
    } catch (err) {
      await client.disconnect().catch(() => undefined);
      throw startError(err);
    } finally {
      clearTimeout(timer);
    }
  }

  async stop(): Promise<void> {
    const c = this.client;
    this.client = undefined;
    if (c) await c.disconnect();
    slackSocketConnected.set(0);
  }

  private async envelope(e: { ack: () => Promise<void>; type: string; body: unknown; retry_num?: number; retry_reason?: string }): Promise<void> {
    try {
      await e.ack();
    } catch (err) {
      // Slack re-sends an envelope it got no ack for; handling this one too could run a command twice.
      slackSocketEnvelopesTotal.inc({ type: e.type, ack: 'failed' });
      this.o.log().warn({ adapter: 'slack', type: e.type, error: (err as Error).message }, 'could not acknowledge a Slack envelope; Slack will send it again');
      return;
    }
    slackSocketEnvelopesTotal.inc({ type: e.type, ack: 'sent' });
    this.o.handle({ type: e.type, body: e.body, retryNum: e.retry_num, retryReason: e.retry_reason });
  }
}

function startError(err: unknown): KubemendError {
  if (err instanceof KubemendError) return err;
  const code = (err as { data?: { error?: string } }).data?.error;
  if (code && TOKEN_ERRORS.has(code)) return new KubemendError(Errors.SLACK_APP_TOKEN, `Slack refused the app-level token (SLACK_APP_TOKEN) for Socket Mode: ${code}`, { cause: err });
  const why = code ?? (err as Error & { original?: Error }).original?.message ?? (err as Error).message;
  return new KubemendError(Errors.SLACK_SOCKET, `cannot open a Slack Socket Mode connection: ${why}`, { cause: err });
}
