// A person's confirmed chat action pre-empts the automatic run that holds its
// target, instead of waiting minutes for a stuck step: the automatic run
// stops at its step boundary (a wait is interrupted, a change is left to
// finish), ends `preempted` with the person in the audit log, and the
// person's run starts. Never before the action is confirmed (and, in
// production, approved); never against a person's run; and a run that does
// not reach its boundary in time is left alone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type ServerResponse } from 'node:http';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadRunbooks } from '../../src/runbooks/loader.ts';
import { ACTIONS } from '../../src/runbooks/actions/index.ts';
import type { Detection } from '../../src/rules/index.ts';
import { chatFixture, LINK, until, type ChatFixture } from './fixture.ts';

// The automatic remediation of the incident: restart, then wait (long) for a rollout that cannot finish.
const AUTO_RESTART = `apiVersion: kubemend.dev/v1alpha1
kind: Runbook
metadata: { name: auto-restart }
spec:
  parameters:
    namespace: { type: string }
  target: { cluster: sandbox, kind: Deployment, namespace: "{{ params.namespace }}", name: web }
  steps:
    - id: restart
      action: k8s.rolloutRestart
      with: { namespace: "{{ params.namespace }}", name: web }
    - id: waitRollout
      action: k8s.waitRollout
      with: { namespace: "{{ params.namespace }}", name: web, timeout: 2h }
      timeout: 3h
    - id: notify
      action: notify
      with: { channel: ops, title: restarted }
`;

// A change that takes as long as the endpoint holds it (http.request mutates).
const AUTO_CALL = `apiVersion: kubemend.dev/v1alpha1
kind: Runbook
metadata: { name: auto-call }
spec:
  parameters:
    url: { type: string }
  target: { cluster: sandbox, kind: Deployment, namespace: shop, name: web }
  steps:
    - id: call
      action: http.request
      with: { method: POST, url: "{{ params.url }}", timeout: 1h }
      timeout: 2h
`;

function runbooks() {
  const dir = mkdtempSync(join(tmpdir(), 'km-preempt-'));
  writeFileSync(join(dir, 'auto-restart.yaml'), AUTO_RESTART);
  writeFileSync(join(dir, 'auto-call.yaml'), AUTO_CALL);
  return loadRunbooks(dir, { actions: ACTIONS });
}

function detection(f: ChatFixture, namespace: string): Detection {
  const now = f.sandbox.clock.now();
  return {
    id: 'det-1', rule: 'CrashLooping', cluster: 'sandbox', subject: { cluster: 'sandbox', kind: 'Deployment', namespace, name: 'web' },
    fingerprint: 'fp-1', severity: 'critical', summary: 'crash-looping', labels: {}, firstSeen: now, lastSeen: now, count: 1,
    status: 'open', evidence: [], notifications: 0, action: { runbook: 'auto-restart', params: { namespace } },
  };
}

/** Ships the crashing web:2 to `namespace`; the rule's detection starts the automatic restart; resolves once it waits. */
async function stuckAutomaticRun(f: ChatFixture, namespace: string): Promise<string> {
  f.sandbox.store.mutate('apps/deployments', namespace, 'web', (d) => void (d.spec.template.spec.containers[0].image = 'shop/web:2'));
  f.remediation.remediator.onDetection(detection(f, namespace), 'opened');
  let runId = '';
  await until(async () => Boolean((runId = (await f.store.listRuns({ runbook: 'auto-restart' }))[0]?.id ?? '')), 'the automatic run started');
  await until(async () => (await f.store.transitions(runId)).some((t) => t.stepId === 'waitRollout' && t.status === 'started'), 'the automatic run waiting for its rollout');
  return runId;
}

test('a confirmed, approved chat rollback pre-empts the automatic run stuck waiting, which ends preempted naming the person', { timeout: 120_000 }, async () => {
  const f = await chatFixture({ runbooks: runbooks() });
  try {
    const autoId = await stuckAutomaticRun(f, 'prod');
    const asked = await f.say('sam', `rollback deployment/web -n prod --to-revision 1 --reason "web 2 crash-loops since the deploy" --link ${LINK}`);
    const id = f.idOf(asked);
    await f.say('sam', `confirm ${id}`);
    // Confirmed is not enough in production: until an approver approves, the automatic run goes on.
    assert.equal((await f.store.getChatRequest(id))!.status, 'awaiting-approval');
    assert.ok(f.remediation.executor.isActive(autoId));
    assert.equal((await f.store.getRun(autoId))!.status, 'running');

    const approved = await f.say('dave', `approve ${id}`, 'approvals');
    const waiting = [...approved, ...f.async].find((r) => r.text.includes('waiting for the automatic run'));
    assert.ok(waiting, JSON.stringify(approved));
    assert.match(waiting.text, new RegExp(`^${id}: approved by dave; waiting for the automatic run ${autoId.slice(0, 8)} \\(auto-restart, started by rule CrashLooping\\) to stop after its current step \\(step waitRollout only waits, so it is interrupted now\\); at most 2m\\. Then rollback starts`));

    await f.waitAsync(new RegExp(`^${id}: approved by dave; running — `), 'the rollback running');
    const done = await f.waitAsync(new RegExp(`^${id} (done|failed)`));
    assert.match(done.text, new RegExp(`^${id} done: `));
    assert.equal(f.sandbox.store.get('apps/deployments', 'prod', 'web')!.spec.template.spec.containers[0].image, 'shop/web:1');

    const auto = (await f.store.getRun(autoId))!;
    assert.equal(auto.status, 'preempted');
    const transitions = await f.store.transitions(autoId);
    assert.ok(transitions.some((t) => t.stepId === 'restart' && t.status === 'succeeded'), 'the change before the wait stays done');
    const wait = transitions.filter((t) => t.stepId === 'waitRollout').at(-1)!;
    assert.equal(wait.status, 'failed');
    assert.match(wait.error!, /^CANCELLED: interrupted: pre-empted by sam's confirmed chat rollback/);
    assert.equal(transitions.filter((t) => t.stepId === 'notify').length, 0, 'no step after the boundary');

    const [preempted] = await f.store.audit.list({ action: 'runbook.run.preempted', runId: autoId });
    assert.deepEqual(preempted.actor, { type: 'user', name: 'sam' });
    assert.equal(preempted.outcome, 'failure');
    assert.match(String(preempted.data?.reason), new RegExp(`^pre-empted by sam's confirmed chat rollback \\(request ${id}\\)$`));
    assert.equal(preempted.data?.request, id);
    assert.equal((preempted.data?.user as { id: string }).id, 'U-SAM');
    const chat = (await f.store.audit.list({ action: 'chat.rollback.*' })).filter((a) => a.data?.request === id).map((a) => a.action);
    assert.deepEqual(chat.slice(-4), ['chat.rollback.approved', 'chat.rollback.preempting', 'chat.rollback.started', 'chat.rollback.executed']);
    const [p] = await f.store.audit.list({ action: 'chat.rollback.preempting' });
    assert.equal(p.data?.holderRun, autoId);
    // The person's run started after the automatic one ended.
    assert.ok((await f.store.getRun((await f.store.getChatRequest(id))!.runId!))!.createdAt >= auto.updatedAt);

    // The person took over: the detection firing again does not restart the automation against them.
    f.remediation.remediator.onDetection(detection(f, 'prod'), 'reopened');
    await until(async () => (await f.store.audit.list({ action: 'runbook.run.skipped' })).length > 0, 'the skip audited');
    const [skipped] = await f.store.audit.list({ action: 'runbook.run.skipped' });
    assert.match(String(skipped.data?.reason), /a person pre-empted the earlier run for this detection from chat: it is left to humans/);
    assert.equal((await f.store.listRuns({ runbook: 'auto-restart' })).length, 1);
    assert.equal((await f.store.audit.verify()).ok, true);
  } finally {
    await f.close();
  }
});

test('a person\'s run is never pre-empted: not by another person\'s chat action, nor by an automatic run', { timeout: 120_000 }, async () => {
  const f = await chatFixture({ runbooks: runbooks() });
  try {
    f.sandbox.store.mutate('apps/deployments', 'shop', 'web', (d) => void (d.spec.template.spec.containers[0].image = 'shop/web:2'));
    // erin runs the long remediation by hand: a person's run.
    const res = await f.remediation.executor.trigger({ runbook: 'auto-restart', params: { namespace: 'shop' }, startedBy: { type: 'user', name: 'erin' }, as: { user: 'erin' } });
    const erinRun = (res as { run: { id: string } }).run.id;
    await until(async () => (await f.store.transitions(erinRun)).some((t) => t.stepId === 'waitRollout' && t.status === 'started'), 'erin\'s run waiting');

    const id = f.idOf(await f.say('alice', `rollback deployment/web -n shop --to-revision 1 --reason "web 2 crash-loops since the deploy" --link ${LINK}`));
    const refused = await f.say('alice', `confirm ${id}`);
    assert.equal(refused[0].text, `${id}: kubemend refused to start it — another run (${erinRun}) is already acting on this target. Nothing was changed.`);
    assert.equal((await f.store.getChatRequest(id))!.status, 'failed');

    // An automatic start asking to pre-empt is refused too: only a person's action pre-empts.
    const auto = await f.remediation.executor.trigger({ runbook: 'auto-restart', params: { namespace: 'shop' }, startedBy: { type: 'rule', name: 'CrashLooping' }, preempt: { timeoutMs: 60_000, reason: 'rule' } });
    assert.deepEqual((auto as { refused: unknown }).refused, { kind: 'locked', runId: erinRun });

    assert.ok(f.remediation.executor.isActive(erinRun));
    assert.equal((await f.store.getRun(erinRun))!.status, 'running');
    assert.equal((await f.store.audit.list({ action: 'runbook.run.preempted' })).length, 0);
  } finally {
    await f.close();
  }
});

test('a change under way is left to finish; past preemptTimeout the person is refused and the automatic run goes on', { timeout: 120_000 }, async () => {
  const held: ServerResponse[] = [];
  const server = createServer((_req, res) => void held.push(res));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/deploy`;
  const f = await chatFixture({ runbooks: runbooks(), settings: { preemptTimeout: '30s' } });
  try {
    const res = await f.remediation.executor.trigger({ runbook: 'auto-call', params: { url }, startedBy: { type: 'rule', name: 'Deploy' } });
    const autoId = (res as { run: { id: string } }).run.id;
    await until(() => held.length === 1, 'the change under way');
    // One automatic run never pre-empts another.
    const rule = await f.remediation.executor.trigger({ runbook: 'auto-call', params: { url }, startedBy: { type: 'rule', name: 'Other' }, preempt: { timeoutMs: 1000, reason: 'rule' } });
    assert.deepEqual((rule as { refused: unknown }).refused, { kind: 'locked', runId: autoId });

    const id = f.idOf(await f.say('alice', `scale deployment/web -n shop --replicas 4 --reason "the sale starts now" --link ${LINK}`));
    const waiting = await f.say('alice', `confirm ${id}`);
    assert.match(waiting[0].text, new RegExp(`^${id}: waiting for the automatic run ${autoId.slice(0, 8)} \\(auto-call, started by rule Deploy\\) to stop after its current step \\(step call changes the cluster and is left to finish\\); at most 30s`));
    const gaveUp = await f.waitAsync(new RegExp(`${id}: kubemend refused`));
    assert.match(gaveUp.text, new RegExp(`^KM-CHAT-012 ${id}: kubemend refused to start it — the automatic run ${autoId} \\(auto-call\\) did not stop within \\d+s: its step call changes the cluster and is left to finish; that run goes on\\. Nothing was changed\\.$`));
    assert.equal(f.sandbox.store.get('apps/deployments', 'shop', 'web')!.spec.replicas, 3);

    // The request to stop was withdrawn: the change finishes and the run ends as it would have.
    for (const r of held.splice(0)) r.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    await until(async () => (await f.store.getRun(autoId))!.status === 'succeeded', 'the automatic run to succeed', 20_000);
    assert.equal((await f.store.audit.list({ action: 'runbook.run.preempted' })).length, 0);
    const [failed] = await f.store.audit.list({ action: 'chat.scale.failed' });
    assert.equal(failed.data?.code, 'KM-CHAT-012');
  } finally {
    for (const r of held.splice(0)) r.destroy();
    server.closeAllConnections();
    server.close();
    await f.close();
  }
});
