// k8s.rollback and k8s.waitRollout against the sandbox over HTTP: a bad
// rollout is undone the way `kubectl rollout undo` does it, the rollout then
// completes, a retry of the same step changes nothing, and the failures are
// classified so the executor knows not to retry them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ActionError } from '../../src/runbooks/types.ts';
import { rollback, waitRollout, OPERATION_ANNOTATION } from '../../src/runbooks/actions/index.ts';
import { cluster, deployment, IMAGES, rolledOut, SERVICE_USER, until } from './actions-fixture.ts';

async function badRollout() {
  const f = await cluster({ images: IMAGES });
  f.sandbox.apply([deployment('web', 'shop/web:1')]);
  await until(() => rolledOut(f.sandbox, 'default', 'web'), 'web 1 rolled out');
  f.sandbox.store.mutate('apps/deployments', 'default', 'web', (d) => {
    d.spec.template.spec.containers[0].image = 'shop/web:2';
  });
  await until(() => f.sandbox.store.list('apps/replicasets', 'default').items.some((rs) => rs.metadata.annotations?.['deployment.kubernetes.io/revision'] === '2' && (rs.status?.replicas ?? 0) > 0), 'revision 2 has a pod');
  return f;
}

test('rollback after a bad rollout: images back to revision 1, rollout completes, every mutation impersonated', async () => {
  const f = await badRollout();
  try {
    assert.deepEqual(await f.check(rollback, { namespace: 'default', name: 'web' }), { state: 'not-done' });
    const mark = f.mark();
    const r = await f.run(rollback, { namespace: 'default', name: 'web' });
    assert.equal(r.mutated, true);
    assert.equal(r.outputs.fromRevision, 2);
    assert.equal(r.outputs.toRevision, 1);
    assert.equal(r.outputs.image, 'shop/web:1');
    assert.deepEqual(r.outputs.previousImages, { web: 'shop/web:2' });
    const d = f.sandbox.store.get('apps/deployments', 'default', 'web')!;
    assert.equal(d.spec.template.spec.containers[0].image, 'shop/web:1');
    assert.equal(d.spec.template.metadata.labels['pod-template-hash'], undefined);
    assert.equal(d.metadata.annotations?.[OPERATION_ANNOTATION], 'run-1/step-1');
    const muts = f.mutationsSince(mark);
    assert.deepEqual(muts.map((m) => m.method), ['PATCH']);
    assert.ok(muts.every((m) => m.user === SERVICE_USER && m.code < 300), JSON.stringify(muts));

    const w = await f.run(waitRollout, { namespace: 'default', name: 'web', timeout: '2m' });
    assert.match(String(w.outputs.message), /successfully rolled out/);
    assert.ok(rolledOut(f.sandbox, 'default', 'web'));
    // The old template came back as revision 3; the crash-looping ReplicaSet is scaled away.
    const rss = f.sandbox.store.list('apps/replicasets', 'default').items;
    const rev3 = rss.find((rs) => rs.metadata.annotations?.['deployment.kubernetes.io/revision'] === '3')!;
    assert.equal(rev3.spec.template.spec.containers[0].image, 'shop/web:1');

    // Done says the check; running the same step again must not roll "back" to the bad revision.
    const c = (await f.check(rollback, { namespace: 'default', name: 'web' })) as any;
    assert.equal(c.state, 'done');
    assert.equal(c.outputs.image, 'shop/web:1');
    const again = await f.run(rollback, { namespace: 'default', name: 'web' });
    assert.equal(again.mutated, false);
    assert.equal(f.sandbox.store.get('apps/deployments', 'default', 'web')!.spec.template.spec.containers[0].image, 'shop/web:1');
  } finally {
    await f.close();
  }
});

test('rollback plan and dry-run: the JSON patch kubectl sends, and no write anywhere', async () => {
  const f = await badRollout();
  try {
    const mark = f.mark();
    const calls = await f.plan(rollback, { namespace: 'default', name: 'web' });
    assert.equal(calls.length, 1);
    assert.equal(calls[0].method, 'PATCH');
    assert.match(calls[0].description, /from revision 2 to 1/);
    const ops = calls[0].body as any[];
    assert.deepEqual(ops.map((o) => [o.op, o.path]), [['replace', '/spec/template'], ['add', '/metadata/annotations']]);
    assert.equal(ops[1].value['deployment.kubernetes.io/revision'], '2', 'the deployment keeps its own revision annotation');
    const dry = await f.run(rollback, { namespace: 'default', name: 'web' }, { dryRun: true });
    assert.equal(dry.mutated, false);
    assert.equal(dry.outputs.toRevision, 1);
    assert.deepEqual(dry.calls, calls);
    assert.deepEqual(f.mutationsSince(mark), []);
    assert.equal(f.sandbox.store.get('apps/deployments', 'default', 'web')!.spec.template.spec.containers[0].image, 'shop/web:2');
  } finally {
    await f.close();
  }
});

test('rollback to a named revision; a missing revision and a missing history fail without retry', async () => {
  const f = await cluster({ images: IMAGES });
  try {
    f.sandbox.apply([deployment('solo', 'shop/web:1', { replicas: 1 })]);
    await until(() => rolledOut(f.sandbox, 'default', 'solo'), 'solo rolled out');
    const none = await f.run(rollback, { namespace: 'default', name: 'solo' }).catch((e) => e);
    assert.ok(none instanceof ActionError);
    assert.equal(none.reason, 'NO_PREVIOUS_REVISION');
    assert.equal(none.retryable, false);
    const missing = await f.run(rollback, { namespace: 'default', name: 'solo', toRevision: 7 }).catch((e) => e);
    assert.equal(missing.reason, 'REVISION_NOT_FOUND');
    assert.equal(missing.retryable, false);
    const gone = await f.run(rollback, { namespace: 'default', name: 'nope' }).catch((e) => e);
    assert.equal(gone.reason, 'NOT_FOUND');
    assert.equal(gone.retryable, false);

    f.sandbox.store.mutate('apps/deployments', 'default', 'solo', (d) => {
      d.spec.template.spec.containers[0].image = 'shop/web:3';
    });
    await until(() => rolledOut(f.sandbox, 'default', 'solo'), 'solo on web 3');
    // Already on the named revision's template: kubectl skips, so do we.
    const same = await f.run(rollback, { namespace: 'default', name: 'solo', toRevision: 2 });
    assert.equal(same.mutated, false);
    const to1 = await f.run(rollback, { namespace: 'default', name: 'solo', toRevision: 1 }, { operationKey: 'run-2/rb' });
    assert.equal(to1.mutated, true);
    assert.equal(to1.outputs.image, 'shop/web:1');
  } finally {
    await f.close();
  }
});

test('waitRollout: TIMEOUT while a rollout cannot finish, PROGRESS_DEADLINE_EXCEEDED once the deadline passes', async () => {
  const f = await cluster({ images: IMAGES });
  try {
    f.sandbox.apply([deployment('web', 'shop/web:2', { replicas: 1, progressDeadlineSeconds: 30 })]);
    const t0 = f.sandbox.clock.now();
    const err = await f.run(waitRollout, { namespace: 'default', name: 'web', timeout: '10s' }).catch((e) => e);
    assert.ok(err instanceof ActionError);
    assert.equal(err.reason, 'TIMEOUT');
    assert.equal(err.retryable, false);
    assert.match(err.message, /updated replicas are available|new replicas have been updated/);
    assert.ok(f.sandbox.clock.now() - t0 >= 10_000);
    const dl = await f.run(waitRollout, { namespace: 'default', name: 'web', timeout: '3m' }).catch((e) => e);
    assert.equal(dl.reason, 'PROGRESS_DEADLINE_EXCEEDED');
    const plan = await f.plan(waitRollout, { namespace: 'default', name: 'web', timeout: '1m' });
    assert.equal(plan[0].method, 'WAIT');
  } finally {
    await f.close();
  }
});

test('waitRollout stops when the step is aborted', async () => {
  const f = await cluster({ images: IMAGES });
  try {
    f.sandbox.apply([deployment('web', 'shop/web:2', { replicas: 1 })]);
    const ac = new AbortController();
    const p = f.run(waitRollout, { namespace: 'default', name: 'web', timeout: '1h' }, { signal: ac.signal }).catch((e) => e);
    setTimeout(() => ac.abort(), 50);
    const err = await p;
    assert.equal(err.reason, 'ABORTED');
  } finally {
    await f.close();
  }
});
