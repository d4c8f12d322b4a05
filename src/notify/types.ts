// Contracts of outgoing notifications (issue 15). What happens in kubemend —
// an incident changing state, a run's steps, an approval asked for, a runbook
// `notify` step, an escalation — becomes one NotifyEvent; routes (Alertmanager
// style, matched on its labels) pick the receivers; each delivery is queued in
// the store (the outbox) and retried until the receiver takes it, so delivery
// is at least once and in order per thread.

/** What happened, as routes and receivers see it. */
export type NotifyEventKind =
  | 'incident.opened' | 'incident.updated' | 'incident.acknowledged' | 'incident.assigned' | 'incident.noted'
  | 'incident.mitigated' | 'incident.reopened' | 'incident.resolved' | 'incident.postmortem'
  | 'run.started' | 'run.step' | 'run.ended' | 'run.escalated'
  | 'approval.requested' | 'approval.decided'
  | 'notify';

/** The incident's state when the event was made: receivers that keep one object per incident (a PagerDuty incident, a thread's parent message) render it. */
export interface IncidentState {
  id: string;
  title: string;
  status: 'open' | 'acknowledged' | 'mitigated' | 'resolved' | 'postmortem';
  severity: 'info' | 'warning' | 'critical';
  cluster: string;
  owner?: string;
  openedAt: number;
}

export interface NotifyButton {
  label: string;
  /** The chat command a press sends, e.g. "approve k3x9pa". */
  value: string;
  style?: 'primary' | 'danger';
}

export interface NotifyEvent {
  kind: NotifyEventKind;
  time: number;
  /**
   * Routes match these: cluster, namespace, severity, rule, runbook, team
   * (the kubemend.dev/team annotation of the workload or its namespace),
   * kind (the event kind), and any other label a source adds.
   */
  labels: Record<string, string>;
  title: string;
  /** Plain text; never secrets (redacted where it was made). */
  text: string;
  severity: 'info' | 'warning' | 'critical';
  /** Threads, PagerDuty dedup keys and grouping follow the incident (else the run, else the detection). */
  incident?: IncidentState;
  runId?: string;
  detectionId?: string;
  /** The audit record this event reflects, so readers can find it in the log. */
  auditId?: string;
  links?: { href: string; text: string }[];
  /** Structured details (PagerDuty custom_details, the webhook's JSON). */
  details?: Record<string, unknown>;
  /** Approval and incident buttons, for receivers that can show them. */
  buttons?: NotifyButton[];
}

/** One queued delivery of an event to a receiver (an outbox row). */
export interface Delivery {
  id: string;
  receiver: string;
  /** Deliveries with the same key go out one at a time, in order (the incident, run or detection). */
  key: string;
  event: NotifyEvent;
  attempts: number;
  createdAt: number;
}

export type DeliveryResult =
  | { ok: true; ref?: string }
  /** retryable: try again after back-off (network, 429, 5xx); otherwise it is dead-lettered and audited. */
  | { ok: false; retryable: boolean; error: string; retryAfterMs?: number };

/** A place notifications go: Slack/Mattermost channel, PagerDuty, email, webhook. */
export interface Receiver {
  readonly name: string;
  readonly type: 'slack' | 'mattermost' | 'chat' | 'pagerduty' | 'email' | 'webhook';
  deliver(d: Delivery): Promise<DeliveryResult>;
}
