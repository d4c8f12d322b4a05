// Owner references as the workload controllers and the garbage collector use
// them, mirroring k8s.io/kubernetes/pkg/controller (controller_ref_manager.go,
// controller_utils.go) and metav1's controller-ref helpers, plus the
// ReplicaSet ordering and revision helpers the Deployment controller shares.
import type { ObjectStore } from '../store.ts';
import type { K8sObject, OwnerReference } from '../types.ts';
import { canonicalJson } from './hash.ts';
import { cloneObject } from '../clone.ts';

export const POD_TEMPLATE_HASH = 'pod-template-hash';

/** The ownerReference with controller=true, if any (metav1.GetControllerOf). */
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

/** metav1.IsControlledBy: `owner` is the object's controller. */
export function isControlledBy(obj: K8sObject, owner: K8sObject): boolean {
  return controllerRef(obj)?.uid === owner.metadata.uid;
}

/** The objects in `list` whose controller is `owner`. */
export function ownedBy(list: K8sObject[], owner: K8sObject): K8sObject[] {
  return list.filter((o) => isControlledBy(o, owner));
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
    if (adopted && isControlledBy(adopted, owner)) claimed.push(adopted);
  }
  return claimed;
}

/** deploymentutil.EqualIgnoreHash: templates equal apart from the pod-template-hash label. */
export function templatesEqualIgnoringHash(a: any, b: any): boolean {
  const strip = (t: any) => {
    const c = cloneObject(t ?? {});
    if (c.metadata?.labels) {
      delete c.metadata.labels[POD_TEMPLATE_HASH];
      if (Object.keys(c.metadata.labels).length === 0) delete c.metadata.labels;
    }
    return canonicalJson(c);
  };
  return strip(a) === strip(b);
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
