// Every refusal leaves an audit record, including those that never become a
// request: a command that does not parse, an unknown cluster, a limit, and
// someone other than the requester trying to confirm or cancel. Each names
// who tried (platform identity), from where, what, and the error code.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chatFixture, LINK } from './fixture.ts';

test('refusals are audited: bad grammar, unknown cluster, a limit, confirm and cancel by someone else', async () => {
  const f = await chatFixture({ settings: { maxReplicas: 10, justification: { tickets: { [LINK]: 'Approved' } } } });
  try {
    const typo = await f.say('alice', 'scale deployment/web -n shop --replicas lots');
    assert.match(typo[0].text, /^KM-CHAT-006 /);
    const unknown = await f.say('alice', 'status deployment/web -n shop --cluster mars');
    assert.match(unknown[0].text, /^KM-CHAT-005 unknown cluster "mars"/);
    const big = await f.say('alice', `scale deployment/web -n shop --replicas 500 --reason "load test for the sale" --link ${LINK}`);
    assert.equal(big[0].text, 'KM-CHAT-010 --replicas 500 is above the limit of 10 set for chat; nothing was requested.');
    assert.equal((await f.store.listChatRequests({})).length, 0, 'none of them became a request');

    const invalid = (await f.store.audit.list({ action: 'chat.command.invalid' }))[0];
    assert.equal(invalid.data?.command, 'scale deployment/web -n shop --replicas lots');
    assert.equal(invalid.data?.code, 'KM-CHAT-006');
    assert.equal((invalid.data?.user as { id: string }).id, 'U-ALICE');
    const [cluster] = await f.store.audit.list({ action: 'chat.status.refused' });
    const [limit] = await f.store.audit.list({ action: 'chat.scale.refused' });
    assert.deepEqual([cluster.action, cluster.data?.code, cluster.target?.cluster], ['chat.status.refused', 'KM-CHAT-005', 'mars']);
    assert.deepEqual([limit.action, limit.data?.code, limit.data?.limit, limit.outcome], ['chat.scale.refused', 'KM-CHAT-010', 'maxReplicas', 'denied']);

    const id = f.idOf(await f.say('alice', `restart deployment/web -n shop --reason "pods hold a stale config map" --link ${LINK}`));
    for (const verb of ['confirm', 'cancel']) {
      const r = await f.say('mallory', `${verb} ${id}`, 'random');
      assert.match(r[0].text, new RegExp(`^KM-CHAT-011 Only alice \\(test:U-ALICE\\), who asked, can ${verb} ${id}\\.`));
    }
    assert.equal((await f.store.getChatRequest(id))!.status, 'awaiting-confirmation', 'still waiting for alice');
    const others = (await f.store.audit.list({ action: 'chat.restart.refused' })).filter((a) => a.data?.request === id);
    assert.deepEqual(others.map((a) => [a.actor.name, a.data?.attempted, a.data?.from, (a.data?.user as { id: string }).id]), [['mallory', 'confirm', 'random', 'U-MAL'], ['mallory', 'cancel', 'random', 'U-MAL']]);
    assert.equal((await f.store.audit.verify()).ok, true);
  } finally {
    await f.close();
  }
});
