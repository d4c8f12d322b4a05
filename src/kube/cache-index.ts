// An informer's cache with the indexes client-go's informers keep beside
// theirs: by namespace, by controlling owner, by node. Every question a
// watch event asks of the cache (this pod's StatefulSet, the pods on that
// node, the namespace's labels, the object a `for:` hold re-reads) is then
// answered in time that does not grow with the cache — on a cluster of 50k
// pods, a scan per event is what limits the event rate.
//
// The indexes are updated in the same call as the primary map, so they can
// never be out of step with it: an object whose owner or node changes is
// moved between buckets on that update.
import type { KubeObject } from './types.ts';

/** The cache key of an object: `namespace/name`, or `name` when cluster-scoped, as client-go's MetaNamespaceKeyFunc. */
export const cacheKey = (o: KubeObject): string => (o.metadata.namespace ? `${o.metadata.namespace}/${o.metadata.name}` : o.metadata.name ?? '');

/** Who controls an object: by the owner's uid, or by its namespace (the object's own), kind and name. */
export type OwnerSelector = { uid: string } | { namespace?: string; kind: string; name: string };

interface ControllerRef {
  uid?: unknown;
  kind?: unknown;
  name?: unknown;
  controller?: unknown;
}

/** The ownerReference with controller: true (client-go's GetControllerOf): at most one per object. */
function controllerRef(o: KubeObject): ControllerRef | undefined {
  const refs = o.metadata.ownerReferences as ControllerRef[] | undefined;
  if (!Array.isArray(refs)) return undefined;
  for (const r of refs) if (r && r.controller === true) return r;
  return undefined;
}

const ownerUidOf = (o: KubeObject): string | undefined => {
  const uid = controllerRef(o)?.uid;
  return typeof uid === 'string' && uid ? uid : undefined;
};

const ownerRefKey = (namespace: string | undefined, kind: string, name: string) => `${namespace ?? ''}/${kind}/${name}`;

const ownerNameOf = (o: KubeObject): string | undefined => {
  const r = controllerRef(o);
  return r && typeof r.kind === 'string' && typeof r.name === 'string' ? ownerRefKey(o.metadata.namespace, r.kind, r.name) : undefined;
};

const nodeOf = (o: KubeObject): string | undefined => {
  const n = (o.spec as { nodeName?: unknown } | undefined)?.nodeName;
  return typeof n === 'string' && n ? n : undefined;
};

/**
 * A bucket's cache keys in the order they entered it: an array while small
 * (most owners have a few pods, a node a few dozen), a Set once large, so
 * leaving a bucket of thousands (a big namespace or DaemonSet) stays O(1).
 */
type Bucket = string[] | Set<string>;
const SMALL_BUCKET = 32;

/**
 * One secondary index: bucket name → the cache keys in it. Buckets hold keys,
 * not objects, so the commonest event — a status update that moves nothing —
 * costs no index work at all; empty buckets are dropped, so memory follows
 * the cache. The four indexes cost 90–230 bytes an object beside the primary
 * map's 90 (50k realistic pods; the more pods share an owner, the less).
 */
class SecondaryIndex {
  private readonly buckets = new Map<string, Bucket>();
  readonly of: (o: KubeObject) => string | undefined;

  constructor(of: (o: KubeObject) => string | undefined) {
    this.of = of;
  }

  /** Moves `key` from the old object's bucket to the new one's, if they differ. */
  update(key: string, old: KubeObject | undefined, o: KubeObject | undefined): void {
    const from = old && this.of(old);
    const to = o && this.of(o);
    if (from === to) return;
    if (from !== undefined) this.remove(from, key);
    if (to !== undefined) this.add(to, key);
  }

  keys(bucket: string): Iterable<string> {
    return this.buckets.get(bucket) ?? [];
  }

  /** Bucket sizes, for tests that check the indexes against a scan. */
  sizes(): Map<string, number> {
    return new Map([...this.buckets].map(([k, b]) => [k, Array.isArray(b) ? b.length : b.size]));
  }

  private add(bucket: string, key: string): void {
    const b = this.buckets.get(bucket);
    if (!b) this.buckets.set(bucket, [key]);
    else if (!Array.isArray(b)) b.add(key);
    else if (b.push(key) > SMALL_BUCKET) this.buckets.set(bucket, new Set(b));
  }

  private remove(bucket: string, key: string): void {
    const b = this.buckets.get(bucket);
    if (!b) return;
    if (Array.isArray(b)) {
      const at = b.indexOf(key);
      if (at >= 0) b.splice(at, 1);
      if (b.length === 0) this.buckets.delete(bucket);
    } else {
      b.delete(key);
      if (b.size === 0) this.buckets.delete(bucket);
    }
  }
}

export class CacheIndex {
  private readonly all = new Map<string, KubeObject>();
  private readonly namespaces = new SecondaryIndex((o) => o.metadata.namespace || undefined);
  private readonly ownerUids = new SecondaryIndex(ownerUidOf);
  private readonly ownerNames = new SecondaryIndex(ownerNameOf);
  private readonly nodes = new SecondaryIndex(nodeOf);

  get size(): number {
    return this.all.size;
  }

  get(namespace: string | undefined, name: string): KubeObject | undefined {
    return this.all.get(namespace ? `${namespace}/${name}` : name);
  }

  getKey(key: string): KubeObject | undefined {
    return this.all.get(key);
  }

  /** Adds or replaces an object; returns the one it replaced. */
  set(o: KubeObject): KubeObject | undefined {
    const key = cacheKey(o);
    const old = this.all.get(key);
    this.all.set(key, o);
    this.reindex(key, old, o);
    return old;
  }

  /** Removes the object under `key`; returns it. */
  delete(key: string): KubeObject | undefined {
    const old = this.all.get(key);
    if (!old) return undefined;
    this.all.delete(key);
    this.reindex(key, old, undefined);
    return old;
  }

  /**
   * Every object, or one namespace's, in the order they entered the cache
   * (a namespace's in the same relative order as the whole list).
   */
  list(namespace?: string): KubeObject[] {
    return namespace ? this.resolve(this.namespaces.keys(namespace)) : [...this.all.values()];
  }

  keys(): IterableIterator<string> {
    return this.all.keys();
  }

  /** The objects whose controller (the ownerReference with controller: true) is the one named. */
  byOwner(owner: OwnerSelector): KubeObject[] {
    return this.resolve('uid' in owner ? this.ownerUids.keys(owner.uid) : this.ownerNames.keys(ownerRefKey(owner.namespace, owner.kind, owner.name)));
  }

  /** The objects (pods) whose spec.nodeName is `node`, in the order they came to it. */
  byNode(node: string): KubeObject[] {
    return this.resolve(this.nodes.keys(node));
  }

  private resolve(keys: Iterable<string>): KubeObject[] {
    const out: KubeObject[] = [];
    for (const k of keys) out.push(this.all.get(k)!);
    return out;
  }

  /** Bucket sizes of every index, for tests that hold them against a full scan. */
  indexSizes(): Record<'namespace' | 'ownerUid' | 'ownerName' | 'node', Map<string, number>> {
    return { namespace: this.namespaces.sizes(), ownerUid: this.ownerUids.sizes(), ownerName: this.ownerNames.sizes(), node: this.nodes.sizes() };
  }

  private reindex(key: string, old: KubeObject | undefined, o: KubeObject | undefined): void {
    this.namespaces.update(key, old, o);
    this.ownerUids.update(key, old, o);
    this.ownerNames.update(key, old, o);
    this.nodes.update(key, old, o);
  }
}
