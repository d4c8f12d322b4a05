// Slack over Socket Mode, against a real local WebSocket server speaking the
// documented protocol (fake-slack-socket.ts) and the fake Web API: the
// adapter opens the connection with the app-level token, acknowledges every
// envelope within three seconds, and handles slash commands, button presses
// and events exactly as over HTTP — here through the real chat engine on the
// sandbox. Slack's `disconnect` makes it reconnect; a bad app token fails
// the start with KM-SLACK-001.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { register } from 'prom-client';
import { createApp, type KubemendServer } from '../../../src/server/app.ts';
import { KubemendError } from '../../../src/common/errors.ts';
import { redactor } from '../../../src/common/redact.ts';
import { resolveAdapters, ServerSpecSchema } from '../../../src/server/serve-config.ts';
import { chatFixture, LINK, until, type ChatFixture } from '../fixture.ts';
import { FakeSlack, validBlocks } from './fake-slack.ts';
import { FakeSlackSocket } from './fake-slack-socket.ts';
import { ScriptedEngine } from './scripted-engine.ts';

const BOT = 'xoxb-socket-bot-token';
const APP = 'xapp-1-A0APP-1-socket-app-token';

async function metric(name: string, labels: Record<string, string> = {}): Promise<number> {
  const m = register.getSingleMetric(name);
  const values = m ? (await m.get()).values : [];
  return values.filter((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x)).reduce((a, v) => a + v.value, 0);
}

// The client pings every pingTimeoutMs and drops a connection whose pong is later than that; on a loaded
// machine a short one would reconnect mid-test. It is also the first reconnect delay, so the reconnect test shortens it.
function slackOptions(fake: FakeSlack, appToken = APP, pingTimeoutMs = 3000) {
  return {
    socketMode: true, appToken, botToken: BOT, slackApiUrl: `${fake.url}/api/`, retryConfig: { retries: 0 }, socketPingTimeoutMs: pingTimeoutMs,
    rooms: { C0OPS: 'ops' }, users: { U0ALICE: { name: 'alice', groups: ['shop'] } },
  };
}

async function setup(): Promise<{ f: ChatFixture; fake: FakeSlack; ws: FakeSlackSocket; server: KubemendServer; close: () => Promise<void> }> {
  const f = await chatFixture();
  const fake = new FakeSlack(BOT);
  await fake.listen();
  const ws = await FakeSlackSocket.start(fake, APP);
  const server = await createApp({ engine: f.engine, slack: slackOptions(fake) });
  const close = async () => {
    await server.app.close();
    await ws.close();
    await fake.close();
    await f.close();
    assert.deepEqual(ws.problems, [], 'every envelope was acknowledged in time, once');
  };
  return { f, fake, ws, server, close };
}

function command(text: string, fake: FakeSlack) {
  return {
    token: 'legacy', team_id: 'T0TEAM', team_domain: 'acme', channel_id: 'C0OPS', channel_name: 'ops', user_id: 'U0ALICE', user_name: 'alice',
    command: '/kubemend', text, api_app_id: 'A0APP', is_enterprise_install: 'false', response_url: `${fake.url}/response/cmd`, trigger_id: '1.2.3',
  };
}

test('slack socket mode: a slash command runs end to end; a button press delivered twice is handled once', { timeout: 120_000 }, async () => {
  const t = await setup();
  try {
    assert.equal(t.fake.callsTo('apps.connections.open').length, 1, 'connected with the app-level token');
    assert.equal(await metric('kubemend_slack_socket_connected'), 1);
    assert.equal((await t.server.app.inject({ method: 'POST', url: '/slack/commands', payload: 'text=help' })).statusCode, 404, 'no HTTP routes in Socket Mode');

    const ack = await t.ws.send('slash_commands', command(`restart deployment/web -n shop --reason "rollout wedged after the deploy" --link ${LINK}`, t.fake));
    assert.deepEqual(ack.payload ?? {}, {}, 'an empty ack: the replies come as bot messages');
    await t.server.slack!.idle();
    const [ask] = t.fake.callsTo('chat.postMessage');
    assert.ok(ack.at <= ask.at, 'acknowledged before it was handled, not after');
    assert.equal(ask.args.channel, 'C0OPS');
    assert.match(String(ask.args.text), /^[a-z2-9]{6} will restart deployment shop\/web/);
    const blocks = JSON.parse(ask.args.blocks as string);
    assert.ok(validBlocks(blocks));
    const actions = blocks.find((b: { type: string }) => b.type === 'actions');
    const confirm = actions.elements.find((e: { value: string }) => e.value.startsWith('confirm '));
    const ts = (t.fake.messages.values().next().value!).ts;

    const press = {
      type: 'block_actions', user: { id: 'U0ALICE', username: 'alice', team_id: 'T0TEAM' }, api_app_id: 'A0APP', token: 'legacy', trigger_id: '4.5.6',
      team: { id: 'T0TEAM', domain: 'acme' }, channel: { id: 'C0OPS', name: 'ops' },
      container: { type: 'message', message_ts: ts, channel_id: 'C0OPS', is_ephemeral: false },
      message: { type: 'message', ts, text: ask.args.text, blocks },
      response_url: `${t.fake.url}/response/press`,
      actions: [{ type: 'button', action_id: confirm.action_id, block_id: actions.block_id, text: { type: 'plain_text', text: 'Confirm' }, value: confirm.value, action_ts: '1700000001.000200' }],
    };
    // Slack delivers the same press again (a new envelope) when it thinks the first went unacknowledged.
    await t.ws.send('interactive', press);
    await t.ws.send('interactive', press);
    await t.server.slack!.idle();
    assert.equal((await t.f.store.audit.list({ action: 'chat.restart.confirmed' })).length, 1, 'confirmed once');
    assert.equal(t.fake.callsTo('chat.postEphemeral').length, 0, 'no "nothing to confirm" for a second press');
    assert.equal(t.fake.callsTo('chat.update').length, 1);
    assert.match(JSON.stringify(t.fake.messages.get(`C0OPS/${ts}`)!.blocks), /<@U0ALICE> chose \*Confirm\*/);
    await until(() => t.fake.callsTo('chat.postMessage').some((c) => / done: restart deployment shop\/web/.test(String(c.args.text))), 'the result posted', 30_000);
    assert.equal(await metric('kubemend_slack_socket_envelopes_total', { type: 'interactive', ack: 'sent' }) >= 2, true);
  } finally {
    await t.close();
  }
});

test('slack socket mode: an app mention is answered in its thread, once even when Slack retries it', { timeout: 120_000 }, async () => {
  const t = await setup();
  try {
    const body = {
      token: 'legacy', team_id: 'T0TEAM', api_app_id: 'A0APP', type: 'event_callback', event_id: 'Ev0SOCKET1', event_time: 1700000000,
      event: { type: 'app_mention', user: 'U0ALICE', text: `<@U0BOT> status deployment/web -n shop --reason "checking the rollout state" --link ${LINK}`, ts: '1700000000.000050', thread_ts: '1700000000.000001', channel: 'C0OPS', event_ts: '1700000000.000050' },
    };
    await t.ws.send('events_api', body);
    await t.ws.send('events_api', body, { retryAttempt: 1, retryReason: 'timeout' });
    await t.server.slack!.idle();
    const posts = t.fake.callsTo('chat.postMessage');
    assert.equal(posts.length, 1, 'a retried event is handled once');
    assert.equal(posts[0].args.thread_ts, '1700000000.000001', 'answered in the thread of the mention');
    assert.match(String(posts[0].args.text), /web/);
    assert.equal((await t.f.store.audit.list({ action: 'chat.status.executed' })).length, 1);
  } finally {
    await t.close();
  }
});

test('slack socket mode: after disconnect (refresh_requested, then warning) it reconnects with a new URL and keeps working', { timeout: 60_000 }, async () => {
  const fake = new FakeSlack(BOT);
  await fake.listen();
  const ws = await FakeSlackSocket.start(fake, APP);
  const engine = new ScriptedEngine();
  const server = await createApp({ engine, slack: slackOptions(fake, APP, 500) });
  try {
    const before = await metric('kubemend_slack_socket_reconnects_total');
    for (const [i, reason] of (['refresh_requested', 'warning'] as const).entries()) {
      ws.disconnect(reason);
      await until(() => ws.accepted === i + 2 && ws.connections.length === 1, `a new connection after ${reason}`, 10_000);
      assert.equal(fake.callsTo('apps.connections.open').length, i + 2, 'each connection asks for a new URL');
    }
    assert.equal(await metric('kubemend_slack_socket_reconnects_total') - before, 2);
    await until(async () => (await metric('kubemend_slack_socket_connected')) === 1, 'connected', 5000);
    await ws.send('slash_commands', command('echo still here', fake));
    await server.slack!.idle();
    assert.equal(fake.callsTo('chat.postMessage').at(-1)!.args.text, 'still here');
  } finally {
    await server.app.close();
    await ws.close();
    await fake.close();
    assert.equal(await metric('kubemend_slack_socket_connected'), 0, 'disconnected on close');
    assert.deepEqual(ws.problems, []);
  }
});

test('slack socket mode: a wrong, absent or non-app token fails the start with KM-SLACK-001', { timeout: 60_000 }, async () => {
  const fake = new FakeSlack(BOT);
  await fake.listen();
  const ws = await FakeSlackSocket.start(fake, APP);
  try {
    const fails = async (token: string, re: RegExp) => {
      await assert.rejects(createApp({ engine: new ScriptedEngine(), slack: slackOptions(fake, token) }), (err: unknown) => {
        assert.ok(err instanceof KubemendError);
        assert.equal(err.code, 'KM-SLACK-001');
        assert.match(err.message, re);
        assert.ok(!err.message.includes(token) || token === '', 'the token is not in the message');
        return true;
      });
    };
    await fails('xapp-1-A0APP-1-revoked', /Slack refused the app-level token \(SLACK_APP_TOKEN\) for Socket Mode: invalid_auth/);
    await fails('', /needs an app-level token \(SLACK_APP_TOKEN, xapp-…\)/);
    await fails(BOT, /not an app-level token: it starts with "xoxb-", not "xapp-"/);
    assert.equal(ws.accepted, 0);
    assert.equal(await metric('kubemend_slack_socket_connected'), 0);
  } finally {
    await ws.close();
    await fake.close();
  }
});

test('serve config: socketMode needs SLACK_APP_TOKEN and SLACK_BOT_TOKEN, never the signing secret; the app token is redacted', () => {
  const spec = ServerSpecSchema.parse({ slack: { socketMode: true, rooms: { C0OPS: 'ops' } } });
  const app = 'xapp-1-A0APP-1-Ke9Lq2Wm7Tz4';
  const ok = resolveAdapters(spec, { SLACK_APP_TOKEN: app, SLACK_BOT_TOKEN: BOT });
  assert.deepEqual(ok.problems, []);
  assert.equal(ok.slack?.socketMode, true);
  assert.equal(ok.slack?.appToken, app);
  assert.equal(ok.slack?.signingSecret, undefined);
  assert.equal(redactor.redact(`token ${app} leaked`).includes(app), false, 'the app token is a secret of the process');
  assert.deepEqual(resolveAdapters(spec, { SLACK_APP_TOKEN: app }).problems, ['Slack in Socket Mode needs both SLACK_APP_TOKEN and SLACK_BOT_TOKEN (only SLACK_APP_TOKEN is set)']);
  assert.deepEqual(resolveAdapters(spec, { SLACK_BOT_TOKEN: BOT, SLACK_SIGNING_SECRET: 's' }).problems, ['Slack in Socket Mode needs both SLACK_APP_TOKEN and SLACK_BOT_TOKEN (only SLACK_BOT_TOKEN is set)']);
  const http = ServerSpecSchema.parse({});
  assert.deepEqual(resolveAdapters(http, { SLACK_APP_TOKEN: app, SLACK_BOT_TOKEN: BOT }).problems, ['Slack needs both SLACK_SIGNING_SECRET and SLACK_BOT_TOKEN (only SLACK_BOT_TOKEN is set); SLACK_APP_TOKEN is for Socket Mode (server.slack.socketMode: true)']);
  assert.equal(resolveAdapters(http, { SLACK_SIGNING_SECRET: 's', SLACK_BOT_TOKEN: BOT }).slack?.socketMode, undefined);
});
