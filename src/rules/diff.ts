// What changed between two versions of an object, as leaf paths a person can
// read and a rule can name: `spec.template.spec.containers[name=app].image`.
//
// Hand-written rather than microdiff: the point of this diff is its paths.
// Lists of named things (containers, ports, volumes, conditions) are matched
// by name, not position, because their order is not stable and a reorder is
// not a change; lists of scalars (args, command) are reported whole, which is
// how people read them. microdiff compares arrays by index, so it would need
// both a pre-pass and a post-pass; the comparison itself is node's
// isDeepStrictEqual.
import { isDeepStrictEqual } from 'node:util';

/** One step of a path: a map key, a list index, or a list element chosen by a field (`[name=app]`). */
export type PathSegment =
  | { key: string }
  | { index: number }
  | { field: string; value: string };

export interface Change {
  path: string;
  old: unknown;
  new: unknown;
}

export interface DiffOptions {
  /** Extra path prefixes to leave out (e.g. `status`, `metadata.annotations`); a `*` segment matches any one segment. */
  ignore?: string[];
  /** Leave out `status` (what controllers write) to see only what people and tools changed. Default false. */
  ignoreStatus?: boolean;
}

/** Bookkeeping the API server changes on every write: never worth reporting. */
export const DEFAULT_IGNORE: readonly string[] = ['metadata.resourceVersion', 'metadata.managedFields', 'metadata.generation'];

/** Fields that identify an element of a list of objects, in order of preference. */
const KEY_FIELDS = ['name', 'type'];

const PLAIN_KEY = /^[^.[\]"=\s]+$/;

export function formatSegment(seg: PathSegment, first: boolean): string {
  if ('index' in seg) return `[${seg.index}]`;
  if ('field' in seg) return `[${seg.field}=${seg.value}]`;
  if (PLAIN_KEY.test(seg.key)) return first ? seg.key : `.${seg.key}`;
  return `[${JSON.stringify(seg.key)}]`;
}

export function formatPath(segs: readonly PathSegment[]): string {
  return segs.map((s, i) => formatSegment(s, i === 0)).join('');
}

const parsed = new Map<string, PathSegment[]>();

/**
 * Parses `a.b[0].c`, `containers[name=app]` and `labels["app.kubernetes.io/name"]`.
 * Throws a RangeError naming the position of a malformed path.
 */
export function parsePath(path: string): PathSegment[] {
  const hit = parsed.get(path);
  if (hit) return hit;
  const segs: PathSegment[] = [];
  let i = 0;
  const fail = (why: string): never => {
    throw new RangeError(`invalid path "${path}" at character ${i + 1}: ${why}`);
  };
  while (i < path.length) {
    if (path[i] === '[') {
      if (path[i + 1] === '"') {
        const end = path.indexOf('"]', i + 2);
        if (end < 0) fail('unterminated ["…"]');
        try {
          segs.push({ key: JSON.parse(path.slice(i + 1, end + 1)) as string });
        } catch {
          fail('bad quoted key');
        }
        i = end + 2;
      } else {
        const end = path.indexOf(']', i);
        if (end < 0) fail('missing ]');
        const inner = path.slice(i + 1, end);
        const eq = inner.indexOf('=');
        if (/^\d+$/.test(inner)) segs.push({ index: Number(inner) });
        else if (eq > 0) segs.push({ field: inner.slice(0, eq), value: inner.slice(eq + 1) });
        else fail('expected [number], [field=value] or ["key"]');
        i = end + 1;
      }
    } else {
      if (segs.length) {
        if (path[i] !== '.') fail('expected . or [');
        i++;
      }
      const m = /^[^.[\]]+/.exec(path.slice(i));
      if (!m) fail('expected a field name');
      segs.push({ key: m![0] });
      i += m![0].length;
    }
  }
  if (!segs.length) fail('empty path');
  if (parsed.size > 1000) parsed.clear(); // paths come from rules, so this only guards against generated ones
  parsed.set(path, segs);
  return segs;
}

/** The value at `path`, or undefined when any step is missing. */
export function getPath(obj: unknown, path: string | readonly PathSegment[]): unknown {
  let cur = obj;
  for (const seg of typeof path === 'string' ? parsePath(path) : path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    if ('key' in seg) {
      if (Array.isArray(cur) || !Object.hasOwn(cur, seg.key)) return undefined;
      cur = (cur as Record<string, unknown>)[seg.key];
    } else if ('index' in seg) {
      if (!Array.isArray(cur)) return undefined;
      cur = cur[seg.index];
    } else {
      if (!Array.isArray(cur)) return undefined;
      cur = cur.find((el) => isObject(el) && el[seg.field] !== undefined && String(el[seg.field]) === seg.value);
    }
  }
  return cur;
}

/** Changed leaf paths from `oldObj` to `newObj`; an added or removed subtree is one change. */
export function diffObjects(oldObj: unknown, newObj: unknown, opts: DiffOptions = {}): Change[] {
  const ignore = [...DEFAULT_IGNORE, ...(opts.ignoreStatus ? ['status'] : []), ...(opts.ignore ?? [])].map(patternParts);
  const out: Change[] = [];
  walk(oldObj, newObj, [], ignore, out);
  return out;
}

function walk(a: unknown, b: unknown, segs: PathSegment[], ignore: string[][], out: Change[]): void {
  if (segs.length && isIgnored(segs, ignore)) return;
  if (isObject(a) && isObject(b)) {
    for (const k of unionKeys(a, b)) walk(a[k], b[k], [...segs, { key: k }], ignore, out);
    return;
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    const field = keyField(a, b);
    if (field) {
      const byKey = (arr: unknown[]) => new Map(arr.map((el) => [String((el as Record<string, unknown>)[field]), el]));
      const ma = byKey(a);
      const mb = byKey(b);
      for (const k of new Set([...ma.keys(), ...mb.keys()])) walk(ma.get(k), mb.get(k), [...segs, { field, value: k }], ignore, out);
      return;
    }
    if (a.length === b.length && a.some((el) => el !== null && typeof el === 'object')) {
      for (let i = 0; i < a.length; i++) walk(a[i], b[i], [...segs, { index: i }], ignore, out);
      return;
    }
  }
  if (!isDeepStrictEqual(a, b)) out.push({ path: formatPath(segs), old: a, new: b });
}

/** An ignore pattern as formatted segments; `*` or `[*]` stands for any one segment. */
function patternParts(pattern: string): string[] {
  return (pattern.match(/\[[^\]]*\]|[^.[\]]+/g) ?? []).map((t) => (t === '[*]' ? '*' : t));
}

function isIgnored(segs: PathSegment[], ignore: string[][]): boolean {
  const parts = segs.map((s, i) => formatSegment(s, i === 0).replace(/^\./, ''));
  return ignore.some((p) => p.length <= parts.length && p.every((x, i) => x === '*' || x === parts[i]));
}

function unionKeys(a: Record<string, unknown>, b: Record<string, unknown>): string[] {
  const keys = Object.keys(a);
  for (const k of Object.keys(b)) if (!Object.hasOwn(a, k)) keys.push(k);
  return keys;
}

/** The field that names every element of both lists uniquely, if there is one. */
function keyField(a: unknown[], b: unknown[]): string | undefined {
  if (!a.length && !b.length) return undefined;
  return KEY_FIELDS.find((f) => [a, b].every((arr) => {
    const seen = new Set<string>();
    for (const el of arr) {
      if (!isObject(el) || typeof el[f] !== 'string' || seen.has(el[f] as string)) return false;
      seen.add(el[f] as string);
    }
    return true;
  }));
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}
