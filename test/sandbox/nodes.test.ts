import { test } from 'node:test';
import assert from 'node:assert/strict';
import { harness, type Harness } from './harness.ts';
import { buildNode, type NodeSpec } from '../../src/sandbox/cluster.ts';
import { NodeAgentController, setKubeletDown } from '../../src/sandbox/controllers/node-agent.ts';
import { NodeLifecycleController } from '../../src/sandbox/controllers/node-lifecycle.ts';
import type { K8sObject } from '../../src/sandbox/types.ts';

const MI = 2 ** 20;

function cluster(nodes: NodeSpec[]): Harness {
  const h = harness();
  for (const n of nodes) h.store.create('nodes', buildNode(n, h.clock.now()));
  return h;
}

/** A pod the (absent) kubelet has started: Running and Ready on `node`. */
function runningPod(h: Harness, name: string, node: string, o: { memoryRequest?: string; priority?: number; tolerations?: unknown[] } = {}): K8sObject {
  h.store.create('pods', {
    metadata: { name, namespace: 'default' },
    spec: {
      nodeName: node,
      containers: [{ name: 'app', image: 'nginx', resources: o.memoryRequest ? { requests: { memory: o.memoryRequest } } : {} }],
      ...(o.priority !== undefined ? { priority: o.priority } : {}),
      ...(o.tolerations ? { tolerations: o.tolerations } : {}),
    },
  });
  const at = new Date(h.clock.now()).toISOString().replace('.000Z', 'Z');
  return h.store.mutate('pods', 'default', name, (p) => {
    p.status = {
      ...p.status,
      phase: 'Running',
      conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: at }, { type: 'ContainersReady', status: 'True', lastTransitionTime: at }],
      containerStatuses: [{ name: 'app', ready: true, started: true, restartCount: 0, state: { running: { startedAt: at } } }],
    };
  }, { subresource: 'status' })!;
}

const node = (h: Harness, name: string) => h.store.get('nodes', undefined, name)!;
const pod = (h: Harness, name: string) => h.store.get('pods', 'default', name)!;
const condition = (o: K8sObject, type: string) => o.status.conditions.find((c: any) => c.type === type);
const taints = (h: Harness, name: string) => (node(h, name).spec.taints ?? []).map((t: any) => `${t.key}:${t.effect}`).sort();
const useMemory = (h: Harness, p: string, n: string, mi: number) => h.ctx.usage.set('default', p, n, 'app', { cpuCores: 0.01, memoryBytes: mi * MI });

test('node agent: heartbeats, lease renewal and allocatable', async () => {
  const h = cluster([{ name: 'node-1' }]);
  h.run(new NodeAgentController());
  const lease = h.store.get('coordination.k8s.io/leases', 'kube-node-lease', 'node-1')!;
  assert.equal(lease.spec.holderIdentity, 'node-1');
  assert.equal(lease.spec.leaseDurationSeconds, 40);
  assert.match(lease.spec.renewTime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
  assert.equal(lease.metadata.ownerReferences?.[0]?.kind, 'Node');
  // 8Gi - 256Mi system-reserved - 100Mi eviction threshold.
  assert.equal(node(h, 'node-1').status.allocatable.memory, '7836Mi');
  const before = condition(node(h, 'node-1'), 'Ready').lastHeartbeatTime;
  await h.advance(10_000);
  const after = h.store.get('coordination.k8s.io/leases', 'kube-node-lease', 'node-1')!;
  assert.equal(Date.parse(after.spec.renewTime) - Date.parse(lease.spec.renewTime), 10_000);
  const ready = condition(node(h, 'node-1'), 'Ready');
  assert.equal(Date.parse(ready.lastHeartbeatTime) - Date.parse(before), 10_000);
  assert.equal(ready.status, 'True');
  assert.equal(h.events('NodeReady').length, 0, 'no status change, no event');
  h.stop();
});

test('memory pressure: condition, taint, one eviction per pass in kubelet rank order, real message', async () => {
  const h = cluster([{ name: 'node-1', memory: '3Gi' }]);
  runningPod(h, 'greedy', 'node-1');
  runningPod(h, 'modest', 'node-1');
  runningPod(h, 'within', 'node-1', { memoryRequest: '256Mi' });
  // 3072Mi capacity - 256Mi reserved - (1800 + 820 + 150)Mi = 46Mi available.
  useMemory(h, 'greedy', 'node-1', 1800);
  useMemory(h, 'modest', 'node-1', 820);
  useMemory(h, 'within', 'node-1', 150);
  h.run(new NodeAgentController());
  await h.advance(0);

  const greedy = pod(h, 'greedy');
  const message = 'The node was low on resource: memory. Threshold quantity: 100Mi, available: 46Mi. '
    + 'Container app was using 1800Mi, request is 0, has larger consumption of memory. ';
  assert.deepEqual([greedy.status.phase, greedy.status.reason, greedy.status.message], ['Failed', 'Evicted', message]);
  assert.equal(greedy.status.containerStatuses[0].state.terminated.exitCode, 137);
  assert.equal(condition(greedy, 'DisruptionTarget').reason, 'TerminationByKubelet');
  const evicted = h.events('Evicted', 'greedy');
  assert.deepEqual([evicted[0].type, evicted[0].message, evicted[0].source.component], ['Warning', message, 'kubelet']);
  assert.equal(pod(h, 'modest').status.phase, 'Running', 'one pod per pass');
  assert.equal(h.events('EvictionThresholdMet', 'node-1')[0].message, 'Attempting to reclaim memory');

  const mp = condition(node(h, 'node-1'), 'MemoryPressure');
  assert.deepEqual([mp.status, mp.reason, mp.message], ['True', 'KubeletHasInsufficientMemory', 'kubelet has insufficient memory available']);
  assert.deepEqual(taints(h, 'node-1'), ['node.kubernetes.io/memory-pressure:NoSchedule']);
  assert.equal(h.events('NodeHasInsufficientMemory', 'node-1')[0].message, 'Node node-1 status is now: NodeHasInsufficientMemory');

  // Usage unchanged (no kubelet here to stop the container): the next pass takes the next pod.
  await h.advance(10_000);
  assert.equal(pod(h, 'modest').status.reason, 'Evicted');
  assert.equal(pod(h, 'within').status.phase, 'Running');

  // The kubelet stops the evicted containers; pressure ends but the condition
  // holds for the 5-minute transition period.
  h.ctx.usage.forgetPod('default', 'greedy');
  h.ctx.usage.forgetPod('default', 'modest');
  await h.advance(10_000);
  assert.equal(pod(h, 'within').status.phase, 'Running');
  assert.equal(condition(node(h, 'node-1'), 'MemoryPressure').status, 'True');
  await h.advance(5 * 60_000);
  assert.equal(condition(node(h, 'node-1'), 'MemoryPressure').status, 'False');
  assert.deepEqual(taints(h, 'node-1'), []);
  assert.equal(h.events('NodeHasSufficientMemory', 'node-1').length, 1);
  h.stop();
});

test('three SystemOOMs hang the kubelet: NotReady after 40s, taint eviction after 300s, Ready again after the hang', async () => {
  const h = cluster([{ name: 'node-1' }, { name: 'node-2' }]);
  runningPod(h, 'web-1', 'node-1');
  runningPod(h, 'agent', 'node-1', { tolerations: [{ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' }] });
  h.run(new NodeAgentController(), new NodeLifecycleController());
  await h.advance(1_000);

  const n1 = node(h, 'node-1');
  const oom = (pid: number) => h.ctx.events.emit(n1, 'Warning', 'SystemOOM', `System OOM encountered, victim process: app, pid: ${pid}`, { component: 'kubelet', host: 'node-1' });
  oom(4242);
  await h.advance(30_000);
  oom(4242); // aggregated: the same Event's count goes to 2
  await h.advance(30_000);
  assert.ok(h.ctx.nodeHealth.kubeletUp('node-1', h.clock.now()));
  oom(4317);
  const downAt = h.clock.now();
  await h.advance(0);
  assert.equal(h.ctx.nodeHealth.kubeletUp('node-1', h.clock.now()), false);
  const leaseAtHang = h.store.get('coordination.k8s.io/leases', 'kube-node-lease', 'node-1')!.spec.renewTime;

  await h.advance(30_000);
  assert.equal(condition(node(h, 'node-1'), 'Ready').status, 'True', 'still within the grace period');
  await h.advance(20_000);
  const ready = condition(node(h, 'node-1'), 'Ready');
  assert.deepEqual([ready.status, ready.reason, ready.message], ['Unknown', 'NodeStatusUnknown', 'Kubelet stopped posting node status.']);
  assert.equal(condition(node(h, 'node-1'), 'MemoryPressure').status, 'Unknown');
  assert.equal(condition(node(h, 'node-2'), 'Ready').status, 'True');
  const nn = h.events('NodeNotReady', 'node-1');
  assert.deepEqual([nn[0].message, nn[0].source.component], ['Node node-1 status is now: NodeNotReady', 'node-controller']);
  assert.deepEqual(taints(h, 'node-1'), ['node.kubernetes.io/unreachable:NoExecute', 'node.kubernetes.io/unreachable:NoSchedule']);
  assert.ok(node(h, 'node-1').spec.taints.every((t: any) => t.timeAdded));
  assert.equal(condition(pod(h, 'web-1'), 'Ready').status, 'False');
  assert.equal(h.events('NodeNotReady', 'web-1')[0].message, 'Node is not ready');
  assert.equal(h.store.get('coordination.k8s.io/leases', 'kube-node-lease', 'node-1')!.spec.renewTime, leaseAtHang, 'a hung kubelet renews nothing');

  const taintedAt = Date.parse(node(h, 'node-1').spec.taints[0].timeAdded);
  await h.advance(taintedAt + 299_000 - h.clock.now());
  assert.equal(pod(h, 'web-1').metadata.deletionTimestamp, undefined);
  await h.advance(2_000);
  const web = pod(h, 'web-1');
  assert.ok(web.metadata.deletionTimestamp, 'deleted after the default 300s toleration, stays Terminating');
  assert.equal(condition(web, 'DisruptionTarget').reason, 'DeletionByTaintManager');
  const tm = h.events('TaintManagerEviction', 'web-1');
  assert.deepEqual([tm[0].message, tm[0].source.component], ['Marking for deletion Pod default/web-1', 'taint-eviction-controller']);
  assert.equal(pod(h, 'agent').metadata.deletionTimestamp, undefined, 'tolerates unreachable forever');

  await h.advance(downAt + 10 * 60_000 + 10_000 - h.clock.now());
  assert.equal(condition(node(h, 'node-1'), 'Ready').status, 'True');
  const back = h.events('NodeReady', 'node-1');
  assert.deepEqual([back[0].message, back[0].source.component], ['Node node-1 status is now: NodeReady', 'kubelet']);
  assert.equal(h.events('NodeHasSufficientMemory', 'node-1').length, 1, 'Unknown -> False is reported too');
  assert.deepEqual(taints(h, 'node-1'), []);
  h.stop();
});

test('setKubeletDown: a node that comes back before 300s keeps its pods', async () => {
  const h = cluster([{ name: 'node-1' }]);
  runningPod(h, 'web', 'node-1');
  h.run(new NodeAgentController(), new NodeLifecycleController());
  setKubeletDown(h.ctx, 'node-1', 10 * 60_000);
  await h.advance(60_000);
  assert.equal(condition(node(h, 'node-1'), 'Ready').status, 'Unknown');
  setKubeletDown(h.ctx, 'node-1', 0);
  await h.advance(10_000);
  assert.equal(condition(node(h, 'node-1'), 'Ready').status, 'True');
  assert.deepEqual(taints(h, 'node-1'), []);
  assert.equal(h.events('TaintManagerEviction', 'web')[0].message, 'Cancelling deletion of Pod default/web');
  await h.advance(400_000);
  assert.equal(pod(h, 'web').metadata.deletionTimestamp, undefined);
  h.stop();
});

test('cordons and pressure conditions are mirrored as NoSchedule taints', async () => {
  const h = cluster([{ name: 'node-1' }]);
  h.run(new NodeLifecycleController());
  h.store.mutate('nodes', undefined, 'node-1', (n) => { n.spec.unschedulable = true; });
  await h.advance(0);
  assert.deepEqual(taints(h, 'node-1'), ['node.kubernetes.io/unschedulable:NoSchedule']);
  h.store.mutate('nodes', undefined, 'node-1', (n) => { delete n.spec.unschedulable; });
  await h.advance(0);
  assert.deepEqual(taints(h, 'node-1'), []);
  const setPressure = (status: string) => h.store.mutate('nodes', undefined, 'node-1', (n) => { condition(n, 'MemoryPressure').status = status; });
  setPressure('True');
  await h.advance(0);
  assert.deepEqual(taints(h, 'node-1'), ['node.kubernetes.io/memory-pressure:NoSchedule']);
  setPressure('Unknown');
  await h.advance(0);
  assert.deepEqual(taints(h, 'node-1'), []);
  h.stop();
});
