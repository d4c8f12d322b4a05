// PersistentVolumeClaims and PersistentVolumes: the persistentvolume
// controller (binding a claim to a matching Available volume, phases,
// Released volumes, the events it records), a dynamic provisioner standing
// in for the class's external one (rancher.io/local-path in kind: a hostPath
// volume pinned to the node the scheduler chose, for WaitForFirstConsumer
// classes), and the pvc/pv-protection controllers that let a claim or volume
// go only once nothing uses it.
import { randomUUID } from 'node:crypto';
import { ApiError } from '../status.ts';
import type { K8sObject, StoreEvent } from '../types.ts';
import type { Controller, ControllerContext } from './controller.ts';
import { WorkQueue, objectKey, splitKey } from './workqueue.ts';

const PVC = 'persistentvolumeclaims';
const PV = 'persistentvolumes';
const SC = 'storage.k8s.io/storageclasses';
export const SELECTED_NODE = 'volume.kubernetes.io/selected-node';
export const PVC_PROTECTION = 'kubernetes.io/pvc-protection';
export const PV_PROTECTION = 'kubernetes.io/pv-protection';
const PV_CONTROLLER = { component: 'persistentvolume-controller' };
/** How long the stand-in external provisioner takes to create a volume (cluster time). */
const PROVISION_MS = 1_000;

const quantityBytes = (q: unknown): number => {
  const m = String(q ?? '').match(/^(\d+(?:\.\d+)?)([KMGTPE]i?|m|k)?$/);
  if (!m) return 0;
  const units: Record<string, number> = { '': 1, k: 1e3, K: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60, m: 1e-3 };
  return Number(m[1]) * (units[m[2] ?? ''] ?? 1);
};

/** The claims a pod mounts, by name. */
export const podClaims = (pod: K8sObject): string[] =>
  (pod.spec?.volumes ?? []).map((v: any) => v?.persistentVolumeClaim?.claimName).filter((n: unknown): n is string => typeof n === 'string');

const inUse = (pods: K8sObject[], claim: string) => pods.some((p) => !['Succeeded', 'Failed'].includes(p.status?.phase) && podClaims(p).includes(claim));

export class VolumeController implements Controller {
  readonly name = 'persistentvolume-controllers';
  private ctx!: ControllerContext;
  private queue!: WorkQueue;
  private unsubscribe: (() => void) | undefined;
  /** Claims whose volume the provisioner is creating: when it will be done. */
  private readonly provisioning = new Map<string, number>();

  start(ctx: ControllerContext): void {
    this.ctx = ctx;
    this.queue = new WorkQueue(ctx.clock, (k) => this.sync(k));
    this.unsubscribe = ctx.store.subscribe((ev) => this.onEvent(ev));
    for (const c of ctx.store.list(PVC).items) this.queue.add(`claim ${objectKey(c.metadata)}`);
    for (const v of ctx.store.list(PV).items) this.queue.add(`volume ${v.metadata.name}`);
  }

  stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    this.queue?.stop();
    this.provisioning.clear();
  }

  private onEvent(ev: StoreEvent): void {
    const o = ev.object;
    if (ev.storage === PVC) {
      this.queue.add(`claim ${objectKey(o.metadata)}`);
      if (ev.type === 'DELETED' && o.spec?.volumeName) this.queue.add(`volume ${o.spec.volumeName}`);
    } else if (ev.storage === PV) {
      this.queue.add(`volume ${o.metadata.name}`);
      const ref = o.spec?.claimRef;
      if (ref?.name) this.queue.add(`claim ${ref.namespace}/${ref.name}`);
      // A volume becoming Available may be the one a waiting claim needs.
      else if (o.status?.phase === 'Available') this.queuePendingClaims();
    } else if (ev.storage === SC && ev.type === 'ADDED') {
      this.queuePendingClaims();
    } else if (ev.storage === 'pods') {
      // A pod finishing or going away may release a claim waiting on its protection finalizer.
      for (const claim of podClaims(ev.old ?? o)) this.queue.add(`claim ${o.metadata.namespace}/${claim}`);
    }
  }

  private queuePendingClaims(): void {
    for (const c of this.ctx.store.list(PVC).items) if (!c.spec?.volumeName) this.queue.add(`claim ${objectKey(c.metadata)}`);
  }

  private sync(item: string): void {
    const [what, key] = [item.slice(0, item.indexOf(' ')), item.slice(item.indexOf(' ') + 1)];
    if (what === 'claim') this.syncClaim(key);
    else this.syncVolume(key);
  }

  private syncClaim(key: string): void {
    const { namespace, name } = splitKey(key);
    const store = this.ctx.store;
    const pvc = store.get(PVC, namespace, name);
    if (!pvc) {
      this.provisioning.delete(key);
      return;
    }
    if (pvc.metadata.deletionTimestamp) {
      if (pvc.metadata.finalizers?.includes(PVC_PROTECTION) && !inUse(store.list('pods', namespace).items, name)) {
        store.mutate(PVC, namespace, name, (c) => { c.metadata.finalizers = c.metadata.finalizers!.filter((f) => f !== PVC_PROTECTION); });
      }
      return;
    }
    if (pvc.spec?.volumeName) {
      const pv = store.get(PV, undefined, pvc.spec.volumeName);
      if (pv && pvc.status?.phase !== 'Bound') this.completeBinding(pvc, pv);
      if (!pv && pvc.status?.phase === 'Bound') {
        store.mutate(PVC, namespace, name, (c) => { c.status = { ...(c.status ?? {}), phase: 'Lost' }; }, { subresource: 'status' });
        this.ctx.events.emit(pvc, 'Warning', 'ClaimLost', 'Bound claim has lost its PersistentVolume. Data on the volume is lost!', PV_CONTROLLER);
      }
      return;
    }
    // A volume pre-bound to this claim (a provisioned one) or any matching Available one.
    const volumes = store.list(PV).items;
    const prebound = volumes.find((v) => v.spec?.claimRef?.uid === pvc.metadata.uid || (v.spec?.claimRef?.name === name && v.spec?.claimRef?.namespace === namespace && !v.spec?.claimRef?.uid));
    const match = prebound ?? this.findMatch(pvc, volumes);
    if (match) {
      this.bind(pvc, match);
      return;
    }
    this.provision(pvc, key);
  }

  /** The smallest Available volume of the claim's class with its access modes, mode and room for its request. */
  private findMatch(pvc: K8sObject, volumes: K8sObject[]): K8sObject | undefined {
    const want = quantityBytes(pvc.spec?.resources?.requests?.storage);
    const cls = pvc.spec?.storageClassName ?? '';
    const fits = volumes.filter((v) => !v.spec?.claimRef && !v.metadata.deletionTimestamp && v.status?.phase === 'Available'
      && (v.spec?.storageClassName ?? '') === cls && (v.spec?.volumeMode ?? 'Filesystem') === (pvc.spec?.volumeMode ?? 'Filesystem')
      && (pvc.spec?.accessModes ?? []).every((m: string) => (v.spec?.accessModes ?? []).includes(m))
      && quantityBytes(v.spec?.capacity?.storage) >= want);
    return fits.sort((a, b) => quantityBytes(a.spec.capacity.storage) - quantityBytes(b.spec.capacity.storage))[0];
  }

  private provision(pvc: K8sObject, key: string): void {
    const store = this.ctx.store;
    const cls = pvc.spec?.storageClassName;
    if (!cls) {
      this.ctx.events.emit(pvc, 'Normal', 'FailedBinding', 'no persistent volumes available for this claim and no storage class is set', PV_CONTROLLER);
      return;
    }
    const sc = store.get(SC, undefined, cls);
    if (!sc) {
      this.ctx.events.emit(pvc, 'Warning', 'ProvisioningFailed', `storageclass.storage.k8s.io "${cls}" not found`, PV_CONTROLLER);
      return;
    }
    if (sc.provisioner === 'kubernetes.io/no-provisioner') {
      this.ctx.events.emit(pvc, 'Normal', sc.volumeBindingMode === 'WaitForFirstConsumer' ? 'WaitForFirstConsumer' : 'FailedBinding',
        sc.volumeBindingMode === 'WaitForFirstConsumer' ? 'waiting for first consumer to be created before binding' : 'no persistent volumes available for this claim and no storage class is set', PV_CONTROLLER);
      return;
    }
    const node = pvc.metadata.annotations?.[SELECTED_NODE];
    if (sc.volumeBindingMode === 'WaitForFirstConsumer' && !node) {
      this.ctx.events.emit(pvc, 'Normal', 'WaitForFirstConsumer', 'waiting for first consumer to be created before binding', PV_CONTROLLER);
      return;
    }
    const now = this.ctx.clock.now();
    const due = this.provisioning.get(key);
    if (due === undefined) {
      store.mutate(PVC, pvc.metadata.namespace, pvc.metadata.name!, (c) => {
        c.metadata.annotations = { ...(c.metadata.annotations ?? {}), 'volume.beta.kubernetes.io/storage-provisioner': sc.provisioner, 'volume.kubernetes.io/storage-provisioner': sc.provisioner };
      });
      this.ctx.events.emit(pvc, 'Normal', 'ExternalProvisioning', `Waiting for a volume to be created either by the external provisioner '${sc.provisioner}' or manually by the system administrator. If volume creation is delayed, please verify that the provisioner is running and correctly registered.`, PV_CONTROLLER);
      this.ctx.events.emit(pvc, 'Normal', 'Provisioning', `External provisioner is provisioning volume for claim "${pvc.metadata.namespace}/${pvc.metadata.name}"`, this.provisioner(sc));
      this.provisioning.set(key, now + PROVISION_MS);
      this.queue.addAfter(`claim ${key}`, PROVISION_MS);
      return;
    }
    if (now < due) {
      this.queue.addAfter(`claim ${key}`, due - now);
      return;
    }
    this.provisioning.delete(key);
    const pvName = `pvc-${pvc.metadata.uid}`;
    const ns = pvc.metadata.namespace;
    const pv: K8sObject = {
      apiVersion: 'v1',
      kind: 'PersistentVolume',
      metadata: {
        name: pvName,
        annotations: { ...(node ? { 'local.path.provisioner/selected-node': node } : {}), 'pv.kubernetes.io/provisioned-by': sc.provisioner },
      },
      spec: {
        accessModes: pvc.spec.accessModes,
        capacity: { storage: pvc.spec.resources.requests.storage },
        claimRef: { apiVersion: 'v1', kind: 'PersistentVolumeClaim', name: pvc.metadata.name, namespace: ns, resourceVersion: pvc.metadata.resourceVersion, uid: pvc.metadata.uid },
        hostPath: { path: `/var/local-path-provisioner/${pvName}_${ns}_${pvc.metadata.name}`, type: 'DirectoryOrCreate' },
        ...(node ? { nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [node] }] }] } } } : {}),
        persistentVolumeReclaimPolicy: sc.reclaimPolicy ?? 'Delete',
        storageClassName: cls,
        volumeMode: pvc.spec.volumeMode ?? 'Filesystem',
      },
    };
    try {
      store.create(PV, pv);
    } catch (err) {
      if (!(err instanceof ApiError && err.code === 409)) throw err;
    }
    this.ctx.events.emit(pvc, 'Normal', 'ProvisioningSucceeded', `Successfully provisioned volume ${pvName}`, this.provisioner(sc));
  }

  /** The external provisioner's event source: its name, its pod, its identity. */
  private provisioner(sc: K8sObject): { component: string } {
    return { component: `${sc.provisioner}_local-path-provisioner-7d4b4c6f8d-2b5ml_${randomUUIDFor(sc.provisioner)}` };
  }

  private bind(pvc: K8sObject, pv: K8sObject): void {
    const store = this.ctx.store;
    const provisioned = Boolean(pv.spec?.claimRef);
    store.mutate(PV, undefined, pv.metadata.name!, (v) => {
      v.spec.claimRef = { apiVersion: 'v1', kind: 'PersistentVolumeClaim', name: pvc.metadata.name, namespace: pvc.metadata.namespace, resourceVersion: pvc.metadata.resourceVersion, uid: pvc.metadata.uid };
      if (!provisioned) v.metadata.annotations = { ...(v.metadata.annotations ?? {}), 'pv.kubernetes.io/bound-by-controller': 'yes' };
    });
    store.mutate(PV, undefined, pv.metadata.name!, (v) => { v.status = { ...(v.status ?? {}), phase: 'Bound' }; }, { subresource: 'status' });
    const bound = store.mutate(PVC, pvc.metadata.namespace, pvc.metadata.name!, (c) => {
      c.spec.volumeName = pv.metadata.name;
      c.metadata.annotations = { ...(c.metadata.annotations ?? {}), 'pv.kubernetes.io/bind-completed': 'yes', 'pv.kubernetes.io/bound-by-controller': 'yes' };
    });
    if (bound) this.completeBinding(bound, store.get(PV, undefined, pv.metadata.name!)!);
  }

  private completeBinding(pvc: K8sObject, pv: K8sObject): void {
    this.ctx.store.mutate(PVC, pvc.metadata.namespace, pvc.metadata.name!, (c) => {
      c.status = { ...(c.status ?? {}), phase: 'Bound', accessModes: pv.spec?.accessModes, capacity: { ...(pv.spec?.capacity ?? {}) } };
    }, { subresource: 'status' });
  }

  private syncVolume(name: string): void {
    const store = this.ctx.store;
    const pv = store.get(PV, undefined, name);
    if (!pv) return;
    if (pv.metadata.deletionTimestamp) {
      if (pv.metadata.finalizers?.includes(PV_PROTECTION) && pv.status?.phase !== 'Bound') {
        store.mutate(PV, undefined, name, (v) => { v.metadata.finalizers = v.metadata.finalizers!.filter((f) => f !== PV_PROTECTION); });
      }
      return;
    }
    const ref = pv.spec?.claimRef;
    const setPhase = (phase: string) => {
      if (pv.status?.phase !== phase) store.mutate(PV, undefined, name, (v) => { v.status = { ...(v.status ?? {}), phase }; }, { subresource: 'status' });
    };
    if (!ref) return setPhase('Available');
    const claim = store.get(PVC, ref.namespace, ref.name);
    if (claim && (!ref.uid || claim.metadata.uid === ref.uid)) {
      if (claim.spec?.volumeName === name) setPhase('Bound');
      return;
    }
    if (!ref.uid) return; // pre-bound by an administrator, waiting for its claim
    // The claim is gone: the volume is released, and a provisioned one with Delete goes too.
    setPhase('Released');
    if (pv.spec?.persistentVolumeReclaimPolicy === 'Delete' && pv.metadata.annotations?.['pv.kubernetes.io/provisioned-by']) {
      try {
        store.delete(PV, undefined, name);
      } catch (err) {
        if (!(err instanceof ApiError && err.code === 404)) throw err;
      }
    }
  }
}

const identities = new Map<string, string>();
/** One stable identity per provisioner name, as a running provisioner has. */
function randomUUIDFor(provisioner: string): string {
  let id = identities.get(provisioner);
  if (!id) identities.set(provisioner, (id = randomUUID()));
  return id;
}
