// `kubemend serve --sandbox` as a process with Slack in Socket Mode: it
// connects with SLACK_APP_TOKEN (no signing secret, no /slack routes),
// answers a slash command sent over the WebSocket through the real engine,
// and closes the connection when it stops; a refused app token stops the
// start with KM-SLACK-001.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { FakeSlack } from '../chat/adapters/fake-slack.ts';
import { FakeSlackSocket } from '../chat/adapters/fake-slack-socket.ts';
import { until } from '../chat/adapters/scripted-engine.ts';

const BOT = 'xoxb-serve-socket-test';
const APP = 'xapp-1-A0APP-1-serve-socket-test';
const NODE = process.execPath;
const MAIN = join(import.meta.dirname, '../../src/cli/main.ts');

function serve(dir: string, fake: FakeSlack, appToken: string) {
  const config = join(dir, 'server.yaml');
  writeFileSync(config, ['apiVersion: kubemend.dev/v1alpha1', 'kind: ServerConfig', 'spec:', '  slack:', '    socketMode: true', '    rooms: { C0OPS: ops }', '    users: { U0ALICE: { name: alice } }', ''].join('\n'));
  const env: NodeJS.ProcessEnv = { ...process.env, SLACK_APP_TOKEN: appToken, SLACK_BOT_TOKEN: BOT, SLACK_API_URL: `${fake.url}/api/` };
  delete env.SLACK_SIGNING_SECRET;
  const child = spawn(NODE, [MAIN, 'serve', '--sandbox', '--listen', '127.0.0.1:0', '--server-config', config, '--data-dir', join(dir, 'data')], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const out = { stdout: '', stderr: '' };
  child.stdout.on('data', (d) => { out.stdout += d; });
  child.stderr.on('data', (d) => { out.stderr += d; });
  return { child, out };
}

test('serve: Slack over Socket Mode answers a slash command and disconnects on stop', { timeout: 120_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'km-serve-socket-'));
  const fake = new FakeSlack(BOT);
  await fake.listen();
  const ws = await FakeSlackSocket.start(fake, APP);
  const { child, out } = serve(dir, fake, APP);
  try {
    const base = await until(() => /kubemend serving on (http:\/\/\S+)/.exec(out.stdout)?.[1], 60_000, `the server to start (stdout: ${out.stdout}, stderr: ${out.stderr})`);
    await until(() => /metrics\s+http/.test(out.stdout), 10_000, 'the announcement');
    assert.match(out.stdout, /slack\s+Socket Mode/);
    assert.equal(ws.connections.length, 1);
    assert.equal((await fetch(`${base}/slack/commands`, { method: 'POST', body: 'text=help', headers: { 'content-type': 'application/x-www-form-urlencoded' } })).status, 404);
    await ws.send('slash_commands', { channel_id: 'C0OPS', user_id: 'U0ALICE', user_name: 'alice', command: '/kubemend', text: 'status deployment/checkout -n shop --reason "checking after the deploy" --link DEMO-1', response_url: `${fake.url}/response/x` });
    const posted = await until(() => fake.calls.find((c) => /ready/.test(String(c.args.text))), 30_000, `the status reply (calls: ${JSON.stringify(fake.calls.map((c) => c.args.text))})`);
    assert.equal(posted.args.channel, 'C0OPS');
  } finally {
    child.kill('SIGTERM');
    const [code] = await once(child, 'exit');
    await until(() => ws.connections.length === 0, 10_000, 'the connection closed by serve');
    await ws.close();
    await fake.close();
    rmSync(dir, { recursive: true, force: true });
    assert.equal(code, 0, out.stderr);
    assert.deepEqual(ws.problems, []);
  }
});

test('serve: a refused SLACK_APP_TOKEN stops the start with KM-SLACK-001', { timeout: 120_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'km-serve-socket-'));
  const fake = new FakeSlack(BOT);
  await fake.listen();
  const ws = await FakeSlackSocket.start(fake, APP);
  const { child, out } = serve(dir, fake, 'xapp-1-A0APP-1-revoked-token');
  try {
    const [code] = await once(child, 'exit');
    assert.notEqual(code, 0);
    assert.match(out.stderr, /KM-SLACK-001 Slack refused the app-level token \(SLACK_APP_TOKEN\) for Socket Mode: invalid_auth/);
    assert.ok(!out.stderr.includes('xapp-1-A0APP-1-revoked-token'), 'the token is not printed');
    assert.equal(ws.accepted, 0);
  } finally {
    await ws.close();
    await fake.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
