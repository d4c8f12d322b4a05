// Detection: rules in CEL, their loader and index, the engine and its stages
// (hold, dedup, silences, grouping, rate limits) and the signal sources
// (Kubernetes informers, schedules, Alertmanager and generic webhooks).
export type { Signal, SignalSource, AlertPayload, Subject, Detection, DetectionStatus, Evidence, Silence, SmokeReport, SmokePhase, RolloutChange, Regression } from './types.ts';
export { DetectionEngine, type DetectionChange, type EngineHooks } from './engine.ts';
export { loadRules, type LoadedRule } from './loader.ts';
export { RuleSchema } from './schema.ts';
export { RuleEnvironment, DYN_HINT, SLOW_EVALUATION_MS } from './cel.ts';
export { DEFAULT_COST_LIMITS, costLimits, overBudget, pathSize, type CostLimits } from './cel-cost.ts';
export { CelCostError, Metering } from './cel-meter.ts';
export * as celHelpers from './cel-helpers.ts';
export { kindsToWatch } from './kinds-needed.ts';
export { diffObjects, type Change } from './diff.ts';
export { Silences, formatMatcher, silenceState } from './stages/index.ts';
export { KubeSource } from './sources/kube-source.ts';
export { ScheduleSource, type ScheduleSignal } from './sources/schedule.ts';
export { WebhookSource } from './sources/webhook-source.ts';
export { RolloutWatcher, DEFAULT_SMOKE_WINDOW_MS, type RolloutWatcherOptions } from './sources/rollouts.ts';
export { SMOKE_WINDOW_ANNOTATION, ROLLOUT_KINDS, ROLLOUT_WORKLOADS, lastWriter, parseWindow } from './sources/rollout-state.ts';
export { describeProblems, parseAlertmanagerPayload, parseAlertmanagerPayloadInChunks, type AlertmanagerPayload, type AlertmanagerAlert } from './sources/alertmanager.ts';
export type { Notification } from './engine.ts';
export type { SilenceInput } from './stages/silence.ts';
export { productionByLabels, memoryLimited } from './cel-helpers.ts';
export { KindFields, ENGINE_FIELDS, addFieldTable, expressionFields, ruleFields, rulesFields, type ExpressionFields } from './field-paths.ts';
export { ROLLOUT_FIELDS } from './sources/rollout-state.ts';
