// Reading a workload together with what it owns: a Deployment's ReplicaSets
// (and which one is current), and the pods each kind controls. Pods are
// matched by owner, not only by selector, so overlapping selectors do not
// mix two workloads' pods.
import { POD_TEMPLATE_HASH, listPath, pathOf, revisionOf, selectorString, templatesEqual, type KubeGet } from './read.ts';
import type { KubeObject } from './types.ts';

export interface WorkloadView {
  obj: KubeObject;
  pods: KubeObject[];
  /** Deployments only: owned ReplicaSets, newest revision first. */
  replicaSets: KubeObject[];
  /** Deployments only: the ReplicaSet whose template is the Deployment's. */
  currentRS?: KubeObject;
}

const controlledBy = (o: KubeObject, uids: Set<string | undefined>) => o.metadata.ownerReferences?.some((r) => r.controller && uids.has(r.uid)) ?? false;

/** The ReplicaSets a Deployment controls (GetAllReplicaSets), newest revision first. */
export async function ownedReplicaSets(get: KubeGet, dep: KubeObject): Promise<KubeObject[]> {
  const list = await get<{ items: KubeObject[] }>(listPath('ReplicaSet', dep.metadata.namespace), { labelSelector: selectorString(dep.spec?.selector) || undefined });
  return list.items.filter((rs) => controlledBy(rs, new Set([dep.metadata.uid]))).sort((a, b) => (revisionOf(b) || 0) - (revisionOf(a) || 0));
}

export async function readWorkload(get: KubeGet, kind: string, namespace: string | undefined, name: string): Promise<WorkloadView> {
  const obj = await get<KubeObject>(pathOf(kind, namespace, name));
  if (kind === 'Pod') return { obj, pods: [obj], replicaSets: [] };
  if (kind === 'Node') {
    const list = await get<{ items: KubeObject[] }>(listPath('Pod'), { fieldSelector: `spec.nodeName=${name}` });
    return { obj, pods: list.items, replicaSets: [] };
  }
  const replicaSets = kind === 'Deployment' ? await ownedReplicaSets(get, obj) : [];
  const owners = new Set(kind === 'Deployment' ? replicaSets.map((rs) => rs.metadata.uid) : [obj.metadata.uid]);
  const list = await get<{ items: KubeObject[] }>(listPath('Pod', namespace), { labelSelector: selectorString(obj.spec?.selector) || undefined });
  const pods = list.items.filter((pod) => controlledBy(pod, owners));
  const currentRS = replicaSets.find((rs) => templatesEqual(rs.spec?.template, obj.spec?.template));
  return { obj, pods, replicaSets, currentRS };
}

/** Pods of the Deployment's current template (all pods for other kinds). */
export function currentPods(view: WorkloadView): KubeObject[] {
  if (!view.currentRS) return view.pods;
  const hash = view.currentRS.metadata.labels?.[POD_TEMPLATE_HASH];
  return view.pods.filter((pod) => pod.metadata.ownerReferences?.some((r) => r.uid === view.currentRS!.metadata.uid) || (hash && pod.metadata.labels?.[POD_TEMPLATE_HASH] === hash));
}

export interface PodSummary {
  name: string;
  phase?: string;
  ready: boolean;
  node?: string;
  restarts: number;
  /** Waiting/terminated reasons of containers, and unmet pod conditions (e.g. Unschedulable). */
  reasons: string[];
  revision?: string;
  lastTermination?: { container: string; reason?: string; exitCode?: number; finishedAt?: string };
  terminating: boolean;
}

export function summarizePod(pod: KubeObject): PodSummary {
  const statuses: any[] = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
  const reasons = new Set<string>();
  let lastTermination: PodSummary['lastTermination'];
  for (const s of statuses) {
    if (s.state?.waiting?.reason) reasons.add(s.state.waiting.reason);
    if (s.state?.terminated?.reason && s.state.terminated.exitCode !== 0) reasons.add(s.state.terminated.reason);
    const t = s.lastState?.terminated ?? s.state?.terminated;
    if (t && (!lastTermination || (t.finishedAt ?? '') > (lastTermination.finishedAt ?? ''))) {
      lastTermination = { container: s.name, reason: t.reason, exitCode: t.exitCode, finishedAt: t.finishedAt };
    }
  }
  for (const c of pod.status?.conditions ?? []) if (c.status === 'False' && c.reason && c.type !== 'Ready' && c.type !== 'ContainersReady') reasons.add(c.reason);
  return {
    name: pod.metadata.name!,
    phase: pod.status?.phase,
    ready: (pod.status?.conditions ?? []).some((c: any) => c.type === 'Ready' && c.status === 'True'),
    node: pod.spec?.nodeName,
    restarts: statuses.reduce((n, s) => n + (s.restartCount ?? 0), 0),
    reasons: [...reasons],
    revision: pod.metadata.labels?.[POD_TEMPLATE_HASH] ?? pod.metadata.labels?.['controller-revision-hash'],
    lastTermination,
    terminating: Boolean(pod.metadata.deletionTimestamp),
  };
}
