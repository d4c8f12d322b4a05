// Pod state as kube-controller-manager judges it (podutil, controller_utils.go)
// and the other small helpers the workload controllers share: pods stamped
// from templates, IntOrString scaling and status conditions. Owner
// references live in owners.ts, template and revision hashes in hash.ts.
import type { K8sObject } from '../types.ts';
import { newControllerRef } from './owners.ts';
import { cloneObject } from '../clone.ts';

export function podCondition(pod: K8sObject, type: string): any {
  return (pod.status?.conditions ?? []).find((c: any) => c.type === type);
}

export function isPodReady(pod: K8sObject): boolean {
  return podCondition(pod, 'Ready')?.status === 'True';
}

/** When the pod last became Ready (ms), or undefined when it is not ready. */
export function podReadyTime(pod: K8sObject): number | undefined {
  const c = podCondition(pod, 'Ready');
  if (c?.status !== 'True' || !c.lastTransitionTime) return undefined;
  return Date.parse(c.lastTransitionTime);
}

export function isPodTerminal(pod: K8sObject): boolean {
  return pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
}

/** controller.IsPodActive: not finished and not being deleted, so it counts toward a controller's replicas. */
export function isPodActive(pod: K8sObject): boolean {
  return !isPodTerminal(pod) && !pod.metadata.deletionTimestamp;
}

/** podutil.IsPodAvailable: ready for at least minReadySeconds (strictly). */
export function isPodAvailable(pod: K8sObject, minReadySeconds: number, now: number): boolean {
  if (!isPodReady(pod)) return false;
  if (!minReadySeconds) return true;
  const since = podReadyTime(pod);
  return since !== undefined && since + minReadySeconds * 1000 < now;
}

/**
 * Milliseconds until a ready pod becomes available, if it is ready but not yet
 * available; undefined when waiting will not make it so.
 */
export function msUntilAvailable(pod: K8sObject, minReadySeconds: number, now: number): number | undefined {
  if (!minReadySeconds || !isPodReady(pod) || isPodAvailable(pod, minReadySeconds, now)) return undefined;
  const since = podReadyTime(pod);
  if (since === undefined || !Number.isFinite(since)) return undefined;
  return Math.max(0, since + minReadySeconds * 1000 - now) + 1;
}

/**
 * A pod built from a controller's template (controller.GetPodFromTemplate):
 * template labels/annotations, a controller reference, and either a fixed
 * name or `generateName: <owner>-`.
 */
export function podFromTemplate(owner: K8sObject, template: any, name?: string): K8sObject {
  const tmeta = template?.metadata ?? {};
  const metadata: K8sObject['metadata'] = {
    namespace: owner.metadata.namespace,
    labels: { ...(tmeta.labels ?? {}) },
    ownerReferences: [newControllerRef(owner)],
  };
  if (tmeta.annotations && Object.keys(tmeta.annotations).length) metadata.annotations = { ...tmeta.annotations };
  if (tmeta.finalizers?.length) metadata.finalizers = [...tmeta.finalizers];
  if (name) metadata.name = name;
  else metadata.generateName = `${owner.metadata.name}-`;
  return { apiVersion: 'v1', kind: 'Pod', metadata, spec: cloneObject(template?.spec ?? {}) };
}

/** Scales an IntOrString ("25%" or 3) against `total` (intstr.GetScaledValueFromIntOrPercent). */
export function scaledValue(v: number | string | undefined, total: number, roundUp: boolean, fallback: number): number {
  if (v === undefined || v === null) return fallback;
  if (typeof v === 'number') return v;
  const m = /^(\d+)%$/.exec(v.trim());
  if (!m) {
    const n = Number(v);
    if (Number.isInteger(n)) return n;
    throw new RangeError(`invalid value for IntOrString: invalid type: string is not a percentage`);
  }
  const x = (Number(m[1]) * total) / 100;
  return roundUp ? Math.ceil(x) : Math.floor(x);
}

/** Sets a condition in place of one of its type, moving lastTransitionTime only when its status changes. */
export function setCondition(conditions: any[], cond: { type: string; status: string; [k: string]: unknown }, nowIso: string): any[] {
  const out = [...conditions];
  const i = out.findIndex((c) => c.type === cond.type);
  const prev = i >= 0 ? out[i] : undefined;
  const lastTransitionTime = prev && prev.status === cond.status ? prev.lastTransitionTime : nowIso;
  const { type, status, ...rest } = cond;
  const next = { type, status, lastTransitionTime, ...rest };
  if (i >= 0) out[i] = next;
  else out.push(next);
  return out;
}
