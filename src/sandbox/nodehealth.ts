// Whether each node's kubelet is alive. The node model (memory exhaustion)
// takes a kubelet down; the kubelet model stops syncing pods and posting node
// status while it is down, which is how a real node goes NotReady and its pods
// get stuck Terminating until the node comes back.

export class NodeHealth {
  private readonly downUntil = new Map<string, number>();

  /** Kubelet on `node` stops responding until `untilMs` (cluster time). */
  markDown(node: string, untilMs: number): void {
    this.downUntil.set(node, Math.max(untilMs, this.downUntil.get(node) ?? 0));
  }

  markUp(node: string): void {
    this.downUntil.delete(node);
  }

  save(): [string, number][] {
    return [...this.downUntil];
  }

  restore(saved: [string, number][]): void {
    this.downUntil.clear();
    for (const [node, until] of saved) this.downUntil.set(node, until);
  }

  kubeletUp(node: string, now: number): boolean {
    const until = this.downUntil.get(node);
    if (until === undefined) return true;
    if (now >= until) {
      this.downUntil.delete(node);
      return true;
    }
    return false;
  }
}
