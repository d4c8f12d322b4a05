// Which fields each API type has, and of what type, for the strict decoding
// the API server does (unknown and duplicate fields, wrong JSON types). The
// field tables come from @kubernetes/client-node's models, which the
// Kubernetes client project generates from the official OpenAPI
// specification; no maintained package ships the specification itself. The
// models are of a newer Kubernetes than 1.32, so a field added since is
// accepted here where a 1.32 server would call it unknown.
import type { ResourceType } from '../resources.ts';

interface Attribute { name: string; baseName: string; type: string; format: string }
type Model = { getAttributeTypeMap(): Attribute[] };

/** A field's type as the decoder sees it. */
export type FieldType =
  | { kind: 'string' | 'bool' | 'any' | 'time' | 'intOrString' | 'quantity' }
  | { kind: 'int'; bits: 32 | 64 }
  | { kind: 'float' }
  | { kind: 'array'; of: FieldType }
  | { kind: 'map'; of: FieldType }
  | { kind: 'struct'; name: string };

export interface StructField { name: string; type: FieldType }

let models: Record<string, Model> | undefined;
const structs = new Map<string, Map<string, StructField> | undefined>();

/** Loads the model tables once (about 300 ms); the API server awaits it at start. */
export async function loadSchemas(): Promise<void> {
  if (models) return;
  models = (await import('@kubernetes/client-node/dist/gen/models/all.js')) as unknown as Record<string, Model>;
}

export function schemasLoaded(): boolean {
  return models !== undefined;
}

// resource.Quantity fields, which the generated client types as strings: a
// number is a valid quantity on the server, so these accept both.
const QUANTITY_MAPS = new Set(['limits', 'requests', 'hard', 'used', 'capacity', 'allocatable', 'max', 'min', 'default', 'defaultRequest', 'maxLimitRequestRatio', 'allocatedResources']);
const QUANTITY_FIELDS = new Set(['V1EmptyDirVolumeSource.sizeLimit', 'V2MetricTarget.averageValue', 'V2MetricTarget.value', 'V2MetricValueStatus.averageValue', 'V2MetricValueStatus.value']);

function parseType(type: string, format: string, owner: string, field: string): FieldType {
  let m = /^Array<(.+)>$/.exec(type);
  if (m) return { kind: 'array', of: parseType(m[1], '', owner, field) };
  m = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (m) {
    if (m[1] === 'string' && QUANTITY_MAPS.has(field)) return { kind: 'map', of: { kind: 'quantity' } };
    return { kind: 'map', of: parseType(m[1], '', owner, field) };
  }
  switch (type) {
    case 'string':
      return QUANTITY_FIELDS.has(`${owner}.${field}`) ? { kind: 'quantity' } : { kind: 'string' };
    case 'boolean':
      return { kind: 'bool' };
    case 'number':
      if (format === 'double' || format === 'float') return { kind: 'float' };
      return { kind: 'int', bits: format === 'int64' ? 64 : 32 };
    case 'Date':
      return { kind: 'time' };
    case 'IntOrString':
      return { kind: 'intOrString' };
    case 'any':
      return { kind: 'any' };
    default:
      // A type the models do not describe (MicroTime, RawExtension …) is not checked.
      return models?.[type]?.getAttributeTypeMap ? { kind: 'struct', name: type } : { kind: 'any' };
  }
}

/** The fields of one model class, by JSON name; undefined when the class is unknown. */
export function structFields(name: string): Map<string, StructField> | undefined {
  if (structs.has(name)) return structs.get(name);
  const model = models?.[name];
  let fields: Map<string, StructField> | undefined;
  if (model?.getAttributeTypeMap) {
    fields = new Map();
    for (const a of model.getAttributeTypeMap()) fields.set(a.baseName, { name: a.baseName, type: parseType(a.type, a.format, name, a.baseName) });
  }
  structs.set(name, fields);
  return fields;
}

const cap = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/** The model class of a resource type's objects (V1Deployment, CoreV1Event, V2HorizontalPodAutoscaler …). */
export function modelFor(t: Pick<ResourceType, 'group' | 'version' | 'kind'>): string | undefined {
  const version = cap(t.version);
  const groupPrefix = cap((t.group || 'core').split('.')[0]);
  // client-node prefixes a class with its group where two groups share a kind (CoreV1Event, EventsV1Event).
  for (const name of [`${groupPrefix}${version}${t.kind}`, `${version}${t.kind}`]) {
    const fields = structFields(name);
    if (fields?.has('apiVersion') && fields.has('metadata')) return name;
  }
  return undefined;
}

/** Go's name for a model class: V1PodSpec → v1.PodSpec (client-node prefixes some with their group). */
export function goStructName(model: string): { pkg: string; name: string } {
  const m = /^(?:[A-Z][a-z]+)?(V\d+(?:(?:alpha|beta)\d+)?)([A-Z].*)$/.exec(model);
  return m ? { pkg: m[1].toLowerCase(), name: m[2] } : { pkg: 'v1', name: model };
}

/** The Go type in json's "cannot unmarshal … of type T" messages. */
export function goTypeName(t: FieldType): string {
  switch (t.kind) {
    case 'string': return 'string';
    case 'bool': return 'bool';
    case 'int': return `int${t.bits}`;
    case 'float': return 'float64';
    case 'time': return 'v1.Time';
    case 'intOrString': return 'intstr.IntOrString';
    case 'quantity': return 'resource.Quantity';
    case 'any': return 'interface {}';
    case 'array': return `[]${goTypeName(t.of)}`;
    case 'map': return `map[string]${goTypeName(t.of)}`;
    case 'struct': {
      const g = goStructName(t.name);
      return `${g.pkg}.${g.name}`;
    }
  }
}
