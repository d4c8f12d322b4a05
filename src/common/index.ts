// The bottom floor: what every other folder may use — errors and their codes,
// the injected clock, config loading, quantities, schemas, the SQL surface,
// the data directory, constant-time secret comparison and the process's
// redactor. It imports nothing from src/.
export { realClock, formatDuration, parseDuration, k8sTime, ScaledClock, k8sMicroTime, ManualClock } from './clock.ts';
export type { Clock, TimerHandle } from './clock.ts';
export { TimerHeap } from './timer-heap.ts';
export { Errors, KubemendError } from './errors.ts';
export { dialectSql, num, valuesList, optStr, toPgPlaceholders, Mutex } from './sql.ts';
export type { SqlDb, SqlExec, SqlValue, Row, DialectSql, TransactionOptions } from './sql.ts';
export { ConfigError, parseConfig, loadConfigFile, formatProblem, configFiles, parseConfigFiles, formatPath } from './config.ts';
export type { ConfigProblem } from './config.ts';
export { sameSecret, signatureMatches, logSafeUrl } from './secrets.ts';
export { RefusalRecorder } from './refusals.ts';
export type { Refusal, RefusalAudit, RefusalRecord, RefusalRecorderOptions } from './refusals.ts';
export { Duration } from './schema.ts';
export { parseQuantity, formatBytes, formatCpu, tryQuantity } from './quantity.ts';
export { dataDir } from './paths.ts';
export { auditAppendSeconds, auditCommitRecords, sqliteCheckpointsTotal, auditWitnessFailuresTotal, chatCommandsTotal, leaderStatus, leaderTransitionsTotal, kubeRequestsTotal, relistsTotal, watchRestartsTotal, provideInformerSizes, detectionRecordFailuresTotal, configReloadsTotal, detectionsTotal, signalsTotal, suppressedTotal, escalationsTotal, runsTotal, stepDurationSeconds, collectProcessMetrics, metricsRegistry, webhookRequestsTotal, kubeAuditEventsTotal, refusalAuditsSuppressedTotal, celCostExceededTotal, celSlowEvaluationsTotal, notifyDeliveriesTotal, notifyQueuePending, notifyOldestPendingSeconds, notifyDeadLetters } from './metrics.ts';
export { watchToDetectionSeconds, detectionToRunSeconds, runToFirstRequestSeconds, detectionToFirstRequestSeconds } from './metrics.ts';
export { latencyNow, markEmitted, emittedAt, observeSince, onLatency } from './latency.ts';
export type { LatencyListener } from './latency.ts';
export { traceRecordsShippedTotal, traceRecordsRejectedTotal, traceRequestFailuresTotal, traceLagRecords, traceLastSuccessSeconds } from './metrics.ts';
export { withCode, actionErrorInfo } from './errors.ts';
export type { ErrorInfo, ActionReason } from './errors.ts';
export { formatClock } from './clock.ts';
export { deepFreeze } from './config.ts';
export { Redactor, redactor, redact, redactDeep, REDACTED } from './redact.ts';
export { SECRET_KEY } from './secret-patterns.ts';
export { retryAfterMs } from './retry-after.ts';
export { consoleLinks, type ConsoleLinks } from './console-links.ts';
