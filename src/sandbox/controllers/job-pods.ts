// A Job's pods as the Job controller sees them: which count as failed, which
// go first on scale-down, and creating, deleting and releasing them under the
// batch.kubernetes.io/job-tracking finalizer.
import type { K8sObject } from '../types.ts';
import type { ControllerContext } from './controller.ts';
import { isPodReady, podFromTemplate } from './podutil.ts';

export const SOURCE = { component: 'job-controller' };

export const JOB_TRACKING_FINALIZER = 'batch.kubernetes.io/job-tracking';

export const hasFinalizer = (p: K8sObject) => !!p.metadata.finalizers?.includes(JOB_TRACKING_FINALIZER);

/** Deleted pods count as failed unless only Failed pods are replaced (isPodFailed). */
export function isPodFailed(pod: K8sObject, job: K8sObject): boolean {
  if (pod.status?.phase === 'Failed') return true;
  if (onlyReplaceFailedPods(job)) return false;
  return !!pod.metadata.deletionTimestamp && pod.status?.phase !== 'Succeeded';
}

export function onlyReplaceFailedPods(job: K8sObject): boolean {
  return job.spec.podReplacementPolicy === 'Failed' || !!job.spec.podFailurePolicy;
}

/** For restartPolicy OnFailure, container restarts of live pods count against backoffLimit. */
export function pastBackoffLimitOnFailure(job: K8sObject, pods: K8sObject[]): boolean {
  if (job.spec.template?.spec?.restartPolicy !== 'OnFailure') return false;
  let restarts = 0;
  for (const p of pods) {
    if (p.status?.phase !== 'Running' && p.status?.phase !== 'Pending') continue;
    for (const cs of [...(p.status?.initContainerStatuses ?? []), ...(p.status?.containerStatuses ?? [])]) restarts += cs.restartCount ?? 0;
  }
  const limit = job.spec.backoffLimit ?? 6;
  return limit === 0 ? restarts > 0 : restarts >= limit;
}

/** controller.ActivePods order: unscheduled, pending, not ready, most restarted, newest first. */
export function removalOrder(a: K8sObject, b: K8sObject): number {
  const bound = (p: K8sObject) => (p.spec?.nodeName ? 1 : 0);
  const phase = (p: K8sObject) => ({ Pending: 0, Unknown: 1, Running: 2 } as Record<string, number>)[p.status?.phase] ?? 0;
  const ready = (p: K8sObject) => (isPodReady(p) ? 1 : 0);
  const restarts = (p: K8sObject) => (p.status?.containerStatuses ?? []).reduce((n: number, c: any) => n + (c.restartCount ?? 0), 0);
  const created = (p: K8sObject) => p.metadata.creationTimestamp ?? '';
  return bound(a) - bound(b) || phase(a) - phase(b) || ready(a) - ready(b) || restarts(b) - restarts(a) ||
    (created(a) > created(b) ? -1 : created(a) < created(b) ? 1 : 0);
}

/** podControl for Jobs: every pod write the controller makes, with its events. */
export class JobPodControl {
  private readonly ctx: ControllerContext;

  constructor(ctx: ControllerContext) {
    this.ctx = ctx;
  }

  create(job: K8sObject): boolean {
    const pod = podFromTemplate(job, job.spec.template);
    const uid = job.metadata.uid!;
    const name = job.metadata.name!;
    pod.metadata.labels = {
      'batch.kubernetes.io/controller-uid': uid,
      'batch.kubernetes.io/job-name': name,
      'controller-uid': uid,
      'job-name': name,
      ...pod.metadata.labels,
    };
    pod.metadata.finalizers = [...(pod.metadata.finalizers ?? []).filter((f) => f !== JOB_TRACKING_FINALIZER), JOB_TRACKING_FINALIZER];
    try {
      const created = this.ctx.store.create('pods', pod);
      this.ctx.events.emit(job, 'Normal', 'SuccessfulCreate', `Created pod: ${created.metadata.name}`, SOURCE);
      return true;
    } catch (err) {
      this.ctx.events.emit(job, 'Warning', 'FailedCreate', `Error creating: ${(err as Error).message}`, SOURCE);
      return false;
    }
  }

  /** Deletes a pod without counting it (scale-down, suspension): finalizer first, as deleteJobPods does. */
  remove(job: K8sObject, pod: K8sObject): void {
    this.release(pod);
    this.delete(job, pod);
  }

  delete(job: K8sObject, pod: K8sObject): void {
    try {
      const gone = this.ctx.store.delete('pods', pod.metadata.namespace, pod.metadata.name!, { preconditions: { uid: pod.metadata.uid } });
      this.ctx.events.emit(job, 'Normal', 'SuccessfulDelete', `Deleted pod: ${pod.metadata.name}`, SOURCE);
      this.finishUnboundDeletion(gone);
    } catch (err) {
      this.ctx.events.emit(job, 'Warning', 'FailedDelete', `Error deleting: ${(err as Error).message}`, SOURCE);
    }
  }

  /** Removes the tracking finalizer; a zero-grace deletion then completes, as the API server would. */
  release(pod: K8sObject): void {
    const updated = this.ctx.store.mutate('pods', pod.metadata.namespace, pod.metadata.name!, (p) => {
      if (p.metadata.uid !== pod.metadata.uid || !hasFinalizer(p)) return false;
      p.metadata.finalizers = p.metadata.finalizers!.filter((f) => f !== JOB_TRACKING_FINALIZER);
      if (!p.metadata.finalizers.length) delete p.metadata.finalizers;
    });
    if (updated) this.finishUnboundDeletion(updated);
  }

  private finishUnboundDeletion(pod: K8sObject): void {
    if (pod.metadata.deletionTimestamp && pod.metadata.deletionGracePeriodSeconds === 0 && !pod.metadata.finalizers?.length) {
      this.ctx.store.remove('pods', pod);
    }
  }
}
