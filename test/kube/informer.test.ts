// The informer against the sandbox API server over real HTTP: the cache
// gives old and new objects, dropped watches resume, 410 Gone relists and
// reconciles, and handling events costs the API server nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KubeConfig } from '@kubernetes/client-node';
import { Sandbox } from '../../src/sandbox/cluster.ts';
import { Informer, KubeHttp, kindRef, type Change } from '../../src/kube/index.ts';

async function setup() {
  const sandbox = new Sandbox({ speed: 1, nodes: [] });
  await sandbox.listen();
  const kc = new KubeConfig();
  kc.loadFromString(sandbox.kubeconfig());
  return { sandbox, http: new KubeHttp(kc) };
}

// Every namespace also holds kube-root-ca.crt (the sandbox publishes it, as a cluster does); these tests count their own ConfigMaps.
const ours = (c: Change) => c.object.metadata.name !== 'kube-root-ca.crt';

const cm = (name: string, v: string) => ({ metadata: { name, namespace: 'default' }, data: { v } });

async function until(cond: () => boolean, what: string, ms = 5000) {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

test('the cache keeps who wrote an object (managedFields without field sets), and kubemend writes as "kubemend"', { timeout: 60_000 }, async () => {
  const { sandbox, http } = await setup();
  const seen: Change[] = [];
  const inf = new Informer(http, kindRef('ConfigMap')!, { onChange: (c) => ours(c) && seen.push(c) }).start();
  try {
    await inf.synced;
    const before = sandbox.clock.now();
    await http.request('POST', '/api/v1/namespaces/default/configmaps', { body: { ...cm('written', '1'), metadata: { name: 'written', namespace: 'default', annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{"data":{"v":"1"}}' } } } });
    await http.request('PATCH', '/api/v1/namespaces/default/configmaps/written', { body: { data: { v: '2' } }, contentType: 'application/merge-patch+json', query: { fieldManager: 'kubectl-edit' } });
    await until(() => seen.length === 2, 'ADDED and MODIFIED');
    const stored = sandbox.store.get('configmaps', 'default', 'written')!;
    assert.ok((stored.metadata.managedFields as { fieldsV1?: unknown }[]).every((e) => e.fieldsV1), 'the API server has field sets');
    const cached = seen[1].object.metadata.managedFields as { manager: string; operation: string; time: string }[];
    assert.deepEqual(cached.map((e) => `${e.manager}/${e.operation}`).sort(), ['kubectl-edit/Update', 'kubemend/Update']);
    assert.ok(cached.every((e) => Object.keys(e).sort().join() === 'manager,operation,time' && Date.parse(e.time) >= Math.floor(before / 1000) * 1000));
    assert.deepEqual(seen[0].object.metadata.managedFields, [{ manager: 'kubemend', operation: 'Update', time: (stored.metadata.managedFields as { manager: string; time: string }[]).find((e) => e.manager === 'kubemend')!.time }]);
    assert.equal(seen[0].object.metadata.annotations?.['kubectl.kubernetes.io/last-applied-configuration'], undefined);
  } finally {
    inf.stop();
    await sandbox.stop();
  }
});

test('changes carry the cached old object', { timeout: 60_000 }, async () => {
  const { sandbox, http } = await setup();
  const seen: Change[] = [];
  const inf = new Informer(http, kindRef('ConfigMap')!, { onChange: (c) => ours(c) && seen.push(c) }).start();
  try {
    sandbox.store.create('configmaps', cm('a', '1'));
    await inf.synced;
    await until(() => seen.length === 1, 'initial ADDED');
    const cur = sandbox.store.get('configmaps', 'default', 'a')!;
    sandbox.store.update('configmaps', { ...cur, data: { v: '2' } });
    sandbox.store.delete('configmaps', 'default', 'a');
    await until(() => seen.length === 3, 'MODIFIED and DELETED');
    assert.deepEqual(seen.map((c) => c.type), ['ADDED', 'MODIFIED', 'DELETED']);
    assert.equal(seen[1].oldObject?.data.v, '1');
    assert.equal(seen[1].object.data.v, '2');
    assert.equal(seen[2].oldObject?.data.v, '2');
    assert.equal(seen[0].object.kind, 'ConfigMap');
    assert.equal(inf.get('default', 'a'), undefined);
  } finally {
    inf.stop();
    await sandbox.stop();
  }
});

test('a watch that ends resumes from the last resourceVersion without loss or repeats', { timeout: 60_000 }, async () => {
  const { sandbox, http } = await setup();
  const seen: Change[] = [];
  const inf = new Informer(http, kindRef('ConfigMap')!, { onChange: (c) => ours(c) && seen.push(c), watchTimeoutSeconds: 1 }).start();
  try {
    await inf.synced;
    for (let i = 0; i < 30; i++) {
      sandbox.store.create('configmaps', cm(`c${i}`, '1'));
      await new Promise((r) => setTimeout(r, 80)); // spans several 1s watch timeouts
    }
    await until(() => seen.length === 30, '30 ADDED');
    assert.ok(inf.stats.resumes >= 1, 'the watch was resumed');
    assert.equal(inf.stats.lists, 1, 'no relist was needed');
    assert.deepEqual(seen.map((c) => c.object.metadata.name), Array.from({ length: 30 }, (_, i) => `c${i}`));
  } finally {
    inf.stop();
    await sandbox.stop();
  }
});

test('410 Gone after an outage relists and emits exactly the differences', { timeout: 60_000 }, async () => {
  const { sandbox, http } = await setup();
  const port = Number(new URL(sandbox.url).port);
  const seen: Change[] = [];
  const inf = new Informer(http, kindRef('ConfigMap')!, { onChange: (c) => ours(c) && seen.push(c), initialBackoffMs: 50, maxBackoffMs: 200 }).start();
  try {
    for (const n of ['keep', 'change', 'remove']) sandbox.store.create('configmaps', cm(n, '1'));
    await inf.synced;
    await until(() => seen.length === 3, 'initial sync');
    // The API server goes away; meanwhile the world changes and etcd compacts,
    // so resuming from the informer's resourceVersion is refused with 410.
    await sandbox.stop();
    const c = sandbox.store.get('configmaps', 'default', 'change')!;
    sandbox.store.update('configmaps', { ...c, data: { v: '2' } });
    sandbox.store.delete('configmaps', 'default', 'remove');
    sandbox.store.create('configmaps', cm('new', '1'));
    sandbox.store.compact();
    await sandbox.listen({ port });
    await until(() => seen.length === 6, 'relist differences');
    const diff = seen.slice(3).map((x) => `${x.type} ${x.object.metadata.name}`).sort();
    assert.deepEqual(diff, ['ADDED new', 'DELETED remove', 'MODIFIED change']);
    assert.ok(seen.slice(3).every((x) => x.fromRelist));
    assert.equal(seen.find((x) => x.type === 'MODIFIED')!.oldObject!.data.v, '1');
    assert.equal(inf.stats.relistsAfterGone, 1);
    assert.deepEqual(inf.list().map((o) => o.metadata.name).filter((n) => n !== 'kube-root-ca.crt').sort(), ['change', 'keep', 'new']);
  } finally {
    inf.stop();
    await sandbox.stop();
  }
});

test('after the initial sync, thousands of events cost no further requests per event', { timeout: 60_000 }, async () => {
  const { sandbox, http } = await setup();
  let n = 0;
  const inf = new Informer(http, kindRef('ConfigMap')!, { onChange: (c) => ours(c) && n++ }).start();
  try {
    await inf.synced;
    await until(() => (sandbox.api!.requestCounts()['watch configmaps'] ?? 0) === 1, 'the watch to open');
    const before = sandbox.api!.requestCounts();
    for (let i = 0; i < 2000; i++) sandbox.store.create('configmaps', cm(`x${i}`, String(i)));
    await until(() => n === 2000, '2000 events', 20_000);
    const after = sandbox.api!.requestCounts();
    const delta = Object.fromEntries(Object.keys(after).map((k) => [k, after[k] - (before[k] ?? 0)]).filter(([, v]) => (v as number) > 0));
    assert.deepEqual(delta, {}, `requests made while handling events: ${JSON.stringify(delta)}`);
  } finally {
    inf.stop();
    await sandbox.stop();
  }
});

test('watch lines cut anywhere by the network — mid-line, mid-character — reach the cache whole', { timeout: 30_000 }, async () => {
  const { createServer } = await import('node:http');
  const objs = Array.from({ length: 5 }, (_, i) => ({ metadata: { name: `cm-${i}`, namespace: 'default', resourceVersion: String(10 + i), labels: { team: 'équipe-日本' } }, data: { v: `värde ${'ü'.repeat(i * 3)}` } }));
  const body = Buffer.from(objs.map((o) => `${JSON.stringify({ type: 'ADDED', object: o })}\n`).join(''));
  const server = createServer((req, res) => {
    if (!req.url?.includes('watch=true')) {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ kind: 'ConfigMapList', apiVersion: 'v1', metadata: { resourceVersion: '9' }, items: [] }));
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    // 5-byte writes, each flushed on its own: multi-byte UTF-8 characters and lines are split across chunks.
    let at = 0;
    const next = () => {
      if (at >= body.length) return;
      res.write(body.subarray(at, (at += 5)));
      setTimeout(next, 1);
    };
    next();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  const kc = new KubeConfig();
  kc.loadFromOptions({ clusters: [{ name: 'c', server: `http://127.0.0.1:${port}`, skipTLSVerify: true }], users: [{ name: 'u' }], contexts: [{ name: 'x', cluster: 'c', user: 'u' }], currentContext: 'x' });
  const seen: Change[] = [];
  const inf = new Informer(new KubeHttp(kc), kindRef('ConfigMap')!, { onChange: (c) => seen.push(c), onError: () => {} }).start();
  try {
    await until(() => seen.length === objs.length, 'every object of the chunked stream');
    for (const [i, o] of objs.entries()) {
      const cached = inf.get('default', `cm-${i}`);
      assert.equal(cached?.metadata.labels?.team, 'équipe-日本');
      assert.deepEqual(cached?.data, o.data);
    }
  } finally {
    inf.stop();
    server.closeAllConnections();
    server.close();
  }
});
