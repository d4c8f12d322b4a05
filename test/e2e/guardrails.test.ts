// Issue 12, "warn before it happens", end to end on the sandbox with the
// shipped rules and runbooks and a real SQLite store: a production workload
// without a memory limit pages its owner at warning severity with a ready
// patch (staging stays informational); a production namespace without a
// LimitRange gets one proposed, nothing is applied until an approver agrees,
// a denial applies nothing, and a dry run only plans.
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
import { ScenarioSession, type ScenarioSessionOptions } from '../../src/pipeline/index.ts';
import { loadScenarioFile, resolveScenario } from '../../src/sandbox/scenarios/loader.ts';
import type { Detection } from '../../src/rules/index.ts';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const rules = loadRules(here('../../rules'));
const runbooks = loadRunbooks(here('../../runbooks'), { actions: ACTIONS });
const scenario = loadScenarioFile(here('../fixtures/scenarios/production-guardrails.yaml')).scenario;
const SERVICE = 'system:serviceaccount:kubemend:remediator';
const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

async function session(extra: Partial<ScenarioSessionOptions> = {}) {
  const store = await openStore({ dataDir: mkdtempSync(join(tmpdir(), 'km-guard-')) });
  const opened: Detection[] = [];
  const s = await ScenarioSession.start({
    scenario, rules, runbooks, store,
    approvers: (group, user) => group === 'sre-leads' && user === 'alice',
    sinks: [{ name: 'collect', onDetection: (d, change) => change === 'opened' && opened.push(structuredClone(d)) }],
    ...extra,
  });
  const ticks = async (n: number) => {
    for (let i = 0; i < n; i++) await s.tick();
  };
  const mutations = () => s.sandbox.api!.requestLog.filter((e) => MUTATING.has(e.method));
  const guardrailRun = async () => (await s.runs()).find((r) => r.runbook === 'limitrange-guardrail');
  return { s, store, opened, ticks, mutations, guardrailRun, stop: async () => { await s.stop(); await store.close(); } };
}

test('a production workload without a memory limit: a warning to its owner with the patch and a LimitRange; staging stays info; nothing changed', { timeout: 120_000 }, async () => {
  const t = await session();
  try {
    await t.ticks(20);
    const found = t.opened.filter((d) => d.subject.kind === 'Deployment').map((d) => `${d.rule} ${d.subject.namespace}/${d.subject.name} ${d.severity}`).sort();
    assert.deepEqual(found, ['pod-without-memory-limit staging/worker info', 'pod-without-memory-limit-in-production payments/worker warning']);
    const sent = t.s.remediation.notifications.sent.filter((n) => /memory limit/.test(n.title));
    assert.equal(sent.length, 1, JSON.stringify(sent.map((n) => n.title)));
    const n = sent[0];
    assert.equal(n.severity, 'warning');
    assert.equal(n.title, 'Deployment payments/worker runs without a memory limit in production');
    for (const part of [
      'owner: app.kubernetes.io/managed-by=helm (label on deployment), owner=payments-oncall@example.com (annotation on deployment), team=payments (label on namespace payments)',
      'container worker: memory request 512Mi, limit 512Mi',
      `kubectl -n payments patch deployment worker --type strategic -p '{"spec":{"template":{"spec":{"containers":[{"name":"worker","resources":{"requests":{"memory":"512Mi"},"limits":{"memory":"512Mi"}}}]}}}}'`,
      'Namespace payments has no LimitRange',
      'kind: LimitRange',
    ]) assert.ok(n.text.includes(part), `${part}\nin:\n${n.text}`);
    const warning = t.opened.find((d) => d.rule === 'pod-without-memory-limit-in-production')!;
    const audit = await t.store.audit.list({ action: 'notify.sent' });
    assert.ok(audit.some((a) => a.detectionId === warning.id && (a.data as any).severity === 'warning'), 'the page is in the audit log');
    assert.deepEqual(t.mutations(), [], 'warning and proposal change nothing');
    assert.deepEqual(t.s.remediation.approvals.list().map((p) => p.summary.split(':')[0]), ['LimitRange default-memory in namespace payments'], 'only the production namespace gets a proposal');
  } finally {
    await t.stop();
  }
});

test('the LimitRange guardrail: proposed, held until an approver agrees (not before, not by someone outside the group), then created as proposed', { timeout: 120_000 }, async () => {
  const t = await session();
  try {
    await t.ticks(5);
    const [pending] = t.s.remediation.approvals.list();
    assert.ok(pending, 'an approval is pending');
    assert.equal(pending.group, 'sre-leads');
    assert.match(pending.summary, /^LimitRange default-memory in namespace payments: containers without memory settings get request 256Mi, limit 512Mi \(no usage figures/);
    const run = (await t.guardrailRun())!;
    assert.equal(run.status, 'running');
    assert.deepEqual([run.target.kind, run.target.namespace, run.target.name], ['LimitRange', 'payments', 'default-memory']);
    const proposed = (run.outputs.propose as any).outputs.limitRange;
    // Nothing is applied while it waits, however long.
    await t.ticks(60);
    assert.deepEqual(t.s.sandbox.store.list('limitranges', 'payments').items, []);
    assert.deepEqual(t.mutations(), []);
    assert.deepEqual(t.s.remediation.approvals.decide(pending.id, 'mallory', 'approved'), { ok: false, reason: 'mallory is not in approver group sre-leads' });
    await t.ticks(2);
    assert.deepEqual(t.s.sandbox.store.list('limitranges', 'payments').items, []);

    assert.deepEqual(t.s.remediation.approvals.decide(pending.id, 'alice', 'approved'), { ok: true });
    for (let i = 0; i < 20 && (await t.guardrailRun())!.status === 'running'; i++) await t.ticks(1);
    const done = (await t.guardrailRun())!;
    assert.equal(done.status, 'succeeded');
    const made = t.s.sandbox.store.list('limitranges', 'payments').items;
    assert.equal(made.length, 1);
    assert.deepEqual(made[0].spec, proposed.spec, 'exactly what was approved');
    assert.deepEqual(t.mutations().map((m) => `${m.method} ${m.path} ${m.user}`), [`POST /api/v1/namespaces/payments/limitranges ${SERVICE}`]);
    const steps = (await t.store.transitions(done.id)).filter((x) => x.status === 'succeeded').map((x) => x.stepId);
    assert.deepEqual(steps, ['propose', 'approve', 'apply', 'notify']);
    assert.ok(t.s.remediation.notifications.sent.some((n) => n.title === 'LimitRange for namespace payments' && n.text.startsWith('Added LimitRange payments/default-memory, approved by alice')));
    // New pods in the namespace now get the defaults from the API server's LimitRanger.
    assert.deepEqual(t.s.sandbox.store.list('limitranges', 'staging').items, [], 'staging was never touched');
  } finally {
    await t.stop();
  }
});

test('a denied guardrail applies nothing, says so, and is recorded', { timeout: 120_000 }, async () => {
  const t = await session();
  try {
    await t.ticks(5);
    const [pending] = t.s.remediation.approvals.list();
    assert.deepEqual(t.s.remediation.approvals.decide(pending.id, 'alice', 'denied', 'quota review first'), { ok: true });
    for (let i = 0; i < 20 && (await t.guardrailRun())!.status === 'running'; i++) await t.ticks(1);
    const run = (await t.guardrailRun())!;
    assert.equal(run.status, 'succeeded', 'the runbook ran its denial path to its end');
    const ts = await t.store.transitions(run.id);
    assert.ok(ts.some((x) => x.stepId === 'approve' && x.status === 'failed' && /^APPROVAL_DENIED: alice denied/.test(x.error ?? '')), JSON.stringify(ts));
    assert.ok(!ts.some((x) => x.stepId === 'apply'), 'the apply step never started');
    assert.deepEqual(t.s.sandbox.store.list('limitranges', 'payments').items, []);
    assert.deepEqual(t.mutations(), []);
    const told = t.s.remediation.notifications.sent.find((n) => n.title === 'LimitRange for namespace payments not added');
    assert.ok(told && /alice denied: .*\(quota review first\)\. Proposed was:/.test(told.text), told?.text);
    await t.ticks(70);
    assert.equal((await t.s.runs()).filter((r) => r.runbook === 'limitrange-guardrail').length, 1, 'not asked again while the detection stays open');
  } finally {
    await t.stop();
  }
});

test('under --dry-run the guardrail plans the approval and the create, waits for nobody and changes nothing', { timeout: 120_000 }, async () => {
  const t = await session({ dryRun: true });
  try {
    await t.ticks(5);
    const run = (await t.guardrailRun())!;
    assert.equal(run.status, 'dry-run');
    assert.deepEqual(t.s.remediation.approvals.list(), []);
    const ts = (await t.store.transitions(run.id)).filter((x) => x.status === 'succeeded');
    assert.deepEqual(ts.map((x) => x.stepId), ['propose', 'approve', 'apply', 'notify']);
    const calls = ts.flatMap((x) => ((x.output as any)?.calls ?? []) as string[]);
    assert.ok(calls.some((c) => /^APPROVAL sre-leads: ask sre-leads to approve within 1800s: add a LimitRange to namespace payments/.test(c)), calls.join('\n'));
    assert.ok(calls.some((c) => /^POST \/api\/v1\/namespaces\/payments\/limitranges: create LimitRange payments\/default-memory: containers default to memory request 256Mi, limit 512Mi/.test(c)), calls.join('\n'));
    assert.deepEqual(t.mutations(), []);
    assert.deepEqual(t.s.sandbox.store.list('limitranges', 'payments').items, []);
  } finally {
    await t.stop();
  }
});

test('memory-cascade with the reports namespace marked production: the owner is warned, with a patch, before the first SystemOOM', { timeout: 180_000 }, async () => {
  const cascade = structuredClone(resolveScenario('memory-cascade').scenario);
  const reports = cascade.spec.steps.flatMap((s) => s.apply ?? []).find((o) => o.kind === 'Namespace' && o.metadata?.name === 'reports')!;
  reports.metadata!.labels = { 'kubemend.dev/environment': 'production' };
  const t = await session({ scenario: cascade });
  try {
    const warned = () => t.s.remediation.notifications.sent.find((n) => n.severity === 'warning' && n.title === 'Deployment reports/report-worker runs without a memory limit in production');
    const oom = () => t.s.sandbox.store.list('events').items.find((e) => e.reason === 'SystemOOM');
    while (!oom() && t.s.elapsedMs < 6 * 60_000) await t.ticks(1);
    const first = oom();
    assert.ok(first, 'the cascade still reaches SystemOOM');
    const n = warned();
    assert.ok(n, 'the page the team never got');
    assert.ok(n.time < Date.parse(first.lastTimestamp ?? first.metadata.creationTimestamp!), `warned at ${new Date(n.time).toISOString()}, SystemOOM at ${first.lastTimestamp}`);
    assert.match(n.text, /container worker: memory request 512Mi, limit 512Mi/);
    assert.match(n.text, /kubectl -n reports patch deployment report-worker --type strategic -p /);
  } finally {
    await t.stop();
  }
});
