// The Deployment strategies (rolling.go, recreate.go) and scaling of a
// Deployment mid-rollout (sync.go's scale), step by step as upstream.
import type { K8sObject } from '../types.ts';
import { byCreation } from './owners.ts';
import type { DeploymentSync } from './deployment-sync.ts';
import {
  DESIRED_REPLICAS, deploymentComplete, filterActive, findActiveOrLatest, isSaturated, maxSurge, maxUnavailable,
  newRSNewReplicas, replicaSetProportion, replicasOf, specSum, statusSum,
} from './deployment-status.ts';

export function rolloutRolling(s: DeploymentSync): void {
  const { newRS, oldRSs } = s.getAllReplicaSetsAndSyncRevision(true);
  if (!newRS) return;
  const allRSs = [...oldRSs, newRS];
  if (reconcileNewReplicaSet(s, allRSs, newRS)) return s.syncRolloutStatus(allRSs, newRS);
  if (reconcileOldReplicaSets(s, allRSs, filterActive(oldRSs), newRS)) return s.syncRolloutStatus(allRSs, newRS);
  if (deploymentComplete(s.d, s.d.status)) s.cleanupDeployment(oldRSs);
  s.syncRolloutStatus(allRSs, newRS);
}

function reconcileNewReplicaSet(s: DeploymentSync, allRSs: K8sObject[], newRS: K8sObject): boolean {
  const want = replicasOf(s.d);
  if (replicasOf(newRS) === want) return false;
  if (replicasOf(newRS) > want) return s.scaleReplicaSetAndRecordEvent(newRS, want);
  return s.scaleReplicaSetAndRecordEvent(newRS, newRSNewReplicas(s.d, allRSs, newRS));
}

/**
 * Scales old ReplicaSets down as far as maxUnavailable allows: first pods
 * that are not available anyway (they cost no availability), then the rest.
 */
function reconcileOldReplicaSets(s: DeploymentSync, allRSs: K8sObject[], oldRSs: K8sObject[], newRS: K8sObject): boolean {
  if (specSum(oldRSs) === 0) return false;
  const minAvailable = replicasOf(s.d) - maxUnavailable(s.d);
  const newUnavailable = replicasOf(newRS) - (newRS.status?.availableReplicas ?? 0);
  const maxScaledDown = specSum(allRSs) - minAvailable - newUnavailable;
  if (maxScaledDown <= 0) return false;
  const cleaned = cleanupUnhealthyReplicas(s, oldRSs, maxScaledDown);
  const scaled = scaleDownOldReplicaSetsForRollingUpdate(s, [...oldRSs, newRS], oldRSs);
  return cleaned + scaled > 0;
}

function cleanupUnhealthyReplicas(s: DeploymentSync, oldRSs: K8sObject[], maxCleanup: number): number {
  let total = 0;
  for (const rs of [...oldRSs].sort(byCreation)) {
    if (total >= maxCleanup) break;
    const available = rs.status?.availableReplicas ?? 0;
    if (replicasOf(rs) === 0 || replicasOf(rs) === available) continue;
    const down = Math.min(maxCleanup - total, replicasOf(rs) - available);
    s.scaleReplicaSetAndRecordEvent(rs, replicasOf(rs) - down);
    total += down;
  }
  return total;
}

function scaleDownOldReplicaSetsForRollingUpdate(s: DeploymentSync, allRSs: K8sObject[], oldRSs: K8sObject[]): number {
  const minAvailable = replicasOf(s.d) - maxUnavailable(s.d);
  const available = statusSum(allRSs, 'availableReplicas');
  if (available <= minAvailable) return 0;
  const budget = available - minAvailable;
  let total = 0;
  for (const rs of [...oldRSs].sort(byCreation)) {
    if (total >= budget) break;
    if (replicasOf(rs) === 0) continue;
    const down = Math.min(replicasOf(rs), budget - total);
    s.scaleReplicaSetAndRecordEvent(rs, replicasOf(rs) - down);
    total += down;
  }
  return total;
}

/** Recreate: every old pod is gone before the new ReplicaSet gets any. */
export function rolloutRecreate(s: DeploymentSync): void {
  let { newRS, oldRSs } = s.getAllReplicaSetsAndSyncRevision(false);
  let allRSs: (K8sObject | undefined)[] = [...oldRSs, newRS];
  let scaledDown = false;
  for (const rs of filterActive(oldRSs)) if (s.scaleReplicaSetAndRecordEvent(rs, 0)) scaledDown = true;
  if (scaledDown) return s.syncRolloutStatus(allRSs, newRS);
  if (s.oldPodsRunning(newRS, oldRSs)) return s.syncRolloutStatus(allRSs, newRS);
  if (!newRS) {
    ({ newRS, oldRSs } = s.getAllReplicaSetsAndSyncRevision(true));
    if (!newRS) return;
    allRSs = [...oldRSs, newRS];
  }
  s.scaleReplicaSetAndRecordEvent(newRS, replicasOf(s.d));
  if (deploymentComplete(s.d, s.d.status)) s.cleanupDeployment(oldRSs);
  s.syncRolloutStatus(allRSs, newRS);
}

/** isScalingEvent: spec.replicas differs from what an active ReplicaSet was sized for. */
export function isScalingEvent(s: DeploymentSync): boolean {
  const { newRS, oldRSs } = s.getAllReplicaSetsAndSyncRevision(false);
  for (const rs of filterActive([...oldRSs, newRS])) {
    const desired = rs.metadata.annotations?.[DESIRED_REPLICAS];
    if (desired === undefined || !/^\d+$/.test(desired)) continue;
    if (Number(desired) !== replicasOf(s.d)) return true;
  }
  return false;
}

/** sync: scaling or paused — resize without rolling, clean up history when paused. */
export function syncScaling(s: DeploymentSync): void {
  const { newRS, oldRSs } = s.getAllReplicaSetsAndSyncRevision(false);
  scale(s, newRS, oldRSs);
  if (s.d.spec?.paused) s.cleanupDeployment(oldRSs);
  s.syncDeploymentStatus([...oldRSs, newRS], newRS);
}

/**
 * Proportional scaling: a resize in the middle of a rollout is spread over
 * the active ReplicaSets by their share of the previous max-replicas, the
 * rounding leftover going to the largest one (as upstream does).
 */
function scale(s: DeploymentSync, newRS: K8sObject | undefined, oldRSs: K8sObject[]): void {
  const d = s.d;
  const only = findActiveOrLatest(newRS, oldRSs);
  if (only) {
    if (replicasOf(only) !== replicasOf(d)) s.scaleReplicaSetAndRecordEvent(only, replicasOf(d));
    return;
  }
  if (isSaturated(d, newRS)) {
    for (const old of filterActive(oldRSs)) s.scaleReplicaSetAndRecordEvent(old, 0);
    return;
  }
  if ((d.spec?.strategy?.type ?? 'RollingUpdate') !== 'RollingUpdate') return;
  const active = filterActive([...oldRSs, newRS]);
  const allowed = replicasOf(d) > 0 ? replicasOf(d) + maxSurge(d) : 0;
  const toAdd = allowed - specSum(active);
  let op = '';
  if (toAdd > 0) {
    active.sort((a, b) => replicasOf(b) - replicasOf(a) || byCreation(b, a));
    op = 'up';
  } else if (toAdd < 0) {
    active.sort((a, b) => replicasOf(b) - replicasOf(a) || byCreation(a, b));
    op = 'down';
  }
  let added = 0;
  const sizes = new Map<K8sObject, number>();
  for (const rs of active) {
    const p = toAdd !== 0 ? replicaSetProportion(rs, d, toAdd, added) : 0;
    sizes.set(rs, replicasOf(rs) + p);
    added += p;
  }
  active.forEach((rs, i) => {
    let size = sizes.get(rs)!;
    if (i === 0 && toAdd !== 0) size = Math.max(0, size + toAdd - added);
    s.scaleReplicaSet(rs, size, op);
  });
}
