// Builds a controller context on a ManualClock without the HTTP server, so
// controller tests run in virtual time: `await h.advance(60_000)` is a minute.
import { ManualClock, k8sTime } from '../../src/common/clock.ts';
import { EventRecorder } from '../../src/sandbox/events.ts';
import { createCatalog, type ImageBehaviour } from '../../src/sandbox/images.ts';
import { LogBook } from '../../src/sandbox/logs.ts';
import { UsageBook } from '../../src/sandbox/usage.ts';
import { NodeHealth } from '../../src/sandbox/nodehealth.ts';
import { ObjectStore } from '../../src/sandbox/store.ts';
import { DEFAULT_CONFIG, type Controller, type ControllerContext } from '../../src/sandbox/controllers/controller.ts';
import type { K8sObject } from '../../src/sandbox/types.ts';

export interface Harness {
  ctx: ControllerContext;
  store: ObjectStore;
  clock: ManualClock;
  run(...controllers: Controller[]): void;
  advance(ms: number): Promise<void>;
  /** Events with this reason, optionally about one object name. */
  events(reason?: string, name?: string): K8sObject[];
  stop(): void;
}

export function harness(opts: { images?: Record<string, ImageBehaviour>; namespaces?: string[] } = {}): Harness {
  const clock = new ManualClock();
  const store = new ObjectStore({ clock });
  for (const ns of ['default', 'kube-system', 'kube-node-lease', ...(opts.namespaces ?? [])]) {
    store.create('namespaces', { metadata: { name: ns } });
  }
  const ctx: ControllerContext = {
    store,
    clock,
    events: new EventRecorder(store, clock),
    images: createCatalog(opts.images),
    logs: new LogBook(clock),
    usage: new UsageBook(),
    nodeHealth: new NodeHealth(),
    config: structuredClone(DEFAULT_CONFIG),
  };
  const running: Controller[] = [];
  return {
    ctx,
    store,
    clock,
    run(...controllers) {
      for (const c of controllers) {
        c.start(ctx);
        running.push(c);
      }
    },
    advance: (ms) => clock.advance(ms),
    events(reason, name) {
      return store.list('events').items.filter(
        (e) => (!reason || e.reason === reason) && (!name || e.involvedObject?.name === name),
      );
    },
    stop() {
      for (const c of running.splice(0)) c.stop();
    },
  };
}

/**
 * Scheduler + kubelet stand-in for controller tests: finishes pending
 * deletions and binds each Pending pod to `nodeFor(pod)`, Running and Ready now.
 */
export function settlePods(h: Harness, nodeFor: (pod: K8sObject) => string): void {
  const now = k8sTime(h.clock.now());
  for (const p of h.store.list('pods').items) {
    const { namespace, name } = p.metadata;
    if (p.metadata.deletionTimestamp) {
      h.store.remove('pods', p);
      continue;
    }
    if (p.status?.phase !== 'Pending') continue;
    const node = nodeFor(p);
    h.store.mutate('pods', namespace, name!, (o) => { o.spec.nodeName = node; });
    h.store.mutate('pods', namespace, name!, (o) => {
      o.status = { ...o.status, phase: 'Running', startTime: now, conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: now }] };
    }, { subresource: 'status' });
  }
}
