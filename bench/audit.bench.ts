// Audit log throughput: 10,000 records appended in batches and one by one,
// then verified and exported, on SQLite and (when reachable) PostgreSQL. The
// PostgreSQL run uses a scratch database it creates and drops. Issue 16's
// row: single appends from many tasks at once (group commit), against batched
// appends in the same round.
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { exportJsonl, type AuditInput } from '../src/audit/index.ts';
import { openStore, type SqlStore } from '../src/store/index.ts';
import { goalRow, measure, rounds, type BenchCase, type BenchSection, type GoalRow } from './harness.ts';

const N = 10_000;
const BATCH = 100;
const ADMIN_URL = process.env.KUBEMEND_BENCH_PG ?? process.env.KUBEMEND_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** Budgets in ms, per dialect: [10k batched append + verify, 10k single appends + verify]. */
const BUDGET = { sqlite: [5_000, 15_000], postgres: [10_000, 60_000] } as const;

function record(i: number): AuditInput {
  return {
    actor: { type: i % 3 === 0 ? 'user' : 'system', name: i % 3 === 0 ? 'alice' : 'runbook-executor' },
    action: i % 2 ? 'runbook.step.succeeded' : 'detection.opened',
    target: { cluster: 'prod', namespace: `ns-${i % 20}`, kind: 'Deployment', name: `app-${i % 50}` },
    justification: 'bench: a sentence about why, like a real chat justification',
    link: `https://tickets.example.com/OPS-${i}`,
    outcome: 'success',
    beforeDigest: `sha256:${'a'.repeat(64)}`,
    afterDigest: `sha256:${'b'.repeat(64)}`,
    runId: `run-${Math.floor(i / 10)}`,
    data: { i, replicas: { from: 3, to: 0 } },
  };
}

/** Tasks appending one record at a time, as the recorder, the executor and the incident tracker do under load. */
const TASKS = 64;

/** Single appends from TASKS tasks at once; returns the ms and the transactions they took. */
async function concurrentSingles(store: SqlStore, inputs: AuditInput[]): Promise<{ ms: number; groups: number }> {
  const before = store.audit.commitStats.groups;
  let next = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: TASKS }, async () => {
    while (next < inputs.length) await store.audit.append(inputs[next++]);
  }));
  const ms = performance.now() - t0;
  const v = await store.audit.verify();
  if (!v.ok || v.records !== inputs.length) throw new Error(`verify failed: ${JSON.stringify(v)}`);
  return { ms, groups: store.audit.commitStats.groups - before };
}

/**
 * The goal row: rounds of 10k batched appends (the baseline) then 10k
 * concurrent single appends, each on a fresh store.
 */
async function groupCommitRow(kind: 'sqlite' | 'postgres', open: () => Promise<SqlStore>, cases: BenchCase[], n = 3): Promise<{ goal: GoalRow; notes: string[] }> {
  const inputs = Array.from({ length: N }, (_, i) => record(i));
  const batchedRates: number[] = [];
  const ratios: number[] = [];
  const groups: number[] = [];
  const singles = await rounds(async (r) => {
    const b = await open();
    let batchedMs: number;
    try {
      const c = await measure(`${kind}: baseline, 10k in batches of ${BATCH}, round ${r + 1}`, N, async () => {
        for (let i = 0; i < N; i += BATCH) await b.audit.append(inputs.slice(i, i + BATCH));
      });
      cases.push(c);
      batchedMs = c.ms;
    } finally {
      await b.close();
    }
    const s = await open();
    try {
      const res = await concurrentSingles(s, inputs);
      cases.push({ name: `${kind}: 10k single appends from ${TASKS} tasks at once, round ${r + 1} (${res.groups} transactions)`, n: N, ms: res.ms, rssMb: process.memoryUsage().rss / 2 ** 20 });
      batchedRates.push((N / batchedMs) * 1000);
      ratios.push(batchedMs / res.ms);
      groups.push(res.groups);
      return (N / res.ms) * 1000;
    } finally {
      await s.close();
    }
  }, n);
  const range = (xs: number[], f: (x: number) => string) => {
    const sorted = [...xs].sort((a, b) => a - b);
    return `${f(sorted[0]!)}–${f(sorted[Math.floor((sorted.length - 1) / 2)]!)}`;
  };
  const perS = (x: number) => Math.round(x).toLocaleString('en-US');
  return {
    goal: goalRow({ row: `audit append, concurrent single appends on ${kind === 'sqlite' ? 'SQLite' : 'PostgreSQL'} (${TASKS} tasks)`, baseline: `batched appends of ${BATCH}: ${range(batchedRates, perS)}/s; singles ÷ batched ${range(ratios, (x) => x.toFixed(2))}×`, goal: kind === 'sqlite' ? 10_000 : 0, better: 'higher', unit: 'records/s' }, singles),
    notes: [`${kind}: the ${N.toLocaleString('en-US')} single appends took ${range(groups, String)} transactions (min–median of ${n} rounds): a group holds the appends that arrived while the one before it committed.`],
  };
}

const sink = () => new Writable({ write: (_c, _e, cb) => cb() });

async function pgScratch(): Promise<{ url: string; drop(): Promise<void> } | string> {
  const admin = new pg.Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: 3000 });
  try {
    await admin.connect();
  } catch (err) {
    return `PostgreSQL not reachable at ${ADMIN_URL} (${(err as Error).message}); start it with \`pg_ctlcluster 15 main start\` to include it`;
  }
  const name = `kubemend_bench_${randomBytes(4).toString('hex')}`;
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const u = new URL(ADMIN_URL);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: ADMIN_URL });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

async function dialectCases(kind: 'sqlite' | 'postgres', open: () => Promise<SqlStore>): Promise<BenchCase[]> {
  const cases: BenchCase[] = [];
  const inputs = Array.from({ length: N }, (_, i) => record(i));

  const batched = await open();
  try {
    const append = await measure(`${kind}: append 10k in batches of ${BATCH}`, N, async () => {
      for (let i = 0; i < N; i += BATCH) await batched.audit.append(inputs.slice(i, i + BATCH));
    });
    const verify = await measure(`${kind}: verify 10k`, N, async () => {
      const v = await batched.audit.verify();
      if (!v.ok || v.records !== N) throw new Error(`verify failed: ${JSON.stringify(v)}`);
    });
    cases.push(append, verify, { name: `${kind}: batched append + verify`, n: N, ms: append.ms + verify.ms, rssMb: verify.rssMb, budgetMs: BUDGET[kind][0] });
    cases.push(
      await measure(`${kind}: export 10k as JSONL`, N, async () => {
        await exportJsonl(batched.audit, sink());
      }),
    );
    cases.push(
      await measure(`${kind}: prune 10k (verify, delete, sign checkpoint)`, N, async () => {
        const r = await batched.audit.prune(Infinity);
        if (r.removed !== N) throw new Error(`pruned ${r.removed}`);
      }),
    );
  } finally {
    await batched.close();
  }

  const single = await open();
  try {
    const append = await measure(`${kind}: append 10k one by one`, N, async () => {
      for (const input of inputs) await single.audit.append(input);
    });
    const verify = await measure(`${kind}: verify 10k`, N, async () => {
      const v = await single.audit.verify();
      if (!v.ok || v.records !== N) throw new Error(`verify failed: ${JSON.stringify(v)}`);
    });
    cases.push(append, { name: `${kind}: one-by-one append + verify`, n: N, ms: append.ms + verify.ms, rssMb: verify.rssMb, budgetMs: BUDGET[kind][1] });
  } finally {
    await single.close();
  }

  const concurrent = await open();
  try {
    const res = await concurrentSingles(concurrent, inputs);
    cases.push({ name: `${kind}: 10k single appends from ${TASKS} tasks at once (${res.groups} transactions)`, n: N, ms: res.ms, rssMb: process.memoryUsage().rss / 2 ** 20 });
  } finally {
    await concurrent.close();
  }
  return cases;
}

export async function run(): Promise<BenchSection> {
  const notes: string[] = [
    'Each transaction locks the chain head, inserts, re-signs the head (Ed25519) and commits; appends that arrive while one commits share the next (group commit), so one-by-one appends from a single task still take one transaction each.',
    'SQLite runs in WAL mode with synchronous=NORMAL (a killed process loses no committed record; power loss may lose the last commits — see docs/audit.md).',
    'PostgreSQL one-by-one appends are bound by the commit fsync and round trips (5 per append); batch where you can.',
  ];
  const cases: BenchCase[] = [];
  const goals: GoalRow[] = [];
  const loadAtStart = loadavg()[0]!;
  const dirs: string[] = [];
  const tmp = () => {
    const d = mkdtempSync(join(tmpdir(), 'km-bench-'));
    dirs.push(d);
    return d;
  };
  try {
    const row = await groupCommitRow('sqlite', () => openStore({ dataDir: tmp() }), cases);
    goals.push(row.goal);
    notes.push(...row.notes);
    cases.push(...(await dialectCases('sqlite', () => openStore({ dataDir: tmp() }))));
    // Each store gets its own scratch database, so each starts an empty chain.
    const drops: (() => Promise<void>)[] = [];
    try {
      const probe = await pgScratch();
      if (typeof probe === 'string') notes.push(probe);
      else {
        drops.push(probe.drop);
        const keyDir = tmp();
        let first: string | undefined = probe.url;
        cases.push(
          ...(await dialectCases('postgres', async () => {
            let url = first;
            first = undefined;
            if (!url) {
              const next = await pgScratch();
              if (typeof next === 'string') throw new Error(next);
              drops.push(next.drop);
              url = next.url;
            }
            return openStore({ dataDir: keyDir, db: url });
          })),
        );
      }
    } finally {
      for (const drop of drops) await drop();
    }
  } finally {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
  notes.push(`Load average (1 min) ${loadAtStart.toFixed(1)} at the start and ${loadavg()[0]!.toFixed(1)} at the end, on ${cpus().length} cores: other work on the machine slows every figure (the ratios less).`);
  return {
    title: 'Audit log (src/audit)',
    budget: `10k records appended in batches of ${BATCH} and verified: < ${BUDGET.sqlite[0] / 1000}s on SQLite, < ${BUDGET.postgres[0] / 1000}s on PostgreSQL; appended one by one and verified: < ${BUDGET.sqlite[1] / 1000}s on SQLite, < ${BUDGET.postgres[1] / 1000}s on PostgreSQL.`,
    cases,
    goals,
    notes,
  };
}
