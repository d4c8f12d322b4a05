// The sandbox API server on a free port with @kubernetes/client-node 2.x
// clients, and the helpers the server-* tests share.
import assert from 'node:assert/strict';
import * as k8s from '@kubernetes/client-node';
import { ManualClock } from '../../src/common/clock.ts';
import { LogBook } from '../../src/sandbox/logs.ts';
import { ObjectStore } from '../../src/sandbox/store.ts';
import { kubeconfigYaml } from '../../src/sandbox/kubeconfig.ts';
import { startApiServer, type ApiServer } from '../../src/sandbox/server/index.ts';

export const NS = 'default';

export interface TestServer {
  clock: ManualClock;
  store: ObjectStore;
  logs: LogBook;
  server: ApiServer;
  kc: k8s.KubeConfig;
  core: k8s.CoreV1Api;
  apps: k8s.AppsV1Api;
  policy: k8s.PolicyV1Api;
}

/** A server over a fresh store with the default and other namespaces and node-1; close it with server.close(). */
export async function startTestServer(): Promise<TestServer> {
  const clock = new ManualClock();
  const store = new ObjectStore({ clock });
  const logs = new LogBook(clock);
  for (const ns of [NS, 'other']) store.create('namespaces', { metadata: { name: ns } });
  store.create('nodes', { metadata: { name: 'node-1' }, spec: {} });
  const server = await startApiServer({ store, clock, logs, host: '127.0.0.1', port: 0 });
  const kc = new k8s.KubeConfig();
  kc.loadFromString(kubeconfigYaml(server.url));
  return {
    clock, store, logs, server, kc,
    core: kc.makeApiClient(k8s.CoreV1Api),
    apps: kc.makeApiClient(k8s.AppsV1Api),
    policy: kc.makeApiClient(k8s.PolicyV1Api),
  };
}

// Untyped on purpose: the same literal serves client-node (V1Pod) and the store (K8sObject).
export function pod(name: string, labels: Record<string, string> = {}, nodeName?: string, containers = ['app']) {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: NS, labels },
    spec: { ...(nodeName ? { nodeName } : {}), containers: containers.map((c) => ({ name: c, image: 'nginx:1.27' })) },
  };
}

export function deployment(name: string, replicas = 2): k8s.V1Deployment {
  return {
    metadata: { name, labels: { app: name } },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'app', image: 'nginx:1.27' }] } },
    },
  };
}

export const patchAs = (type: string) => k8s.setHeaderOptions('Content-Type', type);

/** Resolves with the ApiException a call rejects with. */
export async function apiError(p: Promise<unknown>): Promise<k8s.ApiException<any>> {
  try {
    await p;
  } catch (err) {
    if (err instanceof k8s.ApiException) return err;
    throw err;
  }
  assert.fail('expected the call to fail');
}

interface Seen { type: string; obj: any }

/** Starts a client-node watch and collects its events until stopped. */
export async function collect(kc: k8s.KubeConfig, path: string, query: Record<string, string | number | boolean | undefined>) {
  const events: Seen[] = [];
  let ended: unknown = 'open';
  const req = await new k8s.Watch(kc).watch(path, query, (type, obj) => events.push({ type, obj }), (err) => { ended = err ?? null; });
  return { events, req, ended: () => ended };
}

export async function until(cond: () => boolean, what: string, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
