// Incidents: detections correlated into incidents, the change feed, the
// signals no rule caught, guardrail checks, timelines and post-mortem drafts.
export type * from './types.ts';
export { ChangeFeed, FEED_KINDS, type ChangeFeedOptions } from './change-feed.ts';
export { ObservationLog, workloadOf, isMonitoringPod, MONITORING_NAMES, EVICTION_REASONS, type ObservationLogOptions } from './observations.ts';
export { PlacementTable, type PodPlacements, type PlacementQuery } from './placements.ts';
export { PlacementIndex, touchOf, unionTouch, relation, scopeOf, keys, type Touch, type Scope } from './correlate.ts';
export { checkGuardrails, type GuardrailInput, type GuardrailResult } from './guardrails.ts';
export { IncidentTracker, type IncidentTrackerOptions } from './tracker.ts';
export { incidentId } from './tracker-parts.ts';
export { contextRule, INCIDENT_KINDS, INCIDENT_FIELDS, CONTEXT_RULE } from './context-rule.ts';
export { gatherIncident, buildTimeline, attribute, clock, type IncidentContext, type TimelineEntry, type TimelineSource } from './timeline.ts';
export { findUncaught, type UncaughtSignal } from './uncaught.ts';
export { draftPostmortem, type PostmortemModel, type RunSummary } from './postmortem.ts';
export { renderMarkdown } from './markdown.ts';
export { primaryOf } from './primary.ts';
export { authorOf, authorText, changeAuthorText, expectedManagers, DEFAULT_EXPECTED_MANAGERS, KUBERNETES_MANAGERS, KUBEMEND_MANAGER } from './authors.ts';
export { KubeAuditTrail, checkEventList, type KubeAuditEntry, type KubeAuditTrailOptions, type AuditQuery } from './kube-audit.ts';
export { changedObjects, rootCause, userImpact, runEffects, findLessons, type RootCause, type RunEffect, type Lesson } from './lessons.ts';
export { applyAction, mergePeople, findIncident, markPostmortem, isClosed, closedByPerson, isOccurrence, NOTE_MAX_CHARS, NOTES_MAX, RESOLVED_QUIET, RESOLVED_MERGED, type IncidentChange, type PersonAction, type ActionEffect } from './lifecycle.ts';
