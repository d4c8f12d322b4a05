// Runbook runs and their step transitions in SQL, where two processes may
// write the same run: the per-target lock is a unique column the database
// enforces (so "is the target free?" and "take it" are one statement), and a
// write made for a leader term is refused once another term has taken the
// run over (the fencing check that keeps a deposed leader from recording a
// step twice).
import { type Clock, Errors, KubemendError, dialectSql, type SqlDb, type SqlExec, type SqlValue } from '../common/index.ts';
import { ACTIVE_RUN_STATUSES, type Fence, type RunRecord, type StepTransition, type WriteFence } from './types.ts';

/** KM-STORE-006: the target is held by another active run (its id, when it could still be read). */
export class TargetLockedError extends KubemendError {
  readonly holder?: string;
  readonly lockKey: string;

  constructor(lockKey: string, holder: string | undefined) {
    super(Errors.STORE_LOCKED, `another run (${holder ?? 'that has just ended'}) is already acting on ${lockKey}`);
    this.lockKey = lockKey;
    this.holder = holder;
  }
}

/** The lock column: held only while the run is active and could change something. */
export function lockColumn(r: RunRecord): string | null {
  return r.lockKey && !r.dryRun && ACTIVE_RUN_STATUSES.includes(r.status) ? r.lockKey : null;
}

export function sameFence(a: Fence | undefined, b: Fence | undefined): boolean {
  return a?.holder === b?.holder && a?.term === b?.term;
}

function fenceText(f: Fence | undefined): string {
  return f ? `${f.holder} (term ${f.term})` : 'no leader term';
}

type Doc = { doc: string };

/** Copied from the doc for the budgets' counts (migration 7; runs-budget-sql.ts says how they match). */
const BUDGET_COLUMNS = ['target_cluster', 'target_namespace', 'target_kind', 'target_name', 'cluster_uid', 'dry_run'] as const;

function budgetColumns(r: RunRecord): SqlValue[] {
  return [r.target.cluster ?? null, r.target.namespace ?? '', r.target.kind ?? null, r.target.name ?? null, r.clusterUid || null, r.dryRun ? 1 : 0];
}

export async function insertRun(db: SqlDb, r: RunRecord): Promise<void> {
  const lock = lockColumn(r);
  // DO NOTHING instead of an error: both dialects report 0 rows, and a failed statement would abort a PostgreSQL transaction.
  const { changes } = await db.exec(`INSERT INTO runs (id, runbook, status, detection_id, incident_id, created_at, updated_at, lock_key, ${BUDGET_COLUMNS.join(', ')}, doc) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ${BUDGET_COLUMNS.map(() => '?').join(', ')}, ?) ON CONFLICT DO NOTHING`, [
    r.id,
    r.runbook,
    r.status,
    r.detectionId ?? null,
    r.incidentId ?? null,
    r.createdAt,
    r.updatedAt,
    lock,
    ...budgetColumns(r),
    JSON.stringify(r),
  ]);
  if (changes === 1) return;
  if (lock === null) throw new KubemendError(Errors.STORE_NOT_FOUND, `internal: a run with id ${r.id} already exists`);
  const [holder] = await db.query<{ id: string }>('SELECT id FROM runs WHERE lock_key = ?', [lock]);
  if (!holder && (await db.query<{ id: string }>('SELECT id FROM runs WHERE id = ?', [r.id])).length) throw new KubemendError(Errors.STORE_NOT_FOUND, `internal: a run with id ${r.id} already exists`);
  throw new TargetLockedError(lock, holder?.id);
}

/** The stored run, row-locked for the rest of the transaction; refused when `o.fence` is not the run's term. */
async function lockedRun(tx: SqlExec, id: string, o: WriteFence = {}): Promise<RunRecord> {
  const [row] = await tx.query<Doc>(`SELECT doc FROM runs WHERE id = ?${dialectSql(tx.dialect).forUpdate}`, [id]);
  if (!row) throw new KubemendError(Errors.STORE_NOT_FOUND, `no runbook run ${id}`);
  const run = JSON.parse(row.doc) as RunRecord;
  if (o.fence && !sameFence(run.fence, o.fence)) {
    throw new KubemendError(Errors.STORE_FENCED, `run ${id} is driven by ${fenceText(run.fence)}, not by ${fenceText(o.fence)}: this write is refused`);
  }
  return run;
}

async function writeRun(tx: SqlExec, run: RunRecord): Promise<void> {
  await tx.exec(`UPDATE runs SET runbook = ?, status = ?, detection_id = ?, incident_id = ?, created_at = ?, updated_at = ?, lock_key = ?, ${BUDGET_COLUMNS.map((c) => `${c} = ?`).join(', ')}, doc = ? WHERE id = ?`, [
    run.runbook,
    run.status,
    run.detectionId ?? null,
    run.incidentId ?? null,
    run.createdAt,
    run.updatedAt,
    lockColumn(run),
    ...budgetColumns(run),
    JSON.stringify(run),
    run.id,
  ]);
}

/** Read-modify-write under a row lock, so two executors patching one run never lose each other's fields. */
export async function updateRun(db: SqlDb, clock: Clock, id: string, patch: Partial<Omit<RunRecord, 'id'>>, o: WriteFence = {}): Promise<void> {
  await db.transaction(async (tx) => {
    const run: RunRecord = { ...(await lockedRun(tx, id, o)), ...patch, id };
    // A key set to undefined in the patch removes the field (JSON drops it).
    if (patch.updatedAt === undefined) run.updatedAt = clock.now();
    await writeRun(tx, run);
  });
}

export async function adoptRun(db: SqlDb, clock: Clock, id: string, from: Fence | undefined, to: Fence, patch: Partial<Omit<RunRecord, 'id' | 'fence'>> = {}): Promise<RunRecord | undefined> {
  return db.transaction(async (tx) => {
    const run = await lockedRun(tx, id);
    if (!sameFence(run.fence, from) || !ACTIVE_RUN_STATUSES.includes(run.status)) return undefined;
    const adopted: RunRecord = { ...run, ...patch, id, fence: to, updatedAt: patch.updatedAt ?? clock.now() };
    await writeRun(tx, adopted);
    return adopted;
  });
}

export async function addTransition(db: SqlDb, t: StepTransition, o: WriteFence = {}): Promise<void> {
  const insert = (tx: SqlExec) => tx.exec('INSERT INTO step_transitions (run_id, step_id, attempt, status, time, doc) VALUES (?, ?, ?, ?, ?, ?)', [t.runId, t.stepId, t.attempt, t.status, t.time, JSON.stringify(t)]);
  if (!o.fence) {
    await insert(db);
    return;
  }
  // The run's row stays locked until the transition is in: an adoption waits for it, or wins and this write is refused.
  await db.transaction(async (tx) => {
    await lockedRun(tx, t.runId, o);
    await insert(tx);
  });
}
