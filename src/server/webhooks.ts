// HTTP receivers for non-Kubernetes signals: Alertmanager's webhook_config
// (POST /webhooks/alertmanager) and generic JSON webhooks from CI/CD,
// scanners or policy engines (POST /webhooks/<name>).
//
// Register it without fastify-plugin so its JSON-only body parser, body limit
// and error rendering stay inside this plugin:
//   app.register(webhooksPlugin, { source, alertmanager: { bearerToken } })
//
// Status codes are chosen for senders that retry: 4xx means "do not resend
// this", 503 (engine not running) means "try again later".
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { type WebhookSource, describeProblems, parseAlertmanagerPayload } from '../rules/index.ts';
import { sameSecret, signatureMatches, webhookRequestsTotal } from '../common/index.ts';

export interface WebhookConfig {
  /** HMAC-SHA256 secret; when set, every call must carry a valid signature of the raw body. */
  secret?: string;
  /** Header with the signature, `sha256=<hex>` or bare hex (default X-Hub-Signature-256, as GitHub sends). */
  signatureHeader?: string;
  /** When set, calls must send `Authorization: Bearer <token>`. */
  bearerToken?: string;
  /** Cluster the signal is about (default: the source's default cluster). */
  cluster?: string;
  /** Extra request headers to keep on the signal, besides the usual event/delivery headers. */
  headers?: string[];
}

export interface WebhooksOptions {
  source: WebhookSource;
  /** The Alertmanager receiver; `false` turns the route off. */
  alertmanager?: { bearerToken?: string } | false;
  /** Generic webhooks by name (the path segment of /webhooks/<name>). */
  webhooks?: Record<string, WebhookConfig>;
  /** Accept names not listed in `webhooks`. Default false: they get 404. */
  allowUnlisted?: boolean;
  /** The bearer token unlisted names must carry (`kubemend watch --webhook-token`); required with allowUnlisted. */
  unlistedBearerToken?: string;
  /** Largest accepted body in bytes (default 1 MiB); larger ones get 413. */
  bodyLimit?: number;
}

const DEFAULT_BODY_LIMIT = 1024 * 1024;

// Headers rules commonly branch on; everything else is dropped unless configured.
const KEPT_HEADERS = [
  'content-type', 'user-agent', 'x-request-id', 'x-correlation-id',
  'x-github-event', 'x-github-delivery', 'x-github-hook-id',
  'x-gitlab-event', 'x-gitlab-event-uuid',
  'ce-id', 'ce-source', 'ce-type', 'ce-specversion', 'ce-subject',
];
// Credentials never reach a signal (signals are logged and kept as evidence).
const NEVER_KEPT = new Set(['authorization', 'proxy-authorization', 'cookie', 'x-gitlab-token', 'x-hub-signature', 'x-hub-signature-256']);

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

export async function webhooksPlugin(app: FastifyInstance, opts: WebhooksOptions): Promise<void> {
  const bodyLimit = opts.bodyLimit ?? DEFAULT_BODY_LIMIT;
  if (opts.allowUnlisted && !opts.unlistedBearerToken) throw new Error('internal: webhooks: allowUnlisted needs unlistedBearerToken, or every caller could inject signals');
  app.addHook('onResponse', async (req, reply) => {
    const route = (req.params as { name?: string } | undefined)?.name ?? (req.url.startsWith('/webhooks/alertmanager') ? 'alertmanager' : 'unknown');
    webhookRequestsTotal.inc({ route: NAME.test(route) ? route : 'invalid', code: String(reply.statusCode) });
  });
  const rawBodies = new WeakMap<FastifyRequest, Buffer>();
  const parseJson = app.getDefaultJsonParser('error', 'error');

  // JSON only (anything else is 415), kept raw as well because signatures are over the exact bytes.
  app.removeAllContentTypeParsers();
  for (const type of ['application/json', /^application\/[\w.-]+\+json(;|$)/]) {
    app.addContentTypeParser(type, { parseAs: 'buffer', bodyLimit }, (req, body, done) => {
      const raw = body as Buffer;
      rawBodies.set(req, raw);
      parseJson(req, raw.toString('utf8'), done);
    });
  }

  app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, req, reply) => {
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 600 ? err.statusCode : 500;
    if (status >= 500) req.log.error({ err }, 'webhook handler failed');
    const message = status === 415
      ? `unsupported Content-Type "${req.headers['content-type'] ?? ''}": send a JSON body with Content-Type: application/json`
      : status === 413 ? `body larger than ${bodyLimit} bytes` : status >= 500 ? 'internal error' : err.message;
    return reply.code(status).send({ error: message });
  });

  if (opts.alertmanager !== false) {
    const token = opts.alertmanager?.bearerToken;
    app.post('/webhooks/alertmanager', { onRequest: bearerGuard(token) }, async (req, reply) => {
      if (req.body === undefined) return unsupported(req, reply);
      const parsed = parseAlertmanagerPayload(req.body);
      if (!parsed.ok) {
        const [first] = parsed.problems;
        return reply.code(400).send({
          error: `invalid Alertmanager payload: ${describeProblems(parsed.problems)}`,
          field: first.field,
          problems: parsed.problems,
        });
      }
      if (!opts.source.running) return notRunning(reply);
      return { accepted: opts.source.receiveAlerts(parsed.payload) };
    });
  }

  const webhooks = new Map(Object.entries(opts.webhooks ?? {}));
  const lookup = (name: string): WebhookConfig | undefined => webhooks.get(name) ?? (opts.allowUnlisted ? { bearerToken: opts.unlistedBearerToken } : undefined);
  const guards = new Map([...webhooks].map(([name, cfg]) => [name, bearerGuard(cfg.bearerToken)]));
  const unlistedGuard = bearerGuard(opts.unlistedBearerToken);

  app.post<{ Params: { name: string } }>('/webhooks/:name', {
    // Unknown names and bad tokens are turned away before the body is read.
    onRequest: async (req, reply) => {
      const { name } = req.params;
      if (!NAME.test(name) || !lookup(name)) {
        return reply.code(404).send({ error: `no webhook named "${name}" is configured` });
      }
      return (guards.get(name) ?? unlistedGuard)(req, reply);
    },
  }, async (req, reply) => {
    const { name } = req.params;
    const cfg = lookup(name)!;
    if (req.body === undefined) return unsupported(req, reply);
    if (cfg.secret) {
      const header = (cfg.signatureHeader ?? 'x-hub-signature-256').toLowerCase();
      const given = headerValue(req.headers[header]);
      const raw = rawBodies.get(req) ?? Buffer.alloc(0);
      if (!given) return reply.code(401).send({ error: `missing ${header} signature header` });
      if (!signatureMatches(cfg.secret, raw, given)) return reply.code(401).send({ error: `${header} does not match the body's HMAC-SHA256` });
    }
    if (!opts.source.running) return notRunning(reply);
    opts.source.receiveWebhook(name, req.body, keptHeaders(req, cfg), cfg.cluster);
    return { accepted: 1 };
  });
}

/** onRequest hook enforcing `Authorization: Bearer <token>` when a token is configured. */
function bearerGuard(token: string | undefined) {
  return async (req: FastifyRequest, reply: FastifyReply) => {
    if (!token) return;
    const m = /^Bearer\s+(\S+)\s*$/i.exec(headerValue(req.headers.authorization) ?? '');
    if (m && sameSecret(m[1], token)) return;
    reply.header('www-authenticate', 'Bearer realm="kubemend"');
    return reply.code(401).send({ error: m ? 'bearer token does not match' : 'missing bearer token (Authorization: Bearer <token>)' });
  };
}

function keptHeaders(req: FastifyRequest, cfg: WebhookConfig): Record<string, string> {
  const out: Record<string, string> = {};
  const never = new Set(NEVER_KEPT);
  if (cfg.signatureHeader) never.add(cfg.signatureHeader.toLowerCase());
  for (const h of [...KEPT_HEADERS, ...(cfg.headers ?? []).map((x) => x.toLowerCase())]) {
    const v = headerValue(req.headers[h]);
    if (v !== undefined && !never.has(h)) out[h] = v;
  }
  return out;
}

function headerValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v.join(', ') : v;
}

function unsupported(req: FastifyRequest, reply: FastifyReply) {
  const type = req.headers['content-type'];
  return reply.code(type ? 400 : 415).send({
    error: type ? 'the body is empty: send a JSON object' : 'missing Content-Type: send a JSON body with Content-Type: application/json',
  });
}

function notRunning(reply: FastifyReply) {
  reply.header('retry-after', '5');
  return reply.code(503).send({ error: 'kubemend is not accepting signals yet; retry later' });
}
