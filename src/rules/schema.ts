// The Rule file format (documented in docs/rules.md). Durations become
// milliseconds at load time; CEL is compiled by the loader, not here.
import { z } from 'zod';
import { Duration } from '../common/index.ts';

const Name = z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'use lower-case letters, digits and dashes');

const NamespaceFilter = z.strictObject({
  include: z.array(z.string()).optional(),
  exclude: z.array(z.string()).optional(),
});

/** Cheap checks that index rules and run before any CEL. */
const Match = z.strictObject({
  /** Object kinds (source: object) or involvedObject kinds (source: event). */
  kinds: z.array(z.string()).optional(),
  namespaces: NamespaceFilter.optional(),
  /** Label equality on the object (or, for events, the event's own labels are not used: the involved object's are unknown). */
  labels: z.record(z.string(), z.string()).optional(),
  /** core/v1 Event reasons (source: event). */
  reasons: z.array(z.string()).optional(),
  /** Event type Normal/Warning (source: event). */
  eventTypes: z.array(z.enum(['Normal', 'Warning'])).optional(),
  /** Alert names (source: alert). */
  alertNames: z.array(z.string()).optional(),
  /** Generic webhook names (source: webhook): the path segment in /webhooks/<name>. */
  webhooks: z.array(z.string()).optional(),
  /** Which changes of an object (source: object). */
  operations: z.array(z.enum(['create', 'update', 'delete'])).optional(),
  /** Only these clusters (kubeconfig context names). */
  clusters: z.array(z.string()).optional(),
});

const Action = z.union([
  z.strictObject({
    runbook: Name,
    params: z.record(z.string(), z.unknown()).default({}),
    /** auto: start the runbook; offer: record and announce it for a person to start, never start it. */
    mode: z.enum(['auto', 'offer']).default('auto'),
    /** CEL bool over the rule's variables, checked each time the detection fires: false withholds the runbook (audited as not acting, with skipReason). */
    when: z.string().min(1).optional(),
    /** Why the runbook is withheld when action.when is false: "not acting, because <skipReason>". */
    skipReason: z.string().min(1).optional(),
  }),
  z.strictObject({ notify: z.strictObject({ channel: z.string().default('default'), template: z.string().optional() }) }),
]);

export const RuleSchema = z.strictObject({
  apiVersion: z.literal('kubemend.dev/v1alpha1', { error: 'apiVersion must be kubemend.dev/v1alpha1' }),
  kind: z.literal('Rule', { error: 'kind must be Rule' }),
  metadata: z.strictObject({
    name: Name,
    description: z.string().optional(),
    labels: z.record(z.string(), z.string()).default({}),
  }),
  spec: z.strictObject({
    source: z.enum(['object', 'event', 'alert', 'webhook', 'schedule', 'rollout']),
    /** For source: schedule — an interval ("5m") or a cron expression ("*\/5 * * * *"). */
    schedule: z.string().optional(),
    match: Match.default({}),
    /** CEL over object, oldObject, event, alert, webhook, rollout (whichever the source gives). Default: true. */
    when: z.string().default('true'),
    /** The condition must hold this long for the same subject before a detection fires. */
    for: Duration.optional(),
    /**
     * CEL yielding the subject's key parts; default: the object (or the event's involved object).
     * e.g. `{'kind': 'Deployment', 'namespace': object.metadata.namespace, 'name': owner(object).name}`.
     */
    subject: z.string().optional(),
    severity: z.enum(['info', 'warning', 'critical']).default('warning'),
    /** One-line summary; CEL string expression. Default: the rule's description. */
    summary: z.string().optional(),
    group: z.strictObject({
      /** Detection labels to group by: rule, cluster, namespace, kind, name, severity, or any rule label. */
      by: z.array(z.string()).default(['rule', 'cluster', 'namespace']),
      /** At most one notification per group per window. */
      window: Duration.default(300_000),
    }).default({ by: ['rule', 'cluster', 'namespace'], window: 300_000 }),
    rateLimit: z.strictObject({ max: z.number().int().positive(), per: Duration }).optional(),
    /** A resolved detection with the same fingerprint re-opens rather than starting anew within this time. */
    resolveAfter: Duration.optional(),
    action: Action.optional(),
  }),
}).superRefine((r, ctx) => {
  if (r.spec.source === 'schedule' && !r.spec.schedule) {
    ctx.addIssue({ code: 'custom', path: ['spec', 'schedule'], message: 'source: schedule needs spec.schedule (an interval like 5m or a cron expression)' });
  }
  if (r.spec.source !== 'schedule' && r.spec.schedule) {
    ctx.addIssue({ code: 'custom', path: ['spec', 'schedule'], message: 'spec.schedule is only used with source: schedule' });
  }
  const a = r.spec.action;
  if (a && 'runbook' in a && a.skipReason && !a.when) {
    ctx.addIssue({ code: 'custom', path: ['spec', 'action', 'skipReason'], message: 'action.skipReason explains an action.when that does not hold: give action.when too' });
  }
});

export type Rule = z.output<typeof RuleSchema>;
export type RuleSource = Rule['spec']['source'];
