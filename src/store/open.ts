// Choosing and opening the store: a postgres:// URL (from --db or
// KUBEMEND_DB) selects PostgreSQL, anything else the SQLite file — by default
// <dataDir>/kubemend.db. The audit key is checked first when it must be
// provided; migrations run before the store is handed out; the audit log
// feeds the witnesses given (or $KUBEMEND_AUDIT_WITNESS).
import { join } from 'node:path';
import { realClock, type Clock, dataDir as defaultDataDir, redactor, type SqlDb } from '../common/index.ts';
import { AuditKeys, auditKeyPath, openWitness, requireKeyFromEnv, type AuditWitness } from '../audit/index.ts';
import { PostgresDb, type PostgresOptions } from './postgres.ts';
import { SqliteDb, type SqliteOptions } from './sqlite.ts';
import { SqlStore } from './store-sql.ts';

export interface OpenStoreOptions {
  /** `postgres://…` / `postgresql://…`, or a SQLite file path (optionally `sqlite:` prefixed). Default $KUBEMEND_DB, else <dataDir>/kubemend.db. */
  db?: string;
  /** Default $KUBEMEND_HOME or ~/.kubemend. Holds the SQLite file and the audit signing key. */
  dataDir?: string;
  clock?: Clock;
  /** Audit signing key (Ed25519 PEM). Default $KUBEMEND_AUDIT_KEY or <dataDir>/audit-key.pem. */
  keyFile?: string;
  /** Public keys (PEM files) whose signatures verification also accepts. */
  trustedKeys?: string[];
  /**
   * The signing key must be provided, never generated (default
   * $KUBEMEND_AUDIT_REQUIRE_KEY): opening fails with KM-AUDIT-002 when it is
   * missing, so a cluster install whose Secret is not mounted refuses to start.
   */
  requireKey?: boolean;
  /** Where signed heads are also written. Default: $KUBEMEND_AUDIT_WITNESS (a file: file:PATH or PATH), else none. */
  witnesses?: AuditWitness[];
  /** At most one witness write per this many ms (default: each witness's own — a file after every append, a ConfigMap every 10 s). */
  witnessIntervalMs?: number;
  /** Where witness failures are reported. */
  log?: (line: string) => void;
  sqlite?: SqliteOptions;
  postgres?: PostgresOptions;
}

export type DbLocation = { kind: 'postgres'; url: string } | { kind: 'sqlite'; path: string };

export function resolveDb(opts: Pick<OpenStoreOptions, 'db' | 'dataDir'> = {}): DbLocation {
  const db = opts.db ?? (process.env.KUBEMEND_DB || undefined);
  if (db && /^postgres(ql)?:\/\//i.test(db)) return { kind: 'postgres', url: db };
  if (db) return { kind: 'sqlite', path: db.replace(/^sqlite:(\/\/)?/i, '') };
  return { kind: 'sqlite', path: join(defaultDataDir(opts.dataDir), 'kubemend.db') };
}

export async function openStore(opts: OpenStoreOptions = {}): Promise<SqlStore> {
  const clock = opts.clock ?? realClock;
  const where = resolveDb(opts);
  if (where.kind === 'postgres') redactor.addUrlPassword(where.url);
  // The key and the witnesses first: a cluster install without its Secret fails before touching the database.
  const requireKey = opts.requireKey ?? requireKeyFromEnv();
  const keys = new AuditKeys({ keyFile: auditKeyPath(defaultDataDir(opts.dataDir), opts.keyFile), trusted: opts.trustedKeys, requireKey });
  if (requireKey) keys.signingKey();
  const envWitness = process.env.KUBEMEND_AUDIT_WITNESS;
  const witnesses = opts.witnesses ?? (envWitness ? [openWitness(envWitness)] : []);
  const db: SqlDb = where.kind === 'postgres' ? await PostgresDb.connect(where.url, opts.postgres) : new SqliteDb(where.path, opts.sqlite);
  const store = new SqlStore(db, keys, clock, { witnesses, witnessIntervalMs: opts.witnessIntervalMs, log: opts.log ?? ((l) => process.stderr.write(`${l}\n`)) });
  try {
    await store.migrate();
  } catch (err) {
    await db.close().catch(() => {});
    throw err;
  }
  return store;
}
