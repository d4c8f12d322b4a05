import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DeploymentController } from '../../src/sandbox/controllers/deployment.ts';
import { ReplicaSetController } from '../../src/sandbox/controllers/replicaset.ts';
import { GarbageCollector } from '../../src/sandbox/controllers/gc.ts';
import { NamespaceController } from '../../src/sandbox/controllers/namespace.ts';
import type { K8sObject } from '../../src/sandbox/types.ts';
import { harness, type Harness } from './harness.ts';

async function settle(h: Harness, ms = 0): Promise<void> {
  for (let i = 0; i < 15; i++) await h.advance(0);
  if (ms) await h.advance(ms);
}

function deployment(name: string, ns = 'default'): K8sObject {
  return {
    metadata: { name, namespace: ns },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'app', image: 'nginx:1.27' }] } },
    },
  };
}

function setup(): Harness {
  const h = harness({ namespaces: ['team'] });
  h.run(new DeploymentController(), new ReplicaSetController(), new GarbageCollector(), new NamespaceController());
  return h;
}

/** The scheduler's part: bind every pod, so deleting one becomes graceful. */
function bindAll(h: Harness, ns = 'default'): void {
  for (const p of h.store.list('pods', ns).items) h.store.mutate('pods', ns, p.metadata.name!, (o) => { o.spec.nodeName = 'node-1'; });
}

/** The kubelet's part: finish every pod that is terminating. */
function finishTerminating(h: Harness, ns = 'default'): void {
  for (const p of h.store.list('pods', ns).items) if (p.metadata.deletionTimestamp) h.store.remove('pods', p);
}

const count = (h: Harness, storage: string, ns = 'default') => h.store.list(storage, ns).items.length;

test('background deletion removes the ReplicaSets and then their pods', async () => {
  const h = setup();
  h.store.create('apps/deployments', deployment('web'));
  await settle(h);
  assert.equal(count(h, 'apps/replicasets'), 1);
  assert.equal(count(h, 'pods'), 2);
  h.store.delete('apps/deployments', 'default', 'web');
  assert.equal(h.store.get('apps/deployments', 'default', 'web'), undefined, 'the owner goes at once');
  await settle(h);
  assert.equal(count(h, 'apps/replicasets'), 0);
  assert.equal(count(h, 'pods'), 0);
  h.stop();
});

test('foreground deletion keeps the owner until blocking dependents are gone', async () => {
  const h = setup();
  h.store.create('apps/deployments', deployment('web'));
  await settle(h);
  bindAll(h);
  h.store.delete('apps/deployments', 'default', 'web', { propagationPolicy: 'Foreground' });
  await settle(h);
  const d = h.store.get('apps/deployments', 'default', 'web')!;
  assert.ok(d.metadata.deletionTimestamp);
  assert.deepEqual(d.metadata.finalizers, ['foregroundDeletion']);
  const [rs] = h.store.list('apps/replicasets', 'default').items;
  assert.ok(rs.metadata.deletionTimestamp, 'the ReplicaSet is deleted in the foreground too');
  assert.deepEqual(rs.metadata.finalizers, ['foregroundDeletion']);
  const pods = h.store.list('pods', 'default').items;
  assert.equal(pods.length, 2, 'bound pods wait for their kubelet');
  assert.ok(pods.every((p) => p.metadata.deletionTimestamp));
  finishTerminating(h);
  await settle(h);
  assert.equal(count(h, 'apps/replicasets'), 0);
  assert.equal(h.store.get('apps/deployments', 'default', 'web'), undefined);
  h.stop();
});

test('orphan deletion strips owner references and keeps the dependents', async () => {
  const h = setup();
  h.store.create('apps/deployments', deployment('web'));
  await settle(h);
  h.store.delete('apps/deployments', 'default', 'web', { propagationPolicy: 'Orphan' });
  await settle(h);
  assert.equal(h.store.get('apps/deployments', 'default', 'web'), undefined);
  const [rs] = h.store.list('apps/replicasets', 'default').items;
  assert.equal(rs.metadata.ownerReferences, undefined);
  assert.equal(rs.metadata.deletionTimestamp, undefined);
  const pods = h.store.list('pods', 'default').items;
  assert.equal(pods.length, 2);
  assert.ok(pods.every((p) => p.metadata.ownerReferences?.[0].uid === rs.metadata.uid), 'pods still belong to the ReplicaSet');
  h.stop();
});

test('a dependent whose owner never existed is collected; one with a live co-owner only loses the dead reference', async () => {
  const h = setup();
  const live = h.store.create('configmaps', { metadata: { name: 'live', namespace: 'default' } });
  const ghost = { apiVersion: 'v1', kind: 'ConfigMap', name: 'ghost', uid: '00000000-0000-0000-0000-000000000000' };
  h.store.create('secrets', { metadata: { name: 'orphaned', namespace: 'default', ownerReferences: [ghost] } });
  h.store.create('secrets', {
    metadata: { name: 'shared', namespace: 'default', ownerReferences: [ghost, { apiVersion: 'v1', kind: 'ConfigMap', name: 'live', uid: live.metadata.uid! }] },
  });
  await settle(h);
  assert.equal(h.store.get('secrets', 'default', 'orphaned'), undefined);
  const shared = h.store.get('secrets', 'default', 'shared')!;
  assert.deepEqual(shared.metadata.ownerReferences!.map((r) => r.name), ['live']);
  // Owners of kinds the sandbox does not serve are left alone.
  h.store.create('secrets', { metadata: { name: 'custom', namespace: 'default', ownerReferences: [{ apiVersion: 'example.com/v1', kind: 'Widget', name: 'w', uid: 'x' }] } });
  await settle(h);
  assert.ok(h.store.get('secrets', 'default', 'custom'));
  h.stop();
});

test('deleting a namespace empties it, reports what remains, then removes it', async () => {
  const h = setup();
  h.store.create('apps/deployments', deployment('api', 'team'));
  h.store.create('configmaps', { metadata: { name: 'settings', namespace: 'team' } });
  await settle(h);
  bindAll(h, 'team');
  h.store.delete('namespaces', undefined, 'team');
  await settle(h);
  const ns = h.store.get('namespaces', undefined, 'team')!;
  assert.equal(ns.status.phase, 'Terminating');
  const remaining = ns.status.conditions.find((c: any) => c.type === 'NamespaceContentRemaining');
  assert.equal(remaining.status, 'True');
  assert.equal(remaining.message, 'Some resources are remaining: pods. has 2 resource instances');
  assert.equal(count(h, 'configmaps', 'team'), 0);
  assert.equal(count(h, 'apps/deployments', 'team'), 0);
  assert.equal(count(h, 'apps/replicasets', 'team'), 0);
  finishTerminating(h, 'team');
  await settle(h);
  assert.equal(h.store.get('namespaces', undefined, 'team'), undefined);
  assert.ok(h.store.get('namespaces', undefined, 'default'), 'other namespaces are untouched');
  h.stop();
});
