// The kubelet's record of one container: the stage of its life it is in, what
// is due next, its last termination, and how its events and messages are
// worded.
import type { ImageBehaviour } from '../images.ts';
import type { K8sObject } from '../types.ts';
import type { ControllerContext } from './controller.ts';
import type { ProgramState } from './kubelet-commands.ts';

export type Stage = 'idle' | 'pulling' | 'errImagePull' | 'imagePullBackOff' | 'neverPull' | 'running' | 'backOff' | 'done';

export interface Terminated {
  exitCode: number;
  reason: string;
  message?: string;
  /** undefined for a container that never ran (ContainerStatusUnknown). */
  startedAt?: number;
  finishedAt?: number;
  containerID?: string;
}

export interface ContainerRuntime {
  name: string;
  spec: any;
  init: boolean;
  /** An init container with restartPolicy Always: starts in init order, then keeps running. */
  sidecar: boolean;
  stage: Stage;
  waiting?: { reason: string; message?: string };
  /** When the current stage's next step is due (running uses the fields below). */
  dueAt: number;
  pull?: { behaviour?: ImageBehaviour; durationMs: number };
  pullBackoffMs: number;
  /** The retry time of the image-pull back-off (ImagePullBackOff moves to it). */
  retryAt: number;
  pullError?: string;
  behaviour?: ImageBehaviour;
  /** The running command, when the command model interprets it (else the image's behaviour runs). */
  program?: ProgramState;
  imageRef?: string;
  containerID?: string;
  pid?: number;
  startedAt?: number;
  /** Containers created so far; restartCount is this minus one. */
  instances: number;
  ready: boolean;
  readyAt: number;
  exitAt: number;
  oomAt: number;
  nextProbeAt: number;
  terminated?: Terminated;
  last?: Terminated;
  crashBackoffMs: number;
}

/** What a container step needs to know about its pod and node. */
export interface PodEnv {
  ctx: ControllerContext;
  pod: K8sObject;
  node: string;
  podIP: string;
  /** Images present on the node. */
  images: Set<string>;
  nextPid(): number;
}

export function newContainer(spec: any, init: boolean, waitingReason: string): ContainerRuntime {
  return {
    name: spec.name,
    spec,
    init,
    sidecar: init && spec.restartPolicy === 'Always',
    stage: 'idle',
    waiting: { reason: waitingReason },
    dueAt: Infinity,
    pullBackoffMs: 0,
    retryAt: Infinity,
    instances: 0,
    ready: false,
    readyAt: Infinity,
    exitAt: Infinity,
    oomAt: Infinity,
    nextProbeAt: Infinity,
    crashBackoffMs: 0,
  };
}

/** Go's time.Duration formatting ("500ms", "2s", "1m20s", "5m0s"), as kubelet messages print it. */
export function goDuration(ms: number): string {
  if (ms <= 0) return '0s';
  if (ms < 1000) return `${Math.round(ms * 1000) / 1000}ms`;
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const s = Number(((ms % 60_000) / 1000).toFixed(3));
  if (h) return `${h}h${m}m${s}s`;
  if (m) return `${m}m${s}s`;
  return `${s}s`;
}

/** The restart policy that applies to this container. */
export function containerRestartPolicy(c: ContainerRuntime, podPolicy: string): string {
  if (c.sidecar) return 'Always';
  if (c.init) return podPolicy === 'Never' ? 'Never' : 'OnFailure';
  return podPolicy;
}

export function emit(env: PodEnv, c: ContainerRuntime, type: 'Normal' | 'Warning', reason: string, message: string): void {
  env.ctx.events.emit(env.pod, type, reason, message, { component: 'kubelet', host: env.node }, {
    fieldPath: `${c.init ? 'spec.initContainers' : 'spec.containers'}{${c.name}}`,
  });
}

export function podRef(env: PodEnv): string {
  const m = env.pod.metadata;
  return `${m.name}_${m.namespace}(${m.uid})`;
}
