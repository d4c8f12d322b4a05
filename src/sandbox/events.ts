// Records core/v1 Events the way client-go's recorder does: repeats of the
// same (object, reason, message, source) within ten minutes bump `count` and
// `lastTimestamp` on one Event instead of creating new ones.
import { type Clock, k8sTime } from '../common/index.ts';
import type { ObjectStore } from './store.ts';
import type { K8sObject } from './types.ts';

export interface EventSource {
  component: string;
  host?: string;
}

export interface EmitOptions {
  /** e.g. `spec.containers{app}` for container-level events. */
  fieldPath?: string;
  action?: string;
}

const AGGREGATE_WINDOW_MS = 10 * 60_000;
const EVENT_TTL_MS = 60 * 60_000;

export class EventRecorder {
  private readonly index = new Map<string, { name: string; ns: string; last: number }>();
  private seq = 0;

  private readonly store: ObjectStore;
  private readonly clock: Clock;

  constructor(store: ObjectStore, clock: Clock) {
    this.store = store;
    this.clock = clock;
  }

  emit(involved: K8sObject, type: 'Normal' | 'Warning', reason: string, message: string, source: EventSource, opts: EmitOptions = {}): void {
    const now = this.clock.now();
    const meta = involved.metadata;
    const ns = meta.namespace ?? 'default';
    const k = [meta.uid, opts.fieldPath ?? '', reason, message, source.component, source.host ?? '', type].join('\u0000');
    const prev = this.index.get(k);
    if (prev && now - prev.last < AGGREGATE_WINDOW_MS) {
      const updated = this.store.mutate('events', prev.ns, prev.name, (e) => {
        e.count = (e.count ?? 1) + 1;
        e.lastTimestamp = k8sTime(now);
      });
      if (updated) {
        prev.last = now;
        return;
      }
    }
    const name = `${meta.name}.${(now * 1000 + (this.seq++ % 1000)).toString(16)}`;
    try {
      this.store.create('events', {
        metadata: { name, namespace: ns },
        involvedObject: {
          kind: involved.kind,
          namespace: meta.namespace,
          name: meta.name,
          uid: meta.uid,
          apiVersion: involved.apiVersion,
          resourceVersion: meta.resourceVersion,
          ...(opts.fieldPath ? { fieldPath: opts.fieldPath } : {}),
        },
        reason,
        message,
        source: { component: source.component, ...(source.host ? { host: source.host } : {}) },
        firstTimestamp: k8sTime(now),
        lastTimestamp: k8sTime(now),
        count: 1,
        type,
        eventTime: null,
        reportingComponent: source.component,
        reportingInstance: source.host ?? '',
        ...(opts.action ? { action: opts.action } : {}),
      });
      this.index.set(k, { name, ns, last: now });
    } catch {
      // Events are best effort, as in Kubernetes: a namespace being deleted
      // (or gone) must not break the controller that reports on it.
    }
  }

  save(): { seq: number } {
    return { seq: this.seq };
  }

  /**
   * After a restore: the aggregation index is rebuilt from the Events in the
   * store (each carries every part of its key), so repeats keep counting up
   * on the same Event instead of starting new ones.
   */
  restore(saved: { seq: number }): void {
    this.seq = saved.seq;
    this.index.clear();
    for (const e of this.store.list('events').items) {
      const io = e.involvedObject ?? {};
      const k = [io.uid, io.fieldPath ?? '', e.reason, e.message, e.source?.component, e.source?.host ?? '', e.type].join('\u0000');
      const last = Date.parse(e.lastTimestamp ?? e.metadata.creationTimestamp ?? '');
      const prev = this.index.get(k);
      if (!prev || last >= prev.last) this.index.set(k, { name: e.metadata.name!, ns: e.metadata.namespace!, last });
    }
  }

  /** Drops events older than the API server's default one-hour TTL. */
  prune(): void {
    const cutoff = this.clock.now() - EVENT_TTL_MS;
    for (const e of this.store.list('events').items) {
      if (Date.parse(e.lastTimestamp ?? e.metadata.creationTimestamp!) < cutoff) {
        this.store.remove('events', e);
      }
    }
    for (const [k, v] of this.index) if (v.last < cutoff) this.index.delete(k);
  }
}
