// The rollout watcher follows the rules: it runs while a rule reads
// `source: rollout`, takes what is already in the cluster as the baseline
// when it starts (a restart or a reload does not smoke-test every
// workload again), and judges only the rollouts that come after.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openStore } from '../../src/store/index.ts';
import { loadRules } from '../../src/rules/index.ts';
import { ScenarioSession } from '../../src/pipeline/index.ts';
import { resolveScenario } from '../../src/sandbox/index.ts';

const rules = loadRules(fileURLToPath(new URL('../../rules/rollout-regression.yaml', import.meta.url)));

test('loaded by a reload: existing workloads are the baseline, the next rollout is judged; unloaded: the watcher stops', { timeout: 120_000 }, async () => {
  const store = await openStore({ dataDir: mkdtempSync(join(tmpdir(), 'km-rollouts-')) });
  // crashloop: checkout 1.4.2 is created at 0s, 1.5.0 (which crashes) is rolled out at 1m.
  const s = await ScenarioSession.start({ scenario: resolveScenario('crashloop').scenario, rules: [], store, smoke: { windowMs: 120_000 } });
  try {
    for (let i = 0; i < 30; i++) await s.tick();
    assert.equal(s.pipeline.rollouts.running, false, 'no rule reads rollouts');
    await s.pipeline.setRules(rules);
    assert.equal(s.pipeline.rollouts.running, true);
    for (let i = 0; i < 29; i++) await s.tick();
    assert.deepEqual(s.pipeline.rollouts.open(), [], 'checkout, there before the rule, is not smoke-tested again');
    for (let i = 0; i < 20 && !s.engine.detections().length; i++) await s.tick();
    await s.pipeline.flush();
    const smoke = (await store.audit.list({ action: 'smoke.*' })).map((a) => `${a.action} ${a.target?.name} ${(a.data as { change: { summary: string } }).change.summary}`);
    assert.deepEqual(smoke, [
      'smoke.started checkout image shop/checkout:1.4.2 → shop/checkout:1.5.0 (container checkout)',
      'smoke.failed checkout image shop/checkout:1.4.2 → shop/checkout:1.5.0 (container checkout)',
    ]);
    assert.deepEqual(s.engine.detections().map((d) => `${d.rule} ${d.subject.name}`), ['rollout-regression checkout']);
    await s.pipeline.setRules([]);
    assert.equal(s.pipeline.rollouts.running, false);
  } finally {
    await s.stop();
    await store.close();
  }
});
