// Which fields each API type has, and of what type, for the strict decoding
// the API server does (unknown and duplicate fields, wrong JSON types). The
// field tables come from Kubernetes 1.32's own OpenAPI document (vendored,
// openapi-spec.ts), so a field a 1.32 server does not know is unknown here too.
// A "model" is a definition's name (io.k8s.api.apps.v1.Deployment).
import type { ResourceType } from '../resources.ts';
import { officialSpec, V2_PREFIX, type Json } from './openapi-spec.ts';

/** A field's type as the decoder sees it. */
export type FieldType =
  | { kind: 'string' | 'bool' | 'any' | 'time' | 'intOrString' | 'quantity' }
  | { kind: 'int'; bits: 32 | 64 }
  | { kind: 'float' }
  | { kind: 'array'; of: FieldType }
  | { kind: 'map'; of: FieldType }
  | { kind: 'struct'; name: string };

export interface StructField { name: string; type: FieldType }

let definitions: Record<string, Json> | undefined;
const structs = new Map<string, Map<string, StructField> | undefined>();
let byGvk: Map<string, string> | undefined;

/** Parses the vendored document once (a few hundred ms); the API server awaits it at start. */
export async function loadSchemas(): Promise<void> {
  definitions ??= officialSpec().definitions;
}

export function schemasLoaded(): boolean {
  return definitions !== undefined;
}

/** Definitions the decoder treats as one value, not as a struct of fields. */
const SCALARS: Record<string, FieldType> = {
  'io.k8s.apimachinery.pkg.api.resource.Quantity': { kind: 'quantity' },
  'io.k8s.apimachinery.pkg.apis.meta.v1.Time': { kind: 'time' },
  'io.k8s.apimachinery.pkg.util.intstr.IntOrString': { kind: 'intOrString' },
};

function parseSchema(schema: Json): FieldType {
  const ref: string | undefined = schema.$ref ?? schema.allOf?.[0]?.$ref;
  if (ref) {
    const name = ref.slice(V2_PREFIX.length);
    if (SCALARS[name]) return SCALARS[name];
    // MicroTime, RawExtension, FieldsV1, apiextensions JSON …: decoded by their own code, not checked here.
    return definitions?.[name]?.properties ? { kind: 'struct', name } : { kind: 'any' };
  }
  switch (schema.type) {
    case 'string':
      return schema.format === 'int-or-string' ? { kind: 'intOrString' } : { kind: 'string' };
    case 'boolean':
      return { kind: 'bool' };
    case 'integer':
      return { kind: 'int', bits: schema.format === 'int64' ? 64 : 32 };
    case 'number':
      return { kind: 'float' };
    case 'array':
      return { kind: 'array', of: schema.items ? parseSchema(schema.items) : { kind: 'any' } };
    case 'object':
      return schema.additionalProperties && typeof schema.additionalProperties === 'object'
        ? { kind: 'map', of: parseSchema(schema.additionalProperties) }
        : { kind: 'any' };
    default:
      return { kind: 'any' };
  }
}

/** The fields of one definition, by JSON name; undefined when it has none. */
export function structFields(name: string): Map<string, StructField> | undefined {
  if (structs.has(name)) return structs.get(name);
  const props: Record<string, Json> | undefined = definitions?.[name]?.properties;
  let fields: Map<string, StructField> | undefined;
  if (props) {
    fields = new Map();
    for (const [k, schema] of Object.entries(props)) fields.set(k, { name: k, type: parseSchema(schema) });
  }
  structs.set(name, fields);
  return fields;
}

/** The definition of a resource type's objects, by its x-kubernetes-group-version-kind. */
export function modelFor(t: Pick<ResourceType, 'group' | 'version' | 'kind'>): string | undefined {
  if (!definitions) return undefined;
  if (!byGvk) {
    byGvk = new Map();
    for (const [name, d] of Object.entries(definitions)) {
      const gvks: Json[] = d['x-kubernetes-group-version-kind'] ?? [];
      // Lists and options carry a GVK too; an object has metadata.
      if (gvks.length === 1 && d.properties?.metadata && !d.properties?.items) byGvk.set(`${gvks[0].group}/${gvks[0].version}/${gvks[0].kind}`, name);
    }
  }
  return byGvk.get(`${t.group}/${t.version}/${t.kind}`);
}

/** Go's package and type name of a definition: io.k8s.api.core.v1.PodSpec → v1.PodSpec. */
export function goStructName(model: string): { pkg: string; name: string } {
  const parts = model.split('.');
  return parts.length >= 2 ? { pkg: parts[parts.length - 2], name: parts[parts.length - 1] } : { pkg: 'v1', name: model };
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
