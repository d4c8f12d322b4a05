// The endpoints and endpointslice controllers of kube-controller-manager:
// for every Service with a selector, the v1 Endpoints of the same name
// (ready pods in addresses, unready in notReadyAddresses, grouped by their
// port sets as RepackSubsets does) and discovery.k8s.io/v1 EndpointSlices
// (one per port set, with ready/serving/terminating conditions, owned by the
// Service, labelled kubernetes.io/service-name and managed-by). Target ports
// resolve by number or by the pod's named container port.
import type { K8sObject, StoreEvent } from '../types.ts';
import { ApiError } from '../status.ts';
import { matchesSelector } from '../selectors.ts';
import type { Controller, ControllerContext } from './controller.ts';
import { WorkQueue, objectKey, splitKey } from './workqueue.ts';

const SLICES = 'discovery.k8s.io/endpointslices';
const SERVICE_NAME = 'kubernetes.io/service-name';
const MANAGED_BY = 'endpointslice.kubernetes.io/managed-by';
const SLICE_CONTROLLER = 'endpointslice-controller.k8s.io';
const TRIGGER = 'endpoints.kubernetes.io/last-change-trigger-time';
const HEADLESS = 'service.kubernetes.io/headless';

interface Port { name: string; port: number; protocol: string; appProtocol?: string }

const isTerminal = (p: K8sObject) => p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed';
const isReady = (p: K8sObject) => (p.status?.conditions ?? []).some((c: any) => c.type === 'Ready' && c.status === 'True');
const podIP = (p: K8sObject): string | undefined => p.status?.podIPs?.[0]?.ip || p.status?.podIP || undefined;

/** endpointsliceutil.ShouldPodBeInEndpoints. */
function shouldBeIn(p: K8sObject, includeTerminating: boolean): boolean {
  return !isTerminal(p) && Boolean(podIP(p)) && (includeTerminating || !p.metadata.deletionTimestamp);
}

/** podutil.FindPort: a number as it is, a name through the pod's container ports of that protocol. */
function findPort(pod: K8sObject, sp: any): number | undefined {
  const target = sp.targetPort ?? sp.port;
  if (typeof target === 'number') return target;
  if (/^\d+$/.test(String(target))) return Number(target);
  for (const c of pod.spec?.containers ?? []) {
    for (const p of c.ports ?? []) if (p.name === target && (p.protocol ?? 'TCP') === (sp.protocol ?? 'TCP')) return p.containerPort;
  }
  return undefined;
}

function podPorts(pod: K8sObject, svc: K8sObject): Port[] {
  const out: Port[] = [];
  for (const sp of svc.spec?.ports ?? []) {
    const port = findPort(pod, sp);
    if (port === undefined) continue;
    out.push({ name: sp.name ?? '', port, protocol: sp.protocol ?? 'TCP', ...(sp.appProtocol ? { appProtocol: sp.appProtocol } : {}) });
  }
  return out;
}

const hasSelector = (svc: K8sObject) => svc.spec?.type !== 'ExternalName' && Object.keys(svc.spec?.selector ?? {}).length > 0;

export class EndpointsController implements Controller {
  readonly name = 'endpoints-controllers';
  private ctx!: ControllerContext;
  private queue!: WorkQueue;
  private unsubscribe: (() => void) | undefined;

  start(ctx: ControllerContext): void {
    this.ctx = ctx;
    this.queue = new WorkQueue(ctx.clock, (k) => this.sync(k));
    this.unsubscribe = ctx.store.subscribe((ev) => this.onEvent(ev));
    for (const s of ctx.store.list('services').items) this.queue.add(objectKey(s.metadata));
  }

  stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    this.queue?.stop();
  }

  private onEvent(ev: StoreEvent): void {
    const ns = ev.object.metadata.namespace;
    switch (ev.storage) {
      case 'services':
        this.queue.add(objectKey(ev.object.metadata));
        return;
      case 'pods':
        for (const svc of this.ctx.store.list('services', ns).items) {
          if (!hasSelector(svc)) continue;
          if (matchesSelector({ matchLabels: svc.spec.selector }, ev.object.metadata.labels) || (ev.old && matchesSelector({ matchLabels: svc.spec.selector }, ev.old.metadata.labels))) {
            this.queue.add(objectKey(svc.metadata));
          }
        }
        return;
      case 'endpoints':
        if (ev.type === 'DELETED') this.queue.add(objectKey(ev.object.metadata));
        return;
      case SLICES: {
        const svc = ev.object.metadata.labels?.[SERVICE_NAME];
        if (svc && ev.object.metadata.labels?.[MANAGED_BY] === SLICE_CONTROLLER && ev.type !== 'ADDED') this.queue.add(`${ns}/${svc}`);
        return;
      }
    }
  }

  private sync(key: string): void {
    const { namespace, name } = splitKey(key);
    const svc = this.ctx.store.get('services', namespace, name);
    if (!svc || !hasSelector(svc) || svc.metadata.deletionTimestamp) {
      // The Endpoints go with the Service; its EndpointSlices are the garbage collector's, by owner.
      if (!svc || svc.metadata.deletionTimestamp) this.remove('endpoints', namespace, name);
      return;
    }
    const pods = this.ctx.store.list('pods', namespace).items
      .filter((p) => matchesSelector({ matchLabels: svc.spec.selector }, p.metadata.labels))
      .sort((a, b) => (a.metadata.name! < b.metadata.name! ? -1 : 1));
    const labels = { ...(svc.metadata.labels ?? {}), ...(svc.spec?.clusterIP === 'None' ? { [HEADLESS]: '' } : {}) };
    this.syncEndpoints(svc, pods, labels);
    this.syncSlices(svc, pods, labels);
  }

  private remove(storage: string, ns: string | undefined, name: string): void {
    try {
      this.ctx.store.delete(storage, ns, name);
    } catch (err) {
      if (!(err instanceof ApiError && err.code === 404)) throw err;
    }
  }

  private trigger(): string {
    return new Date(this.ctx.clock.now()).toISOString().replace(/\.000Z$/, 'Z');
  }

  private syncEndpoints(svc: K8sObject, pods: K8sObject[], labels: Record<string, string>): void {
    const tolerate = svc.spec?.publishNotReadyAddresses === true;
    const headless = !(svc.spec?.ports ?? []).length && svc.spec?.clusterIP === 'None';
    const groups = new Map<string, { ports: Port[]; ready: any[]; notReady: any[] }>();
    for (const pod of pods) {
      if (!shouldBeIn(pod, tolerate)) continue;
      const ports = headless ? [] : podPorts(pod, svc).map(({ name, port, protocol, appProtocol }) => ({ ...(name ? { name } : {}), port, protocol, ...(appProtocol ? { appProtocol } : {}) }) as Port);
      if (!headless && !ports.length) continue;
      const address = { ip: podIP(pod), nodeName: pod.spec?.nodeName, targetRef: { kind: 'Pod', namespace: pod.metadata.namespace, name: pod.metadata.name, uid: pod.metadata.uid } };
      if (!address.nodeName) delete (address as { nodeName?: string }).nodeName;
      const k = JSON.stringify(ports);
      const g = groups.get(k) ?? { ports, ready: [], notReady: [] };
      groups.set(k, g);
      (tolerate || isReady(pod) ? g.ready : g.notReady).push(address);
    }
    const byIP = (a: any, b: any) => (a.ip < b.ip ? -1 : a.ip > b.ip ? 1 : a.targetRef.uid < b.targetRef.uid ? -1 : 1);
    const subsets = [...groups.values()].map((g) => ({
      ...(g.ready.length ? { addresses: g.ready.sort(byIP) } : {}),
      ...(g.notReady.length ? { notReadyAddresses: g.notReady.sort(byIP) } : {}),
      ...(g.ports.length ? { ports: g.ports } : {}),
    }));
    const { namespace, name } = svc.metadata;
    const current = this.ctx.store.get('endpoints', namespace, name!);
    const same = current && JSON.stringify(current.subsets ?? []) === JSON.stringify(subsets) && JSON.stringify(current.metadata.labels ?? {}) === JSON.stringify(labels);
    if (same) return;
    const write = (o: K8sObject) => {
      o.metadata.labels = labels;
      o.metadata.annotations = { ...(o.metadata.annotations ?? {}), [TRIGGER]: this.trigger() };
      if (subsets.length) o.subsets = subsets;
      else delete o.subsets;
    };
    if (current) {
      this.ctx.store.mutate('endpoints', namespace, name!, (o) => write(o));
      return;
    }
    const ep: K8sObject = { apiVersion: 'v1', kind: 'Endpoints', metadata: { name, namespace } };
    write(ep);
    this.ctx.store.create('endpoints', ep);
  }

  private syncSlices(svc: K8sObject, pods: K8sObject[], labels: Record<string, string>): void {
    const { namespace, name, uid } = svc.metadata;
    const groups = new Map<string, { ports: Port[]; endpoints: any[] }>();
    for (const pod of pods) {
      if (!shouldBeIn(pod, true)) continue;
      const ports = podPorts(pod, svc);
      if ((svc.spec?.ports ?? []).length && !ports.length) continue;
      const terminating = Boolean(pod.metadata.deletionTimestamp);
      const serving = svc.spec?.publishNotReadyAddresses === true || isReady(pod);
      const ready = svc.spec?.publishNotReadyAddresses === true || (serving && !terminating);
      const node = pod.spec?.nodeName ? this.ctx.store.get('nodes', undefined, pod.spec.nodeName) : undefined;
      const zone = node?.metadata.labels?.['topology.kubernetes.io/zone'];
      const k = JSON.stringify(ports);
      const g = groups.get(k) ?? { ports, endpoints: [] };
      groups.set(k, g);
      g.endpoints.push({
        addresses: [podIP(pod)],
        conditions: { ready, serving, terminating },
        ...(pod.spec?.nodeName ? { nodeName: pod.spec.nodeName } : {}),
        targetRef: { kind: 'Pod', namespace: pod.metadata.namespace, name: pod.metadata.name, uid: pod.metadata.uid },
        ...(zone ? { zone } : {}),
      });
    }
    // A Service without endpoints still gets one (empty) slice, the controller's placeholder.
    if (!groups.size) groups.set('[]', { ports: [], endpoints: [] });
    const sliceLabels = { ...labels, [SERVICE_NAME]: name!, [MANAGED_BY]: SLICE_CONTROLLER };
    const existing = this.ctx.store.list(SLICES, namespace).items
      .filter((s) => s.metadata.labels?.[SERVICE_NAME] === name && s.metadata.labels?.[MANAGED_BY] === SLICE_CONTROLLER);
    const unused = new Map(existing.map((s) => [JSON.stringify(s.ports ?? []), s]));
    for (const [k, g] of groups) {
      const current = unused.get(k) ?? [...unused.values()][0];
      if (current) unused.delete(JSON.stringify(current.ports ?? []));
      const same = current && JSON.stringify(current.endpoints ?? []) === JSON.stringify(g.endpoints)
        && JSON.stringify(current.ports ?? []) === JSON.stringify(g.ports) && JSON.stringify(current.metadata.labels) === JSON.stringify(sliceLabels);
      if (same) continue;
      const write = (o: K8sObject) => {
        o.metadata.labels = sliceLabels;
        o.metadata.annotations = { ...(o.metadata.annotations ?? {}), [TRIGGER]: this.trigger() };
        o.addressType = 'IPv4';
        o.endpoints = g.endpoints;
        o.ports = g.ports;
      };
      if (current) {
        this.ctx.store.mutate(SLICES, namespace, current.metadata.name!, (o) => write(o));
        continue;
      }
      const slice: K8sObject = {
        apiVersion: 'discovery.k8s.io/v1',
        kind: 'EndpointSlice',
        metadata: { generateName: `${name}-`, namespace, ownerReferences: [{ apiVersion: 'v1', kind: 'Service', name: name!, uid: uid!, controller: true, blockOwnerDeletion: true }] },
      };
      write(slice);
      this.ctx.store.create(SLICES, slice);
    }
    for (const s of unused.values()) this.remove(SLICES, namespace, s.metadata.name!);
  }
}
