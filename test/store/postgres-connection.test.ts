// PostgreSQL sessions die under a running kubemend: an administrator's
// pg_terminate_backend, a failover, a cut network. The process must never
// crash on it (pg-pool listens for errors only on idle clients), a transaction
// interrupted before COMMIT is run again, one interrupted during COMMIT is
// resolved with the server (txid_status), and what cannot be resolved fails
// with a coded error instead of being guessed — so every audit append lands
// exactly once or fails clearly, and the chain verifies.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { ManualClock } from '../../src/common/clock.ts';
import { KubemendError } from '../../src/common/errors.ts';
import { FileWitness } from '../../src/audit/index.ts';
import { openStore, type OpenStoreOptions, type SqlStore } from '../../src/store/index.ts';
import { PG_ADMIN_URL, createPgDatabase, pgSkip } from '../audit/helpers.ts';

const T0 = Date.UTC(2026, 0, 1);
const CLEAR = new Set(['KM-STORE-004', 'KM-STORE-005']);

describe('PostgreSQL sessions terminated under load', { skip: pgSkip }, () => {
  const cleanups: (() => Promise<void>)[] = [];
  let admin: pg.Client;
  before(async () => {
    admin = new pg.Client({ connectionString: PG_ADMIN_URL, application_name: 'km-test-admin' });
    await admin.connect();
    cleanups.push(() => admin.end());
  });
  after(async () => {
    for (const c of cleanups.reverse()) await c().catch(() => {});
  });

  async function open({ url: via, ...opts }: Partial<OpenStoreOptions> & { url?: string } = {}): Promise<{ store: SqlStore; app: string }> {
    const db = await createPgDatabase();
    cleanups.push(db.drop);
    const dataDir = mkdtempSync(join(tmpdir(), 'km-pg-conn-'));
    cleanups.push(async () => rmSync(dataDir, { recursive: true, force: true }));
    const app = `km-test-${randomBytes(4).toString('hex')}`;
    const url = via?.replace('/DB', new URL(db.url).pathname) ?? db.url;
    const store = await openStore({ db: url, dataDir, clock: new ManualClock(T0), ...opts, postgres: { applicationName: app, ...opts.postgres } });
    cleanups.push(() => store.close());
    return { store, app };
  }

  const terminate = async (app: string, where = 'true'): Promise<number> =>
    (await admin.query(`SELECT pg_terminate_backend(pid) AS t FROM pg_stat_activity WHERE application_name = $1 AND ${where}`, [app])).rows.filter((r) => r.t).length;

  /** Waits until one of the app's sessions is inside COMMIT, held there by the slow-commit trigger. */
  async function untilCommitting(app: string): Promise<void> {
    const t0 = Date.now();
    for (;;) {
      const r = await admin.query("SELECT 1 FROM pg_stat_activity WHERE application_name = $1 AND query = 'COMMIT' AND state = 'active' AND wait_event = 'PgSleep'", [app]);
      if (r.rowCount) return;
      assert.ok(Date.now() - t0 < 10_000, 'no session reached the slow COMMIT');
      await new Promise((res) => setTimeout(res, 5));
    }
  }

  /** A deferred trigger that makes the first `times` COMMITs of an audit append sleep, so a test can act in the middle of one. */
  async function slowCommits(store: SqlStore, seconds: number, times = 1): Promise<() => Promise<number>> {
    await store.sql.exec('CREATE SEQUENCE slow_commits');
    await store.sql.exec(`CREATE FUNCTION slow_commit() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF nextval('slow_commits') <= ${times} THEN PERFORM pg_sleep(${seconds}); END IF; RETURN NULL; END $$`);
    await store.sql.exec('CREATE CONSTRAINT TRIGGER slow_commit AFTER UPDATE ON audit_head DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION slow_commit()');
    // nextval is not transactional: it counts every COMMIT that reached the trigger, rolled back or not.
    return async () => Number((await store.sql.query<{ n: number }>('SELECT last_value AS n FROM slow_commits'))[0].n);
  }

  const countTag = async (store: SqlStore, tag: string): Promise<number> =>
    (await store.sql.query('SELECT 1 FROM audit_log WHERE record LIKE ?', [`%"tag":"${tag}"%`])).length;

  it('never crashes, and every audit append and store write lands once or fails with a coded error, while sessions are terminated in a loop', { timeout: 120_000 }, async (t) => {
    const witness = new FileWitness(join(mkdtempSync(join(tmpdir(), 'km-pg-witness-')), 'heads.jsonl'));
    const { store, app } = await open({ witnesses: [witness] });
    let killing = true;
    let kills = 0;
    type Outcome = { what: 'append' | 'transition'; tag: string; ok: boolean; code?: string };
    const outcomes: Outcome[] = [];
    // Sessions die at a pace set by the writes' progress (one kill per three
    // outcomes, at a random moment within the next ~100 ms), not by the wall
    // clock: on a slow machine a fixed kill rate would hit each write more
    // often and exhaust retries that hold on any normal machine.
    const killer = (async () => {
      let at = 0;
      while (killing) {
        if (outcomes.length >= at + 3) {
          at = outcomes.length;
          await new Promise((res) => setTimeout(res, Math.random() * 100));
          kills += await terminate(app);
        } else await new Promise((res) => setTimeout(res, 5));
      }
    })();
    const attempt = async (what: Outcome['what'], tag: string, fn: () => Promise<unknown>) => {
      try {
        await fn();
        outcomes.push({ what, tag, ok: true });
      } catch (err) {
        assert.ok(err instanceof KubemendError && CLEAR.has(err.code), `${what} ${tag} failed without a clear error: ${(err as Error).stack}`);
        outcomes.push({ what, tag, ok: false, code: err.code });
      }
    };
    const worker = async (w: number) => {
      for (let i = 0; i < 25; i++) {
        const tag = `w${w}-${i}`;
        await attempt('append', tag, () => store.audit.append(Array.from({ length: 1 + (i % 3) }, (_, k) => ({ actor: { type: 'system' as const, name: 'load' }, action: 'test.load', data: { tag, k } }))));
        await attempt('transition', tag, () => store.addTransition({ runId: `run-${w}`, stepId: tag, attempt: 1, status: 'succeeded', time: T0 + i }));
        await attempt('append', `${tag}-det`, async () => {
          await store.putDetection(detection(`det-${w}`, i));
          await store.audit.append({ actor: { type: 'rule', name: 'load' }, action: 'detection.updated', detectionId: `det-${w}`, data: { tag: `${tag}-det` } });
        });
      }
    };
    try {
      await Promise.all([0, 1, 2, 3].map(worker));
    } finally {
      killing = false;
      await killer;
    }
    t.diagnostic(`${kills} sessions terminated, ${outcomes.filter((o) => !o.ok).length} of ${outcomes.length} writes failed`);
    assert.ok(kills >= 20, `the test must actually terminate sessions (terminated ${kills})`);

    // Only committed heads were witnessed, resolved COMMITs included: the witness agrees with the chain.
    await store.audit.flush();
    const v = await store.audit.verify({ witnesses: [witness] });
    assert.equal(v.ok, true, `chain verifies: ${JSON.stringify(v)}`);
    assert.ok(v.ok && v.witnesses![0].checked > 0);
    const transitions = new Map<string, number>();
    for (const w of [0, 1, 2, 3]) for (const t of await store.transitions(`run-${w}`)) transitions.set(t.stepId, (transitions.get(t.stepId) ?? 0) + 1);
    for (const o of outcomes) {
      const n = o.what === 'append' ? await countTag(store, o.tag) : (transitions.get(o.tag) ?? 0);
      const k = o.what === 'append' && !o.tag.endsWith('-det') ? 1 + (Number(o.tag.split('-')[1]) % 3) : 1;
      if (o.ok) assert.equal(n, k, `${o.what} ${o.tag} succeeded, so it is stored exactly once`);
      else if (o.code === 'KM-STORE-004') assert.equal(n, 0, `${o.what} ${o.tag} failed with nothing committed, so it is not stored`);
      else assert.ok(n === 0 || n === k, `${o.what} ${o.tag}: an unknown commit landed whole or not at all`);
    }
    const ok = outcomes.filter((o) => o.ok).length;
    assert.ok(ok >= outcomes.length * 0.9, `retries carry almost every write through (${ok}/${outcomes.length})`);
    for (const w of [0, 1, 2, 3]) assert.equal((await store.getDetection(`det-${w}`))?.count !== undefined, true);
  });

  it('runs a transaction again when its session dies during COMMIT and the server says it was rolled back', { timeout: 60_000 }, async () => {
    const { store, app } = await open();
    await store.audit.append({ actor: { type: 'system', name: 't' }, action: 'test.before', data: { tag: 'before' } });
    const reached = await slowCommits(store, 0.5);
    const pending = store.audit.append({ actor: { type: 'system', name: 't' }, action: 'test.during', data: { tag: 'during' } });
    await untilCommitting(app);
    assert.equal(await terminate(app, "query = 'COMMIT'"), 1);
    const [rec] = await pending;
    assert.equal(rec.seq, 2);
    assert.equal(await reached(), 2, 'the append reached COMMIT twice: interrupted, then run again');
    assert.equal(await countTag(store, 'during'), 1);
    assert.equal((await store.audit.verify()).ok, true);
  });

  it('reports KM-STORE-005 rather than guessing when a cut network leaves the COMMIT in flight, and never appends twice', { timeout: 60_000 }, async () => {
    const proxy = await tcpProxy(new URL(PG_ADMIN_URL));
    cleanups.push(() => proxy.close());
    const { store, app } = await open({ url: `postgres://postgres@127.0.0.1:${proxy.port}/DB`, postgres: { commitResolveMs: 300 } });
    const reached = await slowCommits(store, 1.5);
    const pending = store.audit.append({ actor: { type: 'system', name: 't' }, action: 'test.cut', data: { tag: 'cut' } });
    await untilCommitting(app);
    // Only kubemend's side of the connection goes: the server session lives on and finishes its COMMIT.
    proxy.cutClients();
    await assert.rejects(pending, (e: unknown) => e instanceof KubemendError && e.code === 'KM-STORE-005' && /in progress/.test(e.message) && !e.retryable);
    const t0 = Date.now();
    while ((await countTag(store, 'cut')) === 0) {
      assert.ok(Date.now() - t0 < 10_000, 'the in-flight COMMIT lands once its sleep ends');
      await new Promise((res) => setTimeout(res, 50));
    }
    assert.equal(await countTag(store, 'cut'), 1, 'it was not retried: it landed, once');
    assert.equal(await reached(), 1);
    assert.equal((await store.audit.verify()).ok, true);
  });

  it('waits for a COMMIT still in flight on a cut connection and returns its result once it lands', { timeout: 60_000 }, async () => {
    const proxy = await tcpProxy(new URL(PG_ADMIN_URL));
    cleanups.push(() => proxy.close());
    const { store, app } = await open({ url: `postgres://postgres@127.0.0.1:${proxy.port}/DB` });
    await slowCommits(store, 0.8);
    const pending = store.audit.append({ actor: { type: 'system', name: 't' }, action: 'test.cut', data: { tag: 'cut' } });
    await untilCommitting(app);
    proxy.cutClients();
    const [rec] = await pending;
    assert.equal(rec.seq, 1);
    assert.equal(await countTag(store, 'cut'), 1);
    assert.equal((await store.audit.verify()).ok, true);
  });
});

function detection(id: string, i: number) {
  return {
    id, rule: 'load', cluster: 'c', subject: { cluster: 'c', kind: 'Pod', namespace: 'ns', name: id }, fingerprint: id, severity: 'warning' as const, summary: 's',
    labels: {}, firstSeen: T0, lastSeen: T0 + i, count: i + 1, status: 'open' as const, evidence: [], notifications: 0,
  };
}

/** A TCP proxy to PostgreSQL whose client sides can be cut, leaving the server sessions alive — a network partition, seen from kubemend. */
async function tcpProxy(target: URL): Promise<{ port: number; cutClients(): void; close(): Promise<void> }> {
  const clients = new Set<Socket>();
  const upstreams = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(Number(target.port || 5432), target.hostname);
    client.on('error', () => {});
    upstream.on('error', () => {});
    client.pipe(upstream);
    upstream.pipe(client);
    clients.add(client);
    upstreams.add(upstream);
    client.on('close', () => clients.delete(client));
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  return {
    port: (server.address() as { port: number }).port,
    cutClients() {
      for (const c of clients) c.destroy();
    },
    close: () => new Promise<void>((res) => {
      for (const c of [...clients, ...upstreams]) c.destroy();
      server.close(() => res());
    }),
  };
}
