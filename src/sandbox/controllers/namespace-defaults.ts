// What kube-controller-manager puts in every namespace: the `default`
// ServiceAccount (serviceaccounts-controller) and the kube-root-ca.crt
// ConfigMap with the cluster's CA (root-ca-cert-publisher). Both are made
// when a namespace appears, made again when deleted, and the ConfigMap is
// put back when edited; a terminating namespace gets nothing new. Writes are
// stamped as kube-controller-manager's, as on a real cluster. The API
// server's own default/kubernetes Service is put back here too when deleted
// (its bootstrap controller reconciles it).
import { recordUpdate } from '../server/managed.ts';
import { ROOT_CA_PEM } from '../root-ca.ts';
import { kubernetesService } from '../bootstrap.ts';
import { ApiError } from '../status.ts';
import type { K8sObject, StoreEvent } from '../types.ts';
import type { Controller, ControllerContext } from './controller.ts';
import { WorkQueue } from './workqueue.ts';

export const ROOT_CA_CONFIGMAP = 'kube-root-ca.crt';
const DESCRIPTION = 'Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters.';

function rootCa(ns: string): K8sObject {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: ROOT_CA_CONFIGMAP, namespace: ns, annotations: { 'kubernetes.io/description': DESCRIPTION } },
    data: { 'ca.crt': ROOT_CA_PEM },
  };
}

export class NamespaceDefaultsController implements Controller {
  readonly name = 'namespace-defaults';
  private ctx!: ControllerContext;
  private queue!: WorkQueue;
  private unsubscribe: (() => void) | undefined;

  start(ctx: ControllerContext): void {
    this.ctx = ctx;
    this.queue = new WorkQueue(ctx.clock, (ns) => this.sync(ns));
    this.unsubscribe = ctx.store.subscribe((ev) => this.onEvent(ev));
    for (const ns of ctx.store.list('namespaces').items) this.queue.add(ns.metadata.name!);
  }

  stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    this.queue?.stop();
  }

  private onEvent(ev: StoreEvent): void {
    if (ev.storage === 'namespaces' && ev.type !== 'DELETED') this.queue.add(ev.object.metadata.name!);
    else if (ev.storage === 'serviceaccounts' && ev.type === 'DELETED' && ev.object.metadata.name === 'default') this.queue.add(ev.object.metadata.namespace!);
    else if (ev.storage === 'configmaps' && ev.type !== 'ADDED' && ev.object.metadata.name === ROOT_CA_CONFIGMAP) this.queue.add(ev.object.metadata.namespace!);
    else if (ev.storage === 'services' && ev.type === 'DELETED' && ev.object.metadata.namespace === 'default' && ev.object.metadata.name === 'kubernetes') this.queue.add('default');
  }

  private sync(ns: string): void {
    const namespace = this.ctx.store.get('namespaces', undefined, ns);
    if (!namespace || namespace.metadata.deletionTimestamp) return;
    if (!this.ctx.store.get('serviceaccounts', ns, 'default')) this.create('serviceaccounts', { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default', namespace: ns } });
    if (ns === 'default' && !this.ctx.store.get('services', ns, 'kubernetes')) this.create('services', kubernetesService(), 'kube-apiserver');
    const cm = this.ctx.store.get('configmaps', ns, ROOT_CA_CONFIGMAP);
    const want = rootCa(ns);
    if (!cm) this.create('configmaps', want);
    else if (cm.data?.['ca.crt'] !== ROOT_CA_PEM || cm.metadata.annotations?.['kubernetes.io/description'] !== DESCRIPTION) {
      this.ctx.store.mutate('configmaps', ns, ROOT_CA_CONFIGMAP, (c) => {
        const before = structuredClone(c);
        c.data = { ...want.data };
        c.metadata.annotations = { ...(c.metadata.annotations ?? {}), ...want.metadata.annotations };
        c.metadata.managedFields = recordUpdate(before, c, { manager: 'kube-controller-manager', operation: 'Update', apiVersion: 'v1' }, this.ctx.clock.now());
      });
    }
  }

  private create(storage: string, obj: K8sObject, manager = 'kube-controller-manager'): void {
    obj.metadata.managedFields = recordUpdate(undefined, obj, { manager, operation: 'Update', apiVersion: 'v1' }, this.ctx.clock.now());
    try {
      this.ctx.store.create(storage, obj);
    } catch (err) {
      // Created meanwhile, or the namespace began terminating: nothing to do.
      if (!(err instanceof ApiError)) throw err;
    }
  }
}
