// Production (namespace prod in the fixture) needs a second person: after
// the requester confirms, an approver — in an approver group, allowed by the
// policy to approve from that room, and never the requester — approves or
// denies within the time limit. The run then acts as the requester.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chatFixture, LINK } from './fixture.ts';

const ASK = `scale deployment/web -n prod --replicas 4 --reason "black friday traffic is ramping up" --link ${LINK}`;

test('four-eyes: the requester cannot approve, non-approvers cannot, an approver from an allowed room can; the run acts as the requester', async () => {
  const f = await chatFixture();
  try {
    const shown = await f.say('sam', ASK);
    const id = f.idOf(shown);
    assert.match(shown[0].text, /This is production: after you confirm, an approver \(sre-leads\) other than you must approve it\./);
    const asked = await f.say('sam', `confirm ${id}`);
    assert.equal(asked.length, 2, 'in the requester\'s room and in the approval room');
    assert.match(asked[0].text, new RegExp(`^${id} needs approval: sam asks to scale deployment prod/web from 2 to 4 on cluster sandbox`));
    assert.deepEqual(asked[0].mention, ['sre-leads']);
    assert.deepEqual(asked[0].buttons?.map((b) => b.value), [`approve ${id}`, `deny ${id}`]);
    assert.equal(asked[1].room, 'approvals');
    assert.equal((await f.store.getChatRequest(id))!.status, 'awaiting-approval');

    const self = await f.say('sam', `approve ${id}`);
    assert.match(self[0].text, new RegExp(`^KM-CHAT-003 ${id}: you asked for it, so someone else in sre-leads must approve it \\(four-eyes\\)`));
    const outsider = await f.say('erin', `approve ${id}`);
    assert.match(outsider[0].text, /erin is not in an approver group \(sre-leads\)/);
    const wrongRoom = await f.say('dave', `approve ${id}`, 'random');
    assert.match(wrongRoom[0].text, /dave \(groups: sre\) may not approve in namespace prod on cluster sandbox from room random; ask from approvals, ops/);
    assert.equal(f.sandbox.store.get('apps/deployments', 'prod', 'web')!.spec.replicas, 2, 'still unchanged');
    assert.equal((await f.store.getChatRequest(id))!.status, 'awaiting-approval', 'refused attempts leave it waiting');

    const mark = f.sandbox.api!.requestLog.length;
    const ok = await f.say('dave', `approve ${id} go ahead`, 'approvals');
    assert.match(ok[0].text, new RegExp(`${id} approved; the result will be posted in ops`));
    assert.match(ok[1].text, new RegExp(`^${id}: approved by dave; running — scale deployment prod/web from 2 to 4`));
    assert.equal(ok[1].room, 'ops');
    const done = await f.waitAsync(new RegExp(`^${id} (done|failed)`));
    assert.match(done.text, /requested by sam, approved by dave/);
    assert.equal(f.sandbox.store.get('apps/deployments', 'prod', 'web')!.spec.replicas, 4);
    const writes = f.sandbox.api!.requestLog.slice(mark).filter((e) => e.method !== 'GET' && e.namespace === 'prod');
    assert.ok(writes.length > 0);
    assert.deepEqual([...new Set(writes.map((e) => e.user))], ['sam'], 'Kubernetes sees the requester, whose RBAC applies');

    const rec = (await f.store.getChatRequest(id))!;
    assert.equal(rec.status, 'executed');
    assert.deepEqual(rec.approvals.map((a) => [a.user, a.decision, a.comment]), [['dave', 'approve', 'go ahead']]);
    const audit = (await f.store.audit.list({ action: 'chat.scale.*' })).filter((a) => a.data?.request === id);
    assert.deepEqual(audit.map((a) => `${a.action} ${a.actor.name}`), [
      'chat.scale.requested sam', 'chat.scale.authorized sam', 'chat.scale.justified sam', 'chat.scale.confirmed sam',
      'chat.scale.approval-requested sam', 'chat.scale.approval-refused sam', 'chat.scale.approval-refused erin', 'chat.scale.approval-refused dave',
      'chat.scale.approved dave', 'chat.scale.started sam', 'chat.scale.executed sam',
    ]);
    assert.ok(audit.every((a) => a.data?.production === true));
    assert.equal((await f.store.audit.verify()).ok, true);
  } finally {
    await f.close();
  }
});

test('an approver denies: nothing changes, the requester is told in their room', async () => {
  const f = await chatFixture();
  try {
    const id = f.idOf(await f.say('sam', ASK));
    const early = await f.say('dave', `approve ${id}`, 'approvals');
    assert.match(early[0].text, new RegExp(`${id} is awaiting-confirmation; there is nothing to approve`));
    await f.say('sam', `confirm ${id}`);
    const denied = await f.say('dave', `deny ${id} not during the change freeze`, 'approvals');
    assert.equal(denied[0].text, `${id} denied by dave: not during the change freeze. Nothing was changed.`);
    assert.equal(denied[1].room, 'ops');
    const rec = (await f.store.getChatRequest(id))!;
    assert.equal(rec.status, 'denied');
    assert.deepEqual(rec.approvals.map((a) => [a.user, a.decision]), [['dave', 'deny']]);
    assert.equal(rec.runId, undefined);
    const rejected = (await f.store.audit.list({ action: 'chat.scale.rejected' }))[0];
    assert.deepEqual(rejected.actor, { type: 'user', name: 'dave' });
    assert.equal(rejected.data?.reason, 'not during the change freeze');
    assert.match((await f.say('dave', `approve ${id}`, 'approvals'))[0].text, new RegExp(`${id} is denied; it cannot be approved now`));
    assert.equal(f.sandbox.store.get('apps/deployments', 'prod', 'web')!.spec.replicas, 2);
  } finally {
    await f.close();
  }
});

test('no approver in time: the request expires in cluster time and can no longer be approved', async () => {
  const f = await chatFixture({ settings: { approval: { groups: ['sre-leads'], timeout: '3m', room: 'approvals' } } });
  try {
    const id = f.idOf(await f.say('sam', ASK));
    const asked = await f.say('sam', `confirm ${id}`);
    assert.match(asked[0].text, /within 3m: approve/);
    await f.waitAsync(new RegExp(`^KM-CHAT-004 ${id} expired: it waited for an approval and got none in time`), 'approval time-out');
    assert.equal((await f.store.getChatRequest(id))!.status, 'expired');
    const late = await f.say('dave', `approve ${id}`, 'approvals');
    assert.match(late[0].text, new RegExp(`${id} is expired \\(KM-CHAT-004\\): ask again; it cannot be approved now`));
    assert.equal(f.sandbox.store.get('apps/deployments', 'prod', 'web')!.spec.replicas, 2);
    const expired = (await f.store.audit.list({ action: 'chat.scale.expired' }))[0];
    assert.equal(expired.data?.reason, 'no approval in time');
  } finally {
    await f.close();
  }
});

test('a namespace its labels mark production needs four-eyes too, though the chat config does not list it', { timeout: 60_000 }, async () => {
  const f = await chatFixture();
  try {
    const label = (env: string) => f.sandbox.store.mutate('namespaces', undefined, 'shop', (n) => void (n.metadata.labels = { ...n.metadata.labels, 'kubemend.dev/environment': env }));
    label('production');
    const shown = await f.say('sam', `scale deployment/web -n shop --replicas 4 --reason "black friday traffic is ramping up" --link ${LINK}`);
    assert.match(shown[0].text, /This is production: after you confirm, an approver \(sre-leads\) other than you must approve it\./);
    label('staging');
    const staging = await f.say('sam', `scale deployment/web -n shop --replicas 3 --reason "black friday traffic is ramping up" --link ${LINK}`);
    assert.doesNotMatch(staging[0].text, /This is production/);
  } finally {
    await f.close();
  }
});
