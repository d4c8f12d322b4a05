// The shapes server-side apply needs from a type's schema: which lists are
// associative (and by which keys), which are sets, and which structs and
// lists are atomic (owned and replaced whole). They come from the list merge
// keys the strategic merge patch already uses (patch-meta.ts), with the
// +listMapKey and +structType=atomic markers of k8s.io/api where they differ.
// A field the tables do not know is deduced from its value, as
// structured-merge-diff does for schemaless objects: objects merge field by
// field, lists are atomic.
import { schemaForKind, type FieldMeta, type Schema } from './patch-meta.ts';

export type Shape =
  | { type: 'map'; fields?: Record<string, Shape> }
  | { type: 'atomic' }
  | { type: 'assoc'; keys: string[]; defaults?: Record<string, unknown>; elem: Shape }
  | { type: 'set' }
  /** Deduced from the value. */
  | { type: 'auto' };

export const AUTO: Shape = { type: 'auto' };
const ATOMIC: Shape = { type: 'atomic' };

/** +listMapKey pairs where the patch merge key is only the first of them (and the defaults that fill the rest). */
const MULTI_KEYS: Record<string, { keys: string[]; defaults?: Record<string, unknown> }> = {
  containerPort: { keys: ['containerPort', 'protocol'], defaults: { protocol: 'TCP' } },
  port: { keys: ['port', 'protocol'], defaults: { protocol: 'TCP' } },
  topologyKey: { keys: ['topologyKey', 'whenUnsatisfiable'] },
};

/** +structType=atomic (and atomic lists) by field name, wherever they appear in the built-in kinds. */
const ATOMIC_FIELDS = new Set(['configMapKeyRef', 'secretKeyRef', 'fieldRef', 'resourceFieldRef', 'requiredDuringSchedulingIgnoredDuringExecution']);
/** Lists of atomic items: an item is owned whole. */
const ATOMIC_ITEMS = new Set(['ownerReferences', 'imagePullSecrets']);
/** Kinds whose spec.selector is a LabelSelector (atomic); a Service's is a map of labels. */
const LABEL_SELECTOR_KINDS = new Set(['Deployment', 'ReplicaSet', 'StatefulSet', 'DaemonSet', 'Job', 'PodDisruptionBudget']);

function fromMeta(name: string, meta: FieldMeta): Shape {
  if (ATOMIC_FIELDS.has(name)) return ATOMIC;
  if (meta.strategy === 'merge') {
    if (!meta.mergeKey) return { type: 'set' };
    const multi = MULTI_KEYS[meta.mergeKey];
    const elem: Shape = ATOMIC_ITEMS.has(name) ? ATOMIC : fromSchema(meta.schema ?? {});
    return { type: 'assoc', keys: multi?.keys ?? [meta.mergeKey], defaults: multi?.defaults, elem };
  }
  if (meta.schema) return fromSchema(meta.schema);
  return AUTO;
}

function fromSchema(schema: Schema): Shape {
  const fields: Record<string, Shape> = {};
  for (const [k, m] of Object.entries(schema)) fields[k] = fromMeta(k, m);
  // Container env: valueFrom's references are atomic structs.
  if (fields.env?.type === 'assoc') {
    fields.env = { ...fields.env, elem: { type: 'map', fields: { valueFrom: { type: 'map', fields: Object.fromEntries([...ATOMIC_FIELDS].map((f) => [f, ATOMIC])) } } } };
  }
  return { type: 'map', fields };
}

const cache = new Map<string, Shape>();

export function shapeForKind(kind: string | undefined): Shape {
  const k = kind ?? '';
  let s = cache.get(k);
  if (!s) {
    s = fromSchema(schemaForKind(k));
    if (s.type === 'map' && LABEL_SELECTOR_KINDS.has(k)) {
      const spec = s.fields?.spec;
      const specFields = spec?.type === 'map' ? spec.fields ?? {} : {};
      s.fields = { ...s.fields, spec: { type: 'map', fields: { ...specFields, selector: ATOMIC } } };
    }
    cache.set(k, s);
  }
  return s;
}

/** The shape of a map's field; fields the table does not list are deduced. */
export function fieldShape(parent: Shape, name: string): Shape {
  if (parent.type === 'map') return parent.fields?.[name] ?? (ATOMIC_FIELDS.has(name) ? ATOMIC : AUTO);
  return AUTO;
}

/** An auto shape made concrete by a value: objects merge by field, lists and scalars are atomic leaves. */
export function resolve(shape: Shape, value: unknown): Shape {
  if (shape.type !== 'auto') return shape;
  return value && typeof value === 'object' && !Array.isArray(value) ? { type: 'map' } : ATOMIC;
}
