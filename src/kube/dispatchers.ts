// One undici dispatcher per TLS identity, kept across requests.
// @kubernetes/client-node (2.0.1) builds a new undici Agent in every
// applySecurityAuthentication whenever the kubeconfig has TLS settings (a
// CA, a client certificate, or insecure-skip-tls-verify): each request then
// opened its own connection — a TCP and TLS handshake per request on the API
// server — and left a connection pool behind for the collector (issue 16:
// 13 of the 30 MB found alive in `kubemend run` at 500
// events/s). Headers (tokens) are still applied per request by client-node,
// so rotating tokens keep working; the dispatcher is rebuilt when the TLS
// material it was made from changes.
import { statSync } from 'node:fs';
import type { KubeConfig } from '@kubernetes/client-node';

type Dispatcher = NonNullable<ReturnType<InstanceType<typeof import('@kubernetes/client-node').RequestContext>['getDispatcher']>>;

/** What a dispatcher was built from: the cluster's TLS settings and the user's certificate, files by name, size and time. */
function tlsKey(kc: KubeConfig): string | undefined {
  const c = kc.getCurrentCluster();
  const u = kc.getCurrentUser();
  // An exec plugin or auth provider may hand out client certificates that the kubeconfig does not show: no reuse.
  if (u?.exec || u?.authProvider) return undefined;
  const file = (f: string | undefined) => {
    if (!f) return '';
    try {
      const s = statSync(f);
      return `${f}@${s.mtimeMs}:${s.size}`;
    } catch {
      return f;
    }
  };
  return JSON.stringify([c?.server, c?.skipTLSVerify, c?.tlsServerName, c?.proxyUrl, c?.caData, file(c?.caFile), u?.certData, file(u?.certFile), u?.keyData, file(u?.keyFile)]);
}

export class DispatcherCache {
  private kept: { key: string; dispatcher: Dispatcher } | undefined;
  private readonly kc: KubeConfig;

  constructor(kc: KubeConfig) {
    this.kc = kc;
  }

  /**
   * The dispatcher to send a request with, given the one client-node just
   * built for it: the kept one while the TLS material is unchanged (the new
   * one is dropped before it ever connects), else the new one, kept.
   */
  use(fresh: Dispatcher | undefined): Dispatcher | undefined {
    if (!fresh) return undefined;
    const key = tlsKey(this.kc);
    if (key === undefined) return fresh;
    if (this.kept?.key === key) return this.kept.dispatcher;
    const old = this.kept?.dispatcher;
    this.kept = { key, dispatcher: fresh };
    // Graceful: requests still on the old one (a watch) finish there.
    old?.close().catch(() => {});
    return fresh;
  }
}
