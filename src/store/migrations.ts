// Versioned schema changes, applied at start-up. Each migration is a list of
// statements built from one logical schema for both dialects (only column
// types differ); applied versions are recorded in schema_migrations. All
// pending migrations run in one transaction behind a lock, so two processes
// starting together apply each migration once, and a crash mid-migration
// leaves the previous version intact. Never edit a released migration: add
// the next version.
import { type Clock, Errors, KubemendError, dialectSql, num, type DialectSql, type SqlDb } from '../common/index.ts';
import { GENESIS_HASH } from '../audit/index.ts';

export interface Migration {
  version: number;
  name: string;
  up(t: DialectSql): string[];
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'audit log, chain head, retention checkpoints',
    up: (t) => [
      // `record` is the canonical JSON that was hashed; the other columns copy
      // fields out of it for queries, and verify checks they still agree.
      `CREATE TABLE audit_log (
        seq ${t.bigint} PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        time ${t.bigint} NOT NULL,
        actor_type TEXT NOT NULL,
        actor_name TEXT NOT NULL,
        action TEXT NOT NULL,
        target_cluster TEXT,
        target_namespace TEXT,
        target_kind TEXT,
        target_name TEXT,
        outcome TEXT,
        detection_id TEXT,
        run_id TEXT,
        incident_id TEXT,
        record TEXT NOT NULL,
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL
      )`,
      'CREATE INDEX audit_log_time ON audit_log (time)',
      'CREATE INDEX audit_log_action ON audit_log (action)',
      'CREATE INDEX audit_log_actor ON audit_log (actor_name)',
      'CREATE INDEX audit_log_run ON audit_log (run_id)',
      'CREATE INDEX audit_log_detection ON audit_log (detection_id)',
      'CREATE INDEX audit_log_incident ON audit_log (incident_id)',
      // One row: the last seq and hash, signed. Appends lock it, which is what
      // keeps concurrent writers on one linear chain.
      `CREATE TABLE audit_head (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        seq ${t.bigint} NOT NULL,
        hash TEXT NOT NULL,
        time ${t.bigint} NOT NULL,
        key_id TEXT,
        signature TEXT
      )`,
      `INSERT INTO audit_head (id, seq, hash, time) VALUES (1, 0, '${GENESIS_HASH}', 0)`,
      `CREATE TABLE audit_checkpoints (
        seq ${t.bigint} PRIMARY KEY,
        hash TEXT NOT NULL,
        time ${t.bigint} NOT NULL,
        removed ${t.bigint} NOT NULL,
        key_id TEXT NOT NULL,
        signature TEXT NOT NULL
      )`,
    ],
  },
  {
    version: 2,
    name: 'detections, silences, runbook runs and step transitions, chat requests, incidents',
    up: (t) => [
      `CREATE TABLE detections (
        id TEXT PRIMARY KEY,
        rule TEXT NOT NULL,
        cluster TEXT NOT NULL,
        status TEXT NOT NULL,
        first_seen ${t.bigint} NOT NULL,
        last_seen ${t.bigint} NOT NULL,
        doc TEXT NOT NULL
      )`,
      'CREATE INDEX detections_last_seen ON detections (last_seen)',
      'CREATE INDEX detections_status ON detections (status)',
      `CREATE TABLE silences (
        id TEXT PRIMARY KEY,
        starts_at ${t.bigint} NOT NULL,
        ends_at ${t.bigint} NOT NULL,
        doc TEXT NOT NULL
      )`,
      `CREATE TABLE runs (
        id TEXT PRIMARY KEY,
        runbook TEXT NOT NULL,
        status TEXT NOT NULL,
        detection_id TEXT,
        incident_id TEXT,
        created_at ${t.bigint} NOT NULL,
        updated_at ${t.bigint} NOT NULL,
        doc TEXT NOT NULL
      )`,
      'CREATE INDEX runs_created ON runs (created_at)',
      'CREATE INDEX runs_status ON runs (status)',
      `CREATE TABLE step_transitions (
        seq ${t.serialKey},
        run_id TEXT NOT NULL,
        step_id TEXT NOT NULL,
        attempt INTEGER NOT NULL,
        status TEXT NOT NULL,
        time ${t.bigint} NOT NULL,
        doc TEXT NOT NULL
      )`,
      'CREATE INDEX step_transitions_run ON step_transitions (run_id, seq)',
      `CREATE TABLE chat_requests (
        id TEXT PRIMARY KEY,
        user_name TEXT NOT NULL,
        status TEXT NOT NULL,
        created_at ${t.bigint} NOT NULL,
        updated_at ${t.bigint} NOT NULL,
        doc TEXT NOT NULL
      )`,
      'CREATE INDEX chat_requests_created ON chat_requests (created_at)',
      `CREATE TABLE incidents (
        id TEXT PRIMARY KEY,
        cluster TEXT NOT NULL,
        status TEXT NOT NULL,
        opened_at ${t.bigint} NOT NULL,
        doc TEXT NOT NULL
      )`,
      'CREATE INDEX incidents_opened ON incidents (opened_at)',
    ],
  },
  {
    version: 3,
    name: 'atomic per-target run locks, relayed webhook signals',
    up: (t) => [
      // Set while a run is active, NULL once it ends. NULLs never collide in a
      // unique index (SQLite and PostgreSQL agree), so the index holds exactly
      // one active run per target, decided by the database, not by a read
      // before the insert. Runs active before this migration keep NULL (they
      // are still found by the budgets' check) rather than fail the index.
      'ALTER TABLE runs ADD COLUMN lock_key TEXT',
      'CREATE UNIQUE INDEX runs_lock_key ON runs (lock_key)',
      // Webhook signals a follower received, until the leader ingests them.
      `CREATE TABLE relayed_signals (
        seq ${t.serialKey},
        time ${t.bigint} NOT NULL,
        doc TEXT NOT NULL
      )`,
    ],
  },
  {
    version: 4,
    name: 'notification outbox, receivers\' state',
    up: (t) => [
      // One row per queued delivery of an event to a receiver, deleted once
      // the receiver took it; `dead` rows stay for inspection. A row is
      // claimed by setting lease_until (compare-and-set), so two processes
      // never deliver it at once, and only the oldest pending row of its
      // (receiver, dkey) is claimable, which keeps a key's deliveries in order.
      `CREATE TABLE notify_outbox (
        seq ${t.serialKey},
        id TEXT NOT NULL UNIQUE,
        receiver TEXT NOT NULL,
        dkey TEXT NOT NULL,
        status TEXT NOT NULL,
        attempts INTEGER NOT NULL,
        created_at ${t.bigint} NOT NULL,
        next_at ${t.bigint} NOT NULL,
        lease_until ${t.bigint} NOT NULL,
        lease_owner TEXT,
        last_error TEXT,
        doc TEXT NOT NULL
      )`,
      'CREATE INDEX notify_outbox_due ON notify_outbox (status, next_at)',
      'CREATE INDEX notify_outbox_key ON notify_outbox (receiver, dkey, seq)',
      // What receivers keep between deliveries (a thread's parent message per
      // incident), and the router's memory (which receivers follow an incident).
      `CREATE TABLE notify_state (
        receiver TEXT NOT NULL,
        skey TEXT NOT NULL,
        value TEXT NOT NULL,
        updated_at ${t.bigint} NOT NULL,
        PRIMARY KEY (receiver, skey)
      )`,
    ],
  },
  {
    version: 5,
    name: 'audit shipper checkpoints',
    up: (t) => [
      // The last audit seq each shipper (e.g. "elasticsearch") has delivered;
      // in the shared store, so whichever replica leads continues from it.
      `CREATE TABLE shipper_checkpoints (
        name TEXT PRIMARY KEY,
        seq ${t.bigint} NOT NULL,
        updated_at ${t.bigint} NOT NULL
      )`,
    ],
  },
  {
    version: 6,
    name: 'incident lifecycle: owner, status index',
    // The new states (acknowledged, postmortem) fit the status column as it is;
    // the rest of the lifecycle (who acknowledged, notes, who resolved) lives in
    // the record's doc. Owner is a column so "mine" is one indexed query.
    up: () => [
      'ALTER TABLE incidents ADD COLUMN owner TEXT',
      'CREATE INDEX incidents_status ON incidents (status)',
      'CREATE INDEX incidents_owner ON incidents (owner)',
    ],
  },
  {
    version: 7,
    name: 'run target, cluster uid and dry-run columns for the budgets\' indexed counts',
    // Budgets (runbooks/budgets.ts) count a target's runs per event; with the
    // target only in the doc, each admission parsed every run of a day. The
    // namespace is '' when absent (sameTarget treats the two alike); cluster,
    // kind and name stay NULL when absent, as sameTarget tells them from ''.
    // An empty cluster uid is NULL: sameIncarnation treats both as unknown.
    up: (t) => {
      const j = t.dialect === 'postgres' ? (path: string) => `((doc::jsonb) #>> '{${path.split('.').join(',')}}')` : (path: string) => `json_extract(doc, '$.${path}')`;
      const dryTrue = t.dialect === 'postgres' ? `${j('dryRun')} = 'true'` : `${j('dryRun')} = 1`;
      return [
        'ALTER TABLE runs ADD COLUMN target_cluster TEXT',
        'ALTER TABLE runs ADD COLUMN target_namespace TEXT NOT NULL DEFAULT \'\'',
        'ALTER TABLE runs ADD COLUMN target_kind TEXT',
        'ALTER TABLE runs ADD COLUMN target_name TEXT',
        'ALTER TABLE runs ADD COLUMN cluster_uid TEXT',
        'ALTER TABLE runs ADD COLUMN dry_run INTEGER NOT NULL DEFAULT 0',
        `UPDATE runs SET target_cluster = ${j('target.cluster')}, target_namespace = COALESCE(${j('target.namespace')}, ''), target_kind = ${j('target.kind')}, target_name = ${j('target.name')}, cluster_uid = NULLIF(${j('clusterUid')}, ''), dry_run = CASE WHEN ${dryTrue} THEN 1 ELSE 0 END`,
        // Every budget query names one target (lock holder, failures, actions in the last hour).
        'CREATE INDEX runs_target ON runs (target_name, target_namespace, target_kind, target_cluster, created_at)',
        // Only active runs (a few): the lock holder and the in-flight counts, however long a target's history.
        // Queries must spell the same literal IN list for either planner to use it.
        "CREATE INDEX runs_active_target ON runs (target_cluster, target_namespace, target_kind, target_name, created_at) WHERE status IN ('pending', 'running', 'waiting-approval')",
      ];
    },
  },
];

/** An arbitrary constant naming kubemend's migration lock among other advisory-lock users. */
const PG_MIGRATION_LOCK = 0x6b6d_6d69_67;

/** Applies pending migrations; returns how many ran (0 when up to date). */
export async function migrate(db: SqlDb, clock: Clock, migrations: readonly Migration[] = MIGRATIONS): Promise<number> {
  const t = dialectSql(db.dialect);
  return db.transaction(async (tx) => {
    if (tx.dialect === 'postgres') await tx.query('SELECT pg_advisory_xact_lock(?)', [PG_MIGRATION_LOCK]);
    await tx.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version INTEGER PRIMARY KEY,
      name TEXT NOT NULL,
      applied_at ${t.bigint} NOT NULL
    )`);
    const applied = new Set((await tx.query<{ version: unknown }>('SELECT version FROM schema_migrations')).map((r) => num(r.version)));
    const known = Math.max(0, ...migrations.map((m) => m.version));
    const newest = Math.max(0, ...applied);
    if (newest > known) {
      throw new KubemendError(Errors.STORE_SCHEMA_NEWER, `the database is at schema version ${newest}; this kubemend knows versions up to ${known}`);
    }
    let ran = 0;
    for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
      if (applied.has(m.version)) continue;
      for (const stmt of m.up(t)) await tx.exec(stmt);
      await tx.exec('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)', [m.version, m.name, clock.now()]);
      ran++;
    }
    return ran;
  });
}
