// Every action's plan, and its run in dry-run mode, against a settled
// sandbox on a ManualClock: the store records no write at all and the API
// server sees nothing but GETs. (On a ManualClock nothing else in the
// cluster moves, so an unchanged write count is proof, not luck.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../src/common/clock.ts';
import { ACTIONS } from '../../src/runbooks/actions/index.ts';
import { cluster, deployment, IMAGES } from './actions-fixture.ts';

const PARAMS: Record<string, unknown> = {
  'k8s.rolloutRestart': { namespace: 'default', name: 'web' },
  'k8s.rollback': { namespace: 'default', name: 'web' },
  'k8s.promote': { namespace: 'default', name: 'web', fromNamespace: 'staging' },
  'k8s.scale': { namespace: 'default', name: 'web', replicas: 5 },
  'k8s.deletePod': { namespace: 'default', name: 'POD' },
  // node-2 is already cordoned; the capacity guard is lifted so the plan is the cordon itself.
  'k8s.cordon': { node: 'node-1', maxUnschedulableFraction: 1 },
  'k8s.uncordon': { node: 'node-2' },
  'k8s.drain': { node: 'node-1', maxUnschedulableFraction: 1 },
  'k8s.patchResources': { namespace: 'default', name: 'web', memoryLimit: { factor: 1.5, max: '1Gi' } },
  'k8s.annotate': { kind: 'Deployment', namespace: 'default', name: 'web', annotations: { 'kubemend.dev/incident': 'INC-1' } },
  'k8s.waitRollout': { namespace: 'default', name: 'web', timeout: '5m' },
  'k8s.smokeCheck': { namespace: 'default', name: 'web', window: '2m' },
  'k8s.collect': { namespace: 'default', name: 'web' },
  'k8s.findMemoryCulprit': { node: 'node-1', sample: 0 },
  'job.run': { namespace: 'default', template: { spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 't', image: 'busybox' }] } } } } },
  'http.request': { method: 'POST', url: 'http://127.0.0.1:1/deploy' },
  notify: { channel: '#ops', title: 't' },
  approval: { group: 'sre', summary: 's' },
  'k8s.proposeMemoryLimits': { namespace: 'default', name: 'web' },
  'k8s.proposeLimitRange': { namespace: 'default' },
  'k8s.createLimitRange': { namespace: 'default' },
};

test('plan() and dry-run run() of every action write nothing and send only GETs', async () => {
  const f = await cluster({ manual: true, images: IMAGES, nodes: [{ name: 'node-1' }, { name: 'node-2' }, { name: 'node-3' }] });
  const clock = f.sandbox.clock as ManualClock;
  try {
    f.sandbox.store.create('namespaces', { metadata: { name: 'staging' } });
    f.sandbox.apply([deployment('web', 'shop/web:1', { memoryLimit: '256Mi' }), deployment('web', 'shop/web:3', { namespace: 'staging', replicas: 1 })]);
    await clock.advance(60_000);
    f.sandbox.store.mutate('apps/deployments', 'default', 'web', (d) => void (d.spec.template.spec.containers[0].image = 'shop/web:2'));
    f.sandbox.store.mutate('nodes', undefined, 'node-2', (n) => void (n.spec.unschedulable = true));
    await clock.advance(20_000);
    const pod = f.sandbox.store.list('pods', 'default').items[0].metadata.name!;
    const writes = f.writes();
    const mark = f.mark();

    assert.equal(ACTIONS.size, Object.keys(PARAMS).length);
    for (const [name, action] of ACTIONS) {
      const raw = JSON.parse(JSON.stringify(PARAMS[name]).replace('"POD"', JSON.stringify(pod)));
      const planned = await f.plan(action, raw);
      // On this healthy cluster the diagnosis finds nothing to blame, which is its answer (the run hands over), not a write.
      const dry = await f.run(action, raw, { dryRun: true }).catch((err) => (name === 'k8s.findMemoryCulprit' && err.reason === 'NO_MEMORY_CULPRIT' ? { mutated: false, calls: planned } : Promise.reject(err)));
      assert.equal(dry.mutated, false, name);
      if (name !== 'k8s.collect') assert.deepEqual(dry.calls, planned, `${name}: dry-run shows the plan`);
      if (action.mutates) assert.ok(planned.length > 0, `${name} plans a change on this cluster`);
      assert.ok(planned.every((c) => c.description.length > 0), name);
    }
    assert.deepEqual(f.mutationsSince(mark), []);
    assert.equal(f.writes(), writes, 'the store saw no write');
    assert.equal(f.notifications.length, 0);
  } finally {
    await f.close();
  }
});
