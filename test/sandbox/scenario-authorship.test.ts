// Scenario steps with `fieldManager` leave the authorship a real cluster
// records: memory-cascade's Helm-installed objects and its hand-applied
// worker, read back over HTTP and with the real kubectl, whose next `apply`
// agrees with the last-applied-configuration the step wrote.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ConfigError } from '../../src/common/config.ts';
import { loadScenarioFile, resolveScenario, playFast, type FastPlay } from '../../src/sandbox/scenarios/index.ts';
import { hasKubectl } from '../helpers/kubectl.ts';

const run = promisify(execFile);
const skip = hasKubectl ? false : 'kubectl is not on PATH; these tests drive the sandbox with the real kubectl';
const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';
const memoryCascade = resolveScenario('memory-cascade').scenario;

let play: FastPlay;
let dir: string;
let kc: string;

const kubectl = async (...args: string[]) => (await run('kubectl', ['--kubeconfig', kc, '--cache-dir', join(dir, 'cache'), ...args], { encoding: 'utf8', timeout: 30_000 })).stdout;
const managers = (o: any) => (o.metadata.managedFields ?? []).map((f: any) => `${f.manager}:${f.operation}:${f.apiVersion}`);

before(async () => {
  play = playFast(memoryCascade);
  await play.run(5_000);
  await play.sandbox.listen();
  dir = mkdtempSync(join(tmpdir(), 'km-authors-'));
  kc = join(dir, 'kubeconfig');
  writeFileSync(kc, play.sandbox.kubeconfig());
});

after(async () => {
  play.runner.stop();
  await play.sandbox.stop();
});

test('memory-cascade: Helm made monitoring, the web app and the namespaces; kubectl client-side apply made the worker', { timeout: 30_000 }, () => {
  const store = play.sandbox.store;
  const worker = store.get('apps/deployments', 'reports', 'report-worker')!;
  assert.deepEqual(managers(worker), ['kubectl-client-side-apply:Update:apps/v1']);
  assert.equal((worker.metadata.managedFields![0] as any).time, worker.metadata.creationTimestamp, 'written when it was created');
  for (const [ns, name] of [['monitoring', 'prometheus'], ['shop', 'web']]) assert.deepEqual(managers(store.get('apps/deployments', ns, name)!), ['helm:Update:apps/v1']);
  for (const ns of ['monitoring', 'shop', 'reports']) assert.deepEqual(managers(store.get('namespaces', undefined, ns)!), ['helm:Update:v1']);
  assert.equal(store.get('apps/deployments', 'monitoring', 'prometheus')!.metadata.annotations?.[LAST_APPLIED], undefined, 'Helm writes no kubectl annotation');
  // kubectl apply's annotation: the manifest, its namespace, empty annotations, keys sorted, one line.
  const applied = worker.metadata.annotations![LAST_APPLIED];
  assert.match(applied, /^\{"apiVersion":"apps\/v1","kind":"Deployment","metadata":\{"annotations":\{\},"labels":\{"app":"report-worker"\},"name":"report-worker","namespace":"reports"\},"spec":\{/);
  assert.ok(applied.endsWith('}\n'));
  // The Deployment's own annotations stay off its ReplicaSet.
  const rs = store.list('apps/replicasets', 'reports').items[0];
  assert.equal(rs.metadata.annotations?.[LAST_APPLIED], undefined);
  // Steps without fieldManager leave no authorship, as before.
  assert.equal(store.get('nodes', undefined, 'node-2')!.metadata.managedFields, undefined);
});

test('kubectl shows the authors, and its next apply of the same manifest finds nothing to change', { skip, timeout: 60_000 }, async () => {
  const out = await kubectl('get', 'deploy', 'report-worker', '-n', 'reports', '--show-managed-fields', '-o', 'jsonpath={.metadata.managedFields[*].manager}');
  assert.equal(out, 'kubectl-client-side-apply');
  const manifest = join(dir, 'worker.json');
  const step = memoryCascade.spec.steps.find((s) => s.fieldManager === 'kubectl-client-side-apply')!;
  writeFileSync(manifest, JSON.stringify(step.apply![0]));
  assert.equal((await kubectl('apply', '-f', manifest)).trim(), 'deployment.apps/report-worker unchanged');
  // Someone then adds a limit the same way: a three-way patch from the annotation.
  const limited = structuredClone(step.apply![0]) as any;
  limited.spec.template.spec.containers[0].resources = { limits: { memory: '6Gi' } };
  writeFileSync(manifest, JSON.stringify(limited));
  assert.equal((await kubectl('apply', '-f', manifest)).trim(), 'deployment.apps/report-worker configured');
  const after = JSON.parse(await kubectl('get', 'deploy', 'report-worker', '-n', 'reports', '-o', 'json'));
  assert.equal(after.spec.template.spec.containers[0].resources.limits.memory, '6Gi');
  assert.match(after.metadata.annotations[LAST_APPLIED], /"limits":\{"memory":"6Gi"\}/);
});

test('fieldManager belongs to apply and patch steps only', { timeout: 30_000 }, () => {
  const file = join(dir, 'bad-author.yaml');
  writeFileSync(file, [
    'apiVersion: kubemend.dev/v1alpha1',
    'kind: Scenario',
    'metadata: { name: bad-author }',
    'spec:',
    '  duration: 1m',
    '  steps:',
    '    - at: 0s',
    '      fieldManager: helm',
    '      kubeletDown: { node: node-1, for: 1m }',
    '',
  ].join('\n'));
  assert.throws(() => loadScenarioFile(file), (e: unknown) => e instanceof ConfigError && e.problems.some((p) => p.path === 'spec.steps[0].fieldManager' && /apply or patch/.test(p.message)));
});

test('a patch step with fieldManager adds its entry to the object\'s managedFields', { timeout: 30_000 }, async () => {
  const { applyStep } = await import('../../src/sandbox/scenarios/index.ts');
  applyStep(play.sandbox, { at: 0, fieldManager: 'kubectl-edit', patch: { kind: 'Deployment', namespace: 'shop', name: 'web', type: 'merge', patch: { spec: { replicas: 3 } } } } as any);
  const web = play.sandbox.store.get('apps/deployments', 'shop', 'web')!;
  assert.equal(web.spec.replicas, 3);
  assert.deepEqual(managers(web), ['helm:Update:apps/v1', 'kubectl-edit:Update:apps/v1']);
});
