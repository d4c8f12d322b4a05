// The garbage collector: deletes dependents whose owners are gone, holds a
// foreground-deleted owner until its blocking dependents are gone, and strips
// owner references for orphaning deletes. Cascades (Deployment -> ReplicaSet
// -> Pod) follow from each level's own deletion.
import { ApiError } from '../status.ts';
import type { K8sObject, OwnerReference, StoreEvent } from '../types.ts';
import type { Controller, ControllerContext } from './controller.ts';
import { WorkQueue } from './workqueue.ts';

const FOREGROUND = 'foregroundDeletion';
const ORPHAN = 'orphan';

interface ItemRef {
  storage: string;
  namespace?: string;
  name: string;
}

const itemKey = (r: ItemRef) => `${r.storage}|${r.namespace ?? ''}|${r.name}`;

function parseItemKey(k: string): ItemRef {
  const [storage, namespace, name] = k.split('|');
  return { storage, namespace: namespace || undefined, name };
}

const refOf = (storage: string, o: K8sObject): ItemRef => ({ storage, namespace: o.metadata.namespace, name: o.metadata.name! });
const hasFinalizer = (o: K8sObject, f: string) => !!o.metadata.finalizers?.includes(f);

export class GarbageCollector implements Controller {
  readonly name = 'garbage-collector-controller';
  private ctx!: ControllerContext;
  private queue!: WorkQueue;
  private unsubscribe: (() => void) | undefined;
  /** owner uid -> dependents (item key -> ref), the GC's dependency graph. */
  private readonly dependents = new Map<string, Map<string, ItemRef>>();
  /** item key -> owner uids it currently points at. */
  private readonly owners = new Map<string, string[]>();

  start(ctx: ControllerContext): void {
    this.ctx = ctx;
    this.queue = new WorkQueue(ctx.clock, (k) => (k.startsWith('owner ') ? this.processOwner(k.slice(6)) : this.attemptToDelete(k.slice(8))));
    for (const storage of ctx.store.storages()) {
      for (const o of ctx.store.list(storage).items) this.observe(storage, o, 'ADDED');
    }
    this.unsubscribe = ctx.store.subscribe((ev) => this.onEvent(ev));
  }

  stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    this.queue?.stop();
  }

  private onEvent(ev: StoreEvent): void {
    const key = itemKey(refOf(ev.storage, ev.object));
    if (ev.type === 'DELETED') {
      this.index(key, []);
      for (const k of this.dependents.get(ev.object.metadata.uid!)?.keys() ?? []) this.queue.add(`attempt ${k}`);
      this.dependents.delete(ev.object.metadata.uid!);
      // An owner deleted in the foreground may have been waiting for this one.
      for (const r of ev.object.metadata.ownerReferences ?? []) this.enqueueOwner(ev.object, r);
      return;
    }
    this.observe(ev.storage, ev.object, ev.type, ev.old);
  }

  private observe(storage: string, o: K8sObject, type: string, old?: K8sObject): void {
    const key = itemKey(refOf(storage, o));
    const refs = o.metadata.ownerReferences ?? [];
    const before = this.owners.get(key) ?? [];
    const uids = refs.map((r) => r.uid);
    if (uids.join(',') !== before.join(',')) {
      this.index(key, uids, refOf(storage, o));
      if (refs.length) this.queue.add(`attempt ${key}`);
      // An owner waiting in the foreground stops waiting for a dependent that let go of it.
      for (const r of old?.metadata.ownerReferences ?? []) if (!uids.includes(r.uid)) this.enqueueOwner(o, r);
    } else if (type === 'ADDED' && refs.length) {
      this.queue.add(`attempt ${key}`);
    }
    if (o.metadata.deletionTimestamp && (hasFinalizer(o, FOREGROUND) || hasFinalizer(o, ORPHAN))) this.queue.add(`owner ${key}`);
    if (o.metadata.deletionTimestamp && !old?.metadata.deletionTimestamp) {
      for (const r of refs) this.enqueueOwner(o, r);
    }
  }

  private index(key: string, uids: string[], ref?: ItemRef): void {
    for (const u of this.owners.get(key) ?? []) {
      const m = this.dependents.get(u);
      m?.delete(key);
      if (m && m.size === 0) this.dependents.delete(u);
    }
    if (!uids.length || !ref) {
      this.owners.delete(key);
      return;
    }
    this.owners.set(key, uids);
    for (const u of uids) {
      let m = this.dependents.get(u);
      if (!m) this.dependents.set(u, (m = new Map()));
      m.set(key, ref);
    }
  }

  private ownerRef(dependent: K8sObject, r: OwnerReference): ItemRef | undefined {
    const t = this.ctx.store.types.byKind(r.apiVersion, r.kind);
    if (!t) return undefined;
    return { storage: t.storage, namespace: t.namespaced ? dependent.metadata.namespace : undefined, name: r.name };
  }

  private enqueueOwner(dependent: K8sObject, r: OwnerReference): void {
    const ref = this.ownerRef(dependent, r);
    if (ref) this.queue.add(`owner ${itemKey(ref)}`);
  }

  private get(ref: ItemRef): K8sObject | undefined {
    return this.ctx.store.get(ref.storage, ref.namespace, ref.name);
  }

  /** Dependents that still point at `uid`, read fresh from the store. */
  private currentDependents(uid: string): { ref: ItemRef; obj: K8sObject; owner: OwnerReference }[] {
    const out: { ref: ItemRef; obj: K8sObject; owner: OwnerReference }[] = [];
    for (const ref of this.dependents.get(uid)?.values() ?? []) {
      const obj = this.get(ref);
      const owner = obj?.metadata.ownerReferences?.find((r) => r.uid === uid);
      if (obj && owner) out.push({ ref, obj, owner });
    }
    return out;
  }

  /** An owner being deleted with the orphan or foregroundDeletion finalizer. */
  private processOwner(key: string): void {
    const ref = parseItemKey(key);
    const owner = this.get(ref);
    if (!owner?.metadata.deletionTimestamp) return;
    const uid = owner.metadata.uid!;
    if (hasFinalizer(owner, ORPHAN)) {
      for (const dep of this.currentDependents(uid)) {
        this.ctx.store.mutate(dep.ref.storage, dep.ref.namespace, dep.ref.name, (o) => {
          const rest = (o.metadata.ownerReferences ?? []).filter((r) => r.uid !== uid);
          if (rest.length) o.metadata.ownerReferences = rest;
          else delete o.metadata.ownerReferences;
        });
      }
      this.removeFinalizer(ref, ORPHAN);
      return;
    }
    if (!hasFinalizer(owner, FOREGROUND)) return;
    const blocking = this.currentDependents(uid).filter((d) => d.owner.blockOwnerDeletion === true);
    if (blocking.length === 0) {
      this.removeFinalizer(ref, FOREGROUND);
      return;
    }
    for (const d of blocking) {
      if (!d.obj.metadata.deletionTimestamp) this.attemptToDelete(itemKey(d.ref));
    }
  }

  private removeFinalizer(ref: ItemRef, finalizer: string): void {
    this.ctx.store.mutate(ref.storage, ref.namespace, ref.name, (o) => {
      const rest = (o.metadata.finalizers ?? []).filter((f) => f !== finalizer);
      if (rest.length === (o.metadata.finalizers ?? []).length) return false;
      if (rest.length) o.metadata.finalizers = rest;
      else delete o.metadata.finalizers;
    });
  }

  /** attemptToDeleteItem: delete a dependent once none of its owners is alive. */
  private attemptToDelete(key: string): void {
    const ref = parseItemKey(key);
    const item = this.get(ref);
    if (!item) return;
    if (item.metadata.deletionTimestamp) {
      if (hasFinalizer(item, FOREGROUND)) this.queue.add(`owner ${key}`);
      return;
    }
    const refs = item.metadata.ownerReferences ?? [];
    if (!refs.length) return;
    const solid: OwnerReference[] = [];
    const gone: string[] = [];
    let waiting = false;
    for (const r of refs) {
      const at = this.ownerRef(item, r);
      // An owner of a kind the sandbox does not serve cannot be checked; keep the dependent.
      if (!at) {
        solid.push(r);
        continue;
      }
      const owner = this.get(at);
      if (!owner || owner.metadata.uid !== r.uid) gone.push(r.uid);
      else if (owner.metadata.deletionTimestamp && hasFinalizer(owner, FOREGROUND)) {
        waiting = true;
        gone.push(r.uid);
      } else solid.push(r);
    }
    if (solid.length) {
      if (!gone.length) return;
      this.ctx.store.mutate(ref.storage, ref.namespace, ref.name, (o) => {
        o.metadata.ownerReferences = (o.metadata.ownerReferences ?? []).filter((r) => !gone.includes(r.uid));
      });
      return;
    }
    let policy: 'Foreground' | 'Background' | 'Orphan';
    if (waiting && (this.dependents.get(item.metadata.uid!)?.size ?? 0) > 0) policy = 'Foreground';
    else if (hasFinalizer(item, ORPHAN)) policy = 'Orphan';
    else if (hasFinalizer(item, FOREGROUND)) policy = 'Foreground';
    else policy = 'Background';
    try {
      this.ctx.store.delete(ref.storage, ref.namespace, ref.name, { propagationPolicy: policy, preconditions: { uid: item.metadata.uid } });
    } catch (err) {
      if (err instanceof ApiError && (err.code === 404 || err.code === 409)) return;
      throw err;
    }
  }
}
