// A controller-runtime style work queue: handlers only add keys; a key queued
// many times is processed once, and the worker re-reads current state from the
// store. `addAfter` re-checks a key later in cluster time (back-offs, timers).
import type { Clock, TimerHandle } from '../../common/index.ts';

export class WorkQueue {
  private readonly pending = new Set<string>();
  private readonly timers = new Map<string, { at: number; handle: TimerHandle }>();
  private scheduled = false;
  private stopped = false;
  private readonly clock: Clock;
  private readonly process: (key: string) => void;
  private readonly onError: (key: string, err: unknown) => void;

  constructor(clock: Clock, process: (key: string) => void, onError?: (key: string, err: unknown) => void) {
    this.clock = clock;
    this.process = process;
    this.onError = onError ?? ((key, err) => console.error(`controller failed on ${key}:`, err));
  }

  add(key: string): void {
    if (this.stopped) return;
    this.pending.add(key);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.drain());
    }
  }

  /** Re-queue after `ms` of cluster time; an earlier request for the key wins. */
  addAfter(key: string, ms: number): void {
    if (this.stopped) return;
    const at = this.clock.now() + ms;
    const existing = this.timers.get(key);
    if (existing && existing.at <= at) return;
    existing?.handle.cancel();
    const handle = this.clock.setTimeout(() => {
      this.timers.delete(key);
      this.add(key);
    }, ms);
    this.timers.set(key, { at, handle });
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers.values()) t.handle.cancel();
    this.timers.clear();
    this.pending.clear();
  }

  private drain(): void {
    this.scheduled = false;
    const keys = [...this.pending];
    this.pending.clear();
    for (const k of keys) {
      if (this.stopped) return;
      try {
        this.process(k);
      } catch (err) {
        this.onError(k, err);
      }
    }
  }
}

/** `namespace/name` (or `name` for cluster-scoped objects). */
export function objectKey(meta: { namespace?: string; name?: string }): string {
  return meta.namespace ? `${meta.namespace}/${meta.name}` : `${meta.name}`;
}

export function splitKey(key: string): { namespace?: string; name: string } {
  const i = key.indexOf('/');
  return i < 0 ? { name: key } : { namespace: key.slice(0, i), name: key.slice(i + 1) };
}
