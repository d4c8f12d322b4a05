// One smoke window's judgement of a new revision's pods, look by look: a
// container that restarts, an OOMKill, a pod that was ready and is not, and
// at the end of the window pods that never became ready. The first look at a
// pod is its baseline, so a pod the revision already had (a rollback to a
// ReplicaSet that kept running) is judged on what happens in the window only.
import { isPodReady, type KubeObject } from '../../kube/index.ts';
import type { Regression } from '../types.ts';

interface Seen {
  /** Restart counts by container at the first look. */
  baseline: Map<string, number>;
  /** Created in the window: containers that appear later start from 0 restarts. */
  born: boolean;
  wasReady: boolean;
}

const statusesOf = (pod: KubeObject): any[] => [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];

/** Timestamps have whole seconds: a pod created in the window's first second may read as a little before it. */
const TIMESTAMP_SLACK_MS = 1000;

export class SmokeCheck {
  readonly opensAt: number;
  private readonly seen = new Map<string, Seen>();

  constructor(opensAt: number) {
    this.opensAt = opensAt;
  }

  /** Regressions among the revision's pods now (an empty list: nothing wrong yet). */
  look(pods: readonly KubeObject[], now: number): Regression[] {
    const found: Regression[] = [];
    for (const pod of pods) {
      const uid = pod.metadata.uid ?? pod.metadata.name!;
      let seen = this.seen.get(uid);
      if (!seen) {
        const created = Date.parse(pod.metadata.creationTimestamp ?? '');
        // Born in the window: every restart it has is new. Older: only what it adds from now.
        const born = Number.isFinite(created) && created >= this.opensAt - TIMESTAMP_SLACK_MS;
        seen = { baseline: new Map(statusesOf(pod).map((s) => [s.name, born ? 0 : s.restartCount ?? 0])), born, wasReady: false };
        this.seen.set(uid, seen);
      }
      found.push(...this.containers(pod, seen, now));
      const ready = isPodReady(pod);
      if (seen.wasReady && !ready) found.push({ type: 'unready', pod: pod.metadata.name!, message: `pod ${pod.metadata.name} was ready and is not ready any more${notReadyWhy(pod)}`, time: now });
      seen.wasReady ||= ready;
    }
    return found;
  }

  /**
   * At the end of the window: pods that never became ready although they had
   * half the window to (younger ones are still starting), and a revision
   * with no ready pod at all while the workload wants some.
   */
  atEnd(pods: readonly KubeObject[], now: number, windowMs: number, desired: number, revision: string | undefined): Regression[] {
    const found: Regression[] = [];
    for (const pod of pods) {
      if (isPodReady(pod) || this.seen.get(pod.metadata.uid ?? pod.metadata.name!)?.wasReady) continue;
      const created = Date.parse(pod.metadata.creationTimestamp ?? '');
      if (Number.isFinite(created) && now - created < windowMs / 2) continue;
      found.push({ type: 'never-ready', pod: pod.metadata.name!, message: `pod ${pod.metadata.name} never became ready in the window${notReadyWhy(pod)}`, time: now, ...waitingReason(pod) });
    }
    if (!found.length && desired > 0 && !pods.some(isPodReady)) {
      const what = revision ? `revision ${revision}` : 'the new revision';
      found.push({ type: 'never-ready', pod: '', message: pods.length ? `no pod of ${what} became ready in the window (${pods.length} pod(s))` : `${what} has no pods at the end of the window`, time: now });
    }
    return found;
  }

  private containers(pod: KubeObject, seen: Seen, now: number): Regression[] {
    const found: Regression[] = [];
    const name = pod.metadata.name!;
    for (const s of statusesOf(pod)) {
      let base = seen.baseline.get(s.name);
      if (base === undefined) {
        base = seen.born ? 0 : Number(s.restartCount ?? 0);
        seen.baseline.set(s.name, base);
      }
      const restarts = (s.restartCount ?? 0) - base;
      const term = s.lastState?.terminated ?? s.state?.terminated;
      const oom = term?.reason === 'OOMKilled';
      // A crash shows as a termination before the restart is counted (or instead of one, under restartPolicy Never).
      const crashed = term && ((term.exitCode ?? 0) !== 0 || oom) && Date.parse(term.finishedAt ?? '') >= this.opensAt - TIMESTAMP_SLACK_MS;
      if (restarts <= 0 && !crashed) continue;
      const why = term?.reason ? ` (${restarts > 0 ? 'last ' : ''}${term.reason}${term.exitCode !== undefined ? `, exit ${term.exitCode}` : ''})` : '';
      found.push({
        type: oom ? 'oom-killed' : 'restart', pod: name, container: s.name, time: now,
        message: `pod ${name} container ${s.name} ${oom ? 'was OOMKilled' : restarts > 0 ? `restarted ${restarts} time(s)` : 'exited'}${oom && restarts > 0 ? ` and restarted ${restarts} time(s)` : ''}${why}`,
        ...(term?.reason ? { reason: term.reason } : {}), ...(term?.exitCode !== undefined ? { exitCode: term.exitCode } : {}),
      });
    }
    return found;
  }
}

function waitingReason(pod: KubeObject): { reason?: string } {
  const w = statusesOf(pod).map((s) => s.state?.waiting?.reason).find(Boolean);
  return w ? { reason: w } : {};
}

function notReadyWhy(pod: KubeObject): string {
  const waiting = waitingReason(pod).reason;
  if (waiting) return ` (${waiting})`;
  const c = (pod.status?.conditions ?? []).find((x: any) => x.type === 'Ready');
  return c?.reason ? ` (${c.reason})` : '';
}
