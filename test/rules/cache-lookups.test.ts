// The rules' cross-object helpers read the informers' indexes — owner() and
// production() one object by its key, podsOn() the node index, a `for:` hold
// falling due the object it re-reads — and answer exactly what the scan of
// the whole cache answered before, on a sandbox cluster watched over HTTP.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { ManualClock, realClock } from '../../src/common/clock.ts';
import { Sandbox } from '../../src/sandbox/cluster.ts';
import { KubeSource } from '../../src/rules/sources/kube-source.ts';
import { RuleEnvironment } from '../../src/rules/cel.ts';
import { loadRules } from '../../src/rules/loader.ts';
import { DetectionEngine, type DetectionChange } from '../../src/rules/engine.ts';
import type { Detection } from '../../src/rules/types.ts';
import type { KubeObject } from '../../src/kube/types.ts';

async function until(cond: () => boolean, what: string, ms = 60_000) {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const template = (app: string) => ({ metadata: { labels: { app } }, spec: { containers: [{ name: app, image: 'nginx:1.27' }] } });

test('owner(), production() and podsOn() from the indexes give the scan\'s answers, and never scan', { timeout: 180_000 }, async () => {
  const sandbox = new Sandbox({ speed: 10 });
  await sandbox.listen();
  const kc = new KubeConfig();
  kc.loadFromString(sandbox.kubeconfig());
  const source = new KubeSource({ cluster: 'sb', kubeconfig: kc, clock: realClock, kinds: ['Pod', 'Namespace', 'Node', 'ReplicaSet', 'StatefulSet', 'DaemonSet'] });
  try {
    sandbox.store.create('namespaces', { metadata: { name: 'shop', labels: { 'kubemend.dev/environment': 'production' } } });
    sandbox.store.create('namespaces', { metadata: { name: 'staging', labels: { env: 'staging' } } });
    sandbox.store.create('namespaces', { metadata: { name: 'ops', labels: { environment: 'Prod' } } });
    const sel = (app: string) => ({ selector: { matchLabels: { app } }, template: template(app) });
    sandbox.store.create('apps/deployments', { metadata: { name: 'web', namespace: 'shop' }, spec: { replicas: 3, ...sel('web') } });
    sandbox.store.create('apps/deployments', { metadata: { name: 'web', namespace: 'staging' }, spec: { replicas: 2, ...sel('web') } });
    sandbox.store.create('apps/statefulsets', { metadata: { name: 'db', namespace: 'shop' }, spec: { replicas: 2, serviceName: 'db', ...sel('db') } });
    sandbox.store.create('apps/statefulsets', { metadata: { name: 'db', namespace: 'staging' }, spec: { replicas: 1, serviceName: 'db', ...sel('db') } });
    sandbox.store.create('apps/daemonsets', { metadata: { name: 'agent', namespace: 'ops' }, spec: sel('agent') });
    sandbox.store.create('apps/replicasets', { metadata: { name: 'bare-rs', namespace: 'staging' }, spec: { replicas: 1, ...sel('bare') } });
    sandbox.store.create('pods', { metadata: { name: 'lonely', namespace: 'staging' }, spec: { nodeName: 'node-2', containers: [{ name: 'c', image: 'nginx:1.27' }] } });
    await source.start(() => {});
    // 3 + 2 + 2 + 1 + one per node + 1 + 1, every one scheduled.
    const want = 10 + source.list('Node').length;
    await until(() => source.list('Pod').filter((p) => p.spec?.nodeName).length === want, `${want} scheduled pods`);

    const scan = (kind: string, ns?: string) => source.list(kind).filter((o) => !ns || o.metadata.namespace === ns);
    let scans = 0;
    const before = new RuleEnvironment({ lookup: (kind, ns) => scan(kind, ns) });
    const after = new RuleEnvironment({
      lookup: (kind, ns) => (scans++, source.list(kind, ns)),
      get: (kind, ns, name) => source.get(kind, ns, name),
      podsOn: (node) => source.podsOn(node),
    });
    const run = (env: RuleEnvironment, expr: string, object: KubeObject, field: 'spec.when' | 'spec.subject' = 'spec.subject') => {
      const c = env.compile(expr, field);
      if ('path' in c) throw new Error(c.message);
      return JSON.stringify(env.run(c.program, env.activation({ cluster: 'sb', object })), (_k, v) => (typeof v === 'bigint' ? Number(v) : v));
    };
    const pods = source.list('Pod');
    const owners = new Set<string>();
    for (const p of pods) {
      for (const expr of ['owner(object)', '{"p": production(object.metadata.namespace)}']) {
        const [b, a] = [run(before, expr, p), run(after, expr, p)];
        assert.equal(a, b, `${expr} of ${p.metadata.namespace}/${p.metadata.name}`);
        if (expr.startsWith('owner')) owners.add(a);
      }
    }
    // Every kind of owner the cluster has, including the one found one level up through the cache.
    assert.deepEqual([...owners].map((o) => JSON.parse(o).kind).sort(), ['DaemonSet', 'Deployment', 'Pod', 'ReplicaSet', 'StatefulSet']);
    const names = "{'names': podsOn(object.metadata.name).map(p, p.metadata.namespace + '/' + p.metadata.name)}";
    for (const node of source.list('Node')) {
      const [b, a] = [JSON.parse(run(before, names, node)).names as string[], JSON.parse(run(after, names, node)).names as string[]];
      assert.deepEqual(a.sort(), b.sort(), `podsOn(${node.metadata.name})`);
      assert.ok(a.length >= 2, 'every node runs the agent and something else');
    }
    assert.equal(scans, 0, 'the indexed helpers never fell back to the scan');
    // The activation's own caches (Vars) take the same paths.
    const vars = { cluster: 'sb', object: pods.find((p) => p.metadata.name!.startsWith('db-'))!, lookup: (kind: string, ns?: string) => (scans++, source.list(kind, ns)), get: (kind: string, ns: string | undefined, name: string) => source.get(kind, ns, name) };
    const c = before.compile('owner(object)', 'spec.subject');
    assert.ok(!('path' in c));
    assert.deepEqual(before.run(c.program, before.activation(vars)), { kind: 'StatefulSet', name: 'db' });
    assert.equal(scans, 0);
  } finally {
    source.stop();
    await sandbox.stop();
  }
});

function rulesFrom(yaml: string) {
  const dir = mkdtempSync(join(tmpdir(), 'km-rules-'));
  writeFileSync(join(dir, 'r.yaml'), yaml);
  return loadRules(dir);
}

test('a `for:` hold falling due re-reads its object by key: fires while it still holds, not once it is gone or healthy, with no scan', async () => {
  const cache = new Map<string, KubeObject>();
  const pod = (name: string, phase: string): KubeObject => ({ kind: 'Pod', metadata: { name, namespace: 'ml', creationTimestamp: '2026-01-01T00:00:00Z' }, status: { phase } });
  const clock = new ManualClock();
  const changes: [DetectionChange, Detection][] = [];
  let scans = 0;
  const gets: string[] = [];
  const e = new DetectionEngine({
    clock,
    rules: rulesFrom(`apiVersion: kubemend.dev/v1alpha1
kind: Rule
metadata: { name: pending-too-long }
spec:
  source: object
  match: { kinds: [Pod] }
  when: object.status.phase == 'Pending'
  for: 5m
`),
    lookup: (_c, kind) => (scans++, kind === 'Pod' ? [...cache.values()] : []),
    get: (cluster, kind, ns, name) => (gets.push(`${cluster}/${kind}/${ns}/${name}`), kind === 'Pod' && ns === 'ml' ? cache.get(name) : undefined),
    hooks: { onDetection: (d, c) => changes.push([c, d]) },
  });
  for (const n of ['stuck', 'healed', 'deleted']) {
    cache.set(n, pod(n, 'Pending'));
    e.ingest({ source: 'object', cluster: 'c', time: clock.now(), operation: 'create', object: pod(n, 'Pending') });
  }
  // Changes the watch has not delivered yet (or that the engine has not seen): only the cache knows.
  cache.set('healed', pod('healed', 'Running'));
  cache.delete('deleted');
  await clock.advance(5 * 60_000);
  assert.deepEqual(changes.map(([c, d]) => `${c} ${d.subject.name}`), ['opened stuck']);
  assert.deepEqual(gets.sort(), ['c/Pod/ml/deleted', 'c/Pod/ml/healed', 'c/Pod/ml/stuck']);
  assert.equal(scans, 0, 'due() reads one object, it does not list the kind');
  e.stop();
});
