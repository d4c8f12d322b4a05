// A small real HTTP server in front of a sandbox that answers the
// metrics.k8s.io API the way metrics-server does (NodeMetricsList,
// PodMetricsList, usage as "123Ki" / "456n"), from the sandbox's own usage
// model, and passes every other request (watches included) through to the
// sandbox: an aggregated API server in miniature. `served = false` answers
// 404 as a cluster without metrics-server does.
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { kubeconfigYaml } from '../../src/sandbox/kubeconfig.ts';
import type { Sandbox } from '../../src/sandbox/cluster.ts';

const PREFIX = '/apis/metrics.k8s.io/v1beta1';

export interface MetricsProxy {
  url: string;
  kubeconfig(): string;
  /** Metrics paths requested, in order (query strings included). */
  requests: string[];
  /** false: answer 404, as a cluster without metrics-server. */
  served: boolean;
  /** Bytes added to a node's usage (to push it toward allocatable without a scenario). */
  extraNodeBytes: Map<string, number>;
  close(): Promise<void>;
}

const ki = (bytes: number) => `${Math.round(bytes / 1024)}Ki`;
const nano = (cores: number) => `${Math.round(cores * 1e9)}n`;

export async function metricsProxy(sandbox: Sandbox): Promise<MetricsProxy> {
  const upstream = new URL(sandbox.url);
  const stamp = () => new Date(sandbox.clock.now()).toISOString();
  const proxy: MetricsProxy = { url: '', kubeconfig: () => kubeconfigYaml(proxy.url), requests: [], served: true, extraNodeBytes: new Map(), close: async () => {} };

  const nodeItem = (name: string) => {
    const u = sandbox.usage.node(name);
    return { metadata: { name, creationTimestamp: stamp() }, timestamp: stamp(), window: '30s', usage: { cpu: nano(u.cpuCores), memory: ki(u.memoryBytes + (proxy.extraNodeBytes.get(name) ?? 0)) } };
  };
  const podItem = (ns: string, name: string) => {
    const p = sandbox.usage.pod(ns, name);
    if (!p) return undefined;
    return {
      metadata: { name, namespace: ns, creationTimestamp: stamp() },
      timestamp: stamp(),
      window: '30s',
      containers: [...p.containers].map(([c, u]) => ({ name: c, usage: { cpu: nano(u.cpuCores), memory: ki(u.memoryBytes) } })),
    };
  };

  function metrics(path: string, res: ServerResponse): void {
    const send = (code: number, body: unknown) => {
      res.writeHead(code, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (!proxy.served) return send(404, { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', code: 404, message: 'the server could not find the requested resource' });
    const rest = path.slice(PREFIX.length);
    let m: RegExpExecArray | null;
    if (rest === '/nodes') return send(200, { kind: 'NodeMetricsList', apiVersion: 'metrics.k8s.io/v1beta1', metadata: {}, items: sandbox.store.list('nodes').items.map((n) => nodeItem(n.metadata.name!)) });
    if ((m = /^\/nodes\/([^/]+)$/.exec(rest))) {
      return sandbox.store.get('nodes', undefined, m[1]) ? send(200, { kind: 'NodeMetrics', apiVersion: 'metrics.k8s.io/v1beta1', ...nodeItem(m[1]) }) : send(404, { kind: 'Status', code: 404, reason: 'NotFound' });
    }
    if ((m = /^(?:\/namespaces\/([^/]+))?\/pods$/.exec(rest))) {
      const items = sandbox.store.list('pods', m[1]).items.map((p) => podItem(p.metadata.namespace!, p.metadata.name!)).filter(Boolean);
      return send(200, { kind: 'PodMetricsList', apiVersion: 'metrics.k8s.io/v1beta1', metadata: {}, items });
    }
    send(404, { kind: 'Status', code: 404, reason: 'NotFound' });
  }

  function pass(req: IncomingMessage, res: ServerResponse): void {
    const up = httpRequest({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: { ...req.headers, host: upstream.host } }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    up.on('error', () => res.destroy());
    res.on('close', () => up.destroy());
    req.pipe(up);
  }

  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path.startsWith(PREFIX)) {
      proxy.requests.push(req.url ?? '');
      return metrics(path, res);
    }
    pass(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  proxy.close = () => new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
  return proxy;
}
