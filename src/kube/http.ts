// Raw JSON requests to an API server through a KubeConfig's credentials and
// TLS settings. kubemend keeps objects as plain JSON (what CEL rules and
// diffs see), so it does not use client-node's typed (de)serialisers here.
import type { KubeConfig, HttpMethod } from '@kubernetes/client-node';
import { clientNode, undici } from './lazy.ts';
import { KubemendError, Errors, kubeRequestsTotal } from '../common/index.ts';
import { KubeApiError } from './errors.ts';
import { DispatcherCache } from './dispatchers.ts';

/** What kubemend calls itself to API servers (and so the field manager of its writes). */
export const USER_AGENT = 'kubemend/v0.1.0';

export interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  contentType?: string;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

export interface Identity {
  /** Sent as Impersonate-User / Impersonate-Group so the cluster's RBAC applies to this identity. */
  user: string;
  groups?: string[];
}

export class KubeHttp {
  readonly kc: KubeConfig;
  readonly server: string;
  /** Requests made, by "METHOD path-template", for tests and metrics. */
  readonly counts = new Map<string, number>();
  /** Unary requests awaiting a response (watch streams excluded): lets a virtual-time driver wait for I/O to settle. */
  inFlight = 0;
  private readonly dispatchers: DispatcherCache;

  constructor(kc: KubeConfig) {
    this.kc = kc;
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new KubemendError(Errors.KUBECONFIG_INVALID, `the kubeconfig has no current cluster (current context: ${kc.getCurrentContext() || 'none'})`);
    this.server = cluster.server.replace(/\/$/, '');
    this.dispatchers = new DispatcherCache(kc);
  }

  url(path: string, query: RequestOptions['query'] = {}): string {
    const u = new URL(this.server + path);
    for (const [k, v] of Object.entries(query)) if (v !== undefined) u.searchParams.set(k, String(v));
    return u.toString();
  }

  async request<T = any>(method: string, path: string, opts: RequestOptions = {}, as?: Identity): Promise<T> {
    this.inFlight++;
    let res: Awaited<ReturnType<KubeHttp['raw']>>;
    let text: string;
    try {
      res = await this.raw(method, path, opts, as);
      text = await res.text();
    } finally {
      this.inFlight--;
    }
    const body = text ? safeJson(text) : undefined;
    if (res.status >= 400) throw KubeApiError.fromResponse(method, path, res.status, body, res.headers.get('retry-after'));
    return body as T;
  }

  /** The response itself, for streams (watch, logs). */
  async raw(method: string, path: string, opts: RequestOptions = {}, as?: Identity) {
    const ctx = new (clientNode().RequestContext)(this.url(path, opts.query), method as HttpMethod);
    await this.kc.applySecurityAuthentication(ctx);
    // The API server names a write's field manager after the user agent's first word: kubemend's own writes read "kubemend" in managedFields.
    const headers: Record<string, string> = { Accept: 'application/json', 'User-Agent': USER_AGENT, ...ctx.getHeaders(), ...(opts.headers ?? {}) };
    if (as) {
      headers['Impersonate-User'] = as.user;
    }
    let body: string | undefined;
    if (opts.body !== undefined) {
      body = typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
      headers['Content-Type'] = opts.contentType ?? 'application/json';
    }
    const key = `${method} ${path.replace(/\/namespaces\/[^/]+/, '/namespaces/{ns}')}`;
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
    const verb = verbOf(method, opts.query);
    try {
      // Impersonate-Group may repeat; undici takes an array of pairs for that.
      const pairs: [string, string][] = Object.entries(headers);
      for (const g of as?.groups ?? []) pairs.push(['Impersonate-Group', g]);
      const res = await undici().fetch(ctx.getUrl(), { method, headers: pairs, body, dispatcher: this.dispatchers.use(ctx.getDispatcher()), signal: opts.signal });
      kubeRequestsTotal.inc({ verb, code: String(res.status) });
      return res;
    } catch (err) {
      kubeRequestsTotal.inc({ verb, code: 'network' });
      throw KubeApiError.network(method, path, err);
    }
  }
}

/** The Kubernetes verb of a request, as the API server's audit log names it (list and get both arrive as GET). */
function verbOf(method: string, query: RequestOptions['query']): string {
  switch (method.toUpperCase()) {
    case 'GET': return query?.watch ? 'watch' : 'get';
    case 'POST': return 'create';
    case 'PUT': return 'update';
    case 'PATCH': return 'patch';
    case 'DELETE': return 'delete';
    default: return method.toLowerCase();
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
