// The change feed: which object changes are worth a line, what it keeps of
// them (never ConfigMap values or env), and that it costs the API server
// nothing: it reads the informers' signals only.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KubeConfig } from '@kubernetes/client-node';
import { realClock } from '../../src/common/clock.ts';
import { Sandbox } from '../../src/sandbox/cluster.ts';
import { findKind } from '../../src/sandbox/scenarios/kinds.ts';
import { KubeSource } from '../../src/rules/sources/kube-source.ts';
import { ChangeFeed, FEED_KINDS, ObservationLog } from '../../src/incidents/index.ts';
import type { KubeObject } from '../../src/kube/types.ts';
import type { Signal } from '../../src/rules/types.ts';

const T0 = Date.UTC(2026, 0, 1);
const created = new Date(T0 - 3_600_000).toISOString();

const deployment = (image: string, extra: Record<string, unknown> = {}): KubeObject => ({
  kind: 'Deployment',
  metadata: { name: 'checkout', namespace: 'shop', creationTimestamp: created, resourceVersion: String(Math.random()) },
  spec: {
    replicas: 3,
    template: { spec: { containers: [{ name: 'checkout', image, resources: { limits: { memory: '256Mi' } }, env: [{ name: 'DB_PASSWORD', value: 'hunter2' }], ...extra }] } },
  },
  status: { readyReplicas: 3 },
});

const update = (oldObject: KubeObject, object: KubeObject, time = T0): Signal => ({ source: 'object', cluster: 'c1', time, operation: 'update', object, oldObject });

test('workload changes: image, resources, replicas and env (named, never valued); status and bookkeeping are not changes', { timeout: 300_000 }, () => {
  const feed = new ChangeFeed();
  const a = deployment('shop/checkout:1.4.2');
  const image = feed.observe(update(a, deployment('shop/checkout:1.5.0')));
  assert.equal(image?.category, 'image');
  assert.equal(image?.summary, 'image shop/checkout:1.4.2 → shop/checkout:1.5.0 (container checkout)');
  assert.deepEqual(image?.object, { kind: 'Deployment', namespace: 'shop', name: 'checkout' });
  assert.deepEqual(image?.changes, [{ path: 'spec.template.spec.containers[name=checkout].image', old: 'shop/checkout:1.4.2', new: 'shop/checkout:1.5.0' }]);

  const b = deployment('x', { resources: { limits: { memory: '512Mi' } } });
  assert.equal(feed.observe(update(deployment('x'), b))?.summary, 'limits.memory 256Mi → 512Mi (container checkout)');
  const scaled = { ...a, spec: { ...a.spec, replicas: 5 } };
  assert.equal(feed.observe(update(a, scaled))?.summary, 'replicas 3 → 5');

  const env = deployment('shop/checkout:1.4.2', { env: [{ name: 'DB_PASSWORD', value: 's3cret-new' }] });
  const e = feed.observe(update(a, env));
  assert.equal(e?.category, 'config');
  assert.equal(e?.summary, 'env changed (container checkout)');
  assert.ok(!JSON.stringify(e).includes('hunter2') && !JSON.stringify(e).includes('s3cret'), JSON.stringify(e));

  assert.equal(feed.observe(update(a, { ...a, status: { readyReplicas: 1 }, metadata: { ...a.metadata, resourceVersion: '99', generation: 7 } })), undefined);
  assert.equal(feed.size, 4);
});

test('ConfigMaps report which keys changed, never values; HPAs, nodes and guardrail objects; old objects from the first list are not creations', { timeout: 300_000 }, () => {
  const feed = new ChangeFeed();
  const cm = (data: Record<string, string>): KubeObject => ({ kind: 'ConfigMap', metadata: { name: 'app', namespace: 'shop', creationTimestamp: created }, data });
  const c = feed.observe(update(cm({ 'db.url': 'postgres://a', mode: 'fast' }), cm({ 'db.url': 'postgres://b', extra: 'secret-value' })));
  assert.equal(c?.summary, 'data keys changed db.url; added extra; removed mode');
  assert.deepEqual(c?.changes, [{ path: 'data.db.url' }, { path: 'data.extra' }, { path: 'data.mode' }]);
  assert.ok(!JSON.stringify(c).includes('postgres://') && !JSON.stringify(c).includes('secret-value'));

  const hpa = (max: number): KubeObject => ({ kind: 'HorizontalPodAutoscaler', metadata: { name: 'search', namespace: 'shop', creationTimestamp: created }, spec: { minReplicas: 2, maxReplicas: max }, status: { currentReplicas: max } });
  assert.equal(feed.observe(update(hpa(5), hpa(10)))?.summary, 'spec.maxReplicas 5 → 10');

  const node = (spec: Record<string, unknown>, heartbeat: string): KubeObject => ({ kind: 'Node', metadata: { name: 'node-1', creationTimestamp: created }, spec, status: { conditions: [{ type: 'Ready', lastHeartbeatTime: heartbeat }] } });
  assert.equal(feed.observe(update(node({}, 'a'), node({}, 'b'))), undefined, 'a heartbeat is not a change');
  assert.equal(feed.observe(update(node({}, 'a'), node({ unschedulable: true }, 'b')))?.summary, 'cordoned');
  const tainted = node({ unschedulable: true, taints: [{ key: 'node.kubernetes.io/unreachable', effect: 'NoExecute' }] }, 'c');
  assert.equal(feed.observe(update(node({ unschedulable: true }, 'b'), tainted)), undefined, "the lifecycle controller's taints are state");
  assert.equal(feed.observe(update(tainted, node({ unschedulable: true, taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }] }, 'd')))?.summary, 'taint dedicated=gpu:NoSchedule added');

  const lr: KubeObject = { kind: 'LimitRange', metadata: { name: 'mem', namespace: 'shop', creationTimestamp: new Date(T0).toISOString() }, spec: { limits: [] } };
  assert.equal(feed.observe({ source: 'object', cluster: 'c1', time: T0 + 1000, operation: 'create', object: lr })?.category, 'guardrail');
  assert.equal(feed.observe({ source: 'object', cluster: 'c1', time: T0, operation: 'create', object: deployment('old') }), undefined, 'found by the initial list, created an hour ago');
  assert.equal(feed.observe({ source: 'object', cluster: 'c1', time: T0, operation: 'delete', object: cm({}) })?.summary, 'deleted');
  assert.equal(feed.observe({ source: 'object', cluster: 'c1', time: T0, operation: 'update', object: { kind: 'Pod', metadata: { name: 'p' } }, oldObject: { kind: 'Pod', metadata: { name: 'p' } } }), undefined);
  assert.deepEqual(feed.entries().map((e) => e.object.kind), ['ConfigMap', 'HorizontalPodAutoscaler', 'Node', 'Node', 'LimitRange', 'ConfigMap']);
});

test('the feed is bounded: the oldest entries go first', { timeout: 300_000 }, () => {
  const feed = new ChangeFeed({ capacity: 3 });
  let prev = deployment('v0');
  for (let i = 1; i <= 5; i++) {
    const next = deployment(`v${i}`);
    feed.observe(update(prev, next, T0 + i));
    prev = next;
  }
  assert.deepEqual(feed.entries().map((e) => e.summary.split(' ')[3]), ['v3', 'v4', 'v5']);
  assert.deepEqual(feed.entries({ since: T0 + 4 }).map((e) => e.seq), [4, 5]);
});

async function until(cond: () => boolean, what: string, ms = 10_000) {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

test('on a live cluster, every change reaches the feed through the watch: the API server sees no request for it', { timeout: 300_000 }, async () => {
  const sandbox = new Sandbox({ speed: 1, nodes: [{ name: 'node-1' }] });
  await sandbox.listen();
  const kc = new KubeConfig();
  kc.loadFromString(sandbox.kubeconfig());
  const source = new KubeSource({ cluster: 'sandbox', kubeconfig: kc, clock: realClock, kinds: [...FEED_KINDS, 'Pod', 'Event'] });
  const feed = new ChangeFeed();
  const observations = new ObservationLog();
  const st = (kind: string) => findKind(kind)!.storage;
  try {
    sandbox.store.create(st('ConfigMap'), { metadata: { name: 'app', namespace: 'default' }, data: { mode: 'a' } });
    await source.start((s) => {
      feed.observe(s);
      observations.observe(s);
    });
    // What the first list found was created moments ago, so it counts as creations too.
    await until(() => feed.size === 2, 'the ConfigMap and the node from the first list');
    const watching = () => Object.keys(sandbox.api!.requestCounts()).filter((k) => k.startsWith('watch ')).length;
    await until(() => watching() === source.kinds().length, 'every watch open');
    const before = sandbox.api!.requestCounts();
    const cm = sandbox.store.get(st('ConfigMap'), 'default', 'app')!;
    sandbox.store.update(st('ConfigMap'), { ...cm, data: { mode: 'b' } });
    const node = sandbox.store.get(st('Node'), undefined, 'node-1')!;
    sandbox.store.update(st('Node'), { ...node, spec: { ...node.spec, unschedulable: true } });
    sandbox.store.create(st('Deployment'), {
      metadata: { name: 'web', namespace: 'default' },
      spec: { replicas: 1, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx:1.27' }] } } },
    });
    await until(() => feed.size >= 5, 'three changes in the feed');
    await until(() => observations.placements('sandbox').length >= 1, 'the pod placement');
    // Each kind has its own watch, so only each object's own changes are ordered.
    assert.deepEqual(feed.entries().slice(2).map((e) => `${e.object.kind} ${e.summary}`).sort(), ['ConfigMap data keys changed mode', 'Deployment created (image nginx:1.27, replicas 1; no memory limit on web)', 'Node cordoned']);
    assert.deepEqual(sandbox.api!.requestCounts(), before, 'no request beyond the watches already open');
  } finally {
    source.stop();
    await sandbox.stop();
  }
});
