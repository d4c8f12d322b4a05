// Events already in the cluster when kubemend starts happened before it was
// watching: they are context (incidents, change feed), never a reason to act.
// An Event that happens after the start is.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { KubeConfig } from '@kubernetes/client-node';
import { Sandbox } from '../../src/sandbox/index.ts';
import { loadRules } from '../../src/rules/index.ts';
import { Pipeline } from '../../src/pipeline/index.ts';
import type { Detection } from '../../src/rules/index.ts';

const rules = loadRules(fileURLToPath(new URL('../../rules/system-oom.yaml', import.meta.url)));

function systemOom(name: string, node: string, at: string) {
  return {
    apiVersion: 'v1', kind: 'Event',
    metadata: { name, namespace: 'default' },
    involvedObject: { kind: 'Node', name: node, uid: node },
    reason: 'SystemOOM', type: 'Warning', message: 'System OOM encountered, victim process: worker', count: 1,
    firstTimestamp: at, lastTimestamp: at, source: { component: 'kubelet', host: node },
  };
}

test('an Event listed at start does not fire rules; one that happens afterwards does', { timeout: 30_000 }, async () => {
  const sandbox = new Sandbox({ speed: 1 });
  await sandbox.listen();
  const kc = new KubeConfig();
  kc.loadFromString(sandbox.kubeconfig());
  const seen: Detection[] = [];
  const pipeline = new Pipeline({ clock: sandbox.clock, clusters: [{ name: 'sandbox', kubeconfig: kc }], rules, sinks: [{ name: 'collect', onDetection: (d, change) => change === 'opened' && seen.push(structuredClone(d)) }] });
  try {
    sandbox.store.create('events', systemOom('old-oom', 'node-1', new Date(sandbox.clock.now() - 3_600_000).toISOString()));
    await pipeline.start();
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(seen.map((d) => d.subject.name), [], 'the hour-old SystemOOM is not acted on');
    sandbox.store.create('events', systemOom('new-oom', 'node-2', new Date(sandbox.clock.now()).toISOString()));
    for (let i = 0; i < 50 && !seen.length; i++) await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(seen.map((d) => d.subject.name), ['node-2']);
  } finally {
    await pipeline.stop();
    await sandbox.stop();
  }
});

test('a reload that starts watching Events does not act on the ones already there', { timeout: 30_000 }, async () => {
  const sandbox = new Sandbox({ speed: 1 });
  await sandbox.listen();
  const kc = new KubeConfig();
  kc.loadFromString(sandbox.kubeconfig());
  const seen: Detection[] = [];
  const pipeline = new Pipeline({ clock: sandbox.clock, clusters: [{ name: 'sandbox', kubeconfig: kc }], rules: [], sinks: [{ name: 'collect', onDetection: (d, change) => change === 'opened' && seen.push(structuredClone(d)) }] });
  try {
    await pipeline.start();
    sandbox.store.create('events', systemOom('while-not-watched', 'node-1', new Date(sandbox.clock.now()).toISOString()));
    await pipeline.setRules(rules);
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(seen.map((d) => d.subject.name), [], 'listed when the kind was added: not acted on');
    sandbox.store.create('events', systemOom('after-reload', 'node-2', new Date(sandbox.clock.now()).toISOString()));
    for (let i = 0; i < 50 && !seen.length; i++) await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(seen.map((d) => d.subject.name), ['node-2']);
  } finally {
    await pipeline.stop();
    await sandbox.stop();
  }
});
