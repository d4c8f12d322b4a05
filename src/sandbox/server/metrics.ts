// What the API server was asked to do: Prometheus counters (served at
// /metrics), the same counts as a plain map for tests, and a bounded log of
// recent requests with the identity each one impersonated. kubemend's tests
// use these to prove informers never fall back to per-event GETs and that
// every mutation ran as the expected user.
import { Counter, Gauge, Registry } from 'prom-client';

export type Verb = 'get' | 'list' | 'watch' | 'create' | 'update' | 'patch' | 'delete' | 'deletecollection';

export interface RequestLogEntry {
  /** Sandbox clock time (ms) when the request arrived. */
  time: number;
  method: string;
  /** Path and query, as requested. */
  path: string;
  /** Kubernetes verb for resource requests; absent for discovery and other non-resource paths. */
  verb?: Verb;
  /** `pods`, `apps/deployments`, `pods/log`, `apps/deployments/scale` … */
  resource?: string;
  namespace?: string;
  name?: string;
  userAgent?: string;
  /** Impersonate-User header. */
  user?: string;
  /** Impersonate-Group headers. */
  groups?: string[];
  /** Who the request's credentials authenticated (before impersonation); absent when authentication failed (401). */
  authenticated?: string;
  code: number;
}

const LOG_LIMIT = 5000;

export class ServerMetrics {
  readonly registry = new Registry();
  readonly requestLog: RequestLogEntry[] = [];
  private readonly counts = new Map<string, number>();
  private readonly requests: Counter<'verb' | 'resource' | 'code'>;
  private readonly watches: Gauge;

  constructor() {
    this.requests = new Counter({
      name: 'kubemend_sandbox_requests_total',
      help: 'API requests served by the sandbox, by Kubernetes verb, resource and HTTP status code.',
      labelNames: ['verb', 'resource', 'code'],
      registers: [this.registry],
    });
    this.watches = new Gauge({
      name: 'kubemend_sandbox_watches',
      help: 'Watch streams currently open on the sandbox API server.',
      registers: [this.registry],
    });
  }

  /** Counts one answered request; watches count when their stream opens. */
  record(entry: RequestLogEntry): void {
    if (entry.verb && entry.resource) {
      this.requests.inc({ verb: entry.verb, resource: entry.resource, code: String(entry.code) });
      const k = `${entry.verb} ${entry.resource}`;
      this.counts.set(k, (this.counts.get(k) ?? 0) + 1);
    }
    this.requestLog.push(entry);
    // Trim in place: callers may hold on to the requestLog array itself.
    if (this.requestLog.length > LOG_LIMIT) this.requestLog.splice(0, this.requestLog.length - LOG_LIMIT);
  }

  watchOpened(): void {
    this.watches.inc();
  }

  watchClosed(): void {
    this.watches.dec();
  }

  requestCounts(): Record<string, number> {
    return Object.fromEntries([...this.counts].sort(([a], [b]) => (a < b ? -1 : 1)));
  }

  async text(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
