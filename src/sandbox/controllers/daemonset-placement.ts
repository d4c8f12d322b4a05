// Where a DaemonSet's pods belong, after NodeShouldRunDaemonPod in Kubernetes
// 1.32: nodes matching the template's nodeSelector / node affinity whose
// NoSchedule/NoExecute taints the pod tolerates, with the tolerations the
// real controller always adds, and the node-name affinity that pins a pod.
import type { K8sObject } from '../types.ts';
import { matchesNodeSelection } from './node-affinity.ts';

/** AddOrUpdateDaemonPodTolerations: daemons keep running through node trouble and cordons. */
export const DAEMON_TOLERATIONS = [
  { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute' },
  { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' },
  { key: 'node.kubernetes.io/disk-pressure', operator: 'Exists', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/memory-pressure', operator: 'Exists', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/pid-pressure', operator: 'Exists', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' },
];

/** ReplaceDaemonSetPodNodeNameNodeAffinity: required terms become `metadata.name In [node]`. */
export function pinToNode(spec: any, nodeName: string): void {
  spec.affinity ??= {};
  spec.affinity.nodeAffinity ??= {};
  spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution = {
    nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: [nodeName] }] }],
  };
  const tolerations: any[] = spec.tolerations ?? [];
  for (const t of DAEMON_TOLERATIONS) {
    if (!tolerations.some((x) => x.key === t.key && x.effect === t.effect)) tolerations.push({ ...t });
  }
  if (spec.hostNetwork && !tolerations.some((x) => x.key === 'node.kubernetes.io/network-unavailable')) {
    tolerations.push({ key: 'node.kubernetes.io/network-unavailable', operator: 'Exists', effect: 'NoSchedule' });
  }
  spec.tolerations = tolerations;
}

export function targetNode(pod: K8sObject): string | undefined {
  const terms = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? [];
  for (const t of terms) {
    for (const f of t.matchFields ?? []) {
      if (f.key === 'metadata.name' && f.operator === 'In' && f.values?.length === 1) return f.values[0];
    }
  }
  return undefined;
}

function tolerates(tolerations: any[], taint: any): boolean {
  return tolerations.some((t) => {
    if (t.effect && t.effect !== taint.effect) return false;
    if (t.operator === 'Exists') return !t.key || t.key === taint.key;
    return t.key === taint.key && (t.value ?? '') === (taint.value ?? '');
  });
}

/** NodeShouldRunDaemonPod: whether to place a pod, and whether an existing one may stay. */
export function nodeShouldRunDaemonPod(node: K8sObject, ds: K8sObject): { shouldRun: boolean; shouldContinueRunning: boolean } {
  const spec = structuredClone(ds.spec.template?.spec ?? {});
  if (spec.nodeName && spec.nodeName !== node.metadata.name) return { shouldRun: false, shouldContinueRunning: false };
  if (!matchesNodeSelection({ metadata: {}, spec }, node)) return { shouldRun: false, shouldContinueRunning: false };
  pinToNode(spec, node.metadata.name!);
  const taints: any[] = node.spec?.taints ?? [];
  const untolerated = (effect: string) => taints.some((t) => t.effect === effect && !tolerates(spec.tolerations, t));
  if (untolerated('NoSchedule') || untolerated('NoExecute')) {
    return { shouldRun: false, shouldContinueRunning: !untolerated('NoExecute') };
  }
  return { shouldRun: true, shouldContinueRunning: true };
}
