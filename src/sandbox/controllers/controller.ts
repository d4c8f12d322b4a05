// What every in-process controller gets and must provide. Controllers talk to
// the store directly (not over HTTP), so the API server's request counters
// only show what outside clients such as kubemend's informers cost.
import type { Clock } from '../../common/index.ts';
import type { EventRecorder } from '../events.ts';
import type { ImageCatalog } from '../images.ts';
import type { LogBook } from '../logs.ts';
import type { UsageBook } from '../usage.ts';
import type { NodeHealth } from '../nodehealth.ts';
import type { ObjectStore } from '../store.ts';

export interface KubeletConfig {
  /** Cap of the crash-loop back-off (default 300s); KEP-4603 lets clusters lower it. */
  maxContainerRestartPeriodSeconds: number;
  /** First crash-loop back-off (default 10s). */
  initialBackoffSeconds: number;
  /** Cap of the image-pull back-off (default 300s). */
  maxImagePullBackoffSeconds: number;
}

export interface SandboxConfig {
  kubelet: KubeletConfig;
  /** How often (cluster time) node heartbeats, HPA syncs and other periodic loops run. */
  resyncSeconds: number;
}

export const DEFAULT_CONFIG: SandboxConfig = {
  kubelet: { maxContainerRestartPeriodSeconds: 300, initialBackoffSeconds: 10, maxImagePullBackoffSeconds: 300 },
  resyncSeconds: 10,
};

export interface ControllerContext {
  store: ObjectStore;
  clock: Clock;
  events: EventRecorder;
  images: ImageCatalog;
  logs: LogBook;
  usage: UsageBook;
  nodeHealth: NodeHealth;
  config: SandboxConfig;
}

export interface Controller {
  readonly name: string;
  start(ctx: ControllerContext): void;
  stop(): void;
  /**
   * In-memory state the objects do not carry and that cannot be re-derived
   * from them, for the sandbox's state file: JSON data (±Infinity allowed),
   * serialized at once, so it may share structure with the live state.
   */
  saveState?(): unknown;
  /** Hands a restored sandbox's saved state to a new controller, before start(). */
  restoreState?(state: unknown): void;
}
