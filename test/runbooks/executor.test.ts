// The executor's recovery rule: a mutating step that started but has no
// recorded outcome is re-checked against the cluster, never blindly repeated.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KubeConfig } from '@kubernetes/client-node';
import { openStore } from '../../src/store/index.ts';
import { KubeHttp } from '../../src/kube/http.ts';
import { Sandbox } from '../../src/sandbox/cluster.ts';
import { resolveScenario, ScenarioRunner, sandboxOptionsFor } from '../../src/sandbox/scenarios/index.ts';
import { loadRunbooks } from '../../src/runbooks/loader.ts';
import { ACTIONS } from '../../src/runbooks/actions/index.ts';
import type { RunRecord } from '../../src/store/types.ts';
import { buildRemediation, SERVICE_IDENTITY } from '../../src/pipeline/index.ts';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

async function crashlooping() {
  const { scenario } = resolveScenario('crashloop');
  const sandbox = new Sandbox(sandboxOptionsFor(scenario, { speed: 60 }));
  await sandbox.listen();
  const runner = new ScenarioRunner(sandbox, scenario).start();
  while (!runner.report().milestones.find((m) => m.name === 'crashloop')?.reachedAtMs) await new Promise((r) => setTimeout(r, 50));
  const kc = new KubeConfig();
  kc.loadFromString(sandbox.kubeconfig());
  return { sandbox, runner, kube: new KubeHttp(kc) };
}

test('a rollback that landed before the crash is recognised on resume and not repeated', { timeout: 60_000 }, async () => {
  const { sandbox, runner, kube } = await crashlooping();
  const store = await openStore({ dataDir: mkdtempSync(join(tmpdir(), 'km-exec-')) });
  try {
    const runbooks = loadRunbooks(here('../../runbooks'), { actions: ACTIONS });
    const now = sandbox.clock.now();
    const target = { cluster: 'sandbox', kind: 'Deployment', namespace: 'shop', name: 'checkout' };
    const run: RunRecord = { id: 'run-crashed', runbook: 'bad-deploy', cluster: 'sandbox', target, status: 'running', params: { smokeWindow: '5s', rolloutTimeout: '5m', channel: 'default' }, startedBy: { type: 'rule', name: 'crashloop-backoff' }, dryRun: false, createdAt: now, updatedAt: now, currentStep: 'rollback', outputs: { collect: { status: 'succeeded', outputs: {} } } };
    await store.createRun(run);
    await store.addTransition({ runId: run.id, stepId: 'rollback', attempt: 1, status: 'started', time: now, operationKey: 'run-crashed.rollback' });
    // The engine had sent the rollback just before it died.
    const rollback = ACTIONS.get('k8s.rollback')!;
    await rollback.run({ namespace: 'shop', name: 'checkout' }, { cluster: 'sandbox', kube, as: SERVICE_IDENTITY, dryRun: false, clock: sandbox.clock, signal: new AbortController().signal, target, runId: run.id, stepId: 'rollback', operationKey: 'run-crashed.rollback', notifier: { send: async () => {} }, approvals: { request: async () => ({ decision: 'timeout' }) }, log: () => {} });
    const patchesBefore = sandbox.api!.requestLog.filter((e) => e.method === 'PATCH').length;

    const rem = buildRemediation({ store, clock: sandbox.clock, runbooks, kube: () => kube });
    assert.deepEqual(await rem.executor.resumeInFlight(), { resumed: 1, abandoned: 0 });
    await rem.executor.idle();
    const done = (await store.getRun(run.id))!;
    assert.equal(done.status, 'succeeded');
    const ts = await store.transitions(run.id);
    const rb = ts.filter((t) => t.stepId === 'rollback');
    assert.deepEqual(rb.map((t) => t.status), ['started', 'succeeded']);
    assert.match(JSON.stringify(rb[1].output), /had landed before the restart/);
    assert.equal(sandbox.api!.requestLog.filter((e) => e.method === 'PATCH').length, patchesBefore, 'no second rollback was sent');
  } finally {
    runner.stop();
    await store.close();
    await sandbox.stop();
  }
});

test('a resumed run numbers a repeated step\'s attempts after the stored ones; a run started here begins at 1', { timeout: 60_000 }, async () => {
  const { sandbox, runner, kube } = await crashlooping();
  const store = await openStore({ dataDir: mkdtempSync(join(tmpdir(), 'km-exec-')) });
  try {
    const runbooks = loadRunbooks(here('../../runbooks'), { actions: ACTIONS });
    const now = sandbox.clock.now();
    const target = { cluster: 'sandbox', kind: 'Deployment', namespace: 'shop', name: 'checkout' };
    const params = { smokeWindow: '5s', rolloutTimeout: '5m', channel: 'default' };
    // Killed while collecting (a read, so it is run again): its attempt 1 is in the store.
    const run: RunRecord = { id: 'run-collecting', runbook: 'bad-deploy', cluster: 'sandbox', target, status: 'running', params, startedBy: { type: 'rule', name: 'crashloop-backoff' }, dryRun: false, createdAt: now, updatedAt: now, currentStep: 'collect', outputs: {} };
    await store.createRun(run);
    await store.addTransition({ runId: run.id, stepId: 'collect', attempt: 1, status: 'started', time: now, operationKey: 'run-collecting.collect' });
    const rem = buildRemediation({ store, clock: sandbox.clock, runbooks, kube: () => kube });
    assert.deepEqual(await rem.executor.resumeInFlight(), { resumed: 1, abandoned: 0 });
    await rem.executor.idle();
    // (How the attempt ends is the machine's business: its 1 m timeout is 1 s of real time at 60×.)
    const collect = (await store.transitions(run.id)).filter((t) => t.stepId === 'collect');
    assert.deepEqual(collect.map((t) => `${t.status === 'started' ? 'started' : 'ended'} ${t.attempt}`), ['started 1', 'started 2', 'ended 2']);
    // A new run of the same runbook on the same target starts every step at attempt 1.
    const res = await rem.executor.trigger({ runbook: 'bad-deploy', params, target, startedBy: { type: 'user', name: 'alice' } });
    assert.ok('run' in res && res.run && !('refused' in res), JSON.stringify(res));
    await rem.executor.idle();
    const fresh = await store.transitions(res.run.id);
    assert.ok(fresh.length > 0);
    // Each step's attempts count from 1 (a retried step goes on 2, 3 …).
    const steps = new Map<string, number[]>();
    for (const t of fresh) if (t.status === 'started' || t.status === 'skipped') steps.set(t.stepId, [...(steps.get(t.stepId) ?? []), t.attempt]);
    for (const [step, attempts] of steps) assert.deepEqual(attempts, attempts.map((_, i) => i + 1), `${step}: ${JSON.stringify(fresh.map((t) => `${t.stepId} ${t.status} ${t.attempt}`))}`);
  } finally {
    runner.stop();
    await store.close();
    await sandbox.stop();
  }
});
