// The one call that turns the config's `notifications` section into a
// running Notifications: receivers built from the config and the
// environment (secrets read here and handed to the process's redactor, so no
// log line or audit record shows them), receivers the caller supplies (the
// chat-backed slack/mattermost ones) by name, the router with its memory in
// the store, and the outbox worker.
import { Errors, KubemendError, redactor, type Clock } from '../common/index.ts';
import type { Store } from '../store/index.ts';
import { receiverType, type NotificationsConfig, type ReceiverConfig } from './config.ts';
import { EmailReceiver } from './email.ts';
import { Notifications, receiverState, ROUTER_STATE } from './notifications.ts';
import { Outbox } from './outbox.ts';
import { PagerDutyReceiver } from './pagerduty.ts';
import { Router } from './router.ts';
import type { Receiver } from './types.ts';
import { WebhookReceiver } from './webhook.ts';

export interface BuildNotificationsOptions {
  config: NotificationsConfig;
  store: Store;
  clock: Clock;
  env: NodeJS.ProcessEnv;
  /** Deliver only while this holds (pass the leadership check under leader election). */
  canDeliver?: () => boolean;
  /** Receivers built elsewhere, by the receiver's name in the config (required for slack and mattermost ones). */
  receivers?: Record<string, Receiver>;
  log?: (line: string) => void;
  /** Poll interval of the outbox (default 1 s). */
  pollMs?: number;
}

function buildReceiver(r: ReceiverConfig, env: NodeJS.ProcessEnv, clock: Clock, problems: string[]): Receiver | undefined {
  const secret = (name: string | undefined, what: string): string | undefined => {
    if (!name) return undefined;
    const v = env[name];
    if (!v) problems.push(`receiver ${r.name}: ${what}: $${name} is not set`);
    redactor.addSecret(v);
    return v || undefined;
  };
  if (r.pagerduty) {
    const p = r.pagerduty;
    const routingKey = secret(p.routingKeyEnv, 'pagerduty.routingKeyEnv');
    return routingKey ? new PagerDutyReceiver({ name: r.name, routingKey, url: p.url, severity: p.severity, mitigated: p.mitigated, source: p.source, client: p.client, clientUrl: p.clientUrl }) : undefined;
  }
  if (r.email) {
    const s = r.email.smtp;
    const user = secret(s.userEnv, 'email.smtp.userEnv');
    const password = secret(s.passwordEnv, 'email.smtp.passwordEnv');
    if (s.userEnv && (!user || !password)) return undefined;
    return new EmailReceiver({ name: r.name, to: r.email.to, from: r.email.from, smtp: { host: s.host, port: s.port, secure: s.secure, requireTLS: s.requireTLS, rejectUnauthorized: s.rejectUnauthorized, user, password } });
  }
  if (r.webhook) {
    const w = r.webhook;
    const key = secret(w.secretEnv, 'webhook.secretEnv');
    const headers = { ...w.headers };
    for (const [h, name] of Object.entries(w.headerEnv)) {
      const v = secret(name, `webhook.headerEnv.${h}`);
      if (v) headers[h] = v;
    }
    if ((w.secretEnv && !key) || Object.keys(w.headerEnv).some((h) => headers[h] === undefined)) return undefined;
    return new WebhookReceiver({ name: r.name, url: w.url, secret: key, headers, timeoutMs: w.timeout, clock });
  }
  problems.push(`receiver ${r.name}: a ${receiverType(r)} receiver posts through the ${receiverType(r)} chat adapter, which is not configured`);
  return undefined;
}

/** Fails with KM-NOTIFY-001 naming every receiver that cannot be built. */
export function buildNotifications(o: BuildNotificationsOptions): Notifications {
  const problems: string[] = [];
  const receivers = new Map<string, Receiver>();
  for (const r of o.config.receivers) {
    const given = o.receivers?.[r.name];
    const built = given ?? buildReceiver(r, o.env, o.clock, problems);
    if (built) receivers.set(r.name, built);
  }
  if (problems.length) throw new KubemendError(Errors.NOTIFY_RECEIVER, `notifications: ${problems.join('; ')}`);
  const d = o.config.delivery;
  const router = new Router(o.config, { clock: o.clock, memory: receiverState(o.store, ROUTER_STATE, o.clock) });
  const outbox = new Outbox({
    store: o.store,
    clock: o.clock,
    receivers: (name) => receivers.get(name),
    canDeliver: o.canDeliver,
    log: o.log,
    concurrency: d.concurrency,
    maxAttempts: d.maxAttempts,
    maxAgeMs: d.maxAge,
    minBackoffMs: d.minBackoff,
    maxBackoffMs: d.maxBackoff,
    pollMs: o.pollMs,
  });
  return new Notifications({ store: o.store, router, outbox, clock: o.clock });
}
