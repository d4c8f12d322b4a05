// The shared store: PostgreSQL through a pg Pool, for teams that run several
// kubemend processes (or want the database managed elsewhere). A transaction
// owns one pooled client from BEGIN to COMMIT; reads outside one take any
// free client; a write outside one runs as its own transaction.
//
// Connections die under us (a failover, an administrator's
// pg_terminate_backend, a network cut). pg-pool listens for errors only on
// idle clients, so a checked-out client that loses its server would emit an
// unhandled 'error' and crash the process: every checkout here carries its
// own listener. What happens next depends on how far the work got:
// - before COMMIT was sent, the server rolled the transaction back (it can
//   never commit without our COMMIT), so it is run again from the start;
// - during COMMIT the outcome is unknown to us, but not to the server: the
//   transaction's id, read before COMMIT, is looked up with txid_status() on
//   a fresh connection — committed (done), aborted (run again), or, if that
//   cannot be told in time, KM-STORE-005 (never retried: it may have landed).
import pg from 'pg';
import type { PoolClient, QueryResult } from 'pg';
import { Errors, KubemendError, realClock, toPgPlaceholders, type Row, type SqlDb, type SqlExec, type SqlValue, type TransactionOptions } from '../common/index.ts';
import { isConnectionError } from './pg-errors.ts';

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
  /**
   * application_name of every connection, so an administrator can find (or
   * terminate) kubemend's sessions in pg_stat_activity. Default: the URL's
   * application_name, else $PGAPPNAME, else "kubemend".
   */
  applicationName?: string;
  /** Attempts of one transaction or read whose connection is lost (default 8, over about 3 s). */
  attempts?: number;
  /** How long to keep asking whether an interrupted COMMIT landed before KM-STORE-005 (default 10 s). */
  commitResolveMs?: number;
}

/** A checked-out client; its connection errors are caught and recorded, never thrown at the process. */
interface Checkout {
  client: PoolClient;
  /** The connection's error, once it has failed. */
  lost(): Error | undefined;
  release(broken?: Error): void;
}

/** Where an attempt lost its connection: "body" is before COMMIT was sent. */
class Interrupted {
  readonly phase: 'body' | 'commit';
  readonly cause: unknown;
  /** The transaction's id, for txid_status() after an interrupted COMMIT. */
  readonly xid?: string;
  /** What fn returned, should the interrupted COMMIT turn out to have landed. */
  readonly value?: unknown;

  constructor(phase: 'body' | 'commit', cause: unknown, xid?: string, value?: unknown) {
    this.phase = phase;
    this.cause = cause;
    this.xid = xid;
    this.value = value;
  }
}

export class PostgresDb implements SqlDb {
  readonly dialect = 'postgres' as const;
  readonly url: string;
  private readonly pool: pg.Pool;
  /** The error each client's connection failed with, recorded by its own listener (see connect()). */
  private readonly lost: WeakMap<pg.PoolClient, Error>;
  private readonly attempts: number;
  private readonly commitResolveMs: number;
  private closed = false;

  private constructor(url: string, pool: pg.Pool, lost: WeakMap<pg.PoolClient, Error>, opts: PostgresOptions) {
    this.url = url;
    this.pool = pool;
    this.lost = lost;
    this.attempts = Math.max(1, opts.attempts ?? 8);
    this.commitResolveMs = opts.commitResolveMs ?? 10_000;
  }

  /** Connects and checks the server answers, so a wrong URL fails at start-up with KM-STORE-001. */
  static async connect(url: string, opts: PostgresOptions = {}): Promise<PostgresDb> {
    const pool = new pg.Pool({
      connectionString: url,
      max: opts.max ?? 5,
      connectionTimeoutMillis: opts.connectTimeoutMs ?? 10_000,
      types,
      application_name: opts.applicationName,
      fallback_application_name: 'kubemend',
      // A cut network (no FIN, no RST) is noticed by the kernel's keepalive rather than never.
      keepAlive: true,
    });
    // An idle client losing its connection must not crash the process; pg-pool drops it and the next checkout connects anew.
    pool.on('error', () => {});
    const lost = new WeakMap<pg.PoolClient, Error>();
    // Every client listens from birth: pg-pool hands a new client over from inside the socket's data
    // handler, so a FATAL in the same packet would be emitted before a listener added after checkout.
    pool.on('connect', (client) => client.on('error', (err) => lost.has(client) || lost.set(client, err)));
    try {
      await pool.query('SELECT 1');
    } catch (err) {
      await pool.end().catch(() => {});
      throw new KubemendError(Errors.STORE_UNAVAILABLE, `cannot connect to PostgreSQL at ${redactUrl(url)}: ${(err as Error).message}`, { cause: err });
    }
    return new PostgresDb(url, pool, lost, opts);
  }

  /** A read: on a lost connection it is simply asked again. */
  async query<T extends Row = Row>(sql: string, params: readonly SqlValue[] = []): Promise<T[]> {
    for (let attempt = 1; ; attempt++) {
      let c: Checkout | undefined;
      try {
        c = await this.checkout();
        const r = await c.client.query(toPgPlaceholders(sql), params as SqlValue[]);
        c.release();
        return r.rows as T[];
      } catch (err) {
        const dead = c?.lost() ?? (isConnectionError(err) ? (err as Error) : undefined);
        c?.release(dead);
        if (!dead) throw err;
        await this.backoff(attempt, err);
      }
    }
  }

  /** A write outside a transaction is its own transaction, so a lost connection is retried or resolved like any other. */
  exec(sql: string, params: readonly SqlValue[] = []): Promise<{ changes: number }> {
    return this.transaction((tx) => tx.exec(sql, params));
  }

  async transaction<T>(fn: (tx: SqlExec) => Promise<T>, opts: TransactionOptions = {}): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const r = await this.attempt(fn, opts);
      if (!(r instanceof Interrupted)) return r.value;
      if (r.phase === 'commit' && (await this.committed(r))) return r.value as T;
      await this.backoff(attempt, r.cause);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }

  /** One try: the result, a plain error thrown, or where the connection was lost. */
  private async attempt<T>(fn: (tx: SqlExec) => Promise<T>, opts: TransactionOptions): Promise<{ value: T } | Interrupted> {
    let c: Checkout;
    try {
      c = await this.checkout();
    } catch (err) {
      if (isConnectionError(err)) return new Interrupted('body', err);
      throw err;
    }
    let phase: 'body' | 'commit' = 'body';
    let xid: string | undefined;
    let value: T | undefined;
    try {
      if (opts.readOnly) {
        await c.client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      } else {
        // One round trip (simple protocol): the id txid_status() needs if COMMIT is interrupted.
        const rs = (await c.client.query('BEGIN; SELECT txid_current()::text AS xid')) as unknown as QueryResult[];
        xid = String(rs[1].rows[0].xid);
      }
      value = await fn(clientExec(c.client));
      phase = 'commit';
      await c.client.query('COMMIT');
      c.release();
      return { value };
    } catch (err) {
      const lost = c.lost();
      if (lost || isConnectionError(err)) {
        c.release(lost ?? (err as Error));
        // A read-only snapshot has nothing to commit: its result stands.
        if (phase === 'commit' && opts.readOnly) return { value: value as T };
        return new Interrupted(phase, err, xid, value);
      }
      let broken: Error | undefined;
      try {
        await c.client.query('ROLLBACK');
      } catch (rollbackErr) {
        // The connection is unusable; hand it back as broken so the pool drops it.
        broken = rollbackErr as Error;
      }
      c.release(broken ?? c.lost());
      throw err;
    }
  }

  /**
   * After a COMMIT whose answer was lost: true if it landed, false if it was
   * rolled back (run it again); KM-STORE-005 when the old session is still
   * "in progress" (e.g. behind a cut network) or no one answers until the deadline.
   */
  private async committed(r: Interrupted): Promise<boolean> {
    const deadline = realClock.now() + this.commitResolveMs;
    let last = 'no transaction id';
    for (let i = 1; r.xid !== undefined; i++) {
      try {
        const [row] = await this.query<{ status: string | null }>('SELECT txid_status(?::bigint) AS status', [r.xid]);
        last = row?.status ?? 'unknown (too old)';
        if (last === 'committed') return true;
        if (last === 'aborted') return false;
        if (last !== 'in progress') break;
      } catch (err) {
        last = `the status query failed: ${(err as Error).message}`;
      }
      if (realClock.now() >= deadline) break;
      await realClock.sleep(Math.min(50 * i, 500));
    }
    throw new KubemendError(
      Errors.STORE_COMMIT_UNKNOWN,
      `the connection to PostgreSQL was lost during COMMIT (${(r.cause as Error).message}) and whether transaction ${r.xid ?? '?'} committed could not be told: ${last}`,
      { cause: r.cause },
    );
  }

  private async backoff(attempt: number, cause: unknown): Promise<void> {
    if (attempt >= this.attempts) {
      throw new KubemendError(Errors.STORE_CONNECTION_LOST, `the connection to PostgreSQL at ${redactUrl(this.url)} was lost ${attempt} times in a row; nothing was committed: ${(cause as Error).message}`, { cause });
    }
    // Reconnecting waits in wall time, whatever clock the store stamps its records with; the jitter keeps
    // writers that lost their connections together from all coming back in the same instant.
    await realClock.sleep(Math.min(25 * 2 ** attempt, 1_000) * (0.5 + Math.random() / 2));
  }

  private async checkout(): Promise<Checkout> {
    const client = await this.pool.connect();
    const lost = this.lost;
    let released = false;
    return {
      client,
      lost: () => lost.get(client),
      release(broken?: Error) {
        if (released) return;
        released = true;
        client.release(broken ?? lost.get(client));
      },
    };
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
