// Witnesses anchor the chain outside the database. The signed head alone
// cannot catch an insider who deletes the newest records and puts back a head
// row (and its valid signature) saved earlier: everything left is genuine.
// So every signed head is also written somewhere the database writer cannot
// rewrite — an append-only file (JSON Lines, ideally shipped off the host or
// made append-only with `chattr +a`) or a ConfigMap only kubemend and the
// auditors may touch — and `audit verify --witness` checks the database still
// holds every head the witness saw.
import { appendFile, readFile } from 'node:fs/promises';
import { Errors, KubemendError, auditWitnessFailuresTotal, type Clock, type TimerHandle } from '../common/index.ts';

/** A chain head as it was signed: what a witness keeps. */
export interface SignedHead {
  seq: number;
  hash: string;
  /** When it was written (epoch ms; not covered by the signature). */
  time: number;
  keyId: string;
  signature: string;
}

export interface AuditWitness {
  /** "file /path" or "configmap ns/name", for messages. */
  readonly name: string;
  /** Keeps a head; never rewrites what it kept before. */
  record(head: SignedHead): Promise<void>;
  /** Every head it still holds (a ConfigMap keeps only the newest few). */
  heads(): Promise<SignedHead[]>;
  /** Its own pace when the feed is given none: a file takes every head, an API object fewer. */
  readonly minIntervalMs?: number;
}

const HEAD_TYPE = 'kubemend.audit.head';

/** One witness line: the head with a type tag, so the file explains itself. */
export function headLine(h: SignedHead): string {
  return JSON.stringify({ type: HEAD_TYPE, seq: h.seq, hash: h.hash, time: h.time, keyId: h.keyId, signature: h.signature });
}

/** Parses witness lines; `where` names the source in errors. Blank lines are skipped. */
export function parseHeadLines(text: string, where: string): SignedHead[] {
  const heads: SignedHead[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    let v: Record<string, unknown>;
    try {
      v = JSON.parse(line) as Record<string, unknown>;
    } catch {
      throw new KubemendError(Errors.AUDIT_WITNESS, `${where}:${i + 1}: not a JSON line`);
    }
    const ok = v.type === HEAD_TYPE && Number.isSafeInteger(v.seq) && (v.seq as number) > 0 && typeof v.hash === 'string' && /^[0-9a-f]{64}$/.test(v.hash)
      && typeof v.keyId === 'string' && typeof v.signature === 'string' && typeof v.time === 'number';
    if (!ok) throw new KubemendError(Errors.AUDIT_WITNESS, `${where}:${i + 1}: not a signed audit head (${line.slice(0, 80)})`);
    heads.push({ seq: v.seq as number, hash: v.hash as string, time: v.time as number, keyId: v.keyId as string, signature: v.signature as string });
  });
  return heads;
}

/**
 * Heads appended to a JSON Lines file. Opened with O_APPEND on every write,
 * so it works on a file the kernel keeps append-only (`chattr +a`) and beside
 * other writers of the same file; nothing is ever truncated or rewritten.
 */
export class FileWitness implements AuditWitness {
  readonly name: string;
  readonly path: string;

  constructor(path: string) {
    this.path = path;
    this.name = `file ${path}`;
  }

  async record(head: SignedHead): Promise<void> {
    try {
      await appendFile(this.path, `${headLine(head)}\n`, { flag: 'a', mode: 0o600 });
    } catch (err) {
      throw new KubemendError(Errors.AUDIT_WITNESS, `cannot append to the audit witness ${this.path}: ${(err as Error).message}`, { cause: err });
    }
  }

  async heads(): Promise<SignedHead[]> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      // A missing witness is not an empty one: it may have been deleted.
      throw new KubemendError(Errors.AUDIT_WITNESS, `cannot read the audit witness ${this.path}: ${(err as Error).message}`, { cause: err });
    }
    return parseHeadLines(text, this.path);
  }
}

export interface WitnessFeedOptions {
  clock: Clock;
  /**
   * At most one write per witness per interval (ms); 0 writes after every
   * append, coalescing while a write is in flight. Default: each witness's
   * minIntervalMs (a file 0, a ConfigMap 10 s).
   */
  intervalMs?: number;
  log?: (line: string) => void;
}

/**
 * Hands each witness the newest head after appends commit. Never in the
 * append's way: a slow or failing witness delays nothing and fails no append
 * (a retried append could land twice); a failed write is logged, counted in
 * kubemend_audit_witness_failures_total, and retried with the next head.
 */
export class WitnessFeed {
  private readonly lanes: Lane[];

  constructor(witnesses: readonly AuditWitness[], opts: WitnessFeedOptions) {
    this.lanes = witnesses.map((w) => new Lane(w, opts));
  }

  get witnesses(): AuditWitness[] {
    return this.lanes.map((l) => l.witness);
  }

  offer(head: SignedHead): void {
    for (const l of this.lanes) l.offer(head);
  }

  /** Writes whatever is pending now, ignoring the interval, and waits for it. */
  async flush(): Promise<void> {
    await Promise.all(this.lanes.map((l) => l.flush()));
  }
}

class Lane {
  readonly witness: AuditWitness;
  private readonly o: WitnessFeedOptions;
  private pending?: SignedHead;
  private inFlight?: Promise<void>;
  private inFlightSeq = 0;
  private timer?: TimerHandle;
  private lastWrite = -Infinity;
  private readonly intervalMs: number;

  constructor(witness: AuditWitness, o: WitnessFeedOptions) {
    this.witness = witness;
    this.o = o;
    this.intervalMs = o.intervalMs ?? witness.minIntervalMs ?? 0;
  }

  offer(head: SignedHead): void {
    // Appends from concurrent tasks may finish out of order: the witness only ever moves forward.
    if (this.pending && this.pending.seq >= head.seq) return;
    this.pending = head;
    this.schedule();
  }

  async flush(): Promise<void> {
    this.timer?.cancel();
    this.timer = undefined;
    // Each head is tried once here: a witness that is down must not hold up close() for ever.
    let tried = 0;
    for (;;) {
      if (this.inFlight) {
        tried = Math.max(tried, this.inFlightSeq);
        await this.inFlight;
        continue;
      }
      if (!this.pending || this.pending.seq <= tried) return;
      tried = this.pending.seq;
      this.write();
    }
  }

  private schedule(): void {
    if (this.inFlight || this.timer) return;
    const wait = this.lastWrite + this.intervalMs - this.o.clock.now();
    if (wait <= 0) this.write();
    else this.timer = this.o.clock.setTimeout(() => {
      this.timer = undefined;
      this.schedule();
    }, wait);
  }

  private write(): void {
    const head = this.pending;
    if (!head) return;
    this.pending = undefined;
    this.lastWrite = this.o.clock.now();
    this.inFlightSeq = head.seq;
    this.inFlight = this.witness.record(head).catch((err: unknown) => {
      auditWitnessFailuresTotal.inc();
      this.o.log?.(`error: could not write the audit head at seq ${head.seq} to the witness (${this.witness.name}): ${(err as Error).message}`);
      if (!this.pending || this.pending.seq < head.seq) this.pending = head;
    }).finally(() => {
      this.inFlight = undefined;
      // A failed write waits for the next head rather than spinning on a witness that is down.
      if (this.pending && this.pending.seq > head.seq) this.schedule();
    });
  }
}
