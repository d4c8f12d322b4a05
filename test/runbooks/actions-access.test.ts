// Every request an action makes must be in its access declaration (from
// which deploy/'s ClusterRole is derived): one outside it fails the step as a
// kubemend bug before it reaches the API server — even when the action
// tolerates the failure of that request (a log tail) — in the executor and
// in the action tests' fixture alike.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KubeConfig } from '@kubernetes/client-node';
import { ManualClock, realClock } from '../../src/common/clock.ts';
import { openStore } from '../../src/store/index.ts';
import { KubeHttp } from '../../src/kube/http.ts';
import { requestInfo } from '../../src/kube/access.ts';
import { Sandbox } from '../../src/sandbox/cluster.ts';
import { resolveScenario, ScenarioRunner, sandboxOptionsFor } from '../../src/sandbox/scenarios/index.ts';
import { loadRunbooks } from '../../src/runbooks/loader.ts';
import { ACTIONS } from '../../src/runbooks/actions/index.ts';
import { CollectingNotifier, RunbookExecutor, viewOf } from '../../src/runbooks/index.ts';
import type { Action } from '../../src/runbooks/types.ts';
import { SERVICE_IDENTITY } from '../../src/pipeline/index.ts';
import { cluster, deployment, IMAGES, rolledOut, until } from './actions-fixture.ts';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const without = (a: Action, resource: string): Action => ({ ...a, access: a.access.map((x) => ({ ...x, resources: x.resources.filter((r) => r !== resource) })) });

test('requestInfo reads verb, group and resource as kube-apiserver\'s RequestInfoFactory does', { timeout: 10_000 }, () => {
  assert.deepEqual(requestInfo('GET', '/apis/apps/v1/namespaces/shop/deployments'), { verb: 'list', group: 'apps', resource: 'deployments', namespace: 'shop' });
  assert.deepEqual(requestInfo('GET', '/api/v1/pods', { watch: true }), { verb: 'watch', group: '', resource: 'pods' });
  assert.deepEqual(requestInfo('PATCH', '/apis/apps/v1/namespaces/shop/deployments/web/scale'), { verb: 'patch', group: 'apps', resource: 'deployments/scale', namespace: 'shop', name: 'web' });
  assert.deepEqual(requestInfo('POST', '/api/v1/namespaces/a/pods/p/eviction'), { verb: 'create', group: '', resource: 'pods/eviction', namespace: 'a', name: 'p' });
  assert.deepEqual(requestInfo('GET', '/api/v1/namespaces/kube-system'), { verb: 'get', group: '', resource: 'namespaces', namespace: 'kube-system', name: 'kube-system' });
  assert.deepEqual(requestInfo('DELETE', '/api/v1/namespaces/a/pods'), { verb: 'deletecollection', group: '', resource: 'pods', namespace: 'a' });
  assert.deepEqual(requestInfo('GET', '/apis/metrics.k8s.io/v1beta1/nodes/n1'), { verb: 'get', group: 'metrics.k8s.io', resource: 'nodes', name: 'n1' });
  assert.equal(requestInfo('GET', '/healthz'), undefined);
});

test('an undeclared request fails the step before it is sent; a tolerated one fails it too', { timeout: 60_000 }, async () => {
  const f = await cluster({ manual: true, images: IMAGES });
  try {
    f.sandbox.apply([deployment('web', 'shop/web:1')]);
    const clock = f.sandbox.clock as ManualClock;
    for (let i = 0; i < 30 && !rolledOut(f.sandbox, 'default', 'web'); i++) await clock.advance(1000);
    const mark = f.mark();
    await assert.rejects(f.run(without(ACTIONS.get('k8s.scale')!, 'deployments/scale'), { namespace: 'default', name: 'web', replicas: 2 }),
      (e: any) => /k8s\.scale made a request its access declaration does not list \(get deployments\.apps\/scale: GET \/apis\/apps\/v1\/namespaces\/default\/deployments\/web\/scale\)/.test(e.message));
    assert.equal(f.sandbox.api!.requestLog.length, mark, 'nothing was sent');
    // k8s.collect keeps going when a log cannot be read; the undeclared read still fails the run.
    await assert.rejects(f.run(without(ACTIONS.get('k8s.collect')!, 'events'), { kind: 'Deployment', namespace: 'default', name: 'web' }), /list events: GET \/api\/v1\/namespaces\/default\/events/);
    // Declared, the same calls pass.
    await f.run(ACTIONS.get('k8s.collect')!, { kind: 'Deployment', namespace: 'default', name: 'web' });
  } finally {
    await f.close();
  }
});

test('in the executor: an action that swallows the failed read still fails its step as INTERNAL', { timeout: 90_000 }, async () => {
  const { scenario } = resolveScenario('crashloop');
  const sandbox = new Sandbox(sandboxOptionsFor(scenario, { speed: 60 }));
  await sandbox.listen();
  const runner = new ScenarioRunner(sandbox, scenario).start();
  const store = await openStore({ dataDir: mkdtempSync(join(tmpdir(), 'km-access-')) });
  try {
    while (!runner.report().milestones.find((m) => m.name === 'crashloop')?.reachedAtMs) await new Promise((r) => setTimeout(r, 50));
    const kc = new KubeConfig();
    kc.loadFromString(sandbox.kubeconfig());
    const kube = new KubeHttp(kc);
    const actions = new Map(ACTIONS);
    actions.set('k8s.collect', without(ACTIONS.get('k8s.collect')!, 'pods/log'));
    const runbooks = new Map(loadRunbooks(here('../../runbooks'), { actions: ACTIONS }).map((lr) => [lr.runbook.metadata.name, viewOf(lr)]));
    // The executor keeps real time: on the sandbox's 60x clock the collect step's 1m timeout is one real
    // second, which a busy machine can overrun (the step then ends timed-out, not failed).
    const executor = new RunbookExecutor({
      store, clock: realClock, runbooks, actions, kube: () => kube, identity: SERVICE_IDENTITY,
      notifier: new CollectingNotifier(realClock), approvals: { request: async () => ({ decision: 'timeout' }) },
    });
    const started = await executor.trigger({ runbook: 'bad-deploy', params: { smokeWindow: '1s' }, startedBy: { type: 'user', name: 'test' }, target: { cluster: 'sandbox', kind: 'Deployment', namespace: 'shop', name: 'checkout' } });
    if ('refused' in started || !started.run) throw new Error(`refused: ${JSON.stringify(started)}`);
    const run = started.run;
    await until(async () => (await store.transitions(run.id)).some((t) => t.stepId === 'collect' && t.status !== 'started'), 'the collect step to end', 30_000);
    const collect = (await store.transitions(run.id)).find((t) => t.stepId === 'collect' && t.status !== 'started')!;
    assert.equal(collect.status, 'failed');
    assert.match(collect.error!, /^INTERNAL: internal: k8s\.collect made a request its access declaration does not list \(get pods\/log: GET \/api\/v1\/namespaces\/shop\/pods\/checkout-/);
    executor.cancelAll();
    await executor.idle();
  } finally {
    runner.stop();
    await store.close();
    await sandbox.stop();
  }
});
