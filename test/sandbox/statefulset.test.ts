import { test } from 'node:test';
import assert from 'node:assert/strict';
import { harness, settlePods, type Harness } from './harness.ts';
import { StatefulSetController, ordinalOf } from '../../src/sandbox/controllers/statefulset.ts';
import type { K8sObject } from '../../src/sandbox/types.ts';

const STS = 'apps/statefulsets';

function webSet(replicas: number, extra: Record<string, unknown> = {}): K8sObject {
  return {
    metadata: { name: 'web', namespace: 'default' },
    spec: {
      replicas,
      serviceName: 'web',
      selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'nginx', image: 'nginx:1.27' }] } },
      ...extra,
    },
  };
}

/** Stands in for scheduler + kubelet: binds pending pods to node-1, makes them Running and Ready, finishes deletions. */
const kubelet = (h: Harness) => settlePods(h, () => 'node-1');

const podNames = (h: Harness) => h.store.list('pods').items.map((p) => p.metadata.name).sort();

test('OrderedReady creates pods one at a time, each after its predecessor is Running and Ready', async () => {
  const h = harness();
  h.run(new StatefulSetController());
  h.store.create(STS, webSet(3));
  await h.advance(1000);
  assert.deepEqual(podNames(h), ['web-0']);
  await h.advance(5000);
  assert.deepEqual(podNames(h), ['web-0'], 'web-1 must wait for web-0 to be ready');

  kubelet(h);
  await h.advance(1000);
  assert.deepEqual(podNames(h), ['web-0', 'web-1']);
  kubelet(h);
  await h.advance(1000);
  kubelet(h);
  await h.advance(1000);
  assert.deepEqual(podNames(h), ['web-0', 'web-1', 'web-2']);

  const pod = h.store.get('pods', 'default', 'web-1')!;
  assert.equal(pod.metadata.labels!['statefulset.kubernetes.io/pod-name'], 'web-1');
  assert.equal(pod.metadata.labels!['apps.kubernetes.io/pod-index'], '1');
  assert.equal(pod.spec.hostname, 'web-1');
  assert.equal(pod.spec.subdomain, 'web');
  assert.equal(pod.metadata.ownerReferences![0].kind, 'StatefulSet');

  const set = h.store.get(STS, 'default', 'web')!;
  assert.equal(set.status.replicas, 3);
  assert.equal(set.status.readyReplicas, 3);
  assert.equal(set.status.availableReplicas, 3);
  assert.equal(set.status.currentRevision, set.status.updateRevision);
  assert.equal(pod.metadata.labels!['controller-revision-hash'], set.status.updateRevision);
  assert.ok(h.store.get('apps/controllerrevisions', 'default', set.status.updateRevision), 'ControllerRevision <name>-<hash> exists');
  assert.ok(h.events('SuccessfulCreate').some((e) => e.message === 'create Pod web-0 in StatefulSet web successful'));
  h.stop();
});

test('Parallel policy creates every pod at once', async () => {
  const h = harness();
  h.run(new StatefulSetController());
  h.store.create(STS, webSet(3, { podManagementPolicy: 'Parallel' }));
  await h.advance(1000);
  assert.deepEqual(podNames(h), ['web-0', 'web-1', 'web-2']);
  h.stop();
});

async function readySet(h: Harness, replicas: number): Promise<void> {
  h.store.create(STS, webSet(replicas));
  for (let i = 0; i < replicas + 1; i++) {
    await h.advance(1000);
    kubelet(h);
  }
  await h.advance(1000);
}

test('rolling update replaces pods in reverse ordinal order, one at a time', async () => {
  const h = harness();
  h.run(new StatefulSetController());
  await readySet(h, 3);
  const oldRevision = h.store.get(STS, 'default', 'web')!.status.updateRevision;

  const deleted: string[] = [];
  h.store.subscribe((ev) => {
    if (ev.storage === 'pods' && ev.object.metadata.deletionTimestamp && !ev.old?.metadata.deletionTimestamp) deleted.push(ev.object.metadata.name!);
  });
  h.store.mutate(STS, 'default', 'web', (s) => { s.spec.template.spec.containers[0].image = 'nginx:1.28'; });
  await h.advance(1000);
  assert.deepEqual(deleted, ['web-2']);
  await h.advance(1000);
  assert.deepEqual(deleted, ['web-2'], 'waits for web-2 to go before touching web-1');

  for (let i = 0; i < 8; i++) {
    kubelet(h);
    await h.advance(1000);
  }
  assert.deepEqual(deleted, ['web-2', 'web-1', 'web-0']);
  const set = h.store.get(STS, 'default', 'web')!;
  assert.notEqual(set.status.updateRevision, oldRevision);
  assert.equal(set.status.currentRevision, set.status.updateRevision);
  assert.equal(set.status.updatedReplicas, 3);
  for (const p of h.store.list('pods').items) {
    assert.equal(p.spec.containers[0].image, 'nginx:1.28');
    assert.equal(p.metadata.labels!['controller-revision-hash'], set.status.updateRevision);
  }
  assert.equal(h.store.list('apps/controllerrevisions').items.length, 2);
  assert.ok(h.events('SuccessfulDelete').some((e) => e.message === 'delete Pod web-2 in StatefulSet web successful'));
  h.stop();
});

test('scale down removes the highest ordinal first', async () => {
  const h = harness();
  h.run(new StatefulSetController());
  await readySet(h, 3);
  h.store.mutate(STS, 'default', 'web', (s) => { s.spec.replicas = 1; });
  await h.advance(1000);
  assert.ok(h.store.get('pods', 'default', 'web-2')!.metadata.deletionTimestamp);
  assert.ok(!h.store.get('pods', 'default', 'web-1')!.metadata.deletionTimestamp);
  for (let i = 0; i < 4; i++) {
    kubelet(h);
    await h.advance(1000);
  }
  assert.deepEqual(podNames(h), ['web-0']);
  assert.equal(h.store.get(STS, 'default', 'web')!.status.replicas, 1);
  h.stop();
});

test('ordinalOf parses only the set own pod names', () => {
  assert.equal(ordinalOf('web', 'web-12'), 12);
  assert.equal(ordinalOf('web', 'web-01'), undefined);
  assert.equal(ordinalOf('web', 'webx-1'), undefined);
});
