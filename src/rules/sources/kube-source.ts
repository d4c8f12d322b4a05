// Object changes and core/v1 Events from one cluster, through one informer
// per kind the rules need. Signals carry the cached old object, and the
// caches answer the rules' cross-object lookups, so after the initial list
// the API server only streams watches. Kinds that cannot be watched
// (metrics.k8s.io) get a PolledList instead, filled only by refresh().
import type { KubeConfig } from '@kubernetes/client-node';
import { Informer, KubeHttp, PolledList, covers, kindRef, mergeTrees, objectProjector, type Change, type FieldTree, type KindRef, type KubeObject } from '../../kube/index.ts';
import type { Clock } from '../../common/index.ts';
import type { Signal } from '../types.ts';
import type { Source } from './source.ts';

export interface KubeSourceOptions {
  cluster: string;
  kubeconfig: KubeConfig;
  clock: Clock;
  /** Kinds to watch; 'Event' produces event signals as well as object signals. */
  kinds: string[];
  /**
   * What to cache of each kind (kube/projection.ts; identity metadata is
   * always kept); undefined or a whole tree caches whole objects.
   */
  fields?: (kind: string) => FieldTree | undefined;
  onError?: (kind: string, err: unknown) => void;
}

const OPERATION = { ADDED: 'create', MODIFIED: 'update', DELETED: 'delete' } as const;

export class KubeSource implements Source {
  readonly name: string;
  readonly cluster: string;
  readonly http: KubeHttp;
  private readonly opts: KubeSourceOptions;
  private readonly informers = new Map<string, Informer>();
  private readonly polled = new Map<string, PolledList>();
  /** What each informer caches now (undefined: whole objects). */
  private readonly cachedFields = new Map<string, FieldTree | undefined>();

  constructor(opts: KubeSourceOptions) {
    this.opts = opts;
    this.cluster = opts.cluster;
    this.name = `kube:${opts.cluster}`;
    this.http = new KubeHttp(opts.kubeconfig);
  }

  /** Starts every informer and resolves once all caches are filled. */
  async start(emit: (s: Signal) => void): Promise<void> {
    await this.addKinds(this.opts.kinds, emit);
  }

  /** Starts informers for the kinds not watched yet (a rule reload may need more) and waits for their caches. */
  async addKinds(kinds: readonly string[], emit: (s: Signal) => void): Promise<void> {
    const added: Informer[] = [];
    for (const kind of new Set(kinds)) {
      if (this.informers.has(kind) || this.polled.has(kind)) continue;
      const ref = kindRef(kind);
      if (!ref) throw new Error(`internal: cannot watch unknown kind ${kind} (the rule loader rejects unknown kinds)`);
      if (ref.polled) {
        this.polled.set(kind, new PolledList(this.http, ref, { onProblem: (err) => this.opts.onError?.(kind, err) }));
        continue;
      }
      const tree = this.opts.fields?.(kind);
      this.cachedFields.set(kind, tree);
      const inf = new Informer(this.http, ref, {
        transform: objectProjector(tree),
        onChange: (c) => emit(this.toSignal(c)),
        onError: (err) => this.opts.onError?.(kind, err),
      });
      this.informers.set(kind, inf);
      added.push(inf);
      inf.start();
    }
    await Promise.all(added.map((i) => i.synced));
  }

  stop(): void {
    for (const i of this.informers.values()) i.stop();
  }

  /**
   * Hot reload: every watched kind whose cache lacks fields `fields` wants
   * is listed again with the union of both (so rules never read a cache
   * missing their fields); resolves when those caches hold the new form.
   * Fewer fields need nothing: the wider cache stays until restart.
   * Returns the kinds relisted.
   */
  async widen(fields: (kind: string) => FieldTree | undefined): Promise<string[]> {
    const relisted: [string, Promise<void>][] = [];
    for (const [kind, inf] of this.informers) {
      const have = this.cachedFields.get(kind);
      const want = fields(kind);
      if (covers(have, want)) continue;
      const tree = want === undefined || want.all ? undefined : mergeTrees(have, want);
      this.cachedFields.set(kind, tree);
      relisted.push([kind, inf.retransform(objectProjector(tree))]);
    }
    await Promise.all(relisted.map(([, p]) => p));
    return relisted.map(([k]) => k);
  }

  /** Cached objects of a kind (empty when the kind is neither watched nor polled). */
  list(kind: string, namespace?: string): KubeObject[] {
    return (this.informers.get(kind) ?? this.polled.get(kind))?.list(namespace) ?? [];
  }

  /** One cached object by name (namespace undefined for a cluster-scoped kind), from the cache's key: no scan. */
  get(kind: string, namespace: string | undefined, name: string): KubeObject | undefined {
    const inf = this.informers.get(kind);
    if (inf) return inf.get(namespace, name);
    return this.polled.get(kind)?.list(namespace).find((o) => o.metadata.name === name);
  }

  /** The cached pods whose spec.nodeName is `node` (empty when Pods are not watched), from the Pod cache's node index. */
  podsOn(node: string): KubeObject[] {
    return this.informers.get('Pod')?.byNode(node) ?? [];
  }

  /** One LIST of each polled kind named (others are ignored); never throws, failures are reported through onError once. */
  async refresh(kinds: readonly string[]): Promise<void> {
    await Promise.all(kinds.map((k) => this.polled.get(k)?.refresh()));
  }

  poller(kind: string): PolledList | undefined {
    return this.polled.get(kind);
  }

  informer(kind: string): Informer | undefined {
    return this.informers.get(kind);
  }

  kinds(): KindRef[] {
    return [...this.informers.values()].map((i) => i.kind);
  }

  private toSignal(c: Change): Signal {
    const base = {
      cluster: this.cluster,
      time: this.opts.clock.now(),
      operation: OPERATION[c.type],
      object: c.object,
      oldObject: c.oldObject,
      fromRelist: c.fromRelist,
      ...(c.initial ? { initial: true } : {}),
      ...(c.seenAt !== undefined ? { seenAt: c.seenAt } : {}),
    };
    if (c.kind.kind === 'Event') return { ...base, source: 'event', event: c.object };
    return { ...base, source: 'object' };
  }
}
