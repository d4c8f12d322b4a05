// Workflows an on-call engineer runs with plain kubectl, against a full
// sandbox (all controllers) over HTTP: rollouts, undo, scale, cordon, events.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Sandbox } from '../../src/sandbox/cluster.ts';
import { hasKubectl } from '../helpers/kubectl.ts';

const run = promisify(execFile);
const skip = hasKubectl ? false : 'kubectl is not on PATH; these tests drive the sandbox with the real kubectl';

let sandbox: Sandbox;
let kc: string;
const kubectl = async (...args: string[]) => (await run('kubectl', ['--kubeconfig', kc, ...args], { encoding: 'utf8' })).stdout;

before(async () => {
  // 20x: a rollout of a few pods takes a couple of real seconds.
  sandbox = new Sandbox({ speed: 20 });
  await sandbox.listen();
  kc = join(mkdtempSync(join(tmpdir(), 'km-kubectl-')), 'kubeconfig');
  writeFileSync(kc, sandbox.kubeconfig());
});

after(async () => {
  await sandbox.stop();
});

test('create deployment, rollout status completes', { skip, timeout: 60_000 }, async () => {
  await kubectl('create', 'deployment', 'web', '--image=nginx:1.27', '--replicas=3');
  const out = await kubectl('rollout', 'status', 'deployment/web', '--timeout=60s');
  assert.match(out, /successfully rolled out/);
  const table = await kubectl('get', 'deploy', 'web');
  assert.match(table, /^NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE/);
  assert.match(table, /web\s+3\/3\s+3\s+3\s+/);
});

test('rollout restart makes a new revision and rollout status follows it to completion', { skip, timeout: 60_000 }, async () => {
  await kubectl('rollout', 'restart', 'deployment/web');
  const out = await kubectl('rollout', 'status', 'deployment/web', '--timeout=60s');
  assert.match(out, /successfully rolled out/);
  const rs = JSON.parse(await kubectl('get', 'rs', '-l', 'app=web', '-o', 'json')).items;
  const revisions = rs.map((r: any) => r.metadata.annotations['deployment.kubernetes.io/revision']).sort();
  assert.deepEqual(revisions, ['1', '2']);
  const history = await kubectl('rollout', 'history', 'deployment/web');
  assert.match(history, /REVISION/);
});

test('rollout undo restores the previous template', { skip, timeout: 60_000 }, async () => {
  await kubectl('set', 'image', 'deployment/web', 'nginx=nginx:1.28');
  await kubectl('rollout', 'status', 'deployment/web', '--timeout=60s');
  assert.equal(await kubectl('get', 'deploy', 'web', '-o', 'jsonpath={.spec.template.spec.containers[0].image}'), 'nginx:1.28');
  const undo = await kubectl('rollout', 'undo', 'deployment/web');
  assert.match(undo, /rolled back/);
  await kubectl('rollout', 'status', 'deployment/web', '--timeout=60s');
  assert.equal(await kubectl('get', 'deploy', 'web', '-o', 'jsonpath={.spec.template.spec.containers[0].image}'), 'nginx:1.27');
  const pods = JSON.parse(await kubectl('get', 'pods', '-l', 'app=web', '-o', 'json')).items.filter((p: any) => !p.metadata.deletionTimestamp);
  assert.equal(pods.length, 3);
  for (const p of pods) assert.equal(p.spec.containers[0].image, 'nginx:1.27');
});

test('kubectl scale changes the replica count and the pods follow', { skip, timeout: 60_000 }, async () => {
  await kubectl('scale', 'deployment/web', '--replicas=5');
  await kubectl('rollout', 'status', 'deployment/web', '--timeout=60s');
  const d = JSON.parse(await kubectl('get', 'deploy', 'web', '-o', 'json'));
  assert.equal(d.spec.replicas, 5);
  assert.equal(d.status.availableReplicas, 5);
});

test('kubectl cordon marks the node unschedulable', { skip, timeout: 60_000 }, async () => {
  const out = await kubectl('cordon', 'node-1');
  assert.match(out, /node\/node-1 cordoned/);
  const nodes = await kubectl('get', 'nodes');
  assert.match(nodes, /node-1\s+Ready,SchedulingDisabled/);
  await kubectl('uncordon', 'node-1');
});

test('kubectl get events --field-selector type!=Normal shows only warnings', { skip, timeout: 60_000 }, async () => {
  await kubectl('create', 'deployment', 'broken', '--image=example.invalid/nope:1');
  let out = '';
  for (let i = 0; i < 100 && !/Failed/.test(out); i++) {
    await new Promise((r) => setTimeout(r, 100));
    out = await kubectl('get', 'events', '--field-selector', 'type!=Normal');
  }
  assert.match(out, /^LAST SEEN\s+TYPE\s+REASON\s+OBJECT\s+MESSAGE/);
  assert.match(out, /Warning\s+Failed\s+pod\/broken-/);
  assert.doesNotMatch(out, /\bNormal\b/);
  const pods = await kubectl('get', 'pods', '-l', 'app=broken');
  assert.match(pods, /ErrImagePull|ImagePullBackOff/);
});

test('kubectl logs reads what the container wrote', { skip, timeout: 60_000 }, async () => {
  const pod = (await kubectl('get', 'pods', '-l', 'app=web', '-o', 'jsonpath={.items[0].metadata.name}')).trim();
  const logs = await kubectl('logs', pod);
  assert.match(logs, /Configuration complete/);
});
