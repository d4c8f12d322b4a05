// The `for:` duration: a condition must hold continuously for the same key
// (rule + subject) before it fires, so a pod that restarts once during a
// rollout does not page anyone. A single false observation resets the clock.
// The holds' deadlines share one timer (TimerHeap): a node going down starts
// a hold for every pod on it, and each would otherwise arm its own.
import { TimerHeap, type Clock } from '../../common/index.ts';

/**
 * - `fire`: the condition has held for at least `forMs` (every later true
 *   observation is a repeat and fires again),
 * - `waiting`: it holds but not yet long enough,
 * - `cleared`: it stopped holding and was being tracked (pending or fired),
 * - `idle`: it does not hold and nothing was tracked.
 */
export type HoldState = 'fire' | 'waiting' | 'cleared' | 'idle';

interface Hold {
  since: number;
  dueAt: number;
  due: boolean;
}

/**
 * Tracks how long each key's condition has held. Memory: one entry per key
 * whose condition currently holds; an entry goes when the condition is
 * observed false or `clear` is called — so the engine must `clear` keys whose
 * subject is deleted, since no further observation will arrive for them.
 */
export class HoldTracker {
  private readonly clock: Clock;
  private readonly holds = new Map<string, Hold>();
  /** Deadlines of the holds not yet due, keyed like `holds`. */
  private readonly timers: TimerHeap<string>;

  constructor(clock: Clock) {
    this.clock = clock;
    this.timers = new TimerHeap(clock);
  }

  /**
   * Records one observation. The first `holds=true` starts the clock and
   * schedules `onDue` at since+forMs if no observation arrives
   * in between (the engine then re-checks the current state and fires). An
   * observation at or after the due time returns 'fire' itself and disarms the
   * timer, so one hold never fires twice through both paths. `forMs` is read
   * when the hold starts; later values do not move the due time.
   */
  observe(key: string, holds: boolean, forMs: number, onDue: () => void): HoldState {
    const now = this.clock.now();
    const cur = this.holds.get(key);
    if (!holds) {
      if (!cur) return 'idle';
      this.clear(key);
      return 'cleared';
    }
    if (cur) {
      if (cur.due) return 'fire';
      if (now >= cur.dueAt) {
        this.markDue(key, cur);
        return 'fire';
      }
      return 'waiting';
    }
    const hold: Hold = { since: now, dueAt: now + Math.max(0, forMs), due: forMs <= 0 };
    this.holds.set(key, hold);
    if (hold.due) return 'fire';
    this.timers.schedule(key, hold.dueAt, () => {
      if (this.holds.get(key) !== hold || hold.due) return;
      hold.due = true;
      onDue();
    });
    return 'waiting';
  }

  /** Forgets a key (its subject was deleted, or the rule was removed); cancels its timer. */
  clear(key: string): boolean {
    const cur = this.holds.get(key);
    if (!cur) return false;
    this.timers.cancel(key);
    this.holds.delete(key);
    return true;
  }

  /** When the key's condition started holding, if it holds. */
  since(key: string): number | undefined {
    return this.holds.get(key)?.since;
  }

  /** Keys whose condition holds but has not yet held for `forMs`. */
  pending(): number {
    let n = 0;
    for (const h of this.holds.values()) if (!h.due) n++;
    return n;
  }

  /** Keys tracked at all (pending or already firing): the memory in use. */
  size(): number {
    return this.holds.size;
  }

  /** Forgets every key sharing a prefix, e.g. all of one rule's keys when it is reloaded. */
  clearPrefix(prefix: string): number {
    let n = 0;
    for (const key of [...this.holds.keys()]) if (key.startsWith(prefix) && this.clear(key)) n++;
    return n;
  }

  /** Shutdown: cancels every timer and forgets every key, so no onDue runs after the engine stops. */
  stopAll(): void {
    this.timers.clear();
    this.holds.clear();
  }

  /** Deadlines waiting (holds not yet due): what the one armed timer stands for. */
  scheduled(): number {
    return this.timers.size;
  }

  private markDue(key: string, hold: Hold): void {
    hold.due = true;
    this.timers.cancel(key);
  }
}
