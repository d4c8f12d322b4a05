// The apiextensions-apiserver's own controllers for CustomResourceDefinitions:
// the naming controller (acceptedNames, NamesAccepted, conflicts within a
// group), the establishing controller (Established, after which the store
// serves the resource) and the CRD finalizer (a deleted CRD's custom resources
// are deleted, then its cleanup finalizer is removed). Each step is its own
// status write, as the real controllers make them.
import { CLEANUP_FINALIZER, CRD_STORAGE, crdCondition, setCrdCondition } from '../apiextensions/index.ts';
import { ApiError } from '../status.ts';
import type { K8sObject, StoreEvent } from '../types.ts';
import type { Controller, ControllerContext } from './controller.ts';
import { WorkQueue } from './workqueue.ts';

/** How often the finalizer looks again while custom resources are still going away. */
const RECHECK_MS = 5_000;

type Names = { plural?: string; singular?: string; shortNames?: string[]; kind?: string; listKind?: string; categories?: string[] };

export class CrdController implements Controller {
  readonly name = 'apiextensions-controllers';
  private ctx!: ControllerContext;
  private queue!: WorkQueue;
  private unsubscribe: (() => void) | undefined;

  start(ctx: ControllerContext): void {
    this.ctx = ctx;
    this.queue = new WorkQueue(ctx.clock, (k) => this.sync(k));
    this.unsubscribe = ctx.store.subscribe((ev) => this.onEvent(ev));
    for (const crd of ctx.store.list(CRD_STORAGE).items) this.queue.add(crd.metadata.name!);
  }

  stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    this.queue?.stop();
  }

  private onEvent(ev: StoreEvent): void {
    if (ev.storage === CRD_STORAGE) {
      const name = ev.object.metadata.name!;
      this.queue.add(name);
      // A deleted CRD frees its names for the others of its group.
      if (ev.type === 'DELETED') for (const other of this.sameGroup(ev.object)) this.queue.add(other.metadata.name!);
      return;
    }
    // A custom resource going away may be the last one a terminating CRD waits for.
    if (ev.type !== 'DELETED') return;
    const t = this.ctx.store.types.byStorage(ev.storage);
    if (t?.custom?.terminating) this.queue.add(t.custom.crd);
  }

  private sameGroup(crd: K8sObject): K8sObject[] {
    return this.ctx.store.list(CRD_STORAGE).items.filter((c) => c.spec?.group === crd.spec?.group && c.metadata.name !== crd.metadata.name);
  }

  private sync(name: string): void {
    const crd = this.ctx.store.get(CRD_STORAGE, undefined, name);
    if (!crd) return;
    if (crd.metadata.deletionTimestamp) {
      this.finalize(crd);
      return;
    }
    this.acceptNames(crd);
    this.establish(name);
  }

  /** NamingConditionController.calculateNamesAndConditions, written when anything changed. */
  private acceptNames(crd: K8sObject): void {
    const requested: Names = crd.spec?.names ?? {};
    const accepted: Names = crd.status?.acceptedNames ?? {};
    if (JSON.stringify(normal(requested)) === JSON.stringify(normal(accepted))) return;
    const resources = new Set<string>();
    const kinds = new Set<string>();
    for (const c of this.ctx.store.list(CRD_STORAGE).items) {
      if (c.spec?.group !== crd.spec?.group) continue;
      const a: Names = c.status?.acceptedNames ?? {};
      for (const n of [a.plural, a.singular, ...(a.shortNames ?? [])]) if (n) resources.add(n);
      for (const n of [a.kind, a.listKind]) if (n) kinds.add(n);
    }
    const next: Names = { ...accepted };
    let failed: { reason: string; message: string } | undefined;
    const fresh = (want: string | undefined, have: string | undefined, used: Set<string>) => want === have || !want || !used.has(want);
    const check = (field: 'plural' | 'singular' | 'kind' | 'listKind', used: Set<string>, reason: string) => {
      if (fresh(requested[field], accepted[field], used)) next[field] = requested[field];
      else failed = { reason, message: `${JSON.stringify(requested[field])} is already in use` };
    };
    check('plural', resources, 'PluralConflict');
    check('singular', resources, 'SingularConflict');
    if (JSON.stringify(requested.shortNames ?? []) !== JSON.stringify(accepted.shortNames ?? [])) {
      const mine = new Set(accepted.shortNames ?? []);
      const taken = (requested.shortNames ?? []).filter((s) => !mine.has(s) && s !== accepted.plural && s !== accepted.singular && resources.has(s));
      if (taken.length) failed = { reason: 'ShortNamesConflict', message: taken.map((s) => `${JSON.stringify(s)} is already in use`).join(', ') };
      else next.shortNames = requested.shortNames;
    }
    check('kind', kinds, 'KindConflict');
    check('listKind', kinds, 'ListKindConflict');
    next.categories = requested.categories;
    const now = this.ctx.clock.now();
    this.ctx.store.mutate(CRD_STORAGE, undefined, crd.metadata.name!, (o) => {
      o.status ??= {};
      o.status.acceptedNames = clean(next);
      const f = failed as { reason: string; message: string } | undefined;
      setCrdCondition(o, f ? { type: 'NamesAccepted', status: 'False', ...f } : { type: 'NamesAccepted', status: 'True', reason: 'NoConflicts', message: 'no conflicts found' }, now);
      const established = crdCondition(o, 'Established');
      if (established?.status !== 'True') {
        setCrdCondition(o, f
          ? established ?? { type: 'Established', status: 'False', reason: 'NotAccepted', message: 'not all names are accepted' }
          : { type: 'Established', status: 'False', reason: 'Installing', message: 'the initial names have been accepted' }, now);
      }
    }, { subresource: 'status' });
  }

  /** EstablishingController: names accepted and not yet established → Established. */
  private establish(name: string): void {
    const crd = this.ctx.store.get(CRD_STORAGE, undefined, name);
    if (!crd || crdCondition(crd, 'NamesAccepted')?.status !== 'True' || crdCondition(crd, 'Established')?.status === 'True') return;
    this.ctx.store.mutate(CRD_STORAGE, undefined, name, (o) => {
      setCrdCondition(o, { type: 'Established', status: 'True', reason: 'InitialNamesAccepted', message: 'the initial names have been accepted' }, this.ctx.clock.now());
    }, { subresource: 'status' });
  }

  /** CRDFinalizer: delete every custom resource, wait for them to go, then release the CRD. */
  private finalize(crd: K8sObject): void {
    const name = crd.metadata.name!;
    if (!crd.metadata.finalizers?.includes(CLEANUP_FINALIZER)) return;
    const store = this.ctx.store;
    const storage = `${crd.spec?.group}/${crd.status?.acceptedNames?.plural || crd.spec?.names?.plural}`;
    const served = store.types.customTypes(name).length > 0;
    if (served) {
      const now = this.ctx.clock.now();
      if (crdCondition(crd, 'Terminating')?.reason !== 'InstanceDeletionInProgress') {
        store.mutate(CRD_STORAGE, undefined, name, (o) => setCrdCondition(o, { type: 'Terminating', status: 'True', reason: 'InstanceDeletionInProgress', message: 'CustomResource deletion is in progress' }, now), { subresource: 'status' });
      }
      for (const o of store.list(storage).items) {
        if (o.metadata.deletionTimestamp) continue;
        try {
          store.delete(storage, o.metadata.namespace, o.metadata.name!, { propagationPolicy: 'Background' });
        } catch (err) {
          if (!(err instanceof ApiError && err.code === 404)) throw err;
        }
      }
      if (store.list(storage).items.length) {
        this.queue.addAfter(name, RECHECK_MS);
        return;
      }
      store.mutate(CRD_STORAGE, undefined, name, (o) => setCrdCondition(o, { type: 'Terminating', status: 'False', reason: 'InstanceDeletionCompleted', message: 'removed all instances' }, now), { subresource: 'status' });
    }
    // The last finalizer gone, the store removes the CRD and stops serving its resources.
    store.mutate(CRD_STORAGE, undefined, name, (o) => {
      o.metadata.finalizers = (o.metadata.finalizers ?? []).filter((f) => f !== CLEANUP_FINALIZER);
      if (!o.metadata.finalizers.length) delete o.metadata.finalizers;
    });
  }
}

/** Names compared as the naming controller does (equality.Semantic on the struct: empty lists equal absent ones). */
function normal(n: Names): Names {
  return { plural: n.plural ?? '', singular: n.singular ?? '', shortNames: n.shortNames?.length ? n.shortNames : undefined, kind: n.kind ?? '', listKind: n.listKind ?? '', categories: n.categories?.length ? n.categories : undefined };
}

/** acceptedNames as the API returns them: kind and plural always, the rest when set. */
function clean(n: Names): Names {
  return {
    plural: n.plural ?? '',
    ...(n.singular ? { singular: n.singular } : {}),
    ...(n.shortNames?.length ? { shortNames: n.shortNames } : {}),
    kind: n.kind ?? '',
    ...(n.listKind ? { listKind: n.listKind } : {}),
    ...(n.categories?.length ? { categories: n.categories } : {}),
  };
}
