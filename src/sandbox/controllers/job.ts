// The Job controller as of Kubernetes 1.32 (job/job_controller.go): pods carry
// the batch.kubernetes.io/job-tracking finalizer until the controller has
// counted them into status.succeeded/failed; failures past backoffLimit or
// the activeDeadlineSeconds deadline first record the interim FailureTarget
// condition, success first records SuccessCriteriaMet, and the terminal
// Failed/Complete condition follows once no pod is still terminating. New
// pods after failures wait 10s, 20s, 40s … (capped at 10 minutes).
// NonIndexed completion only; Indexed jobs and podFailurePolicy are not modelled.
import { k8sTime } from '../../common/index.ts';
import type { K8sObject, StoreEvent } from '../types.ts';
import type { ControllerContext } from './controller.ts';
import { QueueController } from './base.ts';
import { objectKey, splitKey } from './workqueue.ts';
import { controllerRef, isControlledBy } from './owners.ts';
import { isPodActive, isPodReady, isPodTerminal } from './podutil.ts';
import { type Cond, ensureCondition, isJobFinished, newCondition, trueCondition } from './job-conditions.ts';
import { JobBackoff, type BackoffRecord } from './job-backoff.ts';
import {
  JobPodControl, SOURCE, hasFinalizer, isPodFailed, onlyReplaceFailedPods, pastBackoffLimitOnFailure, removalOrder,
} from './job-pods.ts';

export { JOB_TRACKING_FINALIZER } from './job-pods.ts';

const JOBS = 'batch/jobs';
const MAX_POD_CREATE_DELETE_PER_SYNC = 500;

const suspended = (job: K8sObject) => job.spec.suspend === true;

export class JobController extends QueueController {
  readonly name = 'job-controller';
  protected readonly storage = JOBS;
  private pods!: JobPodControl;
  private readonly backoff = new JobBackoff(() => this.ctx.clock.now());

  /** The pod-failure back-off counts failures already folded into status, so it cannot be recounted from the pods. */
  saveState(): [string, BackoffRecord][] {
    return this.backoff.save();
  }

  restoreState(state: unknown): void {
    this.backoff.restore(state as [string, BackoffRecord][]);
  }

  start(ctx: ControllerContext): void {
    this.pods = new JobPodControl(ctx);
    super.start(ctx);
  }

  protected onEvent(ev: StoreEvent): void {
    if (ev.storage === JOBS) {
      this.queue.add(objectKey(ev.object.metadata));
    } else if (ev.storage === 'pods') {
      this.queueController('Job', ev.object);
    }
  }

  protected sync(key: string): void {
    const { namespace: ns, name } = splitKey(key);
    const job = this.ctx.store.get(JOBS, ns, name);
    this.releaseOrphans(ns!, name, job?.metadata.uid);
    if (!job) {
      this.backoff.forget(key);
      return;
    }
    const pods = this.ctx.store.list('pods', ns).items.filter((p) => isControlledBy(p, job));
    if (isJobFinished(job)) {
      for (const p of pods) if (hasFinalizer(p)) this.pods.release(p);
      this.expireAfterTtl(job);
      return;
    }
    this.syncJob(key, job, pods);
  }

  private syncJob(key: string, job: K8sObject, pods: K8sObject[]): void {
    const now = this.ctx.clock.now();
    const nowIso = k8sTime(now);
    const status: any = structuredClone(job.status ?? {});
    status.conditions ??= [];
    const active = pods.filter(isPodActive);
    let terminating = pods.filter((p) => p.metadata.deletionTimestamp && !isPodTerminal(p)).length;
    const newSucceeded = pods.filter((p) => hasFinalizer(p) && p.status?.phase === 'Succeeded');
    const newFailed = pods.filter((p) => hasFinalizer(p) && isPodFailed(p, job));
    const succeeded = (status.succeeded ?? 0) + newSucceeded.length;
    const failed = (status.failed ?? 0) + newFailed.length;
    if (!status.startTime && !suspended(job)) status.startTime = nowIso;
    this.backoff.record(key, newSucceeded, newFailed);

    let finished: Cond | undefined;
    const criteriaMet = trueCondition(job, 'SuccessCriteriaMet');
    const failureTarget = trueCondition(job, 'FailureTarget');
    if (criteriaMet) finished = { type: 'SuccessCriteriaMet', reason: criteriaMet.reason, message: criteriaMet.message };
    else if (failureTarget) finished = { type: 'Failed', reason: failureTarget.reason, message: failureTarget.message };
    else if (failed > (job.spec.backoffLimit ?? 6) || pastBackoffLimitOnFailure(job, pods)) {
      finished = { type: 'FailureTarget', reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' };
    } else if (this.pastDeadline(job, status)) {
      finished = { type: 'FailureTarget', reason: 'DeadlineExceeded', message: 'Job was active longer than specified deadline' };
    } else if (job.spec.activeDeadlineSeconds != null && !suspended(job)) {
      const due = Date.parse(status.startTime) + job.spec.activeDeadlineSeconds * 1000 - now;
      this.queue.addAfter(key, Math.max(due, 0));
    }

    let activeCount = active.length;
    let ready = active.filter(isPodReady).length;
    if (finished) {
      // Deleting keeps the tracking finalizer: the pod is counted as failed below.
      for (const p of active) this.pods.delete(job, p);
      terminating += active.length;
      activeCount = 0;
      ready = 0;
    } else {
      if (!job.metadata.deletionTimestamp) {
        const r = this.manageJob(key, job, active, succeeded, terminating);
        activeCount = r.active;
        terminating += r.removed;
        ready -= r.removedReady;
      }
      const completions = job.spec.completions;
      const complete = completions == null ? succeeded > 0 && activeCount === 0 : succeeded >= completions && activeCount === 0;
      if (complete) {
        finished = { type: 'SuccessCriteriaMet', reason: 'CompletionsReached', message: 'Reached expected number of succeeded pods' };
      } else if (!job.metadata.deletionTimestamp) {
        this.syncSuspended(job, status, nowIso);
      }
    }

    // Count finished pods and release their finalizers.
    let addSucceeded = 0;
    let addFailed = 0;
    for (const p of pods) {
      if (!hasFinalizer(p)) continue;
      const considerFailed = isPodFailed(p, job);
      if (!(job.metadata.deletionTimestamp || finished || p.status?.phase === 'Succeeded' || considerFailed)) continue;
      this.pods.release(p);
      if (p.status?.phase === 'Succeeded') addSucceeded++;
      else if (considerFailed || (finished && finished.type !== 'SuccessCriteriaMet')) addFailed++;
    }
    status.succeeded = (status.succeeded ?? 0) + addSucceeded;
    status.failed = (status.failed ?? 0) + addFailed;
    status.active = activeCount;
    status.ready = ready;
    status.terminating = terminating;
    status.uncountedTerminatedPods = {};

    let terminal: Cond | undefined;
    if (finished?.type === 'FailureTarget') {
      status.conditions.push(newCondition(finished, nowIso));
      terminal = { ...finished, type: 'Failed' };
    } else if (finished?.type === 'SuccessCriteriaMet') {
      if (!criteriaMet) status.conditions.push(newCondition(finished, nowIso));
      terminal = { ...finished, type: 'Complete' };
    } else if (finished) {
      terminal = finished;
    }
    const done = terminal && terminating === 0;
    if (done) {
      ensureCondition(status.conditions, terminal!, 'True', nowIso);
      if (terminal!.type === 'Complete') status.completionTime = nowIso;
    }
    this.writeStatus(job, status);
    if (done) {
      if (terminal!.type === 'Complete') {
        if (job.spec.completions != null && status.succeeded > job.spec.completions) {
          this.ctx.events.emit(job, 'Warning', 'TooManySucceededPods', 'Too many succeeded pods running after completion count reached', SOURCE);
        }
        this.ctx.events.emit(job, 'Normal', 'Completed', 'Job completed', SOURCE);
      } else {
        this.ctx.events.emit(job, 'Warning', terminal!.reason, terminal!.message, SOURCE);
      }
      this.backoff.forget(key);
      const fresh = this.ctx.store.get(JOBS, job.metadata.namespace, job.metadata.name!);
      if (fresh) this.expireAfterTtl(fresh);
    }
  }

  /** manageJob: keeps min(parallelism, remaining completions) pods active, respecting the failure back-off. */
  private manageJob(key: string, job: K8sObject, active: K8sObject[], succeeded: number, terminating: number): { active: number; removed: number; removedReady: number } {
    if (suspended(job)) {
      const removedReady = active.filter(isPodReady).length;
      for (const p of active) this.pods.remove(job, p);
      return { active: 0, removed: active.length, removedReady };
    }
    const parallelism = job.spec.parallelism ?? 1;
    const completions = job.spec.completions;
    let want: number;
    if (completions == null) want = succeeded > 0 ? active.length : parallelism;
    else want = Math.max(0, Math.min(completions - succeeded, parallelism));

    const excess = active.length - want;
    if (excess > 0) {
      const victims = [...active].sort(removalOrder).slice(0, Math.min(excess, MAX_POD_CREATE_DELETE_PER_SYNC));
      for (const p of victims) this.pods.remove(job, p);
      return { active: active.length - victims.length, removed: victims.length, removedReady: victims.filter(isPodReady).length };
    }
    const diff = want - (onlyReplaceFailedPods(job) ? terminating : 0) - active.length;
    if (diff <= 0) return { active: active.length, removed: 0, removedReady: 0 };
    const wait = this.backoff.remaining(key);
    if (wait > 0) {
      this.queue.addAfter(key, wait);
      return { active: active.length, removed: 0, removedReady: 0 };
    }
    let created = 0;
    for (let i = 0; i < Math.min(diff, MAX_POD_CREATE_DELETE_PER_SYNC); i++) if (this.pods.create(job)) created++;
    return { active: active.length + created, removed: 0, removedReady: 0 };
  }

  private syncSuspended(job: K8sObject, status: any, nowIso: string): void {
    if (suspended(job)) {
      if (ensureCondition(status.conditions, { type: 'Suspended', reason: 'JobSuspended', message: 'Job suspended' }, 'True', nowIso)) {
        this.ctx.events.emit(job, 'Normal', 'Suspended', 'Job suspended', SOURCE);
      }
    } else if (ensureCondition(status.conditions, { type: 'Suspended', reason: 'JobResumed', message: 'Job resumed' }, 'False', nowIso)) {
      this.ctx.events.emit(job, 'Normal', 'Resumed', 'Job resumed', SOURCE);
      // activeDeadlineSeconds counts continuous activity, so resuming restarts the clock.
      status.startTime = nowIso;
    }
  }

  private pastDeadline(job: K8sObject, status: any): boolean {
    if (job.spec.activeDeadlineSeconds == null || !status.startTime || suspended(job)) return false;
    return this.ctx.clock.now() - Date.parse(status.startTime) >= job.spec.activeDeadlineSeconds * 1000;
  }

  /** Pods still holding our finalizer whose Job is gone or was replaced by a new one of the same name. */
  private releaseOrphans(ns: string, name: string, uid: string | undefined): void {
    for (const p of this.ctx.store.list('pods', ns).items) {
      const ref = controllerRef(p);
      if (hasFinalizer(p) && ref?.kind === 'Job' && ref.name === name && ref.uid !== uid) this.pods.release(p);
    }
  }

  /** The TTL-after-finished controller: delete the Job (and, in the foreground, its pods) ttl seconds after it finished. */
  private expireAfterTtl(job: K8sObject): void {
    const ttl = job.spec.ttlSecondsAfterFinished;
    if (ttl == null || job.metadata.deletionTimestamp) return;
    const cond = trueCondition(job, 'Complete') ?? trueCondition(job, 'Failed');
    const finishedAt = Date.parse(job.status?.completionTime ?? cond?.lastTransitionTime ?? '');
    if (!Number.isFinite(finishedAt)) return;
    const wait = finishedAt + ttl * 1000 - this.ctx.clock.now();
    if (wait > 0) {
      this.queue.addAfter(objectKey(job.metadata), wait);
      return;
    }
    try {
      this.ctx.store.delete(JOBS, job.metadata.namespace, job.metadata.name!, { propagationPolicy: 'Foreground', preconditions: { uid: job.metadata.uid } });
    } catch {
      // Already gone or replaced: nothing left to expire.
    }
  }

  private writeStatus(job: K8sObject, status: any): void {
    for (const f of ['active', 'succeeded', 'failed']) if (!status[f]) delete status[f];
    if (!status.conditions.length) delete status.conditions;
    this.ctx.store.mutate(JOBS, job.metadata.namespace, job.metadata.name!, (j) => {
      if (j.metadata.uid !== job.metadata.uid) return false;
      j.status = status;
    }, { subresource: 'status' });
  }
}
