// Claims, volumes and classes in virtual time: the persistentvolume
// controller's binding and events, the stand-in provisioner, protection
// finalizers, reclaim policies, and the scheduler's volume binding
// (PreFilter messages, WaitForFirstConsumer, volume node affinity).
import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { buildNode } from '../../src/sandbox/cluster.ts';
import { SchedulerController } from '../../src/sandbox/controllers/scheduler.ts';
import { VolumeController } from '../../src/sandbox/controllers/volumes.ts';
import { harness, type Harness } from './harness.ts';

const SC = 'storage.k8s.io/storageclasses';

describe('persistent volumes: binding, provisioning and scheduling', { timeout: 60_000 }, () => {
  let h: Harness;
  beforeEach(() => {
    h = harness();
    for (const [i, n] of ['node-1', 'node-2'].entries()) h.store.create('nodes', buildNode({ name: n }, h.clock.now(), i));
    h.store.create(SC, { metadata: { name: 'standard', annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } }, provisioner: 'rancher.io/local-path', volumeBindingMode: 'WaitForFirstConsumer' });
    h.store.create(SC, { metadata: { name: 'fast' }, provisioner: 'example.com/fast' });
    h.store.create(SC, { metadata: { name: 'manual' }, provisioner: 'kubernetes.io/no-provisioner' });
    h.run(new VolumeController(), new SchedulerController());
  });
  afterEach(() => h.stop());

  const settle = async (ms = 50) => {
    for (let i = 0; i < 5; i++) await h.advance(ms);
  };
  const claim = (name: string, spec: Record<string, unknown> = {}) =>
    h.store.create('persistentvolumeclaims', { metadata: { name, namespace: 'default' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, ...spec } });
  const pod = (name: string, claimName: string) =>
    h.store.create('pods', { metadata: { name, namespace: 'default' }, spec: { volumes: [{ name: 'd', persistentVolumeClaim: { claimName } }], containers: [{ name: 'c', image: 'nginx:1.27' }] } });
  const getClaim = (name: string) => h.store.get('persistentvolumeclaims', 'default', name)!;
  const scheduled = (name: string) => h.store.get('pods', 'default', name)!.status.conditions?.find((c: any) => c.type === 'PodScheduled');
  const manualPV = (name: string, size: string, extra: Record<string, unknown> = {}) =>
    h.store.create('persistentvolumes', { metadata: { name }, spec: { capacity: { storage: size }, accessModes: ['ReadWriteOnce'], hostPath: { path: `/mnt/${name}` }, storageClassName: 'manual', ...extra } });

  it('admission gives a claim the default class and the protection finalizer; a new volume is Available', async () => {
    claim('data');
    manualPV('pv-a', '5Gi');
    await settle();
    const c = getClaim('data');
    assert.equal(c.spec.storageClassName, 'standard');
    assert.deepEqual(c.metadata.finalizers, ['kubernetes.io/pvc-protection']);
    assert.equal(c.spec.volumeMode, 'Filesystem');
    const pv = h.store.get('persistentvolumes', undefined, 'pv-a')!;
    assert.deepEqual([pv.status.phase, pv.spec.persistentVolumeReclaimPolicy, pv.metadata.finalizers], ['Available', 'Retain', ['kubernetes.io/pv-protection']]);
  });

  it('an Immediate class is provisioned at once (after the provisioner\'s second) and bound both ways', async () => {
    claim('data', { storageClassName: 'fast' });
    await settle(10);
    assert.equal(getClaim('data').status.phase, 'Pending');
    assert.equal(getClaim('data').metadata.annotations!['volume.kubernetes.io/storage-provisioner'], 'example.com/fast');
    await settle(300);
    const c = getClaim('data');
    assert.equal(c.status.phase, 'Bound');
    assert.equal(c.spec.volumeName, `pvc-${c.metadata.uid}`);
    assert.deepEqual(c.status.capacity, { storage: '1Gi' });
    assert.equal(c.metadata.annotations!['pv.kubernetes.io/bind-completed'], 'yes');
    const pv = h.store.get('persistentvolumes', undefined, c.spec.volumeName)!;
    assert.equal(pv.status.phase, 'Bound');
    assert.deepEqual([pv.spec.claimRef.name, pv.spec.claimRef.uid, pv.spec.persistentVolumeReclaimPolicy, pv.spec.nodeAffinity], ['data', c.metadata.uid, 'Delete', undefined]);
    assert.deepEqual(h.events(undefined, 'data').map((e) => e.reason), ['ExternalProvisioning', 'Provisioning', 'ProvisioningSucceeded']);
  });

  it('a claim binds the smallest matching Available volume; without one and without a class it waits', async () => {
    manualPV('big', '10Gi');
    manualPV('small', '2Gi');
    manualPV('rwx', '1Gi', { accessModes: ['ReadWriteMany'] });
    claim('data', { storageClassName: 'manual' });
    claim('none', { storageClassName: '' });
    claim('ghost', { storageClassName: 'nope' });
    await settle();
    assert.equal(getClaim('data').spec.volumeName, 'small');
    assert.equal(h.store.get('persistentvolumes', undefined, 'small')!.metadata.annotations!['pv.kubernetes.io/bound-by-controller'], 'yes');
    assert.equal(getClaim('none').status.phase, 'Pending');
    assert.equal(h.events('FailedBinding', 'none')[0].message, 'no persistent volumes available for this claim and no storage class is set');
    assert.equal(h.events('ProvisioningFailed', 'ghost')[0].message, 'storageclass.storage.k8s.io "nope" not found');
  });

  it('a volume created after its claim is found for it once Available', async () => {
    claim('early', { storageClassName: 'manual' });
    await settle();
    manualPV('late', '1Gi');
    await settle();
    assert.equal(getClaim('early').spec.volumeName, 'late');
    assert.equal(getClaim('early').status.phase, 'Bound');
  });

  it('pods whose claim is missing, deleting or unbound-Immediate stay Pending with the scheduler\'s messages', async () => {
    pod('orphan', 'missing');
    claim('never', { storageClassName: 'manual' });
    pod('waits', 'never');
    await settle();
    assert.equal(scheduled('orphan').message, '0/2 nodes are available: persistentvolumeclaim "missing" not found. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling.');
    assert.equal(scheduled('waits').message, '0/2 nodes are available: pod has unbound immediate PersistentVolumeClaims. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling.');
    assert.equal(h.events('FailedScheduling', 'orphan')[0].type, 'Warning');
    // A claim appearing, then bound, moves the pod back to the active queue (after its back-off).
    claim('missing', { storageClassName: 'fast' });
    await settle(1_000);
    assert.ok(h.store.get('pods', 'default', 'orphan')!.spec.nodeName);
  });

  it('WaitForFirstConsumer: the claim waits for a pod, is provisioned on the node the scheduler chose, and the pod lands there', async () => {
    claim('data');
    await settle();
    assert.equal(getClaim('data').status.phase, 'Pending');
    assert.equal(h.events('WaitForFirstConsumer', 'data')[0].message, 'waiting for first consumer to be created before binding');
    pod('db', 'data');
    await settle(300);
    const c = getClaim('data');
    const node = c.metadata.annotations!['volume.kubernetes.io/selected-node'];
    assert.ok(node);
    assert.equal(c.status.phase, 'Bound');
    const pv = h.store.get('persistentvolumes', undefined, c.spec.volumeName)!;
    assert.deepEqual(pv.spec.nodeAffinity.required.nodeSelectorTerms[0].matchExpressions[0].values, [node]);
    assert.equal(h.store.get('pods', 'default', 'db')!.spec.nodeName, node);
    assert.equal(h.events('FailedScheduling', 'db').length, 0);
  });

  it('a bound volume\'s node affinity decides the node', async () => {
    manualPV('pinned', '1Gi', { nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: ['node-2'] }] }] } } });
    claim('data', { storageClassName: 'manual' });
    await settle();
    for (const n of ['p1', 'p2', 'p3']) pod(n, 'data');
    await settle();
    for (const n of ['p1', 'p2', 'p3']) assert.equal(h.store.get('pods', 'default', n)!.spec.nodeName, 'node-2');
  });

  it('a claim in use waits for its pod before it goes; its provisioned volume is then deleted, a Retain one released', async () => {
    claim('data', { storageClassName: 'fast' });
    manualPV('keep', '1Gi');
    claim('kept', { storageClassName: 'manual' });
    await settle(300);
    pod('user', 'data');
    await settle();
    const pvName = getClaim('data').spec.volumeName;
    h.store.delete('persistentvolumeclaims', 'default', 'data');
    h.store.delete('persistentvolumeclaims', 'default', 'kept');
    await settle();
    assert.ok(getClaim('data').metadata.deletionTimestamp, 'held by the pod');
    h.store.remove('pods', h.store.get('pods', 'default', 'user')!);
    await settle();
    assert.equal(h.store.get('persistentvolumeclaims', 'default', 'data'), undefined);
    assert.equal(h.store.get('persistentvolumes', undefined, pvName), undefined);
    assert.equal(h.store.get('persistentvolumes', undefined, 'keep')!.status.phase, 'Released');
  });
});
