// Memory and CPU of running containers, and the two ways the kernel kills a
// container for memory: its own cgroup limit (OOMKilled, no event) and the
// node running out (SystemOOM, the kernel's badness ranking picks a victim).
import { tryQuantity } from '../../common/index.ts';
import type { ImageBehaviour } from '../images.ts';
import type { ContainerUsage } from '../usage.ts';
import type { K8sObject } from '../types.ts';

export const MI = 1024 * 1024;
const DEFAULT_MEMORY_MI = 32;
const DEFAULT_CPU_MILLI = 50;
const DEFAULT_SYSTEM_RESERVED = '256Mi';
export const SYSTEM_RESERVED_ANNOTATION = 'kubemend.dev/system-reserved-memory';

/** Working set of a container started at `startedAt`, leaks included. */
export function memoryBytesAt(b: ImageBehaviour, startedAt: number, now: number): number {
  const minutes = Math.max(0, now - startedAt) / 60_000;
  return Math.round(((b.memoryMi ?? DEFAULT_MEMORY_MI) + (b.leakMiPerMinute ?? 0) * minutes) * MI);
}

export function containerUsage(b: ImageBehaviour, startedAt: number, now: number): ContainerUsage {
  return { cpuCores: (b.cpuMilli ?? DEFAULT_CPU_MILLI) / 1000, memoryBytes: memoryBytesAt(b, startedAt, now) };
}

export function memoryLimitBytes(spec: any): number | undefined {
  return tryQuantity(spec?.resources?.limits?.memory);
}

function memoryRequestBytes(spec: any): number {
  return tryQuantity(spec?.resources?.requests?.memory ?? spec?.resources?.limits?.memory) ?? 0;
}

/**
 * When the cgroup limit is hit, as an exact cluster time: Infinity when the
 * container never reaches its limit, `startedAt` when it starts above it.
 */
export function oomKillAt(b: ImageBehaviour, startedAt: number, limitBytes: number | undefined): number {
  if (limitBytes === undefined) return Infinity;
  const base = (b.memoryMi ?? DEFAULT_MEMORY_MI) * MI;
  if (base >= limitBytes) return startedAt;
  const leak = b.leakMiPerMinute ?? 0;
  if (leak <= 0) return Infinity;
  return startedAt + Math.ceil(((limitBytes - base) / (leak * MI)) * 60_000);
}

/** Memory the node's pods may use before the kernel starts killing: capacity minus system-reserved. */
export function systemOomThreshold(node: K8sObject): { capacity: number; threshold: number } {
  const capacity = tryQuantity(node.status?.capacity?.memory) ?? 0;
  const reserved = tryQuantity(node.metadata.annotations?.[SYSTEM_RESERVED_ANNOTATION]) ?? tryQuantity(DEFAULT_SYSTEM_RESERVED)!;
  return { capacity, threshold: capacity - reserved };
}

/** The kubelet's oom_score_adj for a container (pkg/kubelet/qos/policy.go). */
export function oomScoreAdj(qosClass: string | undefined, spec: any, capacityBytes: number): number {
  if (qosClass === 'Guaranteed') return -997;
  if (qosClass === 'BestEffort') return 1000;
  if (capacityBytes <= 0) return 999;
  const adj = Math.floor(1000 - (1000 * memoryRequestBytes(spec)) / capacityBytes);
  return Math.min(999, Math.max(2, adj));
}

export interface OomCandidate<T> {
  ref: T;
  usageBytes: number;
  adj: number;
}

/** The kernel's choice: highest badness (share of memory × 1000 + adj), then the largest. */
export function pickOomVictim<T>(candidates: OomCandidate<T>[], capacityBytes: number): OomCandidate<T> | undefined {
  const badness = (c: OomCandidate<T>) => (capacityBytes > 0 ? (c.usageBytes / capacityBytes) * 1000 : 0) + c.adj;
  let best: OomCandidate<T> | undefined;
  for (const c of candidates) {
    if (!best || badness(c) > badness(best) || (badness(c) === badness(best) && c.usageBytes > best.usageBytes)) best = c;
  }
  return best;
}
