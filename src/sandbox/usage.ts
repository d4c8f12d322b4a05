// Live resource usage of containers, written by the kubelet model and read by
// the node model (memory pressure), the HPA (CPU utilisation) and the
// metrics.k8s.io view (`kubectl top`).

export interface ContainerUsage {
  cpuCores: number;
  memoryBytes: number;
}

export class UsageBook {
  private readonly pods = new Map<string, { node: string; containers: Map<string, ContainerUsage> }>();

  set(ns: string, pod: string, node: string, container: string, usage: ContainerUsage): void {
    const k = `${ns}/${pod}`;
    let p = this.pods.get(k);
    if (!p || p.node !== node) this.pods.set(k, (p = { node, containers: new Map() }));
    p.containers.set(container, usage);
  }

  clearContainer(ns: string, pod: string, container: string): void {
    this.pods.get(`${ns}/${pod}`)?.containers.delete(container);
  }

  forgetPod(ns: string, pod: string): void {
    this.pods.delete(`${ns}/${pod}`);
  }

  pod(ns: string, pod: string): { node: string; containers: Map<string, ContainerUsage> } | undefined {
    return this.pods.get(`${ns}/${pod}`);
  }

  /** For a state snapshot. A hung kubelet's pods keep the usage it last reported, so it is saved, not recomputed. */
  save(): [string, { node: string; containers: [string, ContainerUsage][] }][] {
    return [...this.pods].map(([k, p]) => [k, { node: p.node, containers: [...p.containers] }]);
  }

  restore(saved: [string, { node: string; containers: [string, ContainerUsage][] }][]): void {
    this.pods.clear();
    for (const [k, p] of saved) this.pods.set(k, { node: p.node, containers: new Map(p.containers) });
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
