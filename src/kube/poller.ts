// A cache for kinds that cannot be watched (metrics.k8s.io): one LIST when
// asked to refresh, never on its own timer, so whoever refreshes decides the
// rate (the pipeline: once per tick of a rule that reads the kind). Each
// object keeps the sample before it as `previous`, so growth is visible
// without a time series.
//
// A cluster without metrics-server answers 404 (the group is not served) or
// 503 (its APIService is registered but down): the cache is then empty and
// the condition is reported once, not on every refresh; other failures are
// reported once per distinct message. Stale samples are dropped on failure:
// an old usage figure would look like a current one.
import { KubemendError, Errors } from '../common/index.ts';
import type { KubeHttp } from './http.ts';
import { KubeApiError } from './errors.ts';
import { collectionPath, type KindRef } from './kinds.ts';
import type { KubeObject } from './types.ts';

export interface PolledListOptions {
  /** A new problem (the API absent, another failure): for a log line, once until a LIST succeeds again. */
  onProblem?: (err: KubemendError) => void;
}

type Sample = KubeObject & { timestamp?: string; window?: string; previous?: unknown };

const keyOf = (o: KubeObject) => (o.metadata.namespace ? `${o.metadata.namespace}/${o.metadata.name}` : o.metadata.name ?? '');

export class PolledList {
  readonly kind: KindRef;
  private readonly http: KubeHttp;
  private readonly opts: PolledListOptions;
  private items = new Map<string, Sample>();
  private inFlight?: Promise<void>;
  private problem: string | undefined;
  /** undefined until the first answer; false while the API is not served. */
  available: boolean | undefined;
  readonly stats = { lists: 0, failures: 0 };

  constructor(http: KubeHttp, kind: KindRef, opts: PolledListOptions = {}) {
    this.http = http;
    this.kind = kind;
    this.opts = opts;
  }

  /** One LIST; calls made while one is in flight share it. Never throws. */
  refresh(): Promise<void> {
    this.inFlight ??= this.fetch().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  list(namespace?: string): KubeObject[] {
    const out: KubeObject[] = [];
    for (const o of this.items.values()) if (!namespace || o.metadata.namespace === namespace) out.push(o);
    return out;
  }

  private async fetch(): Promise<void> {
    this.stats.lists++;
    const path = collectionPath(this.kind);
    try {
      const res = await this.http.request<{ items?: Sample[] }>('GET', path);
      const next = new Map<string, Sample>();
      for (const item of res?.items ?? []) {
        if (!item?.metadata?.name) continue;
        const key = keyOf(item);
        const old = this.items.get(key);
        const previous = old && old.timestamp !== item.timestamp ? sampleOf(old) : old?.previous;
        next.set(key, previous ? { ...item, kind: this.kind.kind, previous } : { ...item, kind: this.kind.kind });
      }
      this.items = next;
      this.available = true;
      this.problem = undefined;
    } catch (err) {
      this.stats.failures++;
      this.items = new Map();
      const status = err instanceof KubeApiError ? err.status : -1;
      const absent = status === 404 || status === 503;
      if (absent) this.available = false;
      const e = absent
        ? new KubemendError(Errors.KUBE_METRICS_UNAVAILABLE, `${this.kind.apiVersion} is not served (${status} on ${path}; is metrics-server installed?): rules reading ${this.kind.kind} see none`, { cause: err })
        : err instanceof KubemendError ? err : new KubemendError(Errors.KUBE_UNREACHABLE, `listing ${path} failed: ${(err as Error)?.message ?? err}`, { cause: err });
      if (e.message !== this.problem) this.opts.onProblem?.(e);
      this.problem = e.message;
    }
  }
}

function sampleOf(o: Sample): Record<string, unknown> {
  const { metadata: _m, kind: _k, apiVersion: _a, previous: _p, ...rest } = o;
  return rest;
}
