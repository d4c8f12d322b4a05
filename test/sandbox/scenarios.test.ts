// Each shipped scenario, played in virtual time on a full sandbox (every
// controller), reaches every milestone it promises, in time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { listScenarios, playFast, type MilestoneResult } from '../../src/sandbox/scenarios/index.ts';
import { formatDuration } from '../../src/common/clock.ts';

const show = (ms: MilestoneResult[]) =>
  ms.map((m) => `${m.name}: ${m.reachedAtMs === undefined ? 'never' : `+${formatDuration(m.reachedAtMs)}`}${m.byMs !== undefined ? ` (by +${formatDuration(m.byMs)})` : ''}${m.missed ? ' MISSED' : ''}`).join('\n');

for (const { scenario } of listScenarios()) {
  test(`scenario ${scenario.metadata.name} reaches every milestone`, async () => {
    const errors: string[] = [];
    const play = playFast(scenario, { onError: (step, err) => errors.push(`${step.name}: ${(err as Error).message}`) });
    try {
      const report = await play.run();
      assert.deepEqual(errors, [], 'every step applies');
      assert.ok(report.ok, `milestones:\n${show(report.milestones)}`);
    } finally {
      play.runner.stop();
      await play.sandbox.stop();
    }
  });
}

test('memory-cascade milestones happen in causal order', { timeout: 60_000 }, async () => {
  const { scenario } = listScenarios().find((s) => s.scenario.metadata.name === 'memory-cascade')!;
  const play = playFast(scenario);
  try {
    const report = await play.run();
    const at = Object.fromEntries(report.milestones.map((m) => [m.name, m.reachedAtMs ?? Infinity]));
    const order = ['no-memory-limit', 'system-oom', 'node-not-ready', 'pods-evicted', 'monitoring-rescheduled', 'next-node-suffers'];
    for (let i = 1; i < order.length; i++) {
      assert.ok(at[order[i - 1]] <= at[order[i]], `${order[i - 1]} before ${order[i]}:\n${show(report.milestones)}`);
    }
  } finally {
    play.runner.stop();
    await play.sandbox.stop();
  }
});
