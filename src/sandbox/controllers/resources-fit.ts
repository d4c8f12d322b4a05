// Requests-versus-allocatable arithmetic and the scheduler's node filters,
// shared by the scheduler (placement, preemption dry runs), the node agent
// (allocatable, eviction ranking) and the node lifecycle controller (taints
// and tolerations). Filter order and failure wording follow kube-scheduler
// 1.32's default plugins, because users read these strings in events.
import { tryQuantity } from '../../common/quantity.ts';
import type { K8sObject } from '../types.ts';

export interface Resources {
  /** Cores. */
  cpu: number;
  /** Bytes. */
  memory: number;
  /** Pod count. */
  pods: number;
}

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
  const covers = (key: string) => tolerations.some((t) => (!t.key || t.key === key) && (!t.effect || t.effect === 'NoExecute'));
  const out = [...tolerations];
  for (const key of [TAINT_NOT_READY, TAINT_UNREACHABLE]) {
    if (!covers(key)) out.push({ key, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: DEFAULT_TOLERATION_SECONDS });
  }
  return out;
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

type Expr = { key: string; operator: string; values?: string[] };

function matchExpr(e: Expr, value: string | undefined): boolean {
  const vals = e.values ?? [];
  switch (e.operator) {
    case 'In': return value !== undefined && vals.includes(value);
    case 'NotIn': return value === undefined || !vals.includes(value);
    case 'Exists': return value !== undefined;
    case 'DoesNotExist': return value === undefined;
    case 'Gt': return value !== undefined && Number(value) > Number(vals[0]);
    case 'Lt': return value !== undefined && Number(value) < Number(vals[0]);
    default: return false;
  }
}

/** nodeSelector plus required node affinity (terms ORed, an empty term matches nothing). */
export function matchesNodeSelection(pod: K8sObject, node: K8sObject): boolean {
  const labels: Record<string, string> = node.metadata.labels ?? {};
  for (const [k, v] of Object.entries<string>(pod.spec?.nodeSelector ?? {})) if (labels[k] !== v) return false;
  const terms: any[] | undefined = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
  if (!terms) return true;
  return terms.some((t) => {
    const exprs: Expr[] = t.matchExpressions ?? [];
    const fields: Expr[] = t.matchFields ?? [];
    if (exprs.length === 0 && fields.length === 0) return false;
    return exprs.every((e) => matchExpr(e, Object.hasOwn(labels, e.key) ? labels[e.key] : undefined))
      && fields.every((e) => matchExpr(e, e.key === 'metadata.name' ? node.metadata.name : undefined));
  });
}

/**
 * NodeAffinity's PreFilter: when every required term pins `metadata.name In`,
 * only those nodes are evaluated (DaemonSet pods). Undefined means all nodes.
 */
export function pinnedNodeNames(pod: K8sObject): Set<string> | undefined {
  const terms: any[] | undefined = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
  if (!terms?.length) return undefined;
  const names = new Set<string>();
  for (const t of terms) {
    const f = (t.matchFields ?? []).find((e: Expr) => e.key === 'metadata.name' && e.operator === 'In');
    if (!f) return undefined;
    for (const v of f.values ?? []) names.add(v);
  }
  return names;
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

export interface PreemptionResult {
  /** DefaultPreemption's message when it cannot help (without the "preemption: " prefix). */
  message?: string;
  /** The chosen node and the pods to evict from it. */
  plan?: { node: string; victims: K8sObject[] };
}

/**
 * DefaultPreemption's dry run: on each node where only resources failed,
 * remove every lower-priority pod, check the pod fits, then reprieve victims
 * from the most important down while it still fits. PodDisruptionBudgets are
 * not weighed.
 */
export function preemptionDryRun(
  pod: K8sObject,
  nodes: K8sObject[],
  failures: Map<string, FitResult>,
  byNode: Map<string, K8sObject[]>,
): PreemptionResult {
  if (pod.spec?.preemptionPolicy === 'Never') return { message: 'not eligible due to preemptionPolicy=Never.' };
  const prio = priorityOf(pod);
  const nominated = pod.status?.nominatedNodeName;
  if (nominated && (byNode.get(nominated) ?? []).some((p) => p.metadata.deletionTimestamp && priorityOf(p) < prio)) {
    return { message: 'not eligible due to a terminating pod on the nominated node.' };
  }
  const counts = new Map<string, number>();
  const add = (r: string) => counts.set(r, (counts.get(r) ?? 0) + 1);
  const candidates: { node: string; victims: K8sObject[] }[] = [];
  for (const node of nodes) {
    const name = node.metadata.name!;
    const failure = failures.get(name);
    if (!failure?.resolvable) {
      add('Preemption is not helpful for scheduling');
      continue;
    }
    const onNode = byNode.get(name) ?? [];
    const lower = onNode.filter((p) => priorityOf(p) < prio && !p.metadata.deletionTimestamp);
    if (lower.length === 0) {
      add('No preemption victims found for incoming pod');
      continue;
    }
    const kept = onNode.filter((p) => !lower.includes(p));
    const stillFails = filterNode(pod, node, kept);
    if (stillFails) {
      for (const r of stillFails.reasons) add(r);
      continue;
    }
    const victims: K8sObject[] = [];
    const important = [...lower].sort((a, b) => priorityOf(b) - priorityOf(a) || startTime(a) - startTime(b));
    for (const p of important) {
      if (!filterNode(pod, node, [...kept, p])) kept.push(p);
      else victims.push(p);
    }
    candidates.push({ node: name, victims });
  }
  if (candidates.length === 0) return { message: `0/${nodes.length} nodes are available: ${[...counts].map(([r, n]) => `${n} ${r}`).sort().join(', ')}.` };
  // pickOneNodeForPreemption without PDBs: lowest highest-victim priority,
  // then smallest priority sum, then fewest victims.
  const maxPrio = (v: K8sObject[]) => Math.max(...v.map(priorityOf), -Infinity);
  const sumPrio = (v: K8sObject[]) => v.reduce((s, p) => s + priorityOf(p), 0);
  candidates.sort((a, b) => maxPrio(a.victims) - maxPrio(b.victims) || sumPrio(a.victims) - sumPrio(b.victims)
    || a.victims.length - b.victims.length || (a.node < b.node ? -1 : 1));
  return { plan: candidates[0] };
}

function startTime(p: K8sObject): number {
  return Date.parse(p.status?.startTime ?? p.metadata.creationTimestamp ?? '') || 0;
}
