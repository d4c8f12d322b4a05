// Runs one suite against both stores. SQLite gets a fresh temp data
// directory per store; PostgreSQL additionally a fresh schema of its own
// (createPgSchemaUrl), in one database per test file (kubemend_test_<random>,
// dropped when the file's tests end, so test files can run in parallel). A
// schema, not a database, per store: CREATE/DROP DATABASE cost this machine
// 0.5 s and 1–2 s of fsync each, a schema a few milliseconds, and the store
// names no schema in its SQL, so its search_path is all it sees. When
// PostgreSQL is not reachable its half skips and says how to start it.
import { after, describe } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { ManualClock, type Clock } from '../../src/common/clock.ts';
import { openStore, type OpenStoreOptions, type SqlStore } from '../../src/store/index.ts';

export const PG_ADMIN_URL = process.env.KUBEMEND_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432/postgres';

async function probePostgres(): Promise<string | false> {
  const client = new pg.Client({ connectionString: PG_ADMIN_URL, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return false;
  } catch (err) {
    return `PostgreSQL not reachable at ${PG_ADMIN_URL} (${(err as Error).message}); start it with \`pg_ctlcluster 15 main start\` (or run .ci/postgres.sh), or set KUBEMEND_TEST_PG`;
  } finally {
    await client.end().catch(() => {});
  }
}

export const pgSkip = await probePostgres();

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: PG_ADMIN_URL });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** A fresh, empty database; returns its URL. */
export async function createPgDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `kubemend_test_${randomBytes(6).toString('hex')}`;
  await admin((c) => c.query(`CREATE DATABASE ${name}`));
  const u = new URL(PG_ADMIN_URL);
  u.pathname = `/${name}`;
  return { url: u.toString(), drop: () => admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => {}) };
}

/**
 * A fresh, empty schema in `database` (a URL from createPgDatabase); returns
 * the URL whose connections see only it (search_path through the startup
 * `options`, as libpq and node-postgres read them from the URL). Its
 * sessions commit without waiting for the WAL flush: what they commit is
 * visible to every other session at once, as before; only a crash of the
 * PostgreSQL server could lose it, and no test crashes the server.
 */
export async function createPgSchema(database: string): Promise<string> {
  const name = `s_${randomBytes(6).toString('hex')}`;
  const client = new pg.Client({ connectionString: database });
  await client.connect();
  try {
    await client.query(`CREATE SCHEMA ${name}`);
  } finally {
    await client.end();
  }
  const u = new URL(database);
  u.searchParams.set('options', `-c search_path=${name} -c synchronous_commit=off`);
  return u.toString();
}

let fileDatabase: Promise<{ url: string; drop(): Promise<void> }> | undefined;
// Registered as this module is imported, at the top of a test file: runs once all of the file's tests have.
after(async () => {
  if (fileDatabase) await (await fileDatabase).drop();
});

/**
 * A fresh, empty schema (see createPgSchema) in this test file's database,
 * which is created on first use and dropped when the file's tests end: what
 * a test that wants "a new database" needs, without paying for one.
 */
export async function createPgSchemaUrl(): Promise<string> {
  fileDatabase ??= createPgDatabase();
  return createPgSchema((await fileDatabase).url);
}

/** One place a store lives: a data directory (SQLite file, audit key) and, for PostgreSQL, a database URL. */
export interface Place {
  dialect: 'sqlite' | 'postgres';
  dataDir: string;
  /** The --db value: a postgres:// URL, or undefined for the default SQLite file. */
  db?: string;
  clock: ManualClock;
  open(opts?: Partial<OpenStoreOptions> & { clock?: Clock }): Promise<SqlStore>;
}

export interface DialectEnv {
  name: 'sqlite' | 'postgres';
  /** A new empty place; stores opened through it are closed and removed when the suite ends. */
  place(): Promise<Place>;
  /** place() and open() in one. */
  store(opts?: Partial<OpenStoreOptions>): Promise<{ store: SqlStore; place: Place }>;
}

export function forEachDialect(fn: (env: DialectEnv) => void): void {
  for (const name of ['sqlite', 'postgres'] as const) {
    describe(name, { skip: name === 'postgres' ? pgSkip : false, timeout: 600_000 }, () => {
      const cleanups: (() => Promise<void>)[] = [];
      after(async () => {
        for (const c of cleanups.reverse()) await c().catch(() => {});
      });
      const env: DialectEnv = {
        name,
        async place() {
          const dataDir = mkdtempSync(join(tmpdir(), `km-audit-${name}-`));
          cleanups.push(async () => rmSync(dataDir, { recursive: true, force: true }));
          let db: string | undefined;
          if (name === 'postgres') db = await createPgSchemaUrl();
          const clock = new ManualClock(Date.UTC(2026, 0, 1));
          return {
            dialect: name,
            dataDir,
            db,
            clock,
            async open(opts = {}) {
              const store = await openStore({ dataDir, db, clock, ...opts });
              cleanups.push(() => store.close());
              return store;
            },
          };
        },
        async store(opts) {
          const place = await env.place();
          return { store: await place.open(opts), place };
        },
      };
      fn(env);
    });
  }
}
