// Pure Deployment arithmetic from k8s.io/kubernetes/pkg/controller/deployment/util:
// surge/unavailable fenceposts, replica annotations, conditions and status.
import { k8sTime } from '../../common/index.ts';
import type { K8sObject } from '../types.ts';
import { canonicalJson } from './hash.ts';
import { byCreation, revisionOf, templatesEqualIgnoringHash } from './owners.ts';

export const REVISION = 'deployment.kubernetes.io/revision';
export const REVISION_HISTORY = 'deployment.kubernetes.io/revision-history';
export const DESIRED_REPLICAS = 'deployment.kubernetes.io/desired-replicas';
export const MAX_REPLICAS = 'deployment.kubernetes.io/max-replicas';
/** Longest revision-history annotation the controller writes (maxRevHistoryLengthInChars). */
const MAX_REV_HISTORY_CHARS = 2000;

// Deployment annotations that describe the Deployment itself and are not
// copied onto its ReplicaSets.
const NOT_COPIED = new Set([
  'kubectl.kubernetes.io/last-applied-configuration', REVISION, REVISION_HISTORY, DESIRED_REPLICAS, MAX_REPLICAS,
  'deprecated.deployment.rollback.to',
]);

export interface DeploymentCondition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  lastUpdateTime: string;
  lastTransitionTime: string;
  reason: string;
  message: string;
}

export const replicasOf = (o: K8sObject | undefined): number => o?.spec?.replicas ?? 1;
export const specSum = (rss: (K8sObject | undefined)[]): number => rss.reduce((n, rs) => n + (rs ? replicasOf(rs) : 0), 0);
export const statusSum = (rss: (K8sObject | undefined)[], field: string): number =>
  rss.reduce((n, rs) => n + (rs?.status?.[field] ?? 0), 0);
export const filterActive = (rss: (K8sObject | undefined)[]): K8sObject[] =>
  rss.filter((rs): rs is K8sObject => !!rs && replicasOf(rs) > 0);

/** intstr.GetScaledValueFromIntOrPercent. */
export function scaledValue(v: number | string | undefined, total: number, roundUp: boolean): number {
  if (v === undefined || v === null) return 0;
  if (typeof v === 'number') return v;
  const m = /^(\d+)%$/.exec(v.trim());
  if (!m) return Number.parseInt(v, 10) || 0;
  const exact = (Number(m[1]) * total) / 100;
  return roundUp ? Math.ceil(exact) : Math.floor(exact);
}

const isRolling = (d: K8sObject) => (d.spec?.strategy?.type ?? 'RollingUpdate') === 'RollingUpdate';

/**
 * ResolveFenceposts: surge rounds up, unavailable rounds down; when both
 * come out zero (e.g. 25% of 1), one pod may be unavailable so the rollout
 * can still move.
 */
export function resolveFenceposts(d: K8sObject): { surge: number; unavailable: number } {
  const desired = replicasOf(d);
  const ru = d.spec?.strategy?.rollingUpdate ?? {};
  const surge = scaledValue(ru.maxSurge ?? '25%', desired, true);
  let unavailable = scaledValue(ru.maxUnavailable ?? '25%', desired, false);
  if (surge === 0 && unavailable === 0) unavailable = 1;
  return { surge, unavailable };
}

export function maxSurge(d: K8sObject): number {
  return isRolling(d) ? resolveFenceposts(d).surge : 0;
}

export function maxUnavailable(d: K8sObject): number {
  const desired = replicasOf(d);
  if (!isRolling(d) || desired === 0) return 0;
  return Math.min(resolveFenceposts(d).unavailable, desired);
}

/** FindNewReplicaSet: the oldest ReplicaSet whose template equals the Deployment's. */
export function findNewReplicaSet(d: K8sObject, rsList: K8sObject[]): K8sObject | undefined {
  return [...rsList].sort(byCreation).find((rs) => templatesEqualIgnoringHash(rs.spec?.template, d.spec?.template));
}

/** NewRSNewReplicas: how big the new ReplicaSet may be right now. */
export function newRSNewReplicas(d: K8sObject, allRSs: K8sObject[], newRS: K8sObject): number {
  if (!isRolling(d)) return replicasOf(d);
  const maxTotal = replicasOf(d) + maxSurge(d);
  const current = specSum(allRSs);
  if (current >= maxTotal) return replicasOf(newRS);
  const up = Math.min(maxTotal - current, replicasOf(d) - replicasOf(newRS));
  return replicasOf(newRS) + up;
}

export function replicasAnnotationsNeedUpdate(rs: K8sObject, desired: number, max: number): boolean {
  const a = rs.metadata.annotations ?? {};
  return a[DESIRED_REPLICAS] !== String(desired) || a[MAX_REPLICAS] !== String(max);
}

export function setReplicasAnnotations(rs: K8sObject, desired: number, max: number): boolean {
  if (!replicasAnnotationsNeedUpdate(rs, desired, max)) return false;
  rs.metadata.annotations = { ...(rs.metadata.annotations ?? {}), [DESIRED_REPLICAS]: String(desired), [MAX_REPLICAS]: String(max) };
  return true;
}

/**
 * SetNewReplicaSetAnnotations: copies the Deployment's own annotations and
 * raises the revision. A ReplicaSet that already had a lower revision is
 * being rolled back to, so its old number moves into revision-history.
 */
export function setNewReplicaSetAnnotations(d: K8sObject, rs: K8sObject, newRevision: number, exists: boolean): boolean {
  const ann: Record<string, string> = { ...(rs.metadata.annotations ?? {}) };
  let changed = false;
  for (const [k, v] of Object.entries(d.metadata.annotations ?? {})) {
    if (NOT_COPIED.has(k) || ann[k] === v) continue;
    ann[k] = v;
    changed = true;
  }
  const had = Object.hasOwn(ann, REVISION);
  const oldRevision = ann[REVISION] ?? '';
  const oldNum = oldRevision === '' ? 0 : Number(oldRevision);
  if (!Number.isInteger(oldNum)) return changed;
  if (oldNum < newRevision) {
    ann[REVISION] = String(newRevision);
    changed = true;
    if (had) {
      const history = ann[REVISION_HISTORY] ? ann[REVISION_HISTORY].split(',') : [];
      let total = (ann[REVISION_HISTORY] ?? '').length + oldRevision.length + 1;
      while (total > MAX_REV_HISTORY_CHARS && history.length) total -= history.shift()!.length + 1;
      if (total <= MAX_REV_HISTORY_CHARS) ann[REVISION_HISTORY] = [...history, oldRevision].join(',');
    }
  }
  rs.metadata.annotations = ann;
  if (!exists && setReplicasAnnotations(rs, replicasOf(d), replicasOf(d) + maxSurge(d))) changed = true;
  return changed;
}

export function maxRevision(rss: K8sObject[]): number {
  return rss.reduce((m, rs) => Math.max(m, revisionOf(rs)), 0);
}

export function getCondition(status: any, type: string): DeploymentCondition | undefined {
  return (status?.conditions ?? []).find((c: DeploymentCondition) => c.type === type);
}

export function newCondition(type: string, status: DeploymentCondition['status'], reason: string, message: string, now: number): DeploymentCondition {
  const t = k8sTime(now);
  return { type, status, lastUpdateTime: t, lastTransitionTime: t, reason, message };
}

/** SetDeploymentCondition: same status and reason is a no-op; same status keeps the transition time. */
export function setCondition(status: any, cond: DeploymentCondition): void {
  const cur = getCondition(status, cond.type);
  if (cur && cur.status === cond.status && cur.reason === cond.reason) return;
  if (cur && cur.status === cond.status) cond.lastTransitionTime = cur.lastTransitionTime;
  status.conditions = [...(status.conditions ?? []).filter((c: DeploymentCondition) => c.type !== cond.type), cond];
}

export function removeCondition(status: any, type: string): void {
  const rest = (status.conditions ?? []).filter((c: DeploymentCondition) => c.type !== type);
  if (rest.length) status.conditions = rest;
  else delete status.conditions;
}

/** calculateStatus in sync.go; zero counts are omitted as the API's omitempty does. */
export function calculateStatus(allRSs: (K8sObject | undefined)[], newRS: K8sObject | undefined, d: K8sObject, now: number): any {
  const available = statusSum(allRSs, 'availableReplicas');
  const unavailable = Math.max(0, specSum(allRSs) - available);
  const status: any = {};
  const put = (k: string, v: number | undefined) => {
    if (v) status[k] = v;
  };
  put('observedGeneration', d.metadata.generation);
  put('replicas', statusSum(allRSs, 'replicas'));
  put('updatedReplicas', newRS?.status?.replicas ?? 0);
  put('readyReplicas', statusSum(allRSs, 'readyReplicas'));
  put('availableReplicas', available);
  put('unavailableReplicas', unavailable);
  const conds = d.status?.conditions;
  if (conds?.length) status.conditions = structuredClone(conds);
  if (d.status?.collisionCount !== undefined) status.collisionCount = d.status.collisionCount;
  if (available >= replicasOf(d) - maxUnavailable(d)) {
    setCondition(status, newCondition('Available', 'True', 'MinimumReplicasAvailable', 'Deployment has minimum availability.', now));
  } else {
    setCondition(status, newCondition('Available', 'False', 'MinimumReplicasUnavailable', 'Deployment does not have minimum availability.', now));
  }
  return status;
}

const num = (status: any, k: string): number => status?.[k] ?? 0;

export function deploymentComplete(d: K8sObject, status: any): boolean {
  const want = replicasOf(d);
  return num(status, 'updatedReplicas') === want && num(status, 'replicas') === want &&
    num(status, 'availableReplicas') === want && num(status, 'observedGeneration') >= (d.metadata.generation ?? 0);
}

/** DeploymentProgressing: any new pod updated, old pod gone, or pod ready/available since the last status. */
export function deploymentProgressing(d: K8sObject, next: any): boolean {
  const old = d.status ?? {};
  const oldOld = num(old, 'replicas') - num(old, 'updatedReplicas');
  const newOld = num(next, 'replicas') - num(next, 'updatedReplicas');
  return num(next, 'updatedReplicas') > num(old, 'updatedReplicas') || newOld < oldOld ||
    num(next, 'readyReplicas') > num(old, 'readyReplicas') || num(next, 'availableReplicas') > num(old, 'availableReplicas');
}

export const hasProgressDeadline = (d: K8sObject): boolean => {
  const s = d.spec?.progressDeadlineSeconds;
  return s !== undefined && s !== null && s !== 2147483647;
};

export function deploymentTimedOut(d: K8sObject, status: any, now: number): boolean {
  if (!hasProgressDeadline(d)) return false;
  const c = getCondition(status, 'Progressing');
  if (!c || c.reason === 'NewReplicaSetAvailable') return false;
  if (c.reason === 'ProgressDeadlineExceeded') return true;
  return Date.parse(c.lastUpdateTime) + d.spec.progressDeadlineSeconds * 1000 < now;
}

/** IsSaturated: the new ReplicaSet alone runs the whole desired count. */
export function isSaturated(d: K8sObject, rs: K8sObject | undefined): boolean {
  if (!rs) return false;
  const desired = Number(rs.metadata.annotations?.[DESIRED_REPLICAS]);
  return replicasOf(rs) === replicasOf(d) && desired === replicasOf(d) && (rs.status?.availableReplicas ?? 0) === replicasOf(d);
}

/** Go's math.Round: halves away from zero. */
const roundHalfAway = (x: number) => Math.sign(x) * Math.round(Math.abs(x));

/** GetReplicaSetProportion: this ReplicaSet's share of a scale of the whole Deployment. */
export function replicaSetProportion(rs: K8sObject, d: K8sObject, toAdd: number, added: number): number {
  if (replicasOf(rs) === 0 || toAdd === 0 || toAdd === added) return 0;
  const fraction = replicaSetFraction(rs, d);
  const allowed = toAdd - added;
  return toAdd > 0 ? Math.min(fraction, allowed) : Math.max(fraction, allowed);
}

function replicaSetFraction(rs: K8sObject, d: K8sObject): number {
  if (replicasOf(d) === 0) return -replicasOf(rs);
  const maxReplicas = replicasOf(d) + maxSurge(d);
  let before = Number(rs.metadata.annotations?.[MAX_REPLICAS]);
  if (!Number.isInteger(before) || before === 0) {
    before = d.status?.replicas ?? 0;
    if (before === 0) return 0;
  }
  return roundHalfAway((replicasOf(rs) * maxReplicas) / before) - replicasOf(rs);
}

/** FindActiveOrLatest: the only active ReplicaSet, or the newest when none is active. */
export function findActiveOrLatest(newRS: K8sObject | undefined, oldRSs: K8sObject[]): K8sObject | undefined {
  if (!newRS && oldRSs.length === 0) return undefined;
  const newestFirst = [...oldRSs].sort((a, b) => byCreation(b, a));
  const active = filterActive([...newestFirst, newRS]);
  if (active.length === 0) return newRS ?? newestFirst[0];
  return active.length === 1 ? active[0] : undefined;
}

export function statusEqual(a: any, b: any): boolean {
  return canonicalJson(a ?? {}) === canonicalJson(b ?? {});
}
