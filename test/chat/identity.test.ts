// Chat identities are `platform:user-id`, mapped explicitly to policy
// subjects: a Mattermost username is chosen by its user, so naming yourself
// after an approver gives you nothing; unmapped users are refused (and
// audited) or get only the guest role; four-eyes compares platform
// identities, mapped subjects and devices, never display names, and holds
// when every message carries a freshly built user object, as adapters send.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createApp } from '../../src/server/app.ts';
import { mapIdentity, samePerson } from '../../src/chat/identity.ts';
import type { ChatUser } from '../../src/chat/types.ts';
import { FakeMattermost, mmId } from './adapters/fake-mattermost.ts';
import { chatFixture, LINK } from './fixture.ts';

const ASK = `scale deployment/web -n prod --replicas 4 --reason "black friday traffic is ramping up" --link ${LINK}`;
const BOT = 'mm-bot-token-for-identity-tests';
const CMD = 'identitytestcommandtoken00';

test('an unmapped Mattermost user named after an approver is refused and audited; the mapped approver (by id) approves, audited with their platform id', { timeout: 120_000 }, async () => {
  const f = await chatFixture();
  const fake = new FakeMattermost(BOT);
  await fake.listen();
  const approvals = mmId();
  fake.channels.add(approvals);
  const daveId = mmId();
  const server = await createApp({
    engine: f.engine,
    mattermost: { serverUrl: fake.url, botToken: BOT, commandTokens: [CMD], publicUrl: 'http://127.0.0.1', rooms: { [approvals]: 'approvals' }, users: { [daveId]: { name: 'dave', groups: ['sre'] } } },
  });
  await server.app.listen({ host: '127.0.0.1', port: 0 });
  const base = `http://127.0.0.1:${(server.app.server.address() as { port: number }).port}`;
  try {
    const id = f.idOf(await f.say('sam', ASK));
    await f.say('sam', `confirm ${id}`);
    assert.equal((await f.store.getChatRequest(id))!.status, 'awaiting-approval');

    // The policy's `g, dave, group:sre-leads` must not reach someone who only calls themselves dave.
    const impostor = mmId();
    await fake.slash(`${base}/mattermost/command`, CMD, { channel_id: approvals, user_id: impostor, user_name: 'dave', text: `approve ${id}` });
    await server.mattermost!.idle();
    const refusal = fake.posts.at(-1)!;
    assert.equal(refusal.ephemeralFor, impostor);
    assert.match(refusal.message, new RegExp(`^KM-CHAT-009 mattermost:${impostor} \\(shown as dave\\) is not mapped to a kubemend identity`));
    assert.match(refusal.message, new RegExp(`under server\\.mattermost\\.users in kubemend's config, add\\n {2}${impostor}: \\{ name: `));
    assert.equal((await f.store.getChatRequest(id))!.status, 'awaiting-approval', 'the impostor changed nothing');
    const refused = (await f.store.audit.list({ action: 'chat.identity.refused' }))[0];
    assert.deepEqual(refused.actor, { type: 'user', name: `mattermost:${impostor}` });
    assert.deepEqual(refused.data?.user, { platform: 'mattermost', id: impostor, displayName: 'dave', subject: `mattermost:${impostor}`, mapping: 'unmapped' });
    assert.equal(refused.data?.command, `approve ${id}`);
    assert.equal(refused.outcome, 'denied');

    await fake.slash(`${base}/mattermost/command`, CMD, { channel_id: approvals, user_id: daveId, user_name: 'dave', text: `approve ${id}` });
    await server.mattermost!.idle();
    await f.waitAsync(new RegExp(`^${id} (done|failed)`));
    const approved = (await f.store.audit.list({ action: 'chat.scale.approved' }))[0];
    assert.deepEqual(approved.actor, { type: 'user', name: 'dave' });
    assert.equal(approved.data?.adapter, 'test', 'the request came from another platform…');
    assert.deepEqual(approved.data?.user, { platform: 'mattermost', id: daveId, displayName: 'dave', subject: 'dave', mapping: 'mapped', groups: ['sre'] }, '…the approval names the approver\'s own');
    assert.equal((approved.data?.requester as { id: string }).id, 'U-SAM');
  } finally {
    await server.app.close();
    await fake.close();
    await f.close();
  }
});

test('four-eyes with a fresh user object per message, as adapters build them: the requester, or the same subject on another platform, cannot approve', { timeout: 120_000 }, async () => {
  const f = await chatFixture();
  const users = { U0SAM: { name: 'sam', groups: ['sre', 'sre-leads'] }, U0DAVE: { name: 'dave', groups: ['sre'] } };
  const slack = (id: string): ChatUser => mapIdentity({ platform: 'slack', id, users });
  try {
    const id = f.idOf(await f.say(slack('U0SAM'), ASK));
    await f.say(slack('U0SAM'), `confirm ${id}`);
    const self = await f.say(slack('U0SAM'), `approve ${id}`, 'approvals');
    assert.match(self[0].text, new RegExp(`^KM-CHAT-003 ${id}: you asked for it, so someone else in sre-leads must approve it \\(four-eyes\\)`));
    const console: ChatUser = { platform: 'console', id: 'sam', displayName: 'sam', name: 'sam', groups: ['sre-leads'], mapping: 'mapped' };
    const twin = await f.say(console, `approve ${id}`, 'approvals');
    assert.match(twin[0].text, new RegExp(`^KM-CHAT-003 ${id}: sam \\(console:sam\\) may be the same person as sam \\(slack:U0SAM\\), who asked for it`));
    assert.equal((await f.store.getChatRequest(id))!.status, 'awaiting-approval');
    const ok = await f.say(slack('U0DAVE'), `approve ${id}`, 'approvals');
    assert.match(ok.map((r) => r.text).join('\n'), new RegExp(`${id}: approved by dave; running`));
    await f.waitAsync(new RegExp(`^${id} (done|failed)`));
  } finally {
    await f.close();
  }
});

test('a guest acts as platform:id with only the guest groups, and never approves', { timeout: 120_000 }, async () => {
  const f = await chatFixture({ policy: 'p, group:visitors, sandbox, shop, ops, status\np, group:sre-leads, sandbox, prod, approvals, approve\np, group:sre, sandbox, *, ops, *\n' });
  const guest = (id: string) => mapIdentity({ platform: 'slack', id, displayName: 'sam', users: {}, guest: { groups: ['visitors', 'sre-leads'] } });
  try {
    assert.deepEqual(guest('U0VISIT'), { platform: 'slack', id: 'U0VISIT', displayName: 'sam', name: 'slack:U0VISIT', groups: ['visitors', 'sre-leads'], mapping: 'guest' });
    const looked = await f.say(guest('U0VISIT'), `status deployment/web -n shop --reason "checking the shop after the deploy" --link ${LINK}`);
    assert.match(looked[0].text, /^deployment shop\/web on cluster sandbox: 3\/3 ready/);
    const acted = await f.say(guest('U0VISIT'), `restart deployment/web -n shop --reason "checking the shop after the deploy" --link ${LINK}`);
    assert.match(acted[0].text, /KM-CHAT-001 [a-z2-9]{6}: not allowed — slack:U0VISIT \(groups: visitors, sre-leads\) may not restart/);

    const id = f.idOf(await f.say('sam', ASK));
    await f.say('sam', `confirm ${id}`);
    const r = await f.say(guest('U0VISIT'), `approve ${id}`, 'approvals');
    assert.match(r[0].text, new RegExp(`^KM-CHAT-003 ${id}: slack:U0VISIT \\(shown as sam\\) is a guest; only users mapped to a name in kubemend's config can approve`));
    assert.equal((await f.store.getChatRequest(id))!.status, 'awaiting-approval');
  } finally {
    await f.close();
  }
});

test('mapping is by own keys only; the same person is recognised by identity, subject or device, never by display name', () => {
  assert.equal(mapIdentity({ platform: 'mattermost', id: 'constructor', users: {} }).mapping, 'unmapped');
  assert.equal(mapIdentity({ platform: 'mattermost', id: '__proto__', users: {} }).name, 'mattermost:__proto__');
  const a: ChatUser = { platform: 'slack', id: 'U1', displayName: 'bob', name: 'slack:U1', mapping: 'guest' };
  const b: ChatUser = { platform: 'mattermost', id: 'x', displayName: 'bob', name: 'mattermost:x', mapping: 'guest' };
  assert.equal(samePerson(a, b), false, 'display names decide nothing');
  assert.equal(samePerson({ ...a, session: 'terminal:ann@h' }, { ...b, session: 'terminal:ann@h' }), true, 'one device');
  assert.equal(samePerson({ ...a, name: 'bob', mapping: 'mapped' }, { ...b, name: 'bob', mapping: 'mapped' }), true, 'one subject');
  assert.equal(samePerson({ ...a, name: 'bob', mapping: 'guest' }, { ...b, name: 'bob', mapping: 'guest' }), false);
});
