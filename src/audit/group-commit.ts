// Group commit: the chain has one head, so every append must lock it, and
// the lock, the head's re-signing and the commit cost the same for one record
// as for hundreds. Callers that arrive while a transaction is in flight wait
// for it and then go in together, in the next one: one lock, one signature,
// one commit. A caller is never split across transactions and gets back only
// its own results; the queue keeps call order, so the chain does too. A
// transaction that fails fails every caller in it — each learns that its
// records are not in the chain — and the queue moves on to the next group.

interface Waiting<I, O> {
  items: I[];
  resolve(out: O[]): void;
  reject(err: unknown): void;
}

export interface GroupStats {
  /** Transactions attempted (committed or failed). */
  groups: number;
  /** Items in them. */
  items: number;
  /** Callers in them. */
  callers: number;
}

export class GroupCommit<I, O> {
  /** Counted for tests and the bench; the metric is kubemend_audit_commit_records. */
  readonly stats: GroupStats = { groups: 0, items: 0, callers: 0 };
  private readonly commit: (items: I[]) => Promise<O[]>;
  private readonly maxItems: number;
  private queue: Waiting<I, O>[] = [];
  private running?: Promise<void>;

  /**
   * `commit` gets the items of every caller in a group, in call order, and
   * returns one result per item, in the same order. A group holds callers
   * while it has fewer than `maxItems` items (a single larger caller goes alone).
   */
  constructor(commit: (items: I[]) => Promise<O[]>, maxItems: number) {
    this.commit = commit;
    this.maxItems = maxItems;
  }

  submit(items: I[]): Promise<O[]> {
    const { promise, resolve, reject } = Promise.withResolvers<O[]>();
    this.queue.push({ items, resolve, reject });
    // Started after the current synchronous run of code: callers in the same tick share the first transaction too.
    this.running ??= Promise.resolve().then(() => this.drain());
    return promise;
  }

  /** Resolves once every caller submitted so far has been answered. */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length) {
        const group = this.take();
        const items = group.flatMap((w) => w.items);
        this.stats.groups++;
        this.stats.items += items.length;
        this.stats.callers += group.length;
        let out: O[];
        try {
          out = await this.commit(items);
          if (out.length !== items.length) throw new Error(`internal: a group commit returned ${out.length} results for ${items.length} items`);
        } catch (err) {
          for (const w of group) w.reject(err);
          continue;
        }
        let at = 0;
        for (const w of group) {
          w.resolve(out.slice(at, at + w.items.length));
          at += w.items.length;
        }
      }
    } finally {
      this.running = undefined;
    }
  }

  private take(): Waiting<I, O>[] {
    let n = 0;
    let i = 0;
    while (i < this.queue.length && (i === 0 || n + this.queue[i].items.length <= this.maxItems)) n += this.queue[i++].items.length;
    return this.queue.splice(0, i);
  }
}
