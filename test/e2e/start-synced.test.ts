// kubemend started on a cluster already in trouble decides with every cache
// filled: the crash loop of a Deployment on its second revision is rolled
// back, never skipped as "no previous revision" because the ReplicaSets'
// list had not arrived when the pods' had (controller-runtime's rule: no
// worker before every cache has synced).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openStore } from '../../src/store/index.ts';
import { Sandbox } from '../../src/sandbox/cluster.ts';
import { resolveScenario, ScenarioRunner, sandboxOptionsFor } from '../../src/sandbox/scenarios/index.ts';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const BIN = here('../../bin/kubemend.js');

test('started after the bad deploy, kubemend rolls it back and skips nothing for want of a cache', { timeout: 180_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'km-start-synced-'));
  const { scenario } = resolveScenario('crashloop');
  const sandbox = new Sandbox(sandboxOptionsFor(scenario, { speed: 30 }));
  await sandbox.listen();
  const runner = new ScenarioRunner(sandbox, scenario).start();
  const kc = join(dir, 'kubeconfig');
  writeFileSync(kc, sandbox.kubeconfig());
  const data = join(dir, 'data');
  let child: ReturnType<typeof spawn> | undefined;
  try {
    // Wait for the crash loop of revision 2 before kubemend starts.
    const t0 = Date.now();
    for (;;) {
      const pods = sandbox.store.list('pods', 'shop').items.filter((p) => p.metadata.name!.startsWith('checkout-'));
      if (pods.some((p) => p.spec.containers[0].image === 'shop/checkout:1.5.0' && (p.status?.containerStatuses?.[0]?.restartCount ?? 0) >= 2)) break;
      if (Date.now() - t0 > 60_000) throw new Error('no crash loop within 60s');
      await new Promise((r) => setTimeout(r, 100));
    }
    child = spawn(process.execPath, [BIN, 'run', '--kubeconfig', kc, '--rules', here('../../rules'), '--runbooks', here('../../runbooks'), '--data-dir', data], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    child.stderr!.on('data', (d) => (out += d));
    const t1 = Date.now();
    while (!/run \w+ bad-deploy step rollback: succeeded/.test(out)) {
      if (Date.now() - t1 > 90_000) throw new Error(`no rollback within 90s:\n${out}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.doesNotMatch(out, /not starting bad-deploy/, 'nothing skipped for want of the ReplicaSets');
    child.kill('SIGTERM');
    await new Promise((r) => child!.once('exit', r));
    const store = await openStore({ dataDir: data });
    try {
      assert.deepEqual(await store.audit.list({ action: 'runbook.run.skipped' }), []);
    } finally {
      await store.close();
    }
  } finally {
    child?.kill('SIGKILL');
    runner.stop();
    await sandbox.stop();
  }
});
