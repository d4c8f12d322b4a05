// Kubernetes strategic merge patch, after apimachinery's strategicpatch
// package: its directives ($patch, $retainKeys, $setElementOrder,
// $deleteFromPrimitiveList), list ordering and error codes, so kubectl sees the
// same results and errors.
import { ApiError } from '../status.ts';
import type { K8sObject } from '../types.ts';
import { goFmt, goType, internal, isMap, unprocessable, type Json, type JsonMap } from './patch-json.ts';
import { schemaForKind, type FieldMeta, type Schema } from './patch-meta.ts';

const DIRECTIVE = '$patch';
const RETAIN_KEYS = '$retainKeys';
const SET_ORDER = '$setElementOrder';
const DELETE_PRIMITIVE = '$deleteFromPrimitiveList';

export function applyStrategicPatch(original: K8sObject, patch: unknown): Json {
  if (!isMap(patch)) throw ApiError.badRequest('invalid JSON document');
  return mergeMap(structuredClone(original) as unknown as JsonMap, structuredClone(patch), schemaForKind(original.kind));
}

/**
 * What typed decoding does on a real server: nulls become absent fields and
 * unknown keys (leftover directives) are dropped. Returns undefined when the
 * value is itself a directive and must not be kept.
 */
function clean(v: Json): Json | undefined {
  if (Array.isArray(v)) return v.map(clean).filter((x): x is Json => x !== undefined);
  if (!isMap(v)) return v;
  if (DIRECTIVE in v) return undefined;
  for (const k of Object.keys(v)) {
    const c = v[k] === null || isDirectiveKey(k) ? undefined : clean(v[k]);
    if (c === undefined) delete v[k];
    else v[k] = c;
  }
  return v;
}

const isDirectiveKey = (k: string) => k === RETAIN_KEYS || k.startsWith(`${SET_ORDER}/`) || k.startsWith(`${DELETE_PRIMITIVE}/`);

function setCleaned(target: JsonMap, key: string, value: Json): void {
  const c = clean(value);
  if (c === undefined) delete target[key];
  else target[key] = c;
}

/** "$setElementOrder/containers" -> "containers". */
function directiveField(key: string, prefix: string): string {
  const slash = key.indexOf('/');
  if (slash < 0 || key.slice(0, slash) !== prefix) {
    throw ApiError.badRequest(prefix === SET_ORDER ? 'invalid patch format of setElementOrder list' : 'invalid patch format of primitive list');
  }
  return key.slice(slash + 1);
}

function jsonKind(v: Json | undefined): string {
  return Array.isArray(v) ? 'array' : isMap(v) ? 'map' : v === null || v === undefined ? 'null' : typeof v;
}

function mergeMap(original: JsonMap, patch: JsonMap, schema: Schema): JsonMap {
  if (DIRECTIVE in patch) {
    if (patch[DIRECTIVE] === 'replace') {
      delete patch[DIRECTIVE];
      return clean(patch) as JsonMap;
    }
    if (patch[DIRECTIVE] === 'delete') return {};
    throw internal(`unknown patch type: ${goFmt(patch[DIRECTIVE])} in map: ${goFmt(patch)}`);
  }
  applyRetainKeys(original, patch);
  mergeOrderedLists(original, patch, schema);

  for (const rawKey of Object.keys(patch)) {
    const isDeleteList = rawKey.startsWith(`${DELETE_PRIMITIVE}/`);
    const key = isDeleteList ? directiveField(rawKey, DELETE_PRIMITIVE) : rawKey;
    const pv = patch[rawKey];
    if (pv === null) {
      delete original[key];
      continue;
    }
    const ov = original[key];
    if (!(key in original) || jsonKind(ov) !== jsonKind(pv)) {
      if (!isDeleteList) setCleaned(original, key, pv);
      continue;
    }
    const meta: FieldMeta = schema[key] ?? {};
    if (isMap(ov)) {
      original[key] = meta.strategy === 'replace' ? (clean(pv) as JsonMap) : mergeMap(ov, pv as JsonMap, meta.schema ?? {});
    } else if (Array.isArray(ov)) {
      original[key] = mergeList(ov, pv as Json[], meta, isDeleteList);
    } else {
      setCleaned(original, key, pv);
    }
  }
  return original;
}

/** $retainKeys: drop every field of the original not listed (e.g. strategy.rollingUpdate on Recreate). */
function applyRetainKeys(original: JsonMap, patch: JsonMap): void {
  if (!(RETAIN_KEYS in patch)) return;
  const list = patch[RETAIN_KEYS];
  delete patch[RETAIN_KEYS];
  if (!Array.isArray(list)) throw ApiError.badRequest('invalid patch format of retainKeys');
  const keep = new Set(list);
  for (const [k, v] of Object.entries(patch)) {
    if (v === null || k.startsWith(`${DELETE_PRIMITIVE}/`) || k.startsWith(`${SET_ORDER}/`)) continue;
    if (!keep.has(k)) throw ApiError.badRequest('invalid patch format of retainKeys');
  }
  for (const k of Object.keys(original)) if (!keep.has(k)) delete original[k];
}

/** mergePatchIntoOriginal: lists with a $setElementOrder directive are merged first, then put in that order. */
function mergeOrderedLists(original: JsonMap, patch: JsonMap, schema: Schema): void {
  for (const key of Object.keys(patch)) {
    if (!key.startsWith(SET_ORDER)) continue;
    const order = patch[key];
    delete patch[key];
    const field = directiveField(key, SET_ORDER);
    if (!Array.isArray(order)) throw ApiError.badRequest('invalid patch format of setElementOrder list');
    const ov = original[field];
    const pv = patch[field];
    const foundOriginal = field in original;
    const foundPatch = field in patch;
    if (!foundOriginal && !foundPatch) continue;
    if ((foundOriginal && !Array.isArray(ov)) || (foundPatch && !Array.isArray(pv))) {
      throw internal(`expected a []interface {}, but received a ${goType(foundPatch ? pv : ov)}`);
    }
    const meta: FieldMeta = schema[field] ?? {};
    const mergeKey = meta.mergeKey ?? '';
    const origList = (ov ?? []) as Json[];
    const patchList = (pv ?? []) as Json[];
    validateOrder(patchList, order, mergeKey);
    let merged: Json[];
    if (!foundPatch) merged = origList;
    else if (!foundOriginal) merged = clean(patchList) as Json[];
    else merged = mergeList(origList, patchList, meta, false);
    const kind = elementKind([origList, patchList], mergeKey ? 'map' : 'scalar');
    const [inOrder, serverOnly] = partition(merged, order, mergeKey);
    original[field] = normalizeOrder(inOrder, serverOnly, order, origList, mergeKey, kind);
    delete patch[field];
  }
}

/** validatePatchWithSetOrderList: the patch list must follow the $setElementOrder list. */
function validateOrder(patchList: Json[], order: Json[], mergeKey: string): void {
  if (!order.length || !patchList.length) return;
  const items = mergeKey ? patchList.filter((v) => !(isMap(v) && v[DIRECTIVE] === 'delete')) : patchList;
  let p = 0;
  let s = 0;
  while (p < items.length && s < order.length) {
    const item = items[p];
    if (isMap(item) && DIRECTIVE in item) {
      p++;
      continue;
    }
    if (sameElement(item, order[s], mergeKey)) p++;
    s++;
  }
  if (p < items.length && s >= order.length) {
    throw internal(`The order in patch list:\n${goFmt(patchList)}\n doesn't match ${SET_ORDER} list:\n${goFmt(order)}\n`);
  }
}

function sameElement(a: Json, b: Json, mergeKey: string): boolean {
  if (!mergeKey) return a === b;
  if (!isMap(a) || !(mergeKey in a)) throw noMergeKey(a, mergeKey);
  if (!isMap(b) || !(mergeKey in b)) throw noMergeKey(b, mergeKey);
  return a[mergeKey] === b[mergeKey];
}

const noMergeKey = (m: Json, key: string) => internal(`map: ${goFmt(m)} does not contain declared merge key: ${key}`);

/** sliceElementType: all elements share one JSON type, and lists of lists are refused. */
function elementKind(lists: Json[][], fallback: string): string {
  let kind: string | undefined;
  for (const list of lists) {
    for (const v of list) {
      const k = jsonKind(v);
      if (kind === undefined) {
        if (k === 'array') throw unprocessable('lists of lists are not supported');
        kind = k;
      } else if (k !== kind) {
        throw internal(`list element types are not identical: ${goFmt(lists)}`);
      }
    }
  }
  return kind === 'map' ? 'map' : kind === undefined ? fallback : 'scalar';
}

function mergeList(original: Json[], patch: Json[], meta: FieldMeta, isDeleteList: boolean): Json[] {
  if (meta.strategy !== 'merge') return clean(patch) as Json[];
  if (!original.length && !patch.length) return original;
  const mergeKey = meta.mergeKey ?? '';
  const kind = elementKind([original, patch], 'scalar');
  let merged: Json[];
  if (kind !== 'map') {
    if (isDeleteList) return original.filter((v) => !patch.includes(v));
    merged = [...new Set([...original, ...patch])];
  } else {
    if (!mergeKey) throw internal('cannot merge lists without merge key for type map');
    [original, patch] = applyListDirectives(original, patch as JsonMap[], mergeKey);
    merged = [...original];
    for (const item of patch as JsonMap[]) {
      if (!(mergeKey in item)) throw noMergeKey(item, mergeKey);
      const i = merged.findIndex((o) => isMap(o) && o[mergeKey] === item[mergeKey]);
      if (i >= 0) merged[i] = mergeMap(merged[i] as JsonMap, item, meta.schema ?? {});
      else merged.push(clean(item) as JsonMap);
    }
  }
  const [inPatch, serverOnly] = partition(merged, patch, kind === 'map' ? mergeKey : '');
  return normalizeOrder(inPatch, serverOnly, patch, original, kind === 'map' ? mergeKey : '', kind);
}

/** mergeSliceWithSpecialElements: `{$patch: delete, name: x}` removes x; `{$patch: replace}` replaces the list. */
function applyListDirectives(original: Json[], patch: JsonMap[], mergeKey: string): [Json[], Json[]] {
  const rest: Json[] = [];
  let replace = false;
  for (const item of patch) {
    if (!(DIRECTIVE in item)) {
      rest.push(item);
      continue;
    }
    const d = item[DIRECTIVE];
    if (d === 'delete') {
      if (!(mergeKey in item)) throw noMergeKey(item, mergeKey);
      original = original.filter((o) => !(isMap(o) && o[mergeKey] === item[mergeKey]));
    } else if (d === 'replace') {
      replace = true;
    } else if (d === 'merge') {
      throw internal('merging lists cannot yet be specified in the patch');
    } else {
      throw internal(`unknown patch type: ${goFmt(d)} in map: ${goFmt(item)}`);
    }
  }
  return replace ? [rest.map((v) => clean(v) as Json), []] : [original, rest];
}

/** Splits `list` into items present in `by` (matched by merge key, or by value) and the rest. */
function partition(list: Json[], by: Json[], mergeKey: string): [Json[], Json[]] {
  const inBy: Json[] = [];
  const rest: Json[] = [];
  for (const v of list) {
    if (mergeKey && !(isMap(v) && mergeKey in v)) throw noMergeKey(v, mergeKey);
    (indexIn(by, v, mergeKey) >= 0 ? inBy : rest).push(v);
  }
  return [inBy, rest];
}

function indexIn(list: Json[], item: Json, mergeKey: string): number {
  if (!mergeKey) return list.indexOf(item);
  const key = (item as JsonMap)[mergeKey];
  return list.findIndex((o) => isMap(o) && o[mergeKey] === key);
}

/**
 * normalizeElementOrder: patch items follow the patch (or $setElementOrder),
 * server-only items keep their live order, and the two are interleaved by
 * their positions in the live list.
 */
function normalizeOrder(patchItems: Json[], serverOnly: Json[], patchOrder: Json[], serverOrder: Json[], mergeKey: string, kind: string): Json[] {
  const key = kind === 'map' ? mergeKey : '';
  const sortBy = (items: Json[], order: Json[]) => {
    const unknown = items.filter((v) => indexIn(order, v, key) < 0);
    const known = items.filter((v) => indexIn(order, v, key) >= 0).sort((a, b) => indexIn(order, a, key) - indexIn(order, b, key));
    return [...unknown, ...known];
  };
  const left = sortBy(serverOnly, serverOrder);
  const right = sortBy(patchItems, patchOrder);
  const out: Json[] = [];
  let i = 0;
  let j = 0;
  while (i < left.length || j < right.length) {
    if (i >= left.length) out.push(right[j++]);
    else if (j >= right.length) out.push(left[i++]);
    else {
      const li = indexIn(serverOrder, left[i], key);
      const ri = indexIn(serverOrder, right[j], key);
      if (li >= 0 && ri >= 0 && li < ri) out.push(left[i++]);
      else out.push(right[j++]);
    }
  }
  return out;
}
