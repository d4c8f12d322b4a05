// What the webhook receivers accept, from the service config (secrets by
// environment variable name, never in the file) or from `watch`'s flags.
// Every route needs a credential: an Alertmanager receiver or a generic
// webhook without one is a configuration error, not an open door.
import { z } from 'zod';
import { KubemendError, Errors, redactor } from '../common/index.ts';
import { DEFAULT_MAX_ALERTS, type WebhookConfig, type WebhooksOptions } from './webhooks.ts';
import { DEFAULT_AUDIT_BODY_LIMIT, DEFAULT_MAX_AUDIT_EVENTS, KUBE_AUDIT_ROUTE, type KubeAuditRouteOptions } from './kube-audit-route.ts';

const EnvName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name');

const GenericWebhook = z.strictObject({
  /** Environment variable holding the bearer token callers send. */
  bearerTokenEnv: EnvName.optional(),
  /** Environment variable holding the HMAC-SHA256 secret of the body's signature. */
  secretEnv: EnvName.optional(),
  /** Header carrying the signature (default X-Hub-Signature-256). */
  signatureHeader: z.string().min(1).optional(),
  /** The cluster its signals are about (default: the first cluster). */
  cluster: z.string().min(1).optional(),
  /** Request headers to keep on the signal, besides the usual event/delivery headers. */
  headers: z.array(z.string().min(1)).default([]),
}).refine((w) => w.bearerTokenEnv || w.secretEnv, { message: 'give bearerTokenEnv or secretEnv (or both): every webhook needs a credential' });

export const WebhooksConfigSchema = z.strictObject({
  /** The Alertmanager receiver (POST /webhooks/alertmanager); off unless configured. */
  alertmanager: z.strictObject({
    bearerTokenEnv: EnvName,
    /** Alerts in one payload; more get 413 (set Alertmanager's max_alerts to at most this). */
    maxAlerts: z.number().int().positive().max(100_000).default(DEFAULT_MAX_ALERTS),
  }).optional(),
  /** The Kubernetes API server's audit webhook (POST /webhooks/kubernetes-audit[/<cluster>]); off unless configured. */
  kubernetesAudit: z.strictObject({
    /** Environment variable holding the token the API server's webhook kubeconfig sends. */
    bearerTokenEnv: EnvName,
    /** The cluster of /webhooks/kubernetes-audit (default: the first cluster); /webhooks/kubernetes-audit/<cluster> names its own. */
    cluster: z.string().min(1).optional(),
    /** Events in one batch; more get 413 (set --audit-webhook-batch-max-size to at most this). */
    maxEvents: z.number().int().positive().max(100_000).default(DEFAULT_MAX_AUDIT_EVENTS),
    /** Largest batch in bytes. */
    bodyLimit: z.number().int().positive().max(64 * 1024 * 1024).default(DEFAULT_AUDIT_BODY_LIMIT),
  }).optional(),
  /** Generic JSON webhooks by name: POST /webhooks/<name>. */
  generic: z.record(z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/, 'letters, digits, ".", "_" and "-"'), GenericWebhook).superRefine((hooks, ctx) => {
    // The built-in receivers' paths win over /webhooks/<name>: a generic webhook of that name would never be called.
    for (const name of ['alertmanager', KUBE_AUDIT_ROUTE]) {
      if (name in hooks) ctx.addIssue({ code: 'custom', path: [name], message: `"${name}" is a built-in receiver (webhooks.${name === 'alertmanager' ? 'alertmanager' : 'kubernetesAudit'}); give the generic webhook another name` });
    }
  }).default({}),
  /** Largest body accepted, in bytes (default 1 MiB). */
  bodyLimit: z.number().int().positive().max(16 * 1024 * 1024).default(1024 * 1024),
});

export type WebhooksConfig = z.output<typeof WebhooksConfigSchema>;

/** The audit route's settings before the pipeline exists (its trail and clusters come from there). */
export type KubeAuditSettings = Omit<KubeAuditRouteOptions, 'trail' | 'clusters'>;

/** The receivers' options minus the source (and the audit route's trail); the problems name each missing environment variable. */
export function resolveWebhooks(c: WebhooksConfig, env: NodeJS.ProcessEnv): { options?: Omit<WebhooksOptions, 'source' | 'kubernetesAudit'>; kubernetesAudit?: KubeAuditSettings; problems: string[] } {
  const problems: string[] = [];
  const need = (name: string | undefined, what: string) => {
    if (!name) return undefined;
    const v = env[name];
    if (!v) problems.push(`${what}: $${name} is not set`);
    redactor.addSecret(v);
    return v;
  };
  const alertmanager = c.alertmanager ? { bearerToken: need(c.alertmanager.bearerTokenEnv, 'webhooks.alertmanager.bearerTokenEnv'), maxAlerts: c.alertmanager.maxAlerts } : false;
  const webhooks: Record<string, WebhookConfig> = {};
  for (const [name, w] of Object.entries(c.generic)) {
    webhooks[name] = {
      bearerToken: need(w.bearerTokenEnv, `webhooks.generic.${name}.bearerTokenEnv`),
      secret: need(w.secretEnv, `webhooks.generic.${name}.secretEnv`),
      signatureHeader: w.signatureHeader,
      cluster: w.cluster,
      headers: w.headers,
    };
  }
  const k = c.kubernetesAudit;
  const kubernetesAudit = k && { bearerToken: need(k.bearerTokenEnv, 'webhooks.kubernetesAudit.bearerTokenEnv')!, cluster: k.cluster, maxEvents: k.maxEvents, bodyLimit: k.bodyLimit };
  if (problems.length) return { problems };
  if (alertmanager === false && !Object.keys(webhooks).length && !kubernetesAudit) return { problems };
  return { options: { alertmanager, webhooks, bodyLimit: c.bodyLimit }, kubernetesAudit, problems };
}

/** `watch --listen`: one bearer token for Alertmanager and every webhook name. */
export function webhookRoutes(o: { bearerToken?: string }): Omit<WebhooksOptions, 'source'> {
  redactor.addSecret(o.bearerToken);
  if (!o.bearerToken) throw new KubemendError(Errors.BAD_FLAG, '--listen needs --webhook-token TOKEN (or $KUBEMEND_WEBHOOK_TOKEN): every webhook request must carry it as "Authorization: Bearer TOKEN"');
  return { alertmanager: { bearerToken: o.bearerToken }, allowUnlisted: true, unlistedBearerToken: o.bearerToken };
}
