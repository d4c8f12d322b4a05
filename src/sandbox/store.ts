// The sandbox's etcd: every object, one global resourceVersion counter, and a
// bounded history of changes so watches can resume. When history is trimmed
// (or compact() is called) older resourceVersions answer 410 Gone, exactly the
// condition informers must survive.
import { randomUUID } from 'node:crypto';
import { type Clock, k8sTime } from '../common/index.ts';
import { ApiError } from './status.ts';
import { applyDefaults, validate } from './strategy.ts';
import { fillStructZeros } from './struct-zeros.ts';
import { semanticallyEqual } from './canonical.ts';
import { cloneObject } from './clone.ts';
import { TypeRegistry } from './api-types.ts';
import type { ResourceType } from './resources.ts';
import { CRD_STORAGE, markCrdDeleting, prepareCustomResource, typesFromCrd, validateCustomResource } from './apiextensions/index.ts';
import { admitCreate, admitUpdate } from './admission.ts';
import type { K8sObject, StoreEvent } from './types.ts';

export interface DeleteOptions {
  gracePeriodSeconds?: number;
  propagationPolicy?: 'Foreground' | 'Background' | 'Orphan';
  preconditions?: { uid?: string; resourceVersion?: string };
  dryRun?: boolean;
}

export interface WriteOptions {
  /** 'status' writes only .status; otherwise .status is kept from the stored object. */
  subresource?: 'status';
  dryRun?: boolean;
}

type Listener = (ev: StoreEvent) => void;

const NAME_CHARS = 'bcdfghjklmnpqrstvwxz2456789';

export function randomSuffix(n = 5): string {
  let s = '';
  for (let i = 0; i < n; i++) s += NAME_CHARS[Math.floor(Math.random() * NAME_CHARS.length)];
  return s;
}

const key = (ns: string | undefined, name: string) => `${ns ?? ''}/${name}`;

export class ObjectStore {
  readonly clock: Clock;
  private readonly data = new Map<string, Map<string, K8sObject>>();
  private rv = 1;
  private history: StoreEvent[] = [];
  /** Highest resourceVersion no longer in history; watches from below it get 410. */
  private compactedRV = 0;
  private readonly historyLimit: number;
  private readonly listeners = new Set<Listener>();
  private readonly queue: StoreEvent[] = [];
  private draining = false;
  /** resourceVersion of the latest change per storage, so a consumer can tell when it has caught up. */
  private readonly lastRVs = new Map<string, number>();
  /** Counts writes by verb and storage, so tests can prove nothing mutated. */
  readonly writes = new Map<string, number>();
  /** The types this store serves: the built-in ones and those its CRDs establish. */
  readonly types = new TypeRegistry();

  constructor(opts: { clock: Clock; historyLimit?: number }) {
    this.clock = opts.clock;
    this.historyLimit = opts.historyLimit ?? 20_000;
  }

  resourceVersion(): number {
    return this.rv;
  }

  /** resourceVersion of the latest change in one storage (0 when none). */
  lastChangeRV(storage: string): number {
    return this.lastRVs.get(storage) ?? 0;
  }

  get(storage: string, ns: string | undefined, name: string): K8sObject | undefined {
    const o = this.bucket(storage).get(key(ns, name));
    return o && cloneObject(o);
  }

  /** Current objects, optionally in one namespace, sorted by namespace/name like etcd keys. */
  list(storage: string, ns?: string): { items: K8sObject[]; resourceVersion: string } {
    const l = this.listShared(storage, ns);
    return { items: l.items.map((o) => cloneObject(o)), resourceVersion: l.resourceVersion };
  }

  /**
   * As list(), without copies: the stored objects themselves, to read and
   * never to change or keep. A paged LIST copies only the page it returns,
   * not every object of the kind for every page.
   */
  listShared(storage: string, ns?: string): { items: readonly K8sObject[]; resourceVersion: string } {
    const items: K8sObject[] = [];
    for (const [k, o] of [...this.bucket(storage)].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      if (ns === undefined || k.startsWith(`${ns}/`)) items.push(o);
    }
    return { items, resourceVersion: String(this.rv) };
  }

  /** The canonical type of a storage key (a custom resource's storage version). */
  typeOf(storage: string): ResourceType {
    const t = this.types.byStorage(storage);
    if (!t) throw new Error(`internal: unknown storage ${storage}`);
    return t;
  }

  create(storage: string, input: K8sObject, opts: WriteOptions = {}): K8sObject {
    const t = this.typeOf(storage);
    const obj = cloneObject(input);
    obj.metadata ??= {};
    const meta = obj.metadata;
    if (!t.namespaced) delete meta.namespace;
    else meta.namespace ||= 'default';
    const requestedName = meta.name || meta.generateName || '';
    if (!meta.name && meta.generateName) meta.name = meta.generateName + randomSuffix();
    if (!meta.name) {
      throw ApiError.invalid(t.kind, '', t.group, [{ field: 'metadata.name', message: 'Required value: name or generateName is required', reason: 'FieldValueRequired' }]);
    }
    if (t.namespaced && storage !== 'namespaces') this.requireNamespace(meta.namespace!);
    if (this.bucket(storage).has(key(meta.namespace, meta.name))) throw ApiError.alreadyExists(t.group, t.plural, meta.name);
    obj.apiVersion = t.group ? `${t.group}/${t.version}` : t.version;
    obj.kind = t.kind;
    meta.uid = randomUUID();
    meta.creationTimestamp = k8sTime(this.clock.now());
    delete meta.deletionTimestamp;
    delete meta.deletionGracePeriodSeconds;
    if (t.custom) {
      if (t.custom.terminating) throw new ApiError(405, 'MethodNotAllowed', 'create not allowed while custom resource definition is terminating');
      meta.generation = 1;
      prepareCustomResource(t, obj);
      validateCustomResource(t, obj, undefined);
    } else {
      if (obj.spec !== undefined || storage === 'pods') meta.generation = 1;
      applyDefaults(storage, obj, this, true);
      admitCreate(storage, obj, this, requestedName);
      fillStructZeros(storage, obj);
      validate(storage, obj, undefined);
    }
    if (opts.dryRun) return obj;
    return this.commit(storage, 'create', obj, undefined);
  }

  /** A client update: optimistic concurrency on metadata.resourceVersion when given. */
  update(storage: string, input: K8sObject, opts: WriteOptions = {}): K8sObject {
    const t = this.typeOf(storage);
    const ns = t.namespaced ? input.metadata?.namespace || 'default' : undefined;
    const name = input.metadata?.name ?? '';
    const old = this.bucket(storage).get(key(ns, name));
    if (!old) throw ApiError.notFound(t.group, t.plural, name);
    const given = input.metadata.resourceVersion;
    if (given && given !== old.metadata.resourceVersion) {
      throw ApiError.conflict(t.group, t.plural, name, 'the object has been modified; please apply your changes to the latest version and try again');
    }
    if (input.metadata.uid && input.metadata.uid !== old.metadata.uid) {
      throw ApiError.conflict(t.group, t.plural, name, `Precondition failed: UID in precondition: ${input.metadata.uid}, UID in object meta: ${old.metadata.uid}`);
    }
    const next = this.merge(storage, old, cloneObject(input), opts.subresource);
    if (t.custom) validateCustomResource(t, next, old);
    else {
      if (opts.subresource !== 'status') admitUpdate(storage, next, old, this);
      validate(storage, next, old);
    }
    if (opts.dryRun) return next;
    if (semanticallyEqual(next, old)) return cloneObject(old); // a no-op write keeps its resourceVersion
    return this.finishUpdate(storage, next, old);
  }

  /**
   * Read-modify-write for in-process controllers: no conflicts, `fn` edits the
   * object in place and returns false to abandon the write.
   */
  mutate(storage: string, ns: string | undefined, name: string, fn: (o: K8sObject) => void | boolean, opts: WriteOptions = {}): K8sObject | undefined {
    const old = this.bucket(storage).get(key(ns, name));
    if (!old) return undefined;
    const draft = cloneObject(old);
    if (fn(draft) === false) return cloneObject(old);
    const next = this.merge(storage, old, draft, opts.subresource, true);
    if (JSON.stringify(next) === JSON.stringify(old)) return cloneObject(old);
    return this.finishUpdate(storage, next, old);
  }

  delete(storage: string, ns: string | undefined, name: string, opts: DeleteOptions = {}): K8sObject {
    const t = this.typeOf(storage);
    const nsKey = t.namespaced ? ns || 'default' : undefined;
    const old = this.bucket(storage).get(key(nsKey, name));
    if (!old) throw ApiError.notFound(t.group, t.plural, name);
    const pre = opts.preconditions;
    if (pre?.uid && pre.uid !== old.metadata.uid) {
      throw ApiError.conflict(t.group, t.plural, name, `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${old.metadata.uid}`);
    }
    if (pre?.resourceVersion && pre.resourceVersion !== old.metadata.resourceVersion) {
      throw ApiError.conflict(t.group, t.plural, name, `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${old.metadata.resourceVersion}`);
    }
    if (opts.dryRun) return cloneObject(old);

    // The CRD registry adds its cleanup finalizer on the first delete, so its objects go first.
    if (storage === CRD_STORAGE && !old.metadata.deletionTimestamp) {
      return this.mutate(storage, undefined, name, (o) => markCrdDeleting(o, this.clock.now()))!;
    }
    const finalizers = [...(old.metadata.finalizers ?? [])];
    if (opts.propagationPolicy === 'Foreground' && !finalizers.includes('foregroundDeletion')) finalizers.push('foregroundDeletion');
    if (opts.propagationPolicy === 'Orphan' && !finalizers.includes('orphan')) finalizers.push('orphan');
    const grace = this.gracePeriod(storage, old, opts.gracePeriodSeconds);
    const namespaceDrain = storage === 'namespaces';

    if (finalizers.length === 0 && grace === 0 && !namespaceDrain) return this.remove(storage, old);

    // Graceful: mark for deletion and let a controller (kubelet, GC, namespace
    // controller) finish it.
    const now = this.clock.now();
    return this.mutate(storage, nsKey, name, (o) => {
      const existing = o.metadata.deletionTimestamp ? Date.parse(o.metadata.deletionTimestamp) : Infinity;
      const at = now + grace * 1000;
      if (!o.metadata.deletionTimestamp || at < existing) {
        o.metadata.deletionTimestamp = k8sTime(at);
        o.metadata.deletionGracePeriodSeconds = grace;
      }
      o.metadata.finalizers = finalizers.length ? finalizers : undefined;
      if (!o.metadata.finalizers) delete o.metadata.finalizers;
      if (namespaceDrain) o.status = { ...(o.status ?? {}), phase: 'Terminating' };
    })!;
  }

  /** Removes an object now, whatever its finalizers (controllers finishing a deletion). */
  remove(storage: string, obj: K8sObject): K8sObject {
    const k = key(obj.metadata.namespace, obj.metadata.name!);
    const old = this.bucket(storage).get(k);
    if (!old) return obj;
    this.bucket(storage).delete(k);
    const gone = cloneObject(old);
    this.rv++;
    gone.metadata.resourceVersion = String(this.rv);
    this.count('delete', storage);
    if (storage === CRD_STORAGE) this.types.setCustom(gone.metadata.name!, []);
    this.publish({ type: 'DELETED', storage, object: gone, old: cloneObject(old), rv: this.rv });
    return cloneObject(gone);
  }

  /**
   * Changes after `fromRV` in one storage (or all), then live ones. Throws 410
   * when history no longer reaches back to fromRV.
   */
  watch(storage: string | undefined, fromRV: number, listener: Listener): () => void {
    if (fromRV < this.compactedRV) {
      throw ApiError.gone(`too old resource version: ${fromRV} (${this.compactedRV})`);
    }
    // Events still queued for delivery reach the new listener through the
    // queue; replaying them too would deliver them twice.
    const queued = new Set(this.queue.map((e) => e.rv));
    for (const ev of this.history) {
      if (ev.rv > fromRV && !queued.has(ev.rv) && (!storage || ev.storage === storage)) listener(ev);
    }
    const l: Listener = (ev) => {
      if (!storage || ev.storage === storage) listener(ev);
    };
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  /** Every future change, for in-process controllers. */
  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Every change after `fromRV` in one storage, oldest first; undefined when
   * history no longer reaches back to it (what etcd calls compacted).
   */
  changesSince(storage: string, fromRV: number): StoreEvent[] | undefined {
    if (fromRV < this.compactedRV) return undefined;
    return this.history.filter((ev) => ev.rv > fromRV && ev.storage === storage);
  }

  /** Forgets all history: every watch from an older resourceVersion now gets 410. */
  compact(): void {
    this.compactedRV = this.rv;
    this.history = [];
  }

  /**
   * Every object by storage, and the resourceVersion, for a state snapshot.
   * The objects are the stored ones, not copies: serialize them before the
   * next write and never change them.
   */
  dump(): { resourceVersion: number; objects: Record<string, K8sObject[]> } {
    const objects: Record<string, K8sObject[]> = {};
    for (const [storage, bucket] of this.data) if (bucket.size) objects[storage] = [...bucket.values()];
    return { resourceVersion: this.rv, objects };
  }

  /**
   * Loads a snapshot into an empty store: objects keep their uid,
   * resourceVersion and timestamps; the counter continues at
   * `resourceVersion` with no history, so a watch from any older
   * resourceVersion gets 410 Gone and its client relists.
   */
  load(resourceVersion: number, objects: Record<string, K8sObject[]>): void {
    if (this.rv !== 1 || this.data.size) throw new Error('load() needs an empty store');
    // CRDs first: their custom resources' storages exist only once they are served.
    for (const crd of objects[CRD_STORAGE] ?? []) this.types.setCustom(crd.metadata.name!, typesFromCrd(crd));
    for (const [storage, items] of Object.entries(objects)) {
      this.typeOf(storage); // throws on a storage this sandbox does not serve
      const b = this.bucket(storage);
      for (const o of items) b.set(key(o.metadata.namespace, o.metadata.name!), o);
    }
    this.rv = resourceVersion;
    this.compactedRV = resourceVersion;
    this.history = [];
  }

  /** Storage keys that currently hold objects. */
  storages(): string[] {
    return [...this.data.keys()];
  }

  private bucket(storage: string): Map<string, K8sObject> {
    let b = this.data.get(storage);
    if (!b) this.data.set(storage, (b = new Map()));
    return b;
  }

  private requireNamespace(ns: string): void {
    const n = this.bucket('namespaces').get(key(undefined, ns));
    if (!n) throw new ApiError(404, 'NotFound', `namespaces "${ns}" not found`, { name: ns, kind: 'namespaces' });
    if (n.metadata.deletionTimestamp) {
      throw new ApiError(403, 'Forbidden', `unable to create new content in namespace ${ns} because it is being terminated`);
    }
  }

  private gracePeriod(storage: string, obj: K8sObject, requested: number | undefined): number {
    if (storage !== 'pods') return 0;
    if (requested !== undefined) return Math.max(0, requested);
    // A pod never bound to a node has no containers to stop.
    if (!obj.spec?.nodeName) return 0;
    return obj.spec?.terminationGracePeriodSeconds ?? 30;
  }

  /** Builds the next stored object: status and spec split as the API server does. */
  private merge(storage: string, old: K8sObject, input: K8sObject, sub: 'status' | undefined, internal = false): K8sObject {
    const t = this.typeOf(storage);
    let next: K8sObject;
    if (sub === 'status') {
      next = cloneObject(old);
      next.status = input.status;
      if (internal) next.metadata = input.metadata; // controllers may touch annotations with status
    } else {
      next = input;
      if (!internal && t.subresources?.includes('status')) next.status = cloneObject(old.status);
    }
    const m = next.metadata;
    // Server-owned metadata never comes from the client.
    m.uid = old.metadata.uid;
    m.creationTimestamp = old.metadata.creationTimestamp;
    m.namespace = old.metadata.namespace;
    m.name = old.metadata.name;
    m.resourceVersion = old.metadata.resourceVersion;
    if (!internal) {
      if (old.metadata.deletionTimestamp) m.deletionTimestamp = old.metadata.deletionTimestamp;
      else delete m.deletionTimestamp;
    }
    if (m.deletionGracePeriodSeconds === undefined) delete m.deletionGracePeriodSeconds;
    next.apiVersion = old.apiVersion;
    next.kind = old.kind;
    m.generation = old.metadata.generation;
    if (t.custom) {
      prepareCustomResource(t, next);
      // Without a status subresource every change but metadata is a new generation.
      if (specChanged(old, next, !t.subresources?.includes('status'))) m.generation = (old.metadata.generation ?? 0) + 1;
      return next;
    }
    if (m.generation !== undefined && specChanged(old, next)) m.generation = (old.metadata.generation ?? 0) + 1;
    if (sub !== 'status') {
      // PrepareForUpdate keeps what the server allocated when an update omits it.
      if (storage === 'services' && next.spec && old.spec?.clusterIP && !next.spec.clusterIP) {
        next.spec.clusterIP = old.spec.clusterIP;
        next.spec.clusterIPs = old.spec.clusterIPs ?? [old.spec.clusterIP];
      }
      applyDefaults(storage, next, this, false);
    }
    fillStructZeros(storage, next);
    return next;
  }

  private finishUpdate(storage: string, next: K8sObject, old: K8sObject): K8sObject {
    // An object being deleted whose last finalizer was just removed goes away.
    if (next.metadata.deletionTimestamp && !(next.metadata.finalizers?.length) && storage !== 'pods' && storage !== 'namespaces') {
      this.bucket(storage).set(key(next.metadata.namespace, next.metadata.name!), next);
      return this.remove(storage, next);
    }
    return this.commit(storage, 'update', next, old);
  }

  private commit(storage: string, verb: 'create' | 'update', obj: K8sObject, old: K8sObject | undefined): K8sObject {
    this.rv++;
    obj.metadata.resourceVersion = String(this.rv);
    this.bucket(storage).set(key(obj.metadata.namespace, obj.metadata.name!), obj);
    this.count(verb, storage);
    // Served from the moment its Established condition is stored, as the CRD handler does.
    if (storage === CRD_STORAGE) this.types.setCustom(obj.metadata.name!, typesFromCrd(obj));
    this.publish({
      type: old ? 'MODIFIED' : 'ADDED',
      storage,
      object: cloneObject(obj),
      old: old && cloneObject(old),
      rv: this.rv,
    });
    return cloneObject(obj);
  }

  private count(verb: string, storage: string): void {
    const k = `${verb} ${storage}`;
    this.writes.set(k, (this.writes.get(k) ?? 0) + 1);
  }

  // Delivery is queued so a listener that writes cannot reorder events for
  // the listeners after it: everyone sees resourceVersions in increasing order.
  private publish(ev: StoreEvent): void {
    this.lastRVs.set(ev.storage, ev.rv);
    this.history.push(ev);
    if (this.history.length > this.historyLimit) {
      const dropped = this.history.splice(0, this.history.length - this.historyLimit);
      this.compactedRV = dropped[dropped.length - 1].rv;
    }
    this.queue.push(ev);
    if (this.draining) return;
    this.draining = true;
    try {
      for (let e = this.queue.shift(); e; e = this.queue.shift()) {
        for (const l of [...this.listeners]) {
          try {
            l(e);
          } catch (err) {
            // A failing listener must not stop delivery to the others.
            queueMicrotask(() => { throw err; });
          }
        }
      }
    } finally {
      this.draining = false;
    }
  }
}

function specChanged(a: K8sObject, b: K8sObject, withStatus = false): boolean {
  const strip = (o: K8sObject) => {
    const { metadata: _m, status, ...rest } = o;
    return withStatus ? { ...rest, status } : rest;
  };
  return !semanticallyEqual(strip(a), strip(b));
}
