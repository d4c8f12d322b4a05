// /openapi/v2 and /openapi/v3[/<group version>], served as kube-apiserver
// 1.32's handlers serve them (kube-openapi handler and handler3, behind the
// aggregator): content negotiation on Accept, ETags (hex SHA-512 of the JSON)
// with If-None-Match, and for v3 group versions a `hash` that, when right,
// makes the answer immutable (Cache-Control, Expires a year on) and, when
// stale, redirects to the current one.
//
// kubectl needs all of it: `explain` reads the v3 documents (and the v2 one in
// protobuf for --output=plaintext-openapiv2); create/apply/edit look for the
// `fieldValidation` parameter on each kind's PATCH operation to decide that
// the server validates (so kubectl sends fieldValidation=Strict instead of
// validating client-side); apply builds strategic merge patches from the v3
// schemas. Documents are built on first request and shared by every sandbox
// of the process that serves the same types.
import { createHash } from 'node:crypto';
import type { Clock } from '../../common/index.ts';
import type { ServedType, TypeRegistry } from '../api-types.ts';
import type { Call, Outcome } from './context.ts';
import { VERSION_INFO } from './discovery.ts';
import { parseAccept } from './negotiate.ts';
import { encodeV2 } from './openapi-proto.ts';
import { buildV2, openapiSignature } from './openapi-v2.ts';
import { buildV3 } from './openapi-v3.ts';

const JSON_TYPE = 'application/json';
/** kube-openapi answers both protobuf spellings with the dotted one. */
const PROTO_V2 = 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf';
const PROTO_V2_TYPES = new Set(['com.github.proto-openapi.spec.v2@v1.0+protobuf', 'com.github.proto-openapi.spec.v2.v1.0+protobuf']);

interface Body {
  bytes: Buffer;
  etag: string;
}

const etagOf = (b: Buffer) => createHash('sha512').update(b).digest('hex').toUpperCase();
const body = (text: string): Body => {
  const bytes = Buffer.from(text, 'utf8');
  return { bytes, etag: etagOf(bytes) };
};

/** The documents for one set of served types, each built when first asked for. */
class Documents {
  private v2?: ReturnType<typeof buildV2>;
  private v2Json?: Body;
  private v2Proto?: Buffer;
  private v3?: Map<string, Body>;
  private readonly types: Pick<TypeRegistry, 'all'>;

  constructor(served: readonly ServedType[]) {
    // A snapshot: the registry may serve other types by the time a document is built.
    this.types = { all: () => served };
  }

  private v2doc() {
    return (this.v2 ??= buildV2(this.types, VERSION_INFO.gitVersion));
  }

  json(): Body {
    return (this.v2Json ??= body(JSON.stringify(this.v2doc())));
  }

  proto(): Buffer {
    return (this.v2Proto ??= encodeV2(this.v2doc()));
  }

  groupVersions(): Map<string, Body> {
    this.v3 ??= new Map([...buildV3(this.v2doc(), this.types, VERSION_INFO.gitVersion)].map(([k, d]) => [k, body(JSON.stringify(d))]));
    return this.v3;
  }
}

/** Recently served type sets; tests start many sandboxes serving the same built-in types. */
const recent = new Map<string, Documents>();
const perRegistry = new WeakMap<TypeRegistry, { generation: number; docs: Documents }>();

function documents(types: TypeRegistry): Documents {
  const hit = perRegistry.get(types);
  if (hit && hit.generation === types.generation) return hit.docs;
  const signature = openapiSignature(types);
  let docs = recent.get(signature);
  if (docs) recent.delete(signature);
  else docs = new Documents(types.all());
  recent.set(signature, docs);
  // A few sets at a time: each holds up to ~15 MB of rendered documents.
  while (recent.size > 3) recent.delete(recent.keys().next().value!);
  perRegistry.set(types, { generation: types.generation, docs });
  return docs;
}

/** Accept's media ranges as goautoneg orders them: by quality, then the more specific first. */
function clauses(accept: string | undefined): { type: string; subtype: string }[] {
  const ranges = parseAccept(accept || '*/*').map((r, i) => {
    const [type, subtype = ''] = r.type.split('/');
    const q = r.params.q === undefined ? 1 : Number(r.params.q);
    return { type, subtype, q: Number.isNaN(q) ? 0 : q, i };
  });
  const rank = (c: { type: string; subtype: string }) => (c.type === '*' ? 2 : c.subtype === '*' ? 1 : 0);
  return ranges.sort((a, b) => b.q - a.q || rank(a) - rank(b) || a.i - b.i);
}

/** The first of `offered` (subtypes of application/) that the best acceptable clause allows. */
function negotiate(accept: string | undefined, offered: string[]): string | undefined {
  for (const c of clauses(accept)) {
    for (const sub of offered) {
      if ((c.type === 'application' || c.type === '*') && (c.subtype === sub || c.subtype === '*')) return sub;
    }
  }
  return undefined;
}

/** http.ServeContent's If-None-Match check: any listed tag (weak or strong) or `*`. */
function notModified(call: Call, etag: string): boolean {
  const header = call.headers['if-none-match'];
  if (typeof header !== 'string') return false;
  return header.split(',').map((s) => s.trim().replace(/^W\//, '')).some((t) => t === '*' || t === `"${etag}"`);
}

const empty = (code: number, headers: Record<string, string> = {}): Outcome => ({ code, raw: Buffer.alloc(0), headers });

function serve(call: Call, bytes: Buffer, etag: string, contentType: string, headers: Record<string, string>): Outcome {
  const h = { ...headers, Etag: `"${etag}"` };
  if (notModified(call, etag)) return empty(304, h);
  return { code: 200, raw: bytes, contentType, headers: { ...h, 'Accept-Ranges': 'bytes' } };
}

/** GET /openapi/v2, /openapi/v3 and /openapi/v3/{api|apis}/...; undefined for other paths. */
export function openapi(call: Call, types: TypeRegistry, clock: Clock): Outcome | undefined {
  const p = call.path;
  if (p === '/openapi/v2') {
    const vary = { Vary: 'Accept' };
    const sub = negotiate(call.headers.accept, ['json', ...PROTO_V2_TYPES]);
    if (!sub) return empty(406, vary);
    const docs = documents(types);
    // One ETag for both forms: Vary tells caches apart (as kube-openapi does).
    const { bytes, etag } = docs.json();
    return sub === 'json' ? serve(call, bytes, etag, JSON_TYPE, vary) : serve(call, docs.proto(), etag, PROTO_V2, vary);
  }
  if (p === '/openapi/v3') {
    const index = Object.fromEntries([...documents(types).groupVersions()].map(([k, d]) => [k, { serverRelativeURL: `/openapi/v3/${k}?hash=${d.etag}` }]));
    // The aggregator sets no Content-Type: Go sniffs the JSON as plain text.
    return { code: 200, raw: Buffer.from(JSON.stringify({ paths: index })), contentType: 'text/plain; charset=utf-8', headers: { 'Accept-Ranges': 'bytes' } };
  }
  if (!p.startsWith('/openapi/v3/')) return undefined;
  const key = p.slice('/openapi/v3/'.length);
  const doc = documents(types).groupVersions().get(key);
  if (!doc) return empty(404);
  const headers: Record<string, string> = { Vary: 'Accept' };
  // Only JSON here: the v3 protobuf form is not served, so an Accept that wants nothing else is a 406.
  const sub = negotiate(call.headers.accept, ['json']);
  if (!sub) return empty(406, headers);
  const hash = call.query.get('hash');
  if (hash) {
    if (hash !== doc.etag) {
      // http.Redirect writes no body once the handler has set a Content-Type.
      return { code: 301, raw: Buffer.alloc(0), contentType: JSON_TYPE, headers: { ...headers, Etag: `"${doc.etag}"`, Location: `/openapi/v3/${key}?hash=${doc.etag}` } };
    }
    headers['Cache-Control'] = 'public, immutable';
    headers.Expires = aYearOn(clock.now());
  }
  return serve(call, doc.bytes, doc.etag, JSON_TYPE, headers);
}

/** time.Now().AddDate(1, 0, 0) in Go's time.RFC1123 (`Mon, 02 Jan 2006 15:04:05 UTC`). */
function aYearOn(ms: number): string {
  const d = new Date(ms);
  d.setUTCFullYear(d.getUTCFullYear() + 1);
  return d.toUTCString().replace(/GMT$/, 'UTC');
}
