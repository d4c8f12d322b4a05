// `kubemend watch` as a user runs it: two clusters (kubeconfig contexts) in
// one process, detections labelled with their cluster, and a silence made
// with `kubemend silence add` recorded as silenced rather than dropped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { Sandbox } from '../../src/sandbox/cluster.ts';

const BIN = fileURLToPath(new URL('../../bin/kubemend.js', import.meta.url));
const RULES = fileURLToPath(new URL('../../rules', import.meta.url));

const deployment = (name: string, image: string) => ({
  metadata: { name, namespace: 'default', labels: { app: name } },
  spec: {
    replicas: 1,
    selector: { matchLabels: { app: name } },
    template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'app', image, resources: { limits: { memory: '128Mi' } } }] } },
  },
});

function mergedKubeconfig(clusters: Record<string, string>): string {
  const names = Object.keys(clusters);
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: names.map((n) => ({ name: n, cluster: { server: clusters[n], 'insecure-skip-tls-verify': true } })),
    users: [{ name: 'admin', user: { token: 'kubemend-sandbox-admin' } }],
    contexts: names.map((n) => ({ name: n, context: { cluster: n, user: 'admin' } })),
    'current-context': names[0],
  });
}

test('watch follows two clusters, labels detections by cluster, and records silenced ones', { timeout: 180_000 }, async () => {
  const east = new Sandbox({ speed: 20 });
  const west = new Sandbox({ speed: 20, images: { 'shop/bad:1': { exitAfterSeconds: 1, exitCode: 1 } } });
  await east.listen();
  await west.listen();
  const dir = mkdtempSync(join(tmpdir(), 'km-watch-'));
  const kc = join(dir, 'kubeconfig');
  writeFileSync(kc, mergedKubeconfig({ east: east.url, west: west.url }));
  const data = join(dir, 'data');
  const added = execFileSync(process.execPath, [BIN, 'silence', 'add', '--matcher', 'cluster=west', '--matcher', 'rule=crashloop-backoff', '--duration', '1h', '--comment', 'TICKET-42 known bad build', '--author', 'alice', '--data-dir', data], { encoding: 'utf8' });
  assert.match(added, /^silence [0-9a-f-]{36} until /);

  const child = spawn(process.execPath, [BIN, 'watch', '--kubeconfig', kc, '--context', 'east', '--context', 'west', '--rules', RULES, '--json', '--data-dir', data], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  const exited = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
  const lines = () => out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
  const waitFor = async (pred: (l: any) => boolean, what: string) => {
    const t0 = Date.now();
    while (!lines().some(pred)) {
      if (Date.now() - t0 > 30_000) throw new Error(`timed out waiting for ${what}\nstdout:\n${out}\nstderr:\n${err}`);
      if (child.exitCode !== null) throw new Error(`watch exited ${child.exitCode}\n${err}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  try {
    while (!/watching east, west/.test(out)) {
      if (child.exitCode !== null) throw new Error(`watch exited ${child.exitCode}\n${err}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    east.store.create('apps/deployments', deployment('cart', 'shop/cart:does-not-exist'));
    west.store.create('apps/deployments', deployment('bad', 'shop/bad:1'));
    await waitFor((l) => l.rule === 'image-pull-failure' && l.cluster === 'east' && l.change === 'opened', 'image-pull-failure in east');
    await waitFor((l) => l.rule === 'crashloop-backoff' && l.cluster === 'west' && l.change === 'silenced', 'silenced crashloop in west');
    const silenced = lines().find((l) => l.rule === 'crashloop-backoff' && l.change === 'silenced');
    assert.equal(silenced.status, 'silenced');
    assert.ok(silenced.silencedBy);
    assert.equal(silenced.labels.cluster, 'west');
    assert.ok(!lines().some((l) => l.rule === 'image-pull-failure' && l.cluster === 'west'), 'west has no image problem');
    // The API servers saw one list per watched kind and no per-event GETs.
    for (const sb of [east, west]) {
      const counts = sb.api!.requestCounts();
      assert.deepEqual(Object.keys(counts).filter((k) => k.startsWith('get ')), []);
    }
  } finally {
    child.kill('SIGINT');
    const code = await exited;
    await east.stop();
    await west.stop();
    assert.equal(code, 0, err);
  }
});

test('silence add refuses a matcher that would silence everything, naming the fix', { timeout: 180_000 }, () => {
  const data = mkdtempSync(join(tmpdir(), 'km-sil-'));
  let failed = false;
  try {
    execFileSync(process.execPath, [BIN, 'silence', 'add', '--matcher', 'severity!~critical', '--comment', 'x', '--data-dir', data], { encoding: 'utf8', stdio: 'pipe' });
  } catch (e) {
    failed = true;
    assert.match(String((e as { stderr: string }).stderr), /KM-SILENCE-001 .*would match every detection/);
  }
  assert.ok(failed);
  const list = execFileSync(process.execPath, [BIN, 'silence', 'list', '--json', '--data-dir', data], { encoding: 'utf8' });
  assert.deepEqual(JSON.parse(list), []);
});
