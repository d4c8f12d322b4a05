// Dedup: a CrashLoopBackOff pod re-fires its rule on every status update;
// an operator wants one detection that says "600 times since 10:02", not 600.
// The book keeps the latest detection per fingerprint.
import { randomUUID } from 'node:crypto';
import type { Clock } from '../../common/index.ts';
import type { Detection, Evidence } from '../types.ts';

/** What the engine supplies for a new detection; the book fills in the rest. */
export type DetectionSeed = Omit<
  Detection,
  'id' | 'fingerprint' | 'count' | 'firstSeen' | 'lastSeen' | 'notifications' | 'status' | 'evidence'
>;

export interface DetectionBookOptions {
  /** How long a resolved detection stays in the book (default 1h). Open ones stay until resolved. */
  resolvedRetentionMs?: number;
  /** Evidence kept from the start of a detection (default 5): how it began. */
  evidenceHead?: number;
  /** Evidence kept from the end (default 20): what it looks like now. */
  evidenceTail?: number;
}

export interface UpsertOptions {
  /** A resolved detection re-opens, rather than a new one starting, when it repeats within this time of resolving (the rule's resolveAfter). */
  reopenWithinMs?: number;
}

export interface UpsertResult {
  detection: Detection;
  /** A detection was created (first time, or a resolved one repeated too late to re-open). */
  isNew: boolean;
  /** A resolved detection was re-opened. */
  reopened: boolean;
}

interface Entry {
  detection: Detection;
  resolvedAt?: number;
  /** Evidence items dropped from the middle of the list. */
  dropped: number;
}

export class DetectionBook {
  private readonly clock: Clock;
  private readonly retentionMs: number;
  private readonly head: number;
  private readonly tail: number;
  private readonly byFp = new Map<string, Entry>();
  private readonly ids = new Map<string, string>();
  /** Resolved fingerprints in resolve order, so expiry walks only what has expired. */
  private readonly resolvedOrder = new Map<string, number>();

  constructor(clock: Clock, opts: DetectionBookOptions = {}) {
    this.clock = clock;
    this.retentionMs = opts.resolvedRetentionMs ?? 3_600_000;
    this.head = opts.evidenceHead ?? 5;
    this.tail = opts.evidenceTail ?? 20;
  }

  /**
   * Records that the rule fired for `fp`. A repeat of a detection that is not
   * resolved (open, pending or silenced) increments its count; a resolved one
   * re-opens if within `reopenWithinMs` of resolving, else a new detection (new
   * id) replaces it. `create` is only called when a detection is created.
   */
  upsert(fp: string, create: () => DetectionSeed, evidence?: Evidence, opts: UpsertOptions = {}): UpsertResult {
    this.expire();
    const now = this.clock.now();
    const cur = this.byFp.get(fp);
    if (cur && cur.detection.status !== 'resolved') {
      this.repeat(cur, now, evidence);
      return { detection: cur.detection, isNew: false, reopened: false };
    }
    if (cur && cur.resolvedAt !== undefined && opts.reopenWithinMs !== undefined && now - cur.resolvedAt <= opts.reopenWithinMs) {
      const d = cur.detection;
      d.status = 'open';
      delete d.silencedBy;
      delete d.suppressed;
      cur.resolvedAt = undefined;
      this.resolvedOrder.delete(fp);
      this.repeat(cur, now, evidence);
      return { detection: d, isNew: false, reopened: true };
    }
    if (cur) this.remove(fp);
    const detection: Detection = {
      ...create(),
      id: randomUUID(),
      fingerprint: fp,
      count: 1,
      firstSeen: now,
      lastSeen: now,
      notifications: 0,
      status: 'open',
      evidence: evidence ? [evidence] : [],
    };
    this.byFp.set(fp, { detection, dropped: 0 });
    this.ids.set(detection.id, fp);
    return { detection, isNew: true, reopened: false };
  }

  /** Marks the detection resolved; returns it if this call resolved it (undefined if unknown or already resolved). */
  resolve(fp: string): Detection | undefined {
    this.expire();
    const cur = this.byFp.get(fp);
    if (!cur || cur.detection.status === 'resolved') return undefined;
    cur.detection.status = 'resolved';
    cur.resolvedAt = this.clock.now();
    this.resolvedOrder.set(fp, cur.resolvedAt);
    return cur.detection;
  }

  get(fp: string): Detection | undefined {
    this.expire();
    return this.byFp.get(fp)?.detection;
  }

  byId(id: string): Detection | undefined {
    const fp = this.ids.get(id);
    return fp === undefined ? undefined : this.get(fp);
  }

  /** When the detection was resolved, if it is. */
  resolvedAt(fp: string): number | undefined {
    return this.byFp.get(fp)?.resolvedAt;
  }

  /** How many evidence items were dropped from the middle of the detection's list. */
  droppedEvidence(fp: string): number {
    return this.byFp.get(fp)?.dropped ?? 0;
  }

  /** Detections not resolved (open, pending or silenced). */
  open(): Detection[] {
    this.expire();
    return [...this.byFp.values()].map((e) => e.detection).filter((d) => d.status !== 'resolved');
  }

  all(): Detection[] {
    this.expire();
    return [...this.byFp.values()].map((e) => e.detection);
  }

  size(): number {
    return this.byFp.size;
  }

  private repeat(entry: Entry, now: number, evidence?: Evidence): void {
    const d = entry.detection;
    d.count++;
    d.lastSeen = now;
    if (!evidence) return;
    d.evidence.push(evidence);
    // Keep how it started and how it looks now; the middle of a storm repeats itself.
    if (d.evidence.length > this.head + this.tail) {
      d.evidence.splice(this.head, 1);
      entry.dropped++;
    }
  }

  private remove(fp: string): void {
    const cur = this.byFp.get(fp);
    if (!cur) return;
    this.byFp.delete(fp);
    this.ids.delete(cur.detection.id);
    this.resolvedOrder.delete(fp);
  }

  private expire(): void {
    const cutoff = this.clock.now() - this.retentionMs;
    for (const [fp, at] of this.resolvedOrder) {
      if (at > cutoff) break;
      this.remove(fp);
    }
  }
}
