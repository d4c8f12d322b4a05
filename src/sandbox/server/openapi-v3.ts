// The OpenAPI v3 documents (/openapi/v3/<group version>), derived from the
// served v2 document the way kube-openapi's openapiconv.ConvertV2ToV3 does it:
// refs move to #/components/schemas, a $ref with siblings becomes
// `allOf: [{$ref}]` beside them (builder3's WrapRefs), body parameters become
// requestBody content per consumed type, responses content per produced type,
// other parameters carry their type in `schema`. Shared v2 parameters are
// written out in place, as kube-apiserver's v3 builder writes them. Each
// document holds one web service's paths and every schema they reach; a
// custom resource version's document uses its v3 schema (defaults, nullable
// and int-or-string kept), as apiextensions-apiserver builds it.
import type { TypeRegistry } from '../api-types.ts';
import { crdDefinitions } from './openapi-crd.ts';
import { sortKeys } from './openapi-crd-schema.ts';
import { V2_PREFIX, V3_PREFIX, officialSpec, placeOf, resolveParameter, type Json, type Swagger } from './openapi-spec.ts';
import { customTypes } from './openapi-v2.ts';

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** ConvertSchema and WrapRefs: the v3 form of a v2 schema. */
export function convertSchema(s: Json): Json {
  const out: Json = {};
  for (const [k, v] of Object.entries(s)) {
    if (k === '$ref' && typeof v === 'string') out.$ref = v.startsWith(V2_PREFIX) ? V3_PREFIX + v.slice(V2_PREFIX.length) : v;
    else if ((k === 'properties' || k === 'patternProperties' || k === 'definitions') && isObject(v)) out[k] = Object.fromEntries(Object.entries(v).map(([n, x]) => [n, convertSchema(x)]));
    else if ((k === 'items' || k === 'additionalProperties' || k === 'additionalItems' || k === 'not') && isObject(v)) out[k] = convertSchema(v);
    else if ((k === 'items' || k === 'allOf' || k === 'anyOf' || k === 'oneOf') && Array.isArray(v)) out[k] = v.map((x) => (isObject(x) ? convertSchema(x) : x));
    else out[k] = v;
  }
  if (typeof out.$ref === 'string' && Object.keys(out).length > 1) {
    // A $ref's siblings are ignored in OpenAPI 3.0: wrap it so they count.
    const ref = out.$ref;
    delete out.$ref;
    out.allOf = [{ $ref: ref }];
  }
  return out;
}

/** ConvertParameter: simple parameters carry type, format and uniqueItems in a schema. */
function convertParameter(p: Json): Json {
  const out: Json = {};
  for (const k of ['description', 'in', 'name', 'required', 'allowEmptyValue']) if (p[k] !== undefined && p[k] !== '' && p[k] !== false) out[k] = p[k];
  out.schema = p.schema ? convertSchema(p.schema) : { type: p.type, ...(p.format ? { format: p.format } : {}), ...(p.uniqueItems ? { uniqueItems: true } : {}) };
  for (const [k, v] of Object.entries(p)) if (k.startsWith('x-')) out[k] = v;
  return out;
}

const extensionsOf = (o: Json) => Object.fromEntries(Object.entries(o).filter(([k]) => k.startsWith('x-')));

function convertOperation(spec: Swagger, op: Json): Json {
  const out: Json = {};
  for (const k of ['description', 'externalDocs', 'tags', 'summary', 'deprecated', 'operationId']) if (op[k] !== undefined) out[k] = op[k];
  const params: Json[] = [];
  for (const raw of op.parameters ?? []) {
    const p = resolveParameter(spec, raw);
    if (p.name === 'body' && p.schema) {
      const schema = convertSchema(p.schema);
      out.requestBody = op.consumes ? { content: Object.fromEntries(op.consumes.map((c: string) => [c, { schema }])) } : {};
    } else {
      params.push(convertParameter(p));
    }
  }
  if (params.length) out.parameters = params;
  const responses: Json = {};
  for (const [code, r] of Object.entries((op.responses ?? {}) as Json)) {
    if (code.startsWith('x-')) continue;
    const resp: Json = { description: r.description, ...extensionsOf(r) };
    if (r.schema && op.produces) {
      const schema = convertSchema(r.schema);
      resp.content = Object.fromEntries(op.produces.map((c: string) => [c, { schema }]));
    }
    responses[code] = resp;
  }
  out.responses = responses;
  return { ...out, ...extensionsOf(op) };
}

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch'];

function convertPathItem(spec: Swagger, item: Json): Json {
  const out: Json = {};
  for (const m of METHODS) if (item[m]) out[m] = convertOperation(spec, item[m]);
  const params = (item.parameters ?? []).map((p: Json) => convertParameter(resolveParameter(spec, p)));
  if (params.length) out.parameters = params;
  return { ...out, ...extensionsOf(item) };
}

/**
 * The two types whose Go code declares OpenAPIV3OneOfTypes
 * (apimachinery's resource.Quantity and intstr.IntOrString): kube-openapi's
 * generator gives their v3 definition `oneOf` those types where v2 has one
 * `type` (kubectl explain then names them, `<map[string]Quantity>`).
 */
const V3_ONE_OF: Record<string, string[]> = {
  'io.k8s.apimachinery.pkg.api.resource.Quantity': ['string', 'number'],
  'io.k8s.apimachinery.pkg.util.intstr.IntOrString': ['integer', 'string'],
};

function builtinV3(name: string, def: Json): Json {
  const out = convertSchema(def);
  const oneOf = V3_ONE_OF[name];
  if (!oneOf) return out;
  const { type: _type, ...rest } = out;
  return { ...rest, oneOf: oneOf.map((type) => ({ type })) };
}

/** Built-in definitions never change: each is converted once per process. */
const converted = new Map<string, Json>();

function refsIn(v: unknown, into: string[]): void {
  if (Array.isArray(v)) for (const x of v) refsIn(x, into);
  else if (isObject(v)) {
    for (const [k, x] of Object.entries(v)) {
      if (k === '$ref' && typeof x === 'string' && x.startsWith(V3_PREFIX)) into.push(x.slice(V3_PREFIX.length));
      else refsIn(x, into);
    }
  }
}

/** Every v3 document of the served v2 document, by key (`api/v1`, `apis/apps/v1`, `apis`, `version` …). */
export function buildV3(v2: Swagger, types: Pick<TypeRegistry, 'all'>, version: string): Map<string, Json> {
  const spec = officialSpec();
  const own = new Map<string, Json>();
  for (const t of customTypes(types)) for (const [name, s] of Object.entries(crdDefinitions(spec, t, false))) own.set(name, s);
  const custom = new Set(customTypes(types).map((t) => `${t.group}/${t.version}/${t.plural}`));
  /** Documents with a built-in path: a document of custom resources only is apiextensions-apiserver's. */
  const builtinDocs = new Set<string>();
  const byDoc = new Map<string, Json>();
  for (const [path, item] of Object.entries(v2.paths)) {
    const place = placeOf(path);
    if (!place) continue;
    if (!byDoc.has(place.doc)) byDoc.set(place.doc, {});
    byDoc.get(place.doc)![path] = convertPathItem(v2, item);
    if (!place.resource || !custom.has(`${place.group}/${place.version}/${place.resource.plural}`)) builtinDocs.add(place.doc);
  }
  const schemaOf = (name: string): Json | undefined => {
    const mine = own.get(name);
    if (mine) return convertSchema(mine);
    const def = v2.definitions[name];
    if (!def) return undefined;
    if (def !== spec.definitions[name]) return convertSchema(def);
    let hit = converted.get(name);
    if (!hit) converted.set(name, (hit = builtinV3(name, def)));
    return hit;
  };
  const docs = new Map<string, Json>();
  for (const [key, paths] of [...byDoc].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const schemas: Record<string, Json> = {};
    const queue: string[] = [];
    refsIn(paths, queue);
    while (queue.length) {
      const name = queue.pop()!;
      if (schemas[name]) continue;
      const s = schemaOf(name);
      if (!s) continue;
      schemas[name] = s;
      refsIn(s, queue);
    }
    const crdOnly = !builtinDocs.has(key);
    const components: Json = { schemas: sortObject(schemas) };
    if (!crdOnly && v2.securityDefinitions) {
      components.securitySchemes = Object.fromEntries(Object.entries(v2.securityDefinitions).map(([k, s]) => [k, sortKeys(s)]));
    }
    docs.set(key, {
      components,
      // apiextensions-apiserver's builder names its documents so; kube-apiserver's carry its version.
      info: crdOnly ? { title: 'Kubernetes CRD Swagger', version: 'v0.1.0' } : { title: 'Kubernetes', version },
      openapi: '3.0.0',
      paths: sortKeys(paths),
    });
  }
  return docs;
}

const sortObject = <T>(o: Record<string, T>): Record<string, T> => Object.fromEntries(Object.keys(o).sort().map((k) => [k, o[k]]));
