// A detection's identity. Repeats of the same failure must land on the same
// fingerprint whatever order the subject's keys were produced in (CEL maps,
// JSON from webhooks), and the same workload in two clusters must not collide.
import { createHash } from 'node:crypto';
import type { Subject } from '../types.ts';

/** Hex characters kept: 64 bits, ample for the open detections of one installation. */
const FINGERPRINT_LENGTH = 16;

/**
 * Stable short hex id of (rule, subject, extra). The subject's `uid` is left
 * out on purpose: a Deployment or Pod recreated under the same name is the same
 * failure to an operator, and a subject expression that only sometimes yields
 * a uid would otherwise split one failure into two detections.
 */
export function fingerprint(rule: string, subject: Subject, extra: Record<string, string> = {}): string {
  const canonical = JSON.stringify([
    rule,
    [subject.cluster, subject.kind, subject.namespace ?? '', subject.name],
    sortedEntries(extra),
  ]);
  return createHash('sha256').update(canonical).digest('hex').slice(0, FINGERPRINT_LENGTH);
}

/** The parts of a Rule that labels are made from (name, labels, severity). */
export interface RuleLabelSource {
  name: string;
  labels?: Record<string, string>;
  severity: string;
}

/** Label names a rule's own labels cannot override: they identify the detection. */
export const IDENTITY_LABELS = ['rule', 'cluster', 'namespace', 'kind', 'name', 'severity'] as const;

/**
 * The labels silences match and groups are keyed on: the rule's own labels
 * plus rule, cluster, namespace, kind, name and severity. The identity labels
 * win over a rule label of the same name, so a rule cannot make its detections
 * escape a `namespace=…` silence. A cluster-scoped subject has no namespace
 * label (matchers treat a missing label as the empty string, as Alertmanager does).
 */
export function detectionLabels(rule: RuleLabelSource, subject: Subject): Record<string, string> {
  const labels: Record<string, string> = { ...rule.labels };
  labels.rule = rule.name;
  labels.cluster = subject.cluster;
  if (subject.namespace) labels.namespace = subject.namespace;
  else delete labels.namespace;
  labels.kind = subject.kind;
  labels.name = subject.name;
  labels.severity = rule.severity;
  return labels;
}

function sortedEntries(rec: Record<string, string>): [string, string][] {
  return Object.entries(rec).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}
