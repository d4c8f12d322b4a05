// Taints and tolerations, shared by the scheduler's TaintToleration filter,
// the node lifecycle controller and the node agent.
import { withDefaultTolerations as admittedTolerations } from '../strategy.ts';
import type { K8sObject } from '../types.ts';

export interface Taint {
  key: string;
  value?: string;
  effect: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';
  timeAdded?: string;
}

export interface Toleration {
  key?: string;
  operator?: 'Exists' | 'Equal';
  value?: string;
  effect?: string;
  tolerationSeconds?: number;
}

export const TAINT_UNSCHEDULABLE = 'node.kubernetes.io/unschedulable';
export const TAINT_NOT_READY = 'node.kubernetes.io/not-ready';
export const TAINT_UNREACHABLE = 'node.kubernetes.io/unreachable';
export const TAINT_MEMORY_PRESSURE = 'node.kubernetes.io/memory-pressure';

/** What the DefaultTolerationSeconds admission plugin gives every pod. */
export const DEFAULT_TOLERATION_SECONDS = 300;

/** v1.Toleration.ToleratesTaint. */
export function toleratesTaint(t: Toleration, taint: Taint): boolean {
  if (t.effect && t.effect !== taint.effect) return false;
  if (t.key && t.key !== taint.key) return false;
  if (t.operator === 'Exists') return true;
  return (t.value ?? '') === (taint.value ?? '');
}

export function tolerationsOf(pod: K8sObject): Toleration[] {
  return pod.spec?.tolerations ?? [];
}

/**
 * The pod's tolerations after the DefaultTolerationSeconds admission plugin:
 * 300s for not-ready and unreachable NoExecute unless the pod already has its own.
 */
export function withDefaultTolerations(tolerations: Toleration[]): Toleration[] {
  // The API server adds these when a pod is written; pods saved before it did may lack them.
  return admittedTolerations(tolerations) as Toleration[];
}

export function nodeTaints(node: K8sObject): Taint[] {
  return node.spec?.taints ?? [];
}

function readyStatus(node: K8sObject): string | undefined {
  return (node.status?.conditions ?? []).find((c: any) => c.type === 'Ready')?.status;
}

/**
 * The node's taints plus the NoSchedule taint its Ready condition implies.
 * The lifecycle controller adds that taint itself; counting it here closes
 * the window before it does, so a NotReady node never receives pods.
 */
export function effectiveTaints(node: K8sObject): Taint[] {
  const taints = nodeTaints(node);
  const ready = readyStatus(node);
  const implied = ready === 'False' ? TAINT_NOT_READY : ready === 'True' ? undefined : TAINT_UNREACHABLE;
  if (implied && !taints.some((t) => t.key === implied && t.effect === 'NoSchedule')) {
    return [...taints, { key: implied, effect: 'NoSchedule' }];
  }
  return taints;
}
