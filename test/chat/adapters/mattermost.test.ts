import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createApp } from '../../../src/server/app.ts';
import { escapeMattermost, mattermostText } from '../../../src/chat/adapters/mattermost/adapter.ts';
import { RefusalRecorder, type RefusalRecord } from '../../../src/common/refusals.ts';
import { ManualClock } from '../../../src/common/clock.ts';
import { FakeMattermost, mmId } from './fake-mattermost.ts';
import { ScriptedEngine, until } from './scripted-engine.ts';

const BOT_TOKEN = 'mm-bot-token-for-tests';
const CMD_TOKEN = 'nezum4kpu3faiec7r7c5zt6tfy';
const HOOK_TOKEN = 'okwexkjpe7ygb8eq1ww58t483w';
const CAROL = mmId();

async function setup() {
  const fake = new FakeMattermost(BOT_TOKEN);
  await fake.listen();
  const engine = new ScriptedEngine();
  const ops = mmId();
  fake.channels.add(ops);
  const refused: RefusalRecord[] = [];
  const server = await createApp({
    engine,
    refusals: new RefusalRecorder({ clock: new ManualClock(0), sink: (r) => refused.push(r) }),
    mattermost: {
      serverUrl: fake.url, botToken: BOT_TOKEN, commandTokens: [CMD_TOKEN, HOOK_TOKEN], publicUrl: 'http://127.0.0.1',
      users: { [CAROL]: { name: 'carol@example.com', groups: ['sre'] } }, rooms: { [ops]: 'ops' },
    },
  });
  await server.app.listen({ host: '127.0.0.1', port: 0 });
  const base = `http://127.0.0.1:${(server.app.server.address() as { port: number }).port}`;
  server.mattermost!.publicUrl = base; // button callbacks come back to this port
  const channel = mmId();
  fake.channels.add(channel);
  const alice = { id: mmId(), name: 'alice' };
  return { fake, engine, mm: server.mattermost!, base, channel, ops, alice, refused, close: async () => { await server.app.close(); await fake.close(); } };
}

test('mattermost: a slash command with a wrong token is refused; a right one reaches the engine and the reply is posted as the bot', async () => {
  const t = await setup();
  try {
    const bad = await t.fake.slash(`${t.base}/mattermost/command`, 'wrong-token', { channel_id: t.channel, user_id: t.alice.id, user_name: 'alice', text: 'help' });
    assert.equal(bad.status, 401);
    assert.equal(t.engine.received.length, 0);

    const ok = await t.fake.slash(`${t.base}/mattermost/command`, CMD_TOKEN, { channel_id: t.channel, user_id: t.alice.id, user_name: 'alice', text: 'echo hello @channel' });
    assert.equal(ok.status, 200);
    assert.deepEqual(await ok.json(), {}, 'an empty response: Mattermost posts nothing for it');
    await t.mm.idle();
    assert.deepEqual(t.engine.received[0], { adapter: 'mattermost', room: `mattermost:${t.channel}`, user: { platform: 'mattermost', id: t.alice.id, displayName: 'alice', name: `mattermost:${t.alice.id}`, groups: [], mapping: 'unmapped' }, text: 'echo hello @channel', time: t.engine.received[0].time });
    assert.equal(t.fake.posts.length, 1);
    assert.equal(t.fake.posts[0].channel_id, t.channel);
    assert.equal(t.fake.posts[0].user_id, t.fake.botUserId);
    assert.equal(t.fake.posts[0].message, 'hello @\u200bchannel', 'a reply never pages the whole channel');
  } finally {
    await t.close();
  }
});

test('mattermost: an outgoing webhook (JSON) loses its trigger word; configured users get their RBAC name', async () => {
  const t = await setup();
  try {
    const res = await t.fake.outgoing(`${t.base}/mattermost/command`, HOOK_TOKEN, { channel_id: t.channel, user_id: CAROL, user_name: 'carol', text: 'kubemend echo hi', trigger_word: 'kubemend' });
    assert.equal(res.status, 200);
    await t.mm.idle();
    assert.equal(t.engine.received[0].text, 'echo hi');
    assert.equal(t.engine.received[0].user.name, 'carol@example.com');
    assert.deepEqual(t.engine.received[0].user.groups, ['sre']);
  } finally {
    await t.close();
  }
});

test('mattermost: buttons are interactive-message actions; a press runs the value, a forged press is refused', async () => {
  const t = await setup();
  try {
    await t.fake.slash(`${t.base}/mattermost/command`, CMD_TOKEN, { channel_id: t.channel, user_id: t.alice.id, user_name: 'alice', text: 'restart deployment/web -n shop' });
    await t.mm.idle();
    const post = t.fake.posts[0];
    const actions = post.props.attachments![0].actions!;
    assert.deepEqual(actions.map((a) => [a.id, a.name, a.style, a.integration.url]), [
      ['kubemend0', 'Confirm', 'primary', `${t.base}/mattermost/actions`],
      ['kubemend1', 'Cancel', 'danger', `${t.base}/mattermost/actions`],
    ]);

    const forged = await t.fake.press(post, 'kubemend0', t.alice, { ...actions[0].integration.context, value: 'confirm r999' });
    assert.equal(forged.status, 403);
    assert.ok(((await forged.json()) as { error: { message: string } }).error.message);
    const otherChannel = mmId();
    t.fake.channels.add(otherChannel);
    const moved = await t.fake.press({ ...post, channel_id: otherChannel }, 'kubemend0', t.alice);
    assert.equal(moved.status, 403, 'a context signed for one channel is refused in another');
    assert.equal(t.engine.received.length, 1);

    const press = await t.fake.press(post, 'kubemend0', t.alice);
    assert.equal(press.status, 200);
    assert.deepEqual(await press.json(), { ephemeral_text: 'Received: confirm r1' });
    await t.mm.idle();
    assert.equal(t.engine.received[1].text, 'confirm r1');
    await until(() => t.fake.posts.find((p) => p.message === `restarted deployment/web -n shop for mattermost:${t.alice.id}`), 5000, 'async result post');
  } finally {
    await t.close();
  }
});

test('mattermost: ephemeral replies go to posts/ephemeral; a failed post is counted, not thrown', async () => {
  const t = await setup();
  try {
    await t.fake.slash(`${t.base}/mattermost/command`, CMD_TOKEN, { channel_id: t.channel, user_id: t.alice.id, user_name: 'alice', text: 'whisper psst' });
    await t.mm.idle();
    assert.equal(t.fake.posts[0].ephemeralFor, t.alice.id);
    assert.equal(t.fake.posts[0].message, 'psst');

    const unknown = mmId(); // the bot is not in this channel: the server answers 403
    await t.fake.slash(`${t.base}/mattermost/command`, CMD_TOKEN, { channel_id: unknown, user_id: t.alice.id, user_name: 'alice', text: 'echo lost' });
    await t.mm.idle();
    assert.equal(t.fake.posts.length, 1);
  } finally {
    await t.close();
  }
});

test('mattermost: a named channel is the room the policy names, both ways', async () => {
  const t = await setup();
  try {
    await t.fake.slash(`${t.base}/mattermost/command`, CMD_TOKEN, { channel_id: t.ops, user_id: t.alice.id, user_name: 'alice', text: 'help' });
    await t.mm.idle();
    assert.equal(t.engine.received[0].room, 'ops');
    t.engine.emit({ room: 'ops', text: 'run finished' });
    await t.mm.idle();
    assert.deepEqual(t.fake.posts.map((p) => [p.channel_id, p.message]).slice(-1), [[t.ops, 'run finished']]);
  } finally {
    await t.close();
  }
});

test('mattermost: mentions come first', () => {
  assert.equal(mattermostText({ room: 'mattermost:x', text: 'approve?', mention: ['sre-leads', '@bob'] }), '@sre-leads @bob approve?');
});

test('mattermost: hostile text from users or the cluster shows as text: no links, images, mentions or markup', async () => {
  const t = await setup();
  try {
    const hostile = 'see [the runbook](https://evil.example/phish) ![x](https://evil.example/track.png) @channel @all @here @bob ~town-square **urgent** `code` <https://evil.example|ok> | a | b | > quoted';
    await t.fake.slash(`${t.base}/mattermost/command`, CMD_TOKEN, { channel_id: t.channel, user_id: t.alice.id, user_name: 'alice', text: `echo ${hostile}` });
    // What the cluster says (an Event's message, a pod name) goes the same way.
    t.engine.emit({ room: 'ops', text: 'Back-off pulling image "[x](http://evil.example)" for @all\n# Approved by security', mention: ['sre-leads'] });
    await t.mm.idle();
    const [echoed, cluster] = t.fake.posts.map((p) => p.message);
    assert.equal(echoed, 'see \\[the runbook\\](https://evil.example/phish) !\\[x\\](https://evil.example/track.png) @\u200bchannel @\u200ball @\u200bhere @\u200bbob \\~town-square \\*\\*urgent\\*\\* \\`code\\` \\<https://evil.example\\|ok\\> \\| a \\| b \\| \\> quoted');
    assert.equal(cluster, '@sre-leads Back-off pulling image "\\[x\\](http://evil.example)" for @\u200ball\n\\# Approved by security', 'configured mentions stay real; the text\'s are defused');
    assert.doesNotMatch(echoed, /(^|[^\\])\[/, 'no unescaped bracket: no link, no image');
  } finally {
    await t.close();
  }
});

test('mattermost: escaping keeps ordinary text as it was', () => {
  assert.equal(escapeMattermost('restarted deployment/web -n shop for alice@example.com (revision 3): 2/3 ready'), 'restarted deployment/web -n shop for alice@example.com (revision 3): 2/3 ready');
  assert.equal(escapeMattermost('a\\b my_app'), 'a\\\\b my\\_app');
  assert.equal(escapeMattermost('(@bob) x@y'), '(@\u200bbob) x@y');
});

test('mattermost: wrong integration tokens and forged presses are audited, without the token', async () => {
  const t = await setup();
  try {
    await t.fake.slash(`${t.base}/mattermost/command`, 'guessed-token-123', { channel_id: t.channel, user_id: t.alice.id, user_name: 'alice', text: 'help' });
    await t.fake.slash(`${t.base}/mattermost/command`, CMD_TOKEN, { channel_id: t.channel, user_id: t.alice.id, user_name: 'alice', text: 'restart deployment/web' });
    await t.mm.idle();
    const post = t.fake.posts[0];
    await t.fake.press(post, 'kubemend0', t.alice, { ...post.props.attachments![0].actions![0].integration.context, value: 'confirm r999' });
    assert.deepEqual(t.refused.map((r) => [r.action, r.route, r.reason, r.status]), [
      ['chat.request.refused', '/mattermost/command', 'bad_token', 401],
      ['chat.request.refused', '/mattermost/actions', 'bad_action', 403],
    ]);
    assert.ok(!JSON.stringify(t.refused).includes('guessed-token-123'));
  } finally {
    await t.close();
  }
});
