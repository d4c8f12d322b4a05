// The READY, STATUS and RESTARTS columns of `kubectl get pods`, computed the
// way the API server's pod printer does (pkg/printers/internalversion,
// printPod). Detectors and the chat UI show these strings, so they must read
// exactly like a real cluster: "Init:0/1", "CrashLoopBackOff", "Terminating".
import type { K8sObject } from './types.ts';

interface ContainerState {
  waiting?: { reason?: string };
  running?: { startedAt?: string };
  terminated?: { reason?: string; exitCode?: number; signal?: number; finishedAt?: string };
}

interface ContainerStatus {
  name: string;
  ready?: boolean;
  started?: boolean;
  restartCount?: number;
  state?: ContainerState;
  lastState?: ContainerState;
}

interface PodSummary {
  reason: string;
  ready: number;
  total: number;
  restarts: number;
  /** Latest lastState.terminated.finishedAt among the counted containers, 0 when none. */
  lastRestartMs: number;
}

/** The node lifecycle controller's status.reason for pods on a lost node. */
const NODE_UNREACHABLE_REASON = 'NodeLost';

function finishedAtMs(cs: ContainerStatus): number {
  const at = cs.lastState?.terminated?.finishedAt;
  const ms = at ? Date.parse(at) : NaN;
  return Number.isFinite(ms) ? ms : 0;
}

function hasCondition(pod: K8sObject, type: string): boolean {
  const conds: { type?: string; status?: string }[] = pod.status?.conditions ?? [];
  return conds.some((c) => c.type === type && c.status === 'True');
}

function summarize(pod: K8sObject): PodSummary {
  const spec = pod.spec ?? {};
  const status = pod.status ?? {};
  const phase: string = status.phase ?? '';
  let reason: string = status.reason || phase;
  for (const c of (status.conditions ?? []) as { type?: string; reason?: string }[]) {
    if (c.type === 'PodScheduled' && c.reason === 'SchedulingGated') reason = 'SchedulingGated';
  }

  const initSpecs: { name: string; restartPolicy?: string }[] = spec.initContainers ?? [];
  // Sidecars (init containers with restartPolicy Always) count as regular containers.
  const sidecars = new Set(initSpecs.filter((c) => c.restartPolicy === 'Always').map((c) => c.name));
  const total = (spec.containers ?? []).length + sidecars.size;
  let ready = 0;
  let restarts = 0;
  let sidecarRestarts = 0;
  let lastRestartMs = 0;
  let lastSidecarRestartMs = 0;

  let initializing = false;
  const initStatuses: ContainerStatus[] = status.initContainerStatuses ?? [];
  for (let i = 0; i < initStatuses.length; i++) {
    const cs = initStatuses[i];
    restarts += cs.restartCount ?? 0;
    lastRestartMs = Math.max(lastRestartMs, finishedAtMs(cs));
    const isSidecar = sidecars.has(cs.name);
    if (isSidecar) {
      sidecarRestarts += cs.restartCount ?? 0;
      lastSidecarRestartMs = Math.max(lastSidecarRestartMs, finishedAtMs(cs));
    }
    const term = cs.state?.terminated;
    const waiting = cs.state?.waiting;
    if (term && (term.exitCode ?? 0) === 0) continue;
    if (isSidecar && cs.started) {
      if (cs.ready) ready++;
      continue;
    }
    if (term) {
      if (!term.reason) reason = term.signal ? `Init:Signal:${term.signal}` : `Init:ExitCode:${term.exitCode ?? 0}`;
      else reason = `Init:${term.reason}`;
    } else if (waiting?.reason && waiting.reason !== 'PodInitializing') {
      reason = `Init:${waiting.reason}`;
    } else {
      reason = `Init:${i}/${initSpecs.length}`;
    }
    initializing = true;
    break;
  }

  if (!initializing || hasCondition(pod, 'Initialized')) {
    restarts = sidecarRestarts;
    lastRestartMs = lastSidecarRestartMs;
    let hasRunning = false;
    const statuses: ContainerStatus[] = status.containerStatuses ?? [];
    // Walk backwards so the first container's state is the one that shows.
    for (let i = statuses.length - 1; i >= 0; i--) {
      const cs = statuses[i];
      restarts += cs.restartCount ?? 0;
      lastRestartMs = Math.max(lastRestartMs, finishedAtMs(cs));
      const st = cs.state ?? {};
      if (st.waiting?.reason) reason = st.waiting.reason;
      else if (st.terminated?.reason) reason = st.terminated.reason;
      else if (st.terminated) {
        reason = st.terminated.signal ? `Signal:${st.terminated.signal}` : `ExitCode:${st.terminated.exitCode ?? 0}`;
      } else if (cs.ready && st.running) {
        hasRunning = true;
        ready++;
      }
    }
    if (reason === 'Completed' && hasRunning) reason = hasCondition(pod, 'Ready') ? 'Running' : 'NotReady';
  }

  if (pod.metadata.deletionTimestamp && status.reason === NODE_UNREACHABLE_REASON) reason = 'Unknown';
  else if (pod.metadata.deletionTimestamp && phase !== 'Succeeded' && phase !== 'Failed') reason = 'Terminating';

  return { reason, ready, total, restarts, lastRestartMs };
}

/** kubectl's STATUS column. */
export function podDisplayStatus(pod: K8sObject): string {
  return summarize(pod).reason;
}

/** kubectl's READY column as numbers ("1/2" is {ready: 1, total: 2}). */
export function podReadyCount(pod: K8sObject): { ready: number; total: number } {
  const s = summarize(pod);
  return { ready: s.ready, total: s.total };
}

/** kubectl's RESTARTS column: "0", or "3 (45s ago)" once a restart has a finish time. */
export function podRestarts(pod: K8sObject, now: number): string {
  const s = summarize(pod);
  if (s.restarts !== 0 && s.lastRestartMs !== 0) return `${s.restarts} (${humanAge(now - s.lastRestartMs)} ago)`;
  return String(s.restarts);
}

/**
 * apimachinery's duration.HumanDuration: precise while short ("90s", "2m30s",
 * "3h20m"), coarser as it grows ("5d", "2y30d"). Go truncates toward zero.
 */
export function humanAge(ms: number): string {
  const seconds = Math.trunc(ms / 1000);
  // Up to two seconds in the future is clock skew, shown as "0s".
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 60 * 2) return `${seconds}s`;
  const minutes = Math.trunc(ms / 60_000);
  if (minutes < 10) {
    const s = seconds % 60;
    return s === 0 ? `${minutes}m` : `${minutes}m${s}s`;
  }
  if (minutes < 60 * 3) return `${minutes}m`;
  const hours = Math.trunc(ms / 3_600_000);
  if (hours < 8) {
    const m = minutes % 60;
    return m === 0 ? `${hours}h` : `${hours}h${m}m`;
  }
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) {
    const h = hours % 24;
    return h === 0 ? `${Math.trunc(hours / 24)}d` : `${Math.trunc(hours / 24)}d${h}h`;
  }
  if (hours < 24 * 365 * 2) return `${Math.trunc(hours / 24)}d`;
  if (hours < 24 * 365 * 8) {
    const dy = Math.trunc(hours / 24) % 365;
    const y = Math.trunc(hours / 24 / 365);
    return dy === 0 ? `${y}y` : `${y}y${dy}d`;
  }
  return `${Math.trunc(hours / 24 / 365)}y`;
}
