// What the webhook receivers accept, from the service config (secrets by
// environment variable name, never in the file) or from `watch`'s flags.
// Every route needs a credential: an Alertmanager receiver or a generic
// webhook without one is a configuration error, not an open door.
import { z } from 'zod';
import { KubemendError, Errors, redactor } from '../common/index.ts';
import { DEFAULT_MAX_ALERTS, type WebhookConfig, type WebhooksOptions } from './webhooks.ts';

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
  /** Generic JSON webhooks by name: POST /webhooks/<name>. */
  generic: z.record(z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/, 'letters, digits, ".", "_" and "-"'), GenericWebhook).default({}),
  /** Largest body accepted, in bytes (default 1 MiB). */
  bodyLimit: z.number().int().positive().max(16 * 1024 * 1024).default(1024 * 1024),
});

export type WebhooksConfig = z.output<typeof WebhooksConfigSchema>;

/** The receivers' options minus the source; the problems name each missing environment variable. */
export function resolveWebhooks(c: WebhooksConfig, env: NodeJS.ProcessEnv): { options?: Omit<WebhooksOptions, 'source'>; problems: string[] } {
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
  if (problems.length) return { problems };
  if (alertmanager === false && !Object.keys(webhooks).length) return { problems };
  return { options: { alertmanager, webhooks, bodyLimit: c.bodyLimit }, problems };
}

/** `watch --listen`: one bearer token for Alertmanager and every webhook name. */
export function webhookRoutes(o: { bearerToken?: string }): Omit<WebhooksOptions, 'source'> {
  redactor.addSecret(o.bearerToken);
  if (!o.bearerToken) throw new KubemendError(Errors.BAD_FLAG, '--listen needs --webhook-token TOKEN (or $KUBEMEND_WEBHOOK_TOKEN): every webhook request must carry it as "Authorization: Bearer TOKEN"');
  return { alertmanager: { bearerToken: o.bearerToken }, allowUnlisted: true, unlistedBearerToken: o.bearerToken };
}
