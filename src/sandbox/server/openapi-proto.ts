// The OpenAPI v2 document in gnostic's protobuf form
// (github.com/google/gnostic-models openapiv2/OpenAPIv2.proto), which is what
// kube-apiserver sends for `Accept: application/com.github.proto-openapi.spec.v2@v1.0+protobuf`
// (handler.ToProtoBinary: openapi_v2.ParseDocument, then proto.Marshal).
// kubectl's OpenAPI v2 client asks for nothing else and cannot read JSON, so
// `kubectl explain --output=plaintext-openapiv2` and kubectl's v2 fallbacks
// need it. Field numbers are the .proto's; values that gnostic keeps as YAML
// (vendor extensions, enum values, defaults) are YAML text, as there.
import { stringify } from 'yaml';
import type { Json } from './openapi-spec.ts';
import { Msg } from './protobuf-writer.ts';

const yamlCache = new Map<string, string>();
/** An Any: the value as YAML, as gnostic's compiler.Marshal writes it. */
function any(v: unknown): Msg {
  const key = JSON.stringify(v);
  let text = yamlCache.get(key);
  if (text === undefined) {
    text = stringify(v);
    if (yamlCache.size < 10_000) yamlCache.set(key, text);
  }
  const m = new Msg();
  m.string(2, text);
  return m;
}

const named = (name: string, value: Msg) => {
  const m = new Msg();
  m.string(1, name);
  m.message(2, value);
  return m;
};

/** Every `x-` key of an object as NamedAny, in document order. */
function extensions(m: Msg, field: number, o: Json): void {
  for (const [k, v] of Object.entries(o)) if (k.startsWith('x-')) m.message(field, named(k, any(v)));
}

function anys(m: Msg, field: number, v: unknown): void {
  if (Array.isArray(v)) for (const x of v) m.message(field, any(x));
}

function schema(s: Json): Msg {
  const m = new Msg();
  m.string(1, s.$ref);
  m.string(2, s.format);
  m.string(3, s.title);
  m.string(4, s.description);
  if (s.default !== undefined) m.message(5, any(s.default));
  m.double(6, s.multipleOf);
  m.double(7, s.maximum);
  m.bool(8, s.exclusiveMaximum);
  m.double(9, s.minimum);
  m.bool(10, s.exclusiveMinimum);
  m.int(11, s.maxLength);
  m.int(12, s.minLength);
  m.string(13, s.pattern);
  m.int(14, s.maxItems);
  m.int(15, s.minItems);
  m.bool(16, s.uniqueItems);
  m.int(17, s.maxProperties);
  m.int(18, s.minProperties);
  m.strings(19, s.required);
  anys(m, 20, s.enum);
  if (s.additionalProperties !== undefined) {
    const ap = new Msg();
    if (typeof s.additionalProperties === 'boolean') ap.bool(2, s.additionalProperties, true);
    else ap.message(1, schema(s.additionalProperties));
    m.message(21, ap);
  }
  if (s.type !== undefined) {
    const t = new Msg();
    t.strings(1, Array.isArray(s.type) ? s.type : [s.type]);
    m.message(22, t);
  }
  if (s.items !== undefined) {
    const items = new Msg();
    for (const x of Array.isArray(s.items) ? s.items : [s.items]) items.message(1, schema(x));
    m.message(23, items);
  }
  for (const x of s.allOf ?? []) m.message(24, schema(x));
  if (s.properties !== undefined) m.message(25, namedList(s.properties, schema));
  m.string(26, s.discriminator);
  m.bool(27, s.readOnly);
  if (s.example !== undefined) m.message(30, any(s.example));
  extensions(m, 31, s);
  return m;
}

/** A map as a message of repeated Named* entries (field 1), each value encoded by `f`. */
function namedList(o: Json, f: (v: any) => Msg): Msg {
  const m = new Msg();
  for (const [k, v] of Object.entries(o)) m.message(1, named(k, f(v)));
  return m;
}

/** Query and form-data sub-schemas share one numbering, header and path sub-schemas another. */
function nonBody(p: Json): Msg {
  const sub = new Msg();
  const queryLike = p.in === 'query' || p.in === 'formData';
  let n = 1;
  sub.bool(n++, p.required);
  sub.string(n++, p.in);
  sub.string(n++, p.description);
  sub.string(n++, p.name);
  if (queryLike) sub.bool(n++, p.allowEmptyValue);
  sub.string(n++, p.type);
  sub.string(n++, p.format);
  if (p.items !== undefined) sub.message(n, primitives(p.items));
  n++;
  sub.string(n++, p.collectionFormat);
  if (p.default !== undefined) sub.message(n, any(p.default));
  n++;
  numeric(sub, n, p);
  const oneof = new Msg();
  oneof.message({ header: 1, formData: 2, query: 3, path: 4 }[p.in as string] ?? 3, sub);
  return oneof;
}

/** maximum … multipleOf, then vendor extensions, from field `n` on (the same run in every sub-schema). */
function numeric(m: Msg, n: number, p: Json): void {
  m.double(n, p.maximum);
  m.bool(n + 1, p.exclusiveMaximum);
  m.double(n + 2, p.minimum);
  m.bool(n + 3, p.exclusiveMinimum);
  m.int(n + 4, p.maxLength);
  m.int(n + 5, p.minLength);
  m.string(n + 6, p.pattern);
  m.int(n + 7, p.maxItems);
  m.int(n + 8, p.minItems);
  m.bool(n + 9, p.uniqueItems);
  anys(m, n + 10, p.enum);
  m.double(n + 11, p.multipleOf);
  extensions(m, n + 12, p);
}

function primitives(p: Json): Msg {
  const m = new Msg();
  m.string(1, p.type);
  m.string(2, p.format);
  if (p.items !== undefined) m.message(3, primitives(p.items));
  m.string(4, p.collectionFormat);
  if (p.default !== undefined) m.message(5, any(p.default));
  numeric(m, 6, p);
  return m;
}

/** Parameter: a BodyParameter or a NonBodyParameter. */
function parameter(p: Json): Msg {
  const m = new Msg();
  if (p.in === 'body') {
    const b = new Msg();
    b.string(1, p.description);
    b.string(2, p.name);
    b.string(3, p.in);
    b.bool(4, p.required);
    if (p.schema !== undefined) b.message(5, schema(p.schema));
    extensions(b, 6, p);
    m.message(1, b);
  } else {
    m.message(2, nonBody(p));
  }
  return m;
}

/** ParametersItem: a parameter, or a JsonReference to a shared one. */
function parametersItem(p: Json): Msg {
  const m = new Msg();
  if (typeof p.$ref === 'string') {
    const ref = new Msg();
    ref.string(1, p.$ref);
    ref.string(2, p.description);
    m.message(2, ref);
  } else {
    m.message(1, parameter(p));
  }
  return m;
}

function operation(o: Json): Msg {
  const m = new Msg();
  m.strings(1, o.tags);
  m.string(2, o.summary);
  m.string(3, o.description);
  m.string(5, o.operationId);
  m.strings(6, o.produces);
  m.strings(7, o.consumes);
  for (const p of o.parameters ?? []) m.message(8, parametersItem(p));
  if (o.responses !== undefined) {
    const rs = new Msg();
    for (const [code, r] of Object.entries(o.responses as Json)) {
      if (code.startsWith('x-')) continue;
      const value = new Msg();
      const resp = new Msg();
      resp.string(1, r.description);
      if (r.schema !== undefined) {
        const item = new Msg();
        item.message(1, schema(r.schema));
        resp.message(2, item);
      }
      extensions(resp, 5, r);
      value.message(1, resp);
      rs.message(1, named(code, value));
    }
    extensions(rs, 2, o.responses);
    m.message(9, rs);
  }
  m.strings(10, o.schemes);
  m.bool(11, o.deprecated);
  extensions(m, 13, o);
  return m;
}

const METHODS: Record<string, number> = { get: 2, put: 3, post: 4, delete: 5, options: 6, head: 7, patch: 8 };

function pathItem(item: Json): Msg {
  const m = new Msg();
  m.string(1, item.$ref);
  for (const [method, field] of Object.entries(METHODS)) if (item[method]) m.message(field, operation(item[method]));
  for (const p of item.parameters ?? []) m.message(9, parametersItem(p));
  extensions(m, 10, item);
  return m;
}

/** The whole document (a Swagger object as JSON) as protobuf bytes. */
export function encodeV2(doc: Json): Buffer {
  const m = new Msg();
  m.string(1, doc.swagger);
  if (doc.info) {
    const info = new Msg();
    info.string(1, doc.info.title);
    info.string(2, doc.info.version);
    info.string(3, doc.info.description);
    extensions(info, 7, doc.info);
    m.message(2, info);
  }
  m.strings(6, doc.consumes);
  m.strings(7, doc.produces);
  if (doc.paths) {
    const paths = new Msg();
    extensions(paths, 1, doc.paths);
    for (const [p, item] of Object.entries(doc.paths as Json)) if (p.startsWith('/')) paths.message(2, named(p, pathItem(item)));
    m.message(8, paths);
  }
  if (doc.definitions) m.message(9, namedList(doc.definitions, schema));
  if (doc.parameters) m.message(10, namedList(doc.parameters, parameter));
  for (const req of doc.security ?? []) {
    const r = new Msg();
    for (const [name, scopes] of Object.entries(req as Json)) {
      const arr = new Msg();
      arr.strings(1, scopes);
      r.message(1, named(name, arr));
    }
    m.message(12, r);
  }
  if (doc.securityDefinitions) m.message(13, namedList(doc.securityDefinitions, securityScheme));
  extensions(m, 16, doc);
  return m.bytes();
}

/** SecurityDefinitionsItem: kube-apiserver's only scheme is an apiKey (BearerToken). */
function securityScheme(s: Json): Msg {
  const m = new Msg();
  const inner = new Msg();
  if (s.type === 'basic') {
    inner.string(1, s.type);
    inner.string(2, s.description);
    extensions(inner, 3, s);
    m.message(1, inner);
  } else {
    inner.string(1, s.type);
    inner.string(2, s.name);
    inner.string(3, s.in);
    inner.string(4, s.description);
    extensions(inner, 5, s);
    m.message(2, inner);
  }
  return m;
}
