// k8s.smokeCheck and k8s.collect against the sandbox over HTTP.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ActionError } from '../../src/runbooks/types.ts';
import { collect, rollback, smokeCheck, waitRollout } from '../../src/runbooks/actions/index.ts';
import { cluster, deployment, IMAGES, rolledOut, until } from './actions-fixture.ts';

const crashLooping = (f: Awaited<ReturnType<typeof cluster>>) =>
  f.sandbox.store.list('pods', 'default').items.some((p) => (p.status?.containerStatuses ?? []).some((c: any) => c.state?.waiting?.reason === 'CrashLoopBackOff' && c.restartCount >= 1));

test('smokeCheck passes a healthy workload for the whole window and fails fast on a crash-looping one', async () => {
  const f = await cluster({ images: IMAGES });
  try {
    f.sandbox.apply([deployment('good', 'shop/web:1'), deployment('bad', 'shop/web:2', { replicas: 1 })]);
    await until(() => rolledOut(f.sandbox, 'default', 'good'), 'good rolled out');
    const t0 = f.sandbox.clock.now();
    const ok = await f.run(smokeCheck, { namespace: 'default', name: 'good', window: '30s' });
    assert.equal(ok.mutated, false);
    assert.equal(ok.outputs.pods, 2);
    assert.ok(f.sandbox.clock.now() - t0 >= 30_000, 'watched the whole window');

    const err = await f.run(smokeCheck, { namespace: 'default', name: 'bad', window: '5m' }).catch((e) => e);
    assert.ok(err instanceof ActionError, String(err));
    assert.equal(err.reason, 'SMOKE_FAILED');
    assert.equal(err.retryable, false);
    assert.match(err.message, /restarted|CrashLoopBackOff/);
    const plan = await f.plan(smokeCheck, { namespace: 'default', name: 'good', window: '2m' });
    assert.deepEqual(plan.map((c) => c.method), ['WAIT']);
    const dry = await f.run(smokeCheck, { namespace: 'default', name: 'good', window: '2m' }, { dryRun: true });
    assert.deepEqual(dry.calls, plan);
  } finally {
    await f.close();
  }
});

test('bad deploy end to end: collect → rollback → waitRollout → smokeCheck passes on the previous image', async () => {
  const f = await cluster({ images: IMAGES });
  try {
    f.sandbox.apply([deployment('web', 'shop/web:1', { replicas: 3 })]);
    await until(() => rolledOut(f.sandbox, 'default', 'web'), 'web 1 rolled out');
    f.sandbox.store.mutate('apps/deployments', 'default', 'web', (d) => void (d.spec.template.spec.containers[0].image = 'shop/web:2'));
    await until(() => crashLooping(f), 'a web 2 pod crash-loops');

    const c = await f.run(collect, { namespace: 'default', name: 'web', logTail: 5 });
    assert.equal(c.mutated, false);
    assert.equal(c.outputs.currentRevision, 2);
    assert.equal(c.outputs.previousRevision, 1);
    assert.equal(c.outputs.previousRevisionHealthy, true);
    assert.deepEqual(c.outputs.previousImages, { web: 'shop/web:1' });
    assert.equal(c.outputs.crashLooping, true);
    const ev = c.outputs.evidence as any;
    assert.ok(ev.events.some((e: any) => e.reason === 'BackOff' && e.object.startsWith('Pod/')), JSON.stringify(ev.events.map((e: any) => e.reason)));
    assert.ok(ev.events.some((e: any) => e.object === 'Deployment/web' && e.reason === 'ScalingReplicaSet'));
    const tail = ev.logs.find((l: any) => l.previous && l.lines.includes('panic: nil map'));
    assert.ok(tail, JSON.stringify(ev.logs));
    assert.ok(tail.lines.every((l: string) => !l.includes('hunter2') && !l.includes('abcdefgh12345')), 'credentials redacted');
    assert.equal(ev.revisions.length, 2);
    assert.ok(ev.pods.some((p: any) => p.reasons.includes('CrashLoopBackOff') && p.lastTermination?.exitCode === 2), JSON.stringify(ev.pods));

    await f.run(rollback, { namespace: 'default', name: 'web' });
    await f.run(waitRollout, { namespace: 'default', name: 'web', timeout: '3m' });
    const smoke = await f.run(smokeCheck, { namespace: 'default', name: 'web', window: '1m' });
    assert.equal(smoke.outputs.readyPods, 3);
  } finally {
    await f.close();
  }
});

test('collect for stuck Pending pods reports the scheduler\'s reasons; for a first revision there is no previous one', async () => {
  const f = await cluster({ images: IMAGES, nodes: [{ name: 'node-1', memory: '1Gi' }] });
  try {
    const big = deployment('big', 'shop/web:1', { replicas: 1 });
    big.spec.template.spec.containers[0].resources.requests.memory = '4Gi';
    f.sandbox.apply([big]);
    await until(() => f.sandbox.store.list('events', 'default').items.some((e) => e.reason === 'FailedScheduling'), 'FailedScheduling');
    const mark = f.mark();
    const c = await f.run(collect, { namespace: 'default', name: 'big' }, { dryRun: true });
    assert.deepEqual(f.mutationsSince(mark), [], 'collect only reads, even for real in dry-run');
    assert.equal((c.outputs.pendingPods as string[]).length, 1);
    assert.ok((c.outputs.schedulingReasons as string[]).some((r) => /Insufficient memory/.test(r)), JSON.stringify(c.outputs.schedulingReasons));
    assert.equal(c.outputs.previousRevision, undefined);
    assert.equal(c.outputs.previousRevisionHealthy, false);

    const node = await f.run(collect, { kind: 'Node', name: 'node-1' });
    assert.equal((node.outputs.evidence as any).object.name, 'node-1');
  } finally {
    await f.close();
  }
});
