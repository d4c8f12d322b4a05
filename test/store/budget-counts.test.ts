// The budgets' indexed counts (runs-budget-sql.ts) against SQLite and
// PostgreSQL: each condition on its own (a count that ignored one would count
// a run here that differs in only that), the same answers as filtering every
// run in JavaScript (the code path they replaced) over varied runs, and runs
// stored before migration 7 backfilled into the new columns.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../src/common/index.ts';
import type { AuditTarget } from '../../src/audit/index.ts';
import { ACTIVE_RUN_STATUSES, MIGRATIONS, migrate, type RunRecord, type RunStatus, type SqlStore } from '../../src/store/index.ts';
import { SqliteDb } from '../../src/store/sqlite.ts';
import { PostgresDb } from '../../src/store/postgres.ts';
import { sameIncarnation, sameTarget } from '../../src/runbooks/budgets.ts';
import { forEachDialect } from '../audit/helpers.ts';
import { join } from 'node:path';

const T0 = Date.UTC(2026, 0, 1);
const HOUR = 3_600_000;
const TARGET: AuditTarget = { cluster: 'prod', kind: 'Deployment', namespace: 'shop', name: 'web' };

let seq = 0;
function run(over: Partial<RunRecord> = {}): RunRecord {
  return {
    id: `r${++seq}`,
    runbook: 'restart',
    cluster: over.target?.cluster ?? 'prod',
    target: TARGET,
    status: 'running',
    params: {},
    startedBy: { type: 'rule', name: 'crashloop' },
    dryRun: false,
    createdAt: T0 - 60_000,
    updatedAt: T0 - 60_000,
    outputs: {},
    ...over,
  };
}

async function put(store: SqlStore, r: RunRecord, steps: { stepId: string; time: number; status?: 'succeeded' | 'failed' }[] = []): Promise<void> {
  await store.createRun(r);
  for (const s of steps) await store.addTransition({ runId: r.id, stepId: s.stepId, attempt: 1, status: s.status ?? 'succeeded', time: s.time });
}

/** What admit and actionsInLastHour computed before, over every stored run. */
async function oracle(store: SqlStore, q: { runbook: string; target: AuditTarget; since: number; clusterUid?: string; excludeId?: string }) {
  const all = await store.listRuns();
  const active = all.filter((r) => ACTIVE_RUN_STATUSES.includes(r.status) && !r.dryRun && r.id !== q.excludeId);
  const holders = active.filter((r) => sameTarget(r.target, q.target)).map((r) => ({ id: r.id, runbook: r.runbook }));
  const perRunbook = new Map<string, { runbook: string; inCluster: number; inNamespace: number }>();
  for (const r of active.filter((x) => x.target.cluster === q.target.cluster)) {
    const c = perRunbook.get(r.runbook) ?? { runbook: r.runbook, inCluster: 0, inNamespace: 0 };
    c.inCluster++;
    if ((r.target.namespace ?? '') === (q.target.namespace ?? '')) c.inNamespace++;
    perRunbook.set(r.runbook, c);
  }
  const failed = all.filter((r) => r.runbook === q.runbook && r.createdAt >= q.since && !r.dryRun && sameTarget(r.target, q.target) && sameIncarnation(r, q.clusterUid) && (r.status === 'failed' || r.status === 'escalated')).length;
  const steps = new Map<string, number>();
  for (const r of all.filter((x) => x.createdAt >= q.since && !x.dryRun && sameTarget(x.target, q.target) && sameIncarnation(x, q.clusterUid))) {
    for (const t of await store.transitions(r.id)) if (t.status === 'succeeded' && t.time >= q.since) steps.set(`${r.runbook}\0${t.stepId}`, (steps.get(`${r.runbook}\0${t.stepId}`) ?? 0) + 1);
  }
  return {
    holders,
    counts: [...perRunbook.values()].sort((a, b) => a.runbook.localeCompare(b.runbook)),
    failed,
    steps: [...steps].map(([k, n]) => ({ runbook: k.split('\0')[0]!, stepId: k.split('\0')[1]!, n })).sort((a, b) => `${a.runbook}\0${a.stepId}`.localeCompare(`${b.runbook}\0${b.stepId}`)),
  };
}

async function answers(store: SqlStore, q: { runbook: string; target: AuditTarget; since: number; clusterUid?: string; excludeId?: string }) {
  return {
    holders: await store.activeRunsOn(q.target, { excludeId: q.excludeId }),
    counts: await store.activeRunCounts({ cluster: q.target.cluster, namespace: q.target.namespace, excludeId: q.excludeId }),
    failed: await store.countFailedRuns(q),
    steps: await store.succeededSteps(q),
  };
}

forEachDialect((env) => {
  it('counts only what matches every condition', { timeout: 60_000 }, async () => {
    const { store } = await env.store();
    const since = T0 - HOUR;
    const step = [{ stepId: 'restart', time: T0 - 30_000 }];
    // One run of each kind that counts …
    await put(store, run({ id: 'holder', status: 'running', clusterUid: 'uid-a' }), step);
    await put(store, run({ id: 'failed', status: 'failed', clusterUid: 'uid-a' }), step);
    await put(store, run({ id: 'escalated', status: 'escalated' }), step);
    await put(store, run({ id: 'neighbour', status: 'running', target: { ...TARGET, name: 'api' } }));
    // … and runs that differ from one of those in one condition only.
    const otherTargets: AuditTarget[] = [
      { ...TARGET, name: 'web-2' },
      { ...TARGET, kind: 'StatefulSet' },
      { ...TARGET, cluster: 'staging' },
      { cluster: 'prod', kind: 'Deployment', name: 'web' },
    ];
    for (const t of otherTargets) await put(store, run({ status: 'failed', target: t }), step);
    await put(store, run({ id: 'dry', status: 'failed', dryRun: true }), step);
    await put(store, run({ id: 'dry-active', status: 'running', dryRun: true, target: { ...TARGET, name: 'dry' } }), step);
    await put(store, run({ status: 'failed', runbook: 'scale' }));
    await put(store, run({ status: 'succeeded' }), [{ stepId: 'restart', time: T0 - 20_000, status: 'failed' }]);
    await put(store, run({ status: 'failed', createdAt: since - 1, updatedAt: since - 1 }), [{ stepId: 'restart', time: T0 - 10_000 }]);
    await put(store, run({ status: 'failed', clusterUid: 'uid-b' }), step);
    await put(store, run({ status: 'succeeded' }), [{ stepId: 'restart', time: since - 1 }]);

    const holders = await store.activeRunsOn(TARGET);
    assert.deepEqual(holders, [{ id: 'holder', runbook: 'restart' }], 'the dry run and another target hold nothing');
    assert.deepEqual(await store.activeRunsOn(TARGET, { excludeId: 'holder' }), []);
    assert.deepEqual(await store.activeRunCounts({ cluster: 'prod', namespace: 'shop' }), [{ runbook: 'restart', inCluster: 2, inNamespace: 2 }]);
    assert.deepEqual(await store.activeRunCounts({ cluster: 'prod', namespace: 'other' }), [{ runbook: 'restart', inCluster: 2, inNamespace: 0 }]);
    assert.deepEqual(await store.activeRunCounts({ cluster: 'prod', namespace: 'shop', excludeId: 'holder' }), [{ runbook: 'restart', inCluster: 1, inNamespace: 1 }]);
    assert.deepEqual(await store.activeRunCounts({ cluster: 'staging', namespace: 'shop' }), []);
    assert.equal(await store.countFailedRuns({ runbook: 'restart', target: TARGET, since, clusterUid: 'uid-a' }), 2, 'failed (uid-a) and escalated (no uid)');
    assert.equal(await store.countFailedRuns({ runbook: 'restart', target: TARGET, since }), 3, 'without a uid, every incarnation');
    assert.equal(await store.countFailedRuns({ runbook: 'restart', target: { ...TARGET, namespace: '' }, since }), 1, 'an absent namespace is the empty one');
    assert.deepEqual(await store.succeededSteps({ target: TARGET, since, clusterUid: 'uid-a' }), [{ runbook: 'restart', stepId: 'restart', n: 3 }]);
    assert.deepEqual(await store.succeededSteps({ target: TARGET, since }), [{ runbook: 'restart', stepId: 'restart', n: 4 }]);
    // A run's patches keep its columns: a dry run stays out after an update.
    await store.updateRun('dry-active', { status: 'waiting-approval' });
    assert.deepEqual(await store.activeRunsOn({ ...TARGET, name: 'dry' }), []);
    await store.updateRun('holder', { status: 'succeeded' });
    assert.deepEqual(await store.activeRunsOn(TARGET), []);
  });

  it('agrees with filtering every run in JavaScript', { timeout: 120_000 }, async () => {
    const { store } = await env.store();
    // A small deterministic generator: the same varied runs in both dialects.
    let x = 42;
    const pick = <T>(xs: readonly T[]): T => xs[(x = (x * 1103515245 + 12345) % 2 ** 31) % xs.length]!;
    const targets: AuditTarget[] = [TARGET, { ...TARGET, name: 'api' }, { ...TARGET, namespace: 'pay' }, { cluster: 'prod', kind: 'Deployment', name: 'web' }, { ...TARGET, cluster: 'staging' }, { kind: 'Deployment', namespace: 'shop', name: 'web' }];
    const statuses: RunStatus[] = ['pending', 'running', 'waiting-approval', 'succeeded', 'failed', 'escalated', 'cancelled', 'dry-run'];
    for (let i = 0; i < 150; i++) {
      const at = T0 - pick([10, 30, 50, 70, 90]) * 60_000;
      const uid = pick([undefined, 'uid-a', 'uid-b', '']);
      const r = run({ runbook: pick(['restart', 'scale']), target: pick(targets), status: pick(statuses), dryRun: pick([false, false, false, true]), createdAt: at, updatedAt: at, ...(uid === undefined ? {} : { clusterUid: uid }) });
      await put(store, r, Array.from({ length: pick([0, 1, 2]) }, () => ({ stepId: pick(['check', 'restart']), time: at + pick([-5, 5, 20]) * 60_000, status: pick(['succeeded', 'succeeded', 'failed'] as const) })));
    }
    for (const target of targets) {
      for (const clusterUid of [undefined, 'uid-a']) {
        const q = { runbook: 'restart', target, since: T0 - HOUR, clusterUid, excludeId: 'r3' };
        assert.deepEqual(await answers(store, q), await oracle(store, q), JSON.stringify({ target, clusterUid }));
      }
    }
  });

  it('fills the columns of runs stored before migration 7', { timeout: 60_000 }, async () => {
    const place = await env.place();
    const db = env.name === 'postgres' ? await PostgresDb.connect(place.db!) : new SqliteDb(join(place.dataDir, 'kubemend.db'));
    const old = [
      run({ id: 'old-failed', status: 'failed', target: { cluster: 'prod', kind: 'Deployment', name: 'web' }, clusterUid: '' }),
      run({ id: 'old-dry', status: 'failed', dryRun: true }),
      run({ id: 'old-uid', status: 'escalated', clusterUid: 'uid-b' }),
      run({ id: 'old-active', status: 'running', target: { ...TARGET, cluster: undefined } }),
    ];
    try {
      await migrate(db, new ManualClock(T0), MIGRATIONS.filter((m) => m.version < 7));
      for (const r of old) {
        await db.exec('INSERT INTO runs (id, runbook, status, created_at, updated_at, doc) VALUES (?, ?, ?, ?, ?, ?)', [r.id, r.runbook, r.status, r.createdAt, r.updatedAt, JSON.stringify(r)]);
      }
    } finally {
      await db.close();
    }
    const store = await place.open();
    const since = T0 - HOUR;
    assert.equal(await store.countFailedRuns({ runbook: 'restart', target: { cluster: 'prod', kind: 'Deployment', name: 'web' }, since, clusterUid: 'uid-a' }), 1, 'no namespace and an empty uid');
    assert.equal(await store.countFailedRuns({ runbook: 'restart', target: TARGET, since, clusterUid: 'uid-a' }), 0, 'the dry run and the other incarnation');
    assert.equal(await store.countFailedRuns({ runbook: 'restart', target: TARGET, since }), 1);
    assert.deepEqual(await store.activeRunsOn({ ...TARGET, cluster: undefined }), [{ id: 'old-active', runbook: 'restart' }], 'an absent cluster stays absent');
    assert.deepEqual(await store.activeRunsOn({ ...TARGET, cluster: '' }), []);
  });
});
