// The Job controller as of Kubernetes 1.32 (job/job_controller.go): pods carry
// the batch.kubernetes.io/job-tracking finalizer until the controller has
// counted them into status.succeeded/failed; failures past backoffLimit or
// the activeDeadlineSeconds deadline first record the interim FailureTarget
// condition, success first records SuccessCriteriaMet, and the terminal
// Failed/Complete condition follows once no pod is still terminating. New
// pods after failures wait 10s, 20s, 40s … (capped at 10 minutes).
// NonIndexed completion only; Indexed jobs and podFailurePolicy are not modelled.
import { k8sTime } from '../../common/clock.ts';
import type { K8sObject, StoreEvent } from '../types.ts';
import type { Controller, ControllerContext } from './controller.ts';
import { WorkQueue, objectKey, splitKey } from './workqueue.ts';
import { controllerRefOf, isControlledBy, isPodActive, isPodReady, isPodTerminal, podFromTemplate } from './podutil.ts';

const JOBS = 'batch/jobs';
const SOURCE = { component: 'job-controller' };
export const JOB_TRACKING_FINALIZER = 'batch.kubernetes.io/job-tracking';
const BACKOFF_INITIAL_MS = 10_000;
const BACKOFF_MAX_MS = 10 * 60_000;
const MAX_POD_CREATE_DELETE_PER_SYNC = 500;

interface Cond { type: string; reason: string; message: string }
interface BackoffRecord { failuresAfterLastSuccess: number; lastFailureTime?: number }

const hasFinalizer = (p: K8sObject) => !!p.metadata.finalizers?.includes(JOB_TRACKING_FINALIZER);
const trueCondition = (job: K8sObject, type: string) =>
  (job.status?.conditions ?? []).find((c: any) => c.type === type && c.status === 'True');
const suspended = (job: K8sObject) => job.spec.suspend === true;

/** Deleted pods count as failed unless only Failed pods are replaced (isPodFailed). */
function isPodFailed(pod: K8sObject, job: K8sObject): boolean {
  if (pod.status?.phase === 'Failed') return true;
  if (onlyReplaceFailedPods(job)) return false;
  return !!pod.metadata.deletionTimestamp && pod.status?.phase !== 'Succeeded';
}

function onlyReplaceFailedPods(job: K8sObject): boolean {
  return job.spec.podReplacementPolicy === 'Failed' || !!job.spec.podFailurePolicy;
}

export function isJobFinished(job: K8sObject): boolean {
  return !!(trueCondition(job, 'Complete') || trueCondition(job, 'Failed'));
}

export class JobController implements Controller {
  readonly name = 'job-controller';
  private ctx!: ControllerContext;
  private queue?: WorkQueue;
  private unsubscribe?: () => void;
  private readonly backoff = new Map<string, BackoffRecord>();

  start(ctx: ControllerContext): void {
    this.ctx = ctx;
    this.queue = new WorkQueue(ctx.clock, (k) => this.sync(k));
    this.unsubscribe = ctx.store.subscribe((ev) => this.onEvent(ev));
    for (const j of ctx.store.list(JOBS).items) this.queue.add(objectKey(j.metadata));
  }

  stop(): void {
    this.unsubscribe?.();
    this.queue?.stop();
  }

  private onEvent(ev: StoreEvent): void {
    if (ev.storage === JOBS) {
      this.queue!.add(objectKey(ev.object.metadata));
    } else if (ev.storage === 'pods') {
      const ref = controllerRefOf(ev.object);
      if (ref?.kind === 'Job') this.queue!.add(`${ev.object.metadata.namespace}/${ref.name}`);
    }
  }

  private sync(key: string): void {
    const { namespace: ns, name } = splitKey(key);
    const job = this.ctx.store.get(JOBS, ns, name);
    this.releaseOrphans(ns!, name, job?.metadata.uid);
    if (!job) {
      this.backoff.delete(key);
      return;
    }
    const pods = this.ctx.store.list('pods', ns).items.filter((p) => isControlledBy(p, job));
    if (isJobFinished(job)) {
      for (const p of pods) if (hasFinalizer(p)) this.releasePod(p);
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
    this.recordBackoff(key, newSucceeded, newFailed);

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
      this.queue!.addAfter(key, Math.max(due, 0));
    }

    let activeCount = active.length;
    let ready = active.filter(isPodReady).length;
    if (finished) {
      // Deleting keeps the tracking finalizer: the pod is counted as failed below.
      for (const p of active) this.deletePod(job, p);
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
      this.releasePod(p);
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
      this.backoff.delete(key);
      const fresh = this.ctx.store.get(JOBS, job.metadata.namespace, job.metadata.name!);
      if (fresh) this.expireAfterTtl(fresh);
    }
  }

  /** manageJob: keeps min(parallelism, remaining completions) pods active, respecting the failure back-off. */
  private manageJob(key: string, job: K8sObject, active: K8sObject[], succeeded: number, terminating: number): { active: number; removed: number; removedReady: number } {
    if (suspended(job)) {
      const removedReady = active.filter(isPodReady).length;
      for (const p of active) this.removePod(job, p);
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
      for (const p of victims) this.removePod(job, p);
      return { active: active.length - victims.length, removed: victims.length, removedReady: victims.filter(isPodReady).length };
    }
    const diff = want - (onlyReplaceFailedPods(job) ? terminating : 0) - active.length;
    if (diff <= 0) return { active: active.length, removed: 0, removedReady: 0 };
    const wait = this.remainingBackoff(key);
    if (wait > 0) {
      this.queue!.addAfter(key, wait);
      return { active: active.length, removed: 0, removedReady: 0 };
    }
    let created = 0;
    for (let i = 0; i < Math.min(diff, MAX_POD_CREATE_DELETE_PER_SYNC); i++) if (this.createPod(job)) created++;
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

  private recordBackoff(key: string, newSucceeded: K8sObject[], newFailed: K8sObject[]): void {
    if (!newSucceeded.length && !newFailed.length) return;
    const rec: BackoffRecord = { ...(this.backoff.get(key) ?? { failuresAfterLastSuccess: 0 }) };
    const failedTimes = newFailed.map((p) => this.finishedTime(p)).sort((a, b) => a - b);
    if (!newSucceeded.length) {
      rec.failuresAfterLastSuccess += failedTimes.length;
      rec.lastFailureTime = failedTimes[failedTimes.length - 1];
    } else {
      const lastSuccess = Math.max(...newSucceeded.map((p) => this.finishedTime(p)));
      const after = failedTimes.filter((t) => t > lastSuccess);
      rec.failuresAfterLastSuccess = after.length;
      rec.lastFailureTime = after.length ? after[after.length - 1] : undefined;
    }
    this.backoff.set(key, rec);
  }

  private remainingBackoff(key: string): number {
    const rec = this.backoff.get(key);
    if (!rec?.failuresAfterLastSuccess || rec.lastFailureTime === undefined) return 0;
    const delay = Math.min(BACKOFF_INITIAL_MS * 2 ** (rec.failuresAfterLastSuccess - 1), BACKOFF_MAX_MS);
    return Math.max(0, delay - (this.ctx.clock.now() - rec.lastFailureTime));
  }

  /** The latest container finish time, else the deletion time, else now. */
  private finishedTime(pod: K8sObject): number {
    let latest: number | undefined;
    for (const cs of [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])]) {
      const t = Date.parse(cs.state?.terminated?.finishedAt ?? '');
      if (Number.isFinite(t) && (latest === undefined || t > latest)) latest = t;
    }
    if (latest !== undefined) return latest;
    if (pod.metadata.deletionTimestamp) return Date.parse(pod.metadata.deletionTimestamp);
    return this.ctx.clock.now();
  }

  private createPod(job: K8sObject): boolean {
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
  private removePod(job: K8sObject, pod: K8sObject): void {
    this.releasePod(pod);
    this.deletePod(job, pod);
  }

  private deletePod(job: K8sObject, pod: K8sObject): void {
    try {
      const gone = this.ctx.store.delete('pods', pod.metadata.namespace, pod.metadata.name!, { preconditions: { uid: pod.metadata.uid } });
      this.ctx.events.emit(job, 'Normal', 'SuccessfulDelete', `Deleted pod: ${pod.metadata.name}`, SOURCE);
      this.finishUnboundDeletion(gone);
    } catch (err) {
      this.ctx.events.emit(job, 'Warning', 'FailedDelete', `Error deleting: ${(err as Error).message}`, SOURCE);
    }
  }

  /** Removes the tracking finalizer; a zero-grace deletion then completes, as the API server would. */
  private releasePod(pod: K8sObject): void {
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

  /** Pods still holding our finalizer whose Job is gone or was replaced by a new one of the same name. */
  private releaseOrphans(ns: string, name: string, uid: string | undefined): void {
    for (const p of this.ctx.store.list('pods', ns).items) {
      const ref = controllerRefOf(p);
      if (hasFinalizer(p) && ref?.kind === 'Job' && ref.name === name && ref.uid !== uid) this.releasePod(p);
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
      this.queue!.addAfter(objectKey(job.metadata), wait);
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

function newCondition(c: Cond, nowIso: string): any {
  return { type: c.type, status: 'True', lastProbeTime: nowIso, lastTransitionTime: nowIso, reason: c.reason, message: c.message };
}

/** ensureJobConditionStatus: never adds a False condition, rewrites one whose status/reason/message changed. */
function ensureCondition(list: any[], c: Cond, statusValue: 'True' | 'False', nowIso: string): boolean {
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

/** For restartPolicy OnFailure, container restarts of live pods count against backoffLimit. */
function pastBackoffLimitOnFailure(job: K8sObject, pods: K8sObject[]): boolean {
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
function removalOrder(a: K8sObject, b: K8sObject): number {
  const bound = (p: K8sObject) => (p.spec?.nodeName ? 1 : 0);
  const phase = (p: K8sObject) => ({ Pending: 0, Unknown: 1, Running: 2 } as Record<string, number>)[p.status?.phase] ?? 0;
  const ready = (p: K8sObject) => (isPodReady(p) ? 1 : 0);
  const restarts = (p: K8sObject) => (p.status?.containerStatuses ?? []).reduce((n: number, c: any) => n + (c.restartCount ?? 0), 0);
  const created = (p: K8sObject) => p.metadata.creationTimestamp ?? '';
  return bound(a) - bound(b) || phase(a) - phase(b) || ready(a) - ready(b) || restarts(b) - restarts(a) ||
    (created(a) > created(b) ? -1 : created(a) < created(b) ? 1 : 0);
}
