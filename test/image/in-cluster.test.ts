// The image run as a pod of a ServiceAccount would be: only
// KUBERNETES_SERVICE_HOST/PORT and the mounted token, CA and namespace tell
// kubemend where the cluster is and who it is. `kubemend serve` must come up
// ready on exactly that ServiceAccount's rights: what its ClusterRoles grant
// is served, what they do not is refused by the cluster's RBAC, naming the
// ServiceAccount (the sandbox's authorizer words it from the token's identity).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { buildImage, runIn, skipInCluster, startIn, type BuiltImage } from './harness.ts';
import { startInClusterSandbox, type InClusterSandbox } from './in-cluster.ts';

const SA = 'system:serviceaccount:kubemend:kubemend';
const entrypoint = ['/usr/local/bin/node', '/app/bin/kubemend.js'];

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined> | T | undefined): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('the image in a cluster, as a ServiceAccount', { skip: skipInCluster, timeout: 600_000 }, () => {
  let image: BuiltImage;
  let cluster: InClusterSandbox;
  let configDir: string;
  before(async () => {
    // Both are kept even when the other fails, so after() stops the sandbox (its timers would keep this file running).
    const [built, started] = await Promise.allSettled([
      buildImage('in-cluster'),
      // `view` reads namespaced workloads; nodes are cluster-scoped, so a role of their own.
      // Nothing grants node metrics (metrics.k8s.io), which serve also reads.
      startInClusterSandbox({
        namespace: 'kubemend', name: 'kubemend',
        bindings: [{ clusterRole: 'view' }, { clusterRole: 'node-reader', rules: [{ apiGroups: [''], resources: ['nodes'], verbs: ['get', 'list', 'watch'] }] }],
      }),
    ]);
    if (built.status === 'fulfilled') image = built.value;
    if (started.status === 'fulfilled') cluster = started.value;
    for (const r of [built, started]) if (r.status === 'rejected') throw r.reason;
    configDir = join(cluster.dir, 'config');
    mkdirSync(configDir, { mode: 0o755 });
    // client-node names the in-cluster context inClusterContext; chat acts there by default.
    writeFileSync(join(configDir, 'kubemend.yaml'), 'apiVersion: kubemend.dev/v1alpha1\nkind: Config\nmetadata: { name: in-cluster }\nspec:\n  chat: { defaultCluster: inClusterContext }\n', { mode: 0o644 });
  });
  after(async () => {
    await cluster?.stop();
    await image?.remove();
  });

  it('serve becomes ready from the in-cluster settings alone, and the cluster sees the ServiceAccount', { timeout: 300_000 }, async (t) => {
    const port = await freePort();
    const started = performance.now();
    const serve = await startIn(image.tag, [...entrypoint, 'serve', '--config', '/etc/kubemend/kubemend.yaml', '--listen', `127.0.0.1:${port}`], {
      env: cluster.pod.env,
      volumes: [...cluster.pod.volumes, `${configDir}:/etc/kubemend:ro`],
    });
    try {
      const ready = await until('/readyz', 180_000, async () => {
        if (serve.child.exitCode !== null) throw new Error(`serve exited with ${serve.child.exitCode}:\n${serve.output()}`);
        const res = await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined);
        return res?.status === 200 ? await res.json() : undefined;
      });
      const seconds = (performance.now() - started) / 1000;
      t.diagnostic(`serve ready ${seconds.toFixed(1)} s after buildah run started (its ~1 s container set-up included)`);
      assert.deepEqual(ready, { status: 'ready', checks: { informersSynced: true, store: true }, leader: { enabled: false, leading: true } });
      assert.match(serve.output(), /clusters inClusterContext/, 'serve says which cluster it watches');

      const refusal = `nodes.metrics.k8s.io is forbidden: User "${SA}" cannot list resource "nodes" in API group "metrics.k8s.io" at the cluster scope`;
      await until('the node metrics refusal', 60_000, () => (serve.output().includes(refusal) ? true : undefined));
      const ours = cluster.sandbox.api!.requestLog.filter((e) => e.userAgent?.startsWith('kubemend/'));
      const answered = (path: string) => ours.filter((e) => e.path.startsWith(path)).map((e) => e.code);
      assert.ok(answered('/api/v1/pods?').includes(200), 'pods are listed: view grants them');
      assert.ok(answered('/api/v1/nodes?').includes(200), 'nodes are listed: node-reader grants them');
      assert.ok(answered('/apis/metrics.k8s.io/v1beta1/nodes').every((c) => c === 403) && answered('/apis/metrics.k8s.io/v1beta1/nodes').length > 0,
        'node metrics are refused: nothing grants them');
      assert.ok(ours.every((e) => e.user === undefined), 'kubemend acts as itself here: no impersonation');
    } finally {
      await serve.stop();
    }
  });

  it('without a ServiceAccount token it refuses to start, naming what is missing', { timeout: 120_000 }, async () => {
    const r = await runIn(image.tag, [...entrypoint, 'watch'], { env: cluster.pod.env });
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stderr, /error: KM-KUBE-\d{3} no kubeconfig: --kubeconfig is not given, \$KUBECONFIG is unset and \/home\/nonroot\/\.kube\/config does not exist/);
  });
});
