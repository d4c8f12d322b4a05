// Where detections go. Every consumer of the engine's output — the recorder
// (store + audit), remediation, the incident tracker, notifiers, the terminal
// printer, a test's collector — is a Sink, and the pipeline hands each one
// the same calls in the same order. A sink that needs every raw signal (the
// incident tracker's change feed) implements `observe`, which runs before the
// engine sees the signal.
import type { DetectionChange, Notification, Detection, Signal } from '../rules/index.ts';

export interface Sink {
  /** For logs and metrics, e.g. "recorder", "remediation". */
  readonly name: string;
  /** Every signal, before the engine evaluates it. */
  observe?(signal: Signal): void;
  /** Every detection change, in the order the engine made them. Must not throw. */
  onDetection?(d: Detection, change: DetectionChange, signal?: Signal): void;
  /** Grouped notifications the engine decided to send. */
  onNotify?(n: Notification): void;
  /** Called once the sources have synced, before the first live signal. */
  start?(): Promise<void> | void;
  /** Resolves when everything handed to the sink so far is written. */
  flush?(): Promise<void>;
  stop?(): Promise<void> | void;
}

/** "deployment/shop/checkout": how lines and logs name a detection's subject. */
export function subjectText(d: Detection): string {
  const s = d.subject;
  return `${s.kind.toLowerCase()}/${s.namespace ? `${s.namespace}/` : ''}${s.name}`;
}
