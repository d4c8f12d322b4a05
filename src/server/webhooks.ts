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
import { type WebhookSource, describeProblems, parseAlertmanagerPayloadInChunks } from '../rules/index.ts';
import { type RefusalAudit, sameSecret, signatureMatches, webhookRequestsTotal } from '../common/index.ts';
import { DEFAULT_AUDIT_BODY_LIMIT, KUBE_AUDIT_ROUTE, registerKubeAudit, type KubeAuditRouteOptions } from './kube-audit-route.ts';

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
  alertmanager?: { bearerToken?: string; maxAlerts?: number } | false;
  /** Generic webhooks by name (the path segment of /webhooks/<name>). */
  webhooks?: Record<string, WebhookConfig>;
  /** Accept names not listed in `webhooks`. Default false: they get 404. */
  allowUnlisted?: boolean;
  /** The bearer token unlisted names must carry (`kubemend watch --webhook-token`); required with allowUnlisted. */
  unlistedBearerToken?: string;
  /** Largest accepted body in bytes (default 1 MiB); larger ones get 413. */
  bodyLimit?: number;
  /** Where refusals (4xx answers) are audited, rate-limited; never with the credential or the body. */
  audit?: RefusalAudit;
  /** The Kubernetes API server's audit webhook (POST /webhooks/kubernetes-audit); off unless given. */
  kubernetesAudit?: KubeAuditRouteOptions;
}

const DEFAULT_BODY_LIMIT = 1024 * 1024;
/** Alerts in one Alertmanager payload (its webhook_config max_alerts should be at most this). */
export const DEFAULT_MAX_ALERTS = 1000;
const MAX_PROBLEMS = 20;

// Why a 4xx was answered, for the audit record; by status when a hook did not say.
const REASON_BY_STATUS: Record<number, string> = { 400: 'invalid_payload', 401: 'bad_credential', 404: 'unknown_name', 413: 'too_large', 415: 'bad_content_type' };

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
  const refusals = new WeakMap<FastifyRequest, { reason: string; detail?: string }>();
  const fixed = (url: string, route: string) => url === `/webhooks/${route}` || url.startsWith(`/webhooks/${route}/`) || url.startsWith(`/webhooks/${route}?`);
  const routeOf = (req: FastifyRequest): string => (req.params as { name?: string } | undefined)?.name
    ?? (fixed(req.url, 'alertmanager') ? 'alertmanager' : opts.kubernetesAudit && fixed(req.url, KUBE_AUDIT_ROUTE) ? KUBE_AUDIT_ROUTE : 'unknown');
  // Only configured names become label values and rate-limit buckets: a caller
  // choosing new names must not grow /metrics or the audit's buckets.
  const known = (route: string): boolean => route === 'alertmanager' || webhooks.has(route) || (route === KUBE_AUDIT_ROUTE && !!opts.kubernetesAudit);
  app.addHook('onResponse', async (req, reply) => {
    const route = routeOf(req);
    const code = reply.statusCode;
    // An unlisted name (watch --listen) is a label once its caller showed the token.
    const label = known(route) || (opts.allowUnlisted && NAME.test(route) && code !== 401) ? route : 'unknown';
    webhookRequestsTotal.inc({ route: label, code: String(code) });
    if (code < 400 || code >= 500 || !opts.audit) return;
    const why = refusals.get(req) ?? { reason: REASON_BY_STATUS[code] ?? `http_${code}` };
    opts.audit.record({
      action: 'webhook.refused', route, reason: why.reason, status: code, detail: why.detail,
      remoteAddress: req.ip, userAgent: headerValue(req.headers['user-agent']),
      ...(known(route) ? {} : { bucket: '*' }),
    });
  });
  const refuse = (req: FastifyRequest, reply: FastifyReply, code: number, reason: string, body: Record<string, unknown>) => {
    refusals.set(req, { reason, detail: typeof body.error === 'string' ? body.error : undefined });
    return reply.code(code).send(body);
  };
  const webhooks = new Map(Object.entries(opts.webhooks ?? {}));
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
      : status === 413 ? `body larger than ${routeOf(req) === KUBE_AUDIT_ROUTE ? opts.kubernetesAudit?.bodyLimit ?? DEFAULT_AUDIT_BODY_LIMIT : bodyLimit} bytes` : status >= 500 ? 'internal error' : err.message;
    if (status >= 500) return reply.code(status).send({ error: message });
    return refuse(req, reply, status, REASON_BY_STATUS[status] ?? `http_${status}`, { error: message });
  });

  if (opts.alertmanager !== false) {
    const token = opts.alertmanager?.bearerToken;
    const maxAlerts = opts.alertmanager?.maxAlerts ?? DEFAULT_MAX_ALERTS;
    app.post('/webhooks/alertmanager', { onRequest: bearerGuard(token, refuse) }, async (req, reply) => {
      if (req.body === undefined) return unsupported(req, reply, refuse);
      // Counted before validation: checking 100,000 alerts would itself be the stall this limit prevents.
      const count = (req.body as { alerts?: unknown }).alerts;
      if (Array.isArray(count) && count.length > maxAlerts) {
        return refuse(req, reply, 413, 'too_many_alerts', {
          error: `${count.length} alerts in one payload, more than the ${maxAlerts} allowed: set max_alerts: ${maxAlerts} in Alertmanager's webhook_config (or raise webhooks.alertmanager.maxAlerts)`,
        });
      }
      const parsed = await parseAlertmanagerPayloadInChunks(req.body);
      if (!parsed.ok) {
        const [first] = parsed.problems;
        // The first problems say what is wrong; a thousand more would only make the answer large.
        const shown = parsed.problems.slice(0, MAX_PROBLEMS);
        const more = parsed.problems.length - shown.length;
        return refuse(req, reply, 400, 'invalid_payload', {
          error: `invalid Alertmanager payload: ${describeProblems(shown)}${more ? `; and ${more} more` : ''}`,
          field: first.field,
          problems: shown,
        });
      }
      if (!opts.source.running) return notRunning(reply);
      return { accepted: await opts.source.receiveAlerts(parsed.payload) };
    });
  }

  if (opts.kubernetesAudit) {
    registerKubeAudit(app, opts.kubernetesAudit, { guard: bearerGuard(opts.kubernetesAudit.bearerToken, refuse), refuse, unsupported: (req, reply) => unsupported(req, reply, refuse) });
  }

  const lookup = (name: string): WebhookConfig | undefined => webhooks.get(name) ?? (opts.allowUnlisted ? { bearerToken: opts.unlistedBearerToken } : undefined);
  const guards = new Map([...webhooks].map(([name, cfg]) => [name, bearerGuard(cfg.bearerToken, refuse)]));
  const unlistedGuard = bearerGuard(opts.unlistedBearerToken, refuse);

  app.post<{ Params: { name: string } }>('/webhooks/:name', {
    // Unknown names and bad tokens are turned away before the body is read.
    onRequest: async (req, reply) => {
      const { name } = req.params;
      if (!NAME.test(name) || !lookup(name)) {
        return refuse(req, reply, 404, 'unknown_name', { error: `no webhook named "${name}" is configured` });
      }
      return (guards.get(name) ?? unlistedGuard)(req, reply);
    },
  }, async (req, reply) => {
    const { name } = req.params;
    const cfg = lookup(name)!;
    if (req.body === undefined) return unsupported(req, reply, refuse);
    if (cfg.secret) {
      const header = (cfg.signatureHeader ?? 'x-hub-signature-256').toLowerCase();
      const given = headerValue(req.headers[header]);
      const raw = rawBodies.get(req) ?? Buffer.alloc(0);
      if (!given) return refuse(req, reply, 401, 'missing_signature', { error: `missing ${header} signature header` });
      if (!signatureMatches(cfg.secret, raw, given)) return refuse(req, reply, 401, 'bad_signature', { error: `${header} does not match the body's HMAC-SHA256` });
    }
    if (!opts.source.running) return notRunning(reply);
    opts.source.receiveWebhook(name, req.body, keptHeaders(req, cfg), cfg.cluster);
    return { accepted: 1 };
  });
}

type Refuse = (req: FastifyRequest, reply: FastifyReply, code: number, reason: string, body: Record<string, unknown>) => FastifyReply;

/** onRequest hook enforcing `Authorization: Bearer <token>` when a token is configured. */
function bearerGuard(token: string | undefined, refuse: Refuse) {
  return async (req: FastifyRequest, reply: FastifyReply) => {
    if (!token) return;
    const m = /^Bearer\s+(\S+)\s*$/i.exec(headerValue(req.headers.authorization) ?? '');
    if (m && sameSecret(m[1], token)) return;
    reply.header('www-authenticate', 'Bearer realm="kubemend"');
    return m
      ? refuse(req, reply, 401, 'bad_token', { error: 'bearer token does not match' })
      : refuse(req, reply, 401, 'missing_token', { error: 'missing bearer token (Authorization: Bearer <token>)' });
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

function unsupported(req: FastifyRequest, reply: FastifyReply, refuse: Refuse) {
  const type = req.headers['content-type'];
  return refuse(req, reply, type ? 400 : 415, type ? 'invalid_payload' : 'bad_content_type', {
    error: type ? 'the body is empty: send a JSON object' : 'missing Content-Type: send a JSON body with Content-Type: application/json',
  });
}

function notRunning(reply: FastifyReply) {
  reply.header('retry-after', '5');
  return reply.code(503).send({ error: 'kubemend is not accepting signals yet; retry later' });
}
