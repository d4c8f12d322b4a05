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

test('node-broken: the node is at fault, not a workload; only its pods are evicted, and in causal order', { timeout: 60_000 }, async () => {
  const { scenario } = listScenarios().find((s) => s.scenario.metadata.name === 'node-broken')!;
  const play = playFast(scenario);
  try {
    const report = await play.run();
    const at = Object.fromEntries(report.milestones.map((m) => [m.name, m.reachedAtMs ?? Infinity]));
    const order = ['spread-over-nodes', 'node-not-ready', 'pods-evicted', 'monitoring-rescheduled'];
    for (let i = 1; i < order.length; i++) {
      assert.ok(at[order[i - 1]] <= at[order[i]], `${order[i - 1]} before ${order[i]}:\n${show(report.milestones)}`);
    }
    const store = play.sandbox.store;
    const events = store.list('events').items;
    assert.deepEqual(events.filter((e) => /OOM|Evicted|MemoryPressure/.test(e.reason)).map((e) => e.reason), [], 'no workload and no memory problem caused it');
    for (const p of store.list('pods').items) {
      for (const c of p.spec.containers) assert.ok(c.resources?.limits?.memory, `${p.metadata.name}/${c.name} has a memory limit`);
    }
    const evicted = events.filter((e) => e.reason === 'TaintManagerEviction').map((e) => store.get('pods', e.involvedObject.namespace, e.involvedObject.name)?.spec.nodeName);
    assert.ok(evicted.length >= 2 && evicted.every((n) => n === 'node-1'), `evicted from: ${evicted}`);
    const n1 = store.get('nodes', undefined, 'node-1')!;
    assert.equal(n1.status.conditions.find((c: any) => c.type === 'MemoryPressure').status, 'Unknown', 'its kubelet stopped reporting, it never reported pressure');
    // Every workload is back to full strength on the healthy nodes.
    for (const [ns, name, want] of [['shop', 'web', 3], ['shop', 'api', 2], ['monitoring', 'prometheus', 1]] as const) {
      const running = store.list('pods', ns).items.filter((p) => p.metadata.labels?.app === name && !p.metadata.deletionTimestamp && p.status?.phase === 'Running');
      assert.equal(running.length, want, `${ns}/${name}`);
      assert.ok(running.every((p) => p.spec.nodeName !== 'node-1'));
    }
  } finally {
    play.runner.stop();
    await play.sandbox.stop();
  }
});
