import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createApp } from '../../src/server/app.ts';
import { webhooksPlugin } from '../../src/server/webhooks.ts';
import { WebhookSource } from '../../src/rules/sources/webhook-source.ts';
import { realClock } from '../../src/common/clock.ts';
import type { Signal } from '../../src/rules/types.ts';
import { FakeSlack, slackHeaders } from '../chat/adapters/fake-slack.ts';
import { FakeMattermost, mmId } from '../chat/adapters/fake-mattermost.ts';
import { ScriptedEngine } from '../chat/adapters/scripted-engine.ts';

const SLACK_SECRET = 'signing-secret-never-logged';
const SLACK_TOKEN = 'xoxb-bot-token-never-logged';
const MM_BOT = 'mm-bot-token-never-logged';
const MM_CMD = 'mm-command-token-never-logged';
const CONSOLE = 'console-token-never-logged';
const WEBHOOK = 'webhook-token-never-logged';

class Lines extends Writable {
  readonly text: string[] = [];
  override _write(chunk: Buffer, _enc: string, cb: () => void) {
    this.text.push(chunk.toString());
    cb();
  }
}

test('server: /healthz and /metrics with default metrics and the kubemend chat counters', async () => {
  const engine = new ScriptedEngine();
  const { app } = await createApp({ engine, console: { users: [{ name: 'alice', token: CONSOLE }] } });
  // A second app in the same process must not register the default metrics twice.
  const second = await createApp({});
  try {
    assert.deepEqual((await app.inject('/healthz')).json(), { status: 'ok', adapters: ['console'] });
    await app.inject({ method: 'POST', url: '/console/api/messages', headers: { authorization: `Bearer ${CONSOLE}`, 'content-type': 'application/json' }, payload: { text: 'help' } });
    const res = await app.inject('/metrics');
    assert.equal(res.statusCode, 200);
    assert.match(res.headers['content-type'] as string, /^text\/plain; version=0\.0\.4/);
    assert.match(res.body, /^process_cpu_user_seconds_total \d/m);
    assert.match(res.body, /^nodejs_heap_size_used_bytes \d/m);
    assert.match(res.body, /^# TYPE kubemend_chat_messages_total counter$/m);
    assert.match(res.body, /^kubemend_chat_messages_total\{adapter="console"\} [1-9]/m);
    assert.match(res.body, /^kubemend_chat_replies_total\{adapter="console"\} [1-9]/m);
    assert.match(res.body, /^# TYPE kubemend_chat_adapter_errors_total counter$/m);
    assert.equal((await second.app.inject('/metrics')).statusCode, 200);
  } finally {
    await app.close();
    await second.app.close();
  }
});

test('server: the webhook receiver mounts beside the chat adapters, each with its own body parsing', async () => {
  const signals: Signal[] = [];
  const source = new WebhookSource({ clock: realClock, defaultCluster: 'prod' });
  source.start((s) => signals.push(s));
  const fake = new FakeSlack(SLACK_TOKEN);
  await fake.listen();
  const { app } = await createApp({
    engine: new ScriptedEngine(),
    slack: { signingSecret: SLACK_SECRET, botToken: SLACK_TOKEN, slackApiUrl: `${fake.url}/api/`, retryConfig: { retries: 0 } },
    plugins: [{ plugin: webhooksPlugin, options: { source, webhooks: { ci: { bearerToken: WEBHOOK } } } }],
  });
  try {
    const hook = await app.inject({ method: 'POST', url: '/webhooks/ci', headers: { authorization: `Bearer ${WEBHOOK}`, 'content-type': 'application/json' }, payload: { deploy: 'web' } });
    assert.equal(hook.statusCode, 200, hook.body);
    assert.equal(signals.length, 1);
    const form = 'channel_id=C0OPS&user_id=U0A&command=%2Fkubemend&text=help';
    const slack = await app.inject({ method: 'POST', url: '/slack/commands', headers: slackHeaders(SLACK_SECRET, form, 'application/x-www-form-urlencoded'), payload: form });
    assert.equal(slack.statusCode, 200);
    // The webhook receiver takes JSON only, even with Slack's form parser in the same server.
    const formToHook = await app.inject({ method: 'POST', url: '/webhooks/ci', headers: { authorization: `Bearer ${WEBHOOK}`, 'content-type': 'application/x-www-form-urlencoded' }, payload: 'a=1' });
    assert.equal(formToHook.statusCode, 415);
  } finally {
    await app.close();
    await fake.close();
    source.stop();
  }
});

test('server: request logs never contain tokens or signing secrets', async () => {
  const lines = new Lines();
  const slackApi = new FakeSlack(SLACK_TOKEN);
  await slackApi.listen();
  const mmApi = new FakeMattermost(MM_BOT);
  await mmApi.listen();
  const channel = mmId();
  mmApi.channels.add(channel);
  const server = await createApp({
    engine: new ScriptedEngine(),
    logger: { level: 'debug', stream: lines },
    slack: { signingSecret: SLACK_SECRET, botToken: SLACK_TOKEN, slackApiUrl: `${slackApi.url}/api/`, retryConfig: { retries: 0 } },
    mattermost: { serverUrl: mmApi.url, botToken: MM_BOT, commandTokens: [MM_CMD], publicUrl: 'http://127.0.0.1:1' },
    console: { users: [{ name: 'alice', token: CONSOLE }] },
  });
  await server.app.listen({ host: '127.0.0.1', port: 0 });
  const base = `http://127.0.0.1:${(server.app.server.address() as { port: number }).port}`;
  try {
    await fetch(`${base}/console/api/messages`, { method: 'POST', headers: { authorization: `Bearer ${CONSOLE}`, 'content-type': 'application/json' }, body: JSON.stringify({ text: 'help' }) });
    await fetch(`${base}/console/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: CONSOLE }) });
    await fetch(`${base}/console/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: 'wrong' }) });
    const form = 'channel_id=C0OPS&user_id=U0A&command=%2Fkubemend&text=restart%20x';
    await fetch(`${base}/slack/commands`, { method: 'POST', headers: slackHeaders(SLACK_SECRET, form, 'application/x-www-form-urlencoded'), body: form });
    await fetch(`${base}/slack/commands`, { method: 'POST', headers: slackHeaders('wrong-secret', form, 'application/x-www-form-urlencoded'), body: form });
    await mmApi.slash(`${base}/mattermost/command`, MM_CMD, { channel_id: channel, user_id: mmId(), user_name: 'alice', text: 'help' });
    await mmApi.slash(`${base}/mattermost/command`, MM_CMD, { channel_id: mmId(), user_id: mmId(), user_name: 'alice', text: 'help' }); // post fails: 403
    await Promise.all(server.adapters.map((a) => a.idle()));
    slackApi.notInChannel.add('C0GONE');
    await server.slack!.post({ room: 'slack:C0GONE', text: 'x' }); // a failed Web API call, logged
  } finally {
    await server.app.close();
    await slackApi.close();
    await mmApi.close();
  }
  const log = lines.text.join('');
  assert.match(log, /"authorization":"\[redacted\]"/);
  assert.match(log, /"x-slack-signature":"\[redacted\]"/);
  assert.match(log, /posting a chat reply failed/);
  for (const secret of [SLACK_SECRET, SLACK_TOKEN, MM_BOT, MM_CMD, CONSOLE]) assert.ok(!log.includes(secret), `the log contains ${secret}`);
});

test('server: a token in a query string never reaches the log, nor a 404 answer', async () => {
  const lines = new Lines();
  const source = new WebhookSource({ clock: realClock, defaultCluster: 'prod' });
  source.start(() => {});
  const fake = new FakeSlack(SLACK_TOKEN);
  await fake.listen();
  const server = await createApp({
    engine: new ScriptedEngine(),
    logger: { level: 'debug', stream: lines },
    slack: { signingSecret: SLACK_SECRET, botToken: SLACK_TOKEN, slackApiUrl: `${fake.url}/api/`, retryConfig: { retries: 0 } },
    console: { users: [{ name: 'alice', token: CONSOLE }] },
    webhooks: { source, alertmanager: { bearerToken: WEBHOOK } },
  });
  const SECRET = 'QUERY-SECRET-4711';
  try {
    const answers: string[] = [];
    for (const url of [`/healthz?token=${SECRET}`, `/console/api/me?access_token=${SECRET}&x=1`, `/nowhere?token=${SECRET}`, `/webhooks/alertmanager?sig=${SECRET}`, `/metrics?${SECRET}`, `/slack/commands?code=${SECRET}`]) {
      const res = await server.app.inject({ method: url.startsWith('/webhooks') || url.startsWith('/slack') ? 'POST' : 'GET', url, headers: { 'content-type': 'application/json' }, payload: url.startsWith('/webhooks') || url.startsWith('/slack') ? '{}' : undefined });
      answers.push(res.body);
    }
    assert.match(lines.text.join(''), /"url":"\/healthz\?token=\[redacted\]"/, 'the names stay, the values go');
    assert.match(lines.text.join(''), /"url":"\/console\/api\/me\?access_token=\[redacted\]&x=\[redacted\]"/);
    assert.match(answers[2], /no route GET \/nowhere"/);
    assert.ok(!answers.join('').includes(SECRET), 'a 404 does not echo the query');
  } finally {
    await server.app.close();
    await fake.close();
    source.stop();
  }
  assert.ok(lines.text.length > 5);
  assert.ok(!lines.text.join('').includes(SECRET), `the log holds the query secret: ${lines.text.filter((l) => l.includes(SECRET)).join('')}`);
});

test('server: chat adapters without an engine are a configuration error', async () => {
  await assert.rejects(createApp({ console: { users: [{ name: 'a', token: 't' }] } }), /no chat engine/);
});
