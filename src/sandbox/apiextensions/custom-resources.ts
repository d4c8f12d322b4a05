// The custom resource strategy: what the apiextensions API server does to an
// object of a served CRD on every write (prune, default, validate), the
// unknown fields fieldValidation reports, and the simple JSON paths the scale
// subresource reads and writes.
import type { ResourceType } from '../resources.ts';
import { ApiError, type StatusCause } from '../status.ts';
import type { K8sObject } from '../types.ts';
import { isDNS1123Subdomain } from './names.ts';
import { applySchemaDefaults, prune, validateValue } from './schema.ts';

/** Prunes unknown fields and applies the schema's defaults, in place. */
export function prepareCustomResource(t: ResourceType, obj: K8sObject): void {
  const schema = t.custom?.schema;
  if (!schema) return;
  prune(schema, obj);
  applySchemaDefaults(schema, obj);
}

/** The fields a write would lose to pruning, for fieldValidation (Strict: 400, Warn: a warning each). */
export function unknownFields(t: ResourceType, obj: K8sObject): string[] {
  const schema = t.custom?.schema;
  return schema ? prune(schema, structuredClone(obj)) : [];
}

/** 422 Invalid with the schema's field errors (unchanged fields of an update are not re-judged). */
export function validateCustomResource(t: ResourceType, obj: K8sObject, old: K8sObject | undefined): void {
  const causes: StatusCause[] = [];
  const name = obj.metadata.name ?? '';
  for (const e of isDNS1123Subdomain(name)) causes.push({ reason: 'FieldValueInvalid', field: 'metadata.name', message: `Invalid value: ${JSON.stringify(name)}: ${e}` });
  for (const e of validateValue(t.custom?.schema, obj, '', old ? { value: old } : undefined)) {
    // The root's own errors name no field.
    causes.push({ reason: e.type, field: e.field, message: e.body });
  }
  const scale = t.custom?.scale;
  if (scale) causes.push(...scaleSpecErrors(obj, scale.specReplicasPath));
  if (causes.length) throw ApiError.invalid(t.kind, name, t.group, causes);
}

/** validateScaleSpec: the replicas the scale subresource reads must be a non-negative int32 (the field keeps its leading dot). */
function scaleSpecErrors(obj: K8sObject, path: string): StatusCause[] {
  const v = getPath(obj, path);
  if (v === undefined) return [];
  const at = path.replace(/^\./, '');
  if (typeof v !== 'number' || !Number.isInteger(v)) {
    const goType = typeof v === 'string' ? 'string' : typeof v === 'number' ? 'float64' : typeof v === 'boolean' ? 'bool' : Array.isArray(v) ? '[]interface {}' : v === null ? '<nil>' : 'map[string]interface {}';
    return [{ reason: 'FieldValueInvalid', field: path, message: `Invalid value: 0: ${at} accessor error: ${typeof v === 'object' ? JSON.stringify(v) : String(v)} is of the type ${goType}, expected int64` }];
  }
  if (v < 0) return [{ reason: 'FieldValueInvalid', field: path, message: `Invalid value: ${v}: should be a non-negative integer` }];
  if (v > 2147483647) return [{ reason: 'FieldValueInvalid', field: path, message: `Invalid value: ${v}: should be less than or equal to 2147483647` }];
  return [];
}

/** `.spec.replicas` → the value there (undefined when a step is missing). */
export function getPath(obj: unknown, path: string): unknown {
  let cur: any = obj;
  for (const seg of path.split('.').filter(Boolean)) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = cur[seg];
  }
  return cur;
}

/** Sets `.spec.replicas`, creating the objects on the way. */
export function setPath(obj: Record<string, any>, path: string, value: unknown): void {
  const segs = path.split('.').filter(Boolean);
  let cur = obj;
  for (const seg of segs.slice(0, -1)) {
    if (cur[seg] === null || typeof cur[seg] !== 'object') cur[seg] = {};
    cur = cur[seg];
  }
  cur[segs[segs.length - 1]] = value;
}

/** What the API server answers when a write to a custom resource has fields its schema does not know. */
export function strictDecodingError(t: ResourceType, fields: string[]): ApiError {
  const list = fields.map((f) => `unknown field ${JSON.stringify(f)}`).join(', ');
  return ApiError.badRequest(`${t.kind} in version ${JSON.stringify(t.version)} cannot be handled as a ${t.kind}: strict decoding error: ${list}`);
}
