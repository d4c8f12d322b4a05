// Grouping, as Alertmanager does it: when a node dies and forty pods fail at
// once, the channel gets one message now and at most one digest per window
// after, instead of forty pages.
import type { Clock, TimerHandle } from '../../common/index.ts';
import type { Detection } from '../types.ts';

/** `group.by: ['...']` groups by every label, i.e. one group per distinct label set. */
export const GROUP_BY_ALL = '...';

interface Group {
  windowMs: number;
  /** Detections offered since the last notification, by id (a repeat replaces the earlier entry). */
  batch: Map<string, Detection>;
  timer: TimerHandle;
}

/**
 * Per group: the first detection is notified at once and opens a window; the
 * ones offered during the window are batched; when it ends, a non-empty batch
 * is flushed (one notification) and a new window starts, while an empty
 * window ends the group. So a storm yields at most one notification per group
 * per window, and the first one without delay. Memory: one entry per group
 * that saw a detection within its last window.
 */
export class Grouper {
  private readonly clock: Clock;
  private readonly onFlush: (groupKey: string, detections: Detection[]) => void;
  private readonly groups = new Map<string, Group>();

  constructor(clock: Clock, onFlush: (groupKey: string, detections: Detection[]) => void) {
    this.clock = clock;
    this.onFlush = onFlush;
  }

  /**
   * A readable, order-independent key such as `{cluster="prod",namespace="shop",rule="crashloop"}`.
   * A missing label counts as the empty string; `by: []` puts everything in one group.
   */
  groupKey(labels: Record<string, string>, by: string[]): string {
    const names = by.includes(GROUP_BY_ALL) ? Object.keys(labels) : by;
    const parts = [...new Set(names)].sort().map((n) => `${n}=${JSON.stringify(labels[n] ?? '')}`);
    return `{${parts.join(',')}}`;
  }

  /** 'notify': send it now (the group was idle); 'batched': it goes out in the group's next flush. */
  offer(groupKey: string, windowMs: number, d: Detection): 'notify' | 'batched' {
    if (windowMs <= 0) return 'notify';
    const group = this.groups.get(groupKey);
    if (group) {
      group.batch.delete(d.id);
      group.batch.set(d.id, d);
      return 'batched';
    }
    const fresh: Group = { windowMs, batch: new Map(), timer: { cancel() {} } };
    this.groups.set(groupKey, fresh);
    this.arm(groupKey, fresh);
    return 'notify';
  }

  /** Groups with an open window. */
  size(): number {
    return this.groups.size;
  }

  /** Detections waiting for their group's next flush. */
  batched(groupKey?: string): number {
    if (groupKey !== undefined) return this.groups.get(groupKey)?.batch.size ?? 0;
    let n = 0;
    for (const g of this.groups.values()) n += g.batch.size;
    return n;
  }

  /** Shutdown: cancels every window, flushing non-empty batches first unless `flush` is false. */
  close(flush = true): void {
    const groups = [...this.groups];
    this.groups.clear();
    for (const [key, g] of groups) {
      g.timer.cancel();
      if (flush && g.batch.size) this.onFlush(key, [...g.batch.values()]);
    }
  }

  private arm(key: string, group: Group): void {
    group.timer = this.clock.setTimeout(() => {
      if (this.groups.get(key) !== group) return;
      if (group.batch.size === 0) {
        this.groups.delete(key);
        return;
      }
      const detections = [...group.batch.values()];
      group.batch = new Map();
      // Re-arm before calling out, so a throwing handler cannot leave the group without a window.
      this.arm(key, group);
      this.onFlush(key, detections);
    }, group.windowMs);
  }
}
