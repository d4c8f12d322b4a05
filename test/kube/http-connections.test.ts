// KubeHttp keeps one connection pool per TLS identity. client-node 2.0.1
// builds a new undici Agent for every request when the kubeconfig has TLS
// settings, so each request paid a TCP (and TLS) handshake on the API server
// and left a pool for the collector (issue 16). The server below counts the
// connections it accepts, as an API server's load would.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeHttp, kubeConfigFromYaml } from '../../src/kube/index.ts';

async function countingServer(): Promise<{ server: Server; url: string; connections: () => number }> {
  let n = 0;
  const server = createServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ kind: 'Pod', apiVersion: 'v1', metadata: { name: 'x', namespace: 'default', resourceVersion: '1' }, auth: req.headers.authorization }));
  });
  server.on('connection', () => n++);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, connections: () => n };
}

const kubeconfig = (url: string, extra = '') => `apiVersion: v1
kind: Config
clusters: [{ name: c, cluster: { server: "${url}", insecure-skip-tls-verify: true${extra} } }]
users: [{ name: u, user: { token: t0ken } }]
contexts: [{ name: c, context: { cluster: c, user: u } }]
current-context: c
`;

test('sequential and concurrent requests share connections; the token is still sent on each', { timeout: 30_000 }, async (t) => {
  const s = await countingServer();
  t.after(() => s.server.close());
  const http = new KubeHttp(kubeConfigFromYaml(kubeconfig(s.url)));
  for (let i = 0; i < 20; i++) {
    const pod = await http.request<{ auth: string }>('GET', '/api/v1/namespaces/default/pods/x');
    assert.equal(pod.auth, 'Bearer t0ken');
  }
  // undici opens a second connection for a request sent in the tick the first response ends, then reuses both.
  assert.ok(s.connections() <= 2, `twenty requests one after another: one or two connections, got ${s.connections()}`);
  const sequential = s.connections();
  await Promise.all(Array.from({ length: 5 }, () => http.request('GET', '/api/v1/namespaces/default/pods/x')));
  await Promise.all(Array.from({ length: 5 }, () => http.request('GET', '/api/v1/namespaces/default/pods/x')));
  assert.ok(s.connections() - sequential <= 5, `two rounds of five at once: at most five more connections, got ${s.connections() - sequential}`);
  s.server.closeAllConnections();
});

test('a change of the TLS settings gets a new connection pool', { timeout: 30_000 }, async (t) => {
  const s = await countingServer();
  t.after(() => s.server.close());
  const kc = kubeConfigFromYaml(kubeconfig(s.url));
  const http = new KubeHttp(kc);
  const ten = async () => {
    for (let i = 0; i < 10; i++) await http.request('GET', '/api/v1/namespaces/default/pods/x');
  };
  await ten();
  const before = s.connections();
  assert.ok(before <= 2, `ten requests: one or two connections, got ${before}`);
  // As a reloaded kubeconfig would: the same cluster, another TLS server name.
  (kc.getCurrentCluster() as { tlsServerName?: string }).tlsServerName = 'api.example';
  await ten();
  const after = s.connections() - before;
  assert.ok(after >= 1 && after <= 2, `the pool built for the old settings is not used for the new, and the new one is kept: ${after} new connections`);
  s.server.closeAllConnections();
});
