// The embedded store: one node:sqlite file in the data directory.
// WAL lets readers (`kubemend audit list` in another shell) run beside a
// writer; BEGIN IMMEDIATE plus a busy timeout makes two processes take turns
// on the write lock instead of failing. DatabaseSync is synchronous and a
// connection holds one transaction at a time, so calls from this process are
// queued behind a mutex: an awaited step inside a transaction can never let
// another caller's statement slip into it.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { Errors, KubemendError, Mutex, type Row, type SqlDb, type SqlExec, type SqlValue, type TransactionOptions } from '../common/index.ts';
import { WalCheckpointer, type CheckpointerOptions } from './sqlite-checkpointer.ts';

export interface SqliteOptions {
  /**
   * NORMAL (default) survives a killed process with every committed
   * transaction intact; FULL also survives power loss, at one fsync per commit.
   */
  synchronous?: 'NORMAL' | 'FULL';
  /** How long to wait for another process's write lock (ms). */
  busyTimeoutMs?: number;
  /** The WAL checkpoint worker (sqlite-checkpointer.ts); false: SQLite's own checkpoints in the COMMIT, as before. */
  checkpointer?: CheckpointerOptions | false;
}

export class SqliteDb implements SqlDb {
  readonly dialect = 'sqlite' as const;
  readonly path: string;
  private readonly db: DatabaseSync;
  private readonly statements = new Map<string, StatementSync>();
  private readonly lock = new Mutex();
  private readonly direct: SqlExec;
  private closed = false;
  private readonly checkpointer: WalCheckpointer | undefined;

  constructor(path: string, opts: SqliteOptions = {}) {
    this.path = path;
    try {
      if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
      this.db = new DatabaseSync(path, { timeout: opts.busyTimeoutMs ?? 30_000 });
      this.db.exec('PRAGMA journal_mode = WAL');
      this.db.exec(`PRAGMA synchronous = ${opts.synchronous === 'FULL' ? 'FULL' : 'NORMAL'}`);
    } catch (err) {
      throw new KubemendError(Errors.STORE_UNAVAILABLE, `cannot open the SQLite store at ${path}: ${(err as Error).message}`, { cause: err });
    }
    if (path !== ':memory:' && opts.checkpointer !== false) {
      this.checkpointer = new WalCheckpointer(path, (pages) => {
        if (!this.closed) this.db.exec(`PRAGMA wal_autocheckpoint = ${pages}`);
      }, { busyTimeoutMs: opts.busyTimeoutMs ?? 30_000, ...opts.checkpointer });
    }
    this.direct = {
      dialect: 'sqlite',
      query: async <T extends Row>(sql: string, params: readonly SqlValue[] = []) => this.prepare(sql).all(...params) as T[],
      exec: async (sql: string, params: readonly SqlValue[] = []) => {
        const r = this.prepare(sql).run(...params);
        return { changes: Number(r.changes) };
      },
    };
  }

  query<T extends Row = Row>(sql: string, params?: readonly SqlValue[]): Promise<T[]> {
    return this.lock.run(() => this.direct.query<T>(sql, params));
  }

  exec(sql: string, params?: readonly SqlValue[]): Promise<{ changes: number }> {
    return this.lock.run(async () => {
      const r = await this.direct.exec(sql, params);
      this.checkpointer?.wrote();
      return r;
    });
  }

  /** The checkpoint worker; undefined for an in-memory database or with the worker turned off. */
  get walCheckpointer(): WalCheckpointer | undefined {
    return this.checkpointer;
  }

  transaction<T>(fn: (tx: SqlExec) => Promise<T>, opts: TransactionOptions = {}): Promise<T> {
    return this.lock.run(async () => {
      // A deferred BEGIN takes its WAL snapshot at the first read and never the write lock.
      this.db.exec(opts.readOnly ? 'BEGIN' : 'BEGIN IMMEDIATE');
      try {
        const result = await fn(this.direct);
        this.db.exec('COMMIT');
        if (!opts.readOnly) this.checkpointer?.wrote();
        return result;
      } catch (err) {
        if (this.db.isTransaction) this.db.exec('ROLLBACK');
        throw err;
      }
    });
  }

  async close(): Promise<void> {
    // The worker's connection first: the last connection to close checkpoints the WAL and removes it.
    await this.checkpointer?.stop();
    await this.lock.run(async () => {
      if (this.closed) return;
      this.closed = true;
      this.statements.clear();
      this.db.close();
    });
  }

  private prepare(sql: string): StatementSync {
    let st = this.statements.get(sql);
    if (!st) {
      st = this.db.prepare(sql);
      // Multi-row inserts and filtered lists vary their SQL; keep the cache bounded.
      if (this.statements.size >= 256) this.statements.delete(this.statements.keys().next().value as string);
      this.statements.set(sql, st);
    }
    return st;
  }
}
