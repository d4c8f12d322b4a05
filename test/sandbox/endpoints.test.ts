// The endpoints controllers in virtual time, with pod status written directly
// (no kubelet), for the cases the conformance checks cannot stage: a ready
// pod terminating, publishNotReadyAddresses, pods without an IP or finished,
// headless services, unresolvable named ports, and self-healing.
import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EndpointsController } from '../../src/sandbox/controllers/endpoints.ts';
import { GarbageCollector } from '../../src/sandbox/controllers/gc.ts';
import type { K8sObject } from '../../src/sandbox/types.ts';
import { harness, type Harness } from './harness.ts';

const SLICES = 'discovery.k8s.io/endpointslices';

describe('endpoints and endpointslice controllers', { timeout: 60_000 }, () => {
  let h: Harness;
  beforeEach(() => {
    h = harness();
    h.run(new EndpointsController(), new GarbageCollector());
  });
  afterEach(() => h.stop());

  const settle = async () => {
    for (let i = 0; i < 5; i++) await h.advance(10);
  };

  function pod(name: string, opts: { ready?: boolean; ip?: string | null; phase?: string; labels?: Record<string, string>; ports?: any[] } = {}): K8sObject {
    h.store.create('pods', {
      metadata: { name, namespace: 'default', labels: opts.labels ?? { app: 'web' } },
      spec: { nodeName: 'node-1', containers: [{ name: 'app', image: 'nginx:1.27', ports: opts.ports ?? [{ name: 'http', containerPort: 8080 }] }] },
    });
    return h.store.mutate('pods', 'default', name, (p) => {
      p.status = {
        phase: opts.phase ?? 'Running',
        ...(opts.ip === null ? {} : { podIP: opts.ip ?? `10.244.1.${name.length + 10}`, podIPs: [{ ip: opts.ip ?? `10.244.1.${name.length + 10}` }] }),
        conditions: [{ type: 'Ready', status: opts.ready === false ? 'False' : 'True' }],
      };
    }, { subresource: 'status' })!;
  }

  const service = (name: string, spec: Record<string, unknown>) => h.store.create('services', { metadata: { name, namespace: 'default' }, spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }], ...spec } });
  const endpoints = (name: string) => h.store.get('endpoints', 'default', name);
  const slices = (svc: string) => h.store.list(SLICES, 'default').items.filter((s) => s.metadata.labels?.['kubernetes.io/service-name'] === svc);
  const conditionsOf = (svc: string, podName: string) => slices(svc).flatMap((s) => s.endpoints).find((e: any) => e.targetRef.name === podName)?.conditions;

  it('a ready pod being deleted is serving and terminating, never ready, and leaves the Endpoints', async () => {
    service('web', {});
    pod('a');
    await settle();
    h.store.delete('pods', 'default', 'a', { gracePeriodSeconds: 30 });
    await settle();
    assert.deepEqual(conditionsOf('web', 'a'), { ready: false, serving: true, terminating: true });
    assert.equal(endpoints('web')!.subsets, undefined);
  });

  it('publishNotReadyAddresses puts unready and terminating pods in the Endpoints and marks them ready', async () => {
    service('web', { publishNotReadyAddresses: true });
    pod('a', { ready: false });
    await settle();
    assert.equal(endpoints('web')!.subsets[0].addresses[0].targetRef.name, 'a');
    assert.deepEqual(conditionsOf('web', 'a'), { ready: true, serving: true, terminating: false });
  });

  it('pods without an IP, finished pods and pods whose named port does not resolve are left out', async () => {
    service('web', {});
    pod('noip', { ip: null });
    pod('done', { phase: 'Succeeded' });
    pod('other', { ports: [{ name: 'grpc', containerPort: 9000 }] });
    pod('ok');
    await settle();
    const names = (endpoints('web')!.subsets ?? []).flatMap((s: any) => s.addresses ?? []).map((a: any) => a.targetRef.name);
    assert.deepEqual(names, ['ok']);
    assert.deepEqual(slices('web').flatMap((s) => s.endpoints).map((e: any) => e.targetRef.name), ['ok']);
  });

  it('a headless Service without ports lists addresses without ports', async () => {
    service('db', { clusterIP: 'None', ports: [] });
    pod('a');
    await settle();
    const ep = endpoints('db')!;
    assert.deepEqual(ep.metadata.labels, { 'service.kubernetes.io/headless': '' });
    assert.deepEqual(ep.subsets, [{ addresses: [{ ip: '10.244.1.11', nodeName: 'node-1', targetRef: { kind: 'Pod', namespace: 'default', name: 'a', uid: ep.subsets[0].addresses[0].targetRef.uid } }] }]);
    assert.deepEqual(slices('db')[0].ports, []);
  });

  it('a pod relabelled out of the selector leaves; a deleted Endpoints or slice comes back', async () => {
    service('web', {});
    pod('a');
    pod('bb');
    await settle();
    h.store.mutate('pods', 'default', 'a', (p) => { p.metadata.labels = { app: 'other' }; });
    await settle();
    assert.deepEqual(endpoints('web')!.subsets[0].addresses.map((a: any) => a.targetRef.name), ['bb']);
    h.store.delete('endpoints', 'default', 'web');
    h.store.delete(SLICES, 'default', slices('web')[0].metadata.name!);
    await settle();
    assert.ok(endpoints('web'));
    assert.equal(slices('web').length, 1);
  });

  it('the last-change-trigger-time moves only when the endpoints change', async () => {
    service('web', {});
    pod('a');
    await settle();
    const first = endpoints('web')!;
    await h.advance(5_000);
    h.store.mutate('pods', 'default', 'a', (p) => { p.metadata.annotations = { touched: 'yes' }; });
    await settle();
    assert.equal(endpoints('web')!.metadata.resourceVersion, first.metadata.resourceVersion);
    pod('bb');
    await settle();
    assert.notEqual(endpoints('web')!.metadata.annotations!['endpoints.kubernetes.io/last-change-trigger-time'], first.metadata.annotations!['endpoints.kubernetes.io/last-change-trigger-time']);
  });
});
