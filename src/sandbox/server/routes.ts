// Request dispatch: non-resource paths (health, metrics, discovery, OpenAPI)
// first, then resource paths by method, subresource and the watch flag, the
// way the API server's installer maps (verb, path) to a handler.
import { ApiError } from '../status.ts';
import type { Call, Outcome, ServerContext } from './context.ts';
import { discovery } from './discovery.ts';
import { handleEviction } from './eviction.ts';
import { handleList } from './list.ts';
import type { RequestLogEntry, Verb } from './metrics.ts';
import { boolParam } from './negotiate.ts';
import { openapi } from './openapi.ts';
import { notFoundPath, parseResourcePath, resourceLabel, type ParsedPath } from './paths.ts';
import { handleLog } from './podlogs.ts';
import { handleResourceMetrics, isResourceMetricsPath } from './resource-metrics.ts';
import { handleBinding, handleGetSubresource, handlePatchSubresource, handleUpdateSubresource, methodNotAllowed } from './subresources.ts';
import { handleWatch } from './watch.ts';
import { handleCreate, handleDelete, handleDeleteCollection, handlePatch, handleUpdate } from './write.ts';
import { handleGet } from './get.ts';
import { InternalPlainError } from '../authn.ts';
import { admitRequest } from './authz.ts';
import { handleReview } from './reviews.ts';
import { handleTokenRequest } from './token.ts';

const HEALTH = new Set(['/healthz', '/readyz', '/livez']);

type Handler = (ctx: ServerContext, call: Call, r: ParsedPath) => Outcome | Promise<Outcome>;

/** The verb and handler for a resource request, or a 405 for methods the resource does not serve. */
function route(call: Call, r: ParsedPath): { verb: Verb; handler: Handler } {
  const m = call.method;
  const sub = r.subresource;
  if (sub) {
    const allowed: Record<string, Record<string, [Verb, Handler]>> = {
      status: { GET: ['get', handleGetSubresource], PUT: ['update', handleUpdate], PATCH: ['patch', handlePatch] },
      scale: { GET: ['get', handleGetSubresource], PUT: ['update', handleUpdateSubresource], PATCH: ['patch', handlePatchSubresource] },
      log: { GET: ['get', handleLog] },
      eviction: { POST: ['create', handleEviction] },
      binding: { POST: ['create', handleBinding] },
      finalize: { PUT: ['update', handleUpdateSubresource] },
      token: { POST: ['create', handleTokenRequest] },
    };
    const hit = allowed[sub]?.[m];
    if (!hit) throw methodNotAllowed();
    return { verb: hit[0], handler: hit[1] };
  }
  if (r.type.virtual) {
    // Review APIs are a collection to POST to and nothing else.
    if (m !== 'POST' || r.name !== undefined || r.watchPrefix || (r.type.namespaced && r.namespace === undefined)) throw methodNotAllowed();
    return { verb: 'create', handler: handleReview };
  }
  if (r.watchPrefix || (m === 'GET' && boolParam(call.query, 'watch'))) {
    if (m !== 'GET') throw methodNotAllowed();
    return { verb: 'watch', handler: handleWatch };
  }
  if (r.name !== undefined) {
    if (m === 'GET') return { verb: 'get', handler: handleGet };
    if (m === 'PUT') return { verb: 'update', handler: handleUpdate };
    if (m === 'PATCH') return { verb: 'patch', handler: handlePatch };
    if (m === 'DELETE') return { verb: 'delete', handler: handleDelete };
    throw methodNotAllowed();
  }
  if (m === 'GET') return { verb: 'list', handler: handleList };
  if (m === 'POST') return { verb: 'create', handler: handleCreate };
  if (m === 'DELETE') {
    if (r.type.plural === 'namespaces') throw methodNotAllowed();
    return { verb: 'deletecollection', handler: handleDeleteCollection };
  }
  throw methodNotAllowed();
}

export async function dispatch(ctx: ServerContext, call: Call, entry: RequestLogEntry): Promise<Outcome> {
  const path = call.path;
  try {
    call.user = admitRequest(ctx, call, (u) => void (entry.authenticated = u.username));
  } catch (err) {
    // The impersonation filter answers a malformed request with a bare http.Error.
    if (err instanceof InternalPlainError) return { code: 500, text: `Internal Server Error: ${JSON.stringify(path)}: ${err.message}\n`, contentType: 'text/plain; charset=utf-8' };
    throw err;
  }
  if (HEALTH.has(path.replace(/\/+$/, ''))) return { code: 200, text: 'ok', contentType: 'text/plain; charset=utf-8' };
  if (path === '/metrics') {
    const m = await ctx.metrics.text();
    return { code: 200, text: m.body, contentType: m.contentType };
  }
  if (call.method === 'GET') {
    const doc = discovery(path, call.headers.accept, ctx.address(), ctx.store.types, Boolean(ctx.usage)) ?? openapi(call, ctx.store.types, ctx.clock);
    if (doc) return doc;
  }
  if (ctx.usage && isResourceMetricsPath(path)) return handleResourceMetrics(ctx, ctx.usage, call, entry);
  const r = parseResourcePath(path, ctx.store.types);
  if (!r) throw notFoundPath();
  entry.resource = resourceLabel(r);
  if (r.namespace !== undefined) entry.namespace = r.namespace;
  if (r.name !== undefined) entry.name = r.name;
  const { verb, handler } = route(call, r);
  entry.verb = verb;
  const fault = ctx.faults?.take(verb, entry.resource, r.namespace, r.name);
  if (fault) throw fault;
  return handler(ctx, call, r);
}

export function errorOutcome(err: unknown): Outcome {
  const e = err instanceof ApiError ? err : new ApiError(500, 'InternalError', `Internal error occurred: ${(err as Error)?.message ?? String(err)}`);
  const headers: Record<string, string> = {};
  if (e.details?.retryAfterSeconds) headers['Retry-After'] = String(e.details.retryAfterSeconds);
  return { code: e.code, body: e.toStatus(), headers };
}
