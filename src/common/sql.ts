// The little SQL surface the store and the audit chain need, so one
// implementation of each serves both node:sqlite and PostgreSQL. It lives in
// common/ because both src/store/ (which opens the databases) and src/audit/
// (which writes the chain inside them) are built on it. SQL is written once with `?` placeholders
// (translated to $1, $2 … for PostgreSQL) and in the common subset of both
// dialects; the few differences (column types, row locks, substring search)
// are named here rather than scattered through the queries.

export type Dialect = 'sqlite' | 'postgres';
export type SqlValue = string | number | null;
export type Row = Record<string, unknown>;

/** What a statement inside or outside a transaction can do. */
export interface SqlExec {
  readonly dialect: Dialect;
  /** A read. Outside a transaction it may be sent again after a lost connection, so it must not write. */
  query<T extends Row = Row>(sql: string, params?: readonly SqlValue[]): Promise<T[]>;
  exec(sql: string, params?: readonly SqlValue[]): Promise<{ changes: number }>;
}

export interface TransactionOptions {
  /**
   * A read-only snapshot: every query sees the database as of the first read,
   * even while other writers commit (verification reads records and the chain
   * head together).
   */
  readOnly?: boolean;
}

export interface SqlDb extends SqlExec {
  /**
   * Runs fn in one transaction: committed when fn resolves, rolled back when it
   * throws. Write transactions take the write lock up front on SQLite
   * (BEGIN IMMEDIATE), so two writers never deadlock upgrading a read lock.
   *
   * fn may run more than once: when the connection to PostgreSQL is lost
   * before COMMIT, the server has rolled the transaction back and it is run
   * again from the start. So fn keeps its effects inside the transaction (or
   * makes them safe to repeat) and builds its result afresh on each run.
   */
  transaction<T>(fn: (tx: SqlExec) => Promise<T>, opts?: TransactionOptions): Promise<T>;
  close(): Promise<void>;
}

/** Column types and dialect-specific fragments for the shared schema and queries. */
export interface DialectSql {
  /** For the rare statement the dialects cannot share (a migration's JSON backfill). */
  dialect: Dialect;
  /** 64-bit integer (sequence numbers, millisecond timestamps). */
  bigint: string;
  /** Auto-incrementing 64-bit primary key. */
  serialKey: string;
  /** Appended to a SELECT that must lock the rows it reads until commit. */
  forUpdate: string;
  /** A case-sensitive "contains" test: contains('col') with one placeholder for the needle. */
  contains(column: string): string;
}

export function dialectSql(d: Dialect): DialectSql {
  if (d === 'postgres') {
    return {
      dialect: d,
      bigint: 'BIGINT',
      serialKey: 'BIGSERIAL PRIMARY KEY',
      forUpdate: ' FOR UPDATE',
      contains: (c) => `strpos(${c}, ?) > 0`,
    };
  }
  return {
    dialect: d,
    bigint: 'INTEGER',
    serialKey: 'INTEGER PRIMARY KEY AUTOINCREMENT',
    // BEGIN IMMEDIATE already holds the database's one write lock.
    forUpdate: '',
    // instr is case-sensitive; SQLite's LIKE is not, which would make the two stores disagree.
    contains: (c) => `instr(${c}, ?) > 0`,
  };
}

/**
 * `?` → `$n` for PostgreSQL. Queries written on this surface never put a literal `?`
 * inside a string, so a plain scan is enough (and keeps the SQL readable).
 */
export function toPgPlaceholders(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

/** `(?, ?, ?), (?, ?, ?)` for a multi-row INSERT of `rows` rows of `cols` columns. */
export function valuesList(rows: number, cols: number): string {
  const one = `(${new Array(cols).fill('?').join(', ')})`;
  return new Array(rows).fill(one).join(', ');
}

/** Integer columns come back as numbers from both drivers; this guards the odd bigint. */
export function num(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint' || typeof v === 'string') return Number(v);
  throw new TypeError(`expected a number column, got ${typeof v}`);
}

export function optStr(v: unknown): string | undefined {
  return v === null || v === undefined ? undefined : String(v);
}

/** A promise-chain mutex: one holder at a time, in arrival order. */
export class Mutex {
  private tail: Promise<void> = Promise.resolve();

  async run<T>(fn: () => Promise<T>): Promise<T> {
    const prev = this.tail;
    let release!: () => void;
    this.tail = new Promise<void>((r) => (release = r));
    await prev;
    try {
      return await fn();
    } finally {
      release();
    }
  }
}
