// The budgets' questions (runbooks/budgets.ts) answered from the runs' columns
// (migration 7) and their indexes, without parsing a document: who holds a
// target, how many runs are in flight in a namespace or cluster, how many
// runs of a runbook failed on a target, which steps succeeded on it lately.
// Answers are grouped by runbook (and step) where the caller decides with the
// runbooks it has loaded (read-only runbooks, mutating actions): those sets
// are small, bounded by the runbooks, not by the runs.
//
// A target matches as budgets.ts sameTarget does: cluster, kind and name
// equal, absent only matching absent (NULL); namespace absent and '' alike.
// Dry runs never count. With a cluster uid, runs of another incarnation of the
// cluster do not count; runs with no uid recorded always do (sameIncarnation).
import { num, type SqlDb, type SqlValue } from '../common/index.ts';
import type { AuditTarget } from '../audit/index.ts';
import { ACTIVE_RUN_STATUSES, type RunStatus } from './types.ts';

const FAILED: readonly RunStatus[] = ['failed', 'escalated'];
/** Literal, as in the partial index runs_active_target (migration 7): a bound list would not let the planners use it. */
const ACTIVE_SQL = `$status IN (${ACTIVE_RUN_STATUSES.map((s) => `'${s}'`).join(', ')})`;

class Cond {
  readonly parts: string[] = [];
  readonly params: SqlValue[] = [];

  private readonly alias: string;

  constructor(alias = '') {
    this.alias = alias;
  }

  add(sql: string, ...values: SqlValue[]): this {
    this.parts.push(sql.replaceAll('$', this.alias));
    this.params.push(...values);
    return this;
  }

  /** `col = v`, or `col IS NULL` for an absent v: the index serves both. */
  is(col: string, v: string | undefined | null): this {
    return v == null ? this.add(`$${col} IS NULL`) : this.add(`$${col} = ?`, v);
  }

  target(t: AuditTarget): this {
    return this.is('target_name', t.name).add('$target_namespace = ?', t.namespace ?? '').is('target_kind', t.kind).is('target_cluster', t.cluster);
  }

  statuses(s: readonly RunStatus[]): this {
    return this.add(`$status IN (${s.map(() => '?').join(', ')})`, ...s);
  }

  incarnation(clusterUid: string | undefined): this {
    return clusterUid ? this.add('($cluster_uid IS NULL OR $cluster_uid = ?)', clusterUid) : this;
  }

  notId(id: string | undefined): this {
    return id === undefined ? this : this.add('$id <> ?', id);
  }

  sql(): string {
    return this.parts.join(' AND ');
  }
}

/** Active, non-dry runs on the target, newest first (the order listRuns gives). */
export async function activeRunsOn(db: SqlDb, target: AuditTarget, o: { excludeId?: string } = {}): Promise<{ id: string; runbook: string }[]> {
  const w = new Cond().target(target).add(ACTIVE_SQL).add('$dry_run = 0').notId(o.excludeId);
  const rows = await db.query<{ id: string; runbook: string }>(`SELECT id, runbook FROM runs WHERE ${w.sql()} ORDER BY created_at DESC, id`, w.params);
  return rows.map((r) => ({ id: r.id, runbook: r.runbook }));
}

/** Active, non-dry runs on the cluster per runbook: all of them, and those in the namespace. */
export async function activeRunCounts(db: SqlDb, q: { cluster: string | undefined; namespace: string | undefined; excludeId?: string }): Promise<{ runbook: string; inCluster: number; inNamespace: number }[]> {
  const w = new Cond().add(ACTIVE_SQL).add('$dry_run = 0').is('target_cluster', q.cluster).notId(q.excludeId);
  const rows = await db.query<{ runbook: string; n: unknown; ns: unknown }>(
    `SELECT runbook, COUNT(*) AS n, SUM(CASE WHEN target_namespace = ? THEN 1 ELSE 0 END) AS ns FROM runs WHERE ${w.sql()} GROUP BY runbook ORDER BY runbook`,
    [q.namespace ?? '', ...w.params],
  );
  return rows.map((r) => ({ runbook: r.runbook, inCluster: num(r.n), inNamespace: num(r.ns) }));
}

/** Non-dry runs of the runbook on the target created since `since` that failed or escalated. */
export async function countFailedRuns(db: SqlDb, q: { runbook: string; target: AuditTarget; since: number; clusterUid?: string }): Promise<number> {
  const w = new Cond().target(q.target).add('$created_at >= ?', q.since).add('$runbook = ?', q.runbook).statuses(FAILED).add('$dry_run = 0').incarnation(q.clusterUid);
  const [row] = await db.query<{ n: unknown }>(`SELECT COUNT(*) AS n FROM runs WHERE ${w.sql()}`, w.params);
  return num(row?.n ?? 0);
}

/** Succeeded step transitions since `since` of non-dry runs on the target created since then, per runbook and step. */
export async function succeededSteps(db: SqlDb, q: { target: AuditTarget; since: number; clusterUid?: string }): Promise<{ runbook: string; stepId: string; n: number }[]> {
  const w = new Cond('r.').target(q.target).add('$created_at >= ?', q.since).add('$dry_run = 0').incarnation(q.clusterUid);
  const rows = await db.query<{ runbook: string; step_id: string; n: unknown }>(
    `SELECT r.runbook, t.step_id, COUNT(*) AS n FROM runs r JOIN step_transitions t ON t.run_id = r.id WHERE ${w.sql()} AND t.status = 'succeeded' AND t.time >= ? GROUP BY r.runbook, t.step_id ORDER BY r.runbook, t.step_id`,
    [...w.params, q.since],
  );
  return rows.map((r) => ({ runbook: r.runbook, stepId: r.step_id, n: num(r.n) }));
}
