// metav1.ListOptions from the query, as the API server decodes, defaults and
// validates them for list and watch requests: integers and booleans by Go's
// conversion (400 when malformed), the WatchList defaults of 1.32, and
// ValidateListOptions' rules (422 Invalid, ListOptions.meta.k8s.io).
import { ApiError, type StatusCause } from '../status.ts';
import { boolParam, intParam } from './negotiate.ts';

export interface ListOptions {
  /** The `watch` parameter; a /watch/ path is a watch without it (and is validated as a list). */
  watch: boolean;
  allowWatchBookmarks: boolean;
  resourceVersion: string;
  resourceVersionMatch: string;
  timeoutSeconds?: number;
  limit: number;
  continue: string;
  sendInitialEvents?: boolean;
  labelSelector: string;
  fieldSelector: string;
}

/** A pointer-to-bool parameter: undefined when absent. */
const optionalBool = (q: URLSearchParams, name: string) => (q.has(name) ? boolParam(q, name) : undefined);

function decode(q: URLSearchParams): ListOptions {
  return {
    labelSelector: q.get('labelSelector') ?? '',
    fieldSelector: q.get('fieldSelector') ?? '',
    watch: boolParam(q, 'watch'),
    allowWatchBookmarks: boolParam(q, 'allowWatchBookmarks'),
    resourceVersion: q.get('resourceVersion') ?? '',
    resourceVersionMatch: q.get('resourceVersionMatch') ?? '',
    timeoutSeconds: intParam(q, 'timeoutSeconds'),
    limit: intParam(q, 'limit') ?? 0,
    continue: q.get('continue') ?? '',
    sendInitialEvents: optionalBool(q, 'sendInitialEvents'),
  };
}

const forbidden = (field: string, detail: string): StatusCause => ({ reason: 'FieldValueForbidden', message: `Forbidden: ${detail}`, field });
const notSupported = (field: string, value: string, supported: string[]): StatusCause => ({
  reason: 'FieldValueNotSupported',
  message: `Unsupported value: ${JSON.stringify(value)}: supported values: ${supported.map((s) => JSON.stringify(s)).join(', ')}`,
  field,
});

function validate(o: ListOptions): StatusCause[] {
  const errs: StatusCause[] = [];
  const match = o.resourceVersionMatch;
  if (o.watch) {
    if (o.sendInitialEvents !== undefined && match !== 'NotOlderThan') {
      errs.push(forbidden('resourceVersionMatch', 'sendInitialEvents requires setting resourceVersionMatch to NotOlderThan'));
    }
    if (match) {
      if (o.sendInitialEvents === undefined) errs.push(forbidden('resourceVersionMatch', 'resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided'));
      if (match !== 'NotOlderThan') errs.push(notSupported('resourceVersionMatch', match, ['NotOlderThan']));
      if (o.continue) errs.push(forbidden('resourceVersionMatch', 'resourceVersionMatch is forbidden when continue is provided'));
    }
    return errs;
  }
  if (match) {
    if (!o.resourceVersion) errs.push(forbidden('resourceVersionMatch', 'resourceVersionMatch is forbidden unless resourceVersion is provided'));
    if (o.continue) errs.push(forbidden('resourceVersionMatch', 'resourceVersionMatch is forbidden when continue is provided'));
    if (match !== 'Exact' && match !== 'NotOlderThan') errs.push(notSupported('resourceVersionMatch', match, ['Exact', 'NotOlderThan', '']));
    if (match === 'Exact' && o.resourceVersion === '0') errs.push(forbidden('resourceVersionMatch', 'resourceVersionMatch "exact" is forbidden for resourceVersion "0"'));
  }
  if (o.sendInitialEvents !== undefined) errs.push(forbidden('sendInitialEvents', 'sendInitialEvents is forbidden for list'));
  return errs;
}

/** The request's ListOptions, decoded, defaulted and validated; throws the API server's 400 or 422. */
export function listOptions(q: URLSearchParams): ListOptions {
  const o = decode(q);
  // SetListOptionsDefaults with WatchList on (1.32): a watch from "now" or
  // "any" streams the current state first, as a list would return it.
  if (o.watch && o.sendInitialEvents === undefined && !o.resourceVersionMatch && (o.resourceVersion === '' || o.resourceVersion === '0')) {
    o.sendInitialEvents = true;
    o.resourceVersionMatch = 'NotOlderThan';
  }
  const errs = validate(o);
  if (errs.length) throw ApiError.invalid('ListOptions', '', 'meta.k8s.io', errs);
  return o;
}

const UINT64_MAX = 2n ** 64n - 1n;

/**
 * APIObjectVersioner.ParseResourceVersion: "" and "0" are 0; anything else
 * must be a uint64, else the storage layer's invalid error text.
 */
export function parseResourceVersion(rv: string): { ok: true; value: number } | { ok: false; message: string } {
  if (rv === '' || rv === '0') return { ok: true, value: 0 };
  const invalid = (why: string) => ({ ok: false as const, message: `resourceVersion: Invalid value: ${JSON.stringify(rv)}: strconv.ParseUint: parsing ${JSON.stringify(rv)}: ${why}` });
  if (!/^\d+$/.test(rv)) return invalid('invalid syntax');
  if (BigInt(rv) > UINT64_MAX) return invalid('value out of range');
  return { ok: true, value: Number(rv) };
}
