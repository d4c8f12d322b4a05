// Collection reads: label and field selectors, resourceVersion semantics and
// limit/continue paging with opaque continue tokens that expire (410) once the
// store has compacted past the list's resourceVersion, as etcd-backed lists do.
import type { ObjectStore } from '../store.ts';
import { ApiError } from '../status.ts';
import { parseFieldSelector, parseLabelSelector } from '../selectors.ts';
import type { ResourceType } from '../resources.ts';
import type { K8sObject } from '../types.ts';
import type { Call, Outcome, ResourceRequest, ServerContext } from './context.ts';
import { chooseRendering, includeObjectParam, intParam } from './negotiate.ts';
import { renderList } from './render.ts';

export type ObjectFilter = (o: K8sObject) => boolean;

/** The label and field selectors of a request, as one predicate over stored objects. */
export function selectorsOf(type: ResourceType, q: URLSearchParams): { filter: ObjectFilter; selective: boolean } {
  const ls = q.get('labelSelector') ?? '';
  const fs = q.get('fieldSelector') ?? '';
  const labels = parseLabelSelector(ls);
  const fields = parseFieldSelector(fs, type.storage, type.kind);
  return { filter: (o) => labels(o.metadata.labels) && fields(o), selective: Boolean(ls.trim() || fs.trim()) };
}

interface ContinueToken {
  v: string;
  rv: number;
  start: string;
}

const itemKey = (o: K8sObject) => `${o.metadata.namespace ?? ''}/${o.metadata.name}`;

export function encodeContinue(rv: number, lastKey: string): string {
  const token: ContinueToken = { v: 'meta.k8s.io/v1', rv, start: `${lastKey}\u0000` };
  return Buffer.from(JSON.stringify(token)).toString('base64url');
}

function decodeContinue(s: string): ContinueToken {
  let t: ContinueToken;
  try {
    t = JSON.parse(Buffer.from(s, 'base64url').toString('utf8'));
  } catch (err) {
    throw ApiError.badRequest(`continue key is not valid: ${(err as Error).message}`);
  }
  if (t?.v !== 'meta.k8s.io/v1' || typeof t.rv !== 'number' || typeof t.start !== 'string') {
    throw ApiError.badRequest('continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)');
  }
  return t;
}

/** Whether history no longer reaches back to `rv` (the store answers 410 to a watch from it). */
export function isCompacted(store: ObjectStore, rv: number): boolean {
  try {
    store.watch('\u0000probe', rv, () => undefined)();
    return false;
  } catch {
    return true;
  }
}

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

/** Checks resourceVersion / resourceVersionMatch the way the API server validates ListOptions. */
function checkResourceVersion(store: ObjectStore, q: URLSearchParams): void {
  const rv = q.get('resourceVersion') ?? '';
  const match = q.get('resourceVersionMatch') ?? '';
  const cont = q.get('continue') ?? '';
  if (match) {
    if (!['NotOlderThan', 'Exact'].includes(match)) {
      throw ApiError.badRequest(`resourceVersionMatch: Unsupported value: "${match}": supported values: "Exact", "NotOlderThan"`);
    }
    if (!rv) throw ApiError.badRequest('resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided');
    if (cont) throw ApiError.badRequest('resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden when continue is provided');
    if (match === 'Exact' && rv === '0') throw ApiError.badRequest('resourceVersionMatch: Forbidden: resourceVersionMatch "exact" is forbidden for resourceVersion "0"');
  }
  if (cont && rv && rv !== '0') throw ApiError.badRequest('specifying resource version is not allowed when using continue');
  if (!rv || rv === '0') return;
  if (!/^\d+$/.test(rv)) throw ApiError.badRequest(`resourceVersion: Invalid value: "${rv}": must be a non-negative integer`);
  const n = Number(rv);
  const current = store.resourceVersion();
  if (n > current) {
    throw new ApiError(504, 'Timeout', `Too large resource version: ${n}, current: ${current}`, {
      causes: [{ reason: 'ResourceVersionTooLarge', message: 'Too large resource version' }],
      retryAfterSeconds: 1,
    });
  }
  if (match === 'Exact' && isCompacted(store, n)) throw ApiError.gone('The resourceVersion for the provided list is too old.');
}

export interface ListResult {
  items: K8sObject[];
  resourceVersion: string;
  continue?: string;
  remainingItemCount?: number;
}

/** Selected current objects of one type, one page at a time when `limit` is given. */
export function listObjects(store: ObjectStore, r: ResourceRequest, q: URLSearchParams): ListResult {
  checkResourceVersion(store, q);
  const { filter, selective } = selectorsOf(r.type, q);
  const snapshot = store.list(r.type.storage, r.namespace);
  let items = snapshot.items.filter(filter);
  let listRV = Number(snapshot.resourceVersion);
  const cont = q.get('continue');
  if (cont) {
    const token = decodeContinue(cont);
    const after = token.start.replace(/\u0000$/, '');
    if (isCompacted(store, token.rv)) throw new ExpiredContinue(encodeContinue(listRV, after));
    items = items.filter((o) => itemKey(o) > after);
    // Later pages report the first page's resourceVersion, as one snapshot.
    listRV = token.rv;
  }
  const limit = intParam(q, 'limit');
  // resourceVersion=0 is served from the watch cache, which ignores limit.
  const paged = limit !== undefined && limit > 0 && q.get('resourceVersion') !== '0';
  if (!paged || items.length <= limit) return { items, resourceVersion: String(listRV) };
  const page = items.slice(0, limit);
  const remaining = items.length - limit;
  return {
    items: page,
    resourceVersion: String(listRV),
    continue: encodeContinue(listRV, itemKey(page[page.length - 1])),
    ...(selective ? {} : { remainingItemCount: remaining }),
  };
}

export function handleList(ctx: ServerContext, call: Call, r: ResourceRequest): Outcome {
  const rendering = chooseRendering(call.headers.accept, true);
  const res = listObjects(ctx.store, r, call.query);
  const body = renderList(r.type, res.items, res, {
    rendering,
    includeObject: includeObjectParam(call.query),
    now: ctx.clock.now(),
  });
  return { code: 200, body };
}
