// Killing the engine mid-run (SIGKILL: no clean-up) and starting it again
// finishes the run from where it was, without repeating a completed step.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openStore } from '../../src/store/index.ts';
import { Sandbox } from '../../src/sandbox/cluster.ts';
import { resolveScenario, ScenarioRunner, sandboxOptionsFor } from '../../src/sandbox/scenarios/index.ts';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const BIN = here('../../bin/kubemend.js');

function start(args: string[]) {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
  return { child, exited, output: () => out };
}

test('a run interrupted by SIGKILL resumes after a restart and does not repeat the rollback', { timeout: 180_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'km-resume-'));
  const rulesDir = join(dir, 'rules');
  mkdirSync(rulesDir);
  // The shipped rule with a short smoke window, so the run is mid-smoke-check for a few real seconds.
  const shipped = readFileSync(here('../../rules/crashloop-backoff.yaml'), 'utf8');
  const rule = shipped.replace(/^(\s+)runbook: bad-deploy\n/m, '$1runbook: bad-deploy\n$1params: { smokeWindow: 6s }\n');
  assert.notEqual(rule, shipped, 'the rule file still names its runbook as this test expects');
  writeFileSync(join(rulesDir, 'crashloop.yaml'), rule);
  const { scenario } = resolveScenario('crashloop');
  const sandbox = new Sandbox(sandboxOptionsFor(scenario, { speed: 30 }));
  await sandbox.listen();
  const runner = new ScenarioRunner(sandbox, scenario).start();
  const kc = join(dir, 'kubeconfig');
  writeFileSync(kc, sandbox.kubeconfig());
  const data = join(dir, 'data');
  const args = ['run', '--kubeconfig', kc, '--rules', rulesDir, '--runbooks', here('../../runbooks'), '--data-dir', data];
  const first = start(args);
  const store = await openStore({ dataDir: data });
  try {
    // Wait until the rollback has landed and the smoke check is under way, then kill.
    const t0 = Date.now();
    let runId: string | undefined;
    for (;;) {
      if (Date.now() - t0 > 60_000) throw new Error(`no smoke check in progress within 60s:\n${first.output()}`);
      const run = (await store.listRuns({})).find((r) => r.runbook === 'bad-deploy');
      if (run) {
        const ts = await store.transitions(run.id);
        if (ts.some((t) => t.stepId === 'smokeCheck' && t.status === 'started')) {
          runId = run.id;
          break;
        }
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    first.child.kill('SIGKILL');
    await first.exited;
    assert.equal((await store.getRun(runId))!.status, 'running', 'the run was in flight when the engine died');

    const second = start([...args, '--exit-when-done']);
    assert.equal(await second.exited, 0, second.output());
    assert.match(second.output(), /resuming 1 run/);
    const run = (await store.getRun(runId))!;
    assert.equal(run.status, 'succeeded', second.output());
    const ts = await store.transitions(runId);
    assert.equal(ts.filter((t) => t.stepId === 'rollback' && t.status === 'started').length, 1, 'the rollback ran once');
    assert.equal(ts.filter((t) => t.stepId === 'rollback' && t.status === 'succeeded').length, 1);
    assert.ok(ts.some((t) => t.stepId === 'notify' && t.status === 'succeeded'));
    const rollbacks = sandbox.api!.requestLog.filter((e) => e.method === 'PATCH' && e.resource === 'apps/deployments' && e.name === 'checkout');
    assert.equal(rollbacks.length, 1, 'one rollback PATCH reached the API server');
    assert.equal(sandbox.store.get('apps/deployments', 'shop', 'checkout')!.spec.template.spec.containers[0].image, 'shop/checkout:1.4.2');
    const resumed = await store.audit.list({ action: 'runbook.run.resumed' });
    assert.equal(resumed.length, 1);
    assert.ok((await store.audit.verify()).ok);
  } finally {
    first.child.kill('SIGKILL');
    runner.stop();
    await store.close();
    await sandbox.stop();
  }
});
