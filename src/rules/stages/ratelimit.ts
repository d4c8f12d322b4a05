// Rate limits on actions and notifications (a rule's `rateLimit: {max, per}`):
// a runbook that restarts pods must not run 500 times while a bad config is
// rolled out everywhere. A sliding-window log rather than a token bucket: it
// never lets more than `max` through in any `perMs` span, which is the promise
// the rule's wording makes, and `max` is small so the log is too.
import type { Clock } from '../../common/index.ts';

interface Window {
  /** Times of allowed calls within the last `perMs`, oldest first. */
  times: number[];
  perMs: number;
}

/** Idle keys are swept at most this often, so the sweep costs O(keys) rarely. */
const SWEEP_EVERY_MS = 60_000;

/**
 * Memory: at most `max` timestamps per key, and a key is dropped once `perMs`
 * has passed since its last allowed call (swept at most once a minute).
 */
export class RateLimiter {
  private readonly clock: Clock;
  private readonly windows = new Map<string, Window>();
  private lastSweep: number;

  constructor(clock: Clock) {
    this.clock = clock;
    this.lastSweep = clock.now();
  }

  /** Takes one slot if there is one: true if the call may go ahead. */
  allow(key: string, max: number, perMs: number): boolean {
    const now = this.clock.now();
    this.sweep(now);
    const w = this.window(key, perMs, now);
    if (w.times.length >= max) return false;
    w.times.push(now);
    this.windows.set(key, w);
    return true;
  }

  /** Slots left now, without taking one. */
  remaining(key: string, max: number, perMs: number): number {
    const w = this.window(key, perMs, this.clock.now());
    return Math.max(0, max - w.times.length);
  }

  /** Milliseconds until a slot frees up (0 if one is free now). */
  retryAfter(key: string, max: number, perMs: number): number {
    const now = this.clock.now();
    const w = this.window(key, perMs, now);
    if (w.times.length < max) return 0;
    return w.times[w.times.length - max] + perMs - now;
  }

  /** Keys currently holding memory. */
  size(): number {
    return this.windows.size;
  }

  /** The key's window with expired calls dropped; not stored until a call is allowed. */
  private window(key: string, perMs: number, now: number): Window {
    const w = this.windows.get(key) ?? { times: [], perMs };
    w.perMs = perMs;
    let drop = 0;
    while (drop < w.times.length && w.times[drop] <= now - perMs) drop++;
    if (drop) w.times.splice(0, drop);
    return w;
  }

  private sweep(now: number): void {
    if (now - this.lastSweep < SWEEP_EVERY_MS) return;
    this.lastSweep = now;
    for (const [key, w] of this.windows) {
      const last = w.times[w.times.length - 1];
      if (last === undefined || last <= now - w.perMs) this.windows.delete(key);
    }
  }
}
