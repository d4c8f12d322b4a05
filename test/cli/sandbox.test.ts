// `kubemend sandbox` as a user runs it: a real child process, a kubeconfig on
// disk, kubectl (when present) against it, and a clean exit on SIGINT.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hasKubectl } from '../helpers/kubectl.ts';

const BIN = fileURLToPath(new URL('../../bin/kubemend.js', import.meta.url));

function startCli(args: string[]) {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  const waitFor = async (re: RegExp, ms = 20_000) => {
    const t0 = Date.now();
    while (!re.test(out)) {
      if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${re}; stdout:\n${out}\nstderr:\n${err}`);
      if (child.exitCode !== null) throw new Error(`exited ${child.exitCode}; stdout:\n${out}\nstderr:\n${err}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    return out;
  };
  return { child, exited, waitFor, output: () => out, errors: () => err };
}

test('sandbox writes a kubeconfig, serves the API, and exits 0 on SIGINT', { timeout: 120_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'km-cli-'));
  const kc = join(dir, 'kc');
  const cli = startCli(['sandbox', '--kubeconfig-out', kc, '--scenario', 'crashloop', '--speed', '20']);
  try {
    const out = await cli.waitFor(/kubeconfig: /);
    assert.match(out, /listening on http:\/\/127\.0\.0\.1:\d+/);
    assert.ok(existsSync(kc));
    assert.match(readFileSync(kc, 'utf8'), /server: http:\/\/127\.0\.0\.1:\d+/);
    await cli.waitFor(/reached: healthy/, 30_000);
    if (hasKubectl) {
      const pods = execFileSync('kubectl', ['--kubeconfig', kc, 'get', 'pods', '-n', 'shop'], { encoding: 'utf8' });
      assert.match(pods, /^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE/);
      assert.match(pods, /checkout-[a-z0-9]+-[a-z0-9]{5}\s+1\/1\s+Running/);
    }
  } finally {
    cli.child.kill('SIGINT');
  }
  assert.equal(await cli.exited, 0, cli.errors());
  assert.match(cli.output(), /sandbox stopped/);
});

test('sandbox enforces RBAC by default: --user tokens are held to their bindings, unknown tokens are 401; --rbac off serves them', { timeout: 120_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'km-cli-rbac-'));
  const kc = join(dir, 'kc');
  const get = async (url: string, token: string) => (await fetch(`${url}/api/v1/namespaces/default/pods`, { headers: { authorization: `Bearer ${token}` } })).status;
  const cli = startCli(['sandbox', '--kubeconfig-out', kc, '--user', 'carol:carol-token:shop,devs']);
  try {
    const out = await cli.waitFor(/kubeconfig: /);
    await cli.waitFor(/user: carol/);
    assert.match(cli.output(), /rbac: enforced/);
    assert.match(cli.output(), /user: carol \(groups shop, devs\) authenticates with its token/);
    const url = /listening on (http:\S+)/.exec(out)![1];
    assert.equal(await get(url, 'carol-token'), 403);
    assert.equal(await get(url, 'kubemend-sandbox-admin'), 200, 'the kubeconfig\'s admin');
    assert.equal(await get(url, 'guessed'), 401);
    if (hasKubectl) {
      const canI = (...args: string[]) => execFileSync('kubectl', ['--kubeconfig', kc, 'auth', 'can-i', ...args], { encoding: 'utf8' }).trim();
      assert.match(canI('--list', '--as=carol', '--as-group=shop'), /selfsubjectaccessreviews\.authorization\.k8s\.io/);
      assert.throws(() => canI('list', 'pods', '--as=carol'), (e: any) => e.status === 1 && String(e.stdout).trim() === 'no');
    }
  } finally {
    cli.child.kill('SIGINT');
  }
  assert.equal(await cli.exited, 0, cli.errors());

  const off = startCli(['sandbox', '--kubeconfig-out', kc, '--rbac', 'off', '--user', 'carol:carol-token']);
  try {
    const out = await off.waitFor(/kubeconfig: /);
    await off.waitFor(/user: carol/);
    assert.match(off.output(), /rbac: off/);
    const url = /listening on (http:\S+)/.exec(out)![1];
    assert.equal(await get(url, 'carol-token'), 200);
  } finally {
    off.child.kill('SIGINT');
  }
  assert.equal(await off.exited, 0, off.errors());
  const bad = startCli(['sandbox', '--rbac', 'maybe']);
  assert.notEqual(await bad.exited, 0);
  assert.match(bad.errors(), /--rbac.*KM-CLI-001 "maybe" is not an RBAC mode/s);
});

test('an unknown scenario exits 1 with KM-SANDBOX-001', { timeout: 120_000 }, async () => {
  const cli = startCli(['sandbox', '--scenario', 'no-such-scenario']);
  assert.equal(await cli.exited, 1);
  assert.match(cli.errors(), /KM-SANDBOX-001 no scenario named "no-such-scenario"/);
  assert.match(cli.errors(), /fix: /);
});

test('a bad --speed is a usage error naming the flag', { timeout: 120_000 }, async () => {
  const cli = startCli(['sandbox', '--speed', 'fast']);
  assert.notEqual(await cli.exited, 0);
  assert.match(cli.errors(), /--speed.*KM-CLI-001 "fast" is not a speed/s);
});

test('scenarios list shows the shipped scenarios', { timeout: 120_000 }, async () => {
  const cli = startCli(['scenarios', 'list']);
  assert.equal(await cli.exited, 0);
  for (const n of ['crashloop', 'image-pull', 'memory-cascade', 'node-broken', 'pending', 'config-change', 'event-storm']) assert.match(cli.output(), new RegExp(`^${n}\\s`, 'm'));
});

test('kubectl is available for the kubectl tests', { skip: hasKubectl ? false : 'kubectl is not on PATH; install kubectl 1.32 to run the kubectl tests', timeout: 120_000 }, () => {
  assert.ok(hasKubectl);
});

test('npm run demo: the whole loop ends with a succeeded rollback and a verified audit chain', { timeout: 120_000 }, async () => {
  const cli = startCli(['demo']);
  assert.equal(await cli.exited, 0, cli.errors());
  const out = cli.output();
  assert.match(out, /detection opened: crashloop-backoff deployment\/shop\/checkout/);
  assert.match(out, /bad-deploy\s+deployment\/shop\/checkout\s+succeeded\s+collect:succeeded rollback:succeeded waitRollout:succeeded smokeCheck:succeeded notify:succeeded/);
  assert.match(out, /audit log: \d+ records, hash chain verified/);
});
