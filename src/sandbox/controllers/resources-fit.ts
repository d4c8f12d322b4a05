// Requests-versus-allocatable arithmetic and the scheduler's node filters,
// shared by the scheduler (placement, preemption dry runs) and the node agent
// (allocatable, eviction ranking). Filter order and failure wording follow
// kube-scheduler 1.32's default plugins, because users read these strings in
// events.
import { tryQuantity } from '../../common/index.ts';
import type { K8sObject } from '../types.ts';
import { TAINT_UNSCHEDULABLE, effectiveTaints, toleratesTaint, tolerationsOf } from './taints.ts';
import { matchesNodeSelection } from './node-affinity.ts';

export interface Resources {
  /** Cores. */
  cpu: number;
  /** Bytes. */
  memory: number;
  /** Pod count. */
  pods: number;
}

const SYSTEM_RESERVED_ANNOTATION = 'kubemend.dev/system-reserved-memory';
const DEFAULT_SYSTEM_RESERVED = 256 * 2 ** 20;

// The scheduler scores a container without requests as if it asked for this
// much (pkg/scheduler/util: DefaultMilliCPURequest, DefaultMemoryRequest), so
// BestEffort pods still spread.
const NON_ZERO_CPU = 0.1;
const NON_ZERO_MEMORY = 200 * 2 ** 20;

export function isTerminal(pod: K8sObject): boolean {
  const phase = pod.status?.phase;
  return phase === 'Succeeded' || phase === 'Failed';
}

function containerRequest(c: any, resource: 'cpu' | 'memory'): number {
  // The API server defaults a missing request to the limit.
  const q = c?.resources?.requests?.[resource] ?? c?.resources?.limits?.[resource];
  return tryQuantity(q) ?? 0;
}

function effective(spec: any, resource: 'cpu' | 'memory', nonZero: boolean): number {
  const one = (c: any) => {
    const r = containerRequest(c, resource);
    return nonZero && r === 0 ? (resource === 'cpu' ? NON_ZERO_CPU : NON_ZERO_MEMORY) : r;
  };
  let containers = 0;
  for (const c of spec?.containers ?? []) containers += one(c);
  // Init containers run one at a time before the app containers; sidecars
  // (restartPolicy Always) keep running, so they add to everything after them.
  let sidecars = 0;
  let initPeak = 0;
  for (const c of spec?.initContainers ?? []) {
    if (c.restartPolicy === 'Always') {
      sidecars += one(c);
      initPeak = Math.max(initPeak, sidecars);
    } else {
      initPeak = Math.max(initPeak, sidecars + one(c));
    }
  }
  const overhead = tryQuantity(spec?.overhead?.[resource]) ?? 0;
  return Math.max(containers + sidecars, initPeak) + overhead;
}

/** The pod's effective requests, as NodeResourcesFit computes them. */
export function podRequests(pod: K8sObject): { cpu: number; memory: number } {
  return { cpu: effective(pod.spec, 'cpu', false), memory: effective(pod.spec, 'memory', false) };
}

/** Requests with the scheduler's non-zero defaults, used only for scoring. */
export function podScoringRequests(pod: K8sObject): { cpu: number; memory: number } {
  return { cpu: effective(pod.spec, 'cpu', true), memory: effective(pod.spec, 'memory', true) };
}

/** A container's memory request in bytes (0 when unset), for eviction ranking. */
export function containerMemoryRequest(c: any): number {
  return containerRequest(c, 'memory');
}

export function nodeAllocatable(node: K8sObject): Resources {
  const a = node.status?.allocatable ?? node.status?.capacity ?? {};
  return { cpu: tryQuantity(a.cpu) ?? 0, memory: tryQuantity(a.memory) ?? 0, pods: tryQuantity(a.pods) ?? 110 };
}

export function nodeCapacityMemory(node: K8sObject): number {
  return tryQuantity(node.status?.capacity?.memory) ?? 0;
}

/** Memory the node's own daemons hold back, from the sandbox's node annotation. */
export function systemReservedMemory(node: K8sObject): number {
  return tryQuantity(node.metadata.annotations?.[SYSTEM_RESERVED_ANNOTATION]) ?? DEFAULT_SYSTEM_RESERVED;
}

export function priorityOf(pod: K8sObject): number {
  return typeof pod.spec?.priority === 'number' ? pod.spec.priority : 0;
}

/** Pods bound to each node that still hold resources (not Succeeded/Failed). */
export function podsByNode(pods: K8sObject[]): Map<string, K8sObject[]> {
  const out = new Map<string, K8sObject[]>();
  for (const p of pods) {
    const n = p.spec?.nodeName;
    if (!n || isTerminal(p)) continue;
    let list = out.get(n);
    if (!list) out.set(n, (list = []));
    list.push(p);
  }
  return out;
}

export function sumRequests(pods: K8sObject[], scoring = false): Resources {
  const total: Resources = { cpu: 0, memory: 0, pods: pods.length };
  for (const p of pods) {
    const r = scoring ? podScoringRequests(p) : podRequests(p);
    total.cpu += r.cpu;
    total.memory += r.memory;
  }
  return total;
}

export interface FitResult {
  reasons: string[];
  /** False for UnschedulableAndUnresolvable failures, where preemption cannot help. */
  resolvable: boolean;
}

/**
 * Runs the default filter plugins in order (NodeUnschedulable, TaintToleration,
 * NodeAffinity, NodeResourcesFit) and returns the first failure's reasons, or
 * undefined when the pod fits. `others` are the pods already on the node.
 */
export function filterNode(pod: K8sObject, node: K8sObject, others: K8sObject[]): FitResult | undefined {
  const tolerations = tolerationsOf(pod);
  if (node.spec?.unschedulable && !tolerations.some((t) => toleratesTaint(t, { key: TAINT_UNSCHEDULABLE, effect: 'NoSchedule' }))) {
    return { reasons: ['node(s) were unschedulable'], resolvable: false };
  }
  const untolerated = effectiveTaints(node).find(
    (taint) => (taint.effect === 'NoSchedule' || taint.effect === 'NoExecute') && !tolerations.some((t) => toleratesTaint(t, taint)),
  );
  if (untolerated) {
    return { reasons: [`node(s) had untolerated taint {${untolerated.key}: ${untolerated.value ?? ''}}`], resolvable: false };
  }
  if (!matchesNodeSelection(pod, node)) {
    return { reasons: ["node(s) didn't match Pod's node affinity/selector"], resolvable: false };
  }
  const reasons = insufficientResources(pod, node, others);
  return reasons.length ? { reasons, resolvable: true } : undefined;
}

/** NodeResourcesFit's reasons, in its order: pod count, cpu, memory. */
export function insufficientResources(pod: K8sObject, node: K8sObject, others: K8sObject[]): string[] {
  const alloc = nodeAllocatable(node);
  const used = sumRequests(others);
  const req = podRequests(pod);
  const reasons: string[] = [];
  if (used.pods + 1 > alloc.pods) reasons.push('Too many pods');
  // A tiny epsilon keeps 0.1+0.2-style float sums from failing an exact fit.
  if (req.cpu > 0 && req.cpu > alloc.cpu - used.cpu + 1e-9) reasons.push('Insufficient cpu');
  if (req.memory > 0 && req.memory > alloc.memory - used.memory) reasons.push('Insufficient memory');
  return reasons;
}

/** resource.Quantity's canonical BinarySI form: "3Gi", "53248Ki", or plain bytes. */
export function binarySI(bytes: number): string {
  const n = Math.round(bytes);
  if (n === 0) return '0';
  for (const [suffix, size] of [['Ei', 2 ** 60], ['Pi', 2 ** 50], ['Ti', 2 ** 40], ['Gi', 2 ** 30], ['Mi', 2 ** 20], ['Ki', 2 ** 10]] as const) {
    if (Math.abs(n) >= size && n % size === 0) return `${n / size}${suffix}`;
  }
  return String(n);
}
