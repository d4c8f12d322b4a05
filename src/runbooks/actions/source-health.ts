// Whether the workload k8s.promote copies images from has shown those images
// work: every replica available, and, among the pods of its current
// revision, no container crash-looping, OOMKilled or restarted within a
// recent window, and no running pod failing readiness. A roll-forward from a
// source that is itself failing spreads the failure; the verdict lists the
// evidence pod by pod, with times, so a person can judge an override.
import { type KubeGet, type KubeHttp, type KubeObject, currentPods, readWorkload } from '../../kube/index.ts';
import type { ActionContext } from '../types.ts';
import { rolloutStatus } from './wait.ts';
import { type WorkloadKind, checkDeclared, objName, toActionError } from './util.ts';

/** Waiting reasons that mean a container cannot run the image (the smoke check's list). */
const STUCK = new Set(['CrashLoopBackOff', 'ErrImagePull', 'ImagePullBackOff', 'InvalidImageName', 'CreateContainerConfigError', 'CreateContainerError', 'RunContainerError']);

export interface Evidence {
  /** The pod (absent for the workload's own status). */
  pod?: string;
  container?: string;
  what: string;
  /** When it happened (RFC 3339), when the status says. */
  at?: string;
}

export interface SourceHealth {
  source: string;
  healthy: boolean;
  /** e.g. "3/3 available, 3 pods of the current revision checked over the last 10m". */
  summary: string;
  evidence: Evidence[];
}

export function describeEvidence(e: Evidence): string {
  const who = e.pod ? `pod ${e.pod}${e.container ? ` container ${e.container}` : ''}: ` : '';
  return `${who}${e.what}${e.at ? ` (${e.at})` : ''}`;
}

/** The source's reads, as the run's identity, on the source's cluster. */
function sourceReads(api: KubeHttp, ctx: ActionContext): KubeGet {
  return async (path, query) => {
    checkDeclared(ctx, 'GET', path, query);
    try {
      return await api.request('GET', path, { query, signal: ctx.signal }, ctx.as);
    } catch (err) {
      throw toActionError(err);
    }
  };
}

function desiredAndAvailable(kind: WorkloadKind, o: KubeObject): [number, number] {
  const st = o.status ?? {};
  if (kind === 'DaemonSet') return [st.desiredNumberScheduled ?? 0, st.numberAvailable ?? 0];
  return [o.spec?.replicas ?? 1, st.availableReplicas ?? 0];
}

/** Pods of the revision the workload runs now: a Deployment's current ReplicaSet, a StatefulSet's or DaemonSet's updateRevision. */
function podsOfCurrentRevision(kind: WorkloadKind, view: Awaited<ReturnType<typeof readWorkload>>): KubeObject[] {
  const live = (pods: KubeObject[]) => pods.filter((p) => !p.metadata.deletionTimestamp);
  if (kind === 'Deployment') return live(currentPods(view));
  const rev = view.obj.status?.updateRevision;
  return live(rev ? view.pods.filter((p) => p.metadata.labels?.['controller-revision-hash'] === rev) : view.pods);
}

export async function sourceHealth(api: KubeHttp, ctx: ActionContext, kind: WorkloadKind, namespace: string, name: string, windowMs: number): Promise<SourceHealth> {
  const source = objName(kind, namespace, name);
  const view = await readWorkload(sourceReads(api, ctx), kind, namespace, name);
  const evidence: Evidence[] = [];
  const [desired, available] = desiredAndAvailable(kind, view.obj);
  if (desired === 0) evidence.push({ what: 'runs no pods, so nothing shows its images work' });
  else if (available < desired) evidence.push({ what: `${available} of ${desired} replicas available` });
  const cond = (view.obj.status?.conditions ?? []).find((c: any) => c.type === 'Available');
  if (kind === 'Deployment' && cond?.status !== 'True') evidence.push({ what: `condition Available is ${cond?.status ?? 'missing'}${cond?.reason ? ` (${cond.reason}${cond.message ? `: ${cond.message}` : ''})` : ''}`, at: cond?.lastTransitionTime });
  try {
    const rollout = rolloutStatus(kind, view.obj);
    if (!rollout.done) evidence.push({ what: `its own rollout is not finished: ${rollout.message}` });
  } catch (err) {
    evidence.push({ what: `its own rollout failed: ${(err as Error).message}` });
  }
  const since = ctx.clock.now() - windowMs;
  const recent = (t: string | undefined) => Boolean(t) && Date.parse(t!) >= since;
  const pods = podsOfCurrentRevision(kind, view);
  for (const pod of pods) {
    const podName = pod.metadata.name;
    for (const s of [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])] as any[]) {
      const last = s.lastState?.terminated ?? s.state?.terminated;
      const waiting = s.state?.waiting?.reason;
      const exit = last ? `${last.reason ?? 'exited'}${last.exitCode !== undefined ? `, exit code ${last.exitCode}` : ''}` : '';
      if (waiting && STUCK.has(waiting)) {
        evidence.push({ pod: podName, container: s.name, what: `${waiting}, ${s.restartCount ?? 0} restarts${exit ? `, last ${exit}` : ''}`, at: last?.finishedAt });
      } else if (last?.reason === 'OOMKilled' && recent(last.finishedAt)) {
        evidence.push({ pod: podName, container: s.name, what: `OOMKilled, ${s.restartCount ?? 0} restarts`, at: last.finishedAt });
      } else if ((s.restartCount ?? 0) > 0 && recent(s.lastState?.terminated?.finishedAt)) {
        evidence.push({ pod: podName, container: s.name, what: `restarted (${s.restartCount} restarts, last ${exit})`, at: last.finishedAt });
      }
    }
    const ready = (pod.status?.conditions ?? []).find((c: any) => c.type === 'Ready');
    if (pod.status?.phase === 'Running' && ready?.status === 'False') {
      evidence.push({ pod: podName, what: `not ready${ready.reason ? ` (${ready.reason}${ready.message ? `: ${ready.message}` : ''})` : ''}`, at: ready.lastTransitionTime });
    }
  }
  const minutes = Math.round(windowMs / 60_000);
  const summary = `${available}/${desired} available, ${pods.length} pod(s) of its current revision checked over the last ${minutes ? `${minutes}m` : `${Math.round(windowMs / 1000)}s`}`;
  return { source, healthy: evidence.length === 0, summary, evidence };
}

/** "source deployment staging/web is healthy (3/3 available, …)" or the evidence, one item after another. */
export function describeHealth(h: SourceHealth): string {
  if (h.healthy) return `source ${h.source} is healthy (${h.summary})`;
  return `source ${h.source} is not healthy (${h.summary}): ${h.evidence.map(describeEvidence).join('; ')}`;
}
