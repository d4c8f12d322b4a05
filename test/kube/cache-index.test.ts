// The informer's indexes (by namespace, controlling owner and node) against a
// full scan of the cache: after random creates, updates that move an object
// to another owner or node, deletes, and relists after 410 Gone — first on
// the index alone, then on an informer fed by the sandbox's API server over
// HTTP (served without its controllers, so only this test changes the pods).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KubeConfig } from '@kubernetes/client-node';
import { Sandbox } from '../../src/sandbox/cluster.ts';
import { startApiServer, type ApiServer } from '../../src/sandbox/server/index.ts';
import { kubeconfigYaml } from '../../src/sandbox/kubeconfig.ts';
import { CacheIndex, Informer, KubeHttp, cacheKey, kindRef, type KubeObject } from '../../src/kube/index.ts';

const NAMESPACES = ['a', 'b', 'c'];
const NODES = ['n1', 'n2', 'n3', 'n4'];
const OWNERS = [
  { kind: 'StatefulSet', name: 'db', uid: 'uid-db' },
  { kind: 'DaemonSet', name: 'agent', uid: 'uid-agent' },
  { kind: 'ReplicaSet', name: 'web-5d8f', uid: 'uid-web' },
  // The same name as the StatefulSet above, recreated: another uid.
  { kind: 'StatefulSet', name: 'db', uid: 'uid-db-2' },
];

/** A small deterministic PRNG (mulberry32): the same seed gives the same sequence of operations. */
function prng(seed: number) {
  let s = seed >>> 0;
  const next = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
  return { next, pick: <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]! };
}

type Rand = ReturnType<typeof prng>;

/** Owner references as a controller, an adopter without controller: true, or none at all. */
function ownerRefs(r: Rand): { apiVersion: string; kind: string; name: string; uid: string; controller?: boolean; blockOwnerDeletion?: boolean }[] | undefined {
  const x = r.next();
  if (x < 0.2) return undefined;
  const o = r.pick(OWNERS);
  const ref = { apiVersion: 'apps/v1', kind: o.kind, name: o.name, uid: o.uid };
  if (x < 0.3) return [{ ...ref }];
  return [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'extra', uid: 'uid-extra' }, { ...ref, controller: true, blockOwnerDeletion: true }];
}

const nodeOf = (r: Rand) => (r.next() < 0.2 ? undefined : r.pick(NODES));

const controller = (o: KubeObject) => (o.metadata.ownerReferences as { controller?: boolean; uid: string; kind: string; name: string }[] | undefined)?.find((x) => x.controller === true);
const keys = (os: KubeObject[]) => os.map(cacheKey).sort();

/** Every question the indexes answer, answered by a scan of `all` instead, for every value the test ever used. */
function assertAgree(all: KubeObject[], ix: { list(ns?: string): KubeObject[]; byOwner: CacheIndex['byOwner']; byNode(n: string): KubeObject[] }, what: string): void {
  assert.deepEqual(ix.list().map(cacheKey), all.map(cacheKey), `${what}: the whole list`);
  for (const ns of [...NAMESPACES, 'default', 'absent']) {
    // Same objects in the same order: callers that read list(ns) cannot tell the index from the scan.
    assert.deepEqual(ix.list(ns), all.filter((o) => o.metadata.namespace === ns), `${what}: namespace ${ns}`);
  }
  for (const o of OWNERS) {
    assert.deepEqual(keys(ix.byOwner({ uid: o.uid })), keys(all.filter((x) => controller(x)?.uid === o.uid)), `${what}: owner uid ${o.uid}`);
    for (const ns of [...NAMESPACES, 'default']) {
      const want = all.filter((x) => x.metadata.namespace === ns && controller(x)?.kind === o.kind && controller(x)?.name === o.name);
      assert.deepEqual(keys(ix.byOwner({ namespace: ns, kind: o.kind, name: o.name })), keys(want), `${what}: owner ${ns}/${o.kind}/${o.name}`);
    }
  }
  assert.deepEqual(ix.byOwner({ uid: 'uid-extra' }), [], `${what}: a reference without controller: true is no owner`);
  for (const n of NODES) assert.deepEqual(keys(ix.byNode(n)), keys(all.filter((x) => x.spec?.nodeName === n)), `${what}: node ${n}`);
}

test('the index agrees with a scan after 5,000 random sets and deletes, and keeps no empty buckets', () => {
  const r = prng(16);
  const ix = new CacheIndex();
  let rv = 0;
  for (let step = 0; step < 5000; step++) {
    const ns = r.pick(NAMESPACES);
    const name = `p${Math.floor(r.next() * 40)}`;
    if (r.next() < 0.25) ix.delete(`${ns}/${name}`);
    else ix.set({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: ns, resourceVersion: String(++rv), ownerReferences: ownerRefs(r) }, spec: { nodeName: nodeOf(r) } });
    if (step % 250 === 0 || step === 4999) assertAgree(ix.list(), ix, `step ${step}`);
  }
  const all = ix.list();
  const s = ix.indexSizes();
  const total = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);
  assert.ok([...Object.values(s)].every((m) => [...m.values()].every((n) => n > 0)), 'no empty bucket is kept');
  assert.equal(total(s.namespace), all.length);
  assert.equal(total(s.node), all.filter((o) => o.spec?.nodeName).length);
  assert.equal(total(s.ownerUid), all.filter((o) => controller(o)).length);
  assert.equal(total(s.ownerName), all.filter((o) => controller(o)).length);
  for (const k of [...ix.keys()]) ix.delete(k);
  assert.deepEqual(Object.values(ix.indexSizes()).map((m) => m.size), [0, 0, 0, 0], 'emptied, every index is empty');
});

test('get() is the scan\'s find for namespaced and cluster-scoped objects', () => {
  const ix = new CacheIndex();
  ix.set({ kind: 'Namespace', metadata: { name: 'a' } });
  ix.set({ kind: 'Pod', metadata: { name: 'x', namespace: 'a' } });
  ix.set({ kind: 'Pod', metadata: { name: 'x', namespace: 'b' } });
  assert.equal(ix.get(undefined, 'a')?.kind, 'Namespace');
  assert.equal(ix.get('b', 'x')?.metadata.namespace, 'b');
  assert.equal(ix.get('c', 'x'), undefined);
  assert.equal(ix.size, 3);
});

function pod(r: Rand, ns: string, name: string): KubeObject {
  const nodeName = nodeOf(r);
  return {
    metadata: { name, namespace: ns, ownerReferences: ownerRefs(r) },
    spec: { containers: [{ name: 'app', image: 'registry.example.com/app:1' }], ...(nodeName ? { nodeName } : {}) },
  } as KubeObject;
}

/** Random writes as kube-apiserver's clients make them: creates, owner and node changes, deletes, and recreates under the same name elsewhere. */
function churn(sandbox: Sandbox, r: Rand, n: number): void {
  for (let i = 0; i < n; i++) {
    const ns = r.pick(NAMESPACES);
    const name = `p${Math.floor(r.next() * 30)}`;
    const cur = sandbox.store.get('pods', ns, name);
    const x = r.next();
    if (!cur) sandbox.store.create('pods', pod(r, ns, name));
    else if (x < 0.2) sandbox.store.remove('pods', cur);
    else if (x < 0.35) {
      // A StatefulSet's pod comes back under its name on another node.
      sandbox.store.remove('pods', cur);
      sandbox.store.create('pods', pod(r, ns, name));
    } else {
      sandbox.store.mutate('pods', ns, name, (o) => {
        const p = pod(r, ns, name);
        if (x < 0.6) o.metadata.ownerReferences = p.metadata.ownerReferences;
        else if (x < 0.85) o.spec.nodeName = p.spec!.nodeName;
        else o.metadata.labels = { touched: String(i) };
      });
    }
  }
}

async function until(cond: () => boolean, what: string, ms = 15_000) {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((res) => setTimeout(res, 10));
  }
}

test('an informer on the sandbox over HTTP keeps its indexes in step through watch events and relists after 410 Gone', { timeout: 120_000 }, async () => {
  const sandbox = new Sandbox({ speed: 1, nodes: [] });
  for (const ns of NAMESPACES) sandbox.store.create('namespaces', { metadata: { name: ns } });
  let server: ApiServer = await startApiServer({ store: sandbox.store, clock: sandbox.clock, logs: sandbox.logs });
  const port = Number(new URL(server.url).port);
  const kc = new KubeConfig();
  kc.loadFromString(kubeconfigYaml(server.url));
  const inf = new Informer(new KubeHttp(kc), kindRef('Pod')!, { onChange: () => {}, initialBackoffMs: 20, maxBackoffMs: 100 }).start();
  const r = prng(7);
  const caughtUp = () => {
    const want = sandbox.store.list('pods').items.map((o) => `${cacheKey(o)}@${o.metadata.resourceVersion}`).sort();
    return JSON.stringify(inf.list().map((o) => `${cacheKey(o)}@${o.metadata.resourceVersion}`).sort()) === JSON.stringify(want);
  };
  try {
    churn(sandbox, r, 60);
    await until(() => inf.isSynced, 'the first list');
    for (let round = 0; round < 6; round++) {
      if (round % 2 === 1) {
        // The API server goes away; the world changes meanwhile and history is compacted, so the informer must relist.
        await server.close();
        churn(sandbox, r, 80);
        sandbox.store.compact();
        server = await startApiServer({ store: sandbox.store, clock: sandbox.clock, logs: sandbox.logs, port });
      } else {
        churn(sandbox, r, 120);
      }
      await until(caughtUp, `round ${round}: the cache to match the API server`);
      assertAgree(inf.list(), inf, `round ${round}`);
    }
    assert.equal(inf.stats.relistsAfterGone, 3, 'each outage was a relist');
    assert.ok(inf.byNode('n1').length + inf.byNode('n2').length > 0 && inf.byOwner({ uid: 'uid-db' }).length > 0, 'the random writes left indexed pods');
  } finally {
    inf.stop();
    await server.close();
    await sandbox.stop();
  }
});
