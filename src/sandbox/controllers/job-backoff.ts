// The Job controller's pod-failure back-off (job/backoff_utils.go): new pods
// after failures wait 10s, 20s, 40s … (capped at 10 minutes), counted from the
// last failure after the last success.
import type { K8sObject } from '../types.ts';

const BACKOFF_INITIAL_MS = 10_000;
const BACKOFF_MAX_MS = 10 * 60_000;

export interface BackoffRecord { failuresAfterLastSuccess: number; lastFailureTime?: number }

/** Back-off records by Job key. */
export class JobBackoff {
  private readonly now: () => number;
  private readonly records = new Map<string, BackoffRecord>();

  constructor(now: () => number) {
    this.now = now;
  }

  save(): [string, BackoffRecord][] {
    return [...this.records];
  }

  restore(saved: [string, BackoffRecord][]): void {
    for (const [k, r] of saved) this.records.set(k, r);
  }

  forget(key: string): void {
    this.records.delete(key);
  }

  record(key: string, newSucceeded: K8sObject[], newFailed: K8sObject[]): void {
    if (!newSucceeded.length && !newFailed.length) return;
    const rec: BackoffRecord = { ...(this.records.get(key) ?? { failuresAfterLastSuccess: 0 }) };
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
    this.records.set(key, rec);
  }

  remaining(key: string): number {
    const rec = this.records.get(key);
    if (!rec?.failuresAfterLastSuccess || rec.lastFailureTime === undefined) return 0;
    const delay = Math.min(BACKOFF_INITIAL_MS * 2 ** (rec.failuresAfterLastSuccess - 1), BACKOFF_MAX_MS);
    return Math.max(0, delay - (this.now() - rec.lastFailureTime));
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
    return this.now();
  }
}
