// The CronJob controller as of Kubernetes 1.32 (cronjob_controllerv2.go):
// on each activation of the schedule (cluster time) it creates a Job named
// `<cronjob>-<minutes since the epoch>` from the job template, honouring
// suspend, startingDeadlineSeconds and concurrencyPolicy (Allow, Forbid,
// Replace); it keeps status.active, lastScheduleTime and lastSuccessfulTime,
// deletes finished Jobs beyond the history limits, and records the real
// Events (SuccessfulCreate, SawCompletedJob, JobAlreadyActive, MissSchedule,
// SuccessfulDelete, UnexpectedJob, MissingJob …). Instead of polling, each
// CronJob is requeued for its next activation (plus 100ms), as the real one is.
import { k8sTime } from '../../common/index.ts';
import { ApiError } from '../status.ts';
import type { K8sObject, StoreEvent } from '../types.ts';
import { QueueController } from './base.ts';
import { type Schedule, knownTimeZone, mostRecentScheduleTime, nextScheduleDelay, parseSchedule } from '../cron.ts';
import { isJobFinished, trueCondition } from './job-conditions.ts';
import { controllerRef, isControlledBy, newControllerRef } from './owners.ts';
import { objectKey, splitKey } from './workqueue.ts';

const CRONJOBS = 'batch/cronjobs';
const JOBS = 'batch/jobs';
const SOURCE = { component: 'cronjob-controller' };
export const SCHEDULED_TIMESTAMP_ANNOTATION = 'batch.kubernetes.io/cronjob-scheduled-timestamp';

type Ref = { kind: string; namespace: string; name: string; uid: string; apiVersion: string; resourceVersion?: string };

const ms = (ts: string | undefined) => (ts ? Date.parse(ts) : NaN);
const isSucceeded = (job: K8sObject) => Boolean(trueCondition(job, 'Complete'));
const finishedType = (job: K8sObject) => (trueCondition(job, 'Complete') ? 'Complete' : trueCondition(job, 'Failed') ? 'Failed' : undefined);

/** byJobStartTime: started Jobs first, oldest first; the name breaks ties. */
function byStartTime(a: K8sObject, b: K8sObject): number {
  const sa = ms(a.status?.startTime);
  const sb = ms(b.status?.startTime);
  if (Number.isNaN(sb)) return Number.isNaN(sa) ? 0 : -1;
  if (Number.isNaN(sa)) return 1;
  return sa - sb || (a.metadata.name! < b.metadata.name! ? -1 : 1);
}

export class CronJobController extends QueueController {
  readonly name = 'cronjob-controller';
  protected readonly storage = CRONJOBS;

  protected onEvent(ev: StoreEvent): void {
    if (ev.storage === CRONJOBS) {
      this.queue.add(objectKey(ev.object.metadata));
    } else if (ev.storage === JOBS) {
      // Jobs wake the CronJob that controls them (the old controller too when it changed).
      for (const o of [ev.object, ev.old]) {
        const ref = controllerRef(o);
        if (ref?.kind === 'CronJob') this.queue.add(`${o!.metadata.namespace}/${ref.name}`);
      }
    }
  }

  protected sync(key: string): void {
    const { namespace: ns, name } = splitKey(key);
    const cj = this.ctx.store.get(CRONJOBS, ns, name);
    if (!cj) return;
    const jobs = this.ctx.store.list(JOBS, ns).items.filter((j) => controllerRef(j)?.name === cj.metadata.name);
    const copy = structuredClone(cj);
    copy.status ??= {};
    const cleaned = this.cleanupFinishedJobs(copy, jobs);
    const { requeueMs, update } = this.syncCronJob(copy, jobs);
    if (cleaned || update) this.writeStatus(cj, copy.status);
    if (requeueMs !== null) this.queue.addAfter(key, Math.max(0, requeueMs));
  }

  private syncCronJob(cj: K8sObject, jobs: K8sObject[]): { requeueMs: number | null; update: boolean } {
    const now = this.ctx.clock.now();
    let update = false;
    const status = cj.status;
    const active = (): Ref[] => (status.active ??= []);
    const inActive = (uid: string | undefined) => (status.active ?? []).some((r: Ref) => r.uid === uid);
    const dropActive = (uid: string | undefined) => {
      status.active = (status.active ?? []).filter((r: Ref) => r.uid !== uid);
    };
    const children = new Set<string>();
    for (const j of jobs) {
      children.add(j.metadata.uid!);
      const found = inActive(j.metadata.uid);
      if (!found && !isJobFinished(j)) {
        this.emit(cj, 'Warning', 'UnexpectedJob', `Saw a job that the controller did not create or forgot: ${j.metadata.name}`);
      } else if (found && isJobFinished(j)) {
        dropActive(j.metadata.uid);
        this.emit(cj, 'Normal', 'SawCompletedJob', `Saw completed job: ${j.metadata.name}, status: ${finishedType(j)}`);
        update = true;
      } else if (isSucceeded(j)) {
        const done = j.status?.completionTime;
        if (done && (!status.lastSuccessfulTime || ms(done) > ms(status.lastSuccessfulTime))) {
          status.lastSuccessfulTime = done;
          update = true;
        }
      }
    }
    for (const r of [...(status.active ?? [])] as Ref[]) {
      if (children.has(r.uid) || this.ctx.store.get(JOBS, r.namespace, r.name)) continue;
      this.emit(cj, 'Normal', 'MissingJob', `Active job went missing: ${r.name}`);
      dropActive(r.uid);
      update = true;
    }
    if (cj.metadata.deletionTimestamp) return { requeueMs: null, update };
    const tz: string | undefined = cj.spec?.timeZone ?? undefined;
    if (tz !== undefined && !knownTimeZone(tz)) {
      this.emit(cj, 'Warning', 'UnknownTimeZone', `invalid timeZone: "${tz}": unknown time zone ${tz}`);
      return { requeueMs: null, update };
    }
    if (cj.spec?.suspend) return { requeueMs: null, update };
    if (String(cj.spec?.schedule ?? '').includes('TZ')) {
      this.emit(cj, 'Warning', 'UnsupportedSchedule', `CRON_TZ or TZ used in schedule "${cj.spec.schedule}" is not officially supported, see https://kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/ for more details`);
    }
    let sched: Schedule;
    try {
      sched = parseSchedule(cj.spec?.schedule ?? '', tz);
    } catch (err) {
      this.emit(cj, 'Warning', 'UnparseableSchedule', `unparseable schedule: "${cj.spec?.schedule}" : ${(err as Error).message}`);
      return { requeueMs: null, update };
    }
    const times = { creationMs: ms(cj.metadata.creationTimestamp), lastScheduleMs: status.lastScheduleTime ? ms(status.lastScheduleTime) : undefined, startingDeadlineSeconds: cj.spec?.startingDeadlineSeconds };
    const nextIn = () => nextScheduleDelay({ ...times, lastScheduleMs: status.lastScheduleTime ? ms(status.lastScheduleTime) : undefined }, now, sched);
    const recent = mostRecentScheduleTime(times, now, sched, true);
    if (recent.mostRecent === null || recent.mostRecent > now) {
      if (recent.error) {
        this.emit(cj, 'Warning', 'InvalidSchedule', `invalid schedule: ${cj.spec.schedule} : ${recent.error}`);
        return { requeueMs: null, update };
      }
      return { requeueMs: nextIn(), update };
    }
    if (recent.missed === 'many') {
      this.emit(cj, 'Warning', 'TooManyMissedTimes', `too many missed start times: ${recent.missedCount}. Set or decrease .spec.startingDeadlineSeconds or check clock skew`);
    }
    const scheduled = recent.mostRecent;
    const deadline = cj.spec?.startingDeadlineSeconds;
    if (deadline != null && scheduled + deadline * 1000 < now) {
      this.emit(cj, 'Warning', 'MissSchedule', `Missed scheduled time to start a job: ${rfc1123z(scheduled)}`);
      return { requeueMs: nextIn(), update };
    }
    const jobName = `${cj.metadata.name}-${Math.floor(scheduled / 60_000)}`;
    if ((status.active ?? []).some((r: Ref) => r.name === jobName) || ms(status.lastScheduleTime) === scheduled) {
      return { requeueMs: nextIn(), update };
    }
    const policy = cj.spec?.concurrencyPolicy ?? 'Allow';
    if (policy === 'Forbid' && (status.active ?? []).length) {
      this.emit(cj, 'Normal', 'JobAlreadyActive', 'Not starting job because prior execution is running and concurrency policy is Forbid');
      return { requeueMs: nextIn(), update };
    }
    if (policy === 'Replace') {
      for (const r of [...(status.active ?? [])] as Ref[]) {
        const job = this.ctx.store.get(JOBS, r.namespace, r.name);
        if (!job) {
          this.emit(cj, 'Warning', 'FailedGet', `Get job: jobs.batch "${r.name}" not found`);
          return { requeueMs: null, update };
        }
        if (!this.deleteJob(cj, job)) return { requeueMs: null, update };
        update = true;
      }
    }
    let job: K8sObject;
    try {
      job = this.ctx.store.create(JOBS, this.jobFromTemplate(cj, scheduled, jobName, tz));
      this.emit(cj, 'Normal', 'SuccessfulCreate', `Created job ${job.metadata.name}`);
    } catch (err) {
      if (err instanceof ApiError && err.reason === 'AlreadyExists') {
        const existing = this.ctx.store.get(JOBS, cj.metadata.namespace, jobName);
        if (!existing || !isControlledBy(existing, cj) || inActive(existing.metadata.uid)) return { requeueMs: null, update };
        job = existing;
      } else {
        if (!(err instanceof ApiError && err.code === 403 && /being terminated/.test(err.message))) {
          this.emit(cj, 'Warning', 'FailedCreate', `Error creating job: ${(err as Error).message}`);
        }
        return { requeueMs: 1000, update };
      }
    }
    active().push({ kind: 'Job', namespace: job.metadata.namespace!, name: job.metadata.name!, uid: job.metadata.uid!, apiVersion: 'batch/v1', resourceVersion: job.metadata.resourceVersion });
    status.lastScheduleTime = k8sTime(scheduled);
    return { requeueMs: nextIn(), update: true };
  }

  /** getJobFromTemplate2: the template's labels, annotations and spec, owned by the CronJob. */
  private jobFromTemplate(cj: K8sObject, scheduled: number, name: string, tz: string | undefined): K8sObject {
    const tmpl = cj.spec?.jobTemplate ?? {};
    const annotations: Record<string, string> = { ...(tmpl.metadata?.annotations ?? {}), [SCHEDULED_TIMESTAMP_ANNOTATION]: rfc3339In(scheduled, tz) };
    return {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: {
        name,
        namespace: cj.metadata.namespace,
        ...(tmpl.metadata?.labels ? { labels: { ...tmpl.metadata.labels } } : {}),
        annotations,
        ownerReferences: [newControllerRef(cj)],
      },
      spec: structuredClone(tmpl.spec ?? {}),
    };
  }

  /** Deletes the oldest finished Jobs beyond each history limit; true when status changed. */
  private cleanupFinishedJobs(cj: K8sObject, jobs: K8sObject[]): boolean {
    const ok = cj.spec?.successfulJobsHistoryLimit;
    const failed = cj.spec?.failedJobsHistoryLimit;
    if (ok == null && failed == null) return false;
    let update = false;
    const prune = (list: K8sObject[], limit: number | null | undefined) => {
      if (limit == null) return;
      const extra = list.length - limit;
      if (extra <= 0) return;
      for (const j of [...list].sort(byStartTime).slice(0, extra)) if (this.deleteJob(cj, j)) update = true;
    };
    prune(jobs.filter((j) => finishedType(j) === 'Complete'), ok);
    prune(jobs.filter((j) => finishedType(j) === 'Failed'), failed);
    return update;
  }

  private deleteJob(cj: K8sObject, job: K8sObject): boolean {
    try {
      this.ctx.store.delete(JOBS, job.metadata.namespace, job.metadata.name!, { propagationPolicy: 'Background' });
    } catch (err) {
      if (!(err instanceof ApiError && err.code === 404)) {
        this.emit(cj, 'Warning', 'FailedDelete', `Deleted job: ${(err as Error).message}`);
        return false;
      }
    }
    cj.status.active = (cj.status.active ?? []).filter((r: Ref) => r.uid !== job.metadata.uid);
    this.emit(cj, 'Normal', 'SuccessfulDelete', `Deleted job ${job.metadata.name}`);
    return true;
  }

  private writeStatus(cj: K8sObject, status: any): void {
    if (!status.active?.length) delete status.active;
    this.ctx.store.mutate(CRONJOBS, cj.metadata.namespace, cj.metadata.name!, (c) => {
      if (c.metadata.uid !== cj.metadata.uid) return false;
      c.status = status;
    }, { subresource: 'status' });
  }

  private emit(cj: K8sObject, type: 'Normal' | 'Warning', reason: string, message: string): void {
    this.ctx.events.emit(cj, type, reason, message, SOURCE);
  }
}

/** Go's time.RFC1123Z in UTC: `Mon, 02 Jan 2006 15:04:05 +0000`. */
function rfc1123z(t: number): string {
  return new Date(t).toUTCString().replace('GMT', '+0000');
}

/** time.RFC3339 in the CronJob's zone: `2026-01-01T09:00:00+01:00`, `…Z` in UTC. */
function rfc3339In(t: number, tz: string | undefined): string {
  if (!tz || tz === 'UTC' || tz === 'Local') return k8sTime(t);
  const parts = Object.fromEntries(new Intl.DateTimeFormat('en-US', {
    timeZone: tz, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
  }).formatToParts(new Date(t)).map((p) => [p.type, p.value]));
  const local = Date.UTC(+parts.year, +parts.month - 1, +parts.day, +parts.hour, +parts.minute, +parts.second);
  const off = Math.round((local - Math.floor(t / 1000) * 1000) / 60_000);
  const sign = off < 0 ? '-' : '+';
  const hh = String(Math.floor(Math.abs(off) / 60)).padStart(2, '0');
  const mm = String(Math.abs(off) % 60).padStart(2, '0');
  return `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}:${parts.second}${off === 0 ? 'Z' : `${sign}${hh}:${mm}`}`;
}
