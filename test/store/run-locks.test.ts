// What keeps two kubemend processes on one database from acting twice, on
// SQLite and PostgreSQL: the per-target lock is decided by the database
// (two connections racing for one target: exactly one run is created), it
// is released when the run ends, and a write made under a leader term is
// refused once another term has adopted the run (the fencing check).
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { KubemendError } from '../../src/common/errors.ts';
import { TargetLockedError, type Fence, type RunRecord } from '../../src/store/index.ts';
import { forEachDialect } from '../audit/helpers.ts';

const T0 = Date.UTC(2026, 0, 1);
const KEY = 'prod/Deployment/shop/checkout';

function run(id: string, over: Partial<RunRecord> = {}): RunRecord {
  return {
    id,
    runbook: 'bad-deploy',
    cluster: 'prod',
    target: { cluster: 'prod', namespace: 'shop', kind: 'Deployment', name: 'checkout' },
    status: 'running',
    params: {},
    startedBy: { type: 'rule', name: 'crashloop' },
    dryRun: false,
    createdAt: T0,
    updatedAt: T0,
    currentStep: 'rollback',
    outputs: {},
    lockKey: KEY,
    ...over,
  };
}

const code = (c: string) => (e: unknown) => e instanceof KubemendError && e.code === c;

forEachDialect((env) => {
  it('two connections racing for one target: the database lets exactly one run hold it (KM-STORE-006 names the holder)', async () => {
    const { store: one, place } = await env.store();
    const two = await place.open();
    for (let round = 0; round < 20; round++) {
      const key = `${KEY}-${round}`;
      const results = await Promise.allSettled([one.createRun(run(`a${round}`, { lockKey: key })), two.createRun(run(`b${round}`, { lockKey: key }))]);
      const won = results.filter((r) => r.status === 'fulfilled');
      assert.equal(won.length, 1, `round ${round}: ${results.map((r) => r.status).join(', ')}`);
      const lost = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
      assert.ok(lost.reason instanceof TargetLockedError && lost.reason.code === 'KM-STORE-006', String(lost.reason));
      const winner = results[0].status === 'fulfilled' ? `a${round}` : `b${round}`;
      assert.equal(lost.reason.holder, winner);
      assert.match(lost.reason.message, new RegExp(`another run \\(${winner}\\) is already acting on ${key}`));
    }
    const runs = await one.listRuns({});
    assert.equal(runs.length, 20, 'one run per target');
  });

  it('the lock is held while the run is active and released when it ends; dry runs and runs without a key take none', async () => {
    const { store } = await env.store();
    await store.createRun(run('r1', { status: 'pending' }));
    await assert.rejects(store.createRun(run('r2')), code('KM-STORE-006'));
    await store.updateRun('r1', { status: 'waiting-approval' });
    await assert.rejects(store.createRun(run('r2')), code('KM-STORE-006'), 'waiting for approval still holds it');
    await store.createRun(run('dry', { dryRun: true }));
    await store.createRun(run('reader', { lockKey: undefined }));
    await store.updateRun('r1', { status: 'succeeded', currentStep: null });
    await store.createRun(run('r2'));
    await store.updateRun('r2', { status: 'abandoned' });
    await store.createRun(run('r3'));
    assert.deepEqual((await store.listRuns({ status: ['running', 'pending'] })).map((r) => r.id).sort(), ['dry', 'r3', 'reader']);
  });

  it('fencing: after another term adopts a run, the old term can neither patch it nor record a step', async () => {
    const { store } = await env.store();
    const a: Fence = { holder: 'pod-a_1', term: 3 };
    const b: Fence = { holder: 'pod-b_2', term: 4 };
    await store.createRun(run('r1', { fence: a }));
    await store.updateRun('r1', { currentStep: 'smokeCheck' }, { fence: a });
    await store.addTransition({ runId: 'r1', stepId: 'rollback', attempt: 1, status: 'started', time: T0 }, { fence: a });

    const adopted = await store.adoptRun('r1', a, b);
    assert.deepEqual(adopted?.fence, b);
    assert.equal(adopted?.currentStep, 'smokeCheck');
    await assert.rejects(store.updateRun('r1', { currentStep: 'notify' }, { fence: a }), (e: unknown) => code('KM-STORE-007')(e) && /driven by pod-b_2 \(term 4\), not by pod-a_1 \(term 3\)/.test((e as Error).message));
    await assert.rejects(store.addTransition({ runId: 'r1', stepId: 'rollback', attempt: 1, status: 'succeeded', time: T0 }, { fence: a }), code('KM-STORE-007'));
    await assert.rejects(store.addTransition({ runId: 'r1', stepId: 'rollback', attempt: 1, status: 'succeeded', time: T0 }, { fence: { holder: 'pod-a_1', term: 4 } }), code('KM-STORE-007'), 'the holder must match too');
    assert.deepEqual((await store.transitions('r1')).map((t) => t.status), ['started'], 'the refused transitions were not written');
    assert.equal((await store.getRun('r1'))?.currentStep, 'smokeCheck');

    await store.addTransition({ runId: 'r1', stepId: 'rollback', attempt: 1, status: 'succeeded', time: T0 }, { fence: b });
    await store.updateRun('r1', { status: 'succeeded', currentStep: null }, { fence: b });
    assert.equal(await store.adoptRun('r1', b, { holder: 'pod-c', term: 5 }), undefined, 'an ended run is not adopted');
  });

  it('adoption is compare-and-set: of two terms adopting the same run from the same fence, one wins', async () => {
    const { store: one, place } = await env.store();
    // Two SQLite connections in one process would block its event loop on each other's transactions (the busy wait is synchronous); separate processes do not.
    const two = env.name === 'sqlite' ? one : await place.open();
    for (let i = 0; i < 10; i++) {
      await one.createRun(run(`q${i}`, { status: 'pending', lockKey: `${KEY}-${i}` }));
      const got = await Promise.all([one.adoptRun(`q${i}`, undefined, { holder: 'x', term: i }, { status: 'running' }), two.adoptRun(`q${i}`, undefined, { holder: 'y', term: i }, { status: 'running' })]);
      assert.equal(got.filter(Boolean).length, 1, `run q${i}`);
      const stored = await one.getRun(`q${i}`);
      assert.deepEqual(stored?.fence, got.find(Boolean)?.fence);
      assert.equal(stored?.status, 'running');
    }
  });

  it('relays signals in order and forgets them once taken', async () => {
    const { store } = await env.store();
    await store.relaySignal(T0, { source: 'alert', n: 1 });
    await store.relaySignal(T0 + 1, { source: 'webhook', n: 2 });
    const got = await store.relayedSignals(0);
    assert.deepEqual(got.map((r) => r.signal), [{ source: 'alert', n: 1 }, { source: 'webhook', n: 2 }]);
    assert.deepEqual(await store.relayedSignals(got[0].seq).then((r) => r.map((x) => x.time)), [T0 + 1]);
    await store.dropRelayedSignals(got[0].seq);
    assert.equal((await store.relayedSignals(0)).length, 1);
  });
});
