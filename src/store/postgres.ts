// The shared store: PostgreSQL through a pg Pool, for teams that run several
// kubemend processes (or want the database managed elsewhere). A transaction
// owns one pooled client from BEGIN to COMMIT; statements outside one take any
// free client.
import pg from 'pg';
import type { PoolClient } from 'pg';
import { Errors, KubemendError, toPgPlaceholders, type Row, type SqlDb, type SqlExec, type SqlValue, type TransactionOptions } from '../common/index.ts';

const INT8_OID = 20;

/**
 * BIGINT columns (sequence numbers, ms timestamps) as numbers, not strings.
 * Set per pool rather than on pg's global type registry, which other code in
 * the process may rely on.
 */
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID && format !== 'binary' ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
};

/** The URL without its password, for messages. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url.replace(/:\/\/([^:/@]+):[^@]*@/, '://$1:***@');
  }
}

export interface PostgresOptions {
  /** Pool size (default 5: a CLI needs one, the server a few). */
  max?: number;
  connectTimeoutMs?: number;
}

export class PostgresDb implements SqlDb {
  readonly dialect = 'postgres' as const;
  readonly url: string;
  private readonly pool: pg.Pool;
  private closed = false;

  private constructor(url: string, pool: pg.Pool) {
    this.url = url;
    this.pool = pool;
  }

  /** Connects and checks the server answers, so a wrong URL fails at start-up with KM-STORE-001. */
  static async connect(url: string, opts: PostgresOptions = {}): Promise<PostgresDb> {
    const pool = new pg.Pool({ connectionString: url, max: opts.max ?? 5, connectionTimeoutMillis: opts.connectTimeoutMs ?? 10_000, types });
    // An idle client losing its connection must not crash the process; the next query reconnects.
    pool.on('error', () => {});
    try {
      await pool.query('SELECT 1');
    } catch (err) {
      await pool.end().catch(() => {});
      throw new KubemendError(Errors.STORE_UNAVAILABLE, `cannot connect to PostgreSQL at ${redactUrl(url)}: ${(err as Error).message}`, { cause: err });
    }
    return new PostgresDb(url, pool);
  }

  async query<T extends Row = Row>(sql: string, params: readonly SqlValue[] = []): Promise<T[]> {
    const r = await this.pool.query(toPgPlaceholders(sql), params as SqlValue[]);
    return r.rows as T[];
  }

  async exec(sql: string, params: readonly SqlValue[] = []): Promise<{ changes: number }> {
    const r = await this.pool.query(toPgPlaceholders(sql), params as SqlValue[]);
    return { changes: r.rowCount ?? 0 };
  }

  async transaction<T>(fn: (tx: SqlExec) => Promise<T>, opts: TransactionOptions = {}): Promise<T> {
    const client = await this.pool.connect();
    let broken: Error | undefined;
    try {
      await client.query(opts.readOnly ? 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY' : 'BEGIN');
      try {
        const result = await fn(clientExec(client));
        await client.query('COMMIT');
        return result;
      } catch (err) {
        try {
          await client.query('ROLLBACK');
        } catch (rollbackErr) {
          // The connection is unusable; hand it back as broken so the pool drops it.
          broken = rollbackErr as Error;
        }
        throw err;
      }
    } finally {
      client.release(broken);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }
}

function clientExec(client: PoolClient): SqlExec {
  return {
    dialect: 'postgres',
    async query<T extends Row>(sql: string, params: readonly SqlValue[] = []) {
      const r = await client.query(toPgPlaceholders(sql), params as SqlValue[]);
      return r.rows as T[];
    },
    async exec(sql: string, params: readonly SqlValue[] = []) {
      const r = await client.query(toPgPlaceholders(sql), params as SqlValue[]);
      return { changes: r.rowCount ?? 0 };
    },
  };
}
