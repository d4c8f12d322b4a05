// Which detections belong together. A detection is about some things (its
// object, its workload, its namespace, or a node) and near others (the nodes
// its pods ran on). It relates to an incident when what it is about overlaps
// what the incident is about, or is near it: a SystemOOM on node-1 and a pod
// evicted from node-1, or a worker whose pods ran on node-1. Time (the join
// window) is the tracker's business; this file only answers "related?".
import type { Subject } from '../rules/index.ts';
import type { PodPlacements } from './placements.ts';
import type { CacheLookup, Placement } from './types.ts';

export const WORKLOAD_KINDS: readonly string[] = ['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job', 'CronJob'];

export const keys = {
  node: (name: string) => `node:${name}`,
  ns: (name: string) => `ns:${name}`,
  workload: (w: string) => `workload:${w}`,
  object: (kind: string, namespace: string | undefined, name: string) => `object:${kind}/${namespace ?? ''}/${name}`,
};

/** What a detection is about (own) and the nodes its pods ran on (near). */
export interface Touch {
  own: Set<string>;
  near: Set<string>;
}

/** Where pods ran, indexed from a list of placements (the tracker asks the ObservationLog's live table instead). */
export class PlacementIndex implements PodPlacements {
  readonly byWorkload = new Map<string, Set<string>>();
  readonly byNode = new Map<string, Set<string>>();
  readonly byPod = new Map<string, Placement>();

  /** Pods deleted before `since` no longer link anything. */
  constructor(placements: Iterable<Placement>, since: number) {
    for (const p of placements) {
      this.byPod.set(`${p.namespace}/${p.pod}`, p);
      if (!p.node || (p.deletedAt !== undefined && p.deletedAt < since)) continue;
      add(this.byWorkload, p.workload, p.node);
      add(this.byNode, p.node, p.workload);
    }
  }

  pod(key: string): Placement | undefined {
    return this.byPod.get(key);
  }

  nodesOf(workload: string): string[] {
    return [...(this.byWorkload.get(workload) ?? [])];
  }
}

export function touchOf(subject: Subject, index: PodPlacements, lookup?: CacheLookup): Touch {
  const own = new Set<string>();
  const near = new Set<string>();
  const { kind, namespace: ns, name } = subject;
  const workload = (w: string) => {
    own.add(keys.workload(w));
    for (const n of index.nodesOf(w)) near.add(keys.node(n));
  };
  if (ns) own.add(keys.ns(ns));
  if (kind === 'Node') own.add(keys.node(name));
  else if (kind === 'Namespace') own.add(keys.ns(name));
  else if (kind === 'Pod') {
    own.add(keys.object(kind, ns, name));
    const p = index.pod(`${ns ?? ''}/${name}`);
    if (p?.node) near.add(keys.node(p.node));
    workload(p?.workload ?? `Pod/${ns ?? ''}/${name}`);
  } else if (WORKLOAD_KINDS.includes(kind)) workload(`${kind}/${ns ?? ''}/${name}`);
  else if (kind === 'HorizontalPodAutoscaler') {
    own.add(keys.object(kind, ns, name));
    const hpa = lookup?.(subject.cluster, kind, ns)?.find((o) => o.metadata.name === name);
    const t = hpa?.spec?.scaleTargetRef;
    if (t?.kind && t?.name) workload(`${t.kind}/${ns ?? ''}/${t.name}`);
  } else own.add(keys.object(kind, ns, name));
  return { own, near };
}

/** What relation() asks of an incident's touch: a Touch, or the tracker's index of open incidents. */
export interface TouchSets {
  own: { has(key: string): boolean };
  near: { has(key: string): boolean };
}

/** The union of several detections' touches: what an incident is about. */
export function unionTouch(touches: Iterable<Touch>): Touch {
  const own = new Set<string>();
  const near = new Set<string>();
  for (const t of touches) {
    for (const k of t.own) own.add(k);
    for (const k of t.near) near.add(k);
  }
  return { own, near };
}

/**
 * Why a detection relates to an incident, or undefined: the same object,
 * workload, namespace or node; a node it ran on that the incident is about;
 * or a node the incident's pods ran on that it is about.
 */
export function relation(d: Touch, incident: TouchSets): string | undefined {
  const own = [...d.own].sort(bySpecificity);
  for (const k of own) if (incident.own.has(k)) return `same ${k}`;
  for (const k of [...d.near].sort()) if (incident.own.has(k)) return `its pods ran on ${k}`;
  for (const k of own) if (incident.near.has(k)) return `the incident's pods ran on ${k}`;
  return undefined;
}

/** The most telling relation first: the same object, then workload, node, namespace. */
const SPECIFICITY = ['object:', 'workload:', 'node:', 'ns:'];
function bySpecificity(a: string, b: string): number {
  const rank = (k: string) => SPECIFICITY.findIndex((p) => k.startsWith(p));
  return rank(a) - rank(b) || a.localeCompare(b);
}

/** The nodes, workloads and namespaces an incident involves, for scoping changes, signals and guardrails. */
export interface Scope {
  nodes: Set<string>;
  workloads: Set<string>;
  namespaces: Set<string>;
  objects: Set<string>;
}

export function scopeOf(t: Touch): Scope {
  const s: Scope = { nodes: new Set(), workloads: new Set(), namespaces: new Set(), objects: new Set() };
  for (const k of [...t.own, ...t.near]) {
    const i = k.indexOf(':');
    const [type, v] = [k.slice(0, i), k.slice(i + 1)];
    if (type === 'node') s.nodes.add(v);
    else if (type === 'workload') {
      s.workloads.add(v);
      s.namespaces.add(v.split('/')[1]);
    }
    else if (type === 'ns') s.namespaces.add(v);
    else s.objects.add(v);
  }
  return s;
}

function add(m: Map<string, Set<string>>, k: string, v: string): void {
  let s = m.get(k);
  if (!s) m.set(k, (s = new Set()));
  s.add(v);
}
