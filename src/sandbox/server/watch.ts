// Watch streams: newline-delimited JSON events, as the watch cache serves them.
// Without a resourceVersion (or "0") a watch first sends what exists as
// ADDED (1.32's WatchList defaults), ending with an initial-events-end
// BOOKMARK when the client allows bookmarks; a resourceVersion resumes
// exactly after it; a compacted one yields a single ERROR event carrying a
// 410 Status. Selectors are applied to both the old and new object so
// objects moving in or out of the selection appear as ADDED or DELETED.
// Bookmarks (allowWatchBookmarks) come about once a minute and 2s before the
// watch times out, as the cacher schedules them.
import { apiVersionOf, type ResourceType } from '../resources.ts';
import { ApiError } from '../status.ts';
import type { K8sObject, StoreEvent } from '../types.ts';
import type { Call, Outcome, ResourceRequest, ServerContext } from './context.ts';
import { selectorsOf, waitForResourceVersion } from './list.ts';
import { listOptions, parseResourceVersion } from './list-options.ts';
import { chooseRendering, includeObjectParam } from './negotiate.ts';
import { renderObject, type RenderOptions } from './render.ts';
import { cloneObject } from '../clone.ts';

/** The cacher's bookmarkFrequency. */
export const BOOKMARK_EVERY_MS = 60_000;
// kube-apiserver's --min-request-timeout default: watches without
// timeoutSeconds end after a random time between it and twice it.
const MIN_REQUEST_TIMEOUT_S = 1800;

type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

function bookmark(type: ResourceType, rv: number, opts: RenderOptions, initialEnd = false): K8sObject {
  // An empty ObjectMeta but its resourceVersion: Go writes the zero creationTimestamp as null.
  const metadata: K8sObject['metadata'] = { resourceVersion: String(rv), creationTimestamp: null as unknown as string };
  if (initialEnd) metadata.annotations = { 'k8s.io/initial-events-end': 'true' };
  if (opts.rendering === 'metadata') return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata };
  return { kind: type.kind, apiVersion: apiVersionOf(type), metadata };
}

/** When the next bookmark is due (cacheWatcher.nextBookmarkTime), or undefined when none is. */
export function nextBookmarkAt(now: number, deadline: number, everyMs: number): number | undefined {
  const pre = deadline - 2000;
  const at = Math.min(now + everyMs, pre);
  return at < now ? undefined : at;
}

export function handleWatch(ctx: ServerContext, call: Call, r: ResourceRequest): Outcome {
  const q = call.query;
  const o = listOptions(q);
  const opts: RenderOptions = { rendering: chooseRendering(call.headers.accept, true), includeObject: includeObjectParam(q), now: 0 };
  const { filter } = selectorsOf(r.type, o);
  const parsed = parseResourceVersion(o.resourceVersion);
  // The cacher returns this before the stream starts: a 500 with no reason.
  if (!parsed.ok) throw new ApiError(500, '', parsed.message);
  const initial = o.sendInitialEvents ?? (o.resourceVersion === '' || o.resourceVersion === '0');
  const listWatch = o.sendInitialEvents === true && o.allowWatchBookmarks;
  const timeoutMs = o.timeoutSeconds === undefined || o.timeoutSeconds === 0
    ? (ctx.minRequestTimeoutSeconds ?? MIN_REQUEST_TIMEOUT_S) * (1 + Math.random()) * 1000
    : Math.max(0, o.timeoutSeconds * 1000);
  const deadline = Date.now() + timeoutMs;
  const inScope = (x: K8sObject) =>
    (r.namespace === undefined || x.metadata.namespace === r.namespace) && (r.name === undefined || x.metadata.name === r.name);
  const selected = (x: K8sObject | undefined) => x !== undefined && inScope(x) && filter(x);

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
  const sendError = (err: unknown) => {
    const status = err instanceof ApiError ? err : new ApiError(500, 'InternalError', String(err));
    send('ERROR', status.toStatus());
    finish();
  };

  let unsubscribe: (() => void) | undefined;
  let timer: NodeJS.Timeout | undefined;
  let bookmarkTimer: NodeJS.Timeout | undefined;
  let closed = false;
  const finish = () => {
    if (closed) return;
    closed = true;
    unsubscribe?.();
    clearTimeout(timer);
    clearTimeout(bookmarkTimer);
    unregister();
    ctx.metrics.watchClosed();
    if (!res.writableEnded) res.end();
  };
  ctx.metrics.watchOpened();
  const unregister = ctx.streams.add(finish);
  res.on('close', finish);
  timer = setTimeout(finish, timeoutMs);
  timer.unref();

  const scheduleBookmark = () => {
    const at = nextBookmarkAt(Date.now(), deadline, ctx.bookmarkEveryMs ?? BOOKMARK_EVERY_MS);
    if (at === undefined || closed) return;
    bookmarkTimer = setTimeout(() => {
      send('BOOKMARK', bookmark(r.type, ctx.store.resourceVersion(), opts));
      // The one before the timeout is the last. Timers run on a monotonic clock
      // and Date.now() may read a millisecond behind it: asking again could
      // schedule that last bookmark a second time.
      if (at < deadline - 2000) scheduleBookmark();
    }, at - Date.now());
    bookmarkTimer.unref();
  };

  const start = (startRV: number) => {
    const onEvent = (ev: StoreEvent) => {
      // A watch from a resourceVersion not reached yet begins after it.
      if (ev.rv <= startRV) return;
      if (ev.type !== 'MODIFIED') {
        if (selected(ev.object)) sendObject(ev.type, ev.object);
        return;
      }
      const was = selected(ev.old);
      const is = selected(ev.object);
      if (is) sendObject(was ? 'MODIFIED' : 'ADDED', ev.object);
      else if (was) {
        // Leaving the selection: the last matching state, at this event's resourceVersion.
        const gone = cloneObject(ev.old!);
        gone.metadata.resourceVersion = ev.object.metadata.resourceVersion;
        sendObject('DELETED', gone);
      }
    };
    try {
      unsubscribe = ctx.store.watch(r.type.storage, startRV, onEvent);
    } catch (err) {
      sendError(err);
      return;
    }
    if (o.allowWatchBookmarks) scheduleBookmark();
  };

  if (!initial) {
    // Without a resourceVersion (and without initial events) a watch starts now.
    start(parsed.value || ctx.store.resourceVersion());
    return { code: 200, streamed: true };
  }
  const sendInitial = () => {
    if (closed) return;
    const snapshot = ctx.store.list(r.type.storage, r.namespace);
    for (const x of snapshot.items) if (selected(x)) sendObject('ADDED', x);
    const rv = Number(snapshot.resourceVersion);
    if (listWatch) send('BOOKMARK', bookmark(r.type, rv, opts, true));
    start(rv);
  };
  // Initial events "not older than" a resourceVersion wait for the cache to reach it (3s at most).
  if (parsed.value > ctx.store.resourceVersion()) {
    waitForResourceVersion(ctx.store, parsed.value).then(sendInitial, sendError);
  } else sendInitial();
  return { code: 200, streamed: true };
}
