// Collection reads with the API server's list semantics: the latest state
// (resourceVersion unset), any state ("0", the watch cache, limit ignored),
// not older than N (waits up to 3s for N, then 504), exactly N
// (resourceVersionMatch=Exact, or N with a limit: rebuilt from history, 410
// once compacted), and limit/continue pages that are one snapshot — later
// pages are read at the first page's resourceVersion, and a token whose
// resourceVersion has been compacted is answered 410 with a token to continue
// inconsistently at the latest one.
import type { ObjectStore } from '../store.ts';
import { ApiError } from '../status.ts';
import { parseFieldSelector } from '../field-selectors.ts';
import { parseLabelSelector } from '../selectors.ts';
import type { ResourceType } from '../resources.ts';
import type { K8sObject } from '../types.ts';
import type { Call, Outcome, ResourceRequest, ServerContext } from './context.ts';
import { decodeContinue, encodeContinue, reencode, type ContinueToken } from './continue-token.ts';
import { listOptions, parseResourceVersion, type ListOptions } from './list-options.ts';
import { chooseRendering, includeObjectParam } from './negotiate.ts';
import { renderList } from './render.ts';
import { cloneObject } from '../clone.ts';

export type ObjectFilter = (o: K8sObject) => boolean;

/** The label and field selectors of a request, as one predicate over stored objects. */
export function selectorsOf(type: ResourceType, o: Pick<ListOptions, 'labelSelector' | 'fieldSelector'>): { filter: ObjectFilter; selective: boolean } {
  const labels = parseLabelSelector(o.labelSelector);
  const fields = parseFieldSelector(o.fieldSelector, type.kind, type.group);
  return { filter: (x) => labels(x.metadata.labels) && fields(x), selective: Boolean(o.labelSelector.trim() || o.fieldSelector.trim()) };
}

const TOO_OLD = 'The resourceVersion for the provided list is too old.';
const EXPIRED_CONTINUE =
  'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.';

class ExpiredContinue extends ApiError {
  readonly continueToken: string;
  constructor(token: string) {
    super(410, 'Expired', EXPIRED_CONTINUE);
    this.continueToken = token;
  }
  override toStatus(): Record<string, unknown> {
    return { ...super.toStatus(), metadata: { continue: this.continueToken } };
  }
}

/** The objects of one storage (optionally one namespace) as they were at `rv`, by undoing later changes. */
export function objectsAt(store: ObjectStore, storage: string, ns: string | undefined, rv: number): K8sObject[] | undefined {
  const changes = store.changesSince(storage, rv);
  if (!changes) return undefined;
  const byKey = new Map(store.list(storage, ns).items.map((o) => [keyOf(o), o]));
  for (const ev of [...changes].reverse()) {
    if (ns !== undefined && ev.object.metadata.namespace !== ns) continue;
    const k = keyOf(ev.object);
    if (ev.type === 'ADDED') byKey.delete(k);
    else byKey.set(k, cloneObject(ev.old!));
  }
  return [...byKey.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, o]) => o);
}

const keyOf = (o: K8sObject) => `${o.metadata.namespace ?? ''}/${o.metadata.name}`;

/** The item's key below the list's etcd prefix (`name` in a namespace or cluster-wide, `ns/name` across namespaces). */
const relativeKey = (o: K8sObject, listNamespace: string | undefined) =>
  listNamespace !== undefined || !o.metadata.namespace ? o.metadata.name! : `${o.metadata.namespace}/${o.metadata.name}`;

/** The cacher's wait for a resourceVersion it has not seen yet (blockTimeout: 3s), then TooLargeResourceVersion. */
export async function waitForResourceVersion(store: ObjectStore, rv: number): Promise<void> {
  const until = Date.now() + 3000;
  while (store.resourceVersion() < rv && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
  const current = store.resourceVersion();
  if (current < rv) {
    throw new ApiError(504, 'Timeout', `Timeout: Too large resource version: ${rv}, current: ${current}`, {
      causes: [{ reason: 'ResourceVersionTooLarge', message: 'Too large resource version' }],
      retryAfterSeconds: 1,
    });
  }
}

/** An error the storage layer returns unconverted: 500 and no reason, as the API server sends it. */
const unconverted = (message: string) => new ApiError(500, '', message);

export interface ListResult {
  items: K8sObject[];
  resourceVersion: string;
  continue?: string;
  remainingItemCount?: number;
}

/** The state to list from: the objects, the list's resourceVersion, and where a continued list starts. */
async function source(store: ObjectStore, r: ResourceRequest, o: ListOptions): Promise<{ objects: K8sObject[]; rv: number; token?: ContinueToken }> {
  const storage = r.type.storage;
  const latest = () => {
    const l = store.list(storage, r.namespace);
    return { objects: l.items, rv: Number(l.resourceVersion) };
  };
  if (o.continue) {
    if (o.resourceVersion && o.resourceVersion !== '0') throw ApiError.badRequest('specifying resource version is not allowed when using continue');
    const token = decodeContinue(o.continue);
    if (token.rv < 0) return { ...latest(), token };
    if (token.rv > store.resourceVersion()) throw unconverted('etcdserver: mvcc: required revision is a future revision');
    const objects = objectsAt(store, storage, r.namespace, token.rv);
    if (!objects) throw new ExpiredContinue(reencode(token, -1));
    return { objects, rv: token.rv, token };
  }
  const exact = o.resourceVersionMatch === 'Exact' || (!o.resourceVersionMatch && o.limit > 0 && o.resourceVersion !== '' && o.resourceVersion !== '0');
  const parsed = parseResourceVersion(o.resourceVersion);
  if (exact) {
    // Served by etcd at that revision.
    if (!parsed.ok) throw ApiError.badRequest(`invalid resource version: ${parsed.message}`);
    if (parsed.value > store.resourceVersion()) throw unconverted('etcdserver: mvcc: required revision is a future revision');
    const objects = objectsAt(store, storage, r.namespace, parsed.value);
    if (!objects) throw ApiError.gone(TOO_OLD);
    return { objects, rv: parsed.value };
  }
  // Served by the watch cache.
  if (!parsed.ok) throw unconverted(parsed.message);
  if (parsed.value > 0) await waitForResourceVersion(store, parsed.value);
  return latest();
}

/** Selected objects of one type, one page at a time when `limit` is given. */
export async function listObjects(store: ObjectStore, r: ResourceRequest, q: URLSearchParams): Promise<ListResult> {
  const o = listOptions(q);
  const { filter, selective } = selectorsOf(r.type, o);
  const { objects, rv, token } = await source(store, r, o);
  let from = objects;
  if (token) from = objects.filter((x) => relativeKey(x, r.namespace) >= token.start);
  // resourceVersion=0 is served from the watch cache, which ignores limit.
  const limit = o.limit > 0 && (o.resourceVersion !== '0' || o.continue) ? o.limit : 0;
  const items: K8sObject[] = [];
  let i = 0;
  for (; i < from.length && (!limit || items.length < limit); i++) if (filter(from[i])) items.push(from[i]);
  // More remain when any object follows the last one returned, selected or not (etcd counts keys).
  if (!limit || items.length < limit || i >= from.length) return { items, resourceVersion: String(rv) };
  const last = items[items.length - 1];
  return {
    items,
    resourceVersion: String(rv),
    continue: encodeContinue(rv, relativeKey(last, r.namespace)),
    ...(selective ? {} : { remainingItemCount: from.length - i }),
  };
}

export async function handleList(ctx: ServerContext, call: Call, r: ResourceRequest): Promise<Outcome> {
  const rendering = chooseRendering(call.headers.accept, true);
  const res = await listObjects(ctx.store, r, call.query);
  const body = renderList(r.type, res.items, res, {
    rendering,
    includeObject: includeObjectParam(call.query),
    now: ctx.clock.now(),
  });
  return { code: 200, body };
}
