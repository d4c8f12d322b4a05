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

const CHANGE_CAUSE = 'metadata.annotations["kubernetes.io/change-cause"]';
const POD_TEMPLATE = ['spec.template.spec.containers[].name', 'spec.template.spec.containers[].resources.limits.memory', 'spec.template.spec.containers[].resources.requests.memory', 'spec.template.metadata.labels', 'spec.selector.matchLabels', 'spec.replicas', 'spec.scaleTargetRef'];
const STATUS = ['name', 'restartCount', 'state.terminated.reason', 'lastState.terminated.reason'];

/**
 * What the tracker reads of each kind from signals and the caches (the
 * informers keep these when incidents are on; kube/projection.ts): the
 * change feed diffs a workload's, an HPA's and a guardrail's whole spec and
 * a ConfigMap's keys, the observations read pods' placements and container
 * states and nodes' conditions, the guardrails read pod templates,
 * LimitRanges and PDB selectors. A read added there without its path here
 * reads a field the cache may not have.
 */
export const INCIDENT_FIELDS: Readonly<Record<string, readonly string[]>> = {
  Deployment: ['spec', CHANGE_CAUSE],
  StatefulSet: ['spec', CHANGE_CAUSE],
  DaemonSet: ['spec', CHANGE_CAUSE],
  HorizontalPodAutoscaler: ['spec', CHANGE_CAUSE],
  LimitRange: ['spec', CHANGE_CAUSE],
  ResourceQuota: ['spec', CHANGE_CAUSE],
  PodDisruptionBudget: ['spec', CHANGE_CAUSE],
  ConfigMap: ['data', 'binaryData', CHANGE_CAUSE],
  Node: ['spec.unschedulable', 'spec.taints', 'status.conditions[].type', 'status.conditions[].status', 'status.conditions[].reason', 'status.conditions[].message', CHANGE_CAUSE],
  ReplicaSet: POD_TEMPLATE,
  Job: POD_TEMPLATE,
  CronJob: POD_TEMPLATE,
  Pod: [
    'spec.nodeName', 'spec.containers[].name', 'spec.containers[].resources.limits.memory', 'spec.containers[].resources.requests.memory',
    ...STATUS.map((f) => `status.containerStatuses[].${f}`),
  ],
  Event: ['involvedObject', 'reason', 'type', 'count', 'message'],
};

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
