// Live resource usage of containers, written by the kubelet model and read by
// the node model (memory pressure), the HPA (CPU utilisation) and the
// metrics.k8s.io view (`kubectl top`). The kubelet's periodic reports are
// timed too: metrics-server's `timestamp` is the last report and its `window`
// the time since the one before.

export interface ContainerUsage {
  cpuCores: number;
  memoryBytes: number;
}

/** The last two times a kubelet reported (cluster time, ms); `previous` is unset after the first. */
export interface Reports {
  at: number;
  previous?: number;
}

interface PodEntry {
  node: string;
  containers: Map<string, ContainerUsage>;
  reports?: Reports;
}

type SavedPod = [string, { node: string; containers: [string, ContainerUsage][]; reports?: Reports }];

export interface SavedUsage {
  pods: SavedPod[];
  nodes: [string, Reports][];
}

const advance = (r: Reports | undefined, at: number): Reports => (r === undefined ? { at } : r.at === at ? r : { at, previous: r.at });

export class UsageBook {
  private readonly pods = new Map<string, PodEntry>();
  private readonly nodeReports = new Map<string, Reports>();

  set(ns: string, pod: string, node: string, container: string, usage: ContainerUsage): void {
    const k = `${ns}/${pod}`;
    let p = this.pods.get(k);
    if (!p || p.node !== node) this.pods.set(k, (p = { node, containers: new Map() }));
    p.containers.set(container, usage);
  }

  clearContainer(ns: string, pod: string, container: string): void {
    const p = this.pods.get(`${ns}/${pod}`);
    if (!p) return;
    p.containers.delete(container);
    // Nothing running: a restart starts a new series, as metrics-server needs two samples of the new container.
    if (p.containers.size === 0) p.reports = undefined;
  }

  forgetPod(ns: string, pod: string): void {
    this.pods.delete(`${ns}/${pod}`);
  }

  pod(ns: string, pod: string): { node: string; containers: Map<string, ContainerUsage>; reports?: Reports } | undefined {
    return this.pods.get(`${ns}/${pod}`);
  }

  /** The kubelet's periodic report included this pod's running containers (set just before). */
  reported(ns: string, pod: string, at: number): void {
    const p = this.pods.get(`${ns}/${pod}`);
    if (p && p.containers.size > 0) p.reports = advance(p.reports, at);
  }

  /** The node's kubelet made its periodic report; a hung one does not, so its last report ages. */
  nodeReported(node: string, at: number): void {
    this.nodeReports.set(node, advance(this.nodeReports.get(node), at));
  }

  nodeReportsOf(node: string): Reports | undefined {
    return this.nodeReports.get(node);
  }

  /** For a state snapshot. A hung kubelet's pods keep the usage it last reported, so it is saved, not recomputed. */
  save(): SavedUsage {
    return {
      pods: [...this.pods].map(([k, p]) => [k, { node: p.node, containers: [...p.containers], ...(p.reports ? { reports: p.reports } : {}) }]),
      nodes: [...this.nodeReports],
    };
  }

  /** Also takes the bare pod list that state files written before report times were kept hold. */
  restore(saved: SavedUsage | SavedPod[]): void {
    const s = Array.isArray(saved) ? { pods: saved, nodes: [] } : saved;
    this.pods.clear();
    this.nodeReports.clear();
    for (const [k, p] of s.pods ?? []) this.pods.set(k, { node: p.node, containers: new Map(p.containers), ...(p.reports ? { reports: p.reports } : {}) });
    for (const [n, r] of s.nodes ?? []) this.nodeReports.set(n, r);
  }

  /** Sum over all pods on a node. */
  node(node: string): ContainerUsage {
    let cpuCores = 0;
    let memoryBytes = 0;
    for (const p of this.pods.values()) {
      if (p.node !== node) continue;
      for (const c of p.containers.values()) {
        cpuCores += c.cpuCores;
        memoryBytes += c.memoryBytes;
      }
    }
    return { cpuCores, memoryBytes };
  }

  /** Pods on a node with their total usage, for eviction ranking. */
  podsOn(node: string): { key: string; usage: ContainerUsage }[] {
    const out: { key: string; usage: ContainerUsage }[] = [];
    for (const [key, p] of this.pods) {
      if (p.node !== node) continue;
      let cpuCores = 0;
      let memoryBytes = 0;
      for (const c of p.containers.values()) {
        cpuCores += c.cpuCores;
        memoryBytes += c.memoryBytes;
      }
      out.push({ key, usage: { cpuCores, memoryBytes } });
    }
    return out;
  }
}
