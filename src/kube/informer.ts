// A list+watch informer with a local cache, in the manner of client-go's
// reflector: one LIST (paged) then one long WATCH per resource, resumed from
// the last resourceVersion when the stream drops, and a fresh LIST after
// 410 Gone whose differences against the cache are emitted as ADDED /
// MODIFIED / DELETED, so no transition is lost or delivered twice. Every
// event carries the cached old object: handlers never GET the API server.
import type { KubeHttp } from './http.ts';
import { latencyNow, relistsTotal, watchRestartsTotal } from '../common/index.ts';
import { KubeApiError } from './errors.ts';
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

const keyOf = (o: KubeObject) => (o.metadata.namespace ? `${o.metadata.namespace}/${o.metadata.name}` : o.metadata.name!);

export class Informer {
  readonly kind: KindRef;
  private readonly http: KubeHttp;
  private readonly opts: InformerOptions;
  private readonly cache = new Map<string, KubeObject>();
  private lastRV = '';
  private stopped = false;
  private abort?: AbortController;
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

  get(namespace: string | undefined, name: string): KubeObject | undefined {
    return this.cache.get(namespace ? `${namespace}/${name}` : name);
  }

  list(namespace?: string): KubeObject[] {
    const out: KubeObject[] = [];
    for (const o of this.cache.values()) if (!namespace || o.metadata.namespace === namespace) out.push(o);
    return out;
  }

  start(): this {
    void this.loop();
    return this;
  }

  stop(): void {
    this.stopped = true;
    this.abort?.abort();
  }

  private async loop(): Promise<void> {
    let backoff = this.opts.initialBackoffMs ?? 200;
    let needList = true;
    while (!this.stopped) {
      try {
        if (needList) {
          await this.relist();
          needList = false;
          this.isSynced = true;
          this.syncedSignal.resolve();
        }
        await this.watchOnce();
        backoff = this.opts.initialBackoffMs ?? 200;
        this.stats.resumes++;
        watchRestartsTotal.inc({ kind: this.kind.kind });
      } catch (err) {
        if (this.stopped) return;
        if (err instanceof KubeApiError && err.gone) {
          this.stats.relistsAfterGone++;
          relistsTotal.inc({ kind: this.kind.kind });
          needList = true;
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

  /** LIST in pages and reconcile the cache with what the server has now. */
  private async relist(): Promise<void> {
    this.stats.lists++;
    const path = collectionPath(this.kind, this.opts.namespace);
    const seen = new Map<string, KubeObject>();
    let cont: string | undefined;
    let rv = '';
    do {
      const page = await this.http.request('GET', path, { query: { ...this.baseQuery(), limit: this.opts.pageSize ?? 500, continue: cont } });
      for (const item of page.items ?? []) {
        const o = this.prepare({ ...item, apiVersion: this.kind.apiVersion, kind: this.kind.kind });
        seen.set(keyOf(o), o);
      }
      cont = page.metadata?.continue || undefined;
      rv = page.metadata?.resourceVersion ?? rv;
    } while (cont);
    const first = this.lastRV === '';
    for (const [k, o] of seen) {
      const old = this.cache.get(k);
      this.cache.set(k, o);
      if (!old) this.emit('ADDED', o, undefined, !first, first);
      else if (old.metadata.resourceVersion !== o.metadata.resourceVersion) this.emit('MODIFIED', o, old, true);
    }
    for (const [k, old] of [...this.cache]) {
      if (!seen.has(k)) {
        this.cache.delete(k);
        this.emit('DELETED', old, old, true);
      }
    }
    this.lastRV = rv;
  }

  private async watchOnce(): Promise<void> {
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
    // The events of one network chunk are handled together, as a plain NDJSON
    // client handles them; what waits on promises elsewhere (a run's store
    // writes) goes on between chunks. Line by line through an async iterator,
    // every promise step anywhere else in the process waited for one event's
    // handling, and a run's dozens of steps for dozens of events.
    const decoder = new TextDecoder();
    let buf = '';
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        const seenAt = latencyNow();
        buf += decoder.decode(chunk, { stream: true });
        let start = 0;
        for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n', start)) {
          const line = buf.slice(start, nl);
          start = nl + 1;
          if (this.stopped) return;
          if (line.trim()) this.handle(JSON.parse(line), seenAt);
        }
        buf = buf.slice(start);
      }
      // A last event the server did not end with a newline.
      if (!this.stopped && buf.trim()) this.handle(JSON.parse(buf), latencyNow());
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
    const k = keyOf(o);
    const old = this.cache.get(k);
    if (ev.type === 'DELETED') {
      this.cache.delete(k);
      this.emit('DELETED', o, old, false, false, seenAt);
    } else {
      this.cache.set(k, o);
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
