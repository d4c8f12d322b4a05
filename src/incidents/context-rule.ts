// The kinds the incident tracker reads, asked for through the rules. The
// pipeline's informers are chosen from its rules, so the kinds the change
// feed and the guardrails read (ConfigMaps, ResourceQuotas,
// PodDisruptionBudgets …) are requested through one rule that matches them
// and never fires: one list+watch per kind at start-up, nothing per change.
import { kindsToWatch, type LoadedRule, RuleEnvironment, RuleSchema } from '../rules/index.ts';
import { FEED_KINDS } from './change-feed.ts';

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
