import { test } from 'node:test';
import assert from 'node:assert/strict';
import { register } from 'prom-client';
import { createApp } from '../../../src/server/app.ts';
import { slackSignature, verifySlackRequest } from '../../../src/chat/adapters/slack/verify.ts';
import { slackTextToPlain } from '../../../src/chat/adapters/slack/format.ts';
import { FakeSlack, slackHeaders, validBlocks } from './fake-slack.ts';
import { ScriptedEngine, until } from './scripted-engine.ts';
import { RefusalRecorder, type RefusalRecord } from '../../../src/common/refusals.ts';
import { realClock } from '../../../src/common/clock.ts';

const SECRET = 'slack-signing-secret-for-tests';
const TOKEN = 'xoxb-test-bot-token';
const FORM = 'application/x-www-form-urlencoded';
const JSON_TYPE = 'application/json';

async function setup() {
  const fake = new FakeSlack(TOKEN);
  await fake.listen();
  const engine = new ScriptedEngine();
  const refused: RefusalRecord[] = [];
  const server = await createApp({
    engine,
    refusals: new RefusalRecorder({ clock: realClock, sink: (r) => refused.push(r) }),
    slack: { signingSecret: SECRET, botToken: TOKEN, slackApiUrl: `${fake.url}/api/`, retryConfig: { retries: 0 }, rooms: { C0OPS: 'ops' }, users: { U0ALICE: { name: 'alice@example.com', groups: ['sre'] } } },
  });
  await server.app.listen({ host: '127.0.0.1', port: 0 });
  const base = `http://127.0.0.1:${(server.app.server.address() as { port: number }).port}`;
  const slack = server.slack!;
  const send = (path: string, body: string, type: string, headers: Record<string, string> = {}, timestamp?: number) =>
    fetch(`${base}${path}`, { method: 'POST', body, headers: { ...slackHeaders(SECRET, body, type, timestamp), ...headers } });
  const event = (id: string, ev: Record<string, unknown>) => JSON.stringify({ token: 'legacy', team_id: 'T0TEAM', api_app_id: 'A0APP', type: 'event_callback', event_id: id, event_time: 1700000000, event: ev });
  const close = async () => { await server.app.close(); await fake.close(); };
  return { fake, engine, slack, base, send, event, close, refused };
}

function form(fields: Record<string, string>): string {
  return new URLSearchParams(fields).toString();
}

test('slack-verify: the example from Slack\'s "Verifying requests" guide', () => {
  const body = 'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c';
  const expected = 'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503';
  assert.equal(slackSignature('8f742231b10e8888abcd99yyyzzz85a5', '1531420618', body), expected);
  const at = (s: number) => verifySlackRequest({ signingSecret: '8f742231b10e8888abcd99yyyzzz85a5', rawBody: Buffer.from(body), timestamp: '1531420618', signature: expected, now: s * 1000 });
  assert.deepEqual(at(1531420618 + 60), { ok: true });
  assert.deepEqual(at(1531420618 + 300), { ok: true });
  assert.equal(at(1531420618 + 301).ok, false, 'older than five minutes');
  assert.equal(at(1531420618 - 301).ok, false, 'from the future');
  const bad = verifySlackRequest({ signingSecret: 'other', rawBody: body, timestamp: '1531420618', signature: expected, now: 1531420618000 });
  assert.match((bad as { reason: string }).reason, /does not match/);
  assert.equal(verifySlackRequest({ signingSecret: 's', rawBody: body, timestamp: '1531420618', signature: 'v0=short', now: 1531420618000 }).ok, false);
  assert.match((verifySlackRequest({ signingSecret: 's', rawBody: body, timestamp: undefined, signature: expected, now: 0 }) as { reason: string }).reason, /Timestamp/);
});

test('slack: unsigned, stale, or tampered requests are refused before the engine sees them', async () => {
  const t = await setup();
  try {
    const body = t.event('Ev1', { type: 'app_mention', user: 'U0ALICE', text: '<@U0BOT> help', ts: '1700000000.000001', channel: 'C0OPS' });
    const before = (await register.getSingleMetric('kubemend_chat_adapter_errors_total')!.get()).values.find((v) => v.labels.adapter === 'slack' && v.labels.reason === 'bad_signature')?.value ?? 0;
    const noSig = await fetch(`${t.base}/slack/events`, { method: 'POST', body, headers: { 'content-type': JSON_TYPE } });
    assert.equal(noSig.status, 401);
    const stale = await t.send('/slack/events', body, JSON_TYPE, {}, Math.floor(Date.now() / 1000) - 301);
    assert.equal(stale.status, 401);
    assert.match(((await stale.json()) as { error: string }).error, /5 minutes/);
    const tampered = await fetch(`${t.base}/slack/events`, { method: 'POST', body: body.replace('help', 'restart x'), headers: slackHeaders(SECRET, body, JSON_TYPE) });
    assert.equal(tampered.status, 401);
    const wrongSecret = await fetch(`${t.base}/slack/commands`, { method: 'POST', body: 'text=help', headers: slackHeaders('not-the-secret', 'text=help', FORM) });
    assert.equal(wrongSecret.status, 401);
    assert.equal(t.engine.received.length, 0);
    const after = (await register.getSingleMetric('kubemend_chat_adapter_errors_total')!.get()).values.find((v) => v.labels.adapter === 'slack' && v.labels.reason === 'bad_signature')!.value;
    assert.equal(after - before, 4);
    assert.deepEqual(t.refused.map((r) => [r.action, r.route, r.reason, r.status]), [
      ['chat.request.refused', '/slack/events', 'bad_signature', 401],
      ['chat.request.refused', '/slack/events', 'bad_signature', 401],
      ['chat.request.refused', '/slack/events', 'bad_signature', 401],
      ['chat.request.refused', '/slack/commands', 'bad_signature', 401],
    ]);
    assert.match(t.refused[0].detail!, /missing X-Slack-Request-Timestamp/);
    assert.match(t.refused[1].detail!, /5 minutes/);
    assert.ok(!JSON.stringify(t.refused).includes(SECRET));
  } finally {
    await t.close();
  }
});

test('slack: url_verification answers the challenge', async () => {
  const t = await setup();
  try {
    const res = await t.send('/slack/events', JSON.stringify({ token: 'x', challenge: '3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P', type: 'url_verification' }), JSON_TYPE);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { challenge: '3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P' });
  } finally {
    await t.close();
  }
});

test('slack: an app mention reaches the engine once, even when Slack retries it; the reply goes to the thread', async () => {
  const t = await setup();
  try {
    const body = t.event('Ev0MENTION', { type: 'app_mention', user: 'U0ALICE', text: '<@U0BOT> echo see <https://grafana.example.com/d/1|the dashboard> &amp; more', ts: '1700000000.000001', channel: 'C0OPS', event_ts: '1700000000.000001' });
    const first = await t.send('/slack/events', body, JSON_TYPE);
    assert.equal(first.status, 200);
    // Slack's retry is a new request (three seconds later at the earliest), signed anew.
    const retry = await t.send('/slack/events', body, JSON_TYPE, { 'x-slack-retry-num': '1', 'x-slack-retry-reason': 'http_timeout' }, Math.floor(Date.now() / 1000) + 3);
    assert.equal(retry.status, 200);
    await t.slack.idle();
    assert.equal(t.engine.received.length, 1, 'a retried event is not handled twice');
    const msg = t.engine.received[0];
    assert.equal(msg.adapter, 'slack');
    assert.equal(msg.room, 'ops', 'a named channel is the room RBAC policies name');
    assert.deepEqual(msg.user, { platform: 'slack', id: 'U0ALICE', name: 'alice@example.com', groups: ['sre'], mapping: 'mapped' });
    assert.equal(msg.text, 'echo see https://grafana.example.com/d/1 & more');
    assert.equal(msg.thread, '1700000000.000001');
    const [post] = t.fake.callsTo('chat.postMessage');
    assert.equal(post.contentType, FORM, '@slack/web-api sends form-encoded arguments');
    assert.equal(post.args.channel, 'C0OPS');
    assert.equal(post.args.thread_ts, '1700000000.000001');
    assert.equal(post.args.text, 'see https://grafana.example.com/d/1 &amp; more', 'reply text is escaped for mrkdwn');
  } finally {
    await t.close();
  }
});

test('slack: direct messages are handled; bot messages, edits and plain channel messages are not', async () => {
  const t = await setup();
  try {
    await t.send('/slack/events', t.event('Ev1', { type: 'message', channel_type: 'im', user: 'U0BOB', text: 'help', ts: '1700000000.000002', channel: 'D0BOB' }), JSON_TYPE);
    await t.send('/slack/events', t.event('Ev2', { type: 'message', channel_type: 'im', bot_id: 'B1', user: 'U0BOT', text: 'help', ts: '1700000000.000003', channel: 'D0BOB' }), JSON_TYPE);
    await t.send('/slack/events', t.event('Ev3', { type: 'message', subtype: 'message_changed', channel_type: 'im', channel: 'D0BOB', ts: '1700000000.000004' }), JSON_TYPE);
    await t.send('/slack/events', t.event('Ev4', { type: 'message', channel_type: 'channel', user: 'U0BOB', text: 'help', ts: '1700000000.000005', channel: 'C0OPS' }), JSON_TYPE);
    await t.slack.idle();
    assert.equal(t.engine.received.length, 1);
    assert.deepEqual(t.engine.received[0].user, { platform: 'slack', id: 'U0BOB', name: 'slack:U0BOB', groups: [], mapping: 'unmapped' });
    assert.equal(t.engine.received[0].thread, undefined);
    assert.equal(t.engine.received[0].room, 'slack:D0BOB', 'a channel without a name is slack:<id>');
    assert.equal(t.fake.callsTo('chat.postMessage')[0].args.channel, 'D0BOB');
  } finally {
    await t.close();
  }
});

test('slack: slash command → buttons → press → the buttons are removed and the async result is posted', async () => {
  const t = await setup();
  try {
    const cmd = form({ token: 'legacy', team_id: 'T0TEAM', team_domain: 'acme', channel_id: 'C0OPS', channel_name: 'ops', user_id: 'U0ALICE', user_name: 'alice', command: '/kubemend', text: 'restart deployment/web -n shop', api_app_id: 'A0APP', response_url: `${t.fake.url}/response/cmd1`, trigger_id: '1.2.3' });
    const ack = await t.send('/slack/commands', cmd, FORM);
    assert.equal(ack.status, 200);
    assert.equal(await ack.text(), '', 'acknowledged with an empty 200: the replies come as bot messages');
    await t.slack.idle();
    assert.equal(t.engine.received[0].text, 'restart deployment/web -n shop');
    const [post] = t.fake.callsTo('chat.postMessage');
    const blocks = JSON.parse(post.args.blocks as string);
    assert.ok(validBlocks(blocks));
    const actions = blocks.find((b: { type: string }) => b.type === 'actions');
    assert.deepEqual(actions.elements.map((e: { text: { text: string }; value: string; style: string }) => [e.text.text, e.value, e.style]), [['Confirm', 'confirm r1', 'primary'], ['Cancel', 'cancel r1', 'danger']]);

    const payload = {
      type: 'block_actions', user: { id: 'U0ALICE', username: 'alice', team_id: 'T0TEAM' }, api_app_id: 'A0APP', token: 'legacy', trigger_id: '4.5.6',
      team: { id: 'T0TEAM', domain: 'acme' }, channel: { id: 'C0OPS', name: 'ops' },
      container: { type: 'message', message_ts: '1700000000.000100', channel_id: 'C0OPS', is_ephemeral: false },
      message: { type: 'message', ts: '1700000000.000100', text: post.args.text, blocks },
      response_url: `${t.fake.url}/response/press1`,
      actions: [{ type: 'button', action_id: actions.elements[0].action_id, block_id: actions.block_id, text: { type: 'plain_text', text: 'Confirm' }, value: 'confirm r1', action_ts: '1700000001.000200' }],
    };
    const body = form({ payload: JSON.stringify(payload) });
    assert.equal((await t.send('/slack/interactions', body, FORM)).status, 200);
    assert.equal((await t.send('/slack/interactions', body, FORM, {}, Math.floor(Date.now() / 1000) + 3)).status, 200, 'a repeated delivery is acknowledged');
    await t.slack.idle();
    assert.deepEqual(t.engine.received.map((m) => m.text), ['restart deployment/web -n shop', 'confirm r1']);
    const [update] = t.fake.callsTo('chat.update');
    assert.equal(update.args.ts, '1700000000.000100');
    const updated = JSON.parse(update.args.blocks as string);
    assert.ok(validBlocks(updated));
    assert.ok(!updated.some((b: { type: string }) => b.type === 'actions'), 'buttons removed');
    assert.match(JSON.stringify(updated), /<@U0ALICE> chose \*Confirm\*/);
    await until(() => t.fake.callsTo('chat.postMessage').find((c) => c.args.text === 'restarted deployment/web -n shop for alice@example.com'), 5000, 'async result');
  } finally {
    await t.close();
  }
});

test('slack: ephemeral replies use chat.postEphemeral; a channel the bot is not in falls back to response_url', async () => {
  const t = await setup();
  try {
    await t.send('/slack/commands', form({ channel_id: 'C0OPS', user_id: 'U0ALICE', command: '/kubemend', text: 'whisper only you', response_url: `${t.fake.url}/response/a` }), FORM);
    await t.slack.idle();
    const [eph] = t.fake.callsTo('chat.postEphemeral');
    assert.equal(eph.args.user, 'U0ALICE');
    assert.equal(eph.args.text, 'only you');

    t.fake.notInChannel.add('C0PRIVATE');
    await t.send('/slack/commands', form({ channel_id: 'C0PRIVATE', user_id: 'U0ALICE', command: '/kubemend', text: 'echo hi', response_url: `${t.fake.url}/response/b` }), FORM);
    await t.slack.idle();
    assert.deepEqual(t.fake.responses, [{ id: 'b', body: { response_type: 'in_channel', replace_original: false, text: 'hi' } }]);
  } finally {
    await t.close();
  }
});

test('slack: reply text cannot forge mentions or links; configured mentions render as Slack mentions', async () => {
  const t = await setup();
  try {
    t.engine.emit({ room: 'ops', text: '<!channel> <@U0ROOT> <https://evil.example|click> @here &lt;!everyone&gt;', mention: ['U0BOB', 'S0SRE', 'oncall'] });
    await t.slack.idle();
    const [post] = t.fake.callsTo('chat.postMessage');
    assert.equal(post.args.text, '<@U0BOB> <!subteam^S0SRE> @oncall &lt;!channel&gt; &lt;@U0ROOT&gt; &lt;https://evil.example|click&gt; @here &amp;lt;!everyone&amp;gt;');
    // Plain "@here" links (and pages) only with link_names, which kubemend never sets; nor does it unfurl.
    assert.equal(post.args.link_names, undefined);
    assert.equal(post.args.unfurl_links, 'false');
    assert.equal(slackTextToPlain('<@U1|bob> in <#C1|ops> mail <mailto:a@b.c|a@b.c> <!subteam^S1|@sre> 1 &lt; 2'), '@U1 in #ops mail a@b.c @sre 1 < 2');
  } finally {
    await t.close();
  }
});

test('slack: an engine failure is answered politely and counted', async () => {
  const t = await setup();
  try {
    await t.send('/slack/commands', form({ channel_id: 'C0OPS', user_id: 'U0ALICE', command: '/kubemend', text: 'boom' }), FORM);
    await t.slack.idle();
    assert.match(t.fake.callsTo('chat.postMessage')[0].args.text as string, /could not handle that message/);
    const v = (await register.getSingleMetric('kubemend_chat_adapter_errors_total')!.get()).values.find((x) => x.labels.adapter === 'slack' && x.labels.reason === 'engine_failed');
    assert.ok(v && v.value >= 1);
  } finally {
    await t.close();
  }
});

function pressPayload(post: { args: Record<string, unknown> }, user: string, value: string, actionTs: string, responseId: string) {
  const blocks = JSON.parse(post.args.blocks as string);
  const actions = blocks.find((b: { type: string }) => b.type === 'actions');
  const button = actions.elements.find((e: { value: string }) => e.value === value) ?? actions.elements[0];
  return form({ payload: JSON.stringify({
    type: 'block_actions', user: { id: user, team_id: 'T0TEAM' }, api_app_id: 'A0APP', trigger_id: `${actionTs}.1`,
    team: { id: 'T0TEAM' }, channel: { id: post.args.channel },
    container: { type: 'message', message_ts: '1700000000.000100', channel_id: post.args.channel, is_ephemeral: false },
    message: { type: 'message', ts: '1700000000.000100', text: post.args.text, blocks },
    response_url: `${fakeUrl}/response/${responseId}`,
    actions: [{ type: 'button', action_id: button.action_id, block_id: actions.block_id, text: { type: 'plain_text', text: button.text.text }, value, action_ts: actionTs }],
  }) });
}
let fakeUrl = '';

const hasButtons = (m: { blocks?: unknown } | undefined) => Array.isArray(m?.blocks) && (m.blocks as { type: string }[]).some((b) => b.type === 'actions');

test('slack: a replayed request (same signature, within the five minutes) is refused, counted and audited, and runs once', async () => {
  const t = await setup();
  try {
    const cmd = form({ channel_id: 'C0OPS', user_id: 'U0ALICE', command: '/kubemend', text: 'restart deployment/web -n shop', trigger_id: '9.9.9' });
    const headers = slackHeaders(SECRET, cmd, FORM);
    const first = await fetch(`${t.base}/slack/commands`, { method: 'POST', headers, body: cmd });
    assert.equal(first.status, 200);
    // An attacker who captured the request (a proxy log, a mirror) sends it again, bytes and headers alike.
    const before = (await register.getSingleMetric('kubemend_chat_adapter_errors_total')!.get()).values.find((v) => v.labels.adapter === 'slack' && v.labels.reason === 'replay')?.value ?? 0;
    const replay = await fetch(`${t.base}/slack/commands`, { method: 'POST', headers, body: cmd });
    assert.equal(replay.status, 401);
    assert.equal(replay.headers.get('x-slack-no-retry'), '1');
    assert.match(((await replay.json()) as { error: string }).error, /replayed/);
    await t.slack.idle();
    assert.deepEqual(t.engine.received.map((m) => m.text), ['restart deployment/web -n shop'], 'handled once');
    const after = (await register.getSingleMetric('kubemend_chat_adapter_errors_total')!.get()).values.find((v) => v.labels.adapter === 'slack' && v.labels.reason === 'replay')!.value;
    assert.equal(after - before, 1);
    assert.deepEqual(t.refused.map((r) => [r.route, r.reason, r.status]), [['/slack/commands', 'replay', 401]]);
    // The same command typed again is a new request (a new timestamp): it runs.
    assert.equal((await t.send('/slack/commands', cmd, FORM, {}, Math.floor(Date.now() / 1000) + 1)).status, 200);
    await t.slack.idle();
    assert.equal(t.engine.received.length, 2);
  } finally {
    await t.close();
  }
});

test('slack: a refused button press leaves the buttons and answers the presser privately; the requester\'s press then takes them', async () => {
  const t = await setup();
  fakeUrl = t.fake.url;
  try {
    await t.send('/slack/commands', form({ channel_id: 'C0OPS', user_id: 'U0ALICE', command: '/kubemend', text: 'restart deployment/web -n shop' }), FORM);
    await t.slack.idle();
    const [post] = t.fake.callsTo('chat.postMessage');
    const message = () => t.fake.messages.get(`C0OPS/${'1700000000.000100'}`);
    assert.ok(hasButtons(message()));

    // Bob is not the requester: the engine refuses his press.
    assert.equal((await t.send('/slack/interactions', pressPayload(post, 'U0BOB', 'confirm r1', '1700000001.000001', 'bob'), FORM)).status, 200);
    await t.slack.idle();
    assert.equal(t.fake.callsTo('chat.update').length, 0, 'the buttons were not touched');
    assert.ok(hasButtons(message()), 'the buttons are still there for the requester');
    const [eph] = t.fake.callsTo('chat.postEphemeral');
    assert.equal(eph.args.user, 'U0BOB');
    assert.equal(eph.args.text, 'Only alice@example.com, who asked, can confirm r1.');
    assert.equal(t.fake.callsTo('chat.postMessage').length, 1, 'nothing public about the refused press');

    // Not in the channel: the private answer goes through the press's response_url, as Slack documents.
    t.fake.notInChannel.add('C0OPS');
    await t.send('/slack/interactions', pressPayload(post, 'U0BOB', 'confirm r1', '1700000002.000001', 'bob2'), FORM);
    await t.slack.idle();
    assert.deepEqual(t.fake.responses, [{ id: 'bob2', body: { response_type: 'ephemeral', replace_original: false, text: 'Only alice@example.com, who asked, can confirm r1.' } }]);
    assert.ok(hasButtons(message()));
    t.fake.notInChannel.delete('C0OPS');

    await t.send('/slack/interactions', pressPayload(post, 'U0ALICE', 'confirm r1', '1700000003.000001', 'alice'), FORM);
    await t.slack.idle();
    assert.equal(t.fake.callsTo('chat.update').length, 1);
    assert.ok(!hasButtons(message()), 'the requester\'s press took the buttons away');
    assert.match(JSON.stringify(message()!.blocks), /<@U0ALICE> chose \*Confirm\*/);
  } finally {
    await t.close();
  }
});

test('slack: a press the engine fails on leaves the buttons; the presser alone is told', async () => {
  const t = await setup();
  fakeUrl = t.fake.url;
  try {
    t.engine.emit({ room: 'ops', text: 'try this', buttons: [{ label: 'Boom', value: 'boom' }] });
    await t.slack.idle();
    const [post] = t.fake.callsTo('chat.postMessage');
    await t.send('/slack/interactions', pressPayload(post, 'U0ALICE', 'boom', '1700000001.000001', 'boom'), FORM);
    await t.slack.idle();
    assert.equal(t.fake.callsTo('chat.update').length, 0);
    assert.ok(hasButtons(t.fake.messages.get('C0OPS/1700000000.000100')));
    const [eph] = t.fake.callsTo('chat.postEphemeral');
    assert.equal(eph.args.user, 'U0ALICE');
    assert.match(String(eph.args.text), /could not handle that message/);
  } finally {
    await t.close();
  }
});

test('fake Slack: response_url is JSON with text or blocks, documented fields, five uses', async () => {
  const fake = new FakeSlack(TOKEN);
  await fake.listen();
  try {
    const post = (id: string, body: unknown) => fetch(`${fake.url}/response/${id}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    assert.equal((await post('a', { response_type: 'private', text: 'x' })).status, 400);
    assert.equal((await post('b', { response_type: 'ephemeral' })).status, 400);
    assert.equal((await post('c', { text: 'x', replace_original: 'false' })).status, 400);
    for (let i = 0; i < 5; i++) assert.equal((await post('d', { text: 'x' })).status, 200);
    assert.deepEqual(await (await post('d', { text: 'x' })).json(), { ok: false, error: 'used_url' });
  } finally {
    await fake.close();
  }
});
