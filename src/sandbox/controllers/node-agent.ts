// The part of each node's kubelet that is not about containers: node status
// (conditions, allocatable, heartbeats), the node Lease, the eviction manager
// (memory.available against the hard threshold) and the model of a kubelet
// that hangs when the kernel keeps OOM-killing on its node. One instance runs
// the agents of all nodes on one cluster-time tick.
import { k8sMicroTime, k8sTime } from '../../common/index.ts';
import type { K8sObject, StoreEvent } from '../types.ts';
import type { Controller, ControllerContext } from './controller.ts';
import { binarySI, containerMemoryRequest, isTerminal, nodeCapacityMemory, priorityOf, systemReservedMemory } from './resources-fit.ts';
import { TAINT_MEMORY_PRESSURE } from './taints.ts';
import { setPodCondition } from './scheduler.ts';

const MI = 2 ** 20;
/** --eviction-hard memory.available<100Mi (the kubelet default). */
export const EVICTION_HARD_MEMORY_BYTES = 100 * MI;
/** --eviction-pressure-transition-period: MemoryPressure stays True this long after the last breach. */
export const PRESSURE_TRANSITION_MS = 5 * 60_000;
/** Pods at or above system-cluster-critical priority are never evicted. */
const CRITICAL_PRIORITY = 2_000_000_000;
const LEASE_DURATION_SECONDS = 40;
/** The kubelet renews its lease every quarter of its duration, whatever else is configured. */
const MAX_HEARTBEAT_MS = 10_000;
const LEASE_NAMESPACE = 'kube-node-lease';

// The hang model. A node whose kernel OOM-kills again and again is thrashing:
// the kubelet's own threads are starved or killed, so it stops posting status
// and renewing its lease until the machine recovers. Three SystemOOMs within
// five minutes of cluster time stand for "memory exhausted faster than the
// eviction manager reclaims it"; ten minutes is how long such a node stays
// unresponsive, long enough for the node lifecycle controller to declare it
// NotReady (40s) and for taint-based eviction (300s) to start.
export const SYSTEM_OOM_HANG_COUNT = 3;
export const SYSTEM_OOM_WINDOW_MS = 5 * 60_000;
export const KUBELET_HANG_MS = 10 * 60_000;

/**
 * Scenario hook: the kubelet on `node` stops responding for `forMs` of
 * cluster time (replacing any earlier hang); `forMs` <= 0 brings it back now.
 */
export function setKubeletDown(ctx: ControllerContext, node: string, forMs: number): void {
  ctx.nodeHealth.markUp(node);
  if (forMs > 0) ctx.nodeHealth.markDown(node, ctx.clock.now() + forMs);
}

interface NodeState {
  /** Cluster time of the last pass that found memory.available below the threshold. */
  lastBreach?: number;
  /** Cluster times of recent SystemOOM kills. */
  ooms: number[];
}

type NodeEvent = [type: 'Normal' | 'Warning', reason: string, message: string];

// Each condition the kubelet owns, in the order it writes them, with the
// wording of pkg/kubelet/nodestatus/setters.go for its two states.
const CONDITIONS = [
  { type: 'MemoryPressure', bad: ['KubeletHasInsufficientMemory', 'kubelet has insufficient memory available', 'NodeHasInsufficientMemory'], good: ['KubeletHasSufficientMemory', 'kubelet has sufficient memory available', 'NodeHasSufficientMemory'] },
  { type: 'DiskPressure', bad: ['KubeletHasDiskPressure', 'kubelet has disk pressure', 'NodeHasDiskPressure'], good: ['KubeletHasNoDiskPressure', 'kubelet has no disk pressure', 'NodeHasNoDiskPressure'] },
  { type: 'PIDPressure', bad: ['KubeletHasInsufficientPID', 'kubelet has insufficient PID available', 'NodeHasInsufficientPID'], good: ['KubeletHasSufficientPID', 'kubelet has sufficient PID available', 'NodeHasSufficientPID'] },
] as const;

export class NodeAgentController implements Controller {
  readonly name = 'node-agent';
  private ctx!: ControllerContext;
  private unsubscribe?: () => void;
  private timer?: { cancel(): void };
  private readonly nodes = new Map<string, NodeState>();

  /** The last memory breach (MemoryPressure's transition period) and recent SystemOOMs (the hang model) live only here. */
  saveState(): [string, NodeState][] {
    return [...this.nodes];
  }

  restoreState(state: unknown): void {
    for (const [node, s] of state as [string, NodeState][]) this.nodes.set(node, s);
  }

  start(ctx: ControllerContext): void {
    this.ctx = ctx;
    this.unsubscribe = ctx.store.subscribe((ev) => this.onEvent(ev));
    this.tick();
  }

  stop(): void {
    this.unsubscribe?.();
    this.timer?.cancel();
    this.timer = undefined;
  }

  private state(node: string): NodeState {
    let s = this.nodes.get(node);
    if (!s) this.nodes.set(node, (s = { ooms: [] }));
    return s;
  }

  private onEvent(ev: StoreEvent): void {
    if (ev.storage === 'nodes' && ev.type === 'DELETED') this.nodes.delete(ev.object.metadata.name!);
    if (ev.storage !== 'events' || ev.type === 'DELETED') return;
    const e = ev.object;
    if (e.reason !== 'SystemOOM' || e.involvedObject?.kind !== 'Node') return;
    // Repeats aggregate into one Event whose count goes up.
    const added = (e.count ?? 1) - (ev.type === 'MODIFIED' ? (ev.old?.count ?? 1) : 0);
    if (added <= 0) return;
    const node = e.involvedObject.name as string;
    const now = this.ctx.clock.now();
    if (!this.ctx.nodeHealth.kubeletUp(node, now)) return;
    const s = this.state(node);
    for (let i = 0; i < added; i++) s.ooms.push(now);
    s.ooms = s.ooms.filter((t) => now - t < SYSTEM_OOM_WINDOW_MS);
    if (s.ooms.length >= SYSTEM_OOM_HANG_COUNT) {
      s.ooms = [];
      this.ctx.nodeHealth.markDown(node, now + KUBELET_HANG_MS);
    }
  }

  private tick(): void {
    for (const node of this.ctx.store.list('nodes').items) {
      try {
        this.syncNode(node);
      } catch (err) {
        console.error(`node agent failed on ${node.metadata.name}:`, err);
      }
    }
    const every = Math.min(Math.max(100, this.ctx.config.resyncSeconds * 1000), MAX_HEARTBEAT_MS);
    this.timer = this.ctx.clock.setTimeout(() => this.tick(), every);
  }

  private syncNode(node: K8sObject): void {
    const name = node.metadata.name!;
    const now = this.ctx.clock.now();
    if (!this.ctx.nodeHealth.kubeletUp(name, now)) return;
    const s = this.state(name);
    const available = this.memoryAvailable(node);
    const breached = available < EVICTION_HARD_MEMORY_BYTES;
    if (breached) s.lastBreach = now;
    const pressure = s.lastBreach !== undefined && now - s.lastBreach < PRESSURE_TRANSITION_MS;
    if (breached) this.evictOne(node, available);
    this.postStatus(name, pressure, now);
    this.renewLease(node, now);
  }

  /**
   * memory.available = capacity - working set of the whole machine. The
   * system daemons occupy their reservation, so the kernel's OOM killer
   * (pods above capacity - reserved) only strikes once eviction has had its
   * chance at 100Mi above that line.
   */
  private memoryAvailable(node: K8sObject): number {
    const used = this.ctx.usage.node(node.metadata.name!).memoryBytes + systemReservedMemory(node);
    return nodeCapacityMemory(node) - used;
  }

  private postStatus(name: string, memoryPressure: boolean, now: number): void {
    const events: NodeEvent[] = [];
    const updated = this.ctx.store.mutate('nodes', undefined, name, (n) => {
      n.status ??= {};
      const conditions: any[] = (n.status.conditions ??= []);
      const heartbeat = k8sTime(now);
      const set = (type: string, status: 'True' | 'False', reason: string, message: string, event: string) => {
        let c = conditions.find((x) => x.type === type);
        if (!c) conditions.push((c = { type }));
        if (c.status !== status) {
          Object.assign(c, { status, reason, message, lastTransitionTime: heartbeat });
          events.push(['Normal', event, `Node ${name} status is now: ${event}`]);
        }
        Object.assign(c, { reason, message, lastHeartbeatTime: heartbeat });
      };
      for (const def of CONDITIONS) {
        const bad = def.type === 'MemoryPressure' && memoryPressure;
        const [reason, message, event] = bad ? def.bad : def.good;
        set(def.type, bad ? 'True' : 'False', reason, message, event);
      }
      set('Ready', 'True', 'KubeletReady', 'kubelet is posting ready status', 'NodeReady');
      // Allocatable = capacity - system-reserved - the hard eviction threshold.
      const capacity = nodeCapacityMemory(n);
      if (capacity > 0) {
        const alloc = binarySI(Math.max(0, capacity - systemReservedMemory(n) - EVICTION_HARD_MEMORY_BYTES));
        n.status.allocatable = { ...(n.status.allocatable ?? n.status.capacity ?? {}), memory: alloc };
      }
      n.spec ??= {};
      const taints: any[] = n.spec.taints ?? [];
      const has = taints.some((t) => t.key === TAINT_MEMORY_PRESSURE && t.effect === 'NoSchedule');
      if (memoryPressure && !has) n.spec.taints = [...taints, { key: TAINT_MEMORY_PRESSURE, effect: 'NoSchedule', timeAdded: heartbeat }];
      if (!memoryPressure && has) {
        const rest = taints.filter((t) => !(t.key === TAINT_MEMORY_PRESSURE && t.effect === 'NoSchedule'));
        if (rest.length) n.spec.taints = rest;
        else delete n.spec.taints;
      }
    });
    if (!updated) return;
    for (const [type, reason, message] of events) this.ctx.events.emit(updated, type, reason, message, { component: 'kubelet', host: name });
  }

  private renewLease(node: K8sObject, now: number): void {
    const name = node.metadata.name!;
    const renewed = this.ctx.store.mutate('coordination.k8s.io/leases', LEASE_NAMESPACE, name, (l) => {
      l.spec = { ...(l.spec ?? {}), holderIdentity: name, leaseDurationSeconds: LEASE_DURATION_SECONDS, renewTime: k8sMicroTime(now) };
    });
    if (renewed) return;
    try {
      this.ctx.store.create('coordination.k8s.io/leases', {
        metadata: {
          name,
          namespace: LEASE_NAMESPACE,
          ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name, uid: node.metadata.uid! }],
        },
        spec: { holderIdentity: name, leaseDurationSeconds: LEASE_DURATION_SECONDS, renewTime: k8sMicroTime(now) },
      });
    } catch {
      // The kube-node-lease namespace may not exist in a bare store; a real
      // kubelet keeps retrying too, and node status still carries heartbeats.
    }
  }

  /** One eviction per pass, ranked as rankMemoryPressure does. */
  private evictOne(node: K8sObject, available: number): void {
    const name = node.metadata.name!;
    const host = { component: 'kubelet', host: name };
    this.ctx.events.emit(node, 'Warning', 'EvictionThresholdMet', 'Attempting to reclaim memory', host);
    const ranked = this.ctx.store.list('pods').items
      .filter((p) => p.spec?.nodeName === name && !isTerminal(p) && !p.metadata.deletionTimestamp && priorityOf(p) < CRITICAL_PRIORITY)
      .map((p) => ({ pod: p, ...this.memoryStats(p) }))
      .sort((a, b) => Number(b.usage > b.request) - Number(a.usage > a.request)
        || priorityOf(a.pod) - priorityOf(b.pod)
        || (b.usage - b.request) - (a.usage - a.request));
    const victim = ranked[0];
    if (!victim) return;
    const message = evictionMessage(victim.pod, available, (c) => this.containerUsage(victim.pod, c));
    this.markEvicted(victim.pod, message);
    this.ctx.events.emit(victim.pod, 'Warning', 'Evicted', message, host);
  }

  private containerUsage(pod: K8sObject, container: string): number | undefined {
    return this.ctx.usage.pod(pod.metadata.namespace!, pod.metadata.name!)?.containers.get(container)?.memoryBytes;
  }

  private memoryStats(pod: K8sObject): { usage: number; request: number } {
    let usage = 0;
    let request = 0;
    for (const c of pod.spec?.containers ?? []) {
      usage += this.containerUsage(pod, c.name) ?? 0;
      request += containerMemoryRequest(c);
    }
    return { usage, request };
  }

  private markEvicted(pod: K8sObject, message: string): void {
    const now = this.ctx.clock.now();
    const at = k8sTime(now);
    this.ctx.store.mutate('pods', pod.metadata.namespace, pod.metadata.name!, (p) => {
      if (isTerminal(p)) return false;
      p.status ??= {};
      Object.assign(p.status, { phase: 'Failed', reason: 'Evicted', message });
      setPodCondition(p, { type: 'DisruptionTarget', status: 'True', reason: 'TerminationByKubelet', message, lastProbeTime: null }, now);
      setPodCondition(p, { type: 'Ready', status: 'False', reason: 'PodFailed', lastProbeTime: null }, now);
      setPodCondition(p, { type: 'ContainersReady', status: 'False', reason: 'PodFailed', lastProbeTime: null }, now);
      // Hard eviction kills the containers with a one-second grace: SIGKILL.
      for (const cs of p.status.containerStatuses ?? []) {
        const running = cs.state?.running;
        if (!running && !cs.state?.waiting) continue;
        cs.state = {
          terminated: {
            exitCode: 137, reason: 'Error', startedAt: running?.startedAt ?? null, finishedAt: at,
            ...(cs.containerID ? { containerID: cs.containerID } : {}),
          },
        };
        cs.ready = false;
        cs.started = false;
      }
    }, { subresource: 'status' });
  }
}

/**
 * pkg/kubelet/eviction/helpers.go evictionMessage, trailing spaces included:
 * "The node was low on resource: memory. Threshold quantity: 100Mi, available: 52Mi.
 * Container app was using 3Gi, request is 0, has larger consumption of memory. "
 */
export function evictionMessage(pod: K8sObject, available: number, usageOf: (container: string) => number | undefined): string {
  let message = 'The node was low on resource: memory. ';
  message += `Threshold quantity: ${binarySI(EVICTION_HARD_MEMORY_BYTES)}, available: ${available < 0 ? `-${binarySI(-available)}` : binarySI(available)}. `;
  for (const c of pod.spec?.containers ?? []) {
    const usage = usageOf(c.name);
    const request = containerMemoryRequest(c);
    if (usage === undefined || usage <= request) continue;
    // Quantity.String(): binary quantities come back canonical ("0.5Gi" is "512Mi").
    const given = String(c.resources?.requests?.memory ?? c.resources?.limits?.memory ?? '0');
    const requested = /i$/.test(given) ? binarySI(request) : given;
    message += `Container ${c.name} was using ${binarySI(usage)}, request is ${requested}, has larger consumption of memory. `;
  }
  return message;
}
