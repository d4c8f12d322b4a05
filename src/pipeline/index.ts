// The data path, assembled once: sources → engine → sinks. Every command
// builds its pipeline here (see ARCHITECTURE.md).
export { Pipeline } from './pipeline.ts';
export type { PipelineOptions, ClusterConn } from './options.ts';
export type { Sink } from './sink.ts';
export { subjectText } from './sink.ts';
export { DetectionRecorder, type RecorderOptions } from './recorder.ts';
export { RemediationSink } from './remediation-sink.ts';
export { IncidentSink, type IncidentSinkOptions } from './incidents-sink.ts';
export { buildRemediation, viewsOf, SERVICE_IDENTITY, type Remediation, type RemediationSettings } from './remediation.ts';
export { LinePrinter, progressLine, watchLine, printRuns } from './printer.ts';
export { SilenceSync, createSilence, expireSilence, type SilenceSyncOptions } from './silences.ts';
export { ScenarioSession, SANDBOX_CLUSTER, type ScenarioSessionOptions } from './scenario-session.ts';
export { playRules, type PlaybackOptions, type PlaybackResult } from './playback.ts';
export { replayIncidents, type ReplayOptions, type ReplayResult } from './replay.ts';
export { Reloader, fingerprint, type Watched } from './reload.ts';
export { serviceAccess, watchedKinds, IMPERSONATE_ACCESS } from './access.ts';
export { Leadership, type LeaderElectionOptions, type LeaderInfo } from './leadership.ts';
export { incidentDesk } from './incident-desk.ts';
export { cacheFields, type CacheReaders } from './cache-fields.ts';
