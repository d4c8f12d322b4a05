// How much memory to propose, and the patch and LimitRange that carry it:
// plain functions shared by k8s.proposeMemoryLimits and k8s.proposeLimitRange,
// so a warning's patch and the guardrail's LimitRange are sized alike.
//
// For a container without a memory limit, in order: the namespace's
// LimitRange default (what the container would have got, had it been created
// after the LimitRange) unless the container already uses more; observed
// usage (metrics.k8s.io) times a headroom, never above a cap; else a stated
// default. Values are rounded up to 64Mi so people can read them.
import { stringify } from 'yaml';
import { formatBytes, tryQuantity } from '../../common/index.ts';
import type { KubeObject } from '../../kube/index.ts';

const MI = 2 ** 20;
const STEP = 64 * MI;

export interface SizingOptions {
  /** limit = observed usage × headroom. */
  headroom: number;
  /** Bytes, when nothing better is known. */
  defaultMemory: number;
  /** Bytes: never propose a limit above this. */
  maxMemory: number;
}

/** Rounds up to the next 64Mi (at least 64Mi). */
export function roundUp(bytes: number): number {
  return Math.max(STEP, Math.ceil(bytes / STEP - 1e-9) * STEP);
}

export const fmt = (bytes: number) => formatBytes(bytes);

export interface LimitRangeDefaults {
  name: string;
  limit?: number;
  request?: number;
}

/** The Container memory defaults of a namespace's LimitRanges: the first (by name) that sets any. */
export function limitRangeDefaults(ranges: readonly KubeObject[]): LimitRangeDefaults | undefined {
  for (const lr of [...ranges].sort((a, b) => String(a.metadata.name).localeCompare(String(b.metadata.name)))) {
    for (const item of lr.spec?.limits ?? []) {
      if (item?.type !== 'Container') continue;
      const limit = tryQuantity(item.default?.memory);
      const request = tryQuantity(item.defaultRequest?.memory) ?? limit;
      if (limit !== undefined || request !== undefined) return { name: lr.metadata.name!, limit, request };
    }
  }
  return undefined;
}

export interface ContainerProposal {
  name: string;
  memoryRequest: string;
  memoryLimit: string;
  /** Where the values come from, in words. */
  basis: string;
  /** Observed working set (largest over the workload's pods), when metrics.k8s.io answered. */
  usage?: string;
  /** The container uses more than the cap allows with headroom: the limit may OOM-kill it. */
  overCap?: boolean;
}

/** Sizes one container that has no memory limit. */
export function sizeContainer(c: any, usage: number | undefined, lr: LimitRangeDefaults | undefined, o: SizingOptions): ContainerProposal {
  const request0 = tryQuantity(c?.resources?.requests?.memory);
  const seen = usage !== undefined ? { usage: fmt(usage) } : {};
  let limit: number;
  let request: number;
  let basis: string;
  let overCap = false;
  if (lr?.limit !== undefined && (usage === undefined || usage * o.headroom <= lr.limit)) {
    limit = lr.limit;
    request = request0 ?? lr.request ?? lr.limit;
    basis = `the default of LimitRange ${lr.name}`;
  } else if (usage !== undefined) {
    const wanted = roundUp(usage * o.headroom);
    overCap = wanted > o.maxMemory;
    limit = Math.min(wanted, o.maxMemory);
    request = request0 ?? Math.min(roundUp(usage), limit);
    basis = `observed ${fmt(usage)} × ${o.headroom}${overCap ? `, capped at ${fmt(o.maxMemory)}: it already uses more than the cap allows, so this limit may OOM-kill it — decide the size with its owner` : ''}${lr?.limit !== undefined ? ` (above LimitRange ${lr.name}'s default ${fmt(lr.limit)})` : ''}`;
  } else {
    limit = o.defaultMemory;
    request = request0 ?? limit;
    basis = `the stated default ${fmt(o.defaultMemory)} (no LimitRange default, no usage figures)`;
  }
  // The API refuses a limit below the request.
  limit = Math.max(limit, request0 ?? 0);
  request = Math.min(request, limit);
  return { name: c.name, memoryRequest: fmt(request), memoryLimit: fmt(limit), basis, ...seen, ...(overCap ? { overCap } : {}) };
}

/** Containers without a memory limit. */
export function unlimited(podSpec: any): any[] {
  return (podSpec?.containers ?? []).filter((c: any) => c?.resources?.limits?.memory === undefined);
}

/** The strategic merge patch setting each proposal's memory request and limit (Pods: spec, others: the pod template). */
export function memoryPatch(kind: string, proposals: readonly ContainerProposal[]): Record<string, unknown> {
  const containers = proposals.map((p) => ({ name: p.name, resources: { requests: { memory: p.memoryRequest }, limits: { memory: p.memoryLimit } } }));
  return kind === 'Pod' ? { spec: { containers } } : { spec: { template: { spec: { containers } } } };
}

export function kubectlPatch(kind: string, namespace: string, name: string, patch: unknown): string {
  return `kubectl -n ${namespace} patch ${kind.toLowerCase()} ${name} --type strategic -p '${JSON.stringify(patch)}'`;
}

export interface LimitRangeSizing {
  defaultMemory: string;
  defaultRequestMemory: string;
  basis: string;
  warnings: string[];
}

/**
 * Namespace defaults from the containers' observed usage: the default limit
 * covers the largest container with headroom (within the cap), the default
 * request is the median. Containers without a limit are the ones a default
 * will apply to when their pods are recreated, so they decide when there are
 * any.
 */
export function sizeLimitRange(usages: { bytes: number; limited: boolean }[], o: SizingOptions & { defaultRequest: number }): LimitRangeSizing {
  const open = usages.filter((u) => !u.limited);
  const basisSet = (open.length ? open : usages).map((u) => u.bytes).sort((a, b) => a - b);
  if (!basisSet.length) {
    const request = Math.min(o.defaultRequest, o.defaultMemory);
    return { defaultMemory: fmt(o.defaultMemory), defaultRequestMemory: fmt(request), basis: 'no usage figures for the namespace (metrics.k8s.io not served, or no pods): the stated defaults', warnings: [] };
  }
  const peak = basisSet[basisSet.length - 1];
  const median = basisSet[Math.floor((basisSet.length - 1) / 2)];
  const wanted = roundUp(peak * o.headroom);
  const limit = Math.min(wanted, o.maxMemory);
  const request = Math.min(roundUp(median), limit);
  const which = open.length ? 'containers without a memory limit' : 'containers';
  const warnings = wanted > o.maxMemory ? [`the largest of the ${which} uses ${fmt(peak)}: the default is capped at ${fmt(o.maxMemory)}, so give that container its own limit before its pods are recreated`] : [];
  return { defaultMemory: fmt(limit), defaultRequestMemory: fmt(request), basis: `largest of ${basisSet.length} ${which} uses ${fmt(peak)} (× ${o.headroom}), median ${fmt(median)}`, warnings };
}

export const LIMITRANGE_NAME = 'default-memory';

export function limitRangeObject(namespace: string, name: string, s: Pick<LimitRangeSizing, 'defaultMemory' | 'defaultRequestMemory'>): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'LimitRange',
    metadata: { name, namespace, labels: { 'app.kubernetes.io/managed-by': 'kubemend' } },
    spec: { limits: [{ type: 'Container', default: { memory: s.defaultMemory }, defaultRequest: { memory: s.defaultRequestMemory } }] },
  };
}

export const toYaml = (doc: unknown) => stringify(doc, { flowCollectionPadding: true }).trimEnd();

/** Labels and annotations that say who owns something (team, owner, managed-by, on-call …). */
const OWNER_KEY = /(^|[./])(team|owner|owners|managed-by|contact|on-?call|part-of|squad|maintainers?)$/i;

export function ownerMarks(obj: KubeObject | undefined, where: string): string[] {
  const out: string[] = [];
  for (const [what, map] of [['label', obj?.metadata?.labels], ['annotation', obj?.metadata?.annotations]] as const) {
    for (const [k, v] of Object.entries(map ?? {})) if (OWNER_KEY.test(k) && typeof v === 'string' && v.length <= 200) out.push(`${k}=${v} (${what} on ${where})`);
  }
  return out;
}
