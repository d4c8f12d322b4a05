// Ownership and pod-state helpers shared by the Deployment, ReplicaSet and
// garbage-collector controllers, mirroring k8s.io/kubernetes/pkg/controller
// (controller_ref_manager.go, controller_utils.go) and podutil.
import type { ObjectStore } from '../store.ts';
import type { K8sObject, OwnerReference } from '../types.ts';

export const POD_TEMPLATE_HASH = 'pod-template-hash';

/** The ownerReference with controller=true, if any. */
export function controllerRef(obj: K8sObject | undefined): OwnerReference | undefined {
  return obj?.metadata.ownerReferences?.find((r) => r.controller === true);
}

/** What a controller stamps on the objects it creates (metav1.NewControllerRef). */
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

export function isOwnedBy(obj: K8sObject, owner: K8sObject): boolean {
  return controllerRef(obj)?.uid === owner.metadata.uid;
}

/** JSON with object keys sorted, so equal objects always render (and hash) the same. */
export function canonicalJson(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null';
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(v as Record<string, unknown>)
    .filter(([, x]) => x !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${canonicalJson(x)}`).join(',')}}`;
}

const SAFE_ALPHANUMS = 'bcdfghjklmnpqrstvwxz2456789';

/**
 * controller.ComputeHash: FNV-1a (32 bit) of the pod template plus the
 * collision count, printed in decimal and mapped through rand.SafeEncodeString
 * so the result never spells words and is at most 10 characters.
 */
export function podTemplateHash(template: unknown, collisionCount?: number): string {
  let text = canonicalJson(template);
  if (collisionCount !== undefined && collisionCount !== null) text += `#${collisionCount}`;
  let h = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(text)) {
    h ^= byte;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  let out = '';
  for (const ch of String(h)) out += SAFE_ALPHANUMS[ch.charCodeAt(0) % SAFE_ALPHANUMS.length];
  return out;
}

/** deploymentutil.EqualIgnoreHash: templates equal apart from the pod-template-hash label. */
export function templatesEqualIgnoringHash(a: any, b: any): boolean {
  const strip = (t: any) => {
    const c = structuredClone(t ?? {});
    if (c.metadata?.labels) {
      delete c.metadata.labels[POD_TEMPLATE_HASH];
      if (Object.keys(c.metadata.labels).length === 0) delete c.metadata.labels;
    }
    return canonicalJson(c);
  };
  return strip(a) === strip(b);
}

function readyCondition(pod: K8sObject): any {
  return (pod.status?.conditions ?? []).find((c: any) => c.type === 'Ready');
}

export function isPodReady(pod: K8sObject): boolean {
  return readyCondition(pod)?.status === 'True';
}

/** When the pod last became Ready (ms), or undefined when it is not ready. */
export function podReadyTime(pod: K8sObject): number | undefined {
  const c = readyCondition(pod);
  if (c?.status !== 'True' || !c.lastTransitionTime) return undefined;
  return Date.parse(c.lastTransitionTime);
}

/** podutil.IsPodAvailable: ready for at least minReadySeconds (strictly). */
export function isPodAvailable(pod: K8sObject, minReadySeconds: number, now: number): boolean {
  if (!isPodReady(pod)) return false;
  if (!minReadySeconds) return true;
  const since = podReadyTime(pod);
  return since !== undefined && since + minReadySeconds * 1000 < now;
}

/** Milliseconds until a ready pod becomes available, if it is ready but not yet available. */
export function msUntilAvailable(pod: K8sObject, minReadySeconds: number, now: number): number | undefined {
  if (!minReadySeconds || !isPodReady(pod) || isPodAvailable(pod, minReadySeconds, now)) return undefined;
  const since = podReadyTime(pod);
  if (since === undefined) return undefined;
  return Math.max(0, since + minReadySeconds * 1000 - now) + 1;
}

/** controller.IsPodActive: not finished and not being deleted. */
export function isPodActive(pod: K8sObject): boolean {
  const phase = pod.status?.phase;
  return phase !== 'Succeeded' && phase !== 'Failed' && !pod.metadata.deletionTimestamp;
}

export function activePods(pods: K8sObject[]): K8sObject[] {
  return pods.filter(isPodActive);
}

/**
 * ControllerRefManager.Claim: keeps the children `owner` controls that still
 * match, adopts matching orphans and releases owned children that no longer
 * match. A controller being deleted neither adopts nor releases.
 */
export function claimChildren(
  store: ObjectStore,
  storage: string,
  owner: K8sObject,
  children: K8sObject[],
  matches: (child: K8sObject) => boolean,
): K8sObject[] {
  const claimed: K8sObject[] = [];
  const ownerDeleting = !!owner.metadata.deletionTimestamp;
  for (const child of children) {
    const ref = controllerRef(child);
    const ns = child.metadata.namespace;
    const name = child.metadata.name!;
    if (ref) {
      if (ref.uid !== owner.metadata.uid) continue;
      if (matches(child)) {
        claimed.push(child);
        continue;
      }
      if (ownerDeleting) continue;
      store.mutate(storage, ns, name, (o) => {
        const refs = (o.metadata.ownerReferences ?? []).filter((r) => r.uid !== owner.metadata.uid);
        if (refs.length) o.metadata.ownerReferences = refs;
        else delete o.metadata.ownerReferences;
      });
      continue;
    }
    if (ownerDeleting || child.metadata.deletionTimestamp || !matches(child)) continue;
    if (child.metadata.namespace !== owner.metadata.namespace) continue;
    const adopted = store.mutate(storage, ns, name, (o) => {
      if (controllerRef(o)) return false;
      o.metadata.ownerReferences = [...(o.metadata.ownerReferences ?? []), newControllerRef(owner)];
    });
    if (adopted && isOwnedBy(adopted, owner)) claimed.push(adopted);
  }
  return claimed;
}

/** The revision annotation as a number (0 when absent or malformed). */
export function revisionOf(obj: K8sObject | undefined): number {
  const v = Number(obj?.metadata.annotations?.['deployment.kubernetes.io/revision']);
  return Number.isFinite(v) && v > 0 ? Math.floor(v) : 0;
}

export function creationTime(obj: K8sObject): number {
  const t = obj.metadata.creationTimestamp;
  return t ? Date.parse(t) : 0;
}

/** controller.ReplicaSetsByCreationTimestamp: oldest first, name breaks ties. */
export function byCreation(a: K8sObject, b: K8sObject): number {
  return creationTime(a) - creationTime(b) || (a.metadata.name! < b.metadata.name! ? -1 : a.metadata.name! > b.metadata.name! ? 1 : 0);
}
