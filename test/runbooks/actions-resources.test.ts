// k8s.patchResources, k8s.annotate, k8s.scale and k8s.deletePod against the
// sandbox over HTTP.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ActionError } from '../../src/runbooks/types.ts';
import { annotate, deletePod, patchResources, scale, OPERATION_ANNOTATION } from '../../src/runbooks/actions/index.ts';
import { cluster, deployment, IMAGES, rolledOut, SERVICE_USER, until } from './actions-fixture.ts';

const memOf = (f: Awaited<ReturnType<typeof cluster>>, name = 'web') =>
  f.sandbox.store.get('apps/deployments', 'default', name)!.spec.template.spec.containers[0].resources.limits?.memory;

test('patchResources raises a memory limit by a factor up to a cap, then refuses at the cap', async () => {
  const f = await cluster({ images: IMAGES });
  try {
    f.sandbox.apply([deployment('web', 'shop/web:1', { memoryLimit: '256Mi' })]);
    const raise = { namespace: 'default', name: 'web', memoryLimit: { factor: 1.5, max: '512Mi' } };
    assert.deepEqual(await f.check(patchResources, raise), { state: 'not-done' });
    const mark = f.mark();
    const r = await f.run(patchResources, raise);
    assert.equal(r.mutated, true);
    assert.deepEqual(r.outputs.old, { memoryLimit: '256Mi' });
    assert.deepEqual(r.outputs.new, { memoryLimit: '384Mi' });
    assert.equal(memOf(f), '384Mi');
    assert.equal(f.sandbox.store.get('apps/deployments', 'default', 'web')!.spec.template.spec.containers[0].resources.requests.memory, '64Mi', 'strategic merge keeps the rest');
    const muts = f.mutationsSince(mark);
    assert.ok(muts.length > 0 && muts.every((m) => m.user === SERVICE_USER), JSON.stringify(muts));
    assert.equal((await f.check(patchResources, raise) as any).state, 'done');
    // The same step again (a retry after a crash) must not multiply twice.
    assert.equal((await f.run(patchResources, raise)).mutated, false);
    assert.equal(memOf(f), '384Mi');
    // A new step: 384Mi × 1.5 = 576Mi, capped at 512Mi.
    const capped = await f.run(patchResources, raise, { operationKey: 'run-1/step-2' });
    assert.deepEqual(capped.outputs.new, { memoryLimit: '512Mi' });
    const atCap = await f.run(patchResources, raise, { operationKey: 'run-1/step-3' }).catch((e) => e);
    assert.ok(atCap instanceof ActionError);
    assert.equal(atCap.reason, 'AT_CAP');
    assert.equal(atCap.retryable, false);
    assert.match(atCap.message, /already at cap 512Mi/);
    assert.equal(memOf(f), '512Mi');
  } finally {
    await f.close();
  }
});

test('patchResources: absolute values, a missing current value, an unknown container, and the plan', async () => {
  const f = await cluster({ images: IMAGES });
  try {
    f.sandbox.apply([deployment('web', 'shop/web:1')]);
    const mark = f.mark();
    const plan = await f.plan(patchResources, { namespace: 'default', name: 'web', memoryLimit: '1Gi', cpuRequest: '250m' });
    assert.equal(plan.length, 1);
    const body = plan[0].body as any;
    assert.deepEqual(body.spec.template.spec.containers, [{ name: 'web', resources: { limits: { memory: '1Gi' }, requests: { cpu: '250m' } } }]);
    assert.equal(body.metadata.annotations[OPERATION_ANNOTATION], 'run-1/step-1');
    assert.deepEqual(f.mutationsSince(mark), []);
    const noLimit = await f.run(patchResources, { namespace: 'default', name: 'web', memoryLimit: { factor: 2 } }).catch((e) => e);
    assert.equal(noLimit.reason, 'NO_CURRENT_VALUE');
    const noContainer = await f.run(patchResources, { namespace: 'default', name: 'web', container: 'sidecar', memoryLimit: '1Gi' }).catch((e) => e);
    assert.equal(noContainer.reason, 'NO_SUCH_CONTAINER');
    assert.throws(() => patchResources.params.parse({ namespace: 'default', name: 'web' }), /at least one/);
    assert.throws(() => patchResources.params.parse({ namespace: 'default', name: 'web', memoryLimit: 'lots' }), /quantity/);
    const cpu = await f.run(patchResources, { namespace: 'default', name: 'web', cpuRequest: { factor: 1.5 } });
    assert.deepEqual(cpu.outputs.new, { cpuRequest: '75m' });
  } finally {
    await f.close();
  }
});

test('annotate sets and removes annotations, refusing to overwrite when asked', async () => {
  const f = await cluster();
  try {
    f.sandbox.store.create('configmaps', { metadata: { name: 'cfg', namespace: 'default', annotations: { owner: 'payments', stale: 'yes' } }, data: {} });
    const p = { kind: 'ConfigMap', namespace: 'default', name: 'cfg', annotations: { 'kubemend.dev/incident': 'INC-7', stale: null } };
    assert.deepEqual(await f.check(annotate, p), { state: 'not-done' });
    const r = await f.run(annotate, p);
    assert.equal(r.mutated, true);
    assert.deepEqual(f.sandbox.store.get('configmaps', 'default', 'cfg')!.metadata.annotations, { owner: 'payments', 'kubemend.dev/incident': 'INC-7' });
    assert.equal((await f.check(annotate, p) as any).state, 'done');
    assert.equal((await f.run(annotate, p)).mutated, false);
    const clash = await f.run(annotate, { kind: 'ConfigMap', namespace: 'default', name: 'cfg', annotations: { owner: 'search' }, overwrite: false }).catch((e) => e);
    assert.equal(clash.reason, 'ANNOTATION_EXISTS');
  } finally {
    await f.close();
  }
});

test('scale goes through the scale subresource; deletePod deletes exactly the pod it looked at', async () => {
  const f = await cluster({ images: IMAGES });
  try {
    f.sandbox.apply([deployment('web', 'shop/web:1')]);
    await until(() => rolledOut(f.sandbox, 'default', 'web'), 'web rolled out');
    const mark = f.mark();
    assert.deepEqual(await f.check(scale, { namespace: 'default', name: 'web', replicas: 3 }), { state: 'not-done' });
    const s = await f.run(scale, { namespace: 'default', name: 'web', replicas: 3 });
    assert.deepEqual([s.outputs.from, s.outputs.to, s.mutated], [2, 3, true]);
    const scaled = f.mutationsSince(mark);
    assert.ok(scaled.length > 0 && scaled.every((m) => m.path.includes('/deployments/web/scale') && m.user === SERVICE_USER), JSON.stringify(scaled));
    assert.equal((await f.check(scale, { namespace: 'default', name: 'web', replicas: 3 }) as any).state, 'done');
    assert.equal((await f.run(scale, { namespace: 'default', name: 'web', replicas: 3 })).mutated, false);
    await until(() => rolledOut(f.sandbox, 'default', 'web'), 'web at 3');

    const pod = f.sandbox.store.list('pods', 'default').items[0];
    const name = pod.metadata.name!;
    assert.deepEqual(await f.check(deletePod, { namespace: 'default', name }), { state: 'not-done' });
    const m2 = f.mark();
    const d = await f.run(deletePod, { namespace: 'default', name, gracePeriodSeconds: 0 });
    assert.equal(d.mutated, true);
    assert.equal(d.outputs.uid, pod.metadata.uid);
    const muts = f.mutationsSince(m2);
    assert.deepEqual(muts.map((m) => m.method), ['PATCH', 'DELETE']);
    assert.ok(muts.every((m) => m.user === SERVICE_USER && m.code < 300));
    assert.equal((await f.check(deletePod, { namespace: 'default', name }) as any).state, 'done');
    const again = await f.run(deletePod, { namespace: 'default', name });
    assert.equal(again.mutated, false);
    assert.equal(again.outputs.alreadyGone, true);
  } finally {
    await f.close();
  }
});
