// What the apiextensions API server does with a custom resource against its
// CRD's structural OpenAPI v3 schema: prune unknown fields, default from the
// schema, and validate (kube-openapi's validator, with its messages turned
// into field errors the way apiextensions-apiserver does). The subset covers
// type, nullable, required, enum, pattern, minimum/maximum (exclusive too),
// multipleOf, min/maxLength, min/maxItems, min/maxProperties, items,
// properties, additionalProperties, allOf, x-kubernetes-int-or-string,
// x-kubernetes-preserve-unknown-fields and x-kubernetes-embedded-resource.
// Not modelled: anyOf/oneOf/not, formats, CEL rules (x-kubernetes-validations),
// list/map types and listMapKeys.

export type Schema = Record<string, any>;

/** A field.Error: its type is the StatusCause reason; body is ErrorBody(), what causes[].message carries. */
export interface FieldError {
  type: 'FieldValueRequired' | 'FieldValueInvalid' | 'FieldValueNotSupported' | 'FieldValueTooLong' | 'FieldValueTooMany' | 'FieldValueTypeInvalid' | 'FieldValueForbidden';
  field: string;
  body: string;
}

const child = (path: string, name: string) => (path ? `${path}.${name}` : name);
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const preserves = (s: Schema) => s['x-kubernetes-preserve-unknown-fields'] === true;
const intOrString = (s: Schema) => s['x-kubernetes-int-or-string'] === true;

/** The JSON type kube-openapi infers from a decoded value (integers are int64, other numbers float64). */
function jsonType(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  if (typeof v === 'boolean') return 'boolean';
  if (typeof v === 'string') return 'string';
  return 'object';
}

/** Go's %v of a value in a field error body (%q for strings). */
export function goValue(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (v === null || v === undefined) return '"null"';
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v);
}

const deepEqual = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

function typeAccepts(s: Schema, t: string): boolean {
  if (intOrString(s)) return t === 'integer' || t === 'string';
  if (!s.type) return true;
  return s.type === t || (s.type === 'number' && t === 'integer');
}

/**
 * Validates `value` (found at `path`, "" for the root) against `s`. With `old`
 * (an update), subtrees equal to the old object's are not re-checked: the
 * CRDValidationRatcheting feature, on by default since 1.30.
 */
export function validateValue(s: Schema | undefined, value: unknown, path = '', old?: { value: unknown }): FieldError[] {
  if (!s) return [];
  if (old && deepEqual(old.value, value)) return [];
  const errs: FieldError[] = [];
  const name = path || '.';
  const add = (type: FieldError['type'], body: string, at = path) => errs.push({ type, field: at, body });
  const t = jsonType(value);
  if (t === 'null') {
    if ((s.type || intOrString(s)) && !s.nullable) {
      const want = intOrString(s) ? 'integer,string' : s.type;
      add('FieldValueTypeInvalid', `Invalid value: "null": ${name} in body must be of type ${want}: "null"`);
    }
    return errs;
  }
  if (!typeAccepts(s, t)) {
    const want = intOrString(s) ? 'integer,string' : s.type;
    add('FieldValueTypeInvalid', `Invalid value: "${t}": ${name} in body must be of type ${want}: "${t}"`);
  }
  for (const sub of s.allOf ?? []) errs.push(...validateValue(sub, value, path));
  if (t === 'string') checkString(s, value as string, name, add);
  if (t === 'integer' || t === 'number') checkNumber(s, value as number, name, add);
  if (t === 'array') checkArray(s, value as unknown[], path, name, add, errs, old);
  if (Array.isArray(s.enum) && s.enum.length && !s.enum.some((e: unknown) => deepEqual(e, value))) {
    const values = s.enum.map((e: unknown) => (typeof e === 'string' ? JSON.stringify(e) : JSON.stringify(JSON.stringify(e))));
    add('FieldValueNotSupported', `Unsupported value: ${goValue(value)}: supported values: ${values.join(', ')}`);
  }
  if (t === 'object') checkObject(s, value as Record<string, unknown>, path, name, add, errs, old);
  return errs;
}

type Add = (type: FieldError['type'], body: string, at?: string) => void;

function checkString(s: Schema, v: string, name: string, add: Add): void {
  const len = [...v].length;
  if (typeof s.maxLength === 'number' && len > s.maxLength) add('FieldValueTooLong', `Too long: may not be longer than ${s.maxLength}`);
  if (typeof s.minLength === 'number' && len < s.minLength) add('FieldValueInvalid', `Invalid value: ${goValue(v)}: ${name} in body should be at least ${s.minLength} chars long`);
  if (typeof s.pattern === 'string') {
    let re: RegExp | undefined;
    try {
      re = new RegExp(s.pattern, 'u');
    } catch {
      re = undefined;
    }
    if (re && !re.test(v)) add('FieldValueInvalid', `Invalid value: ${goValue(v)}: ${name} in body should match '${s.pattern}'`);
  }
}

function checkNumber(s: Schema, v: number, name: string, add: Add): void {
  const bad = (detail: string) => add('FieldValueInvalid', `Invalid value: ${goValue(v)}: ${name} in body ${detail}`);
  if (typeof s.multipleOf === 'number' && s.multipleOf > 0 && !Number.isInteger(v / s.multipleOf)) bad(`should be a multiple of ${s.multipleOf}`);
  if (typeof s.maximum === 'number') {
    if (s.exclusiveMaximum ? v >= s.maximum : v > s.maximum) bad(`should be less than ${s.exclusiveMaximum ? '' : 'or equal to '}${s.maximum}`);
  }
  if (typeof s.minimum === 'number') {
    if (s.exclusiveMinimum ? v <= s.minimum : v < s.minimum) bad(`should be greater than ${s.exclusiveMinimum ? '' : 'or equal to '}${s.minimum}`);
  }
}

function checkArray(s: Schema, v: unknown[], path: string, name: string, add: Add, errs: FieldError[], old?: { value: unknown }): void {
  if (isObject(s.items)) {
    const before = old && Array.isArray(old.value) ? old.value : undefined;
    v.forEach((item, i) => errs.push(...validateValue(s.items, item, `${path}[${i}]`, before && i < before.length ? { value: before[i] } : undefined)));
  }
  if (typeof s.minItems === 'number' && v.length < s.minItems) add('FieldValueInvalid', `Invalid value: ${v.length}: ${name} in body should have at least ${s.minItems} items`);
  if (typeof s.maxItems === 'number' && v.length > s.maxItems) add('FieldValueTooMany', `Too many: ${v.length}: must have at most ${s.maxItems} items`);
}

/** objectValidator: properties first, then required; errors in the order kube-openapi finds them. */
function checkObject(s: Schema, v: Record<string, unknown>, path: string, name: string, add: Add, errs: FieldError[], old?: { value: unknown }): void {
  const keys = Object.keys(v).filter((k) => v[k] !== undefined);
  if (typeof s.minProperties === 'number' && keys.length < s.minProperties) {
    add('FieldValueInvalid', `Invalid value: ${keys.length}: ${name} in body should have at least ${s.minProperties} properties`);
    return;
  }
  if (typeof s.maxProperties === 'number' && keys.length > s.maxProperties) {
    add('FieldValueTooMany', `Too many: ${keys.length}: must have at most ${s.maxProperties} items`);
    return;
  }
  const before = old && isObject(old.value) ? old.value : undefined;
  const props: Record<string, Schema> = isObject(s.properties) ? (s.properties as Record<string, Schema>) : {};
  for (const [k, ps] of Object.entries(props)) {
    if (v[k] !== undefined) errs.push(...validateValue(ps, v[k], child(path, k), before && k in before ? { value: before[k] } : undefined));
  }
  if (isObject(s.additionalProperties)) {
    for (const k of keys) {
      if (!(k in props) && v[k] !== undefined) errs.push(...validateValue(s.additionalProperties, v[k], child(path, k), before && k in before ? { value: before[k] } : undefined));
    }
  }
  for (const k of Array.isArray(s.required) ? s.required : []) {
    if (v[k] === undefined) add('FieldValueRequired', 'Required value', child(path, k));
  }
}

/**
 * Drops fields the schema does not specify, in place, and returns their paths
 * ("spec.foo", "spec.items[0].bar"). apiVersion, kind and metadata stay at the
 * root and in embedded resources; preserve-unknown-fields keeps a subtree.
 */
export function prune(s: Schema | undefined, value: unknown, path = '', root = true): string[] {
  const out: string[] = [];
  if (!s || value === null || typeof value !== 'object') return out;
  if (Array.isArray(value)) {
    if (isObject(s.items)) value.forEach((item, i) => out.push(...prune(s.items, item, `${path}[${i}]`, false)));
    return out;
  }
  const obj = value as Record<string, unknown>;
  const props: Record<string, Schema> = isObject(s.properties) ? (s.properties as Record<string, Schema>) : {};
  const embedded = root || s['x-kubernetes-embedded-resource'] === true;
  for (const k of Object.keys(obj)) {
    // ObjectMeta is pruned by its own type, never by the CRD's schema.
    if (embedded && (k === 'apiVersion' || k === 'kind' || k === 'metadata')) continue;
    const sub = props[k] ?? (isObject(s.additionalProperties) ? s.additionalProperties : undefined);
    if (sub) {
      out.push(...prune(sub, obj[k], child(path, k), false));
    } else if (!(preserves(s) || s.additionalProperties === true)) {
      delete obj[k];
      out.push(child(path, k));
    }
  }
  return out;
}

const isNonNullableNull = (v: unknown, s: Schema | undefined) => v === null && !!s && !s.nullable;

/**
 * Fills defaults from the schema, in place (structuraldefaulting.Default),
 * after dropping nulls the schema does not allow and has no default for.
 */
export function applySchemaDefaults(s: Schema | undefined, value: unknown, root = true): void {
  if (!s || value === null || typeof value !== 'object') return;
  if (Array.isArray(value)) {
    if (!isObject(s.items)) return;
    value.forEach((v, i) => {
      if (isNonNullableNull(v, s.items) && s.items.default !== undefined) value[i] = structuredClone(s.items.default);
      applySchemaDefaults(s.items, value[i], false);
    });
    return;
  }
  const obj = value as Record<string, unknown>;
  const props: Record<string, Schema> = isObject(s.properties) ? (s.properties as Record<string, Schema>) : {};
  for (const [k, ps] of Object.entries(props)) {
    if (ps.default === undefined) continue;
    if (!(k in obj) || isNonNullableNull(obj[k], ps)) obj[k] = structuredClone(ps.default);
  }
  const embedded = root || s['x-kubernetes-embedded-resource'] === true;
  for (const k of Object.keys(obj)) {
    if (embedded && (k === 'apiVersion' || k === 'kind' || k === 'metadata')) continue;
    const sub = props[k] ?? (isObject(s.additionalProperties) ? s.additionalProperties : undefined);
    if (!sub) continue;
    if (isNonNullableNull(obj[k], sub)) {
      if (sub.default !== undefined) obj[k] = structuredClone(sub.default);
      else delete obj[k];
    }
    applySchemaDefaults(sub, obj[k], false);
  }
}
