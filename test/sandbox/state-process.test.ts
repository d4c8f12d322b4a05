// `kubemend sandbox --state-file` as a crash sees it: a real child process is
// killed with SIGKILL mid-scenario and started again with the same flags. A
// real client (@kubernetes/client-node, over the kubeconfig the CLI writes)
// finds the same objects, watches from before the crash get 410 Gone, and
// the scenario carries on to its later milestones without repeating a step.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as k8s from '@kubernetes/client-node';
import type { SandboxState } from '../../src/sandbox/state.ts';

const BIN = fileURLToPath(new URL('../../bin/kubemend.js', import.meta.url));

function startCli(args: string[]) {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const exited = new Promise<NodeJS.Signals | number | null>((r) => child.on('exit', (code, signal) => r(signal ?? code)));
  const waitFor = async (re: RegExp, ms = 30_000) => {
    const t0 = Date.now();
    while (!re.test(out)) {
      if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${re}; output:\n${out}`);
      if (child.exitCode !== null) throw new Error(`exited ${child.exitCode}; output:\n${out}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  return { child, exited, waitFor, output: () => out };
}

async function poll<T>(what: string, fn: () => Promise<T | undefined> | T | undefined, ms = 30_000): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function client(kubeconfig: string) {
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(kubeconfig);
  return { kc, core: kc.makeApiClient(k8s.CoreV1Api), apps: kc.makeApiClient(k8s.AppsV1Api) };
}

async function uids(c: ReturnType<typeof client>): Promise<Record<string, string>> {
  const items = [
    ...(await c.core.listNode()).items.map((o) => ['node', o]),
    ...(await c.core.listNamespace()).items.map((o) => ['namespace', o]),
    ...(await c.apps.listNamespacedDeployment({ namespace: 'shop' })).items.map((o) => ['deployment', o]),
    ...(await c.apps.listNamespacedReplicaSet({ namespace: 'shop' })).items.map((o) => ['replicaset', o]),
    ...(await c.core.listNamespacedPod({ namespace: 'shop' })).items.map((o) => ['pod', o]),
  ] as [string, { metadata?: k8s.V1ObjectMeta }][];
  return Object.fromEntries(items.map(([kind, o]) => [`${kind}/${o.metadata!.name}`, o.metadata!.uid!]));
}

test('kill -9 of `kubemend sandbox --state-file` and a restart: same cluster, the scenario continues', { timeout: 120_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'km-state-proc-'));
  const stateFile = join(dir, 'state.json');
  const kubeconfig = join(dir, 'kubeconfig');
  const args = ['sandbox', '--scenario', 'crashloop', '--state-file', stateFile, '--kubeconfig-out', kubeconfig, '--speed', '30'];

  const first = startCli(args);
  let second: ReturnType<typeof startCli> | undefined;
  try {
    await first.waitFor(/state: saving to /);
    // Every read of the file while it is being rewritten must parse: writes replace it whole.
    let reads = 0;
    // Wait for a batch holding the bad deploy and its surge pod; after that crashloop's set of objects holds still.
    const saved = await poll('the bad deploy in the state file', () => {
      const s = JSON.parse(readFileSync(stateFile, 'utf8')) as SandboxState;
      reads++;
      const deploy = s.objects['apps/deployments']?.find((d) => d.metadata.name === 'checkout');
      const badPod = s.objects.pods?.some((p) => p.spec.containers[0].image === 'shop/checkout:1.5.0');
      return deploy?.spec.template.spec.containers[0].image === 'shop/checkout:1.5.0' && badPod && s.progress?.appliedSteps.length === 2 ? s : undefined;
    });
    assert.ok(reads > 1);
    const c1 = client(kubeconfig);
    const before = await uids(c1);
    const inFile = new Set(Object.values(saved.objects).flat().map((o) => o.metadata.uid));
    for (const [name, uid] of Object.entries(before)) assert.ok(inFile.has(uid), `${name} is in the state file`);
    const rvBefore = Number((await c1.core.listNamespacedPod({ namespace: 'shop' })).metadata!.resourceVersion);
    assert.ok(Object.keys(before).some((k) => k.startsWith('pod/checkout-')), JSON.stringify(before));
    first.child.kill('SIGKILL');
    assert.equal(await first.exited, 'SIGKILL');
    assert.doesNotMatch(first.output(), /sandbox stopped/, 'no clean shutdown happened');
    assert.ok(JSON.parse(readFileSync(stateFile, 'utf8')).savedAt >= saved.savedAt, 'the file left behind is whole');

    second = startCli(args);
    await second.waitFor(/resumed: 2 of 2 steps already applied; reached before: healthy, new-revision/);
    assert.match(second.output(), /state: restored \d+ objects from /);
    const c2 = client(kubeconfig);
    const after = await uids(c2);
    for (const [name, uid] of Object.entries(before)) assert.equal(after[name], uid, `${name} keeps its uid`);

    // A watch resumed from before the crash is told its resourceVersion is gone, as after an etcd restore.
    const rvAfter = Number((await c2.core.listNamespacedPod({ namespace: 'shop' })).metadata!.resourceVersion);
    assert.ok(rvAfter > rvBefore, `${rvAfter} > ${rvBefore}`);
    const seen: { type: string; obj: any }[] = [];
    const req = await new k8s.Watch(c2.kc).watch('/api/v1/namespaces/shop/pods', { resourceVersion: String(rvBefore) }, (type, obj) => seen.push({ type, obj }), () => {});
    await poll('410 Gone on the old watch', () => (seen.some((e) => e.type === 'ERROR' && e.obj?.code === 410) ? true : undefined), 10_000);
    req.abort();

    // The scenario goes on to milestones it had not reached, and replays nothing.
    await second.waitFor(/reached: restarts-climb/, 60_000);
    await second.waitFor(/reached: previous-revision-serving/, 60_000);
    const pods = (await c2.core.listNamespacedPod({ namespace: 'shop' })).items;
    assert.ok(pods.some((p) => (p.status?.containerStatuses ?? []).some((s) => s.restartCount >= 3)));
    assert.doesNotMatch(second.output(), /step: /, 'no step is applied again');
    assert.doesNotMatch(second.output(), /reached: (healthy|new-revision)/, 'milestones reached before stay reached');

    second.child.kill('SIGINT');
    assert.equal(await second.exited, 0, second.output());
    assert.match(second.output(), /sandbox stopped/);
    assert.ok(!existsSync(`${stateFile}.tmp`), 'no temporary file is left after a clean stop');
  } finally {
    first.child.kill('SIGKILL');
    second?.child.kill('SIGKILL');
  }
});
