// A run is launched while its `runbook.run.started` record commits, and acts
// only once it is in: its first transition, step record and request to the
// API server come after it. Here the database itself refuses that one record
// (a trigger standing in for a failed commit), so a drive that went ahead
// without waiting for it would store a transition and send requests for a
// run the audit log never saw start.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DatabaseSync } from 'node:sqlite';
import { KubeConfig } from '@kubernetes/client-node';
import { openStore } from '../../src/store/index.ts';
import { KubeHttp } from '../../src/kube/http.ts';
import { Sandbox } from '../../src/sandbox/cluster.ts';
import { resolveScenario, ScenarioRunner, sandboxOptionsFor } from '../../src/sandbox/scenarios/index.ts';
import { loadRunbooks } from '../../src/runbooks/loader.ts';
import { ACTIONS } from '../../src/runbooks/actions/index.ts';
import { buildRemediation, SERVICE_IDENTITY } from '../../src/pipeline/index.ts';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const target = { cluster: 'sandbox', kind: 'Deployment', namespace: 'shop', name: 'checkout' };

test('a run whose start cannot be recorded neither stores a step nor sends a request; once it can, its start precedes every step in the chain', { timeout: 60_000 }, async () => {
  const { scenario } = resolveScenario('crashloop');
  const sandbox = new Sandbox(sandboxOptionsFor(scenario, { speed: 60 }));
  await sandbox.listen();
  const runner = new ScenarioRunner(sandbox, scenario).start();
  const dataDir = mkdtempSync(join(tmpdir(), 'km-exec-start-'));
  const store = await openStore({ dataDir });
  const side = new DatabaseSync(join(dataDir, 'kubemend.db'), { timeout: 10_000 });
  try {
    const kc = new KubeConfig();
    kc.loadFromString(sandbox.kubeconfig());
    const kube = new KubeHttp(kc);
    const rem = buildRemediation({ store, clock: sandbox.clock, runbooks: loadRunbooks(here('../../runbooks'), { actions: ACTIONS }), kube: () => kube });
    const requests = () => sandbox.api!.requestLog.filter((e) => e.user === SERVICE_IDENTITY.user).length;
    const trigger = () => rem.executor.trigger({ runbook: 'bad-deploy', params: { smokeWindow: '1s' }, startedBy: { type: 'rule', name: 'crashloop-backoff' }, target });

    side.exec(`CREATE TRIGGER refuse_started BEFORE INSERT ON audit_log WHEN NEW.action = 'runbook.run.started' BEGIN SELECT RAISE(ABORT, 'the disk is full'); END`);
    const before = requests();
    await assert.rejects(trigger(), /the disk is full/);
    await rem.executor.idle();
    // Long enough for a drive that did not wait to have stored its first step and sent its first GET.
    await new Promise((r) => setTimeout(r, 300));
    const [run] = await store.listRuns({});
    assert.ok(run, 'the run was stored before its start was refused');
    assert.deepEqual(await store.transitions(run.id), [], 'no step of a run whose start is not on record');
    assert.deepEqual((await store.audit.list({ runId: run.id })).map((r) => r.action), [], 'no step record either');
    assert.equal(requests(), before, 'no request to the API server');
    assert.equal(run.status, 'running', 'left for the next start to resume, as when the start was never launched');
    assert.equal(rem.executor.activeCount, 0);

    // The database takes records again: the stored run is resumed, and a new one starts; each run's start comes first.
    side.exec('DROP TRIGGER refuse_started');
    assert.deepEqual(await rem.executor.resumeInFlight(), { resumed: 1, abandoned: 0 });
    await rem.executor.idle();
    const other = await rem.executor.trigger({ runbook: 'bad-deploy', params: { smokeWindow: '1s' }, startedBy: { type: 'rule', name: 'crashloop-backoff' }, target: { ...target, name: 'cart' } });
    assert.ok('run' in other && other.run && !('refused' in other), JSON.stringify(other));
    await rem.executor.idle();
    const records = await store.audit.list({ runId: other.run.id });
    assert.equal(records[0]?.action, 'runbook.run.started', records.map((r) => r.action).join(', '));
    assert.ok(records.some((r) => r.action === 'runbook.step.started'), 'the run took steps');
    assert.ok(requests() > before, 'and sent requests');
    assert.equal((await store.audit.verify()).ok, true);
  } finally {
    side.close();
    runner.stop();
    await store.close();
    await sandbox.stop();
  }
});
