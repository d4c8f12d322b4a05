// metrics.k8s.io/v1beta1 on a full sandbox over HTTP, read raw and through
// @kubernetes/client-node's Metrics client: the shapes metrics-server serves,
// its 404s, selectors, no watch, and what hung kubelets and stopped pods show.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as k8s from '@kubernetes/client-node';
import { ManualClock } from '../../src/common/clock.ts';
import { Sandbox } from '../../src/sandbox/cluster.ts';
import { startApiServer } from '../../src/sandbox/server/index.ts';
import { ObjectStore } from '../../src/sandbox/store.ts';
import { LogBook } from '../../src/sandbox/logs.ts';

const START = Date.parse('2025-03-01T12:00:00Z');
const MI = 2 ** 20;
let clock: ManualClock;
let sb: Sandbox;

async function advance(ms: number): Promise<void> {
  for (let t = 0; t < ms; t += 1000) await clock.advance(1000);
}

async function get(path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  const r = await fetch(sb.url + path, { headers });
  return { status: r.status, body: await r.json() };
}

function pod(name: string, o: { node?: string; labels?: Record<string, string>; image?: string; containers?: string[]; restartPolicy?: string; ns?: string } = {}) {
  return sb.store.create('pods', {
    metadata: { name, namespace: o.ns ?? 'default', labels: o.labels ?? { app: name } },
    spec: {
      // No node: a selector no node matches keeps it Pending.
      ...(o.node === '' ? { nodeSelector: { pool: 'none' } } : { nodeName: o.node ?? 'node-1' }),
      ...(o.restartPolicy ? { restartPolicy: o.restartPolicy } : {}),
      containers: (o.containers ?? ['app']).map((c) => ({ name: c, image: o.image ?? 'nginx:1.27' })),
    },
  });
}

before(async () => {
  clock = new ManualClock(START);
  sb = new Sandbox({ clock, images: { 'shop/leaky:1': { memoryMi: 100, leakMiPerMinute: 60, cpuMilli: 250 } } });
  await sb.listen();
  sb.store.create('namespaces', { metadata: { name: 'shop' } });
  pod('web', { containers: ['app', 'proxy'], labels: { app: 'web', tier: 'front' } });
  pod('leaky', { image: 'shop/leaky:1', node: 'node-2', ns: 'shop', labels: { app: 'leaky' } });
  pod('pending', { node: '' });
  pod('done', { image: 'busybox:1.36', restartPolicy: 'Never' });
  await advance(30_000);
});

after(async () => {
  await sb.stop();
});

test('discovery lists metrics.k8s.io/v1beta1 with get and list only, in every form kubectl reads', { timeout: 30_000 }, async () => {
  const groups = (await get('/apis')).body.groups.map((g: any) => g.name);
  assert.equal(groups.at(-1), 'metrics.k8s.io');
  assert.deepEqual((await get('/apis/metrics.k8s.io')).body.preferredVersion, { groupVersion: 'metrics.k8s.io/v1beta1', version: 'v1beta1' });
  assert.deepEqual((await get('/apis/metrics.k8s.io/v1beta1')).body.resources, [
    { name: 'nodes', singularName: '', namespaced: false, kind: 'NodeMetrics', verbs: ['get', 'list'] },
    { name: 'pods', singularName: '', namespaced: true, kind: 'PodMetrics', verbs: ['get', 'list'] },
  ]);
  const agg = await get('/apis', { accept: 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList' });
  const m = agg.body.items.find((i: any) => i.metadata.name === 'metrics.k8s.io');
  assert.deepEqual(m.versions[0].resources.map((r: any) => [r.resource, r.scope, r.responseKind.kind, r.verbs.join()]), [
    ['nodes', 'Cluster', 'NodeMetrics', 'get,list'],
    ['pods', 'Namespaced', 'PodMetrics', 'get,list'],
  ]);
  assert.ok((await get('/')).body.paths.includes('/apis/metrics.k8s.io/v1beta1'));
});

test('a PodMetrics is what metrics-server serves: timestamp, window, per-container usage in n and Ki, labels', { timeout: 30_000 }, async () => {
  const { status, body } = await get('/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/web');
  assert.equal(status, 200);
  assert.deepEqual(Object.keys(body), ['kind', 'apiVersion', 'metadata', 'timestamp', 'window', 'containers']);
  assert.equal(body.kind, 'PodMetrics');
  assert.equal(body.apiVersion, 'metrics.k8s.io/v1beta1');
  assert.deepEqual(body.metadata, { name: 'web', namespace: 'default', creationTimestamp: '2025-03-01T12:00:30Z', labels: { app: 'web', tier: 'front' } });
  // The kubelet reports every 10s: the last report and the one before.
  assert.match(body.timestamp, /^2025-03-01T12:00:(2\d|30)Z$/);
  assert.equal(body.window, '10s');
  assert.deepEqual(body.containers.map((c: any) => c.name), ['app', 'proxy']);
  for (const c of body.containers) {
    assert.match(c.usage.cpu, /^\d+n$/);
    assert.match(c.usage.memory, /^\d+Ki$/);
    // nginx: 50m, 32Mi in the image model; measured values are near it, never round.
    assert.ok(Math.abs(Number(c.usage.cpu.slice(0, -1)) / 1e6 - 50) <= 1.5, c.usage.cpu);
    const mi = Number(c.usage.memory.slice(0, -2)) / 1024;
    assert.ok(mi >= 32 && mi < 32.25, c.usage.memory);
  }
});

test('lists: namespaced, cluster-wide sorted by namespace and name, items without kind; nodes with pods plus system usage', { timeout: 30_000 }, async () => {
  const ns = (await get('/apis/metrics.k8s.io/v1beta1/namespaces/default/pods')).body;
  assert.equal(ns.kind, 'PodMetricsList');
  assert.deepEqual(ns.metadata, {});
  // Neither the Pending pod nor the one that ran to completion has metrics.
  assert.deepEqual(ns.items.map((i: any) => i.metadata.name), ['web']);
  assert.equal(ns.items[0].kind, undefined);
  const all = (await get('/apis/metrics.k8s.io/v1beta1/pods')).body;
  assert.deepEqual(all.items.map((i: any) => `${i.metadata.namespace}/${i.metadata.name}`), ['default/web', 'shop/leaky']);
  const nodes = (await get('/apis/metrics.k8s.io/v1beta1/nodes')).body;
  assert.equal(nodes.kind, 'NodeMetricsList');
  assert.deepEqual(nodes.items.map((n: any) => n.metadata.name), ['node-1', 'node-2', 'node-3']);
  const n2 = nodes.items[1];
  assert.deepEqual(Object.keys(n2), ['metadata', 'timestamp', 'window', 'usage']);
  assert.equal(n2.metadata.labels['kubernetes.io/hostname'], 'node-2');
  // The leaky pod (100Mi + 60Mi/min, 250m) and the node's own 256Mi reserved, 100m.
  const memMi = Number(n2.usage.memory.slice(0, -2)) / 1024;
  assert.ok(memMi > 256 + 100 && memMi < 256 + 100 + 60, n2.usage.memory);
  assert.ok(Math.abs(Number(n2.usage.cpu.slice(0, -1)) / 1e6 - 350) < 15, n2.usage.cpu);
  const n3 = nodes.items[2];
  assert.ok(Number(n3.usage.memory.slice(0, -2)) / 1024 < 257, 'an empty node uses its reserved memory');
});

test('labelSelector and metadata fieldSelectors filter; other fields are a 400', { timeout: 30_000 }, async () => {
  const q = (s: string) => get(`/apis/metrics.k8s.io/v1beta1/pods?${s}`);
  assert.deepEqual((await q('labelSelector=tier%3Dfront')).body.items.map((i: any) => i.metadata.name), ['web']);
  assert.deepEqual((await q('labelSelector=app%20in%20(leaky,nope)')).body.items.map((i: any) => i.metadata.name), ['leaky']);
  assert.deepEqual((await q('labelSelector=app%3Dnone')).body.items, []);
  assert.deepEqual((await q('fieldSelector=metadata.namespace%3Dshop')).body.items.map((i: any) => i.metadata.name), ['leaky']);
  assert.equal((await q('fieldSelector=spec.nodeName%3Dnode-1')).status, 400);
  const nodes = await get('/apis/metrics.k8s.io/v1beta1/nodes?labelSelector=kubernetes.io%2Fhostname%3Dnode-3');
  assert.deepEqual(nodes.body.items.map((n: any) => n.metadata.name), ['node-3']);
});

test('404s are shaped like metrics-server\'s: the pod or node first, then its metrics', { timeout: 30_000 }, async () => {
  const missing = await get('/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/nope');
  assert.equal(missing.status, 404);
  assert.deepEqual(missing.body, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'pods "nope" not found', reason: 'NotFound', details: { name: 'nope', kind: 'pods' }, code: 404 });
  const pending = await get('/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/pending');
  assert.equal(pending.status, 404);
  assert.equal(pending.body.message, 'podmetrics.metrics.k8s.io "default/pending" not found');
  assert.deepEqual(pending.body.details, { name: 'default/pending', group: 'metrics.k8s.io', kind: 'podmetrics' });
  assert.equal((await get('/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/done')).body.message, 'podmetrics.metrics.k8s.io "default/done" not found');
  const node = await get('/apis/metrics.k8s.io/v1beta1/nodes/node-9');
  assert.equal(node.status, 404);
  assert.equal(node.body.message, 'node "node-9" not found');
  // A namespaced name without its namespace is no route at all.
  assert.equal((await get('/apis/metrics.k8s.io/v1beta1/pods/web')).body.message, 'the server could not find the requested resource');
});

test('only get and list: watch is 405 MethodNotAllowed, writes are 405', { timeout: 30_000 }, async () => {
  const w = await get('/apis/metrics.k8s.io/v1beta1/namespaces/default/pods?watch=true');
  assert.equal(w.status, 405);
  assert.equal(w.body.reason, 'MethodNotAllowed');
  assert.equal(w.body.message, 'watch is not supported on resources of kind "pods.metrics.k8s.io"');
  assert.deepEqual(w.body.details, { group: 'metrics.k8s.io', kind: 'pods' });
  const del = await fetch(`${sb.url}/apis/metrics.k8s.io/v1beta1/nodes/node-1`, { method: 'DELETE' });
  assert.equal(del.status, 405);
});

test('Tables for kubectl get: name, summed usage, window', { timeout: 30_000 }, async () => {
  const t = (await get('/apis/metrics.k8s.io/v1beta1/namespaces/default/pods', { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io' })).body;
  assert.equal(t.kind, 'Table');
  assert.deepEqual(t.columnDefinitions.map((c: any) => c.name), ['Name', 'cpu', 'memory', 'Window']);
  const [name, cpu, memory, window] = t.rows[0].cells;
  assert.equal(name, 'web');
  assert.ok(Math.abs(Number(cpu.slice(0, -1)) / 1e6 - 100) < 3, `two containers of ~50m: ${cpu}`);
  assert.ok(Number(memory.slice(0, -2)) / 1024 >= 64, memory);
  assert.equal(window, '10s');
  assert.equal(t.rows[0].object.metadata.namespace, 'default');
});

test('client-node\'s Metrics client reads both lists', { timeout: 30_000 }, async () => {
  const kc = new k8s.KubeConfig();
  kc.loadFromString(sb.kubeconfig());
  const metrics = new k8s.Metrics(kc);
  const pods = await metrics.getPodMetrics('shop');
  assert.deepEqual(pods.items.map((p) => p.metadata.name), ['leaky']);
  assert.equal(pods.items[0].containers[0].name, 'app');
  const nodes = await metrics.getNodeMetrics();
  assert.equal(nodes.items.length, 3);
  const top = await k8s.topPods(kc.makeApiClient(k8s.CoreV1Api), metrics, 'shop');
  assert.equal(top.length, 1);
  assert.ok(Number(top[0].Memory.CurrentUsage) > 100 * MI);
});

test('leaked memory shows as growth between reports; the timestamp moves with each report', { timeout: 30_000 }, async () => {
  const path = '/apis/metrics.k8s.io/v1beta1/namespaces/shop/pods/leaky';
  const a = (await get(path)).body;
  await advance(60_000);
  const b = (await get(path)).body;
  assert.equal(Date.parse(b.timestamp) - Date.parse(a.timestamp), 60_000);
  const grewMi = (Number(b.containers[0].usage.memory.slice(0, -2)) - Number(a.containers[0].usage.memory.slice(0, -2))) / 1024;
  assert.ok(grewMi > 59 && grewMi < 61, `60Mi/min leak: grew ${grewMi}Mi`);
});

test('a hung kubelet\'s pods and node keep the usage and timestamp of its last report', { timeout: 30_000 }, async () => {
  const podPath = '/apis/metrics.k8s.io/v1beta1/namespaces/shop/pods/leaky';
  const before = (await get(podPath)).body;
  const nodeBefore = (await get('/apis/metrics.k8s.io/v1beta1/nodes/node-2')).body;
  sb.nodeHealth.markDown('node-2', clock.now() + 10 * 60_000);
  await advance(60_000);
  const after = (await get(podPath)).body;
  assert.equal(after.timestamp, before.timestamp);
  assert.deepEqual(after.containers, before.containers);
  const nodeAfter = (await get('/apis/metrics.k8s.io/v1beta1/nodes/node-2')).body;
  assert.equal(nodeAfter.timestamp, nodeBefore.timestamp);
  assert.deepEqual(nodeAfter.usage, nodeBefore.usage);
  // The live node's reports go on.
  const n1 = (await get('/apis/metrics.k8s.io/v1beta1/nodes/node-1')).body;
  assert.ok(Date.parse(n1.timestamp) > Date.parse(nodeAfter.timestamp) + 50_000);
});

test('a new pod has no metrics until the kubelet has reported it twice', { timeout: 30_000 }, async () => {
  pod('fresh');
  const path = '/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/fresh';
  while (!sb.usage.pod('default', 'fresh')?.reports) await advance(1000);
  // Running and reported once: metrics-server has one sample, and needs two.
  const early = await get(path);
  assert.equal(early.status, 404);
  assert.equal(early.body.message, 'podmetrics.metrics.k8s.io "default/fresh" not found');
  assert.ok(!(await get('/apis/metrics.k8s.io/v1beta1/pods')).body.items.some((i: any) => i.metadata.name === 'fresh'));
  await advance(10_000);
  const later = await get(path);
  assert.equal(later.status, 200);
  assert.equal(later.body.window, '10s');
});

test('an API server without the usage book serves no metrics API, like a cluster without metrics-server', { timeout: 30_000 }, async () => {
  const c = new ManualClock(START);
  const server = await startApiServer({ store: new ObjectStore({ clock: c }), clock: c, logs: new LogBook(c) });
  try {
    const groups = ((await (await fetch(`${server.url}/apis`)).json()) as any).groups.map((g: any) => g.name);
    assert.ok(!groups.includes('metrics.k8s.io'));
    assert.equal((await fetch(`${server.url}/apis/metrics.k8s.io/v1beta1/nodes`)).status, 404);
  } finally {
    await server.close();
  }
});

test('an injected fault answers metrics requests, e.g. an unavailable metrics-server', { timeout: 30_000 }, async () => {
  sb.faults.add({ verb: 'list', resource: 'metrics.k8s.io/pods', code: 503, message: 'the server is currently unable to handle the request', times: 1 });
  const r = await get('/apis/metrics.k8s.io/v1beta1/pods');
  assert.equal(r.status, 503);
  assert.equal((await get('/apis/metrics.k8s.io/v1beta1/pods')).status, 200);
});
