// One pass of the Deployment controller over one Deployment: finding or
// creating the new ReplicaSet, scaling ReplicaSets with events, status and
// conditions, and history cleanup (sync.go and progress.go upstream).
import { ApiError } from '../status.ts';
import type { K8sObject } from '../types.ts';
import type { ControllerContext } from './controller.ts';
import { podTemplateHash } from './hash.ts';
import { byCreation, controllerRef, newControllerRef, POD_TEMPLATE_HASH, revisionOf } from './owners.ts';
import { cloneObject } from '../clone.ts';
import {
  REVISION, calculateStatus, deploymentComplete, deploymentProgressing, deploymentTimedOut, findNewReplicaSet,
  getCondition, hasProgressDeadline, maxRevision, maxSurge, newCondition, newRSNewReplicas, removeCondition, replicasAnnotationsNeedUpdate,
  replicasOf, setCondition, setNewReplicaSetAnnotations, setReplicasAnnotations, statusEqual,
} from './deployment-status.ts';

const SOURCE = { component: 'deployment-controller' };

export interface SyncResult {
  /** Re-check after this many ms (progress deadline). */
  requeueAfter?: number;
  /** The pass failed and should be retried with back-off. */
  error?: unknown;
}

export class DeploymentSync {
  readonly ctx: ControllerContext;
  /** Working copy: status and annotations edited here are written by writeStatus(). */
  d: K8sObject;
  rsList: K8sObject[];
  /** Pods controlled by any of rsList, terminating ones included. */
  readonly pods: K8sObject[];
  readonly result: SyncResult = {};

  constructor(ctx: ControllerContext, d: K8sObject, rsList: K8sObject[], pods: K8sObject[]) {
    this.ctx = ctx;
    this.d = d;
    this.rsList = rsList;
    this.pods = pods;
  }

  now(): number {
    return this.ctx.clock.now();
  }

  /** UpdateStatus: the status subresource also carries the Deployment's annotations. */
  writeStatus(): void {
    const { namespace, name } = this.d.metadata;
    const status = this.d.status;
    const annotations = this.d.metadata.annotations;
    const written = this.ctx.store.mutate('apps/deployments', namespace, name!, (o) => {
      o.status = status;
      if (annotations) o.metadata.annotations = annotations;
    }, { subresource: 'status' });
    if (written) this.d = written;
  }

  getAllReplicaSetsAndSyncRevision(create: boolean): { newRS?: K8sObject; oldRSs: K8sObject[] } {
    const found = findNewReplicaSet(this.d, this.rsList);
    const oldRSs = this.rsList.filter((rs) => rs.metadata.uid !== found?.metadata.uid);
    const newRS = this.getNewReplicaSet(oldRSs, create);
    return { newRS, oldRSs };
  }

  private getNewReplicaSet(oldRSs: K8sObject[], create: boolean): K8sObject | undefined {
    const d = this.d;
    const existing = findNewReplicaSet(d, this.rsList);
    const newRevision = maxRevision(oldRSs) + 1;
    if (existing) {
      const copy = cloneObject(existing);
      const annotationsUpdated = setNewReplicaSetAnnotations(d, copy, newRevision, true);
      const minReady = d.spec?.minReadySeconds ?? 0;
      if (annotationsUpdated || (copy.spec?.minReadySeconds ?? 0) !== minReady) {
        return this.updateRS(existing, (o) => {
          o.metadata.annotations = copy.metadata.annotations;
          if (minReady) o.spec.minReadySeconds = minReady;
          else delete o.spec.minReadySeconds;
        });
      }
      let needsUpdate = this.setRevision(copy.metadata.annotations?.[REVISION]);
      if (hasProgressDeadline(d) && !getCondition(d.status, 'Progressing')) {
        d.status ??= {};
        setCondition(d.status, newCondition('Progressing', 'True', 'FoundNewReplicaSet', `Found new replica set "${copy.metadata.name}"`, this.now()));
        needsUpdate = true;
      }
      if (needsUpdate) this.writeStatus();
      return existing;
    }
    if (!create) return undefined;

    const collisionCount: number | undefined = d.status?.collisionCount;
    const template = cloneObject(d.spec.template);
    const hash = podTemplateHash(d.spec.template, collisionCount);
    template.metadata = { ...(template.metadata ?? {}), labels: { ...(template.metadata?.labels ?? {}), [POD_TEMPLATE_HASH]: hash } };
    const selector = cloneObject(d.spec.selector);
    selector.matchLabels = { ...(selector.matchLabels ?? {}), [POD_TEMPLATE_HASH]: hash };
    const minReady = d.spec.minReadySeconds ?? 0;
    const rs: K8sObject = {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: {
        name: `${d.metadata.name}-${hash}`,
        namespace: d.metadata.namespace,
        labels: { ...template.metadata.labels },
        ownerReferences: [newControllerRef(d)],
      },
      spec: { replicas: 0, ...(minReady ? { minReadySeconds: minReady } : {}), selector, template },
    };
    const count = newRSNewReplicas(d, [...oldRSs, rs], rs);
    rs.spec.replicas = count;
    setNewReplicaSetAnnotations(d, rs, newRevision, false);

    let created: K8sObject;
    let alreadyExists = false;
    try {
      created = this.ctx.store.create('apps/replicasets', rs);
    } catch (err) {
      if (err instanceof ApiError && err.reason === 'AlreadyExists') {
        const other = this.ctx.store.get('apps/replicasets', d.metadata.namespace, rs.metadata.name!);
        if (other && controllerRef(other)?.uid === d.metadata.uid && findNewReplicaSet(d, [other])) {
          created = other;
          alreadyExists = true;
        } else {
          // A hash collision: the next attempt hashes with a higher count.
          d.status = { ...(d.status ?? {}), collisionCount: (collisionCount ?? 0) + 1 };
          this.writeStatus();
          this.result.error = err;
          return undefined;
        }
      } else {
        const msg = `Failed to create new replica set "${rs.metadata.name}": ${err instanceof Error ? err.message : String(err)}`;
        if (hasProgressDeadline(d)) {
          d.status ??= {};
          setCondition(d.status, newCondition('Progressing', 'False', 'ReplicaSetCreateError', msg, this.now()));
          this.writeStatus();
        }
        this.ctx.events.emit(this.d, 'Warning', 'ReplicaSetCreateError', msg, SOURCE);
        this.result.error = err;
        return undefined;
      }
    }
    this.rsList.push(created);
    if (!alreadyExists && count > 0) {
      this.ctx.events.emit(this.d, 'Normal', 'ScalingReplicaSet', `Scaled up replica set ${created.metadata.name} from 0 to ${count}`, SOURCE);
    }
    let needsUpdate = this.setRevision(String(newRevision));
    if (!alreadyExists && hasProgressDeadline(d)) {
      d.status ??= {};
      setCondition(d.status, newCondition('Progressing', 'True', 'NewReplicaSetCreated', `Created new replica set "${created.metadata.name}"`, this.now()));
      needsUpdate = true;
    }
    if (needsUpdate) this.writeStatus();
    return created;
  }

  private setRevision(revision: string | undefined): boolean {
    if (revision === undefined || this.d.metadata.annotations?.[REVISION] === revision) return false;
    this.d.metadata.annotations = { ...(this.d.metadata.annotations ?? {}), [REVISION]: revision };
    return true;
  }

  /** Writes a ReplicaSet and refreshes the shared object so later steps see the new size. */
  private updateRS(rs: K8sObject, edit: (o: K8sObject) => void): K8sObject {
    const updated = this.ctx.store.mutate('apps/replicasets', rs.metadata.namespace, rs.metadata.name!, edit);
    if (!updated) return rs;
    rs.metadata = updated.metadata;
    rs.spec = updated.spec;
    rs.status = updated.status;
    return rs;
  }

  scaleReplicaSetAndRecordEvent(rs: K8sObject, newScale: number): boolean {
    if (replicasOf(rs) === newScale) return false;
    return this.scaleReplicaSet(rs, newScale, replicasOf(rs) < newScale ? 'up' : 'down');
  }

  scaleReplicaSet(rs: K8sObject, newScale: number, op: string): boolean {
    const desired = replicasOf(this.d);
    const max = desired + maxSurge(this.d);
    const sizeChanges = replicasOf(rs) !== newScale;
    if (!sizeChanges && !replicasAnnotationsNeedUpdate(rs, desired, max)) return false;
    const oldScale = replicasOf(rs);
    this.updateRS(rs, (o) => {
      o.spec.replicas = newScale;
      setReplicasAnnotations(o, desired, max);
    });
    if (!sizeChanges) return false;
    this.ctx.events.emit(this.d, 'Normal', 'ScalingReplicaSet', `Scaled ${op} replica set ${rs.metadata.name} from ${oldScale} to ${newScale}`, SOURCE);
    return true;
  }

  /** cleanupDeployment: deletes the oldest empty ReplicaSets beyond revisionHistoryLimit. */
  cleanupDeployment(oldRSs: K8sObject[]): void {
    const limit = this.d.spec?.revisionHistoryLimit;
    if (limit === undefined || limit === null) return;
    const alive = oldRSs.filter((rs) => !rs.metadata.deletionTimestamp);
    const diff = alive.length - limit;
    if (diff <= 0) return;
    alive.sort((a, b) => revisionOf(a) - revisionOf(b) || byCreation(a, b));
    for (const rs of alive.slice(0, diff)) {
      if ((rs.status?.replicas ?? 0) !== 0 || replicasOf(rs) !== 0) continue;
      if ((rs.metadata.generation ?? 0) > (rs.status?.observedGeneration ?? 0)) continue;
      try {
        this.ctx.store.delete('apps/replicasets', rs.metadata.namespace, rs.metadata.name!);
        this.rsList = this.rsList.filter((x) => x.metadata.uid !== rs.metadata.uid);
      } catch (err) {
        if (!(err instanceof ApiError && err.code === 404)) throw err;
      }
    }
  }

  /** A Progressing=Unknown condition records pausing and resuming. */
  checkPausedConditions(): void {
    const d = this.d;
    if (!hasProgressDeadline(d)) return;
    const cond = getCondition(d.status, 'Progressing');
    if (cond?.reason === 'ProgressDeadlineExceeded') return;
    const pausedCond = cond?.reason === 'DeploymentPaused';
    d.status ??= {};
    if (d.spec?.paused && !pausedCond) {
      setCondition(d.status, newCondition('Progressing', 'Unknown', 'DeploymentPaused', 'Deployment is paused', this.now()));
    } else if (!d.spec?.paused && pausedCond) {
      setCondition(d.status, newCondition('Progressing', 'Unknown', 'DeploymentResumed', 'Deployment is resumed', this.now()));
    } else return;
    this.writeStatus();
  }

  syncDeploymentStatus(allRSs: (K8sObject | undefined)[], newRS: K8sObject | undefined): void {
    const status = calculateStatus(allRSs, newRS, this.d, this.now());
    if (statusEqual(status, this.d.status)) return;
    this.d.status = status;
    this.writeStatus();
  }

  /** syncRolloutStatus: status plus the Progressing condition that `kubectl rollout status` reads. */
  syncRolloutStatus(allRSs: (K8sObject | undefined)[], newRS: K8sObject | undefined): void {
    const d = this.d;
    const now = this.now();
    const status = calculateStatus(allRSs, newRS, d, now);
    if (!hasProgressDeadline(d)) removeCondition(status, 'Progressing');
    const current = getCondition(d.status, 'Progressing');
    const complete = (status.replicas ?? 0) === (status.updatedReplicas ?? 0) && current?.reason === 'NewReplicaSetAvailable';
    if (hasProgressDeadline(d) && !complete) {
      const rsName = newRS?.metadata.name;
      if (deploymentComplete(d, status)) {
        const msg = rsName ? `ReplicaSet "${rsName}" has successfully progressed.` : `Deployment "${d.metadata.name}" has successfully progressed.`;
        setCondition(status, newCondition('Progressing', 'True', 'NewReplicaSetAvailable', msg, now));
      } else if (deploymentProgressing(d, status)) {
        const msg = rsName ? `ReplicaSet "${rsName}" is progressing.` : `Deployment "${d.metadata.name}" is progressing.`;
        const cond = newCondition('Progressing', 'True', 'ReplicaSetUpdated', msg, now);
        // Progress refreshes lastUpdateTime even when the reason is unchanged.
        if (current) {
          if (current.status === 'True') cond.lastTransitionTime = current.lastTransitionTime;
          removeCondition(status, 'Progressing');
        }
        setCondition(status, cond);
      } else if (deploymentTimedOut(d, status, now)) {
        const msg = rsName ? `ReplicaSet "${rsName}" has timed out progressing.` : `Deployment "${d.metadata.name}" has timed out progressing.`;
        setCondition(status, newCondition('Progressing', 'False', 'ProgressDeadlineExceeded', msg, now));
      }
    }
    const failure = replicaFailure(allRSs, newRS);
    if (failure) setCondition(status, failure);
    else removeCondition(status, 'ReplicaFailure');

    if (statusEqual(status, d.status)) {
      this.requeueStuckDeployment(status);
      return;
    }
    d.status = status;
    this.writeStatus();
  }

  private requeueStuckDeployment(status: any): void {
    const d = this.d;
    const cond = getCondition(d.status, 'Progressing');
    if (!hasProgressDeadline(d) || !cond) return;
    if (deploymentComplete(d, status) || cond.reason === 'ProgressDeadlineExceeded') return;
    const after = Date.parse(cond.lastUpdateTime) + d.spec.progressDeadlineSeconds * 1000 - this.now();
    // A second past the deadline, so the check sees it strictly exceeded.
    this.result.requeueAfter = Math.max(0, after) + 1000;
  }

  /** Whether an old ReplicaSet still has pods that are not finished (Recreate waits for them). */
  oldPodsRunning(newRS: K8sObject | undefined, oldRSs: K8sObject[]): boolean {
    if (oldRSs.some((rs) => (rs.status?.replicas ?? 0) > 0)) return true;
    const oldUids = new Set(oldRSs.map((rs) => rs.metadata.uid));
    return this.pods.some((p) => {
      const owner = controllerRef(p)?.uid;
      if (!owner || owner === newRS?.metadata.uid || !oldUids.has(owner)) return false;
      return p.status?.phase !== 'Failed' && p.status?.phase !== 'Succeeded';
    });
  }
}

/** getReplicaFailures: a ReplicaFailure on the new ReplicaSet wins over old ones. */
function replicaFailure(allRSs: (K8sObject | undefined)[], newRS: K8sObject | undefined): any {
  const from = (rs: K8sObject | undefined) => (rs?.status?.conditions ?? []).find((c: any) => c.type === 'ReplicaFailure');
  const c = from(newRS) ?? allRSs.map(from).find(Boolean);
  if (!c) return undefined;
  return { type: 'ReplicaFailure', status: c.status, lastUpdateTime: c.lastTransitionTime, lastTransitionTime: c.lastTransitionTime, reason: c.reason, message: c.message };
}
