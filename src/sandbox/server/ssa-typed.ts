// structured-merge-diff's operations on typed values, for server-side apply:
// the field set a value sets (ToFieldSet), what changed between two values
// (Compare), the applied configuration merged into the live object (Merge),
// and removing owned fields (RemoveItems). Values are plain JSON; shapes come
// from ssa-schema.ts.
import { ApiError } from '../status.ts';
import { FieldSet, field, keyElement, pathString, valueElement, type Path } from './fieldpath.ts';
import { fieldShape, resolve, type Shape } from './ssa-schema.ts';

type Json = unknown;
type JsonMap = Record<string, unknown>;

const isMap = (v: unknown): v is JsonMap => !!v && typeof v === 'object' && !Array.isArray(v);

/** Maps whose entries are the user's data: when one appears it is owned itself (the `.` of an Update). */
const DATA_MAPS = new Set(['labels', 'annotations', 'data', 'binaryData', 'stringData', 'nodeSelector', 'limits', 'requests', 'rollingUpdate']);

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  if (isMap(a) && isMap(b)) {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => k in b && deepEqual(a[k], b[k]));
  }
  return false;
}

/** The path element of a list item: its keys (defaults filled in), or its value in a set. */
function itemElement(shape: Shape, item: Json, path: Path, index: number): string {
  if (shape.type === 'set') return valueElement(item);
  if (shape.type !== 'assoc') return `i:${index}`;
  if (!isMap(item)) throw typedError(`${pathString(path)}: element ${index}: associative list with keys has an element that is not a map`);
  const keys: JsonMap = {};
  for (const k of shape.keys) {
    const v = item[k] ?? shape.defaults?.[k];
    if (v === undefined || v === null) {
      if (shape.keys.length > 1 && k !== shape.keys[0] && !shape.defaults?.[k]) continue;
      throw typedError(`${pathString(path)}: element ${index}: associative list with keys has an element that omits key field ${JSON.stringify(k)} (and doesn't have default value)`);
    }
    keys[k] = v;
  }
  return keyElement(keys);
}

function typedError(message: string): ApiError {
  return new ApiError(500, 'InternalError', `failed to create typed patch object: ${message}`);
}

/** Items of a list by their path element, refusing duplicates as the typed converter does. */
function indexList(shape: Shape, list: Json[], path: Path): Map<string, Json> {
  const out = new Map<string, Json>();
  list.forEach((item, i) => {
    const pe = itemElement(shape, item, path, i);
    if (out.has(pe)) throw typedError(`${pathString(path)}: duplicate entries for key ${pathString([pe])}`);
    out.set(pe, item);
  });
  return out;
}

/** ToFieldSet: leaves, atomic values, list items (and set values) that `value` sets. */
export function toFieldSet(value: Json, shape: Shape): FieldSet {
  const set = new FieldSet();
  const walk = (v: Json, s: Shape, path: Path) => {
    s = resolve(s, v);
    if (s.type === 'map' && isMap(v)) {
      for (const [k, c] of Object.entries(v)) walk(c, fieldShape(s, k), [...path, field(k)]);
    } else if ((s.type === 'assoc' || s.type === 'set') && Array.isArray(v)) {
      for (const [pe, item] of indexList(s, v, path)) {
        const p = [...path, pe];
        if (s.type === 'assoc') walk(item, s.elem, p);
        set.add(p);
      }
    } else {
      set.add(path);
    }
  };
  walk(value, shape, []);
  return set;
}

export interface Comparison {
  added: FieldSet;
  modified: FieldSet;
  removed: FieldSet;
}

/** Compare: paths added, modified and removed going from `lhs` to `rhs`. */
export function compare(lhs: Json, rhs: Json, shape: Shape): Comparison {
  const c: Comparison = { added: new FieldSet(), modified: new FieldSet(), removed: new FieldSet() };
  const leaf = (l: Json, r: Json, path: Path) => {
    if (l === undefined && r === undefined) return;
    if (l === undefined) c.added.add(path);
    else if (r === undefined) c.removed.add(path);
    else if (!deepEqual(l, r)) c.modified.add(path);
  };
  const walk = (l: Json, r: Json, s: Shape, path: Path, own: boolean) => {
    s = resolve(s, r ?? l);
    if (s.type === 'map' && (l === undefined || isMap(l)) && (r === undefined || isMap(r))) {
      const lm = (l ?? {}) as JsonMap;
      const rm = (r ?? {}) as JsonMap;
      if (!Object.keys(lm).length && !Object.keys(rm).length) return leaf(l, r, path);
      for (const k of new Set([...Object.keys(lm), ...Object.keys(rm)])) {
        walk(lm[k], rm[k], fieldShape(s, k), [...path, field(k)], DATA_MAPS.has(k));
      }
    } else if ((s.type === 'assoc' || s.type === 'set') && (l === undefined || Array.isArray(l)) && (r === undefined || Array.isArray(r))) {
      const li = indexList(s, (l ?? []) as Json[], path);
      const ri = indexList(s, (r ?? []) as Json[], path);
      if (!li.size && !ri.size) return leaf(l, r, path);
      for (const pe of new Set([...li.keys(), ...ri.keys()])) {
        const p = [...path, pe];
        if (s.type === 'set') leaf(li.get(pe), ri.get(pe), p);
        else walk(li.get(pe), ri.get(pe), s.elem, p, true);
      }
      return;
    } else {
      return leaf(l, r, path);
    }
    // A map that appears or goes is itself added or removed when it is owned as a whole.
    if (own && path.length) {
      if (l === undefined) c.added.add(path);
      else if (r === undefined) c.removed.add(path);
    }
  };
  walk(lhs, rhs, shape, [], false);
  return c;
}

/** Merge: the applied configuration `rhs` over the live object `lhs` (rhs wins; lists merge by key). */
export function merge(lhs: Json, rhs: Json, shape: Shape, path: Path = []): Json {
  if (rhs === undefined) return lhs;
  if (lhs === undefined) return structuredClone(rhs);
  const s = resolve(shape, rhs);
  if (s.type === 'map' && isMap(lhs) && isMap(rhs)) {
    const out: JsonMap = { ...lhs };
    for (const [k, v] of Object.entries(rhs)) out[k] = merge(lhs[k], v, fieldShape(s, k), [...path, field(k)]);
    return out;
  }
  if ((s.type === 'assoc' || s.type === 'set') && Array.isArray(lhs) && Array.isArray(rhs)) return mergeList(lhs, rhs, s, path);
  return structuredClone(rhs);
}

/**
 * mergingWalker.visitListItems: the result follows the applied order; items
 * only the live list has keep their place relative to the items both share.
 */
function mergeList(lhs: Json[], rhs: Json[], s: Shape, path: Path): Json[] {
  const lIdx = indexList(s, lhs, path);
  const rIdx = indexList(s, rhs, path);
  const lPEs = [...lIdx.keys()];
  const rPEs = [...rIdx.keys()];
  const shared = rPEs.filter((pe) => lIdx.has(pe));
  let nextShared = shared.shift();
  const done = new Set<string>();
  const out: Json[] = [];
  const item = (pe: string) => (s.type === 'assoc' ? merge(lIdx.get(pe), rIdx.get(pe), s.elem, [...path, pe]) : rIdx.get(pe) ?? lIdx.get(pe));
  let l = 0;
  let r = 0;
  while (l < lPEs.length || r < rPEs.length) {
    if (l < lPEs.length && r < rPEs.length) {
      if (lPEs[l] === rPEs[r]) {
        done.add(lPEs[l]);
        out.push(item(lPEs[l]));
        l++;
        r++;
        nextShared = shared.shift();
        continue;
      }
      if (rIdx.has(lPEs[l]) && nextShared !== undefined && nextShared !== lPEs[l]) {
        l++;
        continue;
      }
    }
    if (l < lPEs.length) {
      const pe = lPEs[l];
      if (!rIdx.has(pe)) {
        out.push(lIdx.get(pe));
        l++;
        continue;
      }
      if (done.has(pe)) {
        l++;
        continue;
      }
    }
    if (r < rPEs.length) {
      const pe = rPEs[r];
      done.add(pe);
      out.push(item(pe));
      r++;
      if (nextShared === pe) nextShared = shared.shift();
    }
  }
  return out;
}

/** RemoveItems: drops every path in `remove` (a list item goes whole); maps and lists it empties go too. */
export function removeItems(value: Json, remove: FieldSet, shape: Shape): Json {
  const walk = (v: Json, s: Shape, path: Path): Json => {
    s = resolve(s, v);
    if (s.type === 'map' && isMap(v)) {
      const out: JsonMap = {};
      for (const [k, c] of Object.entries(v)) {
        const p = [...path, field(k)];
        if (remove.has(p)) continue;
        const next = remove.hasPrefix(p) ? walk(c, fieldShape(s, k), p) : c;
        if (next !== undefined) out[k] = next;
      }
      return Object.keys(out).length ? out : undefined;
    }
    if ((s.type === 'assoc' || s.type === 'set') && Array.isArray(v)) {
      const out: Json[] = [];
      for (const [pe, item] of indexList(s, v, path)) {
        const p = [...path, pe];
        if (remove.has(p)) continue;
        const next = s.type === 'assoc' && remove.hasPrefix(p) ? walk(item, s.elem, p) : item;
        if (next !== undefined) out.push(next);
      }
      return out.length ? out : undefined;
    }
    return v;
  };
  return walk(value, shape, []) ?? {};
}
