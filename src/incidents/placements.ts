// Where one cluster's pods ran, indexed as the observations arrive: by pod,
// by workload and by node. The tracker asks it on every detection (which
// nodes a workload's pods ran on, where a pod ran) and every snapshot asks
// it for the placements in an incident's scope; rebuilding an index from
// every remembered pod for each question made a detection's cost grow with
// the cluster (5,000 pods: tens of ms per detection, on the event loop).
// Answers are the same as PlacementIndex built from placements() with the
// same `since`: the filter on deletion time is applied when asked, not when
// indexed, because `since` moves with the clock.
import type { Placement } from './types.ts';

/** What correlation asks about placements (PlacementIndex and the live view answer alike). */
export interface PodPlacements {
  /** The placement of `namespace/pod`, live or deleted. */
  pod(key: string): Placement | undefined;
  /** The nodes a workload's pods ran on, in the order the pods were first seen; pods deleted before `since` no longer count. */
  nodesOf(workload: string): string[];
}

/** Placements to select, as a Scope names them. */
export interface PlacementQuery {
  workloads: Iterable<string>;
  nodes: Iterable<string>;
  /** `Pod/namespace/name` (other kinds are ignored). */
  objects: Iterable<string>;
}

export class PlacementTable {
  /** namespace/pod → placement, in the order the pods were first seen (placements() keeps that order). */
  private readonly pods = new Map<string, Placement>();
  private readonly order = new Map<Placement, number>();
  private readonly workloads = new Map<string, Set<Placement>>();
  private readonly nodes = new Map<string, Set<Placement>>();
  private seq = 0;
  /** Told the namespace/pod key of each placement added or forgotten (what a pod's workload is can change only then). */
  private readonly changed?: (key: string) => void;

  constructor(changed?: (key: string) => void) {
    this.changed = changed;
  }

  get size(): number {
    return this.pods.size;
  }

  all(): Placement[] {
    return [...this.pods.values()];
  }

  pod(key: string): Placement | undefined {
    return this.pods.get(key);
  }

  add(p: Placement): void {
    const key = `${p.namespace}/${p.pod}`;
    if (this.pods.has(key)) this.remove(this.pods.get(key)!);
    this.pods.set(key, p);
    this.order.set(p, this.seq++);
    put(this.workloads, p.workload, p);
    if (p.node) put(this.nodes, p.node, p);
    this.changed?.(key);
  }

  /** The only way a placement's node changes, so the node index follows it. */
  setNode(p: Placement, node: string): void {
    if (p.node === node) return;
    if (p.node) take(this.nodes, p.node, p);
    p.node = node;
    if (this.order.has(p)) put(this.nodes, node, p);
  }

  remove(p: Placement): void {
    const key = `${p.namespace}/${p.pod}`;
    if (this.pods.get(key) !== p) return;
    this.pods.delete(key);
    this.order.delete(p);
    take(this.workloads, p.workload, p);
    if (p.node) take(this.nodes, p.node, p);
    this.changed?.(key);
  }

  /** The placements on a node (live and deleted). */
  onNode(node: string): Iterable<Placement> {
    return this.nodes.get(node) ?? [];
  }

  /** Correlation's view at one moment: pods deleted before `since` link no workload to a node. */
  view(since: number): PodPlacements {
    return {
      pod: (key) => this.pods.get(key),
      nodesOf: (workload) => {
        const out = new Set<string>();
        for (const p of this.workloads.get(workload) ?? []) if (p.node && !(p.deletedAt !== undefined && p.deletedAt < since)) out.add(p.node);
        return [...out];
      },
    };
  }

  /** The placements of the given workloads, on the given nodes, or of the given pods, in placements() order. */
  select(q: PlacementQuery): Placement[] {
    const found = new Set<Placement>();
    for (const w of q.workloads) for (const p of this.workloads.get(w) ?? []) found.add(p);
    for (const n of q.nodes) for (const p of this.nodes.get(n) ?? []) found.add(p);
    for (const o of q.objects) {
      if (!o.startsWith('Pod/')) continue;
      const p = this.pods.get(o.slice(4));
      if (p) found.add(p);
    }
    return [...found].sort((a, b) => this.order.get(a)! - this.order.get(b)!);
  }
}

function put(m: Map<string, Set<Placement>>, k: string, p: Placement): void {
  let s = m.get(k);
  if (!s) m.set(k, (s = new Set()));
  s.add(p);
}

function take(m: Map<string, Set<Placement>>, k: string, p: Placement): void {
  const s = m.get(k);
  if (!s) return;
  s.delete(p);
  if (!s.size) m.delete(k);
}
