// The real kubectl (1.32) against a sandbox: discovery, table output,
// create/apply/patch/label/annotate/delete, field selectors, cordon, logs,
// drain (protobuf Eviction bodies) and watches. Skipped when kubectl is not
// installed.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { Sandbox } from '../../src/sandbox/cluster.ts';
import { hasKubectl } from '../helpers/kubectl.ts';

const run = promisify(execFile);

describe('sandbox API server with kubectl', { skip: hasKubectl ? false : 'kubectl is not on PATH; install kubectl 1.32 to run these tests', timeout: 60_000 }, () => {
  let sandbox: Sandbox;
  let dir: string;
  let kubeconfig: string;

  /** Runs kubectl with the sandbox's kubeconfig; rejects with stderr on failure. */
  async function kubectl(...args: string[]): Promise<string> {
    try {
      const { stdout } = await run('kubectl', ['--kubeconfig', kubeconfig, '--cache-dir', join(dir, 'cache'), ...args], { timeout: 30_000 });
      return stdout;
    } catch (err) {
      const e = err as { stderr?: string; message: string };
      throw new Error(`kubectl ${args.join(' ')} failed: ${e.stderr || e.message}`);
    }
  }

  /** The error output of a kubectl command that must fail. */
  async function kubectlFails(...args: string[]): Promise<string> {
    try {
      await run('kubectl', ['--kubeconfig', kubeconfig, '--cache-dir', join(dir, 'cache'), ...args], { timeout: 30_000 });
    } catch (err) {
      return (err as { stderr: string }).stderr;
    }
    assert.fail(`kubectl ${args.join(' ')} succeeded`);
  }

  before(async () => {
    sandbox = new Sandbox({ speed: 1 });
    await sandbox.listen();
    dir = mkdtempSync(join(tmpdir(), 'kubemend-kubectl-'));
    kubeconfig = join(dir, 'kubeconfig');
    writeFileSync(kubeconfig, sandbox.kubeconfig());
  });

  after(async () => {
    await sandbox.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reports the server version', async () => {
    const out = await kubectl('version');
    assert.match(out, /Server Version: v1\.32\.0-kubemend/);
  });

  it('lists every served type in api-resources', async () => {
    const out = await kubectl('api-resources');
    const lines = out.trim().split('\n');
    assert.match(lines[0], /^NAME\s+SHORTNAMES\s+APIVERSION\s+NAMESPACED\s+KIND$/);
    for (const row of [/^pods\s+po\s+v1\s+true\s+Pod$/, /^deployments\s+deploy\s+apps\/v1\s+true\s+Deployment$/, /^nodes\s+no\s+v1\s+false\s+Node$/, /^poddisruptionbudgets\s+pdb\s+policy\/v1\s+true\s+PodDisruptionBudget$/, /^events\s+ev\s+events\.k8s\.io\/v1\s+true\s+Event$/]) {
      assert.ok(lines.some((l) => row.test(l)), `missing ${row}`);
    }
  });

  it('gets nodes and pods as tables', async () => {
    const nodes = await kubectl('get', 'nodes');
    assert.match(nodes, /^NAME\s+STATUS\s+ROLES\s+AGE\s+VERSION/);
    assert.match(nodes, /node-1\s+Ready/);
    sandbox.store.create('pods', { metadata: { name: 'lonely', namespace: 'kube-system' }, spec: { containers: [{ name: 'c', image: 'busybox' }] } });
    const pods = await kubectl('get', 'pods', '-A');
    assert.match(pods.split('\n')[0], /^NAMESPACE\s+NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE$/);
    assert.match(pods, /kube-system\s+lonely\s+\d\/1\s/);
  });

  it('creates a deployment from the typed (protobuf) client', async () => {
    assert.equal((await kubectl('create', 'deployment', 'web', '--image=nginx')).trim(), 'deployment.apps/web created');
    const d = sandbox.store.get('apps/deployments', 'default', 'web');
    assert.equal(d?.spec.template.spec.containers[0].image, 'nginx');
    assert.deepEqual(d?.spec.selector, { matchLabels: { app: 'web' } });
    assert.equal(d?.metadata.managedFields?.length, 1);
    const err = await kubectlFails('create', 'deployment', 'web', '--image=nginx');
    assert.match(err, /deployments\.apps "web" already exists/);
  });

  it('applies a manifest: created, unchanged, configured', async () => {
    const file = join(dir, 'app.yaml');
    const manifest = (value: string) => `apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
data:
  mode: "${value}"
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
spec:
  replicas: 2
  selector:
    matchLabels: {app: api}
  template:
    metadata:
      labels: {app: api}
    spec:
      containers:
      - name: api
        image: nginx:1.27
`;
    writeFileSync(file, manifest('a'));
    assert.equal((await kubectl('apply', '-f', file)).trim(), 'configmap/settings created\ndeployment.apps/api created');
    assert.equal((await kubectl('apply', '-f', file)).trim(), 'configmap/settings unchanged\ndeployment.apps/api unchanged');
    writeFileSync(file, manifest('b'));
    assert.equal((await kubectl('apply', '-f', file)).trim(), 'configmap/settings configured\ndeployment.apps/api unchanged');
    assert.equal(sandbox.store.get('configmaps', 'default', 'settings')?.data.mode, 'b');
    assert.match((await kubectl('apply', '--server-side', '-f', file)), /configmap\/settings serverside-applied/);
  });

  it('patches with strategic, merge and JSON patches, and labels and annotates', async () => {
    await kubectl('patch', 'deployment', 'web', '-p', '{"spec":{"template":{"spec":{"containers":[{"name":"sidecar","image":"busybox"}]}}}}');
    let d = sandbox.store.get('apps/deployments', 'default', 'web')!;
    assert.deepEqual(d.spec.template.spec.containers.map((c: { name: string }) => c.name).sort(), ['nginx', 'sidecar']);
    await kubectl('patch', 'deployment', 'web', '--type=merge', '-p', '{"spec":{"replicas":3}}');
    await kubectl('patch', 'deployment', 'web', '--type=json', '-p', '[{"op":"add","path":"/metadata/labels/patched","value":"json"}]');
    await kubectl('label', 'deployment', 'web', 'tier=frontend');
    await kubectl('annotate', 'deployment', 'web', 'kubemend.dev/owner=sre');
    d = sandbox.store.get('apps/deployments', 'default', 'web')!;
    assert.equal(d.spec.replicas, 3);
    assert.equal(d.metadata.labels?.patched, 'json');
    assert.equal(d.metadata.labels?.tier, 'frontend');
    assert.equal(d.metadata.annotations?.['kubemend.dev/owner'], 'sre');
    const managers = (d.metadata.managedFields as { manager: string }[]).map((m) => m.manager);
    assert.ok(managers.includes('kubectl-label') && managers.includes('kubectl-annotate') && managers.includes('kubectl-patch'));
  });

  it('prints objects as YAML', async () => {
    const obj = parseYaml(await kubectl('get', 'deployment', 'web', '-o', 'yaml'));
    assert.equal(obj.kind, 'Deployment');
    assert.equal(obj.apiVersion, 'apps/v1');
    assert.equal(obj.spec.strategy.type, 'RollingUpdate');
  });

  it('deletes objects', async () => {
    await kubectl('create', 'configmap', 'doomed', '--from-literal=a=1');
    assert.equal((await kubectl('delete', 'configmap', 'doomed')).trim(), 'configmap "doomed" deleted');
    assert.equal(sandbox.store.get('configmaps', 'default', 'doomed'), undefined);
    assert.match(await kubectlFails('get', 'configmap', 'doomed'), /configmaps "doomed" not found/);
  });

  it('filters events with a field selector', async () => {
    const pod = sandbox.store.create('pods', { metadata: { name: 'eventful', namespace: 'default' }, spec: { containers: [{ name: 'c', image: 'busybox' }] } });
    sandbox.events.emit(pod, 'Warning', 'BackOff', 'Back-off restarting failed container c', { component: 'kubelet' });
    sandbox.events.emit(pod, 'Normal', 'Pulled', 'Successfully pulled image "busybox"', { component: 'kubelet' });
    const out = await kubectl('get', 'events', '--field-selector', 'type!=Normal,involvedObject.name=eventful');
    assert.match(out, /Warning\s+BackOff\s+pod\/eventful\s+Back-off restarting failed container c/);
    assert.doesNotMatch(out, /Pulled/);
  });

  it('cordons a node', async () => {
    assert.equal((await kubectl('cordon', 'node-2')).trim(), 'node/node-2 cordoned');
    assert.equal(sandbox.store.get('nodes', undefined, 'node-2')?.spec.unschedulable, true);
    assert.match(await kubectl('get', 'nodes'), /node-2\s+Ready,SchedulingDisabled/);
    await kubectl('uncordon', 'node-2');
  });

  it('shows container logs', async () => {
    // An image the sandbox does not know never starts, so the kubelet model writes no lines of its own.
    sandbox.store.create('pods', { metadata: { name: 'talker', namespace: 'default' }, spec: { nodeName: 'node-1', containers: [{ name: 'app', image: 'registry.invalid/talker:1' }] } });
    sandbox.logs.append('default', 'talker', 'app', 'starting up');
    sandbox.logs.append('default', 'talker', 'app', 'listening on :8080');
    assert.equal(await kubectl('logs', 'talker'), 'starting up\nlistening on :8080\n');
    assert.equal(await kubectl('logs', 'talker', '--tail=1'), 'listening on :8080\n');
    assert.match(await kubectlFails('logs', 'talker', '--previous'), /previous terminated container "app" in pod "talker" not found/);
  });

  it('drains a node through the eviction subresource', async () => {
    sandbox.store.create('pods', { metadata: { name: 'drainee', namespace: 'default' }, spec: { nodeName: 'node-3', containers: [{ name: 'app', image: 'busybox' }] } });
    sandbox.store.mutate('pods', 'default', 'drainee', (p) => { p.status = { ...p.status, phase: 'Running' }; }, { subresource: 'status' });
    const before = sandbox.api!.requestCounts()['create pods/eviction'] ?? 0;
    const out = await kubectl('drain', 'node-3', '--force', '--ignore-daemonsets', '--grace-period=0', '--pod-selector=!app', '--timeout=20s');
    assert.match(out, /evicting pod default\/drainee|pod\/drainee evicted/);
    assert.equal(sandbox.store.get('pods', 'default', 'drainee'), undefined);
    assert.ok((sandbox.api!.requestCounts()['create pods/eviction'] ?? 0) > before);
    await kubectl('uncordon', 'node-3');
  });

  it('watches with get -w', async () => {
    const child = spawn('kubectl', ['--kubeconfig', kubeconfig, '--cache-dir', join(dir, 'cache'), 'get', 'configmaps', '-w', '-l', 'watched=yes']);
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    const waitFor = async (re: RegExp) => {
      const end = Date.now() + 10_000;
      while (!re.test(out)) {
        if (Date.now() > end) assert.fail(`timed out waiting for ${re}; got ${JSON.stringify(out)}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    try {
      sandbox.store.create('configmaps', { metadata: { name: 'first-watched', namespace: 'default', labels: { watched: 'yes' } } });
      await waitFor(/first-watched/);
      assert.match(out, /^NAME\s+DATA\s+AGE/);
      sandbox.store.create('configmaps', { metadata: { name: 'second-watched', namespace: 'default', labels: { watched: 'yes' } }, data: { a: '1' } });
      await waitFor(/second-watched\s+1\s/);
    } finally {
      child.kill();
    }
  });
});
