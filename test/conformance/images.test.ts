// The registry as a node sees it: published tags of public images pull; a tag
// that does not exist, a private or unknown repository and an unresolvable
// registry fail with containerd's messages, ErrImagePull then ImagePullBackOff
// with a growing back-off, and the kubelet's events; an unparsable name is
// InvalidImageName. Images a scenario or `kubemend sandbox --image` declares
// exist. Driven by kubectl, the Python client and raw HTTP. Behaviour from
// https://kubernetes.io/docs/concepts/containers/images/#imagepullbackoff.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../../src/common/clock.ts';
import { advanceBy, type Conformance, KUBECTL, kubectlOk, needs, startConformance } from './harness.ts';

const NOT_FOUND = 'rpc error: code = NotFound desc = failed to pull and unpack image "docker.io/library/nginx:1.999": failed to resolve reference "docker.io/library/nginx:1.999": docker.io/library/nginx:1.999: not found';

describe('images', { timeout: 180_000 }, () => {
  let c: Conformance;
  const clock = new ManualClock();
  const advance = (ms: number) => advanceBy(clock, ms);
  const ok = (args: string[], stdin?: string) => kubectlOk(c, args, stdin);
  const status = async (name: string) => (await ok(['get', 'pod', name, '--no-headers'])).trim().split(/\s+/)[2];
  const waiting = async (name: string) => JSON.parse(await ok(['get', 'pod', name, '-o', 'json'])).status.containerStatuses[0].state.waiting;

  before(async () => {
    c = await startConformance({ options: { clock, images: { 'shop/web:1': { logs: ['listening on :8080'] } } } });
  });
  after(async () => {
    await c?.close();
  });

  it('a tag nginx never published: ErrImagePull, then ImagePullBackOff, with the kubelet\'s events', { skip: needs('kubectl') }, async () => {
    await ok(['run', 'bad', '--image=nginx:1.999']);
    await advance(2_000);
    assert.equal(await status('bad'), 'ErrImagePull');
    assert.deepEqual(await waiting('bad'), { reason: 'ErrImagePull', message: NOT_FOUND });
    await advance(6_000);
    assert.equal(await status('bad'), 'ImagePullBackOff');
    assert.deepEqual(await waiting('bad'), { reason: 'ImagePullBackOff', message: `Back-off pulling image "nginx:1.999": ErrImagePull: ${NOT_FOUND}` });
    const described = await ok(['describe', 'pod', 'bad']);
    for (const line of [
      /Normal\s+Pulling\s+.*kubelet\s+Pulling image "nginx:1\.999"/,
      new RegExp(`Warning\\s+Failed\\s+.*kubelet\\s+Failed to pull image "nginx:1\\.999": ${NOT_FOUND.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`),
      /Warning\s+Failed\s+.*kubelet\s+Error: ErrImagePull/,
      /Normal\s+BackOff\s+.*kubelet\s+Back-off pulling image "nginx:1\.999"/,
      /Warning\s+Failed\s+.*kubelet\s+Error: ImagePullBackOff/,
    ]) assert.match(described, line);
    // Retries back off: 10s, 20s, 40s … (each after a 1s failed pull).
    await advance(120_000);
    const pulling = JSON.parse(await ok(['get', 'events', '--field-selector', 'involvedObject.name=bad,reason=Pulling', '-o', 'json'])).items[0];
    assert.equal(pulling.count, 4, 'pulls at 0s, 11s, 32s and 73s within the first 128s');
  });

  it('published tags of the common public images pull and run', { skip: needs('kubectl') }, async () => {
    const images = ['nginx:1.27.3', 'busybox:1.36.1', 'redis:7.2-alpine', 'postgres:16', 'alpine:3.20', 'python:3.12-slim', 'node:20-alpine', 'httpd:2.4', 'mysql:8.0', 'registry.k8s.io/pause:3.10', 'docker.io/library/nginx:stable-alpine', `nginx@sha256:${'0'.repeat(64)}`];
    for (const [i, image] of images.entries()) await ok(['run', `pub-${i}`, `--image=${image}`, '--', 'sleep', '3600']);
    await advance(10_000);
    for (const [i, image] of images.entries()) assert.equal(await status(`pub-${i}`), 'Running', image);
  });

  it('private and unknown repositories, missing tags of declared ones, and unknown registries fail as containerd reports them', { skip: needs('kubectl') }, async () => {
    const cases: [string, string][] = [
      ['acme/private:1', 'rpc error: code = Unknown desc = failed to pull and unpack image "docker.io/acme/private:1": failed to resolve reference "docker.io/acme/private:1": pull access denied, repository does not exist or may require authorization: server message: insufficient_scope: authorization failed'],
      ['registry.example.com/team/api:2.0', 'rpc error: code = Unknown desc = failed to pull and unpack image "registry.example.com/team/api:2.0": failed to resolve reference "registry.example.com/team/api:2.0": failed to do request: Head "https://registry.example.com/v2/team/api/manifests/2.0": dial tcp: lookup registry.example.com: no such host'],
      ['shop/web:2', 'rpc error: code = NotFound desc = failed to pull and unpack image "docker.io/shop/web:2": failed to resolve reference "docker.io/shop/web:2": docker.io/shop/web:2: not found'],
      ['registry.k8s.io/pause:9.9', 'rpc error: code = NotFound desc = failed to pull and unpack image "registry.k8s.io/pause:9.9": failed to resolve reference "registry.k8s.io/pause:9.9": registry.k8s.io/pause:9.9: not found'],
    ];
    for (const [i, [image]] of cases.entries()) await ok(['run', `priv-${i}`, `--image=${image}`]);
    await advance(2_000);
    for (const [i, [image, message]] of cases.entries()) assert.deepEqual(await waiting(`priv-${i}`), { reason: 'ErrImagePull', message }, image);
  });

  it('an image name that does not parse: InvalidImageName and InspectFailed', { skip: needs('kubectl') }, async () => {
    // kubectl run refuses such a name itself; a manifest gets it to the node.
    await ok(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'upper' }, spec: { containers: [{ name: 'c', image: 'Nginx:1.27' }] } }));
    await advance(2_000);
    assert.equal(await status('upper'), 'InvalidImageName');
    const events = JSON.parse(await ok(['get', 'events', '--field-selector', 'involvedObject.name=upper', '-o', 'json'])).items;
    assert.deepEqual(events.filter((e: any) => e.type === 'Warning').map((e: any) => [e.reason, e.message]), [
      ['InspectFailed', 'Failed to apply default image tag "Nginx:1.27": couldn\'t parse image name "Nginx:1.27": invalid reference format: repository name (library/Nginx) must be lowercase'],
      ['Failed', 'Error: InvalidImageName'],
    ]);
  });

  it('an image the scenario declares exists (shop/web:1); Python sees the pull events', { skip: needs('python3-kubernetes') }, async () => {
    const created = await c.http('POST', '/api/v1/namespaces/default/pods', { body: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'shop' }, spec: { containers: [{ name: 'web', image: 'shop/web:1' }] } } });
    assert.equal(created.status, 201);
    await advance(5_000);
    const r = await c.python(`
from kubernetes import client, config
config.load_kube_config()
v1 = client.CoreV1Api()
print(v1.read_namespaced_pod('shop', 'default').status.phase)
for e in v1.list_namespaced_event('default', field_selector='involvedObject.name=shop').items:
    print(e.reason, e.message.split(' in ')[0])
`);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.split('\n')[0], 'Running');
    assert.match(r.stdout, /^Pulling Pulling image "shop\/web:1"$/m);
    assert.match(r.stdout, /^Pulled Successfully pulled image "shop\/web:1"$/m);
  });

  it('raw HTTP: the waiting message names the last pull error', async () => {
    const p = (await c.http('GET', '/api/v1/namespaces/default/pods/bad')).json();
    assert.equal(p.status.phase, 'Pending');
    assert.equal(p.status.containerStatuses[0].state.waiting.message, `Back-off pulling image "nginx:1.999": ErrImagePull: ${NOT_FOUND}`);
    assert.equal(p.status.containerStatuses[0].image, 'nginx:1.999');
  });
});

describe('kubemend sandbox --image', { timeout: 120_000 }, () => {
  it('serves a private image the flag names; a malformed reference is a flag error', { skip: needs('kubectl') }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'km-image-flag-'));
    const kubeconfig = join(dir, 'kubeconfig');
    const main = new URL('../../src/cli/main.ts', import.meta.url).pathname;
    const child = spawn(process.execPath, [main, 'sandbox', '--port', '0', '--kubeconfig-out', kubeconfig, '--speed', '20', '--image', 'acme/private:1'], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      let out = '';
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (b) => {
          out += String(b);
          if (out.includes('kubeconfig:')) resolve();
        });
        child.on('exit', () => reject(new Error(`sandbox exited: ${out}`)));
      });
      const kubectl = (...args: string[]) => new Promise<string>((resolve, reject) => {
        const k = spawn(KUBECTL, ['--kubeconfig', kubeconfig, ...args]);
        let text = '';
        k.stdout.on('data', (b) => (text += String(b)));
        k.on('exit', (code) => (code === 0 ? resolve(text) : reject(new Error(`kubectl ${args.join(' ')} exited ${code}`))));
      });
      await kubectl('run', 'private', '--image=acme/private:1');
      let phase = '';
      for (let i = 0; i < 50 && phase !== 'Running'; i++) {
        await new Promise((r) => setTimeout(r, 100));
        phase = await kubectl('get', 'pod', 'private', '-o', 'jsonpath={.status.phase}');
      }
      assert.equal(phase, 'Running');
    } finally {
      child.kill('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    }
    const bad = spawn(process.execPath, [main, 'sandbox', '--image', 'Not A Reference'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    bad.stderr.on('data', (b) => (err += String(b)));
    const code = await new Promise((r) => bad.on('exit', r));
    assert.notEqual(code, 0);
    assert.match(err, /KM-CLI-001.*"Not A Reference" is not an image reference/);
  });
});
