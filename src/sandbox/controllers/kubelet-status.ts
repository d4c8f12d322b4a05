// The pod status the kubelet's status manager would write: phase by the
// kubelet's getPhase rules, the five pod conditions, and container statuses
// shaped like containerd's (image, imageID, containerID, state, lastState).
import { k8sTime } from '../../common/index.ts';
import type { K8sObject } from '../types.ts';
import type { ContainerRuntime, Terminated } from './kubelet-runtime.ts';
import { imageIDOf } from './kubelet-images.ts';

export interface PodRuntime {
  key: string;
  uid: string;
  ns: string;
  name: string;
  node: string;
  /** The pod as last read from the store, for events and policies. */
  pod: K8sObject;
  podIP: string;
  hostIP: string;
  startTime: number;
  init: ContainerRuntime[];
  containers: ContainerRuntime[];
  /** Index of the init container being run; init.length once initialized. */
  initIndex: number;
  /** The pod reached Succeeded/Failed (ours or set by the eviction manager). */
  terminal: boolean;
  /** The phase the kubelet settled on when the pod finished. */
  finalPhase?: 'Succeeded' | 'Failed';
  /** Set once the pod is being deleted: when the kubelet finishes the deletion. */
  removeAt?: number;
}

const TERMINAL = new Set(['Succeeded', 'Failed']);

export function isTerminalPhase(phase: string | undefined): boolean {
  return TERMINAL.has(phase ?? '');
}

export function initialized(rt: PodRuntime): boolean {
  return rt.initIndex >= rt.init.length;
}

/** The kubelet's getPhase (pkg/kubelet/kubelet_pods.go), sidecars excluded. */
export function computePhase(rt: PodRuntime): 'Pending' | 'Running' | 'Succeeded' | 'Failed' {
  const policy = rt.pod.spec?.restartPolicy ?? 'Always';
  for (const c of rt.init) {
    if (!c.sidecar && c.stage === 'done' && c.terminated && c.terminated.exitCode !== 0 && policy === 'Never') return 'Failed';
  }
  if (!initialized(rt)) return 'Pending';
  let running = 0;
  let waiting = 0;
  let stopped = 0;
  let succeeded = 0;
  for (const c of rt.containers) {
    if (c.stage === 'running') running++;
    else if (c.stage === 'done' && c.terminated) {
      stopped++;
      if (c.terminated.exitCode === 0) succeeded++;
    } else if (c.last) {
      stopped++;
      if (c.last.exitCode === 0) succeeded++;
    } else waiting++;
  }
  if (waiting > 0) return 'Pending';
  if (running > 0) return 'Running';
  if (stopped > 0) {
    if (policy === 'Always') return 'Running';
    if (stopped === succeeded) return 'Succeeded';
    if (policy === 'Never') return 'Failed';
    return 'Running';
  }
  return 'Pending';
}

function terminatedState(t: Terminated): any {
  return {
    exitCode: t.exitCode,
    reason: t.reason,
    ...(t.message ? { message: t.message } : {}),
    startedAt: t.startedAt === undefined ? null : k8sTime(t.startedAt),
    finishedAt: t.finishedAt === undefined ? null : k8sTime(t.finishedAt),
    ...(t.containerID ? { containerID: t.containerID } : {}),
  };
}

function containerStatus(c: ContainerRuntime): any {
  let state: any;
  if (c.stage === 'running') state = { running: { startedAt: k8sTime(c.startedAt!) } };
  else if (c.stage === 'done' && c.terminated) state = { terminated: terminatedState(c.terminated) };
  else state = { waiting: { reason: c.waiting?.reason ?? 'ContainerCreating', ...(c.waiting?.message ? { message: c.waiting.message } : {}) } };
  const ready = c.init && !c.sidecar ? c.stage === 'done' && c.terminated?.exitCode === 0 : c.ready;
  return {
    name: c.name,
    state,
    lastState: c.last ? { terminated: terminatedState(c.last) } : {},
    ready,
    restartCount: Math.max(0, c.instances - 1),
    image: c.imageRef ?? c.spec.image,
    imageID: c.imageRef ? imageIDOf(c.imageRef) : '',
    ...(c.containerID ? { containerID: c.containerID } : {}),
    started: c.stage === 'running',
  };
}

function list(names: string[]): string {
  return `[${names.join(' ')}]`;
}

/** The next status, merged into `current` (conditions others own, eviction reason/message, qosClass are kept). */
export function buildPodStatus(rt: PodRuntime, pod: K8sObject, now: number): any {
  const current = pod.status ?? {};
  const phase = isTerminalPhase(current.phase) ? current.phase : rt.finalPhase ?? computePhase(rt);
  const terminal = isTerminalPhase(phase);
  const prev = new Map<string, any>((current.conditions ?? []).map((c: any) => [c.type, c]));
  const cond = (type: string, ok: boolean, reason?: string, message?: string) => {
    const old = prev.get(type);
    const status = ok ? 'True' : 'False';
    return {
      type,
      status,
      lastProbeTime: null,
      lastTransitionTime: old && old.status === status ? old.lastTransitionTime : k8sTime(now),
      ...(reason ? { reason } : {}),
      ...(message ? { message } : {}),
    };
  };

  // A sidecar counts as initialized once it has started.
  const pendingInit = rt.init.filter((c) => (c.sidecar ? c.instances === 0 : !(c.stage === 'done' && c.terminated?.exitCode === 0)));
  const isInit = initialized(rt);
  const unready = [...rt.init.filter((c) => c.sidecar), ...rt.containers].filter((c) => !c.ready).map((c) => c.name);
  const gates = (pod.spec?.readinessGates ?? []).map((g: any) => g.conditionType as string);
  const failedGate = gates.find((g: string) => prev.get(g)?.status !== 'True');

  let readyCond;
  let containersReady;
  if (terminal) {
    // generateContainersReadyConditionForTerminalPhase: no container list once the pod is over.
    const reason = phase === 'Succeeded' ? 'PodCompleted' : 'PodFailed';
    readyCond = cond('Ready', false, reason);
    containersReady = cond('ContainersReady', false, reason);
  } else if (unready.length) {
    readyCond = cond('Ready', false, 'ContainersNotReady', `containers with unready status: ${list(unready)}`);
    containersReady = cond('ContainersReady', false, 'ContainersNotReady', `containers with unready status: ${list(unready)}`);
  } else {
    containersReady = cond('ContainersReady', true);
    readyCond = failedGate
      ? cond('Ready', false, 'ReadinessGatesNotReady', prev.has(failedGate) ? `the status of pod readiness gate "${failedGate}" is not "True", but False` : `corresponding condition of pod readiness gate "${failedGate}" does not exist.`)
      : cond('Ready', true);
  }
  const mine = [
    cond('PodReadyToStartContainers', !terminal),
    phase === 'Succeeded' && isInit
      ? cond('Initialized', true, 'PodCompleted')
      : isInit
        ? cond('Initialized', true)
        : cond('Initialized', false, 'ContainersNotInitialized', `containers with incomplete status: ${list(pendingInit.map((c) => c.name))}`),
    readyCond,
    containersReady,
    prev.get('PodScheduled') ?? { type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: k8sTime(rt.startTime) },
  ];
  const ownTypes = new Set(mine.map((c) => c.type));
  const others = (current.conditions ?? []).filter((c: any) => !ownTypes.has(c.type));

  const next: any = {
    ...current,
    phase,
    conditions: [...mine, ...others],
    hostIP: rt.hostIP,
    hostIPs: [{ ip: rt.hostIP }],
    podIP: rt.podIP,
    podIPs: [{ ip: rt.podIP }],
    startTime: k8sTime(rt.startTime),
    containerStatuses: rt.containers.map(containerStatus),
  };
  if (rt.init.length) next.initContainerStatuses = rt.init.map(containerStatus);
  else delete next.initContainerStatuses;
  return next;
}
