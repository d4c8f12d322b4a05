// The scheduler's VolumeBinding plugin, reduced to what claims decide: a
// missing or deleting claim, or an unbound claim of an Immediate class, keeps
// the pod Pending (PreFilter, with the real messages); a bound volume's node
// affinity filters nodes; unbound WaitForFirstConsumer claims are given the
// chosen node (volume.kubernetes.io/selected-node) and the pod is bound only
// once the provisioner has bound them (PreBind waits).
import type { ObjectStore } from '../store.ts';
import type { K8sObject } from '../types.ts';
import { matchesNodeSelectorTerms } from './node-affinity.ts';
import { SELECTED_NODE, podClaims } from './volumes.ts';

export interface VolumeCheck {
  /** A PreFilter rejection: no node can help. */
  error?: string;
  /** Unbound WaitForFirstConsumer claims the pod waits for. */
  waitFor: K8sObject[];
  /** A node a bound volume cannot be used on: the reason, else undefined. */
  nodeConflict(node: K8sObject): string | undefined;
}

export function checkPodVolumes(store: ObjectStore, pod: K8sObject): VolumeCheck {
  const waitFor: K8sObject[] = [];
  const affinities: any[] = [];
  const ns = pod.metadata.namespace;
  let unboundImmediate = false;
  for (const claim of podClaims(pod)) {
    const pvc = store.get('persistentvolumeclaims', ns, claim);
    if (!pvc) return { error: `persistentvolumeclaim "${claim}" not found`, waitFor, nodeConflict: () => undefined };
    if (pvc.metadata.deletionTimestamp) return { error: `persistentvolumeclaim "${claim}" is being deleted`, waitFor, nodeConflict: () => undefined };
    if (pvc.spec?.volumeName) {
      const pv = store.get('persistentvolumes', undefined, pvc.spec.volumeName);
      const terms = pv?.spec?.nodeAffinity?.required?.nodeSelectorTerms;
      if (terms) affinities.push(terms);
      continue;
    }
    const sc = pvc.spec?.storageClassName ? store.get('storage.k8s.io/storageclasses', undefined, pvc.spec.storageClassName) : undefined;
    if (sc?.volumeBindingMode === 'WaitForFirstConsumer') waitFor.push(pvc);
    else unboundImmediate = true;
  }
  if (unboundImmediate) return { error: 'pod has unbound immediate PersistentVolumeClaims', waitFor: [], nodeConflict: () => undefined };
  return {
    waitFor,
    nodeConflict: (node) => (affinities.every((terms) => matchesNodeSelectorTerms(terms, node)) ? undefined : 'node(s) had volume node affinity conflict'),
  };
}

/** AssumePodVolumes + BindPodVolumes: each waiting claim learns the node it will be provisioned for. */
export function selectNodeForClaims(store: ObjectStore, claims: K8sObject[], node: string): void {
  for (const pvc of claims) {
    if (pvc.metadata.annotations?.[SELECTED_NODE]) continue;
    store.mutate('persistentvolumeclaims', pvc.metadata.namespace, pvc.metadata.name!, (c) => {
      c.metadata.annotations = { ...(c.metadata.annotations ?? {}), [SELECTED_NODE]: node };
    });
  }
}
