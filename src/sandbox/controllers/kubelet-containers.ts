// One container's life on a node: image pull (with its back-off), start,
// readiness, exit or OOM kill, and the crash-loop back-off before the next
// start. Every step happens at an explicit cluster time, so the pod worker
// only has to ask "what is due now?" and "when is the next step?".
import { randomBytes } from 'node:crypto';
import { imageNameError, knowsRepository, lookupImage, parseImage, type ImageBehaviour } from '../images.ts';
import { pullFailure } from '../registry.ts';
import { containerUsage, memoryLimitBytes, oomKillAt } from './kubelet-memory.ts';
import { commandOf, runProgram } from './kubelet-commands.ts';
import { imageSizeOf, normalizeImage } from './kubelet-images.ts';
import { containerRestartPolicy, emit, goDuration, podRef, type ContainerRuntime, type PodEnv, type Terminated } from './kubelet-runtime.ts';

const INITIAL_PULL_BACKOFF_MS = 10_000;
/** A reference that does not resolve fails fast. */
const FAILED_PULL_MS = 1_000;
/** Policy Always on a cached image only re-resolves the manifest. */
const CACHED_PULL_MS = 500;
/** How long ErrImagePull shows before the next pod sync reports the back-off. */
const ERR_IMAGE_PULL_VISIBLE_MS = 5_000;
const NEVER_PULL_RETRY_MS = 10_000;
/** A container that ran this long without crashing starts its back-off afresh. */
const BACKOFF_RESET_MS = 10 * 60_000;
const MIN_BACKOFF_MS = 100;

/** Ensures the image (events as EnsureImageExists emits them), then starts or schedules the pull. */
export function beginPull(env: PodEnv, c: ContainerRuntime, now: number): void {
  const image = String(c.spec.image ?? '');
  const invalid = imageNameError(image);
  if (invalid) {
    // applyDefaultImageTag fails before any pull; the pod worker retries on every sync.
    const message = `Failed to apply default image tag "${image}": couldn't parse image name "${image}": ${invalid}`;
    emit(env, c, 'Warning', 'InspectFailed', message);
    emit(env, c, 'Warning', 'Failed', 'Error: InvalidImageName');
    c.stage = 'neverPull';
    c.waiting = { reason: 'InvalidImageName', message };
    c.dueAt = now + NEVER_PULL_RETRY_MS;
    return;
  }
  const ref = normalizeImage(image);
  const policy = c.spec.imagePullPolicy ?? 'IfNotPresent';
  const present = env.images.has(ref);
  if (policy === 'Never' || (policy === 'IfNotPresent' && present)) {
    if (present) {
      emit(env, c, 'Normal', 'Pulled', `Container image "${image}" already present on machine`);
      startContainer(env, c, lookupImage(env.ctx.images, image) ?? {}, now);
      return;
    }
    const message = `Container image "${image}" is not present with pull policy of Never`;
    emit(env, c, 'Warning', 'ErrImageNeverPull', message);
    c.stage = 'neverPull';
    c.waiting = { reason: 'ErrImageNeverPull', message };
    c.dueAt = now + NEVER_PULL_RETRY_MS;
    return;
  }
  emit(env, c, 'Normal', 'Pulling', `Pulling image "${image}"`);
  const behaviour = lookupImage(env.ctx.images, image);
  const durationMs = !behaviour ? FAILED_PULL_MS : present ? Math.min(CACHED_PULL_MS, (behaviour.pullSeconds ?? 2) * 1000) : (behaviour.pullSeconds ?? 2) * 1000;
  c.stage = 'pulling';
  c.pull = { behaviour, durationMs };
  c.dueAt = now + durationMs;
  if (!c.waiting || c.waiting.reason === 'PodInitializing') c.waiting = { reason: 'ContainerCreating' };
}

function finishPull(env: PodEnv, c: ContainerRuntime, now: number): void {
  const image = String(c.spec.image ?? '');
  const ref = normalizeImage(image);
  const pull = c.pull!;
  c.pull = undefined;
  if (pull.behaviour) {
    env.images.add(ref);
    const d = goDuration(pull.durationMs);
    emit(env, c, 'Normal', 'Pulled', `Successfully pulled image "${image}" in ${d} (${d} including waiting). Image size: ${imageSizeOf(ref)} bytes.`);
    c.pullBackoffMs = 0;
    c.pullError = undefined;
    startContainer(env, c, pull.behaviour, now);
    return;
  }
  const detail = pullFailure(ref, parseImage(image).repo, knowsRepository(env.ctx.images, image));
  emit(env, c, 'Warning', 'Failed', `Failed to pull image "${image}": ${detail}`);
  emit(env, c, 'Warning', 'Failed', 'Error: ErrImagePull');
  const max = env.ctx.config.kubelet.maxImagePullBackoffSeconds * 1000;
  const d = Math.max(MIN_BACKOFF_MS, Math.min(max, c.pullBackoffMs ? c.pullBackoffMs * 2 : INITIAL_PULL_BACKOFF_MS));
  c.pullBackoffMs = d;
  c.pullError = detail;
  c.stage = 'errImagePull';
  c.waiting = { reason: 'ErrImagePull', message: detail };
  c.retryAt = now + d;
  c.dueAt = now + Math.min(ERR_IMAGE_PULL_VISIBLE_MS, d / 2);
}

function enterImagePullBackOff(env: PodEnv, c: ContainerRuntime): void {
  const image = String(c.spec.image ?? '');
  emit(env, c, 'Normal', 'BackOff', `Back-off pulling image "${image}"`);
  emit(env, c, 'Warning', 'Failed', 'Error: ImagePullBackOff');
  c.stage = 'imagePullBackOff';
  // Since 1.32 the waiting message carries the last pull error.
  c.waiting = { reason: 'ImagePullBackOff', message: `Back-off pulling image "${image}": ErrImagePull: ${c.pullError}` };
  c.dueAt = c.retryAt;
}

function startContainer(env: PodEnv, c: ContainerRuntime, image: ImageBehaviour, now: number): void {
  const { ctx } = env;
  const ns = env.pod.metadata.namespace!;
  const pod = env.pod.metadata.name!;
  const ref = normalizeImage(String(c.spec.image ?? ''));
  const command = commandOf(env, c);
  // A command the model plays replaces the image's own process: its logs and exit.
  const b: ImageBehaviour = command.kind === 'program' ? { ...image, logs: undefined, exitLogs: undefined, exitAfterSeconds: undefined } : image;
  emit(env, c, 'Normal', 'Created', `Created container: ${c.name}`);
  if (c.instances > 0) ctx.logs.rotate(ns, pod, c.name);
  c.instances++;
  c.behaviour = b;
  c.program = undefined;
  c.imageRef = ref;
  c.containerID = `containerd://${randomBytes(32).toString('hex')}`;
  c.startedAt = now;
  if (command.kind === 'startError') {
    // The runtime created the container but could not exec its command.
    emit(env, c, 'Warning', 'Failed', `Error: ${command.message}`);
    c.stage = 'running';
    exitContainer(env, c, now, 128, 'StartError', false, { message: command.message, startedAt: 0 });
    return;
  }
  c.pid = env.nextPid();
  c.stage = 'running';
  c.waiting = undefined;
  c.terminated = undefined;
  c.dueAt = Infinity;
  emit(env, c, 'Normal', 'Started', `Started container ${c.name}`);
  for (const line of b.logs ?? []) ctx.logs.append(ns, pod, c.name, line.replaceAll('{pod}', pod).replaceAll('{container}', c.name));

  const probe = c.spec.readinessProbe;
  c.nextProbeAt = Infinity;
  if (c.init && !c.sidecar) {
    c.readyAt = Infinity;
  } else if (!probe) {
    c.readyAt = now;
  } else if (b.neverReady) {
    c.readyAt = Infinity;
    c.nextProbeAt = now + Math.max(1, probe.initialDelaySeconds ?? 0) * 1000;
  } else {
    c.readyAt = now + Math.max(b.readySeconds ?? 2, probe.initialDelaySeconds ?? 0) * 1000;
  }
  c.ready = c.readyAt <= now;
  c.exitAt = b.exitAfterSeconds !== undefined ? now + b.exitAfterSeconds * 1000 : Infinity;
  c.oomAt = oomKillAt(b, now, memoryLimitBytes(c.spec));
  ctx.usage.set(ns, pod, env.node, c.name, containerUsage(b, now, now));
  if (command.kind === 'program') {
    const { ops, loop, status } = command.program;
    c.program = { ops, loop, status, pc: 0, nextAt: now };
    runProgram(env, c, now);
  }
}

function probeFailure(env: PodEnv, probe: any): string {
  if (probe.tcpSocket) return `dial tcp ${env.podIP}:${probe.tcpSocket.port}: connect: connection refused`;
  if (probe.grpc) return 'service unhealthy (responded with "NOT_SERVING")';
  if (probe.exec) return '';
  return 'HTTP probe failed with statuscode: 503';
}

/**
 * The container stopped. `natural` exits write the image's exit logs first.
 * Restarts per policy go through the crash-loop back-off.
 */
export function exitContainer(
  env: PodEnv, c: ContainerRuntime, now: number, exitCode: number, reason: string, natural: boolean,
  detail: { message?: string; startedAt?: number } = {},
): void {
  const { ctx } = env;
  const ns = env.pod.metadata.namespace!;
  const pod = env.pod.metadata.name!;
  if (natural) for (const line of c.behaviour?.exitLogs ?? []) ctx.logs.append(ns, pod, c.name, line.replaceAll('{pod}', pod).replaceAll('{container}', c.name));
  const term: Terminated = { exitCode, reason, startedAt: detail.startedAt ?? c.startedAt, finishedAt: now, containerID: c.containerID };
  if (detail.message) term.message = detail.message;
  c.program = undefined;
  ctx.usage.clearContainer(ns, pod, c.name);
  c.ready = false;
  c.readyAt = c.exitAt = c.oomAt = c.nextProbeAt = Infinity;
  const policy = containerRestartPolicy(c, env.pod.spec?.restartPolicy ?? 'Always');
  if (policy === 'Always' || (policy === 'OnFailure' && exitCode !== 0)) {
    const k = ctx.config.kubelet;
    const initial = k.initialBackoffSeconds * 1000;
    const ranLong = now - (c.startedAt ?? now) >= BACKOFF_RESET_MS;
    const d = Math.max(MIN_BACKOFF_MS, Math.min(k.maxContainerRestartPeriodSeconds * 1000, !c.crashBackoffMs || ranLong ? initial : c.crashBackoffMs * 2));
    c.crashBackoffMs = d;
    c.last = term;
    c.terminated = undefined;
    c.stage = 'backOff';
    c.dueAt = now + d;
    c.waiting = { reason: 'CrashLoopBackOff', message: `back-off ${goDuration(d)} restarting failed container=${c.name} pod=${podRef(env)}` };
    emit(env, c, 'Warning', 'BackOff', `Back-off restarting failed container ${c.name} in pod ${podRef(env)}`);
    return;
  }
  c.terminated = term;
  c.stage = 'done';
  c.dueAt = Infinity;
}

/** Stops a container for good (pod deletion, eviction, sidecars of a finished pod). */
export function killContainer(env: PodEnv, c: ContainerRuntime, now: number, exitCode: number, reason: string): void {
  const ns = env.pod.metadata.namespace!;
  if (c.stage === 'running') {
    env.ctx.usage.clearContainer(ns, env.pod.metadata.name!, c.name);
    c.terminated = { exitCode, reason, startedAt: c.startedAt, finishedAt: now, containerID: c.containerID };
  } else if (c.stage !== 'done') {
    c.terminated = c.last ?? { exitCode: 137, reason: 'ContainerStatusUnknown', message: 'The container could not be located when the pod was terminated' };
    if (c.last) c.last = undefined;
  }
  c.stage = 'done';
  c.program = undefined;
  c.ready = false;
  c.waiting = undefined;
  c.dueAt = c.readyAt = c.exitAt = c.oomAt = c.nextProbeAt = Infinity;
}

/** Performs the container's step that is due at `now`; false when nothing is due. */
export function stepContainer(env: PodEnv, c: ContainerRuntime, now: number): boolean {
  switch (c.stage) {
    case 'idle':
      beginPull(env, c, now);
      return true;
    case 'pulling':
      if (now < c.dueAt) return false;
      finishPull(env, c, now);
      return true;
    case 'errImagePull':
      if (now < c.dueAt) return false;
      enterImagePullBackOff(env, c);
      return true;
    case 'imagePullBackOff':
    case 'neverPull':
    case 'backOff':
      if (now < c.dueAt) return false;
      beginPull(env, c, now);
      return true;
    case 'running': {
      if (now >= c.oomAt && c.oomAt <= c.exitAt) {
        exitContainer(env, c, now, 137, 'OOMKilled', false);
        return true;
      }
      if (runProgram(env, c, now)) return true;
      if (now >= c.exitAt) {
        const code = c.program?.exitCode ?? c.behaviour?.exitCode ?? 1;
        exitContainer(env, c, now, code, code === 0 ? 'Completed' : 'Error', true);
        return true;
      }
      if (!c.ready && now >= c.readyAt) {
        c.ready = true;
        return true;
      }
      if (now >= c.nextProbeAt) {
        const probe = c.spec.readinessProbe ?? {};
        emit(env, c, 'Warning', 'Unhealthy', `Readiness probe failed: ${probeFailure(env, probe)}`);
        // From now, not from the missed time: a kubelet back from a hang probes once.
        c.nextProbeAt = now + (probe.periodSeconds ?? 10) * 1000;
        return true;
      }
      return false;
    }
    case 'done':
      return false;
  }
}

/** When this container next needs the pod worker. */
export function nextDue(c: ContainerRuntime): number {
  if (c.stage === 'running') return Math.min(c.oomAt, c.exitAt, c.ready ? Infinity : c.readyAt, c.nextProbeAt, c.program?.nextAt ?? Infinity);
  if (c.stage === 'idle') return -Infinity;
  return c.dueAt;
}
