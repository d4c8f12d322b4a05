// Slack: the Events API (app mentions and direct messages), the /kubemend
// slash command and button presses — received either on kubemend's own HTTP
// server (signed requests) or, with `socketMode`, over a WebSocket kubemend
// opens to Slack (socket.ts). Both transports acknowledge at once and hand
// the payload to the same handlers (handlers.ts).
//
// Plain fastify routes with our own signature check (verify.ts) rather
// than @slack/bolt: Bolt's receivers own an HTTP server and their own body
// parsing, while kubemend serves Slack, Mattermost, the console, webhooks and
// /metrics from one fastify app; Bolt adds nothing the adapter needs beyond
// the verification and the Web API client (@slack/web-api, used here).
//
// Every request is acknowledged at once (Slack wants an answer within three
// seconds) and handled afterwards. A retried event (X-Slack-Retry-Num) is
// acknowledged again but never handled twice. A retry is a new request with
// its own timestamp and signature; the same signature twice is a captured
// request played back, refused for as long as its timestamp would pass the
// five-minute check.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { KubemendError, Errors, logSafeUrl } from '../../../common/index.ts';
import type { ChatEngine } from '../../types.ts';
import { RecentIds, chatAdapterErrorsTotal, rawBodyParsers } from '../shared/base.ts';
import { SLACK_MAX_SKEW_SECONDS, verifySlackRequest } from './verify.ts';
import { SlackHandlers, type SlackAdapterOptions, type SlackEventBody, type BlockActionsPayload, type SlashCommand } from './handlers.ts';
import { SlackSocket, type SlackEnvelope } from './socket.ts';

export type { SlackAdapterOptions } from './handlers.ts';

// Signatures remembered against replay: far more than a workspace sends in ten minutes.
const REPLAY_MEMORY = 50_000;

export class SlackAdapter extends SlackHandlers {
  private readonly seenSignatures: RecentIds;
  private readonly socket?: SlackSocket;

  constructor(opts: SlackAdapterOptions) {
    super(opts);
    if (opts.socketMode) {
      this.socket = new SlackSocket({
        appToken: opts.appToken ?? '',
        slackApiUrl: opts.slackApiUrl,
        retryConfig: opts.retryConfig ? { retries: opts.retryConfig.retries ?? 0 } : undefined,
        pingTimeoutMs: opts.socketPingTimeoutMs,
        logger: this.slackLogger(),
        log: () => this.log, // set by the server after construction
        handle: (e) => this.onEnvelope(e),
      });
    } else if (!opts.signingSecret) {
      throw new KubemendError(Errors.SERVE_ADAPTERS, 'the Slack adapter needs a signing secret (SLACK_SIGNING_SECRET), or Socket Mode with an app-level token (SLACK_APP_TOKEN)');
    }
    // A timestamp passes the check from 5 minutes before to 5 minutes after it, so 10 minutes cover every replay.
    this.seenSignatures = new RecentIds(this.clock, 2 * SLACK_MAX_SKEW_SECONDS * 1000, REPLAY_MEMORY);
  }

  /** Over Socket Mode, the connection to Slack is opened here: a refused token fails the start. */
  override async start(engine: ChatEngine): Promise<void> {
    await super.start(engine);
    await this.socket?.start();
  }

  override async stop(): Promise<void> {
    await this.socket?.stop();
    await super.stop();
  }

  async routes(app: FastifyInstance): Promise<void> {
    // In Socket Mode Slack sends nothing over HTTP; open routes would only be a door nobody watches.
    if (this.socket) return;
    const rawBody = rawBodyParsers(app);
    // Signatures are over the raw body, so they are checked once it is read.
    app.addHook('preHandler', async (req, reply) => {
      const result = verifySlackRequest({
        signingSecret: this.opts.signingSecret!,
        rawBody: rawBody(req),
        timestamp: header(req, 'x-slack-request-timestamp'),
        signature: header(req, 'x-slack-signature'),
        now: this.clock.now(),
      });
      if (result.ok) {
        if (!this.seenSignatures.seen(header(req, 'x-slack-signature')!)) return;
        this.refused(req, 'replay', 401, 'this X-Slack-Signature was already used: a replayed request');
        this.log.warn({ adapter: this.name, url: logSafeUrl(req.url) }, 'refused a replayed Slack request');
        return reply.code(401).header('x-slack-no-retry', '1').send({ error: 'replayed request: this signature was already used' });
      }
      this.refused(req, 'bad_signature', 401, result.reason);
      this.log.warn({ adapter: this.name, url: logSafeUrl(req.url), reason: result.reason }, 'refused a Slack request');
      return reply.code(401).send({ error: result.reason });
    });
    app.post('/slack/events', (req, reply) => this.onEvent(req, reply));
    app.post('/slack/commands', (req, reply) => this.onCommand(req, reply));
    app.post('/slack/interactions', (req, reply) => this.onInteraction(req, reply));
  }

  private async onEvent(req: FastifyRequest, reply: FastifyReply) {
    const body = (req.body ?? {}) as SlackEventBody;
    if (body.type === 'url_verification') return { challenge: body.challenge };
    this.handleEvent(body, { num: header(req, 'x-slack-retry-num'), reason: header(req, 'x-slack-retry-reason') });
    return reply.code(200).send();
  }

  private async onCommand(req: FastifyRequest, reply: FastifyReply) {
    const problem = this.handleCommand((req.body ?? {}) as SlashCommand);
    return problem ? reply.code(400).send({ error: problem }) : reply.code(200).send();
  }

  private async onInteraction(req: FastifyRequest, reply: FastifyReply) {
    const form = (req.body ?? {}) as { payload?: string };
    let p: BlockActionsPayload;
    try {
      p = JSON.parse(form.payload ?? '') as BlockActionsPayload;
    } catch {
      chatAdapterErrorsTotal.inc({ adapter: this.name, reason: 'bad_request' });
      return reply.code(400).send({ error: 'the payload form field is not JSON' });
    }
    const problem = this.handleInteraction(p);
    return problem ? reply.code(400).send({ error: problem }) : reply.code(200).send();
  }

  /** A Socket Mode envelope, already acknowledged: the same handling as the HTTP routes. */
  private onEnvelope(e: SlackEnvelope): void {
    let problem: string | undefined;
    if (e.type === 'events_api') this.handleEvent((e.body ?? {}) as SlackEventBody, { num: e.retryNum, reason: e.retryReason });
    else if (e.type === 'slash_commands') problem = this.handleCommand((e.body ?? {}) as SlashCommand);
    else if (e.type === 'interactive') problem = this.handleInteraction((e.body ?? {}) as BlockActionsPayload);
    if (problem) {
      chatAdapterErrorsTotal.inc({ adapter: this.name, reason: 'bad_request' });
      this.log.warn({ adapter: this.name, type: e.type, problem }, 'ignored a malformed Slack Socket Mode envelope');
    }
  }
}

function header(req: FastifyRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}
