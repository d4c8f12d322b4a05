// `kubemend serve --sandbox` as a process, with the real chat engine: a
// console user scales a deployment through justify → confirm → run, the
// result arrives over SSE, and a signed Slack slash command is answered
// through the (fake) Slack Web API; a press of someone else's Confirm button
// is refused privately and leaves the buttons; refused requests are audited.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { runServe } from '../../src/cli/serve.ts';
import { splitListen } from '../../src/cli/shared.ts';
import { resolveAdapters, ServerSpecSchema } from '../../src/server/serve-config.ts';
import { FakeSlack, slackHeaders } from '../chat/adapters/fake-slack.ts';
import { until } from '../chat/adapters/scripted-engine.ts';
import { openStore } from '../../src/store/index.ts';

const SECRET = 'serve-test-signing-secret';
const BOT = 'xoxb-serve-test';
const NODE = process.execPath;
const MAIN = join(import.meta.dirname, '../../src/cli/main.ts');

test('serve: --listen and the adapters\' environment are checked', { timeout: 60_000 }, () => {
  assert.deepEqual(splitListen('127.0.0.1:8080'), ['127.0.0.1', 8080]);
  assert.deepEqual(splitListen('[::1]:0'), ['::1', 0]);
  assert.throws(() => splitListen('8080'), /HOST:PORT/);
  const spec = ServerSpecSchema.parse({});
  assert.deepEqual(resolveAdapters(spec, { SLACK_BOT_TOKEN: 'x' }).problems, ['Slack needs both SLACK_SIGNING_SECRET and SLACK_BOT_TOKEN (only SLACK_BOT_TOKEN is set)']);
  const mm = resolveAdapters(spec, { MATTERMOST_URL: 'https://chat.example.com', MATTERMOST_TOKEN: 't' });
  assert.equal(mm.problems.length, 2, mm.problems.join('; '));
  const ok = resolveAdapters(spec, { MATTERMOST_URL: 'https://chat.example.com', MATTERMOST_TOKEN: 't', MATTERMOST_COMMAND_TOKEN: 'a, b', KUBEMEND_PUBLIC_URL: 'https://km.example.com' });
  assert.deepEqual(ok.mattermost?.commandTokens, ['a', 'b']);
  assert.equal(ok.slack, undefined);
  assert.deepEqual(ok.console, { users: [], room: 'console', secureCookie: false, origins: ['https://km.example.com'] });
  assert.equal(ok.mattermost?.guest, undefined, 'no guest role unless configured: unmapped users are refused');
  const mmId = 'k3x9q7w1m5n8p2r4t6v0y3z5ab';
  const guests = ServerSpecSchema.parse({ mattermost: { users: { [mmId]: { name: 'dave' } }, guest: { groups: ['visitors'] } }, slack: { guest: {} } });
  const withGuest = resolveAdapters(guests, { MATTERMOST_URL: 'https://chat.example.com', MATTERMOST_TOKEN: 't', MATTERMOST_COMMAND_TOKEN: 'a', KUBEMEND_PUBLIC_URL: 'https://km.example.com', SLACK_SIGNING_SECRET: 's', SLACK_BOT_TOKEN: 'b' });
  assert.deepEqual(withGuest.mattermost?.guest, { groups: ['visitors'] });
  assert.deepEqual(withGuest.mattermost?.users, { [mmId]: { name: 'dave', groups: [] } });
  assert.deepEqual(withGuest.slack?.guest, { groups: [] });
});

test('serve: a half-configured adapter stops start-up with KM-SERVE-002, before anything is opened', { timeout: 60_000 }, async () => {
  await assert.rejects(
    runServe({ listen: '127.0.0.1:0', sandbox: true, scenario: 'crashloop', context: [], logLevel: 'warn' }, () => {}, { SLACK_SIGNING_SECRET: 's' }),
    (err: Error & { code?: string }) => err.code === 'KM-SERVE-002' && /SLACK_BOT_TOKEN/.test(err.message),
  );
});

test('serve --sandbox: console and Slack on the real engine', { timeout: 90_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kubemend-serve-'));
  const fake = new FakeSlack(BOT);
  await fake.listen();
  const config = join(dir, 'server.yaml');
  writeFileSync(config, [
    'apiVersion: kubemend.dev/v1alpha1',
    'kind: ServerConfig',
    'spec:',
    '  console:',
    '    room: ops',
    '    users:',
    '      - name: alice',
    '        tokenEnv: ALICE_TOKEN',
    '  slack:',
    '    rooms: { C0OPS: ops }',
    '    users: { U0ALICE: { name: alice }, U0BOB: { name: bob } }',
    '',
  ].join('\n'));
  const env = { ...process.env, SLACK_SIGNING_SECRET: SECRET, SLACK_BOT_TOKEN: BOT, SLACK_API_URL: `${fake.url}/api/`, ALICE_TOKEN: 'alice-serve-token' };
  const child = spawn(NODE, [MAIN, 'serve', '--sandbox', '--listen', '127.0.0.1:0', '--server-config', config, '--data-dir', join(dir, 'data')], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => { stdout += d; });
  child.stderr.on('data', (d) => { stderr += d; });
  const auth = { authorization: 'Bearer alice-serve-token', 'content-type': 'application/json' };
  try {
    const base = await until(() => /kubemend serving on (http:\/\/\S+)/.exec(stdout)?.[1], 30_000, `the server to start (stdout: ${stdout}, stderr: ${stderr})`);
    // The announcement comes line by line: wait for the whole of it.
    await until(() => /metrics\s+http/.test(stdout), 10_000, `the announcement (stdout: ${stdout})`);
    assert.match(stdout, /slack\s+http:\/\/\S+\/slack\/events/);
    assert.doesNotMatch(stdout, /sign in as/, 'configured users: no one-time token');

    const ac = new AbortController();
    const events = await fetch(`${base}/console/api/events`, { headers: auth, signal: ac.signal });
    let live = '';
    const reading = (async () => {
      try { for await (const c of events.body!) live += Buffer.from(c).toString(); } catch { /* closed */ }
    })();

    const say = async (text: string) => ((await (await fetch(`${base}/console/api/messages`, { method: 'POST', headers: auth, body: JSON.stringify({ text }) })).json()) as { replies: { text: string; buttons?: { value: string }[] }[] }).replies;
    const asked = await say('scale deployment/checkout -n shop --replicas 5 --reason "load test for the sale" --link DEMO-1');
    assert.match(asked[0].text, /scale deployment shop\/checkout from 3 to 5 on cluster sandbox/);
    const confirm = asked[0].buttons!.find((b) => b.value.startsWith('confirm '))!.value;
    const running = await say(confirm);
    assert.match(running[0].text, /running/);
    await until(() => /done: scale deployment shop\/checkout from 3 to 5/.test(live), 30_000, `the run's result over SSE (got: ${live})`);

    const form = new URLSearchParams({ channel_id: 'C0OPS', user_id: 'U0ALICE', command: '/kubemend', text: 'status deployment/checkout -n shop --reason "after the scale" --link DEMO-1', response_url: `${fake.url}/response/x` }).toString();
    const ack = await fetch(`${base}/slack/commands`, { method: 'POST', headers: slackHeaders(SECRET, form, 'application/x-www-form-urlencoded'), body: form });
    assert.equal(ack.status, 200);
    const posted = await until(() => fake.calls.find((c) => /\d+\/5 ready/.test(String(c.args.text))), 30_000, 'the status reply in Slack');
    assert.equal(posted.args.channel, 'C0OPS');
    assert.match(String(posted.args.text), /shop\/checkout on cluster sandbox: \d+\/5 ready/);

    // Alice asks on Slack; Bob presses her Confirm button: the real engine refuses him, privately.
    const ask = new URLSearchParams({ channel_id: 'C0OPS', user_id: 'U0ALICE', command: '/kubemend', text: 'scale deployment/checkout -n shop --replicas 6 --reason "the sale goes on" --link DEMO-1' }).toString();
    const asked2 = await fetch(`${base}/slack/commands`, { method: 'POST', headers: slackHeaders(SECRET, ask, 'application/x-www-form-urlencoded'), body: ask });
    assert.equal(asked2.status, 200, await asked2.text());
    const asking = await until(() => [...fake.messages.values()].find((m) => /confirm \w+/.test(JSON.stringify(m.blocks ?? ''))), 30_000, `the confirmation with buttons in Slack (calls: ${JSON.stringify(fake.calls.map((c) => c.args.text))})`);
    const blocks = asking.blocks as { type: string; block_id?: string; elements?: { action_id: string; value: string; text: { text: string } }[] }[];
    const actions = blocks.find((b) => b.type === 'actions')!;
    const confirmButton = actions.elements!.find((e) => e.value.startsWith('confirm '))!;
    const press = new URLSearchParams({ payload: JSON.stringify({
      type: 'block_actions', user: { id: 'U0BOB' }, channel: { id: 'C0OPS' },
      container: { type: 'message', message_ts: asking.ts, channel_id: 'C0OPS', is_ephemeral: false },
      message: { ts: asking.ts, text: asking.text, blocks },
      actions: [{ type: 'button', action_id: confirmButton.action_id, block_id: actions.block_id, text: confirmButton.text, value: confirmButton.value, action_ts: '1.2' }],
    }) }).toString();
    assert.equal((await fetch(`${base}/slack/interactions`, { method: 'POST', headers: slackHeaders(SECRET, press, 'application/x-www-form-urlencoded'), body: press })).status, 200);
    const eph = await until(() => fake.callsTo('chat.postEphemeral').find((c) => c.args.user === 'U0BOB'), 30_000, 'the private refusal to Bob');
    assert.match(String(eph.args.text), /Only alice \(slack:U0ALICE\), who asked, can confirm/);
    assert.equal(fake.callsTo('chat.update').length, 0, 'the buttons stay for Alice');

    // Refusals at the doors reach the service's audit log.
    assert.equal((await fetch(`${base}/console/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: 'not-alice' }) })).status, 401);
    assert.equal((await fetch(`${base}/slack/commands`, { method: 'POST', headers: slackHeaders('wrong-secret', ask, 'application/x-www-form-urlencoded'), body: ask })).status, 401);
    ac.abort();
    await reading;
  } finally {
    child.kill('SIGTERM');
    const [code] = await once(child, 'exit');
    await fake.close();
    assert.equal(code, 0, stderr);
  }
  const store = await openStore({ dataDir: join(dir, 'data') });
  try {
    const refused = await store.audit.list({ action: 'chat.request.refused' });
    assert.deepEqual(refused.map((r) => [r.data?.route, r.data?.reason, r.outcome]), [['/console/login', 'bad_login', 'denied'], ['/slack/commands', 'bad_signature', 'denied']]);
    assert.ok(!JSON.stringify(refused).includes('not-alice'));
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
