// Endpoints (core/v1) and EndpointSlices (discovery.k8s.io/v1) for Services
// with selectors, as the endpoints and endpointslice controllers of
// kube-controller-manager 1.32 keep them, read with kubectl, Debian's
// python3-kubernetes and raw HTTP: ready and not-ready addresses, the
// ready/serving/terminating conditions, ports by name, the
// kubernetes.io/service-name label and managed-by, ownership and clean-up.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { type Cluster, eventually, skipKubectl, skipPython, startCluster } from './cluster.ts';

const WEB = `apiVersion: apps/v1
kind: Deployment
metadata: {name: web, labels: {app: web}}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: app
        image: nginx:1.27
        ports: [{name: http, containerPort: 8080}, {name: metrics, containerPort: 9090}]
---
apiVersion: v1
kind: Service
metadata: {name: web, labels: {tier: front}}
spec:
  selector: {app: web}
  ports:
  - {name: http, port: 80, targetPort: http}
  - {name: metrics, port: 9090, targetPort: 9090}
`;

/** A pod of the service that stays unready until its readiness gate is set. */
const GATED = `apiVersion: v1
kind: Pod
metadata: {name: gated, labels: {app: web}}
spec:
  readinessGates: [{conditionType: example.com/gate}]
  containers:
  - name: app
    image: nginx:1.27
    ports: [{name: http, containerPort: 8080}]
`;

const SLICES = '/apis/discovery.k8s.io/v1/namespaces/default/endpointslices';

describe('Endpoints and EndpointSlices (kubectl, Python, HTTP)', { skip: skipKubectl, timeout: 180_000 }, () => {
  let c: Cluster;
  const slicesOf = async (svc: string) => (await c.http('GET', `${SLICES}?labelSelector=${encodeURIComponent(`kubernetes.io/service-name=${svc}`)}`)).body.items;
  const endpointsOf = async (svc: string) => (await c.http('GET', `/api/v1/namespaces/default/endpoints/${svc}`)).body;

  before(async () => {
    c = await startCluster();
    await c.kubectl('apply', '-f', c.file('web.yaml', WEB));
    await eventually(async () => (await endpointsOf('web')).subsets?.[0]?.addresses?.length === 2, 'two ready addresses');
  });
  after(async () => c?.stop());

  it('discovery serves endpoints (ep) in v1 and endpointslices in discovery.k8s.io/v1', async () => {
    const core = (await c.http('GET', '/api/v1')).body.resources.find((r: any) => r.name === 'endpoints');
    assert.deepEqual([core.kind, core.namespaced, core.shortNames, core.singularName], ['Endpoints', true, ['ep'], 'endpoints']);
    const list = (await c.http('GET', '/apis/discovery.k8s.io/v1')).body.resources;
    assert.deepEqual(list.map((r: any) => [r.name, r.kind, r.namespaced, r.verbs.length]), [['endpointslices', 'EndpointSlice', true, 8]]);
  });

  it('the Endpoints name the ready pods on each service port, target ports resolved by name', async () => {
    const ep = await endpointsOf('web');
    assert.deepEqual(ep.metadata.labels, { tier: 'front' });
    assert.match(ep.metadata.annotations['endpoints.kubernetes.io/last-change-trigger-time'], /^\d{4}-\d\d-\d\dT[\d:.]+Z$/);
    assert.equal(ep.subsets.length, 1);
    const [ss] = ep.subsets;
    assert.deepEqual(ss.ports.map((p: any) => [p.name, p.port, p.protocol]).sort(), [['http', 8080, 'TCP'], ['metrics', 9090, 'TCP']]);
    for (const a of ss.addresses) {
      assert.match(a.ip, /^10\.244\.\d+\.\d+$/);
      assert.equal(a.targetRef.kind, 'Pod');
      assert.match(a.targetRef.name, /^web-/);
      assert.ok(a.nodeName);
    }
    assert.equal(ss.notReadyAddresses, undefined);
    const out = await c.kubectl('get', 'endpoints', 'web');
    assert.match(out, /^NAME\s+ENDPOINTS\s+AGE\nweb\s+(10\.244\.\d+\.\d+:(8080|9090),?){3} \+ 1 more\.\.\.\s+\d+s\n$/);
  });

  it('the EndpointSlice carries the service-name label, managed-by, an owner reference and per-endpoint conditions', async () => {
    const [slice, ...rest] = await slicesOf('web');
    assert.equal(rest.length, 0);
    assert.match(slice.metadata.name, /^web-[a-z0-9]{5}$/);
    assert.equal(slice.metadata.generateName, 'web-');
    assert.deepEqual(slice.metadata.labels, { tier: 'front', 'kubernetes.io/service-name': 'web', 'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io' });
    const svc = (await c.http('GET', '/api/v1/namespaces/default/services/web')).body;
    assert.deepEqual(slice.metadata.ownerReferences, [{ apiVersion: 'v1', kind: 'Service', name: 'web', uid: svc.metadata.uid, controller: true, blockOwnerDeletion: true }]);
    assert.equal(slice.addressType, 'IPv4');
    assert.deepEqual(slice.ports.map((p: any) => [p.name, p.port, p.protocol]).sort(), [['http', 8080, 'TCP'], ['metrics', 9090, 'TCP']]);
    assert.equal(slice.endpoints.length, 2);
    for (const e of slice.endpoints) {
      assert.deepEqual(e.conditions, { ready: true, serving: true, terminating: false });
      assert.equal(e.addresses.length, 1);
      assert.equal(e.targetRef.kind, 'Pod');
    }
    const out = await c.kubectl('get', 'endpointslices', '-l', 'kubernetes.io/service-name=web');
    assert.match(out, /^NAME\s+ADDRESSTYPE\s+PORTS\s+ENDPOINTS\s+AGE\nweb-\w{5}\s+IPv4\s+(8080,9090|9090,8080)\s+10\.244\.\d+\.\d+,10\.244\.\d+\.\d+\s+\d+s\n$/);
  });

  it('an unready pod is in notReadyAddresses and ready=false until its readiness gate passes', async () => {
    await c.kubectl('apply', '-f', c.file('gated.yaml', GATED));
    // Its ports resolve as the others' do (http by name, 9090 by number), so it shares their subset and slice.
    const ep = await eventually(async () => {
      const e = await endpointsOf('web');
      return e.subsets?.some((s: any) => s.notReadyAddresses?.[0]?.targetRef?.name === 'gated') ? e : undefined;
    }, 'gated in notReadyAddresses');
    assert.equal(ep.subsets.length, 1);
    assert.equal(ep.subsets[0].addresses.length, 2);
    const slices = await slicesOf('web');
    assert.equal(slices.length, 1);
    const gated = slices[0].endpoints.find((e: any) => e.targetRef.name === 'gated');
    assert.deepEqual(gated.conditions, { ready: false, serving: false, terminating: false });

    await c.kubectl('patch', 'pod', 'gated', '--subresource', 'status', '--type', 'strategic', '-p', '{"status":{"conditions":[{"type":"example.com/gate","status":"True"}]}}');
    await eventually(async () => (await endpointsOf('web')).subsets?.some((s: any) => s.addresses?.some((a: any) => a.targetRef.name === 'gated')), 'gated ready');
  });

  it('a terminating pod leaves the Endpoints and stays in its slice, terminating, never ready, serving as its readiness says', async () => {
    await c.kubectl('delete', 'pod', 'gated', '--grace-period=60', '--wait=false');
    const gated = await eventually(async () => (await slicesOf('web')).flatMap((s: any) => s.endpoints).find((e: any) => e.targetRef.name === 'gated' && e.conditions.terminating), 'terminating endpoint');
    const pod = (await c.http('GET', '/api/v1/namespaces/default/pods/gated')).body;
    const podReady = pod.status.conditions.find((x: any) => x.type === 'Ready')?.status === 'True';
    assert.deepEqual(gated.conditions, { ready: false, serving: podReady, terminating: true });
    const ep = await endpointsOf('web');
    assert.ok(!JSON.stringify(ep.subsets).includes('"gated"'));
    await c.kubectl('delete', 'pod', 'gated', '--grace-period=0', '--force');
  });

  it('the Python client reads them (DiscoveryV1Api, CoreV1Api)', { skip: skipPython() }, async () => {
    const out = await c.python(`
d = client.DiscoveryV1Api().list_namespaced_endpoint_slice('default', label_selector='kubernetes.io/service-name=web')
every = client.DiscoveryV1Api().list_endpoint_slice_for_all_namespaces()
ep = client.CoreV1Api().read_namespaced_endpoints('web', 'default')
print(json.dumps({
  'slices': [[s.address_type, sorted(p.port for p in s.ports), [[e.conditions.ready, e.target_ref.kind] for e in s.endpoints]] for s in d.items],
  'all': len(every.items),
  'addresses': sorted(len(s.addresses or []) for s in ep.subsets),
}))
`);
    assert.deepEqual(out.slices, [['IPv4', [8080, 9090], [[true, 'Pod'], [true, 'Pod']]]]);
    assert.ok(out.all >= 1);
    assert.deepEqual(out.addresses, [2]);
  });

  it('a Service without pods has empty Endpoints and a placeholder slice; one without a selector gets neither', async () => {
    await c.http('POST', '/api/v1/namespaces/default/services', { metadata: { name: 'lonely' }, spec: { selector: { app: 'nobody' }, ports: [{ port: 80 }] } });
    await c.http('POST', '/api/v1/namespaces/default/services', { metadata: { name: 'external' }, spec: { ports: [{ port: 80 }] } });
    const ep = await eventually(async () => {
      const r = await c.http('GET', '/api/v1/namespaces/default/endpoints/lonely');
      return r.code === 200 ? r.body : undefined;
    }, 'lonely endpoints');
    assert.equal(ep.subsets, undefined);
    assert.match(await c.kubectl('get', 'ep', 'lonely'), /\nlonely\s+<none>\s+\d+s\n/);
    const [slice] = await eventually(async () => {
      const s = await slicesOf('lonely');
      return s.length ? s : undefined;
    }, 'placeholder slice');
    assert.deepEqual(slice.endpoints, []);
    assert.match(await c.kubectl('get', 'endpointslices', '-l', 'kubernetes.io/service-name=lonely'), /\nlonely-\w{5}\s+IPv4\s+<unset>\s+<unset>\s+\d+s\n/);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal((await c.http('GET', '/api/v1/namespaces/default/endpoints/external')).code, 404);
    assert.deepEqual(await slicesOf('external'), []);
  });

  it('deleting the Service removes its Endpoints and (by owner reference) its slices', async () => {
    await c.kubectl('delete', 'service', 'web');
    await eventually(async () => (await c.http('GET', '/api/v1/namespaces/default/endpoints/web')).code === 404, 'endpoints gone');
    await eventually(async () => (await slicesOf('web')).length === 0, 'slices gone');
  });
});
