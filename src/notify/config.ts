// The `notifications` section of the service config: an Alertmanager-style
// route tree (docs/notifications.md), named receivers, named time intervals
// and the outbox's delivery limits. Route and time-interval fields keep
// Alertmanager's snake_case names so a tree can be copied from an
// alertmanager.yml; receiver fields are kubemend's. Secrets only by
// environment variable name. Every cross-reference (a route's receiver, a
// time interval's name) is checked here, with the path of the bad field.
import { z } from 'zod';
import { Duration } from '../common/index.ts';
import { MatcherSyntaxError, parseMatchers } from './matchers.ts';
import { compileInterval, IntervalError } from './time-intervals.ts';
import type { NotifyEventKind } from './types.ts';

export const NOTIFY_EVENT_KINDS = [
  'incident.opened', 'incident.updated', 'incident.acknowledged', 'incident.assigned', 'incident.noted',
  'incident.mitigated', 'incident.reopened', 'incident.resolved', 'incident.postmortem',
  'run.started', 'run.step', 'run.ended', 'run.escalated',
  'approval.requested', 'approval.decided', 'notify',
] as const satisfies readonly NotifyEventKind[];

const EnvName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name');
const Name = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, 'letters, digits, ".", "_" and "-" (at most 63)');
const LabelName = z.string().regex(/^(?:[a-zA-Z_][a-zA-Z0-9_]*|\.\.\.)$/, 'a label name, or "..." for all labels');
const Email = z.string().regex(/^[^\s@<>"]+@[^\s@<>"]+$/, 'an email address, e.g. oncall@example.com');
const HttpUrl = z.url({ protocol: /^https?$/ });
const Channel = z.string().min(1).max(200);

/** Header names whose values are credentials: they belong in the environment. */
const SECRET_HEADERS = /^(authorization|proxy-authorization|cookie|x-api-key|api-key|x-auth-token)$/i;

export interface RouteConfig {
  receiver?: string;
  group_by?: string[];
  group_wait?: number;
  group_interval?: number;
  repeat_interval?: number;
  continue: boolean;
  matchers: string[];
  mute_time_intervals: string[];
  active_time_intervals: string[];
  routes: RouteConfig[];
}

const RouteSchema: z.ZodType<RouteConfig, unknown> = z.lazy(() => z.strictObject({
  /** Inherited from the parent route when absent. */
  receiver: Name.optional(),
  group_by: z.array(LabelName).optional(),
  group_wait: Duration.optional(),
  group_interval: Duration.optional(),
  repeat_interval: Duration.optional(),
  continue: z.boolean().default(false),
  matchers: z.array(z.string().min(1)).default([]).superRefine((ms, ctx) => {
    ms.forEach((m, i) => {
      try {
        parseMatchers(m);
      } catch (err) {
        if (!(err instanceof MatcherSyntaxError)) throw err;
        ctx.addIssue({ code: 'custom', path: [i], message: err.message });
      }
    });
  }),
  mute_time_intervals: z.array(Name).default([]),
  active_time_intervals: z.array(Name).default([]),
  routes: z.array(RouteSchema).default([]),
}));

const TimeRangeSchema = z.strictObject({ start_time: z.string(), end_time: z.string() });
const TimeIntervalSchema = z.strictObject({
  times: z.array(TimeRangeSchema).optional(),
  weekdays: z.array(z.string()).optional(),
  days_of_month: z.array(z.string()).optional(),
  months: z.array(z.string()).optional(),
  years: z.array(z.string()).optional(),
  location: z.string().optional(),
}).superRefine((iv, ctx) => {
  try {
    compileInterval(iv);
  } catch (err) {
    if (!(err instanceof IntervalError)) throw err;
    ctx.addIssue({ code: 'custom', path: err.path, message: err.message });
  }
});

const PdSeverity = z.enum(['critical', 'error', 'warning', 'info']);

const PagerDutySchema = z.strictObject({
  /** The Events API v2 integration key (32 characters), by environment variable. */
  routingKeyEnv: EnvName,
  url: HttpUrl.default('https://events.pagerduty.com/v2/enqueue'),
  /** kubemend severity → PagerDuty severity. */
  severity: z.strictObject({ critical: PdSeverity.default('critical'), warning: PdSeverity.default('warning'), info: PdSeverity.default('info') }).prefault({}),
  /** What kubemend's `mitigated` does to the PagerDuty incident (docs/notifications.md, "PagerDuty"). */
  mitigated: z.enum(['resolve', 'acknowledge', 'trigger']).default('resolve'),
  /** payload.source when the event names no cluster; default "kubemend". */
  source: z.string().min(1).max(255).optional(),
  client: z.string().min(1).default('kubemend'),
  /** client_url: kubemend's console, shown in PagerDuty. */
  clientUrl: HttpUrl.optional(),
});

const EmailSchema = z.strictObject({
  to: z.array(Email).min(1),
  from: Email,
  smtp: z.strictObject({
    host: z.string().min(1),
    port: z.number().int().min(1).max(65535).default(587),
    /** TLS from the first byte (port 465); otherwise STARTTLS when the server offers it. */
    secure: z.boolean().default(false),
    /** Refuse to send unless STARTTLS succeeds (with secure: false). */
    requireTLS: z.boolean().default(false),
    /** Check the server's certificate (turn off only for a test server). */
    rejectUnauthorized: z.boolean().default(true),
    userEnv: EnvName.optional(),
    passwordEnv: EnvName.optional(),
  }).refine((s) => Boolean(s.userEnv) === Boolean(s.passwordEnv), { message: 'give both userEnv and passwordEnv, or neither' }),
});

const WebhookSchema = z.strictObject({
  url: HttpUrl,
  /** HMAC-SHA256 key of X-Kubemend-Signature, by environment variable. */
  secretEnv: EnvName.optional(),
  headers: z.record(z.string().regex(/^[A-Za-z0-9-]+$/, 'an HTTP header name'), z.string()).default({}).superRefine((h, ctx) => {
    for (const k of Object.keys(h)) if (SECRET_HEADERS.test(k)) ctx.addIssue({ code: 'custom', path: [k], message: `${k} carries a credential: put it in an environment variable and name it in headerEnv` });
  }),
  /** Header → environment variable holding its value (credentials such as Authorization). */
  headerEnv: z.record(z.string().regex(/^[A-Za-z0-9-]+$/, 'an HTTP header name'), EnvName).default({}),
  timeout: Duration.default(10_000),
});

const TYPES = ['pagerduty', 'email', 'webhook', 'slack', 'mattermost'] as const;

const ReceiverSchema = z.strictObject({
  name: Name,
  /** The event kinds this receiver is sent (default per type: docs/notifications.md). */
  events: z.array(z.enum(NOTIFY_EVENT_KINDS)).min(1).optional(),
  pagerduty: PagerDutySchema.optional(),
  email: EmailSchema.optional(),
  webhook: WebhookSchema.optional(),
  /** A Slack channel: a room name from server.slack.rooms, or a channel id. */
  slack: z.strictObject({ channel: Channel }).optional(),
  mattermost: z.strictObject({ channel: Channel }).optional(),
}).superRefine((r, ctx) => {
  const given = TYPES.filter((t) => r[t] !== undefined);
  if (given.length !== 1) ctx.addIssue({ code: 'custom', message: `give exactly one of ${TYPES.join(', ')}${given.length ? ` (found ${given.join(', ')})` : ''}` });
});

export const NotificationsSchema = z.strictObject({
  route: RouteSchema,
  receivers: z.array(ReceiverSchema).min(1),
  time_intervals: z.array(z.strictObject({ name: Name, time_intervals: z.array(TimeIntervalSchema).min(1) })).default([]),
  /** The outbox's retry limits. */
  delivery: z.strictObject({
    /** Give up (dead-letter) after this many attempts; 0: only maxAge limits. */
    maxAttempts: z.number().int().min(0).default(0),
    /** Give up on a delivery this long after it was queued. */
    maxAge: Duration.default(24 * 3_600_000),
    /** Deliveries in flight at once (one per receiver and key at a time). */
    concurrency: z.number().int().min(1).max(64).default(4),
    minBackoff: Duration.default(1_000),
    maxBackoff: Duration.default(5 * 60_000),
  }).prefault({}),
}).superRefine((n, ctx) => {
  const receivers = new Set<string>();
  n.receivers.forEach((r, i) => {
    if (receivers.has(r.name)) ctx.addIssue({ code: 'custom', path: ['receivers', i, 'name'], message: `receiver "${r.name}" is defined twice` });
    receivers.add(r.name);
  });
  const intervals = new Set(n.time_intervals.map((t) => t.name));
  if (!n.route.receiver) ctx.addIssue({ code: 'custom', path: ['route', 'receiver'], message: 'the root route needs a receiver (the default for every route below it)' });
  if (n.route.matchers.length) ctx.addIssue({ code: 'custom', path: ['route', 'matchers'], message: 'the root route matches every event: give matchers to child routes' });
  if (n.route.mute_time_intervals.length || n.route.active_time_intervals.length) ctx.addIssue({ code: 'custom', path: ['route'], message: 'the root route cannot have mute_time_intervals or active_time_intervals: put them on a child route' });
  const walk = (r: RouteConfig, path: (string | number)[]) => {
    if (r.receiver && !receivers.has(r.receiver)) ctx.addIssue({ code: 'custom', path: [...path, 'receiver'], message: `no receiver named "${r.receiver}" (receivers: ${[...receivers].join(', ')})` });
    for (const f of ['mute_time_intervals', 'active_time_intervals'] as const) {
      r[f].forEach((t, i) => intervals.has(t) || ctx.addIssue({ code: 'custom', path: [...path, f, i], message: `no time interval named "${t}" under time_intervals` }));
    }
    r.routes.forEach((c, i) => walk(c, [...path, 'routes', i]));
  };
  walk(n.route, ['route']);
});

export type NotificationsConfig = z.output<typeof NotificationsSchema>;
export type ReceiverConfig = NotificationsConfig['receivers'][number];
export type ReceiverType = (typeof TYPES)[number];

export function receiverType(r: ReceiverConfig): ReceiverType {
  return TYPES.find((t) => r[t] !== undefined) as ReceiverType;
}

/** Default event kinds per receiver type: pages and mail only for what needs a person; chat and webhooks get everything. */
export const DEFAULT_EVENTS: Record<ReceiverType, readonly NotifyEventKind[]> = {
  pagerduty: ['incident.opened', 'incident.updated', 'incident.acknowledged', 'incident.mitigated', 'incident.reopened', 'incident.resolved', 'run.escalated', 'run.ended', 'approval.requested', 'notify'],
  email: ['incident.opened', 'incident.mitigated', 'incident.resolved', 'run.escalated', 'approval.requested'],
  webhook: NOTIFY_EVENT_KINDS,
  slack: NOTIFY_EVENT_KINDS,
  mattermost: NOTIFY_EVENT_KINDS,
};

export function receiverEvents(r: ReceiverConfig): ReadonlySet<NotifyEventKind> {
  return new Set(r.events ?? DEFAULT_EVENTS[receiverType(r)]);
}
