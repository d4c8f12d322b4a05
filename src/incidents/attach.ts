// Attaching an IncidentTracker to a running detection + remediation session,
// and the extra kinds it wants watched. The session's informers are chosen
// from its rules, so the kinds the change feed and the guardrails read
// (ConfigMaps, ResourceQuotas, PodDisruptionBudgets …) are asked for through
// one rule that matches them and never fires: one list+watch per kind at
// start-up, nothing per change.
import { kindsToWatch } from '../rules/kinds-needed.ts';
import type { LoadedRule } from '../rules/loader.ts';
import { RuleEnvironment } from '../rules/cel.ts';
import { RuleSchema } from '../rules/schema.ts';
import type { SandboxSession } from '../rules/session.ts';
import type { RemediationSession } from '../runbooks/session.ts';
import type { Store } from '../store/types.ts';
import { FEED_KINDS } from './change-feed.ts';
import { IncidentTracker, type IncidentTrackerOptions } from './tracker.ts';
import type { CacheLookup } from './types.ts';

/** Kinds the incident tracker reads: the change feed's, pods and events for placements and signals, PDBs for guardrails. */
export const INCIDENT_KINDS: readonly string[] = [...FEED_KINDS, 'Pod', 'Namespace', 'Event'];

export const CONTEXT_RULE = 'incident-context';

/** A rule that makes the informers watch what `rules` do not already, for the tracker; it never fires. Empty when nothing is missing. */
export function contextRule(rules: LoadedRule[]): LoadedRule[] {
  const have = new Set(kindsToWatch(rules));
  const missing = INCIDENT_KINDS.filter((k) => !have.has(k));
  if (!missing.length) return [];
  const rule = RuleSchema.parse({
    apiVersion: 'kubemend.dev/v1alpha1',
    kind: 'Rule',
    metadata: { name: CONTEXT_RULE, description: 'Kinds the incident tracker reads (change feed, guardrails); never fires.', labels: { category: 'internal' } },
    spec: { source: 'object', match: { kinds: missing }, when: 'false', severity: 'info' },
  });
  return [Object.freeze({ file: '<incidents>', line: 0, rule, compiled: new RuleEnvironment().compileRule(rule) })];
}

/** The session's informer caches as the tracker reads them (undefined for a kind not watched). */
export function sessionLookup(session: SandboxSession): CacheLookup {
  return (cluster, kind, namespace) => (cluster === session.source.cluster && session.source.informer(kind) ? session.source.list(kind, namespace) : undefined);
}

/**
 * Creates a tracker fed by the session: every signal before the engine sees
 * it (so a detection fired by a signal finds that signal's pod placement
 * already known) and every detection change after remediation has seen it.
 * Pods the informers listed before this call are replayed to its placements first.
 */
export function attachIncidents(rs: RemediationSession, o: { store: Store } & Partial<IncidentTrackerOptions>): IncidentTracker {
  const session = rs.session;
  const tracker = new IncidentTracker({ clock: session.clock, lookup: sessionLookup(session), ...o });
  // Pods already listed are where the placements start; they are not changes
  // (the change feed begins with what happens while kubemend watches).
  const now = session.clock.now();
  for (const object of session.source.list('Pod')) tracker.observations.observe({ source: 'object', cluster: session.source.cluster, time: now, operation: 'create', object });
  session.signalObservers.push((signal) => tracker.observe(signal));
  rs.detectionListeners.push((d, change) => tracker.onDetection(d, change));
  return tracker;
}
