// Continue tokens in the storage layer's format (base64url of
// {"v":"meta.k8s.io/v1","rv":N,"start":"<key after the last item>\u0000"},
// keys relative to the listed prefix) and its decoding errors, each worded as
// kube-apiserver words them behind "invalid continue token: ".
import { ApiError } from '../status.ts';

export interface ContinueToken {
  /** The list's resourceVersion; -1 continues at the latest one (after expiry). */
  rv: number;
  /** Items at or after this key (relative to the list's prefix) come next. */
  start: string;
}

export function encodeContinue(rv: number, lastKey: string): string {
  return Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', rv, start: `${lastKey}\u0000` })).toString('base64url');
}

/** A token for the same position at another resourceVersion (the one an expired token is answered with). */
export function reencode(token: ContinueToken, rv: number): string {
  return Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', rv, start: token.start })).toString('base64url');
}

const invalid = (why: string) => ApiError.badRequest(`invalid continue token: ${why}`);
const generic = (why: string) => invalid(`continue key is not valid: ${why}`);

/** base64.RawURLEncoding.DecodeString, with Go's CorruptInputError offsets. */
function base64Raw(s: string): string {
  const bad = s.search(/[^A-Za-z0-9_-]/);
  if (bad >= 0) throw generic(`illegal base64 data at input byte ${bad}`);
  if (s.length % 4 === 1) throw generic(`illegal base64 data at input byte ${s.length - 1}`);
  return Buffer.from(s, 'base64url').toString('utf8');
}

function jsonType(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  if (v === null) return 'null';
  return typeof v === 'boolean' ? 'bool' : typeof v;
}

/** json.Unmarshal into the storage layer's continueToken struct. */
function unmarshal(text: string): { v: string; rv: number; start: string } {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    const first = text.trimStart()[0];
    throw generic(first === undefined || /^[[{"\d-]|^(t|f|n)/.test(first) ? 'unexpected end of JSON input' : `invalid character '${first}' looking for beginning of value`);
  }
  if (raw === null) return { v: '', rv: 0, start: '' };
  if (typeof raw !== 'object' || Array.isArray(raw)) throw generic(`json: cannot unmarshal ${jsonType(raw)} into Go value of type storage.continueToken`);
  const o = raw as Record<string, unknown>;
  const field = (name: string, goType: string, ok: (x: unknown) => boolean) => {
    const x = o[name];
    if (x !== undefined && x !== null && !ok(x)) {
      const what = typeof x === 'number' ? `number ${x}` : jsonType(x);
      throw generic(`json: cannot unmarshal ${what} into Go struct field continueToken.${name} of type ${goType}`);
    }
    return x;
  };
  const v = field('v', 'string', (x) => typeof x === 'string') as string | undefined;
  const rv = field('rv', 'int64', (x) => typeof x === 'number' && Number.isInteger(x)) as number | undefined;
  const start = field('start', 'string', (x) => typeof x === 'string') as string | undefined;
  return { v: v ?? '', rv: rv ?? 0, start: start ?? '' };
}

/** path.Clean on "/"+key must leave it unchanged: no "..", ".", "//" or trailing "/" to escape the prefix. */
function isClean(key: string): boolean {
  const p = key.startsWith('/') ? key : `/${key}`;
  const out: string[] = [];
  for (const seg of p.split('/').slice(1)) {
    if (seg === '' || seg === '.') return false;
    if (seg === '..') return false;
    out.push(seg);
  }
  return `/${out.join('/')}` === p;
}

/** storage.DecodeContinue: the token's resourceVersion and start key, or a 400. */
export function decodeContinue(s: string): ContinueToken {
  const c = unmarshal(base64Raw(s));
  if (c.v !== 'meta.k8s.io/v1') throw generic(`server does not recognize this encoded version ${c.v}`);
  if (c.rv === 0) throw invalid('continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)');
  if (!c.start) throw invalid('continue key is not valid: encoded start key empty (version meta.k8s.io/v1)');
  if (!isClean(c.start)) throw generic(c.start);
  return { rv: c.rv, start: c.start.replace(/^\//, '') };
}
