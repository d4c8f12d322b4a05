// Budgets count what was done to this cluster: runs recorded on another
// cluster of the same name (another kube-system uid: a rebuilt cluster, a
// fresh sandbox replay into the same store) spent that cluster's budget.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore, type RunRecord } from '../../src/store/index.ts';
import { Budgets, PAUSED, RESUMED } from '../../src/runbooks/budgets.ts';
import { ManualClock } from '../../src/common/index.ts';

const target = { cluster: 'prod', kind: 'Deployment', namespace: 'shop', name: 'web' };

async function recordRun(store: Awaited<ReturnType<typeof openStore>>, id: string, clusterUid: string | undefined, status: RunRecord['status'], at: number) {
  await store.createRun({ id, runbook: 'restart', cluster: 'prod', ...(clusterUid ? { clusterUid } : {}), target, status, params: {}, startedBy: { type: 'rule', name: 'r' }, dryRun: false, createdAt: at, updatedAt: at, outputs: {} });
  await store.addTransition({ runId: id, stepId: 'restart', attempt: 1, status: 'succeeded', time: at });
}

test('actions and failures recorded on another incarnation of the cluster do not count', { timeout: 30_000 }, async () => {
  const clock = new ManualClock(Date.parse('2026-01-01T00:00:00Z'));
  const store = await openStore({ dataDir: mkdtempSync(join(tmpdir(), 'km-budgets-')), clock });
  try {
    const now = clock.now();
    for (let i = 0; i < 3; i++) await recordRun(store, `old-${i}`, 'uid-old', 'escalated', now - 60_000 * (i + 1));
    await recordRun(store, 'mine', 'uid-new', 'succeeded', now - 30_000);
    const b = new Budgets(store);
    const mutating = () => true;
    const actionOf = () => 'k8s.rolloutRestart';
    assert.equal(await b.actionsInLastHour(target, now, mutating, actionOf, 'uid-new'), 1, 'only this cluster\'s action counts');
    assert.equal(await b.actionsInLastHour(target, now, mutating, actionOf, 'uid-old'), 3);
    assert.equal(await b.actionsInLastHour(target, now, mutating, actionOf), 4, 'without a known uid everything counts');
    assert.equal(await b.admit('restart', target, now, { clusterUid: 'uid-new' }), undefined, "the old cluster's failures do not escalate this one");
    assert.equal((await b.admit('restart', target, now, { clusterUid: 'uid-old' }))?.kind, 'repeated-failures');
  } finally {
    await store.close();
  }
});

test('read-only runs neither lock nor count; only mutating steps spend the hourly budget', { timeout: 30_000 }, async () => {
  const clock = new ManualClock(Date.parse('2026-01-01T00:00:00Z'));
  const store = await openStore({ dataDir: mkdtempSync(join(tmpdir(), 'km-budgets-')), clock });
  try {
    const now = clock.now();
    const put = (id: string, runbook: string, t: typeof target, status: RunRecord['status'], dryRun = false) =>
      store.createRun({ id, runbook, cluster: 'prod', target: t, status, params: {}, startedBy: { type: 'rule', name: 'r' }, dryRun, createdAt: now - 60_000, updatedAt: now - 60_000, outputs: {} });
    await put('warn', 'notify-only', target, 'running');
    await put('other-1', 'restart', { ...target, name: 'api' }, 'running');
    await put('dry', 'restart', { ...target, name: 'db' }, 'running', true);
    const b = new Budgets(store, { concurrentPerNamespace: 2 });
    const isReadOnly = (rb: string) => rb === 'notify-only';
    assert.equal(await b.admit('restart', target, now, { isReadOnly }), undefined, 'the read-only run and the dry run take no place');
    assert.equal((await b.admit('restart', target, now))?.kind, 'locked', 'without the runbooks\' word, the run on the target holds it');
    await put('other-2', 'restart', { ...target, name: 'cart' }, 'running');
    assert.deepEqual(await b.admit('restart', target, now, { isReadOnly }), { kind: 'concurrency', scope: 'namespace', limit: 2 });
    assert.equal(await b.admit('restart', target, now, { isReadOnly, selfId: 'other-2' }), undefined, 'a run does not count against itself');

    for (const [step, time] of [['check', now - 1_000], ['restart', now - 2_000], ['restart', now - 2 * 3_600_000]] as const) {
      await store.addTransition({ runId: 'warn', stepId: step, attempt: 1, status: 'succeeded', time });
    }
    await store.addTransition({ runId: 'dry', stepId: 'restart', attempt: 1, status: 'succeeded', time: now - 1_000 });
    const actionOf = (rb: string, step: string) => (rb === 'notify-only' ? { check: 'k8s.get', restart: 'k8s.rolloutRestart' }[step] : undefined);
    assert.equal(await b.actionsInLastHour(target, now, (a) => a === 'k8s.rolloutRestart', actionOf), 1, 'one mutating step within the hour');
  } finally {
    await store.close();
  }
});

test('a refusal names the first reason that holds, in a fixed order: pause, lock, concurrency, repeated failures', { timeout: 30_000 }, async () => {
  const clock = new ManualClock(Date.parse('2026-01-01T00:00:00Z'));
  const store = await openStore({ dataDir: mkdtempSync(join(tmpdir(), 'km-budgets-')), clock });
  try {
    const now = clock.now();
    // Every reason at once: three escalations on the target, a run holding it, and another in the namespace.
    for (let i = 0; i < 3; i++) await recordRun(store, `failed-${i}`, undefined, 'escalated', now - 60_000 * (i + 1));
    await recordRun(store, 'holder', undefined, 'running', now - 1_000);
    await store.createRun({ id: 'neighbour', runbook: 'restart', cluster: 'prod', target: { ...target, name: 'api' }, status: 'running', params: {}, startedBy: { type: 'rule', name: 'r' }, dryRun: false, createdAt: now, updatedAt: now, outputs: {} });
    const b = new Budgets(store, { concurrentPerNamespace: 1 });
    b.paused = true;
    assert.equal((await b.admit('restart', target, now))?.kind, 'paused');
    b.paused = false;
    assert.deepEqual(await b.admit('restart', target, now), { kind: 'locked', runId: 'holder' });
    assert.deepEqual(await b.admit('restart', target, now, { selfId: 'holder' }), { kind: 'concurrency', scope: 'namespace', limit: 1 }, 'the holder aside, its neighbour fills the namespace');
    assert.deepEqual(await b.admit('restart', target, now, { readOnly: true }), { kind: 'repeated-failures', failures: 3, limit: 3 }, 'a read-only run skips lock and concurrency, not the failures');
  } finally {
    await store.close();
  }
});

test('the global pause is the newest of the pause and resume records, however many came before', { timeout: 30_000 }, async () => {
  const clock = new ManualClock(Date.parse('2026-01-01T00:00:00Z'));
  const store = await openStore({ dataDir: mkdtempSync(join(tmpdir(), 'km-budgets-')), clock });
  try {
    const b = new Budgets(store);
    const record = (action: string, by: string, justification?: string) => store.audit.append({ actor: { type: 'user', name: by }, action, outcome: 'success', ...(justification ? { justification } : {}) });
    assert.equal(await b.pauseState(), undefined, 'never paused');
    await record(PAUSED, 'bob', 'INC-9 freeze');
    await record('runbook.run.started', 'kubemend');
    assert.deepEqual(await b.pauseState(), { by: 'bob', reason: 'INC-9 freeze' }, 'a later record of another kind does not end the pause');
    await record(RESUMED, 'bob');
    assert.equal(await b.pauseState(), undefined);
    await record(PAUSED, 'alice', 'INC-10 freeze');
    assert.deepEqual(await b.pauseState(), { by: 'alice', reason: 'INC-10 freeze' }, 'paused again: the newest pause, not the first');
    await record(RESUMED, 'alice');
    assert.equal(await b.pauseState(), undefined, 'resumed again');
    assert.deepEqual(await store.audit.list({ actions: [], order: 'desc' }), [], 'an empty list of actions matches nothing');
  } finally {
    await store.close();
  }
});
