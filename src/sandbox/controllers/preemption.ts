// kube-scheduler's DefaultPreemption, as a dry run over the nodes a pod did
// not fit: which lower-priority pods to evict, and from which node.
import type { K8sObject } from '../types.ts';
import { filterNode, priorityOf, type FitResult } from './resources-fit.ts';

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
