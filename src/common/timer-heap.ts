// Many deadlines on one clock timer. Thousands of `for:` holds (a node goes
// down and every pod on it starts a 5-minute hold) would otherwise arm
// thousands of clock timers, each costing a timer object and, on a virtual
// clock, a place in its list. Here the deadlines sit in a binary heap
// (earliest first, ties in the order they were scheduled, as timers fire) and
// one timer is armed for the earliest; scheduling and cancelling cost
// O(log n) whatever the number waiting.
import type { Clock, TimerHandle } from './clock.ts';

interface Entry<K> {
  key: K;
  at: number;
  seq: number;
  fn: () => void;
  /** Index in the heap array, kept so cancel() removes from the middle in O(log n). */
  pos: number;
}

export class TimerHeap<K> {
  private readonly clock: Clock;
  private readonly heap: Entry<K>[] = [];
  private readonly entries = new Map<K, Entry<K>>();
  private seq = 0;
  private armed?: { at: number; handle: TimerHandle };
  private firing = false;

  constructor(clock: Clock) {
    this.clock = clock;
  }

  get size(): number {
    return this.heap.length;
  }

  has(key: K): boolean {
    return this.entries.has(key);
  }

  /** When `key` is due, if scheduled. */
  dueAt(key: K): number | undefined {
    return this.entries.get(key)?.at;
  }

  /** Runs `fn` at clock time `at` (replacing what `key` had scheduled). */
  schedule(key: K, at: number, fn: () => void): void {
    this.remove(key);
    const e: Entry<K> = { key, at, seq: this.seq++, fn, pos: this.heap.length };
    this.entries.set(key, e);
    this.heap.push(e);
    this.up(e.pos);
    this.arm();
  }

  /** Forgets `key`; false when nothing was scheduled for it. */
  cancel(key: K): boolean {
    const had = this.remove(key);
    if (had) this.arm();
    return had;
  }

  /** Forgets every deadline and disarms the timer. */
  clear(): void {
    this.heap.length = 0;
    this.entries.clear();
    this.armed?.handle.cancel();
    this.armed = undefined;
  }

  private remove(key: K): boolean {
    const e = this.entries.get(key);
    if (!e) return false;
    this.entries.delete(key);
    const last = this.heap.pop()!;
    if (last !== e) {
      this.heap[e.pos] = last;
      last.pos = e.pos;
      this.down(last.pos);
      this.up(last.pos);
    }
    return true;
  }

  /** Keeps exactly one timer armed, for the earliest deadline (none when nothing waits). */
  private arm(): void {
    if (this.firing) return;
    const top = this.heap[0];
    if (this.armed && this.armed.at === top?.at) return;
    this.armed?.handle.cancel();
    this.armed = undefined;
    if (!top) return;
    const at = top.at;
    this.armed = { at, handle: this.clock.setTimeout(() => this.fire(at), at - this.clock.now()) };
  }

  /**
   * Runs every deadline up to the one the timer was armed for (a real timer
   * may run a little before the clock reads that time), earliest first; what
   * the callbacks schedule or cancel is honoured in the same pass. A
   * callback that throws leaves the rest scheduled, re-armed.
   */
  private fire(armedAt: number): void {
    this.armed = undefined;
    const until = Math.max(this.clock.now(), armedAt);
    this.firing = true;
    try {
      for (let top = this.heap[0]; top && top.at <= until; top = this.heap[0]) {
        this.remove(top.key);
        top.fn();
      }
    } finally {
      this.firing = false;
      this.arm();
    }
  }

  private before(a: Entry<K>, b: Entry<K>): boolean {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }

  private swap(i: number, j: number): void {
    const h = this.heap;
    const t = h[i]!;
    h[i] = h[j]!;
    h[j] = t;
    h[i]!.pos = i;
    h[j]!.pos = j;
  }

  private up(i: number): void {
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.before(this.heap[i]!, this.heap[parent]!)) return;
      this.swap(i, parent);
      i = parent;
    }
  }

  private down(i: number): void {
    const n = this.heap.length;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let best = i;
      if (l < n && this.before(this.heap[l]!, this.heap[best]!)) best = l;
      if (r < n && this.before(this.heap[r]!, this.heap[best]!)) best = r;
      if (best === i) return;
      this.swap(i, best);
      i = best;
    }
  }
}
