// `cancel` tells the truth. A waiting request has run nothing; a running one
// stops at its next step boundary — the step under way (here the scale,
// waiting to retry after an injected 500) finishes untouched, the next one
// never starts — and the replies say which steps ran and which did not. The
// run ends cancelled, audited with who cancelled it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chatFixture, LINK, until } from './fixture.ts';

test('cancel on a running request stops it at the next step and says what ran and what did not', { timeout: 120_000 }, async () => {
  // Real time: the scale step's 2s retry back-off is the window in which the cancel arrives.
  const f = await chatFixture({ speed: 1 });
  try {
    const id = f.idOf(await f.say('alice', `scale deployment/web -n shop --replicas 5 --reason "load test for the sale" --link ${LINK}`));
    f.sandbox.faults.add({ verb: 'patch', resource: 'apps/deployments/scale', namespace: 'shop', name: 'web', code: 500, times: 1 });
    const running = await f.say('alice', `confirm ${id}`);
    assert.match(running[0].text, new RegExp(`^${id}: running`));
    const runId = (await f.store.getChatRequest(id))!.runId!;
    await until(async () => (await f.store.transitions(runId)).some((t) => t.stepId === 'scale' && t.status === 'failed'), 'the first scale attempt to fail');

    const stopping = await f.say('alice', `cancel ${id}`);
    assert.match(stopping[0].text, new RegExp(`^${id}: stopping run ${runId.slice(0, 8)} at its next step\\. Already done: nothing; under way, and left to finish: scale; will not start: waitRollout\\. Nothing that ran is undone`));
    const ended = await f.waitAsync(new RegExp(`^${id} stopped`));
    assert.match(ended.text, new RegExp(`^${id} stopped at alice's request before its end: ran scale \\(succeeded\\); did not run: waitRollout\\. What ran stays as it is: nothing was rolled back`));
    assert.ok(!f.async.some((r) => new RegExp(`^${id} done`).test(r.text)), 'never reported as done');

    assert.equal(f.sandbox.store.get('apps/deployments', 'shop', 'web')!.spec.replicas, 5, 'the step under way was not cut off');
    const run = (await f.store.getRun(runId))!;
    assert.equal(run.status, 'cancelled');
    assert.equal((await f.store.transitions(runId)).filter((t) => t.stepId === 'waitRollout').length, 0, 'the next step never started');
    assert.equal((await f.store.getChatRequest(id))!.status, 'cancelled');

    const [cancelled] = await f.store.audit.list({ action: 'runbook.run.cancelled', runId });
    assert.deepEqual(cancelled.actor, { type: 'user', name: 'alice' });
    assert.equal(cancelled.data?.stoppedAt, 'waitRollout');
    assert.equal((cancelled.data?.user as { id: string }).id, 'U-ALICE');
    const chat = (await f.store.audit.list({ action: 'chat.scale.*' })).filter((a) => a.data?.request === id).map((a) => a.action);
    assert.deepEqual(chat.slice(-3), ['chat.scale.started', 'chat.scale.stop-requested', 'chat.scale.cancelled']);
    const last = (await f.store.audit.list({ action: 'chat.scale.cancelled' })).at(-1)!;
    assert.deepEqual([last.data?.ran, last.data?.notRun], [[{ step: 'scale', status: 'succeeded' }], ['waitRollout']]);
    assert.match((await f.say('alice', `cancel ${id}`))[0].text, new RegExp(`${id} is cancelled; it cannot be cancelled now`));
  } finally {
    await f.close();
  }
});
