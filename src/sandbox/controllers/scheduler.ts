// default-scheduler: binds pending pods to nodes the way kube-scheduler 1.32
// does for the default profile, reduced to the plugins that matter here
// (NodeUnschedulable, TaintToleration, NodeAffinity, NodeResourcesFit, the
// LeastAllocated score and DefaultPreemption), with its queue semantics: a
// pod that does not fit waits in the unschedulable pool until a cluster event
// that could help (a node added or changed, an assigned pod gone) moves it
// back, never sooner than its back-off, or until the 5-minute flush.
import { type TimerHandle, k8sTime } from '../../common/index.ts';
import type { K8sObject, StoreEvent } from '../types.ts';
import type { Controller, ControllerContext } from './controller.ts';
import { objectKey, splitKey } from './workqueue.ts';
import { filterNode, isTerminal, nodeAllocatable, podsByNode, podScoringRequests, sumRequests, type FitResult } from './resources-fit.ts';
import { pinnedNodeNames } from './node-affinity.ts';
import { preemptionDryRun } from './preemption.ts';
import { checkPodVolumes, selectNodeForClaims } from './scheduler-volumes.ts';

const SCHEDULER_NAME = 'default-scheduler';
const SOURCE = { component: SCHEDULER_NAME };
/** podInitialBackoffSeconds / podMaxBackoffSeconds. */
const INITIAL_BACKOFF_MS = 1_000;
const MAX_BACKOFF_MS = 10_000;
/** podMaxInUnschedulablePodsDuration: unschedulable pods are retried at least this often. */
const UNSCHEDULABLE_FLUSH_MS = 5 * 60_000;

interface Waiting {
  attempts: number;
  lastAttempt: number;
  retry?: TimerHandle;
  flush?: TimerHandle;
}

export class SchedulerController implements Controller {
  readonly name = 'scheduler';
  private ctx!: ControllerContext;
  private unsubscribe?: () => void;
  private readonly active = new Set<string>();
  private readonly waiting = new Map<string, Waiting>();
  private drainScheduled = false;
  private stopped = false;

  start(ctx: ControllerContext): void {
    this.ctx = ctx;
    this.stopped = false;
    this.unsubscribe = ctx.store.subscribe((ev) => this.onEvent(ev));
    for (const p of ctx.store.list('pods').items) if (this.wantsScheduling(p)) this.enqueue(objectKey(p.metadata));
  }

  stop(): void {
    this.stopped = true;
    this.unsubscribe?.();
    for (const w of this.waiting.values()) this.cancelTimers(w);
    this.waiting.clear();
    this.active.clear();
  }

  private wantsScheduling(p: K8sObject): boolean {
    return !p.spec?.nodeName && !p.metadata.deletionTimestamp && !isTerminal(p)
      && (p.spec?.schedulerName ?? SCHEDULER_NAME) === SCHEDULER_NAME;
  }

  private onEvent(ev: StoreEvent): void {
    // A claim created or bound, a volume or class added: pods waiting on their volumes may go on.
    const volumeEvent = (ev.storage === 'persistentvolumeclaims' && (ev.type === 'ADDED' || ev.old?.status?.phase !== ev.object.status?.phase))
      || ((ev.storage === 'persistentvolumes' || ev.storage === 'storage.k8s.io/storageclasses') && ev.type === 'ADDED');
    if (volumeEvent) {
      this.moveAllToActive();
      return;
    }
    if (ev.storage === 'nodes') {
      if (ev.type === 'ADDED' || (ev.type === 'MODIFIED' && nodeSchedulingChanged(ev.old!, ev.object))) this.moveAllToActive();
      return;
    }
    if (ev.storage !== 'pods') return;
    const pod = ev.object;
    const key = objectKey(pod.metadata);
    const wasAssigned = ev.old?.spec?.nodeName && !isTerminal(ev.old);
    const freed = wasAssigned && (ev.type === 'DELETED' || isTerminal(pod));
    if (freed) {
      this.moveAllToActive();
      return;
    }
    if (ev.type === 'DELETED' || !this.wantsScheduling(pod)) {
      this.forget(key);
      return;
    }
    if (ev.type === 'ADDED') {
      this.enqueue(key);
    } else if (this.waiting.has(key) && podSpecChanged(ev.old!, pod)) {
      this.retryAfterBackoff(key, this.waiting.get(key)!);
    } else if (!this.waiting.has(key)) {
      this.enqueue(key);
    }
  }

  private enqueue(key: string): void {
    if (this.stopped) return;
    this.active.add(key);
    if (this.drainScheduled) return;
    this.drainScheduled = true;
    setImmediate(() => this.drain());
  }

  private forget(key: string): void {
    const w = this.waiting.get(key);
    if (w) this.cancelTimers(w);
    this.waiting.delete(key);
    this.active.delete(key);
  }

  private cancelTimers(w: Waiting): void {
    w.retry?.cancel();
    w.flush?.cancel();
    w.retry = w.flush = undefined;
  }

  private moveAllToActive(): void {
    for (const [key, w] of this.waiting) this.retryAfterBackoff(key, w);
  }

  private retryAfterBackoff(key: string, w: Waiting): void {
    if (this.active.has(key) || w.retry) return;
    const backoff = Math.min(INITIAL_BACKOFF_MS * 2 ** (w.attempts - 1), MAX_BACKOFF_MS);
    const wait = w.lastAttempt + backoff - this.ctx.clock.now();
    if (wait <= 0) {
      this.enqueue(key);
      return;
    }
    w.retry = this.ctx.clock.setTimeout(() => {
      w.retry = undefined;
      this.enqueue(key);
    }, wait);
  }

  /** Pods in PrioritySort order: higher priority first, then older first. */
  private drain(): void {
    this.drainScheduled = false;
    if (this.stopped) return;
    const pods: K8sObject[] = [];
    for (const key of this.active) {
      const { namespace, name } = splitKey(key);
      const p = this.ctx.store.get('pods', namespace, name);
      if (p && this.wantsScheduling(p)) pods.push(p);
      else this.forget(key);
    }
    this.active.clear();
    pods.sort((a, b) => (b.spec?.priority ?? 0) - (a.spec?.priority ?? 0)
      || Date.parse(a.metadata.creationTimestamp!) - Date.parse(b.metadata.creationTimestamp!)
      || (objectKey(a.metadata) < objectKey(b.metadata) ? -1 : 1));
    for (const p of pods) {
      if (this.stopped) return;
      try {
        this.scheduleOne(p);
      } catch (err) {
        console.error(`scheduler failed on ${objectKey(p.metadata)}:`, err);
      }
    }
  }

  private scheduleOne(pod: K8sObject): void {
    const key = objectKey(pod.metadata);
    const nodes = this.ctx.store.list('nodes').items;
    const byNode = podsByNode(this.ctx.store.list('pods').items);
    const volumes = checkPodVolumes(this.ctx.store, pod);
    if (volumes.error && nodes.length) {
      // VolumeBinding's PreFilter rejects the pod on every node; preemption cannot help.
      const n = nodes.length;
      this.recordFailure(pod, `0/${n} nodes are available: ${volumes.error}. preemption: 0/${n} nodes are available: ${n} Preemption is not helpful for scheduling.`, null);
      return;
    }
    const pinned = pinnedNodeNames(pod);
    const candidates = pinned ? nodes.filter((n) => pinned.has(n.metadata.name!)) : nodes;
    const failures = new Map<string, FitResult>();
    const feasible: K8sObject[] = [];
    for (const node of candidates) {
      const conflict = volumes.nodeConflict(node);
      const fit: FitResult | undefined = conflict ? { reasons: [conflict], resolvable: false } : filterNode(pod, node, byNode.get(node.metadata.name!) ?? []);
      if (fit) failures.set(node.metadata.name!, fit);
      else feasible.push(node);
    }
    if (feasible.length > 0) {
      const chosen = pickNode(pod, feasible, byNode);
      if (volumes.waitFor.length) {
        // PreBind: the claims get the node; the pod is bound once they are (a claim event brings it back).
        selectNodeForClaims(this.ctx.store, volumes.waitFor, chosen.metadata.name!);
        this.parkForVolumes(key);
        return;
      }
      this.bind(pod, chosen);
      this.forget(key);
      return;
    }
    if (nodes.length === 0) {
      this.recordFailure(pod, 'no nodes available to schedule pods', undefined);
      return;
    }
    // The NodeAffinity PreFilter skipped the nodes it did not pin.
    const counts = new Map<string, number>();
    for (const f of failures.values()) for (const r of f.reasons) counts.set(r, (counts.get(r) ?? 0) + 1);
    if (nodes.length > candidates.length) counts.set("node(s) didn't satisfy plugin(s) [NodeAffinity]", nodes.length - candidates.length);
    const message = `0/${nodes.length} nodes are available: ${histogram(counts)}.`;
    const post = preemptionDryRun(pod, nodes, failures, byNode);
    if (post.plan) {
      this.preempt(pod, post.plan.node, post.plan.victims);
      this.recordFailure(pod, message, post.plan.node);
    } else {
      const keepNomination = post.message?.includes('nominated node');
      this.recordFailure(pod, `${message} preemption: ${post.message}`, keepNomination ? undefined : null);
    }
  }

  /** Waits without a failure: binding the claims is under way. */
  private parkForVolumes(key: string): void {
    const w = this.waiting.get(key) ?? { attempts: 0, lastAttempt: this.ctx.clock.now() };
    this.cancelTimers(w);
    this.waiting.set(key, w);
  }

  /** Evicts the victims (DisruptionTarget, graceful delete) and nominates the node. */
  private preempt(pod: K8sObject, node: string, victims: K8sObject[]): void {
    const now = this.ctx.clock.now();
    for (const v of victims) {
      const ns = v.metadata.namespace;
      const name = v.metadata.name!;
      this.ctx.store.mutate('pods', ns, name, (p) => {
        p.status ??= {};
        setPodCondition(p, {
          type: 'DisruptionTarget', status: 'True', reason: 'PreemptionByScheduler',
          message: `${SCHEDULER_NAME}: preempting to accommodate a higher priority pod`, lastProbeTime: null,
        }, now);
      }, { subresource: 'status' });
      try {
        this.ctx.store.delete('pods', ns, name);
      } catch {
        continue; // already gone
      }
      this.ctx.events.emit(v, 'Normal', 'Preempted', `Preempted by pod ${pod.metadata.uid} on node ${node}`, SOURCE, { action: 'Preempting' });
    }
  }

  private bind(pod: K8sObject, node: K8sObject): void {
    const nodeName = node.metadata.name!;
    const now = this.ctx.clock.now();
    // The binding subresource sets nodeName and PodScheduled=True in one write.
    const bound = this.ctx.store.mutate('pods', pod.metadata.namespace, pod.metadata.name!, (p) => {
      if (p.spec.nodeName || p.metadata.deletionTimestamp) return false;
      p.spec.nodeName = nodeName;
      p.status ??= {};
      delete p.status.nominatedNodeName;
      setPodCondition(p, { type: 'PodScheduled', status: 'True', lastProbeTime: null }, now);
    });
    if (!bound || bound.spec?.nodeName !== nodeName) return;
    this.ctx.events.emit(bound, 'Normal', 'Scheduled', `Successfully assigned ${pod.metadata.namespace}/${pod.metadata.name} to ${nodeName}`, SOURCE, { action: 'Binding' });
  }

  /** `nominated`: a node name to nominate, null to clear the nomination, undefined to keep it. */
  /** `nominated`: a node name to nominate, null to clear the nomination, undefined to keep it. */
  private recordFailure(pod: K8sObject, message: string, nominated: string | null | undefined): void {
    const key = objectKey(pod.metadata);
    const now = this.ctx.clock.now();
    // Into the unschedulable pool before writing, so our own status update
    // (delivered synchronously) is not mistaken for a new pending pod.
    const w = this.waiting.get(key) ?? { attempts: 0, lastAttempt: now };
    this.cancelTimers(w);
    w.attempts++;
    w.lastAttempt = now;
    w.flush = this.ctx.clock.setTimeout(() => {
      w.flush = undefined;
      this.enqueue(key);
    }, UNSCHEDULABLE_FLUSH_MS);
    this.waiting.set(key, w);
    this.ctx.events.emit(pod, 'Warning', 'FailedScheduling', message, SOURCE, { action: 'Scheduling' });
    this.ctx.store.mutate('pods', pod.metadata.namespace, pod.metadata.name!, (p) => {
      if (p.spec.nodeName) return false;
      p.status ??= {};
      if (nominated) p.status.nominatedNodeName = nominated;
      else if (nominated === null) delete p.status.nominatedNodeName;
      setPodCondition(p, { type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message, lastProbeTime: null }, now);
    }, { subresource: 'status' });
  }
}

/** "1 node(s) were unschedulable, 2 Insufficient memory": counts first, sorted as strings. */
export function histogram(counts: Map<string, number>): string {
  return [...counts].map(([reason, n]) => `${n} ${reason}`).sort().join(', ');
}

/** NodeResourcesLeastAllocated over cpu and memory (equal weights); ties go to the first name. */
function pickNode(pod: K8sObject, feasible: K8sObject[], byNode: Map<string, K8sObject[]>): K8sObject {
  const req = podScoringRequests(pod);
  let best: K8sObject | undefined;
  let bestScore = -1;
  for (const node of [...feasible].sort((a, b) => (a.metadata.name! < b.metadata.name! ? -1 : 1))) {
    const alloc = nodeAllocatable(node);
    const used = sumRequests(byNode.get(node.metadata.name!) ?? [], true);
    const part = (cap: number, requested: number) => (cap <= 0 || requested > cap ? 0 : Math.floor(((cap - requested) * 100) / cap));
    const score = Math.floor((part(alloc.cpu * 1000, Math.round((used.cpu + req.cpu) * 1000)) + part(alloc.memory, used.memory + req.memory)) / 2);
    if (score > bestScore) {
      best = node;
      bestScore = score;
    }
  }
  return best!;
}

/** podutil.UpdatePodCondition: lastTransitionTime moves only when the status does. */
export function setPodCondition(pod: K8sObject, cond: Record<string, unknown> & { type: string; status: string }, now: number): void {
  const conditions: any[] = (pod.status.conditions ??= []);
  const i = conditions.findIndex((c) => c.type === cond.type);
  const old = i >= 0 ? conditions[i] : undefined;
  const next = { ...cond, lastTransitionTime: old && old.status === cond.status ? old.lastTransitionTime : k8sTime(now) };
  if (i >= 0) conditions[i] = next;
  else conditions.push(next);
}

// NodeSchedulingPropertiesChange: heartbeats alone do not wake pending pods.
function nodeSchedulingChanged(a: K8sObject, b: K8sObject): boolean {
  const conds = (n: K8sObject) => JSON.stringify((n.status?.conditions ?? []).map((c: any) => [c.type, c.status]));
  return JSON.stringify(a.spec ?? {}) !== JSON.stringify(b.spec ?? {})
    || JSON.stringify(a.metadata.labels ?? {}) !== JSON.stringify(b.metadata.labels ?? {})
    || JSON.stringify(a.status?.allocatable ?? {}) !== JSON.stringify(b.status?.allocatable ?? {})
    || conds(a) !== conds(b);
}

function podSpecChanged(a: K8sObject, b: K8sObject): boolean {
  return JSON.stringify(a.spec) !== JSON.stringify(b.spec) || JSON.stringify(a.metadata.labels ?? {}) !== JSON.stringify(b.metadata.labels ?? {});
}
