// Node memory from metrics.k8s.io, as the shipped node-memory-high rule reads
// it: one LIST of NodeMetrics per tick of the rule, never per event; a
// cluster that does not serve the API (the sandbox today) is logged once and
// fires nothing; a cluster that does (a small metrics-server in front of the
// sandbox, fed by its usage model) warns about the node near its allocatable
// memory, and only that one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { KubeConfig } from '@kubernetes/client-node';
import { ManualClock } from '../../../src/common/clock.ts';
import { Sandbox } from '../../../src/sandbox/index.ts';
import { loadRules, type Detection } from '../../../src/rules/index.ts';
import { Pipeline } from '../../../src/pipeline/index.ts';
import { metricsProxy, type MetricsProxy } from '../../helpers/metrics-proxy.ts';

const rules = loadRules(fileURLToPath(new URL('../../../rules/node-memory-high.yaml', import.meta.url)));
const GI = 2 ** 30;

async function setup(withMetrics: boolean) {
  const clock = new ManualClock();
  const sandbox = new Sandbox({ clock });
  await sandbox.listen();
  // A cluster without metrics-server: the sandbox serves metrics.k8s.io, so it is made to answer as an unregistered API does.
  if (!withMetrics) for (const resource of ['metrics.k8s.io/nodes', 'metrics.k8s.io/pods']) sandbox.faults.add({ resource, code: 404, message: 'the server could not find the requested resource' });
  const proxy: MetricsProxy | undefined = withMetrics ? await metricsProxy(sandbox) : undefined;
  const kc = new KubeConfig();
  kc.loadFromString(proxy?.kubeconfig() ?? sandbox.kubeconfig());
  const logs: string[] = [];
  const opened: Detection[] = [];
  const pipeline = new Pipeline({
    clock,
    clusters: [{ name: 'sandbox', kubeconfig: kc }],
    rules,
    log: (l) => logs.push(l),
    sinks: [{ name: 'collect', onDetection: (d, change) => change === 'opened' && opened.push(structuredClone(d)) }],
  });
  const lists = () => sandbox.api!.requestLog.filter((e) => e.path.startsWith('/apis/metrics.k8s.io/v1beta1/nodes')).length + (proxy?.requests.filter((p) => p.startsWith('/apis/metrics.k8s.io/v1beta1/nodes')).length ?? 0);
  /** Waits (real time) until `n` LISTs were made and the sweep after the last one ran. */
  const listed = async (n: number) => {
    const t0 = Date.now();
    while (lists() < n) {
      if (Date.now() - t0 > 10_000) throw new Error(`expected ${n} metrics LISTs, saw ${lists()}`);
      await new Promise((r) => setTimeout(r, 5));
    }
    await new Promise((r) => setTimeout(r, 50));
  };
  const stop = async () => {
    await pipeline.stop();
    await proxy?.close();
    await sandbox.stop();
  };
  return { clock, sandbox, proxy, pipeline, logs, opened, lists, listed, stop };
}

test('without metrics.k8s.io: one LIST per tick, the 404 logged once, no detection', { timeout: 60_000 }, async () => {
  const t = await setup(false);
  try {
    await t.pipeline.start();
    await t.clock.advance(0); // the tick at start
    await t.listed(1);
    for (let tick = 2; tick <= 4; tick++) {
      // Node changes between ticks are object signals: they make no metrics request.
      for (let i = 0; i < 5; i++) {
        const node = structuredClone(t.sandbox.store.get('nodes', undefined, 'node-1')!);
        node.metadata.labels = { ...node.metadata.labels, touched: `${tick}-${i}` };
        t.sandbox.store.update('nodes', node);
      }
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(t.lists(), tick - 1, 'no LIST between ticks');
      await t.clock.advance(30_000);
      await t.listed(tick);
    }
    assert.equal(t.lists(), 4);
    const warnings = t.logs.filter((l) => /NodeMetrics: .*is not served/.test(l));
    assert.equal(warnings.length, 1, t.logs.join('\n'));
    assert.match(warnings[0], /404 on \/apis\/metrics\.k8s\.io\/v1beta1\/nodes/);
    assert.deepEqual(t.opened, []);
    assert.equal(t.pipeline.kubeSources.get('sandbox')!.poller('NodeMetrics')!.available, false);
  } finally {
    await t.stop();
  }
});

test('with metrics.k8s.io: the node near its allocatable memory is warned about, with its share, where a pod without a memory limit runs; the API going away is logged once and drops the samples', { timeout: 60_000 }, async () => {
  const t = await setup(true);
  try {
    // node-2 at 7Gi of 7.75Gi allocatable (90%), with a pod that has no memory limit on it; the others idle.
    t.proxy!.extraNodeBytes.set('node-2', 7 * GI);
    t.sandbox.store.create('pods', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'cache', namespace: 'default' }, spec: { nodeName: 'node-2', containers: [{ name: 'cache', image: 'cache:1' }] }, status: { phase: 'Running' } });
    await t.pipeline.start();
    await t.clock.advance(0); // the tick at start
    await t.listed(1);
    assert.deepEqual(t.opened.map((d) => `${d.rule} ${d.subject.kind}/${d.subject.name} ${d.severity}`), ['node-memory-high Node/node-2 warning'], JSON.stringify([t.sandbox.store.get('pods', 'default', 'cache')?.status, t.pipeline.kubeSources.get('sandbox')!.list('Pod').length]));
    assert.match(t.opened[0].summary, /^node node-2 uses 9\d% of its allocatable memory/);
    const src = t.pipeline.kubeSources.get('sandbox')!;
    await t.clock.advance(30_000);
    await t.listed(2);
    // Two samples with different timestamps: the second keeps the first as `previous`.
    const sample = src.list('NodeMetrics').find((m) => m.metadata.name === 'node-2') as any;
    assert.ok(sample.previous?.timestamp && sample.previous.timestamp < sample.timestamp, JSON.stringify(sample));
    assert.equal(t.opened.length, 1, 'still one detection');

    t.proxy!.served = false;
    await t.clock.advance(30_000);
    await t.listed(3);
    await t.clock.advance(30_000);
    await t.listed(4);
    assert.equal(t.logs.filter((l) => /is not served/.test(l)).length, 1, t.logs.join('\n'));
    assert.deepEqual(src.list('NodeMetrics'), [], 'a stale sample is not kept as if it were current');
    t.proxy!.served = true;
    await t.clock.advance(30_000);
    await t.listed(5);
    assert.equal(src.list('NodeMetrics').length, 3);
  } finally {
    await t.stop();
  }
});
