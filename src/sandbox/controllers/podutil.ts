// Small helpers the workload controllers (StatefulSet, DaemonSet, Job, HPA,
// disruption) share: pod health as kube-controller-manager judges it, owner
// references, pods stamped from templates, and ControllerRevision hashes.
import type { K8sObject, OwnerReference } from '../types.ts';

export function podCondition(pod: K8sObject, type: string): any {
  return (pod.status?.conditions ?? []).find((c: any) => c.type === type);
}

export function isPodReady(pod: K8sObject): boolean {
  return podCondition(pod, 'Ready')?.status === 'True';
}

export function isPodTerminal(pod: K8sObject): boolean {
  return pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
}

/** Not finished and not being deleted: counts toward a controller's replicas. */
export function isPodActive(pod: K8sObject): boolean {
  return !isPodTerminal(pod) && !pod.metadata.deletionTimestamp;
}

/** Ready for at least minReadySeconds (podutil.IsPodAvailable). */
export function isPodAvailable(pod: K8sObject, minReadySeconds: number, now: number): boolean {
  const ready = podCondition(pod, 'Ready');
  if (ready?.status !== 'True') return false;
  if (!minReadySeconds) return true;
  const since = Date.parse(ready.lastTransitionTime ?? '');
  return Number.isFinite(since) && since + minReadySeconds * 1000 <= now;
}

/** Milliseconds until a ready pod becomes available, or undefined if it never will by waiting. */
export function msUntilAvailable(pod: K8sObject, minReadySeconds: number, now: number): number | undefined {
  const ready = podCondition(pod, 'Ready');
  if (ready?.status !== 'True' || !minReadySeconds) return undefined;
  const at = Date.parse(ready.lastTransitionTime ?? '') + minReadySeconds * 1000;
  return at > now ? at - now : undefined;
}

export function newControllerRef(owner: K8sObject): OwnerReference {
  return {
    apiVersion: owner.apiVersion!,
    kind: owner.kind!,
    name: owner.metadata.name!,
    uid: owner.metadata.uid!,
    controller: true,
    blockOwnerDeletion: true,
  };
}

export function controllerRefOf(obj: K8sObject): OwnerReference | undefined {
  return obj.metadata.ownerReferences?.find((r) => r.controller);
}

export function isControlledBy(obj: K8sObject, owner: K8sObject): boolean {
  return controllerRefOf(obj)?.uid === owner.metadata.uid;
}

/** Objects in `storage` whose controller is `owner`. */
export function ownedBy(list: K8sObject[], owner: K8sObject): K8sObject[] {
  return list.filter((o) => isControlledBy(o, owner));
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
  return { apiVersion: 'v1', kind: 'Pod', metadata, spec: structuredClone(template?.spec ?? {}) };
}

/** JSON with sorted keys, so equal templates hash equally whatever their key order. */
export function stableStringify(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableStringify).join(',')}]`;
  if (v && typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined);
    entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${stableStringify(x)}`).join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

const SAFE_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/**
 * controller.ComputeHash / ControllerRevisionHash: FNV-32a of the data plus
 * the collision count, printed in decimal and mapped through the
 * vowel-free alphabet, e.g. "7b9c6d5f4".
 */
export function revisionHash(data: unknown, collisionCount = 0): string {
  let h = 0x811c9dc5;
  const text = stableStringify(data) + (collisionCount ? String(collisionCount) : '');
  for (const byte of Buffer.from(text, 'utf8')) {
    h ^= byte;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return [...String(h)].map((c) => SAFE_ALPHABET[c.charCodeAt(0) % SAFE_ALPHABET.length]).join('');
}

/** What a StatefulSet or DaemonSet stores in a ControllerRevision: its template, replacing the old one. */
export function revisionData(owner: K8sObject): any {
  return { spec: { template: { ...structuredClone(owner.spec?.template ?? {}), $patch: 'replace' } } };
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
