// kube-controller-manager's node lifecycle controller and taint eviction
// controller. The first watches heartbeats (Lease renewTime, Ready's
// lastHeartbeatTime): a node silent for the grace period gets Unknown
// conditions, NotReady pods and the unreachable taints; it also mirrors
// conditions and cordons into NoSchedule taints. The second deletes pods from
// nodes with NoExecute taints once their tolerations run out.
import { type TimerHandle, k8sTime } from '../../common/index.ts';
import type { K8sObject, StoreEvent } from '../types.ts';
import type { Controller, ControllerContext } from './controller.ts';
import { WorkQueue, objectKey } from './workqueue.ts';
import {
  TAINT_MEMORY_PRESSURE, TAINT_NOT_READY, TAINT_UNREACHABLE, TAINT_UNSCHEDULABLE, toleratesTaint, withDefaultTolerations, type Taint, type Toleration,
} from './taints.ts';
import { setPodCondition } from './scheduler.ts';

/** --node-monitor-period. */
export const NODE_MONITOR_PERIOD_MS = 5_000;
/** --node-monitor-grace-period. */
export const NODE_MONITOR_GRACE_MS = 40_000;

const NODE_CONTROLLER = { component: 'node-controller' };
const TAINT_EVICTION = { component: 'taint-eviction-controller' };
// nodeConditionToTaintKeyStatusMap: pressure conditions that are True become
// NoSchedule taints (the kubelet model adds memory-pressure itself as soon as
// it reports the condition; we also take it away when the condition goes Unknown).
const CONDITION_TAINTS: Record<string, string> = {
  MemoryPressure: TAINT_MEMORY_PRESSURE,
  DiskPressure: 'node.kubernetes.io/disk-pressure',
  PIDPressure: 'node.kubernetes.io/pid-pressure',
  NetworkUnavailable: 'node.kubernetes.io/network-unavailable',
};
const MANAGED_KEYS = new Set([TAINT_UNSCHEDULABLE, TAINT_NOT_READY, TAINT_UNREACHABLE, ...Object.values(CONDITION_TAINTS)]);

interface Probe {
  signature: string;
  /** Cluster time the heartbeat was last seen to change. */
  at: number;
}

interface ScheduledEviction {
  node: string;
  createdAt: number;
  at: number;
  timer: TimerHandle;
}

interface NodeLifecycleState {
  probes: [string, Probe][];
  evictions: [string, Omit<ScheduledEviction, 'timer'>][];
}

export class NodeLifecycleController implements Controller {
  readonly name = 'node-lifecycle';
  private ctx!: ControllerContext;
  private unsubscribe?: () => void;
  private monitorTimer?: TimerHandle;
  private queue?: WorkQueue;
  private readonly probes = new Map<string, Probe>();
  private readonly evictions = new Map<string, ScheduledEviction>();
  private restored?: NodeLifecycleState;

  // When each heartbeat was last seen to change (in our time) decides when a
  // silent node goes NotReady, and a pending taint eviction counts from when
  // it was first scheduled: both would restart from zero if re-derived.
  saveState(): NodeLifecycleState {
    return {
      probes: [...this.probes],
      evictions: [...this.evictions].map(([key, { node, createdAt, at }]) => [key, { node, createdAt, at }]),
    };
  }

  restoreState(state: unknown): void {
    this.restored = state as NodeLifecycleState;
  }

  start(ctx: ControllerContext): void {
    this.ctx = ctx;
    if (this.restored) {
      for (const [name, p] of this.restored.probes) this.probes.set(name, p);
      const now = ctx.clock.now();
      for (const [key, e] of this.restored.evictions) {
        const timer = ctx.clock.setTimeout(() => this.evict(key, e.node), Math.max(0, e.at - now));
        this.evictions.set(key, { ...e, timer });
      }
      this.restored = undefined;
    }
    this.queue = new WorkQueue(ctx.clock, (name) => this.reconcile(name));
    this.unsubscribe = ctx.store.subscribe((ev) => this.onEvent(ev));
    for (const n of ctx.store.list('nodes').items) {
      this.observeHeartbeat(n.metadata.name!);
      this.queue.add(n.metadata.name!);
    }
    this.monitorTimer = ctx.clock.setTimeout(() => this.monitor(), NODE_MONITOR_PERIOD_MS);
  }

  stop(): void {
    this.unsubscribe?.();
    this.monitorTimer?.cancel();
    this.queue?.stop();
    for (const e of this.evictions.values()) e.timer.cancel();
    this.evictions.clear();
  }

  private onEvent(ev: StoreEvent): void {
    if (ev.storage === 'nodes') {
      const name = ev.object.metadata.name!;
      if (ev.type === 'DELETED') this.probes.delete(name);
      else this.observeHeartbeat(name);
      this.queue!.add(name);
    } else if (ev.storage === 'coordination.k8s.io/leases' && ev.object.metadata.namespace === 'kube-node-lease') {
      this.observeHeartbeat(ev.object.metadata.name!);
    } else if (ev.storage === 'pods') {
      const key = objectKey(ev.object.metadata);
      if (ev.type === 'DELETED' || ev.object.metadata.deletionTimestamp) this.cancelEviction(key, false);
      else if (ev.object.spec?.nodeName && ev.object.spec.nodeName !== ev.old?.spec?.nodeName) this.queue!.add(ev.object.spec.nodeName);
    }
  }

  /** Like the real controller, remember when (in our time) a heartbeat last changed. */
  private observeHeartbeat(name: string): void {
    const node = this.ctx.store.get('nodes', undefined, name);
    if (!node) return;
    const lease = this.ctx.store.get('coordination.k8s.io/leases', 'kube-node-lease', name);
    const ready = readyCondition(node);
    const signature = `${lease?.spec?.renewTime ?? ''}|${ready?.lastHeartbeatTime ?? ''}`;
    const probe = this.probes.get(name);
    if (!probe || probe.signature !== signature) this.probes.set(name, { signature, at: this.ctx.clock.now() });
  }

  private monitor(): void {
    const now = this.ctx.clock.now();
    for (const node of this.ctx.store.list('nodes').items) {
      const name = node.metadata.name!;
      const probe = this.probes.get(name);
      if (!probe) {
        this.observeHeartbeat(name);
        continue;
      }
      if (now > probe.at + NODE_MONITOR_GRACE_MS && readyCondition(node)?.status !== 'Unknown') this.markUnknown(node, now);
    }
    this.monitorTimer = this.ctx.clock.setTimeout(() => this.monitor(), NODE_MONITOR_PERIOD_MS);
  }

  private markUnknown(node: K8sObject, now: number): void {
    const name = node.metadata.name!;
    const wasReady = readyCondition(node)?.status === 'True';
    const updated = this.ctx.store.mutate('nodes', undefined, name, (n) => {
      const conditions: any[] = (n.status ??= {}).conditions ??= [];
      if (!conditions.some((c) => c.type === 'Ready')) {
        conditions.push({ type: 'Ready', status: 'Unknown', reason: 'NodeStatusNeverUpdated', message: 'Kubelet never posted node status.', lastTransitionTime: k8sTime(now) });
      }
      for (const c of conditions) {
        if (!['Ready', 'MemoryPressure', 'DiskPressure', 'PIDPressure'].includes(c.type) || c.status === 'Unknown') continue;
        Object.assign(c, { status: 'Unknown', reason: 'NodeStatusUnknown', message: 'Kubelet stopped posting node status.', lastTransitionTime: k8sTime(now) });
      }
    }, { subresource: 'status' });
    if (!updated || !wasReady) return;
    this.ctx.events.emit(updated, 'Normal', 'NodeNotReady', `Node ${name} status is now: NodeNotReady`, NODE_CONTROLLER);
    this.markPodsNotReady(name, now);
  }

  /** MarkPodsNotReady: Ready goes False (reason kept), one warning per pod. */
  private markPodsNotReady(node: string, now: number): void {
    for (const pod of this.ctx.store.list('pods').items) {
      if (pod.spec?.nodeName !== node) continue;
      const ready = (pod.status?.conditions ?? []).find((c: any) => c.type === 'Ready');
      if (!ready || ready.status === 'False') continue;
      const updated = this.ctx.store.mutate('pods', pod.metadata.namespace, pod.metadata.name!, (p) => {
        setPodCondition(p, { ...ready, status: 'False' }, now);
      }, { subresource: 'status' });
      if (updated) this.ctx.events.emit(updated, 'Warning', 'NodeNotReady', 'Node is not ready', NODE_CONTROLLER);
    }
  }

  /** Condition and cordon taints (doNoScheduleTaintingPass, doNoExecuteTaintingPass), then the taint manager. */
  private reconcile(name: string): void {
    const node = this.ctx.store.get('nodes', undefined, name);
    if (!node) {
      for (const [key, e] of this.evictions) if (e.node === name) this.cancelEviction(key, false);
      return;
    }
    const ready = readyCondition(node)?.status;
    const desired: Taint[] = [];
    for (const c of node.status?.conditions ?? []) {
      if (c.status === 'True' && CONDITION_TAINTS[c.type]) desired.push({ key: CONDITION_TAINTS[c.type], effect: 'NoSchedule' });
    }
    if (node.spec?.unschedulable) desired.push({ key: TAINT_UNSCHEDULABLE, effect: 'NoSchedule' });
    const condKey = ready === 'False' ? TAINT_NOT_READY : ready === 'True' ? undefined : TAINT_UNREACHABLE;
    if (condKey) desired.push({ key: condKey, effect: 'NoSchedule' }, { key: condKey, effect: 'NoExecute' });
    const now = k8sTime(this.ctx.clock.now());
    const same = (a: Taint, b: Taint) => a.key === b.key && a.effect === b.effect;
    const updated = this.ctx.store.mutate('nodes', undefined, name, (n) => {
      const current: Taint[] = n.spec?.taints ?? [];
      const kept = current.filter((t) => !MANAGED_KEYS.has(t.key) || desired.some((d) => same(d, t)));
      const added = desired.filter((d) => !current.some((t) => same(d, t))).map((d) => ({ ...d, timeAdded: now }));
      if (added.length === 0 && kept.length === current.length) return false;
      n.spec ??= {};
      if (kept.length + added.length) n.spec.taints = [...kept, ...added];
      else delete n.spec.taints;
    });
    this.processNode(updated ?? node);
  }

  /** The taint eviction controller's handleNodeUpdate for one node. */
  private processNode(node: K8sObject): void {
    const name = node.metadata.name!;
    const taints: Taint[] = (node.spec?.taints ?? []).filter((t: Taint) => t.effect === 'NoExecute');
    const now = this.ctx.clock.now();
    for (const pod of this.ctx.store.list('pods').items) {
      if (pod.spec?.nodeName !== name || pod.metadata.deletionTimestamp) continue;
      const key = objectKey(pod.metadata);
      if (taints.length === 0) {
        this.cancelEviction(key, true);
        continue;
      }
      const seconds = minTolerationSeconds(withDefaultTolerations(pod.spec?.tolerations ?? []), taints);
      if (seconds === undefined) {
        this.cancelEviction(key, true);
        continue;
      }
      const existing = this.evictions.get(key);
      const createdAt = existing?.createdAt ?? now;
      const at = createdAt + seconds * 1000;
      if (existing?.at === at) continue;
      existing?.timer.cancel();
      const timer = this.ctx.clock.setTimeout(() => this.evict(key, name), Math.max(0, at - now));
      this.evictions.set(key, { node: name, createdAt, at, timer });
    }
  }

  private cancelEviction(key: string, withEvent: boolean): void {
    const e = this.evictions.get(key);
    if (!e) return;
    e.timer.cancel();
    this.evictions.delete(key);
    if (withEvent) this.ctx.events.emit(podRef(key), 'Normal', 'TaintManagerEviction', `Cancelling deletion of Pod ${key}`, TAINT_EVICTION);
  }

  /** deletePodHandler: event, DisruptionTarget, then an ordinary graceful delete. */
  private evict(key: string, node: string): void {
    this.evictions.delete(key);
    const [ns, name] = key.split('/');
    const pod = this.ctx.store.get('pods', ns, name);
    if (!pod || pod.spec?.nodeName !== node || pod.metadata.deletionTimestamp) return;
    this.ctx.events.emit(podRef(key), 'Normal', 'TaintManagerEviction', `Marking for deletion Pod ${key}`, TAINT_EVICTION);
    const now = this.ctx.clock.now();
    this.ctx.store.mutate('pods', ns, name, (p) => {
      p.status ??= {};
      setPodCondition(p, {
        type: 'DisruptionTarget', status: 'True', reason: 'DeletionByTaintManager',
        message: 'Taint manager: deleting due to NoExecute taint', lastProbeTime: null,
      }, now);
    }, { subresource: 'status' });
    try {
      this.ctx.store.delete('pods', ns, name);
    } catch {
      // Deleted meanwhile.
    }
  }
}

function readyCondition(node: K8sObject): any {
  return (node.status?.conditions ?? []).find((c: any) => c.type === 'Ready');
}

// The taint manager's ObjectReference names the pod without uid or apiVersion.
function podRef(key: string): K8sObject {
  const [namespace, name] = key.split('/');
  return { kind: 'Pod', metadata: { namespace, name } };
}

/**
 * getMinTolerationTime over the tolerations matching each NoExecute taint:
 * 0 when some taint is not tolerated, undefined when tolerated forever.
 */
export function minTolerationSeconds(tolerations: Toleration[], taints: Taint[]): number | undefined {
  let min: number | undefined;
  for (const taint of taints) {
    const t = tolerations.find((x) => toleratesTaint(x, taint));
    if (!t) return 0;
    if (t.tolerationSeconds === undefined || t.tolerationSeconds === null) continue;
    const s = Math.max(0, t.tolerationSeconds);
    min = min === undefined ? s : Math.min(min, s);
  }
  return min;
}
