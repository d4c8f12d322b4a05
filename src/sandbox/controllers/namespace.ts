// The namespace controller: a Terminating namespace has all of its content
// deleted, reports what remains in its status conditions (as `kubectl
// describe ns` shows them), and is removed once nothing is left.
import { k8sTime } from '../../common/index.ts';
import { ApiError } from '../status.ts';
import type { K8sObject, StoreEvent } from '../types.ts';
import type { Controller, ControllerContext } from './controller.ts';
import { WorkQueue } from './workqueue.ts';
import { canonicalJson } from './hash.ts';

/** Each namespaced storage once (core and events.k8s.io Events share one), with its `resource.group` name; custom resources included. */
function namespacedStorages(ctx: ControllerContext): [string, string][] {
  return [...new Map(ctx.store.types.all().filter((t) => t.namespaced && !t.virtual).map((t) => [t.storage, `${t.plural}.${t.group}`])).entries()];
}

interface Condition {
  type: string;
  status: 'True' | 'False';
  lastTransitionTime?: string;
  reason: string;
  message: string;
}

export class NamespaceController implements Controller {
  readonly name = 'namespace-controller';
  private ctx!: ControllerContext;
  private queue!: WorkQueue;
  private unsubscribe: (() => void) | undefined;
  private readonly terminating = new Set<string>();

  start(ctx: ControllerContext): void {
    this.ctx = ctx;
    this.queue = new WorkQueue(ctx.clock, (k) => this.sync(k));
    this.unsubscribe = ctx.store.subscribe((ev) => this.onEvent(ev));
    for (const ns of ctx.store.list('namespaces').items) {
      if (ns.metadata.deletionTimestamp) this.markTerminating(ns.metadata.name!);
    }
  }

  stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    this.queue?.stop();
    this.terminating.clear();
  }

  private markTerminating(name: string): void {
    this.terminating.add(name);
    this.queue.add(name);
  }

  private onEvent(ev: StoreEvent): void {
    if (ev.storage === 'namespaces') {
      const name = ev.object.metadata.name!;
      if (ev.type === 'DELETED') this.terminating.delete(name);
      else if (ev.object.metadata.deletionTimestamp && !this.terminating.has(name)) this.markTerminating(name);
      return;
    }
    // Content going away (or finalizers being dropped) may be the last thing the namespace waits for.
    const ns = ev.object.metadata.namespace;
    if (ns && this.terminating.has(ns) && ev.type !== 'ADDED') this.queue.add(ns);
  }

  private sync(name: string): void {
    const store = this.ctx.store;
    const ns = store.get('namespaces', undefined, name);
    if (!ns?.metadata.deletionTimestamp) return;
    const remaining: string[] = [];
    const finalizers = new Map<string, number>();
    for (const [storage, resource] of namespacedStorages(this.ctx)) {
      for (const o of store.list(storage, name).items) {
        if (o.metadata.deletionTimestamp) continue;
        try {
          store.delete(storage, name, o.metadata.name!, { propagationPolicy: 'Background' });
        } catch (err) {
          if (!(err instanceof ApiError && err.code === 404)) throw err;
        }
      }
      const left = store.list(storage, name).items;
      if (!left.length) continue;
      remaining.push(`${resource} has ${left.length} resource instances`);
      for (const o of left) for (const f of o.metadata.finalizers ?? []) finalizers.set(f, (finalizers.get(f) ?? 0) + 1);
    }
    if (!remaining.length) {
      store.remove('namespaces', ns);
      return;
    }
    this.writeConditions(ns, remaining, finalizers);
    // Pods finish on the kubelet's schedule; look again even if no event arrives.
    this.queue.addAfter(name, this.ctx.config.resyncSeconds * 1000);
  }

  private writeConditions(ns: K8sObject, remaining: string[], finalizers: Map<string, number>): void {
    const fin = [...finalizers].map(([f, n]) => `${f} in ${n} resource instances`);
    const wanted: Condition[] = [
      { type: 'NamespaceDeletionDiscoveryFailure', status: 'False', reason: 'ResourcesDiscovered', message: 'All resources successfully discovered' },
      { type: 'NamespaceDeletionGroupVersionParsingFailure', status: 'False', reason: 'ParsedGroupVersions', message: 'All legacy kube types successfully parsed' },
      { type: 'NamespaceDeletionContentFailure', status: 'False', reason: 'ContentDeleted', message: 'All content successfully deleted, may be waiting on finalization' },
      { type: 'NamespaceContentRemaining', status: 'True', reason: 'SomeResourcesRemain', message: `Some resources are remaining: ${remaining.join(', ')}` },
      fin.length
        ? { type: 'NamespaceFinalizersRemaining', status: 'True', reason: 'SomeFinalizersRemain', message: `Some content in the namespace has finalizers remaining: ${fin.join(', ')}` }
        : { type: 'NamespaceFinalizersRemaining', status: 'False', reason: 'ContentHasNoFinalizers', message: 'All content-preserving finalizers finished' },
    ];
    const now = k8sTime(this.ctx.clock.now());
    const current: Condition[] = ns.status?.conditions ?? [];
    const next = wanted.map((c) => {
      const prev = current.find((p) => p.type === c.type);
      const same = prev && prev.status === c.status && prev.reason === c.reason && prev.message === c.message;
      if (same) return prev;
      return { type: c.type, status: c.status, lastTransitionTime: prev && prev.status === c.status ? prev.lastTransitionTime : now, reason: c.reason, message: c.message };
    });
    if (canonicalJson(next) === canonicalJson(current)) return;
    this.ctx.store.mutate('namespaces', undefined, ns.metadata.name!, (o) => {
      o.status = { ...(o.status ?? {}), conditions: next };
    }, { subresource: 'status' });
  }
}
