// The sandbox's Kubernetes API server: plain HTTP on loopback, any bearer
// token accepted, speaking enough of kube-apiserver 1.32 that kubectl and
// @kubernetes/client-node work against it unchanged.
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import type { Clock } from '../../common/index.ts';
import type { LogBook } from '../logs.ts';
import type { FaultBook } from '../faults.ts';
import type { ObjectStore } from '../store.ts';
import type { UsageBook } from '../usage.ts';
import { UNSECURED, type StaticUser } from '../authn.ts';
import { TokenIssuer } from '../tokens.ts';
import { StreamRegistry, type Call, type Outcome, type RbacMode, type ServerContext } from './context.ts';
import { ServerMetrics, type RequestLogEntry } from './metrics.ts';
import { dispatch, errorOutcome } from './routes.ts';
import { loadSchemas } from './schema.ts';

export type { RequestLogEntry } from './metrics.ts';

export interface ApiServerOptions {
  store: ObjectStore;
  clock: Clock;
  logs: LogBook;
  faults?: FaultBook;
  /** Serve metrics.k8s.io (`kubectl top`) from this usage; without it the API is absent, as on a cluster without metrics-server. */
  usage?: UsageBook;
  /** Real milliseconds between watch bookmarks (default 60000, as kube-apiserver); for tests. */
  bookmarkEveryMs?: number;
  /** kube-apiserver's --min-request-timeout (default 1800): a watch without timeoutSeconds ends after 1–2× this many real seconds. */
  minRequestTimeoutSeconds?: number;
  host?: string;
  /** 0 (the default) picks a free port. */
  port?: number;
  /** Issues and checks service account tokens; shared with the sandbox so its state file keeps the key. */
  tokens?: TokenIssuer;
  /** 'enforce' authorizes every request by RBAC; 'off' (the default) lets every request through. */
  rbac?: RbacMode;
  /** Static token users besides the sandbox's admin. */
  users?: readonly StaticUser[];
}

export interface ApiServer {
  /** `http://127.0.0.1:PORT` */
  url: string;
  /** Ends open watches and log follows, then stops listening. */
  close(): Promise<void>;
  /** Requests by "verb resource", e.g. "list pods", "watch apps/deployments", "get pods". */
  requestCounts(): Record<string, number>;
  /** The last 5000 requests, oldest first. */
  requestLog: RequestLogEntry[];
}

const BODY_LIMIT = 16 * 1024 * 1024;

export async function startApiServer(opts: ApiServerOptions): Promise<ApiServer> {
  await loadSchemas();
  const metrics = new ServerMetrics();
  const streams = new StreamRegistry();
  let url = '';
  const ctx: ServerContext = {
    store: opts.store,
    clock: opts.clock,
    logs: opts.logs,
    faults: opts.faults,
    usage: opts.usage,
    bookmarkEveryMs: opts.bookmarkEveryMs,
    minRequestTimeoutSeconds: opts.minRequestTimeoutSeconds,
    metrics,
    streams,
    address: () => url.replace(/^http:\/\//, ''),
    tokens: opts.tokens ?? new TokenIssuer(opts.clock),
    rbac: opts.rbac ?? 'off',
    users: opts.users ?? [],
  };

  const app = Fastify({ logger: false, bodyLimit: BODY_LIMIT, forceCloseConnections: true, return503OnClosing: false });
  // Bodies are decoded per request type (JSON, YAML, patches), so keep them raw.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
  app.setErrorHandler((err: Error & { statusCode?: number }, _req, reply) => {
    const code = err.statusCode && err.statusCode >= 400 ? err.statusCode : 500;
    const reason = code === 413 ? 'RequestEntityTooLarge' : code === 415 ? 'UnsupportedMediaType' : code < 500 ? 'BadRequest' : 'InternalError';
    sendRaw(reply.code(code), 'application/json', JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: err.message, reason, code }));
  });
  app.all('/*', (req, reply) => handle(ctx, req, reply));

  await app.listen({ host: opts.host ?? '127.0.0.1', port: opts.port ?? 0 });
  const port = (app.server.address() as AddressInfo).port;
  url = `http://127.0.0.1:${port}`;

  return {
    url,
    requestLog: metrics.requestLog,
    requestCounts: () => metrics.requestCounts(),
    async close() {
      streams.closeAll();
      await app.close();
    },
  };
}

/** RFC 7234 warning with the API server's agent "-"; quotes and backslashes escaped. */
const warningHeader = (text: string) => `299 - "${text.replace(/[\\"]/g, '\\$&')}"`;

function headerList(req: FastifyRequest, name: string): string[] | undefined {
  const v = req.raw.headersDistinct[name];
  return v?.length ? v.flatMap((s) => s.split(',').map((x) => x.trim())).filter(Boolean) : undefined;
}

async function handle(ctx: ServerContext, req: FastifyRequest, reply: FastifyReply): Promise<void> {
  const u = new URL(req.url, 'http://sandbox');
  const userAgent = String(req.headers['user-agent'] ?? '');
  const entry: RequestLogEntry = { time: ctx.clock.now(), method: req.method, path: u.pathname + u.search, code: 0 };
  if (userAgent) entry.userAgent = userAgent;
  const user = req.headers['impersonate-user'];
  if (typeof user === 'string' && user) entry.user = user;
  const groups = headerList(req, 'impersonate-group');
  if (groups) entry.groups = groups;

  const call: Call = {
    method: req.method,
    path: u.pathname,
    query: u.searchParams,
    headers: req.headers,
    body: Buffer.isBuffer(req.body) ? req.body.toString('utf8') : undefined,
    rawBody: Buffer.isBuffer(req.body) ? req.body : undefined,
    contentType: String(req.headers['content-type'] ?? ''),
    userAgent,
    user: UNSECURED,
    hijack: () => {
      reply.hijack();
      return reply.raw;
    },
  };
  let out: Outcome;
  try {
    out = await dispatch(ctx, call, entry);
  } catch (err) {
    out = errorOutcome(err);
    if (out.code >= 500 && !(err as { code?: unknown })?.code) console.error('sandbox api server:', err);
  }
  entry.code = out.code;
  ctx.metrics.record(entry);
  if (out.streamed) return;
  reply.code(out.code);
  for (const [k, v] of Object.entries(out.headers ?? {})) reply.header(k, v);
  if (call.warnings?.length) reply.header('Warning', call.warnings.map(warningHeader));
  if (out.raw !== undefined) {
    // An empty answer without a type (Go's bare WriteHeader) must not get fastify's octet-stream.
    if (out.contentType) reply.header('content-type', out.contentType);
    reply.send(out.raw.length || out.contentType ? out.raw : undefined);
    return;
  }
  if (out.text !== undefined) {
    sendRaw(reply, out.contentType ?? 'text/plain; charset=utf-8', out.text);
    return;
  }
  sendRaw(reply, out.contentType ?? 'application/json', JSON.stringify(out.body));
}

/**
 * Sends bytes under exactly this Content-Type: fastify appends "; charset=utf-8"
 * to JSON and text sent as strings, which kube-apiserver does not.
 */
function sendRaw(reply: FastifyReply, contentType: string, text: string): void {
  reply.header('content-type', contentType).send(Buffer.from(text));
}
