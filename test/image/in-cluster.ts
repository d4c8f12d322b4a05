// A sandbox that looks, to a process in the image, like the cluster a pod
// runs in: RBAC enforced, a ServiceAccount with a token from the TokenRequest
// API, and the API server reached over TLS at KUBERNETES_SERVICE_HOST:PORT
// with the CA in the mounted ca.crt. The sandbox speaks plain HTTP, and
// client-node's in-cluster loader always uses https (it verifies the server
// against ca.crt), so a TLS front with a throwaway certificate forwards to
// it. kubemend itself is unchanged: this is the path a real pod takes.
import { execFile } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createTlsServer } from 'node:tls';
import { promisify } from 'node:util';
import { Sandbox } from '../../src/sandbox/cluster.ts';

const run = promisify(execFile);
const RBAC = 'rbac.authorization.k8s.io';

export interface InClusterSandbox {
  sandbox: Sandbox;
  /** The TLS front's port: KUBERNETES_SERVICE_PORT. */
  port: number;
  /** The ServiceAccount volume (token, ca.crt, namespace), for /var/run/secrets/kubernetes.io/serviceaccount. */
  serviceAccountDir: string;
  /** A scratch directory the container user can read. */
  dir: string;
  /** The environment and volume a pod of that ServiceAccount gets. */
  pod: { env: Record<string, string>; volumes: string[] };
  stop(): Promise<void>;
}

/**
 * Starts the sandbox with RBAC enforced, makes the ServiceAccount
 * namespace/name, binds it to each ClusterRole of `bindings` (made from
 * `rules` when given, else an existing one such as `view`), and writes its
 * token, the CA and the namespace as the kubelet would mount them.
 */
export async function startInClusterSandbox(o: { namespace: string; name: string; bindings: { clusterRole: string; rules?: unknown[] }[] }): Promise<InClusterSandbox> {
  const dir = mkdtempSync(join(tmpdir(), 'kubemend-image-'));
  // The container runs as 65532: everything it reads must be readable by others.
  chmodSync(dir, 0o755);
  const saDir = join(dir, 'serviceaccount');
  mkdirSync(saDir, { mode: 0o755 });
  await run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
    '-subj', '/CN=kube-apiserver', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:kubernetes.default.svc',
    '-keyout', join(dir, 'tls.key'), '-out', join(saDir, 'ca.crt')]);
  chmodSync(join(saDir, 'ca.crt'), 0o644);

  const sandbox = new Sandbox({ rbac: 'enforce', speed: 1 });
  let upstream = 0;
  const sockets = new Set<Socket>();
  const front = createTlsServer({ key: readFileSync(join(dir, 'tls.key')), cert: readFileSync(join(saDir, 'ca.crt')) }, (client) => {
    const server = connect(upstream, '127.0.0.1');
    for (const s of [client, server]) {
      sockets.add(s);
      s.once('close', () => sockets.delete(s));
    }
    client.pipe(server).pipe(client);
    server.on('error', () => client.destroy());
    client.on('error', () => server.destroy());
  });
  const stop = async () => {
    // Watches held open by a process that was killed would keep close() waiting.
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => front.close(() => resolve()));
    await sandbox.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const { url } = await sandbox.listen({ host: '127.0.0.1' });
    upstream = Number(new URL(url).port);
    await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
    const port = (front.address() as AddressInfo).port;

    // Set up as the sandbox's admin, with the token its kubeconfig carries (system:masters).
    const admin = /token: (\S+)/.exec(sandbox.kubeconfig())?.[1] ?? '';
    const post = async (path: string, body: unknown) => {
      const res = await fetch(url + path, { method: 'POST', headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
      const json = (await res.json()) as any;
      if (res.status !== 201) throw new Error(`POST ${path}: ${res.status} ${JSON.stringify(json)}`);
      return json;
    };
    await post('/api/v1/namespaces', { metadata: { name: o.namespace } });
    await post(`/api/v1/namespaces/${o.namespace}/serviceaccounts`, { metadata: { name: o.name } });
    for (const b of o.bindings) {
      if (b.rules) await post(`/apis/${RBAC}/v1/clusterroles`, { metadata: { name: b.clusterRole }, rules: b.rules });
      await post(`/apis/${RBAC}/v1/clusterrolebindings`, {
        metadata: { name: `${o.name}-${b.clusterRole}` },
        roleRef: { apiGroup: RBAC, kind: 'ClusterRole', name: b.clusterRole },
        subjects: [{ kind: 'ServiceAccount', name: o.name, namespace: o.namespace }],
      });
    }
    const review = await post(`/api/v1/namespaces/${o.namespace}/serviceaccounts/${o.name}/token`, {
      apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { audiences: [], expirationSeconds: 3600 },
    });
    writeFileSync(join(saDir, 'token'), review.status.token, { mode: 0o644 });
    writeFileSync(join(saDir, 'namespace'), o.namespace, { mode: 0o644 });
    return {
      sandbox,
      port,
      serviceAccountDir: saDir,
      dir,
      pod: {
        env: { KUBERNETES_SERVICE_HOST: '127.0.0.1', KUBERNETES_SERVICE_PORT: String(port) },
        volumes: [`${saDir}:/var/run/secrets/kubernetes.io/serviceaccount:ro`],
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
