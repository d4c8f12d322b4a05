// A Source feeds the rules engine with Signals. Kubernetes informers,
// Alertmanager and generic webhooks, and schedules all look the same to the
// engine: it hands each one an `emit` callback and later stops it.
import type { Signal } from '../types.ts';

export type Emit = (s: Signal) => void;

export interface Source {
  /** Stable name for logs and metrics, e.g. "schedules" or "webhooks". */
  name: string;
  /** Begin delivering signals to `emit`; a source delivers nothing before this. */
  start(emit: Emit): Promise<void> | void;
  /** Stop delivering; pending timers are cancelled and `emit` is never called again. */
  stop(): Promise<void> | void;
}
