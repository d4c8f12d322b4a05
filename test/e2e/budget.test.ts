// event-storm: a remediation that does not fix the problem is retried as the
// detection keeps firing, until the per-target budget caps the actions and
// the run escalates to humans.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openStore } from '../../src/store/index.ts';
import { loadRules } from '../../src/rules/loader.ts';
import { loadRunbooks } from '../../src/runbooks/loader.ts';
import { ACTIONS } from '../../src/runbooks/actions/index.ts';
import { ScenarioSession as RemediationSession } from '../../src/pipeline/index.ts';
import { resolveScenario } from '../../src/sandbox/scenarios/index.ts';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

test('event-storm: the budget caps restarts at 3 per hour and the next attempt escalates', { timeout: 180_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'km-budget-'));
  const rulesDir = join(dir, 'rules');
  const rbDir = join(dir, 'runbooks');
  for (const d of [rulesDir, rbDir]) (await import('node:fs')).mkdirSync(d);
  // The shipped crash-loop rule, pointed at a naive "just restart it" runbook (which needs no earlier revision, unlike the rollback).
  const shipped = readFileSync(here('../../rules/crashloop-backoff.yaml'), 'utf8');
  const naive = shipped.replace(/\n  action:\n[\s\S]*$/, '\n  action: { runbook: restart }\n');
  assert.notEqual(naive, shipped, 'the shipped rule has an action to replace');
  writeFileSync(join(rulesDir, 'crashloop.yaml'), naive);
  writeFileSync(join(rbDir, 'restart.yaml'), `apiVersion: kubemend.dev/v1alpha1
kind: Runbook
metadata: { name: restart, description: Restart the workload and hope }
spec:
  steps:
    - id: restart
      action: k8s.rolloutRestart
      with: { kind: "{{ target.kind }}", namespace: "{{ target.namespace }}", name: "{{ target.name }}" }
`);
  const store = await openStore({ dataDir: join(dir, 'data') });
  const s = await RemediationSession.start({
    scenario: resolveScenario('event-storm').scenario,
    rules: loadRules(rulesDir),
    runbooks: loadRunbooks(rbDir, { actions: ACTIONS }),
    store,
    budgets: { actionsPerTargetPerHour: 3 },
    retriggerAfterMs: 30_000,
  });
  try {
    await s.runToEnd();
    const runs = (await store.listRuns({})).sort((a, b) => a.createdAt - b.createdAt);
    assert.deepEqual(runs.map((r) => r.status), ['succeeded', 'succeeded', 'succeeded', 'escalated'], JSON.stringify(runs.map((r) => [r.status, r.createdAt])));
    const restarts = s.sandbox.api!.requestLog.filter((e) => e.method === 'PATCH' && e.resource === 'apps/deployments');
    assert.equal(restarts.length, 3, 'exactly three restarts reached the API server');
    const audit = await store.audit.list({ action: 'runbook.budget.exceeded' });
    assert.equal(audit.length, 1);
    assert.match(String(audit[0].data?.reason), /3 actions .* in the last hour \(limit 3\)/);
    assert.ok(s.remediation.notifications.sent.some((n) => /Escalation: restart/.test(n.title)));
  } finally {
    await s.stop();
    await store.close();
  }
});
