// Watches against the sandbox API server with @kubernetes/client-node 2.x:
// resume, selector transitions, 410 after compaction, bookmarks,
// sendInitialEvents, timeouts, informers, and closing open streams.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as k8s from '@kubernetes/client-node';
import type { ManualClock } from '../../src/common/clock.ts';
import type { LogBook } from '../../src/sandbox/logs.ts';
import type { ObjectStore } from '../../src/sandbox/store.ts';
import { kubeconfigYaml } from '../../src/sandbox/kubeconfig.ts';
import { startApiServer, type ApiServer } from '../../src/sandbox/server/index.ts';
import { NS, collect, patchAs, startTestServer, until } from './server-setup.ts';

describe('sandbox API server with @kubernetes/client-node: watches', { timeout: 60_000 }, () => {
  let clock: ManualClock;
  let store: ObjectStore;
  let logs: LogBook;
  let server: ApiServer;
  let kc: k8s.KubeConfig;
  let core: k8s.CoreV1Api;

  before(async () => {
    ({ clock, store, logs, server, kc, core } = await startTestServer());
  });

  after(async () => {
    await server.close();
  });

  it('resumes a watch exactly after the given resourceVersion', async () => {
    const a = await core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: 'w-a', labels: { w: 'resume' } } } });
    await core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: 'w-b', labels: { w: 'resume' } } } });
    await core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: 'w-c', labels: { w: 'resume' } } } });
    const w = await collect(kc, `/api/v1/namespaces/${NS}/configmaps`, { resourceVersion: a.metadata?.resourceVersion, labelSelector: 'w=resume' });
    await until(() => w.events.length >= 2, 'replayed events');
    await core.patchNamespacedConfigMap({ name: 'w-a', namespace: NS, body: { data: { x: '1' } } }, patchAs(k8s.PatchStrategy.MergePatch));
    await until(() => w.events.length >= 3, 'live event');
    assert.deepEqual(w.events.map((e) => `${e.type} ${e.obj.metadata.name}`), ['ADDED w-b', 'ADDED w-c', 'MODIFIED w-a']);
    w.req.abort();
  });

  it('sends current objects as ADDED when the watch has no resourceVersion, and tracks selector transitions', async () => {
    await core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: 'sel-x', labels: { watch: 'in' } } } });
    const w = await collect(kc, `/api/v1/namespaces/${NS}/configmaps`, { labelSelector: 'watch=in' });
    await until(() => w.events.length >= 1, 'initial ADDED');
    await core.patchNamespacedConfigMap({ name: 'sel-x', namespace: NS, body: { metadata: { labels: { watch: 'out' } } } }, patchAs(k8s.PatchStrategy.MergePatch));
    await core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: 'sel-y', labels: { watch: 'out' } } } });
    await core.patchNamespacedConfigMap({ name: 'sel-y', namespace: NS, body: { metadata: { labels: { watch: 'in' } } } }, patchAs(k8s.PatchStrategy.MergePatch));
    await until(() => w.events.length >= 3, 'transition events');
    assert.deepEqual(w.events.map((e) => `${e.type} ${e.obj.metadata.name}`), ['ADDED sel-x', 'DELETED sel-x', 'ADDED sel-y']);
    w.req.abort();
  });

  it('answers a compacted resourceVersion with an ERROR event carrying 410', async () => {
    const cm = await core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: 'old-rv' } } });
    await core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: 'newer-rv' } } });
    store.compact();
    const w = await collect(kc, `/api/v1/namespaces/${NS}/configmaps`, { resourceVersion: cm.metadata?.resourceVersion });
    await until(() => w.ended() !== 'open', 'the stream to end');
    assert.equal(w.events.length, 1);
    assert.equal(w.events[0].type, 'ERROR');
    assert.equal(w.events[0].obj.code, 410);
    assert.equal(w.events[0].obj.reason, 'Expired');
  });

  it('sends a bookmark with the latest resourceVersion 2s before the watch times out', async () => {
    const w = await collect(kc, `/api/v1/namespaces/${NS}/pods`, { resourceVersion: String(store.resourceVersion()), allowWatchBookmarks: true, timeoutSeconds: 3 });
    await core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: 'bookmark-bump' } } });
    await until(() => w.events.some((e) => e.type === 'BOOKMARK'), 'a bookmark', 3000);
    const bm = w.events.find((e) => e.type === 'BOOKMARK')!;
    assert.equal(bm.obj.kind, 'Pod');
    assert.equal(Number(bm.obj.metadata.resourceVersion), store.resourceVersion());
    w.req.abort();
  });

  it('streams initial events then an initial-events-end bookmark for sendInitialEvents', async () => {
    await core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: 'wl-1', labels: { wl: 'yes' } } } });
    const w = await collect(kc, `/api/v1/namespaces/${NS}/configmaps`, {
      labelSelector: 'wl=yes', sendInitialEvents: true, allowWatchBookmarks: true, resourceVersionMatch: 'NotOlderThan',
    });
    await until(() => w.events.some((e) => e.type === 'BOOKMARK'), 'the initial-events-end bookmark');
    assert.equal(w.events[0].type, 'ADDED');
    assert.equal(w.events[1].type, 'BOOKMARK');
    assert.equal(w.events[1].obj.metadata.annotations['k8s.io/initial-events-end'], 'true');
    w.req.abort();
  });

  it('ends a watch after timeoutSeconds', async () => {
    const w = await collect(kc, `/api/v1/namespaces/${NS}/pods`, { timeoutSeconds: 1, resourceVersion: String(store.resourceVersion()) });
    await until(() => w.ended() !== 'open', 'the timeout', 3000);
    assert.equal(w.ended(), null);
  });

  it('keeps an informer in sync from one list and one watch, without per-event GETs', async () => {
    const before = server.requestCounts();
    const informer = k8s.makeInformer(kc, `/api/v1/namespaces/${NS}/configmaps`, () => core.listNamespacedConfigMap({ namespace: NS, labelSelector: 'inf=yes' }), 'inf=yes');
    const seen: string[] = [];
    informer.on('add', (o) => seen.push(`add ${o.metadata?.name}`));
    informer.on('update', (o) => seen.push(`update ${o.metadata?.name}`));
    informer.on('delete', (o) => seen.push(`delete ${o.metadata?.name}`));
    await informer.start();
    store.create('configmaps', { metadata: { name: 'inf-1', namespace: NS, labels: { inf: 'yes' } } });
    store.mutate('configmaps', NS, 'inf-1', (c) => { c.data = { a: '1' }; });
    store.remove('configmaps', store.get('configmaps', NS, 'inf-1')!);
    await until(() => seen.length >= 3, 'informer callbacks');
    await informer.stop();
    assert.deepEqual(seen, ['add inf-1', 'update inf-1', 'delete inf-1']);
    const after = server.requestCounts();
    assert.equal((after['list configmaps'] ?? 0) - (before['list configmaps'] ?? 0), 1);
    assert.equal((after['watch configmaps'] ?? 0) - (before['watch configmaps'] ?? 0), 1);
    assert.equal(after['get configmaps'] ?? 0, before['get configmaps'] ?? 0, 'no per-event GETs');
  });

  it('ends open watches promptly on close()', async () => {
    const other = await startApiServer({ store, clock, logs, port: 0 });
    const okc = new k8s.KubeConfig();
    okc.loadFromString(kubeconfigYaml(other.url));
    const w = await collect(okc, `/api/v1/namespaces/${NS}/pods`, { resourceVersion: String(store.resourceVersion()) });
    const t0 = Date.now();
    await other.close();
    await until(() => w.ended() !== 'open', 'the watch to end', 2000);
    assert.ok(Date.now() - t0 < 2000);
  });
});
