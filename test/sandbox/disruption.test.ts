import { test } from 'node:test';
import assert from 'node:assert/strict';
import { k8sTime } from '../../src/common/clock.ts';
import { harness, type Harness } from './harness.ts';
import { DisruptionController } from '../../src/sandbox/controllers/disruption.ts';
import { newControllerRef } from '../../src/sandbox/controllers/owners.ts';
import type { K8sObject } from '../../src/sandbox/types.ts';

const PDB = 'policy/poddisruptionbudgets';

const template = { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'app', image: 'web:1' }] } };

/** A Deployment of `replicas` whose ReplicaSet owns `ready` Ready pods, built directly in the store. */
function workload(h: Harness, replicas: number, ready = replicas, owner: 'Deployment' | 'none' = 'Deployment'): void {
  let rs: K8sObject | undefined;
  if (owner === 'Deployment') {
    const deploy = h.store.create('apps/deployments', { metadata: { name: 'web', namespace: 'default' }, spec: { replicas, selector: { matchLabels: { app: 'web' } }, template } });
    rs = h.store.create('apps/replicasets', {
      metadata: { name: 'web-7d4b9c', namespace: 'default', ownerReferences: [newControllerRef(deploy)] },
      spec: { replicas, selector: { matchLabels: { app: 'web' } }, template },
    });
  }
  const now = k8sTime(h.clock.now());
  for (let i = 0; i < replicas; i++) {
    const name = `web-${i}`;
    h.store.create('pods', {
      metadata: { name, namespace: 'default', labels: { app: 'web' }, ...(rs ? { ownerReferences: [newControllerRef(rs)] } : {}) },
      spec: { containers: [{ name: 'app', image: 'web:1' }] },
    });
    h.store.mutate('pods', 'default', name, (p) => {
      p.status = { ...p.status, phase: 'Running', conditions: [{ type: 'Ready', status: i < ready ? 'True' : 'False', lastTransitionTime: now }] };
    }, { subresource: 'status' });
  }
}

function pdb(h: Harness, name: string, spec: Record<string, unknown>): void {
  h.store.create(PDB, { metadata: { name, namespace: 'default' }, spec: { selector: { matchLabels: { app: 'web' } }, ...spec } });
}

const status = (h: Harness, name: string) => h.store.get(PDB, 'default', name)!.status;

test('disruptionsAllowed for minAvailable and maxUnavailable, as integers and percentages', async () => {
  const h = harness();
  h.run(new DisruptionController());
  workload(h, 4);
  pdb(h, 'min-int', { minAvailable: 2 });
  pdb(h, 'min-pct', { minAvailable: '75%' });
  pdb(h, 'max-int', { maxUnavailable: 1 });
  pdb(h, 'max-pct', { maxUnavailable: '50%' });
  await h.advance(1000);

  const minInt = status(h, 'min-int');
  assert.deepEqual(
    { currentHealthy: minInt.currentHealthy, desiredHealthy: minInt.desiredHealthy, expectedPods: minInt.expectedPods, disruptionsAllowed: minInt.disruptionsAllowed, observedGeneration: minInt.observedGeneration },
    { currentHealthy: 4, desiredHealthy: 2, expectedPods: 4, disruptionsAllowed: 2, observedGeneration: 1 },
  );
  assert.deepEqual(
    { ...minInt.conditions[0], lastTransitionTime: undefined },
    { type: 'DisruptionAllowed', status: 'True', observedGeneration: 1, lastTransitionTime: undefined, reason: 'SufficientPods', message: '' },
  );
  assert.equal(status(h, 'min-pct').desiredHealthy, 3, '75% of 4, rounded up');
  assert.equal(status(h, 'min-pct').disruptionsAllowed, 1);
  assert.equal(status(h, 'max-int').desiredHealthy, 3);
  assert.equal(status(h, 'max-int').disruptionsAllowed, 1);
  assert.equal(status(h, 'max-pct').desiredHealthy, 2);
  assert.equal(status(h, 'max-pct').disruptionsAllowed, 2);
  h.stop();
});

test('unready pods reduce disruptionsAllowed (InsufficientPods at zero) and a pod turning ready raises it', async () => {
  const h = harness();
  h.run(new DisruptionController());
  workload(h, 3, 2);
  pdb(h, 'max-int', { maxUnavailable: 1 });
  pdb(h, 'min-int', { minAvailable: 2 });
  await h.advance(1000);
  assert.equal(status(h, 'max-int').currentHealthy, 2);
  assert.equal(status(h, 'max-int').disruptionsAllowed, 0);
  assert.equal(status(h, 'max-int').conditions[0].reason, 'InsufficientPods');
  assert.equal(status(h, 'max-int').conditions[0].status, 'False');
  assert.equal(status(h, 'min-int').disruptionsAllowed, 0);

  h.store.mutate('pods', 'default', 'web-2', (p) => { p.status.conditions[0].status = 'True'; }, { subresource: 'status' });
  await h.advance(1000);
  assert.equal(status(h, 'max-int').disruptionsAllowed, 1, 'recomputed on the pod change');
  assert.equal(status(h, 'min-int').disruptionsAllowed, 1);
  assert.equal(status(h, 'min-int').conditions[0].reason, 'SufficientPods');
  h.stop();
});

test('an evicted pod stays out of currentHealthy until it is deleted or two minutes pass', async () => {
  const h = harness();
  h.run(new DisruptionController());
  workload(h, 3);
  pdb(h, 'min-int', { minAvailable: 1 });
  await h.advance(1000);
  assert.equal(status(h, 'min-int').disruptionsAllowed, 2);
  // What the eviction endpoint writes when it admits an eviction.
  h.store.mutate(PDB, 'default', 'min-int', (o) => {
    o.status.disruptionsAllowed = 1;
    o.status.disruptedPods = { 'web-0': k8sTime(h.clock.now()) };
  }, { subresource: 'status' });
  await h.advance(1000);
  assert.equal(status(h, 'min-int').currentHealthy, 2);
  assert.equal(status(h, 'min-int').disruptionsAllowed, 1);
  await h.advance(120_000);
  assert.equal(status(h, 'min-int').currentHealthy, 3, 'the eviction never turned into a deletion');
  assert.equal(status(h, 'min-int').disruptedPods, undefined);
  assert.equal(h.events('NotDeleted', 'web-0').length, 1);
  h.stop();
});

test('percentages need controllers: unmanaged pods warn, an unscalable owner fails safe', async () => {
  const h = harness();
  h.run(new DisruptionController());
  workload(h, 2, 2, 'none');
  pdb(h, 'pct', { minAvailable: '50%' });
  await h.advance(1000);
  assert.equal(status(h, 'pct').expectedPods, 0);
  assert.equal(status(h, 'pct').disruptionsAllowed, 0);
  assert.match(h.events('UnmanagedPods', 'pct')[0].message, /^Pods selected by this PodDisruptionBudget \(selector: app=web\) were found to be unmanaged/);
  h.stop();

  const h2 = harness();
  h2.run(new DisruptionController());
  const ds = h2.store.create('apps/daemonsets', { metadata: { name: 'agent', namespace: 'default' }, spec: { selector: { matchLabels: { app: 'web' } }, template } });
  h2.store.create('pods', { metadata: { name: 'agent-x', namespace: 'default', labels: { app: 'web' }, ownerReferences: [newControllerRef(ds)] }, spec: template.spec });
  pdb(h2, 'max', { maxUnavailable: 1 });
  await h2.advance(1000);
  const s = status(h2, 'max');
  assert.equal(s.disruptionsAllowed, 0);
  assert.equal(s.conditions[0].reason, 'SyncFailed');
  assert.equal(s.conditions[0].message, 'daemonsets.apps does not implement the scale subresource');
  assert.equal(h2.events('CalculateExpectedPodCountFailed')[0].message, 'Failed to calculate the number of expected pods: daemonsets.apps does not implement the scale subresource');
  h2.stop();
});
