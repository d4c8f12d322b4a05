// Comparing objects the way the API server does, not the way they happen to
// be spelled: clients send keys in their own order (the Python client in its
// models' attribute order) and leave out what is null, and none of that is a
// change. kube-apiserver decodes into Go structs before comparing, so key
// order never matters and a null is the same as an absent field.

/** JSON with object keys sorted, so equal objects always render (and hash) the same whatever their key order. */
export function canonicalJson(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null';
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(v as Record<string, unknown>)
    .filter(([, x]) => x !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${canonicalJson(x)}`).join(',')}}`;
}

/** Like canonicalJson, but a null field is no field, as after Go's decoder. */
function semanticJson(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null';
  if (Array.isArray(v)) return `[${v.map(semanticJson).join(',')}]`;
  const entries = Object.entries(v as Record<string, unknown>)
    .filter(([, x]) => x !== undefined && x !== null)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${semanticJson(x)}`).join(',')}}`;
}

/** Whether two objects are the same to the API server: key order and null fields aside. */
export function semanticallyEqual(a: unknown, b: unknown): boolean {
  // Most comparisons are of an object with a copy of itself: spelled alike, decided at once.
  return JSON.stringify(a) === JSON.stringify(b) || semanticJson(a) === semanticJson(b);
}
