// "Production" without chat config: a Namespace label in the usual
// conventions, or the configured list the pipeline passes in. The shipped
// guardrail rules split on it — a warning (and a runbook) in production, an
// info finding elsewhere, never both — and node-memory-high reads usage and
// its growth from NodeMetrics samples.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { ManualClock } from '../../src/common/clock.ts';
import { loadRules, kindsToWatch, DetectionEngine, type Detection } from '../../src/rules/index.ts';
import type { KubeObject } from '../../src/kube/index.ts';
import { productionByLabels } from '../../src/rules/cel-helpers.ts';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../../src/store/index.ts';
import { Authorizer } from '../../src/authz/index.ts';
import { chatSettings } from '../../src/chat/index.ts';
import { Pipeline } from '../../src/pipeline/index.ts';

const rules = loadRules(fileURLToPath(new URL('../../rules', import.meta.url)));
const rule = (name: string) => {
  const r = rules.find((x) => x.rule.metadata.name === name);
  assert.ok(r, name);
  return r;
};

const ns = (name: string, labels: Record<string, string> = {}): KubeObject => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels }, status: { phase: 'Active' } });

const pod = (namespace: string, limits?: Record<string, string>): KubeObject => ({
  apiVersion: 'v1', kind: 'Pod',
  metadata: { name: 'worker-5d9-abc', namespace, labels: { 'pod-template-hash': '5d9' }, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'worker-5d9', uid: 'u1', controller: true }] },
  spec: { containers: [{ name: 'worker', image: 'w:1', resources: limits ? { limits } : {} }] },
  status: { phase: 'Running' },
});

const GI = 2 ** 30;

test('a namespace is production by kubemend.dev/environment, environment or env = production/prod (any case); kubemend\'s own key decides first', () => {
  const yes: Record<string, string>[] = [{ 'kubemend.dev/environment': 'production' }, { environment: 'Production' }, { env: 'prod' }, { env: 'PROD' }, { 'kubemend.dev/environment': 'prod', env: 'dev' }];
  const no: Record<string, string>[] = [{}, { env: 'staging' }, { tier: 'production' }, { 'app.kubernetes.io/environment': 'production' }, { 'kubemend.dev/environment': 'staging', env: 'prod' }];
  for (const l of yes) assert.equal(productionByLabels(ns('x', l)), true, JSON.stringify(l));
  for (const l of no) assert.equal(productionByLabels(ns('x', l)), false, JSON.stringify(l));
});

test('pod-without-memory-limit is info outside production, -in-production a warning with the memory-limit-warning runbook inside it; never both', () => {
  const info = rule('pod-without-memory-limit');
  const warn = rule('pod-without-memory-limit-in-production');
  assert.equal(info.rule.spec.severity, 'info');
  assert.equal(warn.rule.spec.severity, 'warning');
  assert.deepEqual(warn.rule.spec.action, { runbook: 'memory-limit-warning', params: {}, mode: 'auto' });
  const namespaces = [ns('payments', { env: 'prod' }), ns('staging')];
  const lookup = (kind: string) => (kind === 'Namespace' ? namespaces : []);
  for (const [where, expected] of [['payments', [false, true]], ['staging', [true, false]]] as const) {
    const vars = { cluster: 'c', object: pod(where), lookup };
    assert.deepEqual([info.compiled.when(vars), warn.compiled.when(vars)], expected, where);
  }
  // A limited pod is neither's business.
  const limited = { cluster: 'c', object: pod('payments', { memory: '256Mi' }), lookup };
  assert.deepEqual([info.compiled.when(limited), warn.compiled.when(limited)], [false, false]);
  // Configured production (serve's chat.production) counts without any label.
  const configured = { cluster: 'c', object: pod('staging'), lookup, production: (n: string) => n === 'staging' };
  assert.deepEqual([info.compiled.when(configured), warn.compiled.when(configured)], [false, true]);
});

test('namespace-without-limitrange: the guardrail runbook only for production namespaces, the info finding for the rest', () => {
  const info = rule('namespace-without-limitrange');
  const guard = rule('namespace-without-limitrange-in-production');
  assert.equal(info.rule.spec.action, undefined);
  assert.deepEqual(guard.rule.spec.action, { runbook: 'limitrange-guardrail', params: {}, mode: 'auto' });
  const prod = ns('payments', { 'kubemend.dev/environment': 'production' });
  const lookup = (kind: string) => (kind === 'Namespace' ? [prod, ns('staging')] : []);
  assert.deepEqual([info.compiled.when({ cluster: 'c', object: prod, lookup }), guard.compiled.when({ cluster: 'c', object: prod, lookup })], [false, true]);
  assert.deepEqual([info.compiled.when({ cluster: 'c', object: ns('staging'), lookup }), guard.compiled.when({ cluster: 'c', object: ns('staging'), lookup })], [true, false]);
});

test('a rule that asks production() gets Namespaces watched, and the engine passes the configured list by cluster', () => {
  const warn = rule('pod-without-memory-limit-in-production');
  assert.ok(kindsToWatch([warn]).includes('Namespace'));
  assert.ok(warn.compiled.kinds.includes('Namespace'));
  const opened: Detection[] = [];
  const e = new DetectionEngine({
    clock: new ManualClock(),
    rules: [rule('pod-without-memory-limit'), warn],
    lookup: (_c, kind) => (kind === 'Namespace' ? [ns('shop')] : []),
    production: (cluster, namespace) => cluster === 'prod-eu' && namespace === 'shop',
    hooks: { onDetection: (d, change) => change === 'opened' && opened.push(d) },
  });
  e.ingest({ source: 'object', operation: 'create', cluster: 'prod-eu', time: 0, object: pod('shop') });
  e.ingest({ source: 'object', operation: 'create', cluster: 'dev', time: 0, object: pod('shop') });
  assert.deepEqual(opened.map((d) => `${d.cluster} ${d.rule} ${d.severity} ${d.subject.kind}/${d.subject.name}`).sort(), [
    'dev pod-without-memory-limit info Deployment/worker',
    'prod-eu pod-without-memory-limit-in-production warning Deployment/worker',
  ]);
});

test('node-memory-high: at 80% of allocatable; past half and full within 10 minutes at the last growth; not for slow growth or a single sample', () => {
  const r = rule('node-memory-high');
  const node: KubeObject = { apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-1' }, status: { allocatable: { memory: '8Gi' } } };
  const sample = (usedGi: number, previous?: { usedGi: number; secondsBefore: number }) => ({
    kind: 'NodeMetrics', metadata: { name: 'node-1' }, timestamp: '2026-01-01T00:10:00Z', window: '30s', usage: { memory: `${Math.round(usedGi * GI / 1024)}Ki` },
    ...(previous ? { previous: { timestamp: new Date(Date.parse('2026-01-01T00:10:00Z') - previous.secondsBefore * 1000).toISOString(), usage: { memory: `${Math.round(previous.usedGi * GI / 1024)}Ki` } } } : {}),
  });
  const unlimited: KubeObject = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'worker', namespace: 'reports' }, spec: { nodeName: 'node-1', containers: [{ name: 'worker' }] } };
  const limited: KubeObject = { ...unlimited, spec: { nodeName: 'node-1', containers: [{ name: 'worker', resources: { limits: { memory: '6Gi' } } }] } };
  let pods = [unlimited];
  const holds = (m: unknown) => r.compiled.when({ cluster: 'c', object: node, lookup: (kind) => (kind === 'NodeMetrics' ? [m as KubeObject] : kind === 'Pod' ? pods : []) });
  assert.equal(holds(sample(6.8)), true, '85%');
  pods = [limited];
  assert.equal(holds(sample(6.8)), false, '85%, but every pod on the node is held by its memory limit');
  pods = [unlimited];
  assert.equal(holds(sample(5)), false, '62%, one sample: no growth known');
  assert.equal(holds(sample(5, { usedGi: 4, secondsBefore: 60 })), true, '1Gi/min with 3Gi left: full in 3 minutes');
  assert.equal(holds(sample(5, { usedGi: 4.95, secondsBefore: 60 })), false, '0.05Gi/min: an hour away');
  assert.equal(holds(sample(3, { usedGi: 1, secondsBefore: 30 })), false, 'fast, but under half');
  assert.equal(holds(sample(5, { usedGi: 6, secondsBefore: 60 })), false, 'falling');
  // Another node's sample is not this node's.
  assert.equal(holds({ ...sample(7.5), metadata: { name: 'node-2' } }), false);
  assert.match(r.compiled.summary!({ cluster: 'c', object: node, lookup: (kind) => (kind === 'NodeMetrics' ? [sample(6.8) as unknown as KubeObject] : []) }), /^node node-1 uses 8[45]% of its allocatable memory \(8Gi\)$/);
});

test("the pipeline takes production from the chat settings' list when it is given none of its own", { timeout: 30_000 }, async () => {
  const store = await openStore({ dataDir: mkdtempSync(join(tmpdir(), 'km-prod-')) });
  const opened: Detection[] = [];
  const pipeline = new Pipeline({
    clock: new ManualClock(),
    clusters: [],
    rules: [rule('pod-without-memory-limit'), rule('pod-without-memory-limit-in-production')],
    store,
    record: false,
    chat: { settings: chatSettings({ defaultCluster: 'prod-eu', production: [{ cluster: 'prod-*', namespaces: ['shop'] }] }), authorizer: await Authorizer.fromFile(fileURLToPath(new URL('../../config/chat-policy.csv', import.meta.url))) },
    sinks: [{ name: 'collect', onDetection: (d, change) => change === 'opened' && opened.push(d) }],
  });
  try {
    for (const cluster of ['prod-eu', 'dev']) pipeline.ingest({ source: 'object', operation: 'create', cluster, time: 0, object: pod('shop') });
    assert.deepEqual(opened.map((d) => `${d.cluster} ${d.severity}`).sort(), ['dev info', 'prod-eu warning']);
  } finally {
    await pipeline.stop();
    await store.close();
  }
});
