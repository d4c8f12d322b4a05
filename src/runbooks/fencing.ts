// With leader election, one replica (the leader) drives every run; the
// others queue runs (a chat action taken on them) and follow them through
// the store. Fencing is how a run knows it is still driven by the current
// leader: each run carries the term it is driven under (the Lease's holder
// and transition count), the store refuses writes made under another term,
// and before each step that changes the cluster the executor asks the Lease
// itself, live, whether that term is still current.
import type { Clock, TimerHandle } from '../common/index.ts';
import { ACTIVE_RUN_STATUSES, type Fence, type RunRecord, type StepTransition, type Store } from '../store/index.ts';

export interface Fencing {
  /** This process's term while it leads; undefined while it follows (runs are then queued for the leader). */
  current(): Fence | undefined;
  /** Whether `fence` is still current, asked of the Lease now (one GET): a stale term must not act. */
  verify(fence: Fence, signal?: AbortSignal): Promise<boolean>;
}

/** A run queued or driven elsewhere, followed until it ends. */
interface Followed {
  seen: number;
}

/**
 * Runs this process asked for but does not drive: their transitions and end,
 * read from the store every `pollMs`, are handed to the same listeners as a
 * local run's (chat posts a follower's request's progress this way).
 */
export class RunFollower {
  private readonly followed = new Map<string, Followed>();
  private timer?: TimerHandle;
  private polling = false;
  private stopped = false;
  private readonly o: {
    store: Store;
    clock: Clock;
    pollMs: number;
    onTransition: (run: RunRecord, t: StepTransition) => void;
    onRunEnd: (run: RunRecord) => void;
    log?: (line: string) => void;
  };

  constructor(o: RunFollower['o']) {
    this.o = o;
  }

  /** Follows a run from its `seen`-th transition on (default: those already stored are old news). */
  async follow(run: RunRecord, seen?: number): Promise<void> {
    if (this.followed.has(run.id)) return;
    this.followed.set(run.id, { seen: seen ?? (await this.o.store.transitions(run.id)).length });
    this.schedule();
  }

  /** This process drives the run now (it became the leader): its own events take over. */
  unfollow(runId: string): void {
    this.followed.delete(runId);
  }

  has(runId: string): boolean {
    return this.followed.has(runId);
  }

  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
  }

  private schedule(): void {
    if (this.timer || this.stopped || !this.followed.size) return;
    this.timer = this.o.clock.setTimeout(() => {
      this.timer = undefined;
      void this.poll();
    }, this.o.pollMs);
  }

  private async poll(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      for (const [id, f] of [...this.followed]) {
        const ts = await this.o.store.transitions(id);
        const run = await this.o.store.getRun(id);
        if (!run || !this.followed.has(id)) continue;
        for (const t of ts.slice(f.seen)) this.o.onTransition(run, t);
        f.seen = ts.length;
        if (!ACTIVE_RUN_STATUSES.includes(run.status)) {
          this.followed.delete(id);
          this.o.onRunEnd(run);
        }
      }
    } catch (err) {
      this.o.log?.(`warning: following runs driven by the leader: ${(err as Error).message}`);
    } finally {
      this.polling = false;
      this.schedule();
    }
  }
}

/** Whether a stored stop request differs from the one applied (by who, why and how). */
export function stopKey(run: RunRecord): string | undefined {
  return run.stop ? JSON.stringify([run.stop.status, run.stop.by, run.stop.reason]) : undefined;
}
