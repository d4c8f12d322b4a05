// Whether a CRD's openAPIV3Schema is structural (apiserver/schema/validation.go
// and the CRD OpenAPI checks): every specified field has a type, arrays have
// items, the root is an object, metadata restricts at most name and
// generateName, and what a structural schema forbids. Errors are sorted by
// their text, as ValidateStructural sorts them.
import type { StatusCause } from '../status.ts';

type Schema = Record<string, any>;
type Level = 'root' | 'item' | 'field';

const TYPES = ['array', 'boolean', 'integer', 'number', 'object', 'string'];
const isObject = (v: unknown): v is Schema => typeof v === 'object' && v !== null && !Array.isArray(v);
const key = (path: string, k: string) => `${path}.properties[${k}]`;

export function structuralErrors(schema: unknown, path: string): StatusCause[] {
  const causes: StatusCause[] = [];
  const add = (reason: string, field: string, message: string) => causes.push({ reason, field, message });
  if (!isObject(schema)) return causes;
  walk(schema, 'root', path, add);
  return causes.sort((a, b) => {
    const x = `${a.field}: ${a.message}`;
    const y = `${b.field}: ${b.message}`;
    return x < y ? -1 : x > y ? 1 : 0;
  });
}

type Add = (reason: string, field: string, message: string) => void;

function walk(s: Schema, level: Level, path: string, add: Add): void {
  const preserve = s['x-kubernetes-preserve-unknown-fields'] === true;
  const intOrString = s['x-kubernetes-int-or-string'] === true;
  if (s.type !== undefined && !TYPES.includes(s.type)) {
    add('FieldValueNotSupported', `${path}.type`, `Unsupported value: ${JSON.stringify(s.type)}: supported values: ${TYPES.map((t) => JSON.stringify(t)).join(', ')}`);
  }
  if (s.type === 'array' && !isObject(s.items)) add('FieldValueRequired', `${path}.items`, 'Required value: must be specified');
  if (isObject(s.items)) walk(s.items, 'item', `${path}.items`, add);
  const props = isObject(s.properties) ? s.properties : {};
  for (const [k, v] of Object.entries(props)) if (isObject(v)) walk(v, 'field', key(path, k), add);
  if (s.additionalProperties !== undefined && s.additionalProperties !== null) {
    if (level === 'root') add('FieldValueForbidden', `${path}.additionalProperties`, 'Forbidden: must not be used at the root');
    if (Object.keys(props).length && (s.additionalProperties === false || isObject(s.additionalProperties))) {
      add('FieldValueForbidden', `${path}.additionalProperties`, 'Forbidden: additionalProperties and properties are mutual exclusive');
    }
    if (isObject(s.additionalProperties)) walk(s.additionalProperties, 'field', `${path}.additionalProperties`, add);
  }
  if (!s.type && !intOrString && !preserve) {
    const where = level === 'root' ? 'at the root' : level === 'item' ? 'for specified array items' : 'for specified object fields';
    add('FieldValueRequired', `${path}.type`, `Required value: must not be empty ${where}`);
  }
  if (level === 'root' && s.type && s.type !== 'object') add('FieldValueInvalid', `${path}.type`, `Invalid value: ${JSON.stringify(s.type)}: must be object at the root`);
  if (s.uniqueItems === true) add('FieldValueForbidden', `${path}.uniqueItems`, 'Forbidden: uniqueItems cannot be set to true since the runtime complexity becomes quadratic');
  if (typeof s.pattern === 'string') {
    try {
      new RegExp(s.pattern, 'u');
    } catch (err) {
      add('FieldValueInvalid', `${path}.pattern`, `Invalid value: ${JSON.stringify(s.pattern)}: must be a valid regular expression, but isn't: ${(err as Error).message}`);
    }
  }
  const meta = props.metadata;
  if (isObject(meta)) {
    if (level === 'root') {
      if (meta.type !== 'object') add('FieldValueInvalid', `${key(path, 'metadata')}.type`, `Invalid value: ${JSON.stringify(meta.type ?? '')}: must be object`);
      const { type: _t, properties, ...rest } = meta;
      const extra = Object.keys(isObject(properties) ? properties : {}).filter((k) => k !== 'name' && k !== 'generateName');
      if (extra.length || Object.keys(rest).some((k) => k !== 'description')) {
        add('FieldValueForbidden', key(path, 'metadata'), 'Forbidden: must not specify anything other than name and generateName, but metadata is implicitly specified');
      }
    }
  }
  // x-kubernetes-int-or-string may spell its two types out in anyOf (the IntOrString exception).
  for (const sub of intOrString ? ['oneOf'] as const : ['anyOf', 'oneOf', 'allOf'] as const) {
    (Array.isArray(s[sub]) ? s[sub] : []).forEach((n: unknown, i: number) => {
      if (isObject(n) && n.type !== undefined) add('FieldValueForbidden', `${path}.${sub}[${i}].type`, 'Forbidden: must be empty to be structural');
    });
  }
}
