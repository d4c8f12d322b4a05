// A list+watch informer with a local cache, in the manner of client-go's
// reflector: one LIST (paged) then one long WATCH per resource, resumed from
// the last resourceVersion when the stream drops, and a fresh LIST after
// 410 Gone whose differences against the cache are emitted as ADDED /
// MODIFIED / DELETED, so no transition is lost or delivered twice. Every
// event carries the cached old object: handlers never GET the API server.
import type { KubeHttp } from './http.ts';
import { latencyNow, relistsTotal, watchRestartsTotal } from '../common/index.ts';
import { KubeApiError } from './errors.ts';
import { CacheIndex, cacheKey, type OwnerSelector } from './cache-index.ts';
import { collectionPath, type KindRef } from './kinds.ts';
import { stripBulk } from './transform.ts';
import type { KubeObject } from './types.ts';

export type ChangeType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface Change {
  type: ChangeType;
  kind: KindRef;
  object: KubeObject;
  /** The cached object before this change (absent for ADDED). */
  oldObject?: KubeObject;
  /** True when the change was found by a relist rather than seen on the watch. */
  fromRelist: boolean;
  /** True for what the informer's first LIST found: objects that existed before it started. */
  initial?: boolean;
  /** When the watch event arrived (latencyNow(), real time): where kubemend's latency metrics start. Absent for relists. */
  seenAt?: number;
}

export interface InformerOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  pageSize?: number;
  transform?: (o: KubeObject) => KubeObject;
  onChange: (c: Change) => void;
  onError?: (err: unknown) => void;
  /** Server-side watch timeout in seconds (the server ends the stream; we resume). */
  watchTimeoutSeconds?: number;
  /** Real-time delay before re-watching after a failure (grows exponentially to maxBackoffMs). */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
}

export class Informer {
  readonly kind: KindRef;
  private readonly http: KubeHttp;
  private readonly opts: InformerOptions;
  private readonly cache = new CacheIndex();
  private lastRV = '';
  private stopped = false;
  private abort?: AbortController;
  private needList = true;
  /** A transform waiting for the next LIST, and who waits for that LIST to end (retransform). */
  private nextTransform?: { transform: InformerOptions['transform'] };
  private listWaiters: (() => void)[] = [];
  private watching = false;
  /** The current watch was ended by retransform, not by a failure. */
  private endingWatch = false;
  private readonly syncedSignal = Promise.withResolvers<void>();
  /** Counters that tests and /metrics read. */
  readonly stats = { lists: 0, watches: 0, relistsAfterGone: 0, resumes: 0, events: 0 };

  constructor(http: KubeHttp, kind: KindRef, opts: InformerOptions) {
    this.http = http;
    this.kind = kind;
    this.opts = opts;
  }

  /** Resolves after the first LIST has filled the cache. */
  get synced(): Promise<void> {
    return this.syncedSignal.promise;
  }

  /** Whether the first LIST has filled the cache. */
  isSynced = false;

  get resourceVersion(): string {
    return this.lastRV;
  }

  /** One cached object; namespace undefined for a cluster-scoped kind. */
  get(namespace: string | undefined, name: string): KubeObject | undefined {
    return this.cache.get(namespace, name);
  }

  /** Cached objects, all or one namespace's (from the namespace index: no scan of the others). */
  list(namespace?: string): KubeObject[] {
    return this.cache.list(namespace);
  }

  /** Cached objects whose controller is `owner` (by uid, or by kind and name in the object's namespace). */
  byOwner(owner: OwnerSelector): KubeObject[] {
    return this.cache.byOwner(owner);
  }

  /** Cached objects (pods) whose spec.nodeName is `node`. */
  byNode(node: string): KubeObject[] {
    return this.cache.byNode(node);
  }

  /** Number of cached objects. */
  get size(): number {
    return this.cache.size;
  }

  start(): this {
    void this.loop();
    return this;
  }

  stop(): void {
    this.stopped = true;
    this.abort?.abort();
    for (const w of this.listWaiters.splice(0)) w();
  }

  /**
   * Caches objects through `transform` from now on: the watch is ended and
   * the kind listed again, every object replaced by its new form without an
   * event unless it changed meanwhile (then MODIFIED, without an old object:
   * the cached one was cut by the old transform, and comparing the two would
   * report the fields it lacked as changes). Resolves once that LIST is in
   * the cache (or the informer is stopped).
   */
  retransform(transform: InformerOptions['transform']): Promise<void> {
    if (this.stopped) return Promise.resolve();
    this.nextTransform = { transform };
    this.needList = true;
    const done = new Promise<void>((resolve) => this.listWaiters.push(resolve));
    if (this.watching) {
      this.endingWatch = true;
      this.abort?.abort();
    }
    return done;
  }

  private async loop(): Promise<void> {
    let backoff = this.opts.initialBackoffMs ?? 200;
    while (!this.stopped) {
      try {
        if (this.needList) {
          await this.listOnce();
          this.isSynced = true;
          this.syncedSignal.resolve();
          // A retransform asked for while listing lists again before watching.
          if (this.needList) continue;
        }
        await this.watchOnce();
        this.endingWatch = false;
        if (this.needList) continue;
        backoff = this.opts.initialBackoffMs ?? 200;
        this.stats.resumes++;
        watchRestartsTotal.inc({ kind: this.kind.kind });
      } catch (err) {
        if (this.stopped) return;
        // The watch was ended on purpose, for a retransform's LIST.
        if (this.endingWatch) {
          this.endingWatch = false;
          continue;
        }
        if (err instanceof KubeApiError && err.gone) {
          this.stats.relistsAfterGone++;
          relistsTotal.inc({ kind: this.kind.kind });
          this.needList = true;
          continue;
        }
        this.opts.onError?.(err);
        await new Promise((r) => setTimeout(r, backoff * (0.8 + Math.random() * 0.4)));
        backoff = Math.min(backoff * 2, this.opts.maxBackoffMs ?? 30_000);
      }
    }
  }

  private baseQuery() {
    return { labelSelector: this.opts.labelSelector, fieldSelector: this.opts.fieldSelector };
  }

  /** One LIST, with the transform a retransform asked for; its waiters are told once it is in the cache. */
  private async listOnce(): Promise<void> {
    const next = this.nextTransform;
    const waiters = this.listWaiters.splice(0);
    const previous = this.opts.transform;
    this.nextTransform = undefined;
    this.needList = false;
    if (next) this.opts.transform = next.transform;
    try {
      await this.relist(next !== undefined);
    } catch (err) {
      // Tried again by the loop, with the same transform and the same waiters.
      if (next) {
        this.opts.transform = previous;
        this.nextTransform ??= next;
      }
      this.listWaiters.unshift(...waiters);
      this.needList = true;
      throw err;
    }
    for (const w of waiters) w();
  }

  /** LIST in pages and reconcile the cache with what the server has now. */
  private async relist(retransformed = false): Promise<void> {
    this.stats.lists++;
    const path = collectionPath(this.kind, this.opts.namespace);
    const seen = new Map<string, KubeObject>();
    let cont: string | undefined;
    let rv = '';
    do {
      const page = await this.http.request('GET', path, { query: { ...this.baseQuery(), limit: this.opts.pageSize ?? 500, continue: cont } });
      for (const item of page.items ?? []) {
        const o = this.prepare({ ...item, apiVersion: this.kind.apiVersion, kind: this.kind.kind });
        seen.set(cacheKey(o), o);
      }
      cont = page.metadata?.continue || undefined;
      rv = page.metadata?.resourceVersion ?? rv;
    } while (cont);
    const first = this.lastRV === '';
    for (const o of seen.values()) {
      const old = this.cache.set(o);
      if (!old) this.emit('ADDED', o, undefined, !first, first);
      else if (old.metadata.resourceVersion !== o.metadata.resourceVersion) this.emit('MODIFIED', o, retransformed ? undefined : old, true);
    }
    for (const k of [...this.cache.keys()]) {
      if (!seen.has(k)) {
        const old = this.cache.delete(k)!;
        this.emit('DELETED', old, old, true);
      }
    }
    this.lastRV = rv;
  }

  private async watchOnce(): Promise<void> {
    this.watching = true;
    try {
      await this.watchStream();
    } finally {
      this.watching = false;
    }
  }

  private async watchStream(): Promise<void> {
    this.stats.watches++;
    this.abort = new AbortController();
    const timeout = this.opts.watchTimeoutSeconds ?? 300 + Math.floor(Math.random() * 300);
    const res = await this.http.raw('GET', collectionPath(this.kind, this.opts.namespace), {
      query: { ...this.baseQuery(), watch: true, resourceVersion: this.lastRV, allowWatchBookmarks: true, timeoutSeconds: timeout },
      signal: this.abort.signal,
    });
    if (res.status !== 200) {
      const text = await res.text();
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch { /* keep text */ }
      throw KubeApiError.fromResponse('WATCH', this.kind.plural, res.status, body, null);
    }
    // Lines are cut from each chunk in one synchronous pass, and a chunk's
    // events are handled together, as a plain NDJSON client handles them: an
    // async step per line (readline's iterator) costs more than parsing the
    // line, and made every promise step elsewhere in the process (a run's
    // store writes) wait for one event's handling.
    const decoder = new TextDecoder();
    let rest = '';
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        const seenAt = latencyNow();
        const text = rest + decoder.decode(chunk, { stream: true });
        let start = 0;
        for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', start)) {
          // A retransform's LIST finds what the rest of this stream would have said.
          if (this.stopped || this.needList) return;
          const line = text.slice(start, nl);
          start = nl + 1;
          if (line.trim()) this.handle(JSON.parse(line), seenAt);
        }
        rest = text.slice(start);
      }
      rest += decoder.decode();
      // A last event the server did not end with a newline.
      if (!this.stopped && !this.needList && rest.trim()) this.handle(JSON.parse(rest), latencyNow());
    } catch (err) {
      if (this.stopped || (err as Error).name === 'AbortError') return;
      throw err;
    }
  }

  private handle(ev: { type: string; object: any }, seenAt: number): void {
    if (ev.type === 'ERROR') {
      const s = ev.object ?? {};
      throw new KubeApiError(`watch ${this.kind.plural}: ${s.message ?? 'error'}`, s.code ?? 500, s.reason ?? 'Unknown');
    }
    const rv = ev.object?.metadata?.resourceVersion;
    if (ev.type === 'BOOKMARK') {
      if (rv) this.lastRV = rv;
      return;
    }
    const o = this.prepare({ ...ev.object, apiVersion: this.kind.apiVersion, kind: this.kind.kind });
    if (ev.type === 'DELETED') {
      const old = this.cache.delete(cacheKey(o));
      this.emit('DELETED', o, old, false, false, seenAt);
    } else {
      const old = this.cache.set(o);
      this.emit(old ? 'MODIFIED' : 'ADDED', o, old, false, false, seenAt);
    }
    if (rv) this.lastRV = rv;
  }

  private prepare(o: KubeObject): KubeObject {
    const stripped = stripBulk(o);
    return this.opts.transform ? this.opts.transform(stripped) : stripped;
  }

  private emit(type: ChangeType, object: KubeObject, oldObject: KubeObject | undefined, fromRelist: boolean, initial = false, seenAt?: number): void {
    this.stats.events++;
    try {
      this.opts.onChange({ type, kind: this.kind, object, oldObject, fromRelist, ...(initial ? { initial } : {}), ...(seenAt !== undefined ? { seenAt } : {}) });
    } catch (err) {
      // A failing handler must not kill the watch; it is reported and the stream goes on.
      this.opts.onError?.(err);
    }
  }
}
