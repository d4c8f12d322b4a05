// kubemend's own metrics, in one place so every layer counts into the same
// registry and the names follow one convention (`kubemend_` prefix, base
// units, `_total` for counters). They live in common/ because the layers
// that count (kube, rules, runbooks, audit, chat) must not import the
// server that exposes them. docs in README "Metrics".
import { Counter, Gauge, Histogram, register, collectDefaultMetrics } from 'prom-client';

/** Metrics already registered by this module (tests import it more than once per process). */
function once<T>(name: string, make: () => T): T {
  return (register.getSingleMetric(name) as T | undefined) ?? make();
}

export const signalsTotal = once('kubemend_signals_total', () => new Counter({
  name: 'kubemend_signals_total',
  help: 'Signals received by the rules engine, by source (object, event, alert, webhook, schedule) and object kind.',
  labelNames: ['source', 'kind'] as const,
}));

export const detectionsTotal = once('kubemend_detections_total', () => new Counter({
  name: 'kubemend_detections_total',
  help: 'Detection changes, by rule and change (opened, reopened, repeated, silenced, resolved).',
  labelNames: ['rule', 'change'] as const,
}));

export const suppressedTotal = once('kubemend_suppressed_total', () => new Counter({
  name: 'kubemend_suppressed_total',
  help: 'Signals or detections withheld from notification or action, by reason (hold, dedup, group, rate_limit, silence).',
  labelNames: ['reason'] as const,
}));

export const detectionRecordFailuresTotal = once('kubemend_detection_record_failures_total', () => new Counter({
  name: 'kubemend_detection_record_failures_total',
  help: 'Detection changes the store or audit log refused after retries (each is also logged).',
}));

export const runsTotal = once('kubemend_runs_total', () => new Counter({
  name: 'kubemend_runs_total',
  help: 'Runbook runs that ended, by runbook and outcome (succeeded, failed, escalated, cancelled, preempted, abandoned, dry-run), plus refused starts.',
  labelNames: ['runbook', 'outcome'] as const,
}));

export const stepDurationSeconds = once('kubemend_step_duration_seconds', () => new Histogram({
  name: 'kubemend_step_duration_seconds',
  help: 'Duration of runbook steps (real time), by action and status.',
  labelNames: ['action', 'status'] as const,
  buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 900],
}));

export const escalationsTotal = once('kubemend_escalations_total', () => new Counter({
  name: 'kubemend_escalations_total',
  help: 'Escalations to humans, by runbook.',
  labelNames: ['runbook'] as const,
}));

export const kubeRequestsTotal = once('kubemend_kube_requests_total', () => new Counter({
  name: 'kubemend_kube_requests_total',
  help: 'Requests to Kubernetes API servers, by verb and HTTP status code ("network" when none came back).',
  labelNames: ['verb', 'code'] as const,
}));

export const informerObjects = once('kubemend_informer_objects', () => new Gauge({
  name: 'kubemend_informer_objects',
  help: 'Objects in the informer caches, by cluster and kind.',
  labelNames: ['cluster', 'kind'] as const,
  collect() {
    this.reset();
    for (const provider of informerProviders) for (const i of provider()) this.set({ cluster: i.cluster, kind: i.kind }, i.objects);
  },
}));

export const watchRestartsTotal = once('kubemend_watch_restarts_total', () => new Counter({
  name: 'kubemend_watch_restarts_total',
  help: 'Watch streams resumed after they ended (server timeout, dropped connection), by kind.',
  labelNames: ['kind'] as const,
}));

export const relistsTotal = once('kubemend_relists_total', () => new Counter({
  name: 'kubemend_relists_total',
  help: 'Full relists after 410 Gone, by kind.',
  labelNames: ['kind'] as const,
}));

export const auditAppendSeconds = once('kubemend_audit_append_seconds', () => new Histogram({
  name: 'kubemend_audit_append_seconds',
  help: 'Time from an append call until its records are committed to the hash-chained audit log, waiting to join a group commit included.',
  buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5],
}));

export const auditCommitRecords = once('kubemend_audit_commit_records', () => new Histogram({
  name: 'kubemend_audit_commit_records',
  help: 'Records per audit log transaction: appends that arrive while one commits share the next (one head lock, one signature); _count is the number of transactions.',
  buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500],
}));

export const sqliteCheckpointsTotal = once('kubemend_sqlite_checkpoints_total', () => new Counter({
  name: 'kubemend_sqlite_checkpoints_total',
  help: 'WAL checkpoints of the SQLite store\'s worker thread: checkpointed (frames moved), truncated (a WAL past its bound), failed (retried at the next interval), worker_died (the connection checkpoints again itself).',
  labelNames: ['outcome'] as const,
}));

/** Latency from 1 ms to 10 s: the path from a watch event to a runbook's first request (latency.ts marks it). */
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const latency = (name: string, help: string) => once(name, () => new Histogram({ name, help, buckets: LATENCY_BUCKETS }));

export const watchToDetectionSeconds = latency('kubemend_watch_to_detection_seconds', 'Real time from an informer receiving a watch event to the detection change it caused reaching the sinks (every change but repeats; not for: holds, which wait on purpose).');

export const detectionToRunSeconds = latency('kubemend_detection_to_run_seconds', 'Real time from a detection change reaching the sinks to the run it started being admitted, stored and its start audited (it is launched while that record commits).');

export const runToFirstRequestSeconds = latency('kubemend_run_to_first_request_seconds', "Real time from a run's start on record to its first request to the API server (its first step stored and audited first).");

export const detectionToFirstRequestSeconds = latency('kubemend_detection_to_first_request_seconds', "Real time from a detection change reaching the sinks to the first API request of the run it started: how soon remediation acts.");

export const auditWitnessFailuresTotal = once('kubemend_audit_witness_failures_total', () => new Counter({
  name: 'kubemend_audit_witness_failures_total',
  help: 'Signed audit heads that could not be written to a witness (file or ConfigMap); the next head retries.',
}));

export const traceRecordsShippedTotal = once('kubemend_trace_records_shipped_total', () => new Counter({
  name: 'kubemend_trace_records_shipped_total',
  help: 'Audit records the trace shipper delivered, by shipper (elasticsearch) and result (created, or duplicate: already there, a 409 on create after a re-send).',
  labelNames: ['shipper', 'result'] as const,
}));

export const traceRecordsRejectedTotal = once('kubemend_trace_records_rejected_total', () => new Counter({
  name: 'kubemend_trace_records_rejected_total',
  help: 'Audit records the trace destination refused for good (a 4xx item other than 409/429), dead-lettered to the audit log as trace.<shipper>.rejected, by shipper and error type.',
  labelNames: ['shipper', 'type'] as const,
}));

export const traceRequestFailuresTotal = once('kubemend_trace_request_failures_total', () => new Counter({
  name: 'kubemend_trace_request_failures_total',
  help: 'Whole requests of the trace shipper that failed and are retried with back-off, by shipper and reason (network, status code, bad-response), plus bulk items sent again (reason item-429, item-5xx, item-403, item-404 …).',
  labelNames: ['shipper', 'reason'] as const,
}));

export const traceLagRecords = once('kubemend_trace_lag_records', () => new Gauge({
  name: 'kubemend_trace_lag_records',
  help: 'Audit records not yet delivered by the trace shipper: the chain head seq minus its checkpoint, by shipper.',
  labelNames: ['shipper'] as const,
}));

export const traceLastSuccessSeconds = once('kubemend_trace_last_success_timestamp_seconds', () => new Gauge({
  name: 'kubemend_trace_last_success_timestamp_seconds',
  help: 'When the trace shipper last delivered a batch (or found nothing to deliver), in seconds since the epoch, by shipper.',
  labelNames: ['shipper'] as const,
}));

export const chatCommandsTotal = once('kubemend_chat_commands_total', () => new Counter({
  name: 'kubemend_chat_commands_total',
  help: 'Chat commands handled, by command and outcome.',
  labelNames: ['command', 'outcome'] as const,
}));

export const leaderStatus = once('kubemend_leader', () => new Gauge({
  name: 'kubemend_leader',
  help: '1 while this process is the one that remediates (always 1 without leader election), else 0.',
}));

export const leaderTransitionsTotal = once('kubemend_leader_transitions_total', () => new Counter({
  name: 'kubemend_leader_transitions_total',
  help: 'Times this process became the leader (to="leader") or stopped being it (to="follower").',
  labelNames: ['to'] as const,
}));

export const configReloadsTotal = once('kubemend_config_reloads_total', () => new Counter({
  name: 'kubemend_config_reloads_total',
  help: 'Reloads of rules, runbooks, policy or config from disk, by what and result (applied, refused).',
  labelNames: ['what', 'result'] as const,
}));

export const webhookRequestsTotal = once('kubemend_webhook_requests_total', () => new Counter({
  name: 'kubemend_webhook_requests_total',
  help: 'Inbound webhook requests, by route (alertmanager or the webhook name) and HTTP status code.',
  labelNames: ['route', 'code'] as const,
}));

export const kubeAuditEventsTotal = once('kubemend_kube_audit_events_total', () => new Counter({
  name: 'kubemend_kube_audit_events_total',
  help: 'Events from the Kubernetes audit webhook: kept (a completed, successful write of an object) or ignored.',
  labelNames: ['result'] as const,
}));

export const refusalAuditsSuppressedTotal = once('kubemend_refusal_audits_suppressed_total', () => new Counter({
  name: 'kubemend_refusal_audits_suppressed_total',
  help: 'Refused requests not written to the audit log one by one because of its rate limit (the next record says how many), by action and reason.',
  labelNames: ['action', 'reason'] as const,
}));

export const celCostExceededTotal = once('kubemend_cel_cost_exceeded_total', () => new Counter({
  name: 'kubemend_cel_cost_exceeded_total',
  help: 'CEL evaluations abandoned over the run-time cost limit (a rule then does not match, a template fails its step), by kind (rule, template) and name (the rule, or the template path).',
  labelNames: ['kind', 'name'] as const,
}));

export const celSlowEvaluationsTotal = once('kubemend_cel_slow_evaluations_total', () => new Counter({
  name: 'kubemend_cel_slow_evaluations_total',
  help: 'CEL evaluations that took more than 100 ms of real time (work the cost meter does not see, such as regexes over long strings, or a busy host), by kind (rule, template) and name.',
  labelNames: ['kind', 'name'] as const,
}));

export const notifyDeliveriesTotal = once('kubemend_notify_deliveries_total', () => new Counter({
  name: 'kubemend_notify_deliveries_total',
  help: 'Notification delivery attempts by receiver and outcome: delivered, failed (retried later) or dead (given up, audited as notify.delivery.dead).',
  labelNames: ['receiver', 'outcome'] as const,
}));

export const notifyQueuePending = once('kubemend_notify_queue_pending', () => new Gauge({
  name: 'kubemend_notify_queue_pending',
  help: 'Notification deliveries queued in the outbox and not yet taken by their receiver.',
}));

export const notifyOldestPendingSeconds = once('kubemend_notify_oldest_pending_seconds', () => new Gauge({
  name: 'kubemend_notify_oldest_pending_seconds',
  help: 'Age of the oldest queued notification delivery (0 when none waits): a receiver that keeps failing shows here first.',
}));

export const notifyDeadLetters = once('kubemend_notify_dead_letters', () => new Gauge({
  name: 'kubemend_notify_dead_letters',
  help: 'Notification deliveries given up and kept in the outbox with status dead.',
}));

export interface InformerSize {
  cluster: string;
  kind: string;
  objects: number;
}

const informerProviders = new Set<() => InformerSize[]>();

/** Registers a reader of cache sizes for the gauge; call the returned function to unregister. */
export function provideInformerSizes(provider: () => InformerSize[]): () => void {
  informerProviders.add(provider);
  return () => informerProviders.delete(provider);
}

/** Process metrics (CPU, memory, event loop) once per process. */
export function collectProcessMetrics(): void {
  if (!register.getSingleMetric('process_cpu_user_seconds_total')) collectDefaultMetrics();
}

export { register as metricsRegistry };
