import { test } from 'node:test';
import assert from 'node:assert/strict';
import { harness, type Harness } from './harness.ts';
import { buildNode, type NodeSpec } from '../../src/sandbox/cluster.ts';
import { SchedulerController } from '../../src/sandbox/controllers/scheduler.ts';
import type { K8sObject } from '../../src/sandbox/types.ts';

function cluster(nodes: NodeSpec[]): Harness {
  const h = harness();
  for (const n of nodes) h.store.create('nodes', buildNode(n, h.clock.now()));
  h.run(new SchedulerController());
  return h;
}

interface PodOpts {
  cpu?: string;
  memory?: string;
  nodeSelector?: Record<string, string>;
  tolerations?: unknown[];
  priority?: number;
  affinity?: unknown;
}

function pod(h: Harness, name: string, o: PodOpts = {}): K8sObject {
  const requests: Record<string, string> = {};
  // Pods get their priority from a PriorityClass (the Priority admission plugin refuses a bare spec.priority).
  const priorityClass = o.priority ? `priority-${o.priority}` : undefined;
  if (priorityClass && !h.store.get('scheduling.k8s.io/priorityclasses', undefined, priorityClass)) {
    h.store.create('scheduling.k8s.io/priorityclasses', { metadata: { name: priorityClass }, value: o.priority });
  }
  if (o.cpu) requests.cpu = o.cpu;
  if (o.memory) requests.memory = o.memory;
  return h.store.create('pods', {
    metadata: { name, namespace: 'default' },
    spec: {
      containers: [{ name: 'app', image: 'nginx', resources: { requests } }],
      ...(o.nodeSelector ? { nodeSelector: o.nodeSelector } : {}),
      ...(o.tolerations ? { tolerations: o.tolerations } : {}),
      ...(priorityClass ? { priorityClassName: priorityClass } : {}),
      ...(o.affinity ? { affinity: o.affinity } : {}),
    },
  });
}

const get = (h: Harness, name: string) => h.store.get('pods', 'default', name)!;
const nodeOf = (h: Harness, name: string) => get(h, name).spec.nodeName as string | undefined;
const cond = (p: K8sObject, type: string) => p.status?.conditions?.find((c: any) => c.type === type);

test('binds by requests, spreads equal pods across nodes, and records Scheduled', async () => {
  const h = cluster([{ name: 'node-1' }, { name: 'node-2' }, { name: 'node-3' }]);
  for (const n of ['a', 'b', 'c']) pod(h, n, { cpu: '1', memory: '1Gi' });
  await h.advance(0);
  assert.deepEqual(['a', 'b', 'c'].map((n) => nodeOf(h, n)).sort(), ['node-1', 'node-2', 'node-3']);
  assert.equal(nodeOf(h, 'a'), 'node-1', 'ties go to the first node by name');
  const a = get(h, 'a');
  assert.equal(cond(a, 'PodScheduled').status, 'True');
  const ev = h.events('Scheduled', 'a');
  assert.equal(ev.length, 1);
  assert.equal(ev[0].message, 'Successfully assigned default/a to node-1');
  assert.equal(ev[0].source.component, 'default-scheduler');
  assert.equal(ev[0].type, 'Normal');
  h.stop();
});

test('a pod that only fits the big node goes there; the least allocated node wins', async () => {
  const h = cluster([{ name: 'node-1', memory: '1Gi' }, { name: 'node-2', memory: '8Gi' }]);
  pod(h, 'big', { memory: '2Gi' });
  await h.advance(0);
  assert.equal(nodeOf(h, 'big'), 'node-2');
  // node-2 is now 25% used by memory, node-1 empty: BestEffort pods score
  // with the scheduler's 100m/200Mi defaults and prefer the emptier node.
  pod(h, 'small');
  await h.advance(0);
  assert.equal(nodeOf(h, 'small'), 'node-1');
  h.stop();
});

test('nodeSelector and required node affinity restrict placement', async () => {
  const h = cluster([{ name: 'node-1' }, { name: 'node-2', labels: { disk: 'ssd' } }, { name: 'node-3' }]);
  pod(h, 'ssd', { nodeSelector: { disk: 'ssd' } });
  pod(h, 'not-ssd', {
    affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'disk', operator: 'DoesNotExist' }, { key: 'kubernetes.io/hostname', operator: 'NotIn', values: ['node-1'] }] }] } } },
  });
  await h.advance(0);
  assert.equal(nodeOf(h, 'ssd'), 'node-2');
  assert.equal(nodeOf(h, 'not-ssd'), 'node-3');
  h.stop();
});

test('a cordoned node is skipped', async () => {
  const h = cluster([{ name: 'node-1' }, { name: 'node-2' }]);
  h.store.mutate('nodes', undefined, 'node-1', (n) => { n.spec.unschedulable = true; });
  for (const n of ['a', 'b', 'c']) pod(h, n);
  await h.advance(0);
  for (const n of ['a', 'b', 'c']) assert.equal(nodeOf(h, n), 'node-2');
  h.stop();
});

test('nothing fits: FailedScheduling with the 1.32 wording, PodScheduled False, and the count grows while it waits', async () => {
  const h = cluster([{ name: 'node-1' }, { name: 'node-2', memory: '1Gi' }, { name: 'node-3', memory: '1Gi' }]);
  h.store.mutate('nodes', undefined, 'node-1', (n) => { n.spec.unschedulable = true; });
  pod(h, 'huge', { memory: '2Gi' });
  await h.advance(0);
  const expected = '0/3 nodes are available: 1 node(s) were unschedulable, 2 Insufficient memory. '
    + 'preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, 2 No preemption victims found for incoming pod.';
  let ev = h.events('FailedScheduling', 'huge');
  assert.equal(ev.length, 1);
  assert.equal(ev[0].message, expected);
  assert.equal(ev[0].type, 'Warning');
  assert.equal(ev[0].count, 1);
  const c = cond(get(h, 'huge'), 'PodScheduled');
  assert.deepEqual([c.status, c.reason, c.message], ['False', 'Unschedulable', expected]);
  assert.equal(nodeOf(h, 'huge'), undefined);

  // Heartbeat-only node writes do not wake it; a relevant change does (after back-off).
  h.store.mutate('nodes', undefined, 'node-2', (n) => { n.status.conditions[0].lastHeartbeatTime = 'x'; });
  await h.advance(5_000);
  assert.equal(h.events('FailedScheduling', 'huge')[0].count, 1);
  h.store.mutate('nodes', undefined, 'node-3', (n) => { n.metadata.labels = { ...n.metadata.labels, zone: 'b' }; });
  await h.advance(5_000);
  assert.equal(h.events('FailedScheduling', 'huge')[0].count, 2);
  // With nothing happening it is still retried every five minutes.
  await h.advance(5 * 60_000);
  ev = h.events('FailedScheduling', 'huge');
  assert.equal(ev.length, 1);
  assert.equal(ev[0].count, 3);
  h.stop();
});

test('the pending pod is scheduled once capacity frees up', async () => {
  const h = cluster([{ name: 'node-1', memory: '2Gi' }]);
  pod(h, 'first', { memory: '1536Mi' });
  pod(h, 'second', { memory: '1Gi' });
  await h.advance(0);
  assert.equal(nodeOf(h, 'first'), 'node-1');
  assert.equal(nodeOf(h, 'second'), undefined);
  assert.match(h.events('FailedScheduling', 'second')[0].message, /^0\/1 nodes are available: 1 Insufficient memory\. /);
  // A Failed (e.g. evicted) pod no longer holds its requests.
  h.store.mutate('pods', 'default', 'first', (p) => { p.status.phase = 'Failed'; }, { subresource: 'status' });
  await h.advance(1_000);
  assert.equal(nodeOf(h, 'second'), 'node-1');
  assert.equal(h.events('Scheduled', 'second').length, 1);
  h.stop();
});

test('taints: untolerated NoSchedule keeps pods off, a toleration lets them on', async () => {
  const h = cluster([{ name: 'node-1' }]);
  h.store.mutate('nodes', undefined, 'node-1', (n) => { n.spec.taints = [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }]; });
  pod(h, 'plain');
  pod(h, 'tolerant', { tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'gpu', effect: 'NoSchedule' }] });
  await h.advance(0);
  assert.equal(nodeOf(h, 'tolerant'), 'node-1');
  assert.equal(nodeOf(h, 'plain'), undefined);
  assert.equal(h.events('FailedScheduling', 'plain')[0].message,
    '0/1 nodes are available: 1 node(s) had untolerated taint {dedicated: gpu}. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.');
  h.stop();
});

test('a NotReady node gets no pods even before the lifecycle controller taints it', async () => {
  const h = cluster([{ name: 'node-1' }, { name: 'node-2' }]);
  h.store.mutate('nodes', undefined, 'node-1', (n) => { n.status.conditions.find((c: any) => c.type === 'Ready').status = 'Unknown'; });
  pod(h, 'a');
  pod(h, 'b');
  await h.advance(0);
  assert.equal(nodeOf(h, 'a'), 'node-2');
  assert.equal(nodeOf(h, 'b'), 'node-2');
  h.stop();
});

test('DaemonSet-style pods pinned with matchFields metadata.name', async () => {
  const h = cluster([{ name: 'node-1' }, { name: 'node-2' }, { name: 'node-3', cpu: '1' }]);
  const pinned = (node: string) => ({
    nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: [node] }] }] } },
  });
  pod(h, 'ds-3', { affinity: pinned('node-3'), cpu: '800m' });
  pod(h, 'ds-3b', { affinity: pinned('node-3'), cpu: '800m' });
  await h.advance(0);
  const placed = [nodeOf(h, 'ds-3'), nodeOf(h, 'ds-3b')];
  assert.deepEqual(placed.filter(Boolean), ['node-3']);
  const waiting = placed[0] ? 'ds-3b' : 'ds-3';
  assert.equal(h.events('FailedScheduling', waiting)[0].message,
    "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) didn't satisfy plugin(s) [NodeAffinity]. "
    + 'preemption: 0/3 nodes are available: 1 No preemption victims found for incoming pod, 2 Preemption is not helpful for scheduling.');
  h.stop();
});

test('a higher-priority pod preempts a lower-priority one and binds after it is gone', async () => {
  const h = cluster([{ name: 'node-1', cpu: '1' }]);
  pod(h, 'low', { cpu: '800m', priority: 0 });
  await h.advance(0);
  assert.equal(nodeOf(h, 'low'), 'node-1');
  const high = pod(h, 'high', { cpu: '800m', priority: 1000 });
  await h.advance(0);
  const low = get(h, 'low');
  assert.ok(low.metadata.deletionTimestamp, 'victim is being deleted');
  assert.equal(cond(low, 'DisruptionTarget').reason, 'PreemptionByScheduler');
  assert.equal(h.events('Preempted', 'low')[0].message, `Preempted by pod ${high.metadata.uid} on node node-1`);
  assert.equal(get(h, 'high').status.nominatedNodeName, 'node-1');
  assert.equal(h.events('FailedScheduling', 'high')[0].message, '0/1 nodes are available: 1 Insufficient cpu.');
  // The kubelet finishes the victim's graceful deletion.
  h.store.remove('pods', low);
  await h.advance(2_000);
  assert.equal(nodeOf(h, 'high'), 'node-1');
  h.stop();
});

test('pods for another scheduler, or being deleted, are left alone', async () => {
  const h = cluster([{ name: 'node-1' }]);
  h.store.create('pods', { metadata: { name: 'other', namespace: 'default' }, spec: { schedulerName: 'custom', containers: [{ name: 'app', image: 'nginx' }] } });
  // A finalizer keeps the unbound pod around with a deletionTimestamp.
  h.store.create('pods', { metadata: { name: 'doomed', namespace: 'default', finalizers: ['example.com/hold'] }, spec: { containers: [{ name: 'app', image: 'nginx' }] } });
  h.store.delete('pods', 'default', 'doomed');
  await h.advance(1_000);
  assert.equal(nodeOf(h, 'other'), undefined);
  assert.ok(get(h, 'doomed').metadata.deletionTimestamp);
  assert.equal(nodeOf(h, 'doomed'), undefined);
  assert.equal(h.events('FailedScheduling').length, 0);
  h.stop();
});
