// Who is driving a node out of memory, from what the API shows: the pods on
// the node, their memory usage at two moments (metrics.k8s.io), which ones
// have no memory limit, and the processes the kernel killed (SystemOOM
// Events name their victim). Kept free of I/O so every verdict is a test.
import { formatBytes, tryQuantity } from '../../common/index.ts';
import type { KubeObject } from '../../kube/index.ts';

export interface ContainerEvidence {
  pod: string;
  namespace: string;
  container: string;
  /** Working set at the second sample (bytes); undefined when no metrics. */
  usageBytes?: number;
  /** Growth per minute between the two samples (bytes); undefined with fewer than two samples. */
  growthPerMinute?: number;
  hasLimit: boolean;
  limitBytes?: number;
  /** The kernel named this container's process as an OOM victim, or its last termination was OOMKilled. */
  oomVictim: boolean;
  owner?: { kind: string; name: string };
}

export interface Culprit {
  namespace: string;
  /** The workload to act on (Deployment, StatefulSet, DaemonSet) or the pod's own controller when there is none above it. */
  kind: string;
  name: string;
  container: string;
  pods: string[];
  usage?: string;
  growthPerMinute?: string;
  oomVictim: boolean;
  why: string[];
}

export type Verdict = 'workload' | 'node' | 'unclear';

/** Whole MiB: metrics come in Ki, people read Mi and Gi. */
export const mib = (bytes: number) => formatBytes(Math.round(bytes / 2 ** 20) * 2 ** 20);

/**
 * A growth rate per minute, to two significant digits in MiB: usage samples
 * are page-rounded, noisy by a few hundred KiB and stamped to the second, so
 * more digits than that are noise (and would make two replays disagree).
 */
export function mibRate(bytesPerMinute: number): string {
  const [unit, size] = bytesPerMinute >= 2 ** 30 ? ['Gi', 2 ** 30] : ['Mi', 2 ** 20];
  const v = bytesPerMinute / size;
  if (v < 10 && unit === 'Mi') return mib(bytesPerMinute);
  const step = 10 ** (Math.floor(Math.log10(v)) - 1);
  return `${Number((Math.round(v / step) * step).toPrecision(2))}${unit}`;
}

/** Thresholds relative to the node's allocatable memory. */
export const GROWTH_SHARE_PER_MINUTE = 0.05;
export const USAGE_SHARE = 0.3;

/** Process names the kernel reports (`victim process: worker, pid: 1236`). */
export function oomVictims(events: KubeObject[]): Set<string> {
  const out = new Set<string>();
  for (const e of events) {
    const m = /victim process:\s*([^,\s]+)/.exec(String(e.message ?? ''));
    if (m) out.add(m[1]!);
  }
  return out;
}

/** The names a container's process goes by: its name, its command's basename, its image's last path segment. */
function processNames(c: any): string[] {
  const base = (s: string | undefined) => (s ? s.split('/').pop()!.split(':')[0]! : '');
  return [c.name, base(c.command?.[0]), base(c.image)].filter(Boolean);
}

/** A container's memory in one PodMetrics sample, and when the kubelet measured it. */
export interface UsageSample {
  bytes: number;
  at?: number;
}

/**
 * Growth per minute between two samples, over the time between the kubelet's
 * measurements (a sample's request time is not when the usage was measured,
 * and reports are periodic: dividing by the time between requests would be
 * off by up to a report period). Samples without times fall back to `ms`.
 */
function growthPerMinute(a: UsageSample | undefined, b: UsageSample | undefined, ms: number): number | undefined {
  if (!a || !b || b.bytes < a.bytes) return undefined; // a restart between the samples: no growth is known
  const elapsed = a.at !== undefined && b.at !== undefined ? b.at - a.at : ms;
  return elapsed > 0 ? ((b.bytes - a.bytes) * 60_000) / elapsed : undefined;
}

/** One record per running container on the node, usage from two PodMetrics samples about `ms` apart. */
export function containerEvidence(pods: KubeObject[], first: Map<string, UsageSample>, second: Map<string, UsageSample>, ms: number, victims: Set<string>): ContainerEvidence[] {
  const out: ContainerEvidence[] = [];
  for (const pod of pods) {
    if (pod.status?.phase !== 'Running' && pod.status?.phase !== 'Pending') continue;
    const ns = pod.metadata.namespace!;
    const owner = pod.metadata.ownerReferences?.find((o) => o.controller);
    for (const c of pod.spec?.containers ?? []) {
      const key = `${ns}/${pod.metadata.name}/${c.name}`;
      const a = first.get(key);
      const b = second.get(key);
      const status = (pod.status?.containerStatuses ?? []).find((s: any) => s.name === c.name);
      const oomKilled = [status?.lastState?.terminated?.reason, status?.state?.terminated?.reason].includes('OOMKilled');
      out.push({
        pod: pod.metadata.name!,
        namespace: ns,
        container: c.name,
        usageBytes: (b ?? a)?.bytes,
        growthPerMinute: growthPerMinute(a, b, ms),
        hasLimit: tryQuantity(c.resources?.limits?.memory) !== undefined,
        ...(tryQuantity(c.resources?.limits?.memory) !== undefined ? { limitBytes: tryQuantity(c.resources?.limits?.memory) } : {}),
        oomVictim: oomKilled || processNames(c).some((n) => victims.has(n)),
        ...(owner ? { owner: { kind: owner.kind, name: owner.name } } : {}),
      });
    }
  }
  return out;
}

/**
 * Why a container is suspected: unlimited and (killed by the kernel, growing
 * fast, or holding a large share of the node). A container with a limit
 * cannot take the node down by itself, so it is never the culprit.
 */
export function suspicion(c: ContainerEvidence, allocatable: number): { score: number; why: string[] } {
  if (c.hasLimit) return { score: 0, why: [] };
  const why: string[] = [];
  let score = 0;
  if (c.oomVictim) {
    why.push('the kernel OOM-killed it');
    score += 2;
  }
  if (c.growthPerMinute !== undefined && allocatable > 0 && c.growthPerMinute >= allocatable * GROWTH_SHARE_PER_MINUTE) {
    why.push(`its memory grows ${mibRate(c.growthPerMinute)}/min`);
    score += 2 + c.growthPerMinute / allocatable;
  }
  if (c.usageBytes !== undefined && allocatable > 0 && c.usageBytes >= allocatable * USAGE_SHARE) {
    why.push(`it uses ${mib(c.usageBytes)} of ${mib(allocatable)} allocatable`);
    score += 1 + c.usageBytes / allocatable;
  }
  if (!why.length) return { score: 0, why };
  why.push('it has no memory limit');
  return { score, why };
}

/** The most suspected container, or undefined when none is. */
export function pickCulprit(evidence: ContainerEvidence[], allocatable: number): { c: ContainerEvidence; why: string[] } | undefined {
  let best: { c: ContainerEvidence; why: string[]; score: number } | undefined;
  for (const c of evidence) {
    const s = suspicion(c, allocatable);
    if (s.score > 0 && (!best || s.score > best.score)) best = { c, ...s };
  }
  return best && { c: best.c, why: best.why };
}

/**
 * The node is at fault when no workload explains the trouble and the node
 * itself stopped working (NotReady or Unknown); otherwise, with no culprit,
 * nobody can tell from here and a human decides.
 */
export function verdictOf(culprit: unknown, nodeReady: boolean): Verdict {
  if (culprit) return 'workload';
  return nodeReady ? 'unclear' : 'node';
}

/** The limit to set: a LimitRange default, else the namespace's policy, else usage with headroom; never above the cap. */
export function chooseLimit(o: { limitRangeDefault?: string; namespacePolicy?: string; usageBytes?: number; headroom: number; capBytes: number }): { bytes: number; source: string } | undefined {
  const cap = (bytes: number, source: string) => (bytes > o.capBytes ? { bytes: o.capBytes, source: `${source}, capped at ${formatBytes(o.capBytes)}` } : { bytes, source });
  const lr = tryQuantity(o.limitRangeDefault);
  if (lr !== undefined) return cap(lr, `the namespace's LimitRange default ${o.limitRangeDefault}`);
  const pol = tryQuantity(o.namespacePolicy);
  if (pol !== undefined) return cap(pol, `the namespace's policy ${o.namespacePolicy}`);
  if (o.usageBytes === undefined) return { bytes: o.capBytes, source: `no usage known, the cap ${formatBytes(o.capBytes)}` };
  const withHeadroom = Math.ceil((o.usageBytes * o.headroom) / 2 ** 20) * 2 ** 20;
  return cap(withHeadroom, `observed usage ${mib(o.usageBytes)} × ${o.headroom}`);
}
