// Guardrail checks at incident time, over the informer caches and the
// remembered pod placements (no API request): containers without memory
// limits, namespaces without a LimitRange, monitoring that shared a node with
// the failing workloads or was itself put off its node, multi-replica
// workloads without a PodDisruptionBudget, single-replica workloads. A check
// whose kind the informers do not watch is reported as skipped, not passed.
import { WORKLOAD_KINDS, type Scope } from './correlate.ts';
import { antiAffinityFix, limitRangeFix, memoryLimitFix, monitoringPoolFix, pdbFix, replicasFix } from './fixes.ts';
import type { CacheLookup, GuardrailFinding, GuardrailSkip, Placement } from './types.ts';
import type { KubeObject } from '../kube/index.ts';

const SYSTEM_NAMESPACES = new Set(['kube-system', 'kube-public', 'kube-node-lease']);

export interface GuardrailInput {
  cluster: string;
  scope: Scope;
  /** Nodes the incident's detections are about: where sharing a node mattered. */
  failingNodes: Set<string>;
  placements: Placement[];
  since: number;
  until: number;
  lookup: CacheLookup;
}

export interface GuardrailResult {
  findings: GuardrailFinding[];
  skipped: GuardrailSkip[];
}

export function checkGuardrails(i: GuardrailInput): GuardrailResult {
  const findings: GuardrailFinding[] = [];
  const skipped: GuardrailSkip[] = [];
  const live = i.placements.filter((p) => p.firstSeen <= i.until && (p.deletedAt === undefined || p.deletedAt >= i.since));
  const onFailing = live.filter((p) => p.node && i.failingNodes.has(p.node));
  const involved = [...i.scope.workloads].filter((w) => WORKLOAD_KINDS.includes(w.split('/')[0])).sort();
  const checked = [...new Set([...involved, ...onFailing.map((p) => p.workload)])].filter((w) => !SYSTEM_NAMESPACES.has(w.split('/')[1])).sort();
  const get = (w: string) => workloadObject(i, w);

  const noLimit = checked.flatMap((w) => {
    const o = get(w);
    const containers = podSpecOf(o)?.containers as any[] | undefined;
    if (!containers || hasDefaultMemoryLimit(i, w.split('/')[1])) return [];
    const missing = containers.filter((c) => !c.resources?.limits?.memory).map((c) => c.name as string);
    return missing.length ? [{ w, missing, noRequest: containers.filter((c) => !c.resources?.requests?.memory).map((c) => c.name as string) }] : [];
  });
  if (noLimit.length) {
    findings.push({
      id: 'no-memory-limit',
      severity: 'high',
      title: 'Containers without memory limits',
      subjects: noLimit.map((x) => x.w),
      detail: noLimit.map((x) => `${x.w}: container${x.missing.length > 1 ? 's' : ''} ${x.missing.join(', ')} without a memory limit${x.noRequest.length ? ` (and no memory request: the kubelet evicts it first, the scheduler packs it anywhere)` : ''}`).join('; '),
      fix: { text: 'Give every container a memory request and limit, so a leak is OOM-killed inside its own cgroup instead of exhausting the node.', yaml: noLimit.map((x) => memoryLimitFix(x.w, x.missing)).join('\n---\n') },
    });
  }

  const namespaces = [...new Set([...i.scope.namespaces, ...checked.map((w) => w.split('/')[1])])].filter((n) => n && !SYSTEM_NAMESPACES.has(n)).sort();
  if (!i.lookup(i.cluster, 'LimitRange')) skipped.push({ id: 'no-limitrange', reason: 'LimitRanges are not watched by any rule, so their absence could not be checked' });
  else {
    const bare = namespaces.filter((n) => !(i.lookup(i.cluster, 'LimitRange', n) ?? []).length);
    if (bare.length) {
      findings.push({
        id: 'no-limitrange',
        severity: 'medium',
        title: 'Namespaces without a LimitRange',
        subjects: bare,
        detail: `${bare.join(', ')}: a container created without memory settings runs unbounded`,
        fix: { text: 'Add a LimitRange with default requests and limits to each namespace (and enforce it with a ResourceQuota).', yaml: bare.map(limitRangeFix).join('\n---\n') },
      });
    }
  }

  const monitoring = live.filter((p) => p.monitoring && p.node && i.failingNodes.has(p.node));
  if (monitoring.length) {
    const failingWorkloads = (node: string) => [...new Set(onFailing.filter((p) => p.node === node && !p.monitoring && involved.includes(p.workload)).map((p) => p.workload))].sort();
    const apps = [...new Set(monitoring.map((p) => p.workload))].sort();
    const neighbours = [...new Set(monitoring.flatMap((p) => failingWorkloads(p.node!)))].sort();
    findings.push({
      id: 'monitoring-colocated',
      severity: 'high',
      title: 'Monitoring shared nodes with the failing workloads',
      subjects: apps,
      detail: byNode(monitoring).map((p) => `${p.namespace}/${p.pod} ran on ${p.node}${failingWorkloads(p.node!).length ? ` with ${failingWorkloads(p.node!).join(', ')}` : ''}`).join('; '),
      fix: { text: 'Run the monitoring stack on a dedicated node pool (or at least away from the workloads it watches), so the failure it should report cannot take it down.', yaml: [monitoringPoolFix(apps[0].split('/')[1], apps[0].split('/')[2]), ...(neighbours.length ? [antiAffinityFix(apps[0].split('/')[2], neighbours)] : [])].join('\n---\n') },
    });
  }
  const moved = live.filter((p) => p.monitoring && (p.evicted || (p.deletedAt !== undefined && p.deletedAt <= i.until && p.node && i.failingNodes.has(p.node))));
  if (moved.length) {
    const apps = [...new Set(moved.map((p) => p.workload))].sort();
    findings.push({
      id: 'monitoring-evicted',
      severity: 'high',
      title: 'Monitoring was evicted during the incident',
      subjects: apps,
      detail: byNode(moved).map((p) => `${p.namespace}/${p.pod} was ${p.evicted ? 'evicted' : 'drained'} from ${p.node}`).join('; ') + ': the cluster was blind while it mattered most',
      fix: { text: 'Give monitoring a PodDisruptionBudget and a high priority class, and more than one replica, so evictions and drains never take all of it at once.', yaml: apps.map((w) => pdbFix(w, selectorOf(get(w)), 1)).join('\n---\n') },
    });
  }

  const scaled = involved.filter((w) => ['Deployment', 'StatefulSet'].includes(w.split('/')[0])).map((w) => ({ w, o: get(w) })).filter((x) => x.o);
  if (!i.lookup(i.cluster, 'PodDisruptionBudget')) skipped.push({ id: 'no-pdb', reason: 'PodDisruptionBudgets are not watched by any rule, so their absence could not be checked' });
  else {
    const unprotected = scaled.filter((x) => (x.o!.spec?.replicas ?? 1) > 1 && !hasPdb(i, x.w, x.o!));
    if (unprotected.length) {
      findings.push({
        id: 'no-pdb',
        severity: 'medium',
        title: 'Multi-replica workloads without a PodDisruptionBudget',
        subjects: unprotected.map((x) => x.w),
        detail: unprotected.map((x) => `${x.w} (${x.o!.spec?.replicas} replicas)`).join(', ') + ': a drain may evict every replica at once',
        fix: { text: 'Add a PodDisruptionBudget per workload.', yaml: unprotected.map((x) => pdbFix(x.w, selectorOf(x.o), (x.o!.spec?.replicas ?? 2) - 1)).join('\n---\n') },
      });
    }
  }
  const single = scaled.filter((x) => (x.o!.spec?.replicas ?? 1) === 1);
  if (single.length) {
    findings.push({
      id: 'single-replica',
      severity: 'low',
      title: 'Single-replica workloads in the incident',
      subjects: single.map((x) => x.w),
      detail: `${single.map((x) => x.w).join(', ')}: every eviction or crash is an outage of the service`,
      fix: { text: 'Run at least two replicas of anything that must stay up, spread across nodes.', yaml: single.map((x) => replicasFix(x.w)).join('\n---\n') },
    });
  }
  return { findings, skipped };
}

function workloadObject(i: GuardrailInput, w: string): KubeObject | undefined {
  const [kind, ns, name] = w.split('/');
  return i.lookup(i.cluster, kind, ns)?.find((o) => o.metadata.name === name);
}

function podSpecOf(o: KubeObject | undefined): any {
  if (!o) return undefined;
  return o.kind === 'Pod' ? o.spec : o.spec?.template?.spec;
}

function selectorOf(o: KubeObject | undefined): Record<string, string> {
  return o?.spec?.selector?.matchLabels ?? o?.spec?.template?.metadata?.labels ?? {};
}

function hasDefaultMemoryLimit(i: GuardrailInput, ns: string): boolean {
  return (i.lookup(i.cluster, 'LimitRange', ns) ?? []).some((lr) => ((lr.spec?.limits ?? []) as any[]).some((l) => l.type === 'Container' && l.default?.memory));
}

function hasPdb(i: GuardrailInput, w: string, o: KubeObject): boolean {
  const labels: Record<string, string> = o.spec?.template?.metadata?.labels ?? {};
  return (i.lookup(i.cluster, 'PodDisruptionBudget', w.split('/')[1]) ?? []).some((pdb) => {
    const sel: Record<string, string> = pdb.spec?.selector?.matchLabels ?? {};
    return Object.keys(sel).length > 0 && Object.entries(sel).every(([k, v]) => labels[k] === v);
  });
}

/** By node, then when the pod appeared: pod names end in generated suffixes, so sorting by them is not stable across replays. */
function byNode(ps: Placement[]): Placement[] {
  return [...ps].sort((a, b) => (a.node ?? '').localeCompare(b.node ?? '') || a.firstSeen - b.firstSeen || a.pod.localeCompare(b.pod));
}
