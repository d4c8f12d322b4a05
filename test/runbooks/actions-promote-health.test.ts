// k8s.promote copies images only from a source that has shown they work. A
// crash-looping, OOMKilled or unready source is refused with the evidence,
// pod by pod, and nothing is written; an override goes ahead only once
// someone other than the run's person approves it (four-eyes).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ActionError, type ApprovalGate } from '../../src/runbooks/types.ts';
import { ApprovalBook } from '../../src/runbooks/approvals.ts';
import { promote } from '../../src/runbooks/actions/index.ts';
import { cluster, deployment, IMAGES, rolledOut, until, type Fixture } from './actions-fixture.ts';

const SOURCE_IMAGES = {
  ...IMAGES,
  'shop/web:oom': { readySeconds: 1, memoryMi: 200 },
  'shop/web:deaf': { neverReady: true },
};

const PARAMS = { namespace: 'default', name: 'web', fromNamespace: 'staging' };

/** default/web on web:1, and staging/web on `image` (its pods' containers are named web, as the target's). */
async function withSource(image: string, o: { memoryLimit?: string } = {}): Promise<Fixture> {
  const f = await cluster({ images: SOURCE_IMAGES });
  f.sandbox.store.create('namespaces', { metadata: { name: 'staging' } });
  f.sandbox.apply([deployment('web', 'shop/web:1'), deployment('web', image, { namespace: 'staging', replicas: 2, ...o })]);
  await until(() => rolledOut(f.sandbox, 'default', 'web'), 'the target rolled out');
  return f;
}

const statuses = (f: Fixture) => f.sandbox.store.list('pods', 'staging').items.flatMap((p) => p.status?.containerStatuses ?? []);
const targetImage = (f: Fixture) => f.sandbox.store.get('apps/deployments', 'default', 'web')!.spec.template.spec.containers[0].image;

test('a crash-looping source is refused with the evidence, in the plan as in the run, and nothing is written', { timeout: 60_000 }, async () => {
  const f = await withSource('shop/web:2');
  try {
    await until(() => statuses(f).some((s) => s.state?.waiting?.reason === 'CrashLoopBackOff'), 'a source container crash-looping');
    const mark = f.mark();
    const planned = await f.plan(promote, PARAMS).catch((e) => e);
    const err = await f.run(promote, PARAMS).catch((e) => e);
    for (const e of [planned, err]) {
      assert.ok(e instanceof ActionError, String(e));
      assert.equal(e.reason, 'SOURCE_UNHEALTHY');
      assert.equal(e.code, 'KM-ACTION-044');
      assert.match(e.message, /^not promoting deployment default\/web: source deployment staging\/web is not healthy \(0\/2 available/);
      // Which pod, what, when.
      assert.match(e.message, /pod web-[a-z0-9]+-[a-z0-9]+ container web: (CrashLoopBackOff, \d+ restarts, last Error, exit code 2|restarted \(\d+ restarts, last Error, exit code 2\)) \(\d{4}-\d\d-\d\dT/);
      assert.match(e.message, /0 of 2 replicas available/);
      assert.match(e.message, /set override \(chat: --force\)/);
    }
    assert.deepEqual(f.mutationsSince(mark), []);
    assert.equal(targetImage(f), 'shop/web:1');
  } finally {
    await f.close();
  }
});

test('an OOMKilled source is refused, naming the OOMKill', { timeout: 60_000 }, async () => {
  const f = await withSource('shop/web:oom', { memoryLimit: '64Mi' });
  try {
    await until(() => statuses(f).some((s) => s.lastState?.terminated?.reason === 'OOMKilled'), 'a source container OOMKilled');
    const err = await f.run(promote, PARAMS).catch((e) => e);
    assert.equal(err.reason, 'SOURCE_UNHEALTHY');
    assert.match(err.message, /container web: (OOMKilled, \d+ restarts|CrashLoopBackOff, \d+ restarts, last OOMKilled, exit code 137) \(\d{4}-/);
    assert.equal(targetImage(f), 'shop/web:1');
  } finally {
    await f.close();
  }
});

test('a source whose running pods fail readiness is refused', { timeout: 60_000 }, async () => {
  const f = await withSource('shop/web:deaf');
  try {
    await until(() => f.sandbox.store.list('pods', 'staging').items.some((p) => p.status?.phase === 'Running'), 'a source pod running');
    const err = await f.run(promote, PARAMS).catch((e) => e);
    assert.equal(err.reason, 'SOURCE_UNHEALTHY');
    assert.match(err.message, /pod web-[a-z0-9-]+: not ready \(ContainersNotReady: containers with unready status: \[web\]\)/);
    assert.match(err.message, /condition Available is False/);
  } finally {
    await f.close();
  }
});

test('an override asks someone other than the run\'s person; denied, timed out or self-approved, nothing is written', { timeout: 60_000 }, async () => {
  const f = await withSource('shop/web:2');
  try {
    await until(() => statuses(f).some((s) => (s.restartCount ?? 0) > 0), 'a source container restarted');
    const asked: { group: string; summary: string; requester?: string }[] = [];
    const gate = (answer: Awaited<ReturnType<ApprovalGate['request']>>): ApprovalGate => ({ request: async (r) => (asked.push(r), answer) });
    const params = { ...PARAMS, override: true, approvers: 'sre-leads' };
    assert.throws(() => promote.params.parse({ ...PARAMS, override: true }), /override needs approvers/);

    // The plan shows the verdict and the approval it will ask for; it asks nobody.
    const plan = await f.plan(promote, params, { as: { user: 'alice' }, approvals: gate({ decision: 'timeout' }) });
    assert.deepEqual(plan.map((c) => c.method), ['CHECK', 'APPROVAL', 'PATCH']);
    assert.match(plan[0].description, /^source deployment staging\/web is not healthy/);
    assert.equal(plan[1].description, 'ask sre-leads to approve overriding the failed health check of the source (someone other than alice)');
    assert.equal(asked.length, 0);

    const mark = f.mark();
    const denied = await f.run(promote, params, { as: { user: 'alice' }, approvals: gate({ decision: 'denied', by: 'bob', comment: 'fix staging first' }) }).catch((e) => e);
    assert.equal(denied.reason, 'APPROVAL_DENIED');
    assert.match(denied.message, /^bob denied the override \(fix staging first\); nothing was changed\. source deployment staging\/web is not healthy/);
    const late = await f.run(promote, params, { as: { user: 'alice' }, approvals: gate({ decision: 'timeout' }) }).catch((e) => e);
    assert.equal(late.reason, 'APPROVAL_TIMEOUT');
    // A gate that lets the requester approve is still not four-eyes.
    const self = await f.run(promote, params, { as: { user: 'alice' }, approvals: gate({ decision: 'approved', by: 'alice' }) }).catch((e) => e);
    assert.equal(self.reason, 'SELF_APPROVAL');
    assert.equal(self.code, 'KM-ACTION-045');
    assert.deepEqual(f.mutationsSince(mark), []);
    assert.equal(targetImage(f), 'shop/web:1');
    assert.equal(asked.length, 3);
    assert.ok(asked.every((a) => a.group === 'sre-leads' && a.requester === 'alice'), JSON.stringify(asked));
    assert.match(asked[0].summary, /^override the health check and promote deployment default\/web from the unhealthy deployment staging\/web is not healthy .*pod web-/);

    const ok = await f.run(promote, params, { as: { user: 'alice' }, approvals: gate({ decision: 'approved', by: 'bob' }) });
    assert.equal(ok.mutated, true);
    const override = ok.outputs.override as { approvedBy: string; evidence: unknown[] };
    assert.equal(override.approvedBy, 'bob');
    assert.ok(override.evidence.length > 0, 'the evidence the approver saw is kept with the step');
    assert.equal(targetImage(f), 'shop/web:2');
    assert.ok(f.mutationsSince(mark).every((m) => m.user === 'alice'));
  } finally {
    await f.close();
  }
});

test('the approval book refuses the requester\'s own decision on their override, and accepts another member\'s', { timeout: 30_000 }, async () => {
  const f = await cluster({ images: SOURCE_IMAGES });
  try {
    const book = new ApprovalBook(f.sandbox.clock, () => true);
    const signal = new AbortController().signal;
    const decision = book.request({ runId: 'r1', stepId: 'promote', group: 'sre-leads', summary: 'override', timeoutMs: 60_000, signal, requester: 'alice' });
    const [pending] = book.list();
    assert.equal(pending.requester, 'alice');
    const self = book.decide(pending.id, 'alice', 'approved');
    assert.deepEqual(self, { ok: false, reason: 'alice asked for this and cannot decide it too; someone else in sre-leads must (four-eyes)' });
    assert.equal(book.list().length, 1, 'still pending');
    assert.deepEqual(book.decide(pending.id, 'dave', 'approved'), { ok: true });
    assert.deepEqual(await decision, { decision: 'approved', by: 'dave', comment: undefined });
  } finally {
    await f.close();
  }
});
