// The audit log over SqlDb: append-only records on a hash chain whose signed
// head is rewritten with every transaction. A transaction locks the head row
// throughout (SELECT … FOR UPDATE on PostgreSQL, the write lock of BEGIN
// IMMEDIATE on SQLite), so separate processes queue up and extend one linear
// chain; within a process, appends that arrive while one is being committed
// share the next transaction (group-commit.ts), in call order. Free text is
// masked by the process's redactor before a record is built: a record can
// never be cleaned afterwards, and the hash covers what is stored.
import { randomUUID } from 'node:crypto';
import { type Clock, Errors, KubemendError, dialectSql, num, valuesList, type SqlDb, type SqlExec, type SqlValue, auditAppendSeconds, auditCommitRecords, redact, redactDeep } from '../common/index.ts';
import { bodyTemplate, chainHash, recordBody } from './chain.ts';
import { GroupCommit, type GroupStats } from './group-commit.ts';
import { checkpointMessage, headMessage, type AuditKeys } from './checkpoint.ts';
import { AUDIT_COLUMNS, rowToRecord, verifyChain, type AuditRow } from './verify.ts';
import { WitnessFeed, type AuditWitness, type SignedHead } from './witness.ts';
import { checkWitness } from './witness-check.ts';
import type { AuditInput, AuditLog, AuditQuery, AuditRecord, VerifyOptions, VerifyResult, WitnessSummary } from './types.ts';

/** Rows per INSERT: 17 columns × 200 stays far below both drivers' parameter limits. */
const INSERT_CHUNK = 200;
const PAGE = 1000;
/**
 * Records per group commit: enough to carry a burst in a few transactions,
 * few enough that one transaction holds the head lock (and other processes
 * waiting for it) for milliseconds, not seconds.
 */
const MAX_GROUP_RECORDS = 500;

/** A record ready for the chain but for its seq: its canonical JSON at a given seq. */
type Draft = (seq: number) => string;

export interface AuditLogOptions {
  /** Where each signed head is also written, outside the database (see witness.ts). */
  witnesses?: readonly AuditWitness[];
  /** At most one witness write per this many ms (default: each witness's own — a file after every append, a ConfigMap every 10 s). */
  witnessIntervalMs?: number;
  log?: (line: string) => void;
}

export class SqlAuditLog implements AuditLog {
  readonly keys: AuditKeys;
  private readonly db: SqlDb;
  private readonly clock: Clock;
  private readonly feed: WitnessFeed;
  private readonly group = new GroupCommit<Draft, AuditRecord>((drafts) => this.commit(drafts), MAX_GROUP_RECORDS);

  constructor(db: SqlDb, keys: AuditKeys, clock: Clock, opts: AuditLogOptions = {}) {
    this.db = db;
    this.keys = keys;
    this.clock = clock;
    this.feed = new WitnessFeed(opts.witnesses ?? [], { clock, intervalMs: opts.witnessIntervalMs, log: opts.log });
  }

  /** The witnesses every append feeds (and verify checks, unless told others). */
  get witnesses(): AuditWitness[] {
    return this.feed.witnesses;
  }

  /** Waits for the appends already made, then writes the newest head to the witnesses; close() calls it. */
  async flush(): Promise<void> {
    await this.group.idle();
    await this.feed.flush();
  }

  async append(inputs: AuditInput | AuditInput[]): Promise<AuditRecord[]> {
    const list = Array.isArray(inputs) ? inputs : [inputs];
    if (list.length === 0) return [];
    const now = this.clock.now();
    // Validated and encoded before joining a group: a bad input fails alone, without failing or holding up other writers.
    const drafts = list.map((input): Draft => bodyTemplate(recordBody(masked(input), 0, randomUUID(), input.time ?? now)));
    this.keys.signingKey();
    const timer = auditAppendSeconds.startTimer();
    try {
      return await this.group.submit(drafts);
    } finally {
      timer();
    }
  }

  /** Transactions and records so far (each transaction signs one head). */
  get commitStats(): Readonly<GroupStats> {
    return this.group.stats;
  }

  /** One transaction for a group's records, in order: lock the head, insert, sign the new head once, commit. */
  private async commit(drafts: Draft[]): Promise<AuditRecord[]> {
    const forUpdate = dialectSql(this.db.dialect).forUpdate;
    auditCommitRecords.observe(drafts.length);
    const { records, head } = await this.db.transaction(async (tx) => {
      const head = await readHead(tx, forUpdate);
      let seq = head.seq;
      let prev = head.hash;
      const rows: SqlValue[][] = [];
      const records: AuditRecord[] = [];
      for (const draft of drafts) {
        const text = draft(++seq);
        const hash = chainHash(prev, text);
        // The caller gets back what a later list() returns: the stored JSON, parsed.
        const stored = JSON.parse(text) as AuditRecord;
        records.push({ ...stored, prevHash: prev, hash });
        const t = stored.target ?? {};
        rows.push([seq, stored.id, stored.time, stored.actor.type, stored.actor.name, stored.action, t.cluster ?? null, t.namespace ?? null, t.kind ?? null, t.name ?? null, stored.outcome ?? null, stored.detectionId ?? null, stored.runId ?? null, stored.incidentId ?? null, text, prev, hash]);
        prev = hash;
      }
      for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
        const chunk = rows.slice(i, i + INSERT_CHUNK);
        await tx.exec(`INSERT INTO audit_log (${AUDIT_COLUMNS}) VALUES ${valuesList(chunk.length, 17)}`, chunk.flat());
      }
      const sig = this.keys.sign(headMessage({ seq, hash: prev }));
      const signed: SignedHead = { seq, hash: prev, time: this.clock.now(), ...sig };
      await tx.exec('UPDATE audit_head SET seq = ?, hash = ?, time = ?, key_id = ?, signature = ? WHERE id = 1', [seq, prev, signed.time, sig.keyId, sig.signature]);
      return { records, head: signed };
    });
    // Only a committed head is witnessed: the witness must never be ahead of what the database really holds.
    this.feed.offer(head);
    return records;
  }

  async list(q: AuditQuery = {}): Promise<AuditRecord[]> {
    const { sql, params } = this.select(q);
    return (await this.db.query<AuditRow>(sql, params)).map(rowToRecord);
  }

  async *iterate(q: AuditQuery = {}): AsyncIterable<AuditRecord> {
    const desc = q.order === 'desc';
    let remaining = q.limit ?? Infinity;
    let cursor: number | undefined;
    while (remaining > 0) {
      const n = Math.min(PAGE, remaining);
      const page = cursor === undefined ? { ...q, limit: n } : { ...q, limit: n, ...(desc ? { beforeSeq: cursor } : { afterSeq: cursor }) };
      const { sql, params } = this.select(page);
      const rows = await this.db.query<AuditRow>(sql, params);
      for (const row of rows) yield rowToRecord(row);
      if (rows.length < n) return;
      remaining -= rows.length;
      cursor = num(rows[rows.length - 1].seq);
    }
  }

  async head(): Promise<SignedHead | undefined> {
    const [h] = await this.db.query<{ seq: unknown; hash: string; time: unknown; key_id: string | null; signature: string | null }>('SELECT seq, hash, time, key_id, signature FROM audit_head WHERE id = 1');
    if (!h || num(h.seq) === 0 || !h.key_id || !h.signature) return undefined;
    return { seq: num(h.seq), hash: h.hash, time: num(h.time), keyId: h.key_id, signature: h.signature };
  }

  /**
   * The chain, and each witness's heads against it. The witnesses are read
   * first, the snapshot taken after: a head written meanwhile is then in the
   * snapshot too, so a busy log is never mistaken for a truncated one.
   */
  async verify(opts: VerifyOptions = {}): Promise<VerifyResult> {
    const witnesses = await Promise.all((opts.witnesses ?? []).map(async (w) => ({ name: w.name, heads: await w.heads() })));
    return this.db.transaction(async (tx) => {
      const chain = await verifyChain(tx, this.keys);
      if (!chain.ok || witnesses.length === 0) return chain;
      const summaries: WitnessSummary[] = [];
      for (const w of witnesses) {
        const r = await checkWitness(tx, this.keys, chain, w.name, w.heads);
        if ('ok' in r) return r;
        summaries.push(r);
      }
      return { ...chain, witnesses: summaries };
    }, { readOnly: true });
  }

  /**
   * Removes the oldest records up to the first one at or after `before` (a
   * prefix, so the rest stays one unbroken chain even if callers backdated
   * some records), and signs a checkpoint with the seq and hash of the last
   * removed record. Refuses to prune a chain that does not verify: pruning
   * must not erase evidence of tampering and sign over it.
   */
  async prune(before: number): Promise<{ removed: number; checkpointSeq?: number }> {
    if (Number.isNaN(before)) throw new RangeError('prune needs a time (epoch ms)');
    // Infinity ("prune everything") does not fit a BIGINT parameter.
    const cutoff = Math.min(before, Number.MAX_SAFE_INTEGER);
    this.keys.signingKey();
    const forUpdate = dialectSql(this.db.dialect).forUpdate;
    return this.db.transaction(async (tx) => {
      const head = await readHead(tx, forUpdate);
      const check = await verifyChain(tx, this.keys);
      if (!check.ok) {
        const b = check.firstBad;
        throw new KubemendError(Errors.AUDIT_CHAIN_BROKEN, `refusing to prune: the audit chain is broken at seq ${b.seq}${b.id ? ` (id ${b.id})` : ''}: ${b.reason}`);
      }
      const [keep] = await tx.query<{ s: unknown }>('SELECT MIN(seq) AS s FROM audit_log WHERE time >= ?', [cutoff]);
      const [first] = await tx.query<{ s: unknown }>('SELECT MIN(seq) AS s FROM audit_log');
      const lastRemoved = keep.s === null ? head.seq : num(keep.s) - 1;
      if (first.s === null || lastRemoved < num(first.s)) return { removed: 0 };
      const [anchor] = await tx.query<{ hash: string }>('SELECT hash FROM audit_log WHERE seq = ?', [lastRemoved]);
      const { changes: removed } = await tx.exec('DELETE FROM audit_log WHERE seq <= ?', [lastRemoved]);
      const cp = { seq: lastRemoved, hash: anchor.hash, time: this.clock.now(), removed };
      const sig = this.keys.sign(checkpointMessage(cp));
      await tx.exec('INSERT INTO audit_checkpoints (seq, hash, time, removed, key_id, signature) VALUES (?, ?, ?, ?, ?, ?)', [cp.seq, cp.hash, cp.time, cp.removed, sig.keyId, sig.signature]);
      return { removed, checkpointSeq: lastRemoved };
    });
  }

  /** Every retention checkpoint, oldest first (verification continues from the newest). */
  async checkpoints(): Promise<{ seq: number; hash: string; time: number; removed: number; keyId: string }[]> {
    const rows = await this.db.query<{ seq: unknown; hash: string; time: unknown; removed: unknown; key_id: string }>('SELECT seq, hash, time, removed, key_id FROM audit_checkpoints ORDER BY seq');
    return rows.map((r) => ({ seq: num(r.seq), hash: r.hash, time: num(r.time), removed: num(r.removed), keyId: r.key_id }));
  }

  private select(q: AuditQuery): { sql: string; params: SqlValue[] } {
    const d = dialectSql(this.db.dialect);
    const where: string[] = [];
    const params: SqlValue[] = [];
    const add = (cond: string, ...values: SqlValue[]) => {
      where.push(cond);
      params.push(...values);
    };
    if (q.since !== undefined) add('time >= ?', q.since);
    if (q.until !== undefined) add('time < ?', q.until);
    if (q.actor !== undefined) {
      const i = q.actor.indexOf(':');
      const type = i >= 0 ? q.actor.slice(0, i) : undefined;
      const name = i >= 0 ? q.actor.slice(i + 1) : q.actor;
      if (type) add('actor_type = ?', type);
      if (name && name !== '*') add('actor_name = ?', name);
    }
    if (q.action !== undefined) {
      if (q.action.endsWith('*')) {
        const prefix = q.action.slice(0, -1);
        add('substr(action, 1, ?) = ?', prefix.length, prefix);
      } else add('action = ?', q.action);
    }
    if (q.actions !== undefined) add(q.actions.length ? `action IN (${q.actions.map(() => '?').join(', ')})` : '1 = 0', ...q.actions);
    if (q.target !== undefined) {
      const cols = ['target_cluster', 'target_namespace', 'target_kind', 'target_name'];
      add(`(${cols.map(d.contains).join(' OR ')})`, ...cols.map(() => q.target as string));
    }
    if (q.runId !== undefined) add('run_id = ?', q.runId);
    if (q.detectionId !== undefined) add('detection_id = ?', q.detectionId);
    if (q.incidentId !== undefined) add('incident_id = ?', q.incidentId);
    if (q.id !== undefined) add('id = ?', q.id);
    if (q.afterSeq !== undefined) add('seq > ?', q.afterSeq);
    if (q.beforeSeq !== undefined) add('seq < ?', q.beforeSeq);
    const limit = q.limit !== undefined ? ` LIMIT ${Math.max(0, Math.floor(q.limit))}` : '';
    return {
      sql: `SELECT ${AUDIT_COLUMNS} FROM audit_log${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY seq ${q.order === 'desc' ? 'DESC' : 'ASC'}${limit}`,
      params,
    };
  }
}

/**
 * The last line of defence: callers mask what they pass (step outputs, chat
 * reasons), but whatever reaches the chain unmasked stays there for good.
 * Identifiers, the actor, the target and digests are kept as given.
 */
function masked(input: AuditInput): AuditInput {
  return {
    ...input,
    ...(typeof input.justification === 'string' ? { justification: redact(input.justification) } : {}),
    ...(typeof input.link === 'string' ? { link: redact(input.link) } : {}),
    ...(input.data !== undefined ? { data: redactDeep(input.data) } : {}),
    ...(input.diff !== undefined ? { diff: redactDeep(input.diff) } : {}),
  };
}

async function readHead(tx: SqlExec, forUpdate: string): Promise<{ seq: number; hash: string }> {
  const [head] = await tx.query<{ seq: unknown; hash: string }>(`SELECT seq, hash FROM audit_head WHERE id = 1${forUpdate}`);
  if (!head) throw new KubemendError(Errors.AUDIT_CHAIN_BROKEN, 'the audit chain head row is missing: it was deleted outside kubemend');
  return { seq: num(head.seq), hash: head.hash };
}

/** Applies a retention window (e.g. parseDuration('90d')): prunes records older than now − window. */
export function pruneExpired(log: AuditLog, windowMs: number, clock: Clock): Promise<{ removed: number; checkpointSeq?: number }> {
  if (!(windowMs > 0)) throw new RangeError(`retention window must be positive, got ${windowMs}ms`);
  return log.prune(clock.now() - windowMs);
}
