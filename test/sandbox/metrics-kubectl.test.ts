// `kubectl top` (the real kubectl 1.32) and the official Python client against
// the memory-cascade scenario played in virtual time: the report worker's
// memory grows between two looks, node-1 fills up, and the metrics API's 404
// reaches the user as metrics-server's would.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { resolveScenario, playFast, type FastPlay } from '../../src/sandbox/scenarios/index.ts';
import { hasKubectl } from '../helpers/kubectl.ts';

const run = promisify(execFile);
const skip = hasKubectl ? false : 'kubectl is not on PATH; these tests drive the sandbox with the real kubectl';
/** A Python with the official client: on PATH, or the system one that Debian's python3-kubernetes installs into. */
const python = ['python3', '/usr/bin/python3'].find((py) => {
  try {
    execFileSync(py, ['-c', 'import kubernetes'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
});
const skipPython = python ? false : 'the official Python client is not installed (apt-get install python3-kubernetes, or pip install kubernetes)';

let play: FastPlay;
let dir: string;
let kc: string;

async function kubectl(...args: string[]): Promise<string> {
  return (await run('kubectl', ['--kubeconfig', kc, '--cache-dir', join(dir, 'cache'), ...args], { encoding: 'utf8', timeout: 30_000 })).stdout;
}

async function kubectlFails(...args: string[]): Promise<string> {
  try {
    await kubectl(...args);
  } catch (err) {
    return String((err as { stderr?: string }).stderr);
  }
  assert.fail(`kubectl ${args.join(' ')} succeeded`);
}

/** MEMORY(bytes) of the report worker in `kubectl top pods -A`, in Mi. */
function workerMemoryMi(out: string): number {
  const row = out.split('\n').find((l) => /^reports\s+report-worker-/.test(l));
  assert.ok(row, `no report-worker row in:\n${out}`);
  const m = /\s(\d+)Mi\s*$/.exec(row);
  assert.ok(m, row);
  return Number(m[1]);
}

before(async () => {
  play = playFast(resolveScenario('memory-cascade').scenario);
  await play.run(60_000);
  await play.sandbox.listen();
  dir = mkdtempSync(join(tmpdir(), 'km-top-'));
  kc = join(dir, 'kubeconfig');
  writeFileSync(kc, play.sandbox.kubeconfig());
});

after(async () => {
  play.runner.stop();
  await play.sandbox.stop();
});

test('kubectl top pods -A and top pod -n show the leaking worker growing', { skip, timeout: 60_000 }, async () => {
  const first = await kubectl('top', 'pods', '-A');
  assert.match(first.split('\n')[0], /^NAMESPACE\s+NAME\s+CPU\(cores\)\s+MEMORY\(bytes\)\s*$/);
  assert.match(first, /^monitoring\s+prometheus-\S+\s+\d+m\s+\d+Mi\s*$/m);
  assert.match(first, /^shop\s+web-\S+\s+\d+m\s+\d+Mi\s*$/m);
  const before = workerMemoryMi(first);
  // 5000Mi at start, leaking 1500Mi a minute for about a minute.
  assert.ok(before > 6000 && before < 6600, `worker at ${before}Mi`);
  await play.run(80_000);
  const ns = await kubectl('top', 'pod', '-n', 'reports');
  assert.match(ns.split('\n')[0], /^NAME\s+CPU\(cores\)\s+MEMORY\(bytes\)\s*$/);
  const row = ns.split('\n').find((l) => l.startsWith('report-worker-'))!;
  const after = Number(/\s(\d+)Mi\s*$/.exec(row)![1]);
  assert.ok(after - before > 450 && after - before < 550, `20s of a 1500Mi/min leak: ${before}Mi → ${after}Mi`);
});

test('kubectl top nodes: node-1 holds the worker and fills up, the others are nearly empty', { skip, timeout: 60_000 }, async () => {
  const out = await kubectl('top', 'nodes');
  assert.match(out.split('\n')[0], /^NAME\s+CPU\(cores\)\s+CPU\(%\)\s+MEMORY\(bytes\)\s+MEMORY\(%\)\s*$/);
  const pct = (node: string) => Number(new RegExp(`^${node}\\s+\\d+m\\s+\\d+%\\s+\\d+Mi\\s+(\\d+)%`, 'm').exec(out)?.[1]);
  assert.ok(pct('node-1') > 80, out);
  assert.ok(pct('node-2') < 10 && pct('node-3') < 10, out);
});

test('kubectl top pod for a pod that does not exist, and with a selector matching nothing', { skip, timeout: 60_000 }, async () => {
  assert.match(await kubectlFails('top', 'pod', 'nope', '-n', 'reports'), /Error from server \(NotFound\): pods "nope" not found/);
  const { stderr } = await run('kubectl', ['--kubeconfig', kc, '--cache-dir', join(dir, 'cache'), 'top', 'pod', '-n', 'shop', '-l', 'app=nothing'], { encoding: 'utf8' });
  assert.match(stderr, /No resources found in shop namespace/);
  const web = await kubectl('top', 'pod', '-n', 'shop', '-l', 'app=web', '--containers');
  assert.equal(web.trim().split('\n').filter((l) => /^web-/.test(l)).length, 2);
});

test('the official Python client lists NodeMetrics and gets a PodMetrics through CustomObjectsApi', { skip: skipPython, timeout: 60_000 }, async () => {
  const script = [
    'import json, os, sys',
    'from kubernetes import client, config',
    'config.load_kube_config(config_file=os.environ["KC"])',
    'api = client.CustomObjectsApi()',
    'nodes = api.list_cluster_custom_object("metrics.k8s.io", "v1beta1", "nodes")',
    'pods = api.list_namespaced_custom_object("metrics.k8s.io", "v1beta1", "reports", "pods")',
    'name = pods["items"][0]["metadata"]["name"]',
    'one = api.get_namespaced_custom_object("metrics.k8s.io", "v1beta1", "reports", "pods", name)',
    'try:',
    '    api.get_namespaced_custom_object("metrics.k8s.io", "v1beta1", "reports", "pods", "nope")',
    '    missing = None',
    'except client.exceptions.ApiException as e:',
    '    missing = {"status": e.status, "body": json.loads(e.body)}',
    'print(json.dumps({"nodes": nodes, "one": one, "missing": missing}))',
  ].join('\n');
  const { stdout } = await run(python!, ['-c', script], { encoding: 'utf8', env: { ...process.env, KC: kc }, timeout: 30_000 });
  const r = JSON.parse(stdout);
  assert.equal(r.nodes.kind, 'NodeMetricsList');
  assert.deepEqual(r.nodes.items.map((n: any) => n.metadata.name), ['node-1', 'node-2', 'node-3']);
  for (const n of r.nodes.items) {
    assert.match(n.usage.cpu, /^\d+n$/);
    assert.match(n.usage.memory, /^\d+Ki$/);
    assert.equal(n.window, '10s');
  }
  assert.equal(r.one.kind, 'PodMetrics');
  assert.equal(r.one.containers[0].name, 'worker');
  assert.equal(r.missing.status, 404);
  assert.equal(r.missing.body.message, 'pods "nope" not found');
});
