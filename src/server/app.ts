// kubemend's one HTTP server: /healthz, /readyz, /leader, /metrics, the web console,
// the Slack and Mattermost endpoints, and the Alertmanager and generic
// webhook receivers — `serve` and `watch --listen` both build it here.
// Each adapter and plugin is registered in its own encapsulated
// fastify context, so the body parsers one needs (raw bytes for signatures)
// never change how another parses.
//
// Logs never hold a credential: request logs show headers with
// Authorization, Cookie and the Slack signature replaced by "[redacted]",
// URLs with every query value replaced by "[redacted]",
// bodies (where Slack and Mattermost put their tokens) are not logged, and
// the adapters log error codes, never tokens.
import Fastify, { type FastifyInstance, type FastifyPluginAsync, type FastifyPluginCallback, type FastifyRequest } from 'fastify';
import type { DestinationStream } from 'pino';
import { collectProcessMetrics, logSafeUrl, metricsRegistry as register, type RefusalRecorder } from '../common/index.ts';
import { webhooksPlugin, type WebhooksOptions } from './webhooks.ts';
import { consolePlugin } from './console/plugin.ts';
import type { ConsoleServices } from './console/context.ts';
import { type ChatEngine, type ChatReply, chatAdapterErrorsTotal, type HttpChatAdapter, SlackAdapter, type SlackAdapterOptions, MattermostAdapter, type MattermostAdapterOptions, ConsoleAdapter, type ConsoleAdapterOptions } from '../chat/index.ts';

export interface ExtraPlugin {
  // Plugins take their own option types; fastify checks them at registration.
  plugin: FastifyPluginAsync<any> | FastifyPluginCallback<any>;
  options?: object;
}

export interface AppOptions {
  /** The command engine every adapter talks to; required when any adapter is configured. */
  engine?: ChatEngine;
  slack?: SlackAdapterOptions;
  mattermost?: MattermostAdapterOptions;
  console?: ConsoleAdapterOptions;
  /** The service's parts the console's views read (incidents, runs, audit…); without them the console is chat only. */
  consoleServices?: ConsoleServices;
  /** More adapters (already constructed), e.g. in tests. */
  adapters?: HttpChatAdapter[];
  plugins?: ExtraPlugin[];
  /** The Alertmanager and generic webhook receivers. */
  webhooks?: WebhooksOptions;
  /** Readiness for /readyz (default: always ready); each check names what is not ready. */
  ready?: () => boolean | Promise<boolean | { ready: boolean; checks: Record<string, boolean> }>;
  /** false (default) for no logs, or pino's level and destination. */
  logger?: false | { level?: string; stream?: DestinationStream };
  /** Audits refused requests at every door (webhooks, chat adapters); closed, with its summaries written, when the app closes. */
  refusals?: RefusalRecorder;
  /** Leader election's state, served at /leader and in /readyz (a follower is ready: it serves chat and webhooks). */
  leader?: () => { enabled: boolean; leading: boolean } & Record<string, unknown>;
}

export interface KubemendServer {
  app: FastifyInstance;
  adapters: HttpChatAdapter[];
  slack?: SlackAdapter;
  mattermost?: MattermostAdapter;
  console?: ConsoleAdapter;
}

/** Header names whose values never reach a log line. */
export const REDACTED_HEADERS = ['authorization', 'proxy-authorization', 'cookie', 'x-slack-signature', 'x-hub-signature-256', 'x-gitlab-token'];

export async function createApp(opts: AppOptions = {}): Promise<KubemendServer> {
  const app = Fastify({
    logger: opts.logger ? loggerOptions(opts.logger) : false,
    forceCloseConnections: true, // live console streams must not hold a shutdown open
  });
  const slack = opts.slack ? new SlackAdapter(opts.slack) : undefined;
  const mattermost = opts.mattermost ? new MattermostAdapter(opts.mattermost) : undefined;
  const consoleAdapter = opts.console ? new ConsoleAdapter(opts.console) : undefined;
  const adapters: HttpChatAdapter[] = [...[slack, mattermost, consoleAdapter].filter((a) => a !== undefined), ...(opts.adapters ?? [])];
  if (adapters.length && !opts.engine) throw new Error('internal: chat adapters are configured but no chat engine was given');

  // Fastify's own 404 logs and echoes the whole URL, query string and all.
  app.setNotFoundHandler((req, reply) => {
    const url = logSafeUrl(req.url);
    req.log.info({ method: req.method, url }, 'no such route');
    return reply.code(404).send({ error: `no route ${req.method} ${url.split('?')[0]}` });
  });
  collectProcessMetrics();
  app.get('/healthz', async () => ({ status: 'ok', adapters: adapters.map((a) => a.name) }));
  app.get('/readyz', async (_req, reply) => {
    let r: Awaited<ReturnType<NonNullable<AppOptions['ready']>>> = true;
    try {
      r = opts.ready ? await opts.ready() : true;
    } catch {
      r = false;
    }
    const res = typeof r === 'boolean' ? { ready: r, checks: {} } : r;
    return reply.code(res.ready ? 200 : 503).send({ status: res.ready ? 'ready' : 'not ready', checks: res.checks, ...(opts.leader ? { leader: opts.leader() } : {}) });
  });
  app.get('/leader', async () => opts.leader?.() ?? { enabled: false, leading: true });
  app.get('/metrics', async (_req, reply) => reply.type(register.contentType).send(await register.metrics()));

  const route = async (reply: ChatReply) => {
    const owner = adapters.find((a) => a.owns(reply.room));
    if (owner) return owner.post(reply);
    chatAdapterErrorsTotal.inc({ adapter: 'server', reason: 'no_adapter_for_room' });
    app.log.warn({ room: reply.room }, 'no chat adapter serves this room; reply dropped');
  };
  for (const a of adapters) {
    (a as { setLogger?: (l: FastifyInstance['log']) => void }).setLogger?.(app.log);
    if (opts.refusals) (a as { setRefusals?: (r: RefusalRecorder) => void }).setRefusals?.(opts.refusals);
    a.forward = route;
    await app.register(async (scope) => a.routes(scope));
  }
  if (consoleAdapter) await app.register(consolePlugin, { adapter: consoleAdapter, services: opts.consoleServices });
  if (opts.webhooks) await app.register(webhooksPlugin, { ...opts.webhooks, audit: opts.webhooks.audit ?? opts.refusals });
  for (const p of opts.plugins ?? []) await app.register(p.plugin, p.options ?? {});

  app.addHook('onClose', async () => {
    for (const a of adapters) await a.stop();
    await opts.refusals?.close();
  });
  try {
    // Slack's Socket Mode connects here: a refused app token fails the start, and what started is stopped.
    for (const a of adapters) await a.start(opts.engine!);
  } catch (err) {
    await app.close();
    throw err;
  }
  return { app, adapters, slack, mattermost, console: consoleAdapter };
}

function loggerOptions(l: { level?: string; stream?: DestinationStream }) {
  return {
    level: l.level ?? 'info',
    ...(l.stream ? { stream: l.stream } : {}),
    serializers: {
      req: (req: FastifyRequest) => ({ method: req.method, url: logSafeUrl(req.url), remoteAddress: req.ip, headers: redactHeaders(req.headers) }),
    },
  };
}

/** A copy of request headers fit for a log line. */
export function redactHeaders(headers: FastifyRequest['headers']): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(headers)) out[k] = REDACTED_HEADERS.includes(k.toLowerCase()) ? '[redacted]' : v;
  return out;
}
