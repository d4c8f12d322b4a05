// A CRD version's openAPIV3Schema as apiextensions-apiserver 1.32 publishes
// it (pkg/controller/openapi/builder and v2/conversion.go): read as a
// structural schema (which keeps only what a Structural holds), unfolded
// (x-kubernetes-int-or-string gains its anyOf), and for OpenAPI v2 stripped of
// what v2 and kubectl's v2 parser cannot take (junctors, nullable, the
// properties of fields that preserve unknown fields) and of defaults.
import type { Json } from './openapi-spec.ts';

const VALUE_KEYS = ['format', 'maximum', 'exclusiveMaximum', 'minimum', 'exclusiveMinimum', 'maxLength', 'minLength', 'pattern',
  'maxItems', 'minItems', 'uniqueItems', 'multipleOf', 'enum', 'maxProperties', 'minProperties', 'required'] as const;
const JUNCTORS = ['allOf', 'anyOf', 'oneOf'] as const;
/** Go's omitempty: false, "" and empty lists are not written. */
const empty = (v: unknown) => v === undefined || v === null || v === false || v === '' || (Array.isArray(v) && v.length === 0);

const mapValues = (o: Json, f: (v: Json) => Json): Json => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, f(v)]));
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Structural.ToKubeOpenAPI: the schema as kube-openapi's spec.Schema holds it after a structural round trip. */
export function toKubeOpenAPI(s: Json): Json {
  const out: Json = {};
  if (isObject(s.items)) out.items = toKubeOpenAPI(s.items);
  if (isObject(s.properties)) out.properties = mapValues(s.properties, toKubeOpenAPI);
  if (typeof s.additionalProperties === 'boolean') out.additionalProperties = s.additionalProperties;
  else if (isObject(s.additionalProperties)) out.additionalProperties = toKubeOpenAPI(s.additionalProperties);
  for (const k of ['type', 'nullable', 'description', 'title'] as const) if (!empty(s[k])) out[k] = s[k];
  if (s.default !== undefined) out.default = s.default;
  for (const k of ['x-kubernetes-preserve-unknown-fields', 'x-kubernetes-embedded-resource', 'x-kubernetes-int-or-string'] as const) if (s[k] === true) out[k] = true;
  for (const k of ['x-kubernetes-list-map-keys', 'x-kubernetes-list-type', 'x-kubernetes-map-type', 'x-kubernetes-validations'] as const) if (!empty(s[k])) out[k] = s[k];
  for (const k of VALUE_KEYS) {
    if (k === 'exclusiveMaximum' || k === 'exclusiveMinimum' || k === 'uniqueItems' || k === 'format' || k === 'pattern' || k === 'required') {
      if (!empty(s[k])) out[k] = s[k];
    } else if (s[k] !== undefined && s[k] !== null) out[k] = s[k];
  }
  for (const k of JUNCTORS) if (Array.isArray(s[k]) && s[k].length) out[k] = s[k].map(toKubeOpenAPI);
  if (isObject(s.not)) out.not = toKubeOpenAPI(s.not);
  return out;
}

const INT_OR_STRING = [{ type: 'integer' }, { type: 'string' }];
const isIntOrStringPair = (v: unknown) => JSON.stringify(v) === JSON.stringify(INT_OR_STRING);

/** Structural.Unfold: an int-or-string field gets the anyOf that says so, unless it spells it already. */
export function unfold(s: Json): Json {
  const out: Json = { ...s };
  if (isObject(s.items)) out.items = unfold(s.items);
  if (isObject(s.properties)) out.properties = mapValues(s.properties, unfold);
  if (isObject(s.additionalProperties)) out.additionalProperties = unfold(s.additionalProperties);
  if (s['x-kubernetes-int-or-string'] === true && !isIntOrStringPair(s.anyOf) && !isIntOrStringPair(s.allOf?.[0]?.anyOf)) {
    if (!s.anyOf) out.anyOf = structuredClone(INT_OR_STRING);
    else out.allOf = [{ anyOf: structuredClone(INT_OR_STRING) }, ...(s.allOf ?? [])];
  }
  return out;
}

/** v2/conversion.go ToStructuralOpenAPIV2: what OpenAPI v2 (and kubectl reading it) cannot express is dropped. */
export function toOpenAPIV2(s: Json): Json {
  const out: Json = { ...s };
  for (const k of [...JUNCTORS, 'not']) delete out[k];
  if (out.nullable) {
    // An untyped value breaks kubectl when it has items or properties.
    delete out.type;
    delete out.nullable;
    delete out.items;
    delete out.properties;
  }
  if (out['x-kubernetes-preserve-unknown-fields']) {
    delete out.items;
    delete out.properties;
  }
  if (out.items === undefined && out.type === 'array') delete out.type;
  if (out['x-kubernetes-preserve-unknown-fields'] && out.type === 'object') delete out.type;
  if (Array.isArray(out.required)) {
    const nullable = new Set(Object.entries(out.properties ?? {}).filter(([, v]) => (v as Json).nullable).map(([k]) => k));
    const kept = out.required.filter((f: string) => !nullable.has(f));
    if (kept.length) out.required = kept;
    else delete out.required;
  }
  if (isObject(out.additionalProperties) && out.additionalProperties.nullable) delete out.required;
  if (isObject(out.items)) out.items = toOpenAPIV2(out.items);
  if (isObject(out.properties)) out.properties = mapValues(out.properties, toOpenAPIV2);
  if (isObject(out.additionalProperties)) out.additionalProperties = toOpenAPIV2(out.additionalProperties);
  return out;
}

/** handler.PruneDefaults: the v2 document carries no defaults (the built-in ones have them pruned too). */
export function pruneDefaults(s: Json): Json {
  const out: Json = { ...s };
  delete out.default;
  if (isObject(out.items)) out.items = pruneDefaults(out.items);
  if (isObject(out.properties)) out.properties = mapValues(out.properties, pruneDefaults);
  if (isObject(out.additionalProperties)) out.additionalProperties = pruneDefaults(out.additionalProperties);
  for (const k of JUNCTORS) if (Array.isArray(out[k])) out[k] = out[k].map(pruneDefaults);
  if (isObject(out.not)) out.not = pruneDefaults(out.not);
  return out;
}

/** What builder.go's addEmbeddedProperties gives an embedded resource: its TypeMeta and ObjectMeta fields. */
export interface EmbeddedMeta {
  apiVersion: Json;
  kind: Json;
  metadata: Json;
}

/**
 * addEmbeddedProperties: every x-kubernetes-embedded-resource object gets
 * apiVersion, kind and metadata properties and requires kind and apiVersion;
 * in v2 not where unknown fields are preserved (kubectl would then refuse them).
 */
export function addEmbeddedProperties(s: Json, meta: EmbeddedMeta, v2: boolean): Json {
  const out: Json = { ...s };
  if (isObject(out.properties)) out.properties = mapValues(out.properties, (p) => addEmbeddedProperties(p, meta, v2));
  if (isObject(out.items)) out.items = addEmbeddedProperties(out.items, meta, v2);
  if (isObject(out.additionalProperties)) out.additionalProperties = addEmbeddedProperties(out.additionalProperties, meta, v2);
  if (out['x-kubernetes-preserve-unknown-fields'] === true && v2) return out;
  if (out['x-kubernetes-embedded-resource'] === true) {
    out.properties = { ...out.properties, apiVersion: meta.apiVersion, kind: meta.kind, metadata: meta.metadata };
    const required: string[] = [...(out.required ?? [])];
    if (!required.includes('kind')) required.push('kind');
    if (!required.includes('apiVersion')) required.push('apiVersion');
    out.required = required;
  }
  return out;
}

/** A copy with every object's keys sorted, as Go writes its maps (and as the vendored document is). */
export function sortKeys<T>(v: T): T {
  if (Array.isArray(v)) return v.map(sortKeys) as T;
  if (!isObject(v)) return v;
  return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortKeys((v as Json)[k])])) as T;
}
