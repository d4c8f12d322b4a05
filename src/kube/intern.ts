// Cached objects repeat the same short strings over and over: namespaces,
// node names, images, label values, owner kinds and names, condition types
// and reasons, field managers. JSON.parse makes a fresh copy of each for
// every object, so at 50k cached pods the copies are a fifth of the cache.
// Interning them as objects enter the cache keeps one copy per distinct
// value. The table is bounded: when it fills (unique strings — names, uids,
// resourceVersions — fill it fastest) it starts over, which costs sharing
// only between objects cached on either side of the reset.
const MAX_LENGTH = 128;
const MAX_ENTRIES = 65_536;

let table = new Map<string, string>();

/** The one shared copy of a short string. */
export function intern(s: string): string {
  if (s.length > MAX_LENGTH) return s;
  const have = table.get(s);
  if (have !== undefined) return have;
  if (table.size >= MAX_ENTRIES) table = new Map();
  table.set(s, s);
  return s;
}

/** Interns every string inside a freshly parsed JSON value, in place (the value must be the caller's own). */
export function internDeep(v: unknown): unknown {
  if (typeof v === 'string') return intern(v);
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) v[i] = internDeep(v[i]);
    return v;
  }
  const o = v as Record<string, unknown>;
  for (const k in o) if (Object.hasOwn(o, k)) o[k] = internDeep(o[k]);
  return o;
}

/** Entries in the table now (for tests). */
export const internTableSize = (): number => table.size;
