// The kubelets of all nodes: each pod bound to a node with a live kubelet gets
// a sandbox (IP), its init containers in order, then its containers, with
// pulls, crash loops, readiness, OOM kills and graceful deletion modelled in
// cluster time. Runtime state lives here; the store only sees status writes,
// and only when something a user could observe changed.
import type { TimerHandle } from '../../common/index.ts';
import { qosClass } from '../strategy.ts';
import type { K8sObject } from '../types.ts';
import type { Controller, ControllerContext } from './controller.ts';
import { WorkQueue, objectKey, splitKey } from './workqueue.ts';
import { exitContainer, killContainer, nextDue, stepContainer } from './kubelet-containers.ts';
import { emit, newContainer, type ContainerRuntime, type PodEnv } from './kubelet-runtime.ts';
import { buildPodStatus, computePhase, initialized, isTerminalPhase, type PodRuntime } from './kubelet-status.ts';
import { adoptKubelet, saveKubelet, type KubeletState } from './kubelet-state.ts';
import { containerUsage, memoryBytesAt, oomScoreAdj, pickOomVictim, systemOomThreshold, type OomCandidate } from './kubelet-memory.ts';

/** The kubelet finishes a graceful deletion within this much cluster time (or the grace period, if shorter). */
const MAX_STOP_MS = 2_000;
/** Guards the step loop against a container spec that would transition forever at one instant. */
const MAX_STEPS_PER_SYNC = 10_000;

export class KubeletController implements Controller {
  readonly name = 'kubelet';
  private ctx!: ControllerContext;
  private queue?: WorkQueue;
  private unsubscribe?: () => void;
  private tickTimer?: TimerHandle;
  readonly pods = new Map<string, PodRuntime>();
  /** Pods whose sync waited for their node's kubelet (or node object), by node. */
  private readonly deferred = new Map<string, Set<string>>();
  readonly nodeImages = new Map<string, Set<string>>();
  readonly nodeIndex = new Map<string, number>();
  readonly nextIP = new Map<string, number>();
  readonly pids = new Map<string, number>();
  /** The pod key whose status this controller is writing, so its own write does not re-queue it. */
  private writing?: string;
  private restored?: KubeletState;

  saveState(): KubeletState {
    return saveKubelet(this);
  }

  restoreState(state: unknown): void {
    this.restored = state as KubeletState;
  }

  start(ctx: ControllerContext): void {
    this.ctx = ctx;
    if (this.restored) adoptKubelet(this, this.restored, ctx);
    this.restored = undefined;
    const queue = new WorkQueue(ctx.clock, (key) => this.sync(key));
    this.queue = queue;
    this.unsubscribe = ctx.store.subscribe((ev) => {
      if (ev.storage !== 'pods') return;
      const key = objectKey(ev.object.metadata);
      if (this.writing === key) return;
      if (ev.type === 'DELETED') {
        if (this.pods.has(key)) queue.add(key);
      } else if (ev.object.spec?.nodeName) {
        queue.add(key);
      }
    });
    for (const p of ctx.store.list('pods').items) if (p.spec?.nodeName) queue.add(objectKey(p.metadata));
    this.tickTimer = ctx.clock.setTimeout(() => this.tick(), ctx.config.resyncSeconds * 1000);
  }

  stop(): void {
    this.unsubscribe?.();
    this.queue?.stop();
    this.tickTimer?.cancel();
    this.unsubscribe = undefined;
    this.queue = undefined;
    this.tickTimer = undefined;
  }

  private sync(key: string): void {
    const { ctx } = this;
    const now = ctx.clock.now();
    const { namespace, name } = splitKey(key);
    const pod = ctx.store.get('pods', namespace, name);
    let rt = this.pods.get(key);
    if (rt && (!pod || rt.uid !== pod.metadata.uid)) {
      this.forget(rt);
      rt = undefined;
    }
    const node = pod?.spec?.nodeName;
    if (!pod || !node) return;
    const nodeObj = ctx.store.get('nodes', undefined, node);
    if (!nodeObj || !ctx.nodeHealth.kubeletUp(node, now)) {
      // A hung kubelet does nothing; its containers keep running and keep their usage.
      let keys = this.deferred.get(node);
      if (!keys) this.deferred.set(node, (keys = new Set()));
      keys.add(key);
      return;
    }
    if (!rt) {
      // A pod that finished before this kubelet saw it has nothing to run.
      if (isTerminalPhase(pod.status?.phase) && !pod.metadata.deletionTimestamp) return;
      rt = this.admit(key, pod, nodeObj, now);
    }
    rt.pod = pod;
    const env = this.env(rt);
    if (pod.metadata.deletionTimestamp) {
      this.terminate(rt, env, now);
      return;
    }
    if (!rt.terminal && isTerminalPhase(pod.status?.phase)) this.finish(rt, env, now, true);
    for (let i = 0; i < MAX_STEPS_PER_SYNC && this.step(rt, env, now); i++);
    this.writeStatus(rt, now);
    this.schedule(rt, now);
  }

  /** Sets up the pod sandbox: IPs and per-container runtime state. */
  private admit(key: string, pod: K8sObject, node: K8sObject, now: number): PodRuntime {
    const nodeName = node.metadata.name!;
    let idx = this.nodeIndex.get(nodeName);
    if (idx === undefined) this.nodeIndex.set(nodeName, (idx = this.nodeIndex.size + 1));
    const internal = (node.status?.addresses ?? []).find((a: any) => a.type === 'InternalIP' && a.address)?.address;
    const hostIP = internal ?? `172.18.0.${idx + 1}`;
    let podIP = hostIP;
    if (!pod.spec?.hostNetwork) {
      const n = this.nextIP.get(nodeName) ?? 0;
      this.nextIP.set(nodeName, n + 1);
      podIP = `${this.podNetwork(node, idx)}${(n % 253) + 2}`;
    }
    const hasInit = (pod.spec?.initContainers ?? []).length > 0;
    const rt: PodRuntime = {
      key,
      uid: pod.metadata.uid!,
      ns: pod.metadata.namespace!,
      name: pod.metadata.name!,
      node: nodeName,
      pod,
      podIP,
      hostIP,
      startTime: pod.status?.startTime ? Date.parse(pod.status.startTime) : now,
      init: (pod.spec?.initContainers ?? []).map((c: any) => newContainer(c, true, 'PodInitializing')),
      containers: (pod.spec?.containers ?? []).map((c: any) => newContainer(c, false, hasInit ? 'PodInitializing' : 'ContainerCreating')),
      initIndex: 0,
      terminal: false,
    };
    this.pods.set(key, rt);
    return rt;
  }

  /** The node's /24 for pod IPs: its spec.podCIDR when no other node shares it, else 10.244.<n>. */
  private podNetwork(node: K8sObject, idx: number): string {
    const cidr = /^(\d+\.\d+\.\d+)\.\d+\/24$/.exec(node.spec?.podCIDR ?? '');
    if (cidr) {
      const shared = this.ctx.store.list('nodes').items.some((n) => n.metadata.name !== node.metadata.name && n.spec?.podCIDR === node.spec.podCIDR);
      if (!shared) return `${cidr[1]}.`;
    }
    return `10.244.${idx}.`;
  }

  private env(rt: PodRuntime): PodEnv {
    let images = this.nodeImages.get(rt.node);
    if (!images) this.nodeImages.set(rt.node, (images = new Set()));
    return { ctx: this.ctx, pod: rt.pod, node: rt.node, podIP: rt.podIP, images, nextPid: () => this.nextPid(rt.node) };
  }

  private nextPid(node: string): number {
    const pid = (this.pids.get(node) ?? 1000 + Math.floor(Math.random() * 1000)) + 1 + Math.floor(Math.random() * 40);
    this.pids.set(node, pid);
    return pid;
  }

  /** Containers the pod worker drives now: started sidecars, then the init container in turn or the app containers. */
  private active(rt: PodRuntime): ContainerRuntime[] {
    const sidecars = rt.init.slice(0, rt.initIndex).filter((c) => c.sidecar);
    return initialized(rt) ? [...sidecars, ...rt.containers] : [...sidecars, rt.init[rt.initIndex]];
  }

  /** One due transition; false when the pod has nothing more to do at `now`. */
  private step(rt: PodRuntime, env: PodEnv, now: number): boolean {
    if (rt.terminal) return false;
    for (const c of this.active(rt)) if (stepContainer(env, c, now)) return true;
    if (!initialized(rt)) {
      const c = rt.init[rt.initIndex];
      if ((c.sidecar && c.instances > 0) || (c.stage === 'done' && c.terminated?.exitCode === 0)) {
        rt.initIndex++;
        return true;
      }
    }
    const phase = computePhase(rt);
    if (phase === 'Succeeded' || phase === 'Failed') {
      rt.finalPhase = phase;
      this.finish(rt, env, now, false);
      return true;
    }
    return false;
  }

  /**
   * The pod is over: by its own containers (sidecars are then stopped) or by
   * the eviction manager (`external`: everything is killed).
   */
  private finish(rt: PodRuntime, env: PodEnv, now: number, external: boolean): void {
    rt.terminal = true;
    for (const c of [...rt.init, ...rt.containers]) {
      if (c.stage === 'done' || c.stage === 'idle') continue;
      killContainer(env, c, now, external ? 137 : 0, external ? 'Error' : 'Completed');
    }
    this.ctx.usage.forgetPod(rt.ns, rt.name);
  }

  /** Graceful deletion: stop the containers, then finish the DELETE the API server started. */
  private terminate(rt: PodRuntime, env: PodEnv, now: number): void {
    const pod = rt.pod;
    if (rt.removeAt === undefined) {
      for (const c of [...rt.init, ...rt.containers]) {
        if (c.stage === 'running') emit(env, c, 'Normal', 'Killing', `Stopping container ${c.name}`);
      }
      const grace = pod.metadata.deletionGracePeriodSeconds ?? pod.spec?.terminationGracePeriodSeconds ?? 30;
      rt.removeAt = now + Math.min(grace * 1000, MAX_STOP_MS);
    }
    if (now < rt.removeAt) {
      this.queue?.addAfter(rt.key, rt.removeAt - now);
      return;
    }
    for (const c of [...rt.init, ...rt.containers]) if (c.stage === 'running') killContainer(env, c, now, 0, 'Completed');
    this.ctx.usage.forgetPod(rt.ns, rt.name);
    // Finalizers keep the object; their removal re-queues the pod.
    if (pod.metadata.finalizers?.length) return;
    this.forget(rt);
    this.ctx.store.remove('pods', pod);
  }

  private forget(rt: PodRuntime): void {
    this.ctx.usage.forgetPod(rt.ns, rt.name);
    this.ctx.logs.forgetPod(rt.ns, rt.name);
    this.pods.delete(rt.key);
  }

  private writeStatus(rt: PodRuntime, now: number): void {
    this.writing = rt.key;
    try {
      this.ctx.store.mutate('pods', rt.ns, rt.name, (p) => {
        if (p.metadata.uid !== rt.uid) return false;
        const next = buildPodStatus(rt, p, now);
        if (JSON.stringify(next) === JSON.stringify(p.status)) return false;
        p.status = next;
      }, { subresource: 'status' });
    } finally {
      this.writing = undefined;
    }
  }

  private schedule(rt: PodRuntime, now: number): void {
    if (rt.terminal) return;
    let next = Infinity;
    for (const c of this.active(rt)) next = Math.min(next, nextDue(c));
    if (next < Infinity) this.queue?.addAfter(rt.key, Math.max(0, next - now));
  }

  /** Periodic housekeeping per live kubelet: resume deferred pods, report usage, let the kernel OOM-kill. */
  private tick(): void {
    const { ctx } = this;
    const now = ctx.clock.now();
    const byNode = new Map<string, PodRuntime[]>();
    for (const rt of this.pods.values()) {
      let list = byNode.get(rt.node);
      if (!list) byNode.set(rt.node, (list = []));
      list.push(rt);
    }
    const nodes = new Set([...ctx.store.list('nodes').items.map((n) => n.metadata.name!), ...byNode.keys(), ...this.deferred.keys()]);
    for (const node of nodes) {
      if (!ctx.nodeHealth.kubeletUp(node, now)) continue;
      const keys = this.deferred.get(node);
      if (keys) {
        this.deferred.delete(node);
        for (const k of keys) this.queue?.add(k);
      }
      const live = (byNode.get(node) ?? []).filter((rt) => !rt.terminal && rt.removeAt === undefined);
      for (const rt of live) {
        for (const c of this.active(rt)) {
          if (c.stage === 'running') ctx.usage.set(rt.ns, rt.name, node, c.name, containerUsage(c.behaviour!, c.startedAt!, now));
        }
        ctx.usage.reported(rt.ns, rt.name, now);
      }
      if (ctx.store.get('nodes', undefined, node)) ctx.usage.nodeReported(node, now);
      this.systemOom(node, live, now);
    }
    this.tickTimer = ctx.clock.setTimeout(() => this.tick(), ctx.config.resyncSeconds * 1000);
  }

  /** The node ran out of memory: the kernel kills the worst container until usage fits again. */
  private systemOom(node: string, live: PodRuntime[], now: number): void {
    const { ctx } = this;
    const nodeObj = ctx.store.get('nodes', undefined, node);
    if (!nodeObj) return;
    const { capacity, threshold } = systemOomThreshold(nodeObj);
    if (capacity <= 0) return;
    for (let guard = 0; guard < 1000 && ctx.usage.node(node).memoryBytes > threshold; guard++) {
      const candidates: OomCandidate<{ rt: PodRuntime; c: ContainerRuntime }>[] = [];
      for (const rt of live) {
        const qos = rt.pod.status?.qosClass ?? qosClass(rt.pod.spec);
        for (const c of this.active(rt)) {
          if (c.stage !== 'running') continue;
          candidates.push({ ref: { rt, c }, usageBytes: memoryBytesAt(c.behaviour!, c.startedAt!, now), adj: oomScoreAdj(qos, c.spec, capacity) });
        }
      }
      const victim = pickOomVictim(candidates, capacity);
      if (!victim) return;
      const { rt, c } = victim.ref;
      const pid = c.pid;
      exitContainer(this.env(rt), c, now, 137, 'OOMKilled', false);
      ctx.events.emit(nodeObj, 'Warning', 'SystemOOM', `System OOM encountered, victim process: ${c.name}, pid: ${pid}`, { component: 'kubelet', host: node });
      this.queue?.add(rt.key);
    }
  }
}
