// The Store over SqlDb: one implementation for SQLite and PostgreSQL. Each
// entity is kept whole as JSON in `doc`, with the fields lists filter and sort
// on copied into columns, so adding a field to a record type needs no
// migration while queries stay indexed. Every write is one statement or one
// transaction.
import { type Clock, dialectSql, num, type SqlDb, type SqlExec, type SqlValue } from '../common/index.ts';
import { SqlAuditLog, type AuditKeys, type AuditLogOptions, type AuditTarget } from '../audit/index.ts';
import { migrate } from './migrations.ts';
import { adoptRun, addTransition, insertRun, updateRun } from './runs-sql.ts';
import * as outbox from './outbox-sql.ts';
import * as budget from './runs-budget-sql.ts';
import type { ChatRequestRecord, Detection, Fence, IncidentRecord, IncidentStatus, OutboxClaim, OutboxRecord, RunCursor, RunRecord, RunStatus, Silence, StepTransition, Store, WriteFence } from './types.ts';

type Doc = { doc: string };

/** WHERE-clause builder shared by the list queries. */
class Where {
  readonly parts: string[] = [];
  readonly params: SqlValue[] = [];

  eq(col: string, v: SqlValue | undefined): this {
    if (v !== undefined) this.add(`${col} = ?`, v);
    return this;
  }

  gte(col: string, v: number | undefined): this {
    if (v !== undefined) this.add(`${col} >= ?`, v);
    return this;
  }

  /** An empty list matches nothing, as `status IN ()` would if SQL allowed it. */
  in(col: string, vs: readonly string[] | undefined): this {
    if (vs === undefined) return this;
    if (vs.length === 0) this.add('1 = 0');
    else this.add(`${col} IN (${vs.map(() => '?').join(', ')})`, ...vs);
    return this;
  }

  add(cond: string, ...values: SqlValue[]): this {
    this.parts.push(cond);
    this.params.push(...values);
    return this;
  }

  sql(): string {
    return this.parts.length ? ` WHERE ${this.parts.join(' AND ')}` : '';
  }
}

const CLOSE_FLUSH_MS = 5_000;

const limitSql = (n: number | undefined) => (n !== undefined ? ` LIMIT ${Math.max(0, Math.floor(n))}` : '');
const parse = <T>(rows: Doc[]): T[] => rows.map((r) => JSON.parse(r.doc) as T);

export class SqlStore implements Store {
  readonly kind: 'sqlite' | 'postgres';
  readonly audit: SqlAuditLog;
  private readonly db: SqlDb;
  private readonly clock: Clock;

  constructor(db: SqlDb, keys: AuditKeys, clock: Clock, audit: AuditLogOptions = {}) {
    this.db = db;
    this.clock = clock;
    this.kind = db.dialect;
    this.audit = new SqlAuditLog(db, keys, clock, audit);
  }

  /** The underlying connection, for tools and tests that inspect tables directly. */
  get sql(): SqlDb {
    return this.db;
  }

  migrate(): Promise<number> {
    return migrate(this.db, this.clock);
  }

  /**
   * Hands the newest audit head to the witnesses, then closes the database. A
   * witness that does not answer (an API server behind a dead network) gets
   * CLOSE_FLUSH_MS of wall time, not a stuck shutdown; the head it missed is
   * in the database, and the next run's first append witnesses a newer one.
   */
  async close(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.audit.flush(), new Promise<void>((r) => (timer = setTimeout(r, CLOSE_FLUSH_MS).unref()))]);
    clearTimeout(timer);
    await this.db.close();
  }

  async putDetection(d: Detection): Promise<void> {
    await this.upsert('detections', { id: d.id, rule: d.rule, cluster: d.cluster, status: d.status, first_seen: d.firstSeen, last_seen: d.lastSeen, doc: JSON.stringify(d) });
  }

  async getDetection(id: string): Promise<Detection | undefined> {
    return parse<Detection>(await this.db.query<Doc>('SELECT doc FROM detections WHERE id = ?', [id]))[0];
  }

  async listDetections(q: { status?: Detection['status']; rule?: string; cluster?: string; since?: number; limit?: number; before?: { time: number; id: string } } = {}): Promise<Detection[]> {
    const w = new Where().eq('status', q.status).eq('rule', q.rule).eq('cluster', q.cluster).gte('last_seen', q.since);
    if (q.before) w.add('(last_seen < ? OR (last_seen = ? AND id > ?))', q.before.time, q.before.time, q.before.id);
    return parse<Detection>(await this.db.query<Doc>(`SELECT doc FROM detections${w.sql()} ORDER BY last_seen DESC, id${limitSql(q.limit)}`, w.params));
  }

  async putSilence(s: Silence): Promise<void> {
    await this.upsert('silences', { id: s.id, starts_at: s.startsAt, ends_at: s.endsAt, doc: JSON.stringify(s) });
  }

  async listSilences(q: { activeAt?: number } = {}): Promise<Silence[]> {
    const w = new Where();
    if (q.activeAt !== undefined) w.add('starts_at <= ? AND ends_at > ?', q.activeAt, q.activeAt);
    return parse<Silence>(await this.db.query<Doc>(`SELECT doc FROM silences${w.sql()} ORDER BY starts_at, id`, w.params));
  }

  /** Atomic with its target lock: see runs-sql.ts. */
  createRun(r: RunRecord): Promise<void> {
    return insertRun(this.db, r);
  }

  updateRun(id: string, patch: Partial<Omit<RunRecord, 'id'>>, o?: WriteFence): Promise<void> {
    return updateRun(this.db, this.clock, id, patch, o);
  }

  adoptRun(id: string, from: Fence | undefined, to: Fence, patch?: Partial<Omit<RunRecord, 'id' | 'fence'>>): Promise<RunRecord | undefined> {
    return adoptRun(this.db, this.clock, id, from, to, patch);
  }

  async getRun(id: string): Promise<RunRecord | undefined> {
    return parse<RunRecord>(await this.db.query<Doc>('SELECT doc FROM runs WHERE id = ?', [id]))[0];
  }

  async listRuns(q: { status?: RunStatus[]; runbook?: string; since?: number; limit?: number; after?: RunCursor } = {}): Promise<RunRecord[]> {
    const w = new Where().in('status', q.status).eq('runbook', q.runbook).gte('created_at', q.since);
    // The order below (newest first, then id): a page continues strictly after its last run.
    if (q.after) w.add('(created_at < ? OR (created_at = ? AND id > ?))', q.after.createdAt, q.after.createdAt, q.after.id);
    return parse<RunRecord>(await this.db.query<Doc>(`SELECT doc FROM runs${w.sql()} ORDER BY created_at DESC, id${limitSql(q.limit)}`, w.params));
  }

  /** The budgets' counts: see runs-budget-sql.ts. */
  activeRunsOn(target: AuditTarget, o?: { excludeId?: string }): Promise<{ id: string; runbook: string }[]> {
    return budget.activeRunsOn(this.db, target, o);
  }

  activeRunCounts(q: { cluster: string | undefined; namespace: string | undefined; excludeId?: string }): Promise<{ runbook: string; inCluster: number; inNamespace: number }[]> {
    return budget.activeRunCounts(this.db, q);
  }

  countFailedRuns(q: { runbook: string; target: AuditTarget; since: number; clusterUid?: string }): Promise<number> {
    return budget.countFailedRuns(this.db, q);
  }

  succeededSteps(q: { target: AuditTarget; since: number; clusterUid?: string }): Promise<{ runbook: string; stepId: string; n: number }[]> {
    return budget.succeededSteps(this.db, q);
  }

  addTransition(t: StepTransition, o?: WriteFence): Promise<void> {
    return addTransition(this.db, t, o);
  }

  async transitions(runId: string): Promise<StepTransition[]> {
    return parse<StepTransition>(await this.db.query<Doc>('SELECT doc FROM step_transitions WHERE run_id = ? ORDER BY seq', [runId]));
  }

  async putChatRequest(r: ChatRequestRecord): Promise<void> {
    await this.upsert('chat_requests', { id: r.id, user_name: r.user, status: r.status, created_at: r.createdAt, updated_at: r.updatedAt, doc: JSON.stringify(r) });
  }

  async getChatRequest(id: string): Promise<ChatRequestRecord | undefined> {
    return parse<ChatRequestRecord>(await this.db.query<Doc>('SELECT doc FROM chat_requests WHERE id = ?', [id]))[0];
  }

  async listChatRequests(q: { status?: ChatRequestRecord['status'][]; user?: string; limit?: number } = {}): Promise<ChatRequestRecord[]> {
    const w = new Where().in('status', q.status).eq('user_name', q.user);
    return parse<ChatRequestRecord>(await this.db.query<Doc>(`SELECT doc FROM chat_requests${w.sql()} ORDER BY created_at DESC, id${limitSql(q.limit)}`, w.params));
  }

  async relaySignal(time: number, signal: unknown): Promise<void> {
    await this.db.exec('INSERT INTO relayed_signals (time, doc) VALUES (?, ?)', [time, JSON.stringify(signal)]);
  }

  async relayedSignals(afterSeq: number, limit = 500): Promise<{ seq: number; time: number; signal: unknown }[]> {
    const rows = await this.db.query<{ seq: unknown; time: unknown; doc: string }>(`SELECT seq, time, doc FROM relayed_signals WHERE seq > ? ORDER BY seq${limitSql(limit)}`, [afterSeq]);
    return rows.map((r) => ({ seq: num(r.seq), time: num(r.time), signal: JSON.parse(r.doc) as unknown }));
  }

  async dropRelayedSignals(uptoSeq: number): Promise<void> {
    await this.db.exec('DELETE FROM relayed_signals WHERE seq <= ?', [uptoSeq]);
  }

  async shipperCheckpoint(name: string): Promise<number> {
    const [row] = await this.db.query<{ seq: unknown }>('SELECT seq FROM shipper_checkpoints WHERE name = ?', [name]);
    return row ? num(row.seq) : 0;
  }

  async advanceShipperCheckpoint(name: string, seq: number): Promise<number> {
    if (!Number.isSafeInteger(seq) || seq < 0) throw new RangeError(`internal: a shipper checkpoint is a seq, got ${seq}`);
    // The WHERE of DO UPDATE (SQLite ≥ 3.24, PostgreSQL) keeps it monotonic in one statement, without a read first.
    await this.db.exec(
      'INSERT INTO shipper_checkpoints (name, seq, updated_at) VALUES (?, ?, ?) ON CONFLICT (name) DO UPDATE SET seq = excluded.seq, updated_at = excluded.updated_at WHERE shipper_checkpoints.seq < excluded.seq',
      [name, seq, this.clock.now()],
    );
    return this.shipperCheckpoint(name);
  }

  async putIncident(i: IncidentRecord, db: SqlExec = this.db): Promise<void> {
    await this.upsert('incidents', { id: i.id, cluster: i.cluster, status: i.status, opened_at: i.openedAt, owner: i.owner ?? null, doc: JSON.stringify(i) }, db);
  }

  /** The row stays locked from the read to the write, so a person's change and the tracker's never overwrite each other. */
  async updateIncident(id: string, fn: (current: IncidentRecord | undefined) => IncidentRecord | undefined): Promise<IncidentRecord | undefined> {
    return this.db.transaction(async (tx) => {
      const [current] = parse<IncidentRecord>(await tx.query<Doc>(`SELECT doc FROM incidents WHERE id = ?${dialectSql(tx.dialect).forUpdate}`, [id]));
      const next = fn(current);
      if (!next) return current;
      await this.putIncident(next, tx);
      return next;
    });
  }

  async getIncident(id: string): Promise<IncidentRecord | undefined> {
    return parse<IncidentRecord>(await this.db.query<Doc>('SELECT doc FROM incidents WHERE id = ?', [id]))[0];
  }

  async listIncidents(q: { status?: IncidentStatus | readonly IncidentStatus[]; owner?: string; since?: number; limit?: number; before?: { time: number; id: string } } = {}): Promise<IncidentRecord[]> {
    const w = new Where().in('status', typeof q.status === 'string' ? [q.status] : q.status).eq('owner', q.owner).gte('opened_at', q.since);
    if (q.before) w.add('(opened_at < ? OR (opened_at = ? AND id > ?))', q.before.time, q.before.time, q.before.id);
    return parse<IncidentRecord>(await this.db.query<Doc>(`SELECT doc FROM incidents${w.sql()} ORDER BY opened_at DESC, id${limitSql(q.limit)}`, w.params));
  }

  /** The notification outbox and receivers' state: see outbox-sql.ts. */
  enqueueDeliveries(rows: Omit<OutboxRecord, 'status' | 'attempts' | 'lastError'>[]): Promise<void> {
    return outbox.enqueueDeliveries(this.db, rows);
  }

  claimDeliveries(q: OutboxClaim): Promise<OutboxRecord[]> {
    return outbox.claimDeliveries(this.db, q);
  }

  completeDelivery(id: string): Promise<void> {
    return outbox.completeDelivery(this.db, id);
  }

  retryDelivery(id: string, u: { attempts: number; nextAt: number; error: string }): Promise<void> {
    return outbox.retryDelivery(this.db, id, u);
  }

  deadLetterDelivery(id: string, u: { attempts: number; error: string }): Promise<void> {
    return outbox.deadLetterDelivery(this.db, id, u);
  }

  listDeliveries(q?: { status?: OutboxRecord['status']; receiver?: string; limit?: number }): Promise<OutboxRecord[]> {
    return outbox.listDeliveries(this.db, q);
  }

  outboxStats(): Promise<{ pending: number; dead: number; oldestPendingAt?: number }> {
    return outbox.outboxStats(this.db);
  }

  getNotifyState(receiver: string, key: string): Promise<string | undefined> {
    return outbox.getNotifyState(this.db, receiver, key);
  }

  putNotifyState(receiver: string, key: string, value: string, time: number): Promise<void> {
    return outbox.putNotifyState(this.db, receiver, key, value, time);
  }

  /** INSERT … ON CONFLICT (id) DO UPDATE: the same upsert syntax in SQLite ≥ 3.24 and PostgreSQL. */
  private async upsert(table: string, cols: Record<string, SqlValue>, db: SqlExec = this.db): Promise<void> {
    const names = Object.keys(cols);
    const sets = names.filter((n) => n !== 'id').map((n) => `${n} = excluded.${n}`);
    await db.exec(`INSERT INTO ${table} (${names.join(', ')}) VALUES (${names.map(() => '?').join(', ')}) ON CONFLICT (id) DO UPDATE SET ${sets.join(', ')}`, Object.values(cols));
  }
}
