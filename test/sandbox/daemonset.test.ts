import { test } from 'node:test';
import assert from 'node:assert/strict';
import { harness, settlePods, type Harness } from './harness.ts';
import { DaemonSetController, nodeShouldRunDaemonPod } from '../../src/sandbox/controllers/daemonset.ts';
import type { K8sObject } from '../../src/sandbox/types.ts';

const DS = 'apps/daemonsets';

function node(name: string, opts: { labels?: Record<string, string>; taints?: unknown[] } = {}): K8sObject {
  return { metadata: { name, labels: { 'kubernetes.io/hostname': name, ...(opts.labels ?? {}) } }, spec: opts.taints ? { taints: opts.taints } : {} };
}

function agent(extra: Record<string, unknown> = {}): K8sObject {
  return {
    metadata: { name: 'agent', namespace: 'kube-system' },
    spec: {
      selector: { matchLabels: { app: 'agent' } },
      template: { metadata: { labels: { app: 'agent' } }, spec: { containers: [{ name: 'agent', image: 'fluent-bit:3.1' }], ...extra } },
    },
  };
}

/** The node a daemon pod is pinned to by its node affinity. */
const pinnedNode = (p: K8sObject): string =>
  p.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchFields[0].values[0];

/** Scheduler + kubelet stand-in: binds pods to their affinity node, runs them Ready, finishes deletions. */
const kubelet = (h: Harness) => settlePods(h, pinnedNode);

const nodesWithPods = (h: Harness) =>
  h.store.list('pods', 'kube-system').items
    .filter((p) => !p.metadata.deletionTimestamp)
    .map((p) => p.spec.nodeName || pinnedNode(p))
    .sort();

test('one pod per eligible node; tainted node skipped; cordoned node still served; a new node gets a pod', async () => {
  const h = harness();
  h.store.create('nodes', node('node-1'));
  h.store.create('nodes', node('node-2', { taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }] }));
  h.store.create('nodes', node('node-3', { taints: [{ key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' }] }));
  h.run(new DaemonSetController());
  h.store.create(DS, agent());
  await h.advance(1000);
  assert.deepEqual(nodesWithPods(h), ['node-1', 'node-3']);

  const pod = h.store.list('pods', 'kube-system').items[0];
  assert.equal(pod.spec.nodeName, undefined, 'placement is left to the scheduler');
  assert.ok(pod.spec.tolerations.some((t: any) => t.key === 'node.kubernetes.io/not-ready' && t.effect === 'NoExecute'));
  assert.ok(pod.metadata.labels!['controller-revision-hash']);
  assert.equal(pod.metadata.labels!['pod-template-generation'], '1');
  assert.match(pod.metadata.name!, /^agent-[a-z0-9]{5}$/);

  kubelet(h);
  await h.advance(1000);
  let ds = h.store.get(DS, 'kube-system', 'agent')!;
  assert.equal(ds.status.desiredNumberScheduled, 2);
  assert.equal(ds.status.currentNumberScheduled, 2);
  assert.equal(ds.status.numberReady, 2);
  assert.equal(ds.status.numberAvailable, 2);
  assert.equal(ds.status.updatedNumberScheduled, 2);
  assert.equal(ds.status.numberMisscheduled, 0);

  h.store.create('nodes', node('node-4'));
  await h.advance(1000);
  assert.deepEqual(nodesWithPods(h), ['node-1', 'node-3', 'node-4']);
  kubelet(h);
  await h.advance(1000);
  ds = h.store.get(DS, 'kube-system', 'agent')!;
  assert.equal(ds.status.desiredNumberScheduled, 3);
  assert.equal(ds.status.numberReady, 3);
  assert.equal(h.events('SuccessfulCreate', 'agent').length, 3);
  assert.match(h.events('SuccessfulCreate', 'agent')[0].message, /^Created pod: agent-/);
  h.stop();
});

test('nodeSelector limits nodes; relabelling a node adds or removes its pod', async () => {
  const h = harness();
  h.store.create('nodes', node('node-1', { labels: { disk: 'ssd' } }));
  h.store.create('nodes', node('node-2'));
  h.run(new DaemonSetController());
  h.store.create(DS, agent({ nodeSelector: { disk: 'ssd' } }));
  await h.advance(1000);
  assert.deepEqual(nodesWithPods(h), ['node-1']);
  h.store.mutate('nodes', undefined, 'node-2', (n) => { n.metadata.labels!.disk = 'ssd'; });
  await h.advance(1000);
  assert.deepEqual(nodesWithPods(h), ['node-1', 'node-2']);
  h.store.mutate('nodes', undefined, 'node-1', (n) => { delete n.metadata.labels!.disk; });
  await h.advance(1000);
  assert.deepEqual(nodesWithPods(h), ['node-2']);
  h.stop();
});

test('rolling update replaces one node at a time (maxUnavailable 1)', async () => {
  const h = harness();
  for (const n of ['node-1', 'node-2', 'node-3']) h.store.create('nodes', node(n));
  h.run(new DaemonSetController());
  h.store.create(DS, agent());
  await h.advance(1000);
  kubelet(h);
  await h.advance(1000);

  const terminating = () => h.store.list('pods', 'kube-system').items.filter((p) => p.metadata.deletionTimestamp).length;
  h.store.mutate(DS, 'kube-system', 'agent', (d) => { d.spec.template.spec.containers[0].image = 'fluent-bit:3.2'; });
  await h.advance(1000);
  assert.equal(terminating(), 1);
  for (let i = 0; i < 10; i++) {
    kubelet(h);
    await h.advance(1000);
    assert.ok(terminating() <= 1);
  }
  const pods = h.store.list('pods', 'kube-system').items;
  assert.equal(pods.length, 3);
  for (const p of pods) assert.equal(p.spec.containers[0].image, 'fluent-bit:3.2');
  const ds = h.store.get(DS, 'kube-system', 'agent')!;
  assert.equal(ds.status.updatedNumberScheduled, 3);
  assert.equal(ds.status.numberAvailable, 3);
  assert.equal(h.store.list('apps/controllerrevisions', 'kube-system').items.length, 2);
  h.stop();
});

test('NoExecute taints evict; NoSchedule taints only stop new placement', () => {
  const ds = agent();
  Object.assign(ds, { apiVersion: 'apps/v1', kind: 'DaemonSet' });
  assert.deepEqual(nodeShouldRunDaemonPod(node('a', { taints: [{ key: 'x', effect: 'NoSchedule' }] }), ds), { shouldRun: false, shouldContinueRunning: true });
  assert.deepEqual(nodeShouldRunDaemonPod(node('a', { taints: [{ key: 'x', effect: 'NoExecute' }] }), ds), { shouldRun: false, shouldContinueRunning: false });
  assert.deepEqual(nodeShouldRunDaemonPod(node('a', { taints: [{ key: 'node.kubernetes.io/not-ready', effect: 'NoExecute' }] }), ds), { shouldRun: true, shouldContinueRunning: true });
});
