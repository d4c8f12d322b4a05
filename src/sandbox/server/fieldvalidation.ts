// fieldValidation=Strict|Warn|Ignore on create, update and patch, with the
// answers kube-apiserver 1.32 gives: Strict fails with the strict decoding
// errors (400 for a body, 422 for a patched object), Warn (the default)
// sends each as a `Warning: 299 - "…"` header, Ignore drops them silently.
// Unknown fields are dropped in every mode; a wrong JSON type always fails.
import { LineCounter, isScalar, parseDocument, visit } from 'yaml';
import type { ResourceType } from '../resources.ts';
import { ApiError } from '../status.ts';
import type { K8sObject } from '../types.ts';
import { mediaType } from './body.ts';
import type { Call } from './context.ts';
import { Entries, parseEntries, toEntries, type Node } from './json-entries.ts';
import { modelFor, schemasLoaded } from './schema.ts';
import { TypeMismatch, decodeTyped, jsonPatchFieldErrors, untypedDuplicates } from './strict.ts';

export type Directive = 'Strict' | 'Warn' | 'Ignore';

export function fieldValidation(call: Call): Directive {
  const v = call.query.get('fieldValidation');
  if (!v) return 'Warn';
  if (v === 'Strict' || v === 'Warn' || v === 'Ignore') return v;
  throw ApiError.badRequest(`fieldValidation: Unsupported value: "${v}": supported values: "Ignore", "Strict", "Warn"`);
}

export function warn(call: Call, texts: string[]): void {
  if (!texts.length) return;
  call.warnings ??= [];
  for (const t of texts) if (!call.warnings.includes(t)) call.warnings.push(t);
}

const isYaml = (call: Call) => {
  const ct = mediaType(call.contentType);
  return ct === 'application/yaml' || ct === 'application/apply-patch+yaml';
};

/** `line 5: key "name" already set in map` for each repeated key of a YAML document. */
export function yamlDuplicates(text: string): string[] {
  const lines = new LineCounter();
  const doc = parseDocument(text, { uniqueKeys: false, lineCounter: lines });
  const out: { at: number; text: string }[] = [];
  visit(doc, {
    Map(_key, map) {
      const seen = new Set<string>();
      for (const pair of map.items) {
        const k = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
        const at = isScalar(pair.key) ? pair.key.range?.[0] : undefined;
        if (seen.has(k) && at !== undefined) out.push({ at, text: `line ${lines.linePos(at).line}: key "${k}" already set in map` });
        seen.add(k);
      }
    },
  });
  // yaml.v2 reports them as it decodes: in document order.
  return out.sort((a, b) => a.at - b.at).map((d) => d.text);
}

/** The body as entries: JSON in document order; YAML (converted to JSON by the server) with sorted keys. */
function bodyNode(call: Call, parsed: unknown): Node {
  if (!isYaml(call) && call.body !== undefined && mediaType(call.contentType) !== 'application/vnd.kubernetes.protobuf') {
    try {
      return parseEntries(call.body);
    } catch {
      // Not plain JSON after all (JSON.parse accepted it): check the parsed value.
    }
  }
  return toEntries(parsed, isYaml(call));
}

function cannotHandle(type: ResourceType, why: string): ApiError {
  return ApiError.badRequest(`${type.kind} in version "${type.version}" cannot be handled as a ${type.kind}: ${why}`);
}

/**
 * Decodes a create or update body (already parsed by decodeObject) as the
 * server's typed decoder does and returns the object without unknown fields.
 */
export function decodeWriteBody(call: Call, type: ResourceType, parsed: K8sObject): K8sObject {
  const directive = fieldValidation(call);
  const model = schemasLoaded() ? modelFor(type) : undefined;
  if (!model) return parsed;
  let decoded;
  try {
    decoded = decodeTyped(bodyNode(call, parsed), model);
  } catch (err) {
    if (err instanceof TypeMismatch) throw cannotHandle(type, err.message);
    throw err;
  }
  if (directive !== 'Ignore') {
    const yamlDups = isYaml(call) && call.body ? yamlDuplicates(call.body) : [];
    const strict = decoded.strict;
    if (directive === 'Strict' && (yamlDups.length || strict.length)) {
      const parts = [...(yamlDups.length ? [`yaml: unmarshal errors:\n  ${yamlDups.join('\n  ')}`] : []), ...strict];
      throw cannotHandle(type, `strict decoding error: ${parts.join(', ')}`);
    }
    warn(call, [...yamlDups, ...strict]);
  }
  return decoded.value as K8sObject;
}

/** Go's %+v of a decoded JSON map, as the strategic patch error quotes the patch. */
export function goPrint(v: unknown): string {
  if (v === null || v === undefined) return '<nil>';
  if (Array.isArray(v)) return `[${v.map(goPrint).join(' ')}]`;
  if (typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `map[${Object.keys(o).sort().map((k) => `${k}:${goPrint(o[k])}`).join(' ')}]`;
  }
  return String(v);
}

/** Go's json.Marshal of a map: keys sorted at every level. */
export function sortedJson(v: unknown): string {
  const sort = (x: unknown): unknown => {
    if (Array.isArray(x)) return x.map(sort);
    if (x && typeof x === 'object') return Object.fromEntries(Object.keys(x).sort().map((k) => [k, sort((x as Record<string, unknown>)[k])]));
    return x;
  };
  return JSON.stringify(sort(v));
}

function patchInvalid(value: string, detail: string): ApiError {
  const body = `Invalid value: ${JSON.stringify(value)}: ${detail}`;
  return new ApiError(422, 'Invalid', ` "" is invalid: patch: ${body}`, { causes: [{ reason: 'FieldValueInvalid', message: body, field: 'patch' }] });
}

/** Strict errors of the patch document itself, before it is applied. */
export function patchBodyErrors(call: Call, ct: string): string[] {
  if (fieldValidation(call) === 'Ignore' || !call.body) return [];
  if (ct === 'application/apply-patch+yaml') return [];
  let node: Node;
  try {
    node = parseEntries(call.body);
  } catch {
    return [];
  }
  return ct === 'application/json-patch+json' ? jsonPatchFieldErrors(node) : untypedDuplicates(node);
}

/**
 * Checks an object a JSON, merge or strategic patch produced, as the server
 * decodes it into the type: returns it without unknown fields, or fails
 * (422 naming the patch) for a wrong type or, under Strict, strict errors.
 */
export function decodePatched(call: Call, type: ResourceType, ct: string, patched: K8sObject, patchErrors: string[], patch: unknown): K8sObject {
  const directive = fieldValidation(call);
  const model = schemasLoaded() ? modelFor(type) : undefined;
  if (!model) return patched;
  const shown = () => (ct === 'application/strategic-merge-patch+json' ? goPrint(patch) : sortedJson(patched));
  let decoded;
  try {
    decoded = decodeTyped(toEntries(patched, true), model);
  } catch (err) {
    if (err instanceof TypeMismatch) throw patchInvalid(shown(), err.message);
    throw err;
  }
  if (directive !== 'Ignore') {
    const all = [...patchErrors, ...decoded.strict];
    if (directive === 'Strict' && all.length) throw patchInvalid(shown(), `strict decoding error: ${all.join(', ')}`);
    warn(call, all);
  }
  return decoded.value as K8sObject;
}

/** `(ns/name; apps/v1, Kind=Deployment)` as structured-merge-diff names an object. */
function gvknn(type: ResourceType, ns: string | undefined, name: string): string {
  const gv = type.group ? `${type.group}/${type.version}` : `/${type.version}`;
  return `${ns ?? ''}/${name}; ${gv}, Kind=${type.kind}`;
}

function smdValue(n: Node): string {
  if (typeof n === 'string') return JSON.stringify(n);
  return String(n instanceof Entries ? 'map' : Array.isArray(n) ? 'list' : n);
}

/**
 * Server-side apply builds a typed object from the applied configuration:
 * an unknown field or a wrong type fails with structured-merge-diff's error,
 * which 1.32 answers as a 500 without a reason. Duplicate keys are YAML
 * strict errors (400 under Strict, warnings under Warn).
 */
export function checkApplyBody(call: Call, type: ResourceType, applied: K8sObject, ns: string | undefined, name: string): K8sObject {
  const directive = fieldValidation(call);
  const model = schemasLoaded() ? modelFor(type) : undefined;
  if (!model) return applied;
  let decoded;
  try {
    decoded = decodeTyped(toEntries(applied), model);
  } catch (err) {
    if (!(err instanceof TypeMismatch)) throw err;
    const want = err.want.kind === 'int' || err.want.kind === 'float' ? 'numeric (int or float)' : err.want.kind === 'bool' ? 'boolean' : err.want.kind === 'array' ? 'list' : err.want.kind === 'struct' || err.want.kind === 'map' ? 'map' : 'string';
    throw smdFailure(type, ns, name, [`.${err.path}: expected ${want}, got ${smdValue(err.got)}`]);
  }
  const unknown = decoded.strict.filter((s) => s.startsWith('unknown field')).map((s) => `.${JSON.parse(s.slice('unknown field '.length)) as string}: field not declared in schema`);
  if (unknown.length) throw smdFailure(type, ns, name, unknown);
  if (directive !== 'Ignore' && call.body) {
    const dups = yamlDuplicates(call.body);
    if (dups.length && directive === 'Strict') {
      throw ApiError.badRequest(`error strict decoding YAML: error converting YAML to JSON: yaml: unmarshal errors:\n  ${dups.join('\n  ')}`);
    }
    warn(call, dups);
  }
  return applied;
}

function smdFailure(type: ResourceType, ns: string | undefined, name: string, errors: string[]): ApiError {
  const what = errors.length === 1 ? errors[0] : `errors:\n  ${errors.join('\n  ')}`;
  return new ApiError(500, '', `failed to create typed patch object (${gvknn(type, ns, name)}): ${what}`);
}
