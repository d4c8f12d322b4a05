// main.ts loads each command lazily so that a command starts with only what
// it uses: `kubemend audit verify` in a cron job or a test should not load
// the sandbox's API server, the chat adapters or the notifiers. One stray
// import through a folder's index.ts undoes that for the whole command.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../bin/kubemend.js', import.meta.url));
const HOOK = fileURLToPath(new URL('./fixtures/record-loads.ts', import.meta.url));

/** The module URLs `kubemend ARGS` loaded. */
function loads(args: string[]): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'km-startup-'));
  const file = join(dir, 'loads.txt');
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--import', HOOK, BIN, ...args, '--data-dir', dir], { env: { ...process.env, KUBEMEND_TEST_LOADS: file } }, (err, _stdout, stderr) => {
      if (err) reject(new Error(`kubemend ${args.join(' ')} failed: ${stderr}`));
      else resolve(readFileSync(file, 'utf8').split('\n'));
    });
  });
}

const HEAVY = /\/src\/(sandbox|chat|notify|server|pipeline)\/|\/node_modules\/(fastify|@slack|nodemailer|@mattermost|@kubernetes\/client-node)\//;

for (const args of [['audit', 'list'], ['audit', 'verify'], ['runs', 'list']]) {
  test(`kubemend ${args.join(' ')} loads no sandbox, chat, notifier or service module`, { timeout: 60_000 }, async () => {
    const urls = await loads(args);
    assert.ok(urls.some((u) => u.includes('/src/store/')), 'the hook saw the command load (the store)');
    assert.deepEqual(urls.filter((u) => HEAVY.test(u)).slice(0, 5), []);
  });
}

// The client libraries of services a process may never talk to load on first
// use (kube/lazy.ts, chat/adapters/shared/lazy.ts): @kubernetes/client-node
// is some 870 modules and @slack/socket-mode brings undici's hundred, and
// every command and every test file that imports the pipeline paid a second
// of start-up for them. One eager `import { KubeConfig }` brings it back.
test('importing the pipeline loads no Kubernetes, Slack or Mattermost client library', { timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'km-startup-'));
  const file = join(dir, 'loads.txt');
  const pipeline = new URL('../../src/pipeline/index.ts', import.meta.url).href;
  const urls = await new Promise<string[]>((resolve, reject) => {
    execFile(process.execPath, ['--import', HOOK, '--input-type=module', '-e', `await import(${JSON.stringify(pipeline)});`], { env: { ...process.env, KUBEMEND_TEST_LOADS: file } }, (err, _stdout, stderr) => {
      if (err) reject(new Error(`importing the pipeline failed: ${stderr}`));
      else resolve(readFileSync(file, 'utf8').split('\n'));
    });
  });
  assert.ok(urls.some((u) => u.includes('/src/pipeline/')), 'the hook saw the pipeline load');
  assert.deepEqual(urls.filter((u) => /\/node_modules\/(@kubernetes\/client-node|@slack|@mattermost|undici)\//.test(u)).slice(0, 5), []);
});
