// `kubemend serve --sandbox` as a process, with the real chat engine: a
// console user scales a deployment through justify → confirm → run, the
// result arrives over SSE, and a signed Slack slash command is answered
// through the (fake) Slack Web API.
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
  assert.deepEqual(ok.console, { users: [], room: 'console', secureCookie: false });
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
    '    users: { U0ALICE: { name: alice } }',
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
    // The announcement may arrive in more than one chunk: wait for its last line.
    await until(() => /slack\s+http:\/\/\S+\/slack\/events/.test(stdout), 10_000, `the Slack routes announced (stdout: ${stdout})`);
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
    ac.abort();
    await reading;
  } finally {
    child.kill('SIGTERM');
    const [code] = await once(child, 'exit');
    await fake.close();
    rmSync(dir, { recursive: true, force: true });
    assert.equal(code, 0, stderr);
  }
});
