// The Alertmanager webhook payload (webhook_config, payload version 4) and
// its validation. Unknown fields are dropped rather than rejected: Alertmanager
// and look-alikes (Grafana adds orgId, silenceURL, values …) grow the payload
// over time, and a receiver that refuses them would silently lose alerts.
import { z } from 'zod';
import { formatPath } from '../../common/index.ts';

const LabelSet = z.record(z.string(), z.string());

const Timestamp = z.string().refine((s) => !Number.isNaN(Date.parse(s)), 'must be an RFC 3339 timestamp');

const Status = z.enum(['firing', 'resolved'], { error: 'must be "firing" or "resolved"' });

export const AlertSchema = z.object({
  status: Status,
  labels: LabelSet,
  annotations: LabelSet.default({}),
  startsAt: Timestamp.optional(),
  /** "0001-01-01T00:00:00Z" (Go's zero time) while the alert has no known end. */
  endsAt: Timestamp.optional(),
  generatorURL: z.string().optional(),
  fingerprint: z.string().optional(),
});

export const AlertmanagerPayloadSchema = z.object({
  version: z.literal('4', { error: 'must be "4" (Alertmanager webhook payload version 4)' }),
  groupKey: z.string(),
  /** How many alerts Alertmanager left out because of the receiver's max_alerts. */
  truncatedAlerts: z.number().int().nonnegative().default(0),
  status: Status,
  receiver: z.string(),
  groupLabels: LabelSet.default({}),
  commonLabels: LabelSet.default({}),
  commonAnnotations: LabelSet.default({}),
  externalURL: z.string().default(''),
  alerts: z.array(AlertSchema),
});

export type AlertmanagerPayload = z.output<typeof AlertmanagerPayloadSchema>;
export type AlertmanagerAlert = z.output<typeof AlertSchema>;

export interface PayloadProblem {
  /** Dotted path of the offending field, e.g. `alerts[0].status`; empty for the body itself. */
  field: string;
  message: string;
}

export type ParseResult =
  | { ok: true; payload: AlertmanagerPayload }
  | { ok: false; problems: PayloadProblem[] };

/** Validates a decoded JSON body as an Alertmanager v4 webhook payload. */
export function parseAlertmanagerPayload(body: unknown): ParseResult {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    return { ok: false, problems: [{ field: '', message: 'the body must be a JSON object (an Alertmanager webhook payload)' }] };
  }
  const res = AlertmanagerPayloadSchema.safeParse(body);
  if (res.success) return { ok: true, payload: res.data };
  return { ok: false, problems: problemsOf(res.error.issues) };
}

const EnvelopeSchema = AlertmanagerPayloadSchema.extend({ alerts: z.array(z.unknown()) });

/**
 * The same validation with the alerts checked `chunk` at a time and a turn of
 * the event loop between chunks, so a payload of thousands of alerts does
 * not stall the server while it is checked.
 */
export async function parseAlertmanagerPayloadInChunks(body: unknown, chunk = 500): Promise<ParseResult> {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return parseAlertmanagerPayload(body);
  const envelope = EnvelopeSchema.safeParse(body);
  const problems = envelope.success ? [] : problemsOf(envelope.error.issues);
  const raw = (body as { alerts?: unknown }).alerts;
  const alerts: AlertmanagerAlert[] = [];
  if (Array.isArray(raw)) {
    for (let i = 0; i < raw.length; i++) {
      if (i > 0 && i % chunk === 0) await new Promise<void>((r) => setImmediate(r));
      const a = AlertSchema.safeParse(raw[i]);
      if (a.success) alerts.push(a.data);
      else problems.push(...problemsOf(a.error.issues, ['alerts', i]));
    }
  }
  if (problems.length || !envelope.success) return { ok: false, problems };
  return { ok: true, payload: { ...envelope.data, alerts } };
}

function problemsOf(issues: z.core.$ZodIssue[], prefix: PropertyKey[] = []): PayloadProblem[] {
  return issues.map((i) => ({ field: formatPath([...prefix, ...i.path]), message: missing(i) ?? i.message }));
}

// zod's "expected string, received undefined" says less than "required".
function missing(issue: z.core.$ZodIssue): string | undefined {
  if (issue.code === 'invalid_type' && /received undefined/.test(issue.message)) return `is required (${issue.expected})`;
  return undefined;
}

/** One line for an HTTP error body or a log: "alerts[0].status: must be …; version: …". */
export function describeProblems(problems: readonly PayloadProblem[]): string {
  return problems.map((p) => (p.field ? `${p.field}: ${p.message}` : p.message)).join('; ');
}
