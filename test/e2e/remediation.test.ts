// Issue 6's acceptance, end to end on the sandbox: the shipped rules and
// runbooks, a real SQLite store, actions over HTTP as the service identity.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openStore } from '../../src/store/index.ts';
import { loadRules } from '../../src/rules/loader.ts';
import { loadRunbooks } from '../../src/runbooks/loader.ts';
import { ACTIONS } from '../../src/runbooks/actions/index.ts';
import { ScenarioSession as RemediationSession, type ScenarioSessionOptions as RemediationSessionOptions } from '../../src/pipeline/index.ts';
import { resolveScenario } from '../../src/sandbox/scenarios/index.ts';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const rules = loadRules(here('../../rules'));
const runbooks = loadRunbooks(here('../../runbooks'), { actions: ACTIONS });

async function session(name: string, extra: Partial<RemediationSessionOptions> = {}) {
  const store = await openStore({ dataDir: mkdtempSync(join(tmpdir(), 'km-e2e-')) });
  const s = await RemediationSession.start({ scenario: resolveScenario(name).scenario, rules, runbooks, store, ...extra });
  return { s, store };
}

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

test('crashloop: the bad deploy is rolled back, the cluster ends healthy on the previous image, every step recorded', { timeout: 120_000 }, async () => {
  const { s, store } = await session('crashloop');
  try {
    await s.runToEnd();
    const dep = s.sandbox.store.get('apps/deployments', 'shop', 'checkout')!;
    assert.equal(dep.spec.template.spec.containers[0].image, 'shop/checkout:1.4.2');
    assert.equal(dep.status.availableReplicas, 3);
    assert.equal(dep.status.updatedReplicas, 3);
    const runs = (await store.listRuns({})).filter((r) => r.runbook === 'bad-deploy');
    assert.equal(runs.length, 1, JSON.stringify(runs.map((r) => r.status)));
    assert.equal(runs[0].status, 'succeeded');
    const steps = (await store.transitions(runs[0].id)).filter((t) => t.status === 'succeeded').map((t) => t.stepId);
    assert.deepEqual(steps, ['collect', 'rollback', 'waitRollout', 'smokeCheck', 'notify']);
    // Every mutation went out impersonating the service identity.
    const muts = s.sandbox.api!.requestLog.filter((e) => MUTATING.has(e.method));
    assert.ok(muts.length > 0);
    assert.ok(muts.every((e) => e.user === 'system:serviceaccount:kubemend:remediator'), JSON.stringify(muts.map((e) => e.user)));
    const v = await store.audit.verify();
    assert.ok(v.ok);
    const audit = await store.audit.list({ runId: runs[0].id });
    assert.ok(audit.some((a) => a.action === 'runbook.step.succeeded' && a.detectionId === runs[0].detectionId));
  } finally {
    await s.stop();
    await store.close();
  }
});

test('crashloop with a refusing API: the rollback fails, the run follows the failure edge and stops mutating', { timeout: 120_000 }, async () => {
  const { s, store } = await session('crashloop');
  try {
    // Every patch of a Deployment is refused as invalid (not retryable).
    s.sandbox.faults.add({ verb: 'patch', resource: 'apps/deployments', code: 422, message: 'admission webhook "policy.example.com" denied the request' });
    await s.runToEnd();
    const runs = (await store.listRuns({})).filter((r) => r.runbook === 'bad-deploy');
    assert.ok(runs.length >= 1);
    const first = runs[0];
    assert.equal(first.status, 'escalated');
    const ts = await store.transitions(first.id);
    assert.ok(ts.some((t) => t.stepId === 'rollback' && t.status === 'failed'));
    assert.ok(!ts.some((t) => t.stepId === 'waitRollout' || t.stepId === 'smokeCheck'), 'no step after the failed rollback ran');
    // The refused patch is the only mutation attempted; nothing else was changed.
    const muts = s.sandbox.api!.requestLog.filter((e) => MUTATING.has(e.method));
    assert.ok(muts.length > 0 && muts.every((e) => e.method === 'PATCH' && e.code === 422), JSON.stringify(muts.map((e) => `${e.method} ${e.path} ${e.code}`)));
    assert.ok(s.remediation.notifications.sent.some((n) => /Escalation: bad-deploy/.test(n.title)));
    const dep = s.sandbox.store.get('apps/deployments', 'shop', 'checkout')!;
    assert.equal(dep.spec.template.spec.containers[0].image, 'shop/checkout:1.5.0', 'still the bad version: humans take over');
  } finally {
    await s.stop();
    await store.close();
  }
});

test('--dry-run plans every step and leaves the sandbox without a single mutation', { timeout: 120_000 }, async () => {
  // A short cool-down: without the dry-run rule the still-firing detection would be planned again and again.
  const { s, store } = await session('crashloop', { dryRun: true, retriggerAfterMs: 30_000 });
  try {
    await s.runToEnd();
    const counts = s.sandbox.api!.requestCounts();
    const mutations = Object.entries(counts).filter(([k]) => /^(create|update|patch|delete|deletecollection) /.test(k));
    assert.deepEqual(mutations, []);
    const runs = (await store.listRuns({})).filter((r) => r.runbook === 'bad-deploy');
    assert.equal(runs.length, 1, 'one detection is planned once, not again after every cool-down');
    assert.ok(runs.every((r) => r.dryRun));
    const ts = await store.transitions(runs[0].id);
    const rollback = ts.find((t) => t.stepId === 'rollback' && t.status === 'succeeded');
    assert.ok(rollback, 'the rollback was planned');
    assert.match(JSON.stringify(rollback.output), /PATCH \/apis\/apps\/v1\/namespaces\/shop\/deployments\/checkout/);
  } finally {
    await s.stop();
    await store.close();
  }
});

test('the global pause switch refuses runs, audited with who paused and why', { timeout: 120_000 }, async () => {
  const { s, store } = await session('crashloop');
  try {
    await store.audit.append({ actor: { type: 'user', name: 'alice' }, action: 'remediation.paused', justification: 'INC-7: freeze during the incident', outcome: 'success' });
    await s.runToEnd();
    assert.deepEqual(await store.listRuns({}), []);
    const refused = await store.audit.list({ action: 'runbook.run.refused' });
    assert.ok(refused.length >= 1);
    assert.match(String(refused[0].data?.reason), /remediation is paused by alice: INC-7/);
    const muts = s.sandbox.api!.requestLog.filter((e) => MUTATING.has(e.method));
    assert.deepEqual(muts, []);
  } finally {
    await s.stop();
    await store.close();
  }
});
