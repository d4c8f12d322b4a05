// memory-cascade with the shipped rules and runbooks, acting for real: the
// leaking worker is contained (a memory limit) instead of its node being
// drained, so the leak never reaches a second node, monitoring keeps
// running, and the incident is mitigated. Every decision is in the audit
// log, including the node actions not taken and why.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openStore } from '../../src/store/index.ts';
import { loadRules } from '../../src/rules/loader.ts';
import { loadRunbooks } from '../../src/runbooks/loader.ts';
import { ACTIONS } from '../../src/runbooks/actions/index.ts';
import { ScenarioSession } from '../../src/pipeline/index.ts';
import { resolveScenario } from '../../src/sandbox/scenarios/index.ts';
import { parseQuantity } from '../../src/common/index.ts';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const rules = loadRules(here('../../rules'));
const runbooks = loadRunbooks(here('../../runbooks'), { actions: ACTIONS });

const outOfService = (n: any) => n.spec?.unschedulable === true || !(n.status?.conditions ?? []).some((c: any) => c.type === 'Ready' && c.status === 'True');

test('memory-cascade: the leaker is limited, no node is drained, monitoring keeps running, the incident is mitigated', { timeout: 240_000 }, async () => {
  const store = await openStore({ dataDir: mkdtempSync(join(tmpdir(), 'km-contain-')) });
  const s = await ScenarioSession.start({ scenario: resolveScenario('memory-cascade').scenario, rules, runbooks, store, incidents: {} });
  try {
    await s.runToEnd();
    const sb = s.sandbox.store;
    const worker = sb.get('apps/deployments', 'reports', 'report-worker')!;
    const limit = worker.spec.template.spec.containers[0].resources?.limits?.memory;
    assert.ok(limit, 'the leaking worker has a memory limit');
    const node1 = sb.get('nodes', undefined, 'node-1')!;
    const others = sb.list('pods').items.filter((p: any) => p.spec.nodeName === 'node-1' && p.metadata.namespace !== 'reports' && p.status?.phase === 'Running')
      .flatMap((p: any) => p.spec.containers).reduce((n: number, c: any) => n + parseQuantity(c.resources?.limits?.memory ?? '0'), 0);
    assert.ok(parseQuantity(limit) + others <= parseQuantity(node1.status.allocatable.memory), `the limit (${limit}) leaves the node's other pods their limits`);

    const nodes = sb.list('nodes').items;
    const out = nodes.filter(outOfService).map((n) => n.metadata.name);
    assert.ok(out.length <= 1, `at most one node out of service: ${out.join(', ')}`);
    const systemOoms = sb.list('events').items.filter((e: any) => e.reason === 'SystemOOM');
    assert.deepEqual([...new Set(systemOoms.map((e: any) => e.involvedObject.name))], ['node-1'], 'the leak never reached another node');

    const prom = sb.list('pods', 'monitoring').items.filter((p: any) => p.metadata.name.startsWith('prometheus-') && !p.metadata.deletionTimestamp);
    assert.ok(prom.some((p: any) => p.status?.phase === 'Running' && p.status.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True')), 'Prometheus is running');

    const runs = await store.listRuns({});
    const node = runs.filter((r) => r.runbook === 'node-unhealthy');
    assert.ok(node.length >= 1 && node.every((r) => r.status === 'succeeded'), JSON.stringify(node.map((r) => [r.target.name, r.status])));
    const steps = await store.transitions(node[0].id);
    const status = (id: string) => steps.filter((t) => t.stepId === id).at(-1)?.status;
    assert.equal(status('cordon'), 'skipped');
    assert.equal(status('drain'), 'skipped');
    assert.equal(status('limit'), 'succeeded');
    assert.equal(s.sandbox.api!.requestLog.filter((e) => e.resource === 'pods/eviction').length, 0, 'kubemend evicted nothing');

    const diagnosis = (await store.audit.list({ action: 'runbook.step.succeeded' })).find((a) => a.data?.step === 'diagnose');
    const out1 = (diagnosis?.data?.output as any)?.outputs;
    assert.equal(out1?.verdict, 'workload');
    assert.match(String(out1?.reason), /Deployment reports\/report-worker .* drives node node-1 out of memory: .*no memory limit; contain it before any node action/);
    assert.equal(out1?.metrics, 'metrics.k8s.io', 'usage came from the metrics API');
    assert.ok((await store.audit.list({ action: 'runbook.step.skipped' })).some((a) => a.data?.step === 'drain'), 'the drain not done is on record');

    const incidents = await store.listIncidents({});
    const primary = incidents.find((i) => / on node\/node-1/.test(i.title) && i.detectionIds.length > 1);
    assert.equal(primary?.status, 'mitigated', incidents.map((i) => `${i.title}: ${i.status}`).join('\n'));
    assert.equal((await store.audit.list({ action: 'incident.mitigated', incidentId: primary!.id })).length, 1);
    assert.ok((await store.audit.verify()).ok);
  } finally {
    await s.stop();
    await store.close();
  }
});

test('node-broken: a node whose kubelet is down while its workloads are healthy is cordoned and drained', { timeout: 240_000 }, async () => {
  const store = await openStore({ dataDir: mkdtempSync(join(tmpdir(), 'km-broken-')) });
  const s = await ScenarioSession.start({ scenario: resolveScenario('node-broken').scenario, rules, runbooks, store, incidents: {} });
  try {
    await s.runToEnd();
    const runs = (await store.listRuns({})).filter((r) => r.runbook === 'node-unhealthy');
    assert.equal(runs.length, 1);
    assert.equal(runs[0].status, 'succeeded');
    assert.equal(runs[0].target.name, 'node-1');
    const steps = await store.transitions(runs[0].id);
    const status = (id: string) => steps.filter((t) => t.stepId === id).at(-1)?.status;
    assert.deepEqual(['diagnose', 'cordon', 'drain', 'limit'].map(status), ['succeeded', 'succeeded', 'succeeded', 'skipped']);
    const diagnosis = (await store.audit.list({ action: 'runbook.step.succeeded' })).find((a) => a.data?.step === 'diagnose');
    assert.equal((diagnosis?.data?.output as any)?.outputs?.verdict, 'node');
    assert.equal(s.sandbox.store.get('nodes', undefined, 'node-1')!.spec.unschedulable, true);
    assert.ok(s.sandbox.api!.requestLog.some((e) => e.resource === 'pods/eviction' && e.method === 'POST'), 'its pods were evicted through the Eviction API');
    const incidents = await store.listIncidents({});
    assert.equal(incidents.find((i) => /node-not-ready on node\/node-1/.test(i.title))?.status, 'mitigated');
  } finally {
    await s.stop();
    await store.close();
  }
});
