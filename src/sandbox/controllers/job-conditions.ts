// The Job's status conditions: the interim FailureTarget and
// SuccessCriteriaMet ones, the terminal Failed and Complete, and Suspended.
import type { K8sObject } from '../types.ts';

export interface Cond { type: string; reason: string; message: string }

export const trueCondition = (job: K8sObject, type: string) =>
  (job.status?.conditions ?? []).find((c: any) => c.type === type && c.status === 'True');

export function isJobFinished(job: K8sObject): boolean {
  return !!(trueCondition(job, 'Complete') || trueCondition(job, 'Failed'));
}

export function newCondition(c: Cond, nowIso: string): any {
  return { type: c.type, status: 'True', lastProbeTime: nowIso, lastTransitionTime: nowIso, reason: c.reason, message: c.message };
}

/** ensureJobConditionStatus: never adds a False condition, rewrites one whose status/reason/message changed. */
export function ensureCondition(list: any[], c: Cond, statusValue: 'True' | 'False', nowIso: string): boolean {
  const existing = list.find((x) => x.type === c.type);
  const next = { ...newCondition(c, nowIso), status: statusValue };
  if (existing) {
    if (existing.status === statusValue && existing.reason === c.reason && existing.message === c.message) return false;
    Object.assign(existing, next);
    return true;
  }
  if (statusValue === 'False') return false;
  list.push(next);
  return true;
}
