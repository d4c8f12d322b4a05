// Watch streams: newline-delimited JSON events, as the watch cache serves them.
// No resourceVersion (or "0") starts with synthetic ADDED events for what
// exists; a resourceVersion resumes exactly after it; a compacted one yields a
// single ERROR event carrying a 410 Status. Selectors are applied to both the
// old and new object so objects moving in or out of the selection appear as
// ADDED or DELETED.
import { apiVersionOf, type ResourceType } from '../resources.ts';
import { ApiError } from '../status.ts';
import type { K8sObject, StoreEvent } from '../types.ts';
import type { Call, Outcome, ResourceRequest, ServerContext } from './context.ts';
import { selectorsOf } from './list.ts';
import { boolParam, chooseRendering, includeObjectParam, intParam } from './negotiate.ts';
import { renderObject, type RenderOptions } from './render.ts';

const BOOKMARK_EVERY_MS = 1000;
// kube-apiserver's --min-request-timeout: watches without timeoutSeconds end
// after a random time between it and twice it.
const MIN_REQUEST_TIMEOUT_S = 1800;

type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

function checkWatchParams(q: URLSearchParams): { initial: boolean; fromRV: number | undefined; sendInitialEvents: boolean } {
  const rv = q.get('resourceVersion') ?? '';
  if (rv && !/^\d+$/.test(rv)) throw ApiError.badRequest(`resourceVersion: Invalid value: "${rv}": must be a non-negative integer`);
  const sie = q.get('sendInitialEvents');
  if (sie !== null) {
    if (q.get('resourceVersionMatch') !== 'NotOlderThan') {
      throw ApiError.invalid('ListOptions', '', 'meta.k8s.io', [{ field: 'resourceVersionMatch', message: 'Forbidden: sendInitialEvents requires setting resourceVersionMatch to NotOlderThan', reason: 'FieldValueForbidden' }]);
    }
    if (!boolParam(q, 'allowWatchBookmarks')) {
      throw ApiError.invalid('ListOptions', '', 'meta.k8s.io', [{ field: 'allowWatchBookmarks', message: 'Forbidden: sendInitialEvents requires setting allowWatchBookmarks to true', reason: 'FieldValueForbidden' }]);
    }
  }
  const sendInitialEvents = sie === 'true' || sie === '1';
  const initial = sendInitialEvents || (sie === null && (rv === '' || rv === '0'));
  return { initial, fromRV: rv && rv !== '0' ? Number(rv) : undefined, sendInitialEvents };
}

function bookmark(type: ResourceType, rv: number, opts: RenderOptions, initialEnd = false): K8sObject {
  const metadata: K8sObject['metadata'] = { resourceVersion: String(rv) };
  if (initialEnd) metadata.annotations = { 'k8s.io/initial-events-end': 'true' };
  if (opts.rendering === 'metadata') return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata };
  return { kind: type.kind, apiVersion: apiVersionOf(type), metadata };
}

export function handleWatch(ctx: ServerContext, call: Call, r: ResourceRequest): Outcome {
  const q = call.query;
  const opts: RenderOptions = {
    rendering: chooseRendering(call.headers.accept, true),
    includeObject: includeObjectParam(q),
    now: 0,
  };
  const { filter } = selectorsOf(r.type, q);
  const { initial, fromRV, sendInitialEvents } = checkWatchParams(q);
  const bookmarks = boolParam(q, 'allowWatchBookmarks');
  const requested = intParam(q, 'timeoutSeconds');
  const timeoutSeconds = requested && requested > 0 ? requested : MIN_REQUEST_TIMEOUT_S * (1 + Math.random());
  const inScope = (o: K8sObject) =>
    (r.namespace === undefined || o.metadata.namespace === r.namespace) && (r.name === undefined || o.metadata.name === r.name);
  const selected = (o: K8sObject | undefined) => o !== undefined && inScope(o) && filter(o);

  const res = call.hijack();
  res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private', 'Transfer-Encoding': 'chunked' });
  res.flushHeaders();

  const send = (type: WatchEventType, object: unknown) => {
    if (!res.writableEnded) res.write(JSON.stringify({ type, object }) + '\n');
  };
  const sendObject = (type: WatchEventType, obj: K8sObject) => {
    opts.now = ctx.clock.now();
    send(type, renderObject(r.type, obj, opts));
  };

  let unsubscribe: (() => void) | undefined;
  let timer: NodeJS.Timeout | undefined;
  let ticker: NodeJS.Timeout | undefined;
  let unregister: (() => void) | undefined;
  let closed = false;
  const finish = () => {
    if (closed) return;
    closed = true;
    unsubscribe?.();
    clearTimeout(timer);
    clearInterval(ticker);
    unregister?.();
    ctx.metrics.watchClosed();
    if (!res.writableEnded) res.end();
  };
  ctx.metrics.watchOpened();
  unregister = ctx.streams.add(finish);
  res.on('close', finish);

  const onEvent = (ev: StoreEvent) => {
    if (ev.type !== 'MODIFIED') {
      if (selected(ev.object)) sendObject(ev.type, ev.object);
      return;
    }
    const was = selected(ev.old);
    const is = selected(ev.object);
    if (is) sendObject(was ? 'MODIFIED' : 'ADDED', ev.object);
    else if (was) {
      // Leaving the selection: the last matching state, at this event's resourceVersion.
      const gone = structuredClone(ev.old!);
      gone.metadata.resourceVersion = ev.object.metadata.resourceVersion;
      sendObject('DELETED', gone);
    }
  };

  try {
    // Without a resourceVersion (and without initial events) a watch starts now.
    let startRV = fromRV ?? ctx.store.resourceVersion();
    if (initial) {
      const snapshot = ctx.store.list(r.type.storage, r.namespace);
      for (const o of snapshot.items) if (selected(o)) sendObject('ADDED', o);
      startRV = Number(snapshot.resourceVersion);
      if (sendInitialEvents) send('BOOKMARK', bookmark(r.type, startRV, opts, true));
    }
    unsubscribe = ctx.store.watch(r.type.storage, startRV, onEvent);
  } catch (err) {
    const status = err instanceof ApiError ? err : new ApiError(500, 'InternalError', String(err));
    send('ERROR', status.toStatus());
    finish();
    return { code: 200, streamed: true };
  }
  if (bookmarks) {
    ticker = setInterval(() => send('BOOKMARK', bookmark(r.type, ctx.store.resourceVersion(), opts)), BOOKMARK_EVERY_MS);
    ticker.unref();
  }
  timer = setTimeout(finish, timeoutSeconds * 1000);
  timer.unref();
  return { code: 200, streamed: true };
}
