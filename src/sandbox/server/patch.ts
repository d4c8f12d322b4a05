// PATCH bodies as the API server applies them: RFC 6902 JSON patch, RFC 7386
// merge patch, and Kubernetes strategic merge patch (what kubectl sends for
// apply, set image, rollout restart, cordon, scale …). The strategic merge
// follows apimachinery's strategicpatch package, including its directives,
// list ordering and error codes, so kubectl sees the same results and errors.
import jsonpatch from 'fast-json-patch';
import { ApiError } from '../status.ts';
import type { K8sObject } from '../types.ts';
import { goType, isMap, unprocessable, type Json, type JsonMap } from './patch-json.ts';
import { applyStrategicPatch } from './strategic-merge.ts';

const JSON_PATCH = 'application/json-patch+json';
const MERGE_PATCH = 'application/merge-patch+json';
const STRATEGIC_PATCH = 'application/strategic-merge-patch+json';

/** Applies a parsed PATCH body; never mutates `original`. */
export function applyPatch(contentType: string, original: K8sObject, patch: unknown): K8sObject {
  // The server ignores media type parameters such as "; charset=utf-8".
  const type = contentType.split(';')[0].trim().toLowerCase();
  let out: Json;
  if (type === JSON_PATCH) out = applyJsonPatch(original, patch);
  else if (type === MERGE_PATCH) out = applyMergePatch(original, patch);
  else if (type === STRATEGIC_PATCH) out = applyStrategicPatch(original, patch);
  else {
    throw new ApiError(
      415,
      'UnsupportedMediaType',
      `the body of the request was in an unknown format - accepted media types include: ${[JSON_PATCH, MERGE_PATCH, STRATEGIC_PATCH].join(', ')}`,
    );
  }
  if (!isMap(out)) throw unprocessable(`json: cannot unmarshal ${goType(out)} into Go value of type ${original.kind ?? 'object'}`);
  return out as unknown as K8sObject;
}

// ---- RFC 6902 -----------------------------------------------------------------

function applyJsonPatch(original: K8sObject, patch: unknown): Json {
  if (!Array.isArray(patch)) throw ApiError.badRequest(`json: cannot unmarshal ${goType(patch)} into Go value of type jsonpatch.Patch`);
  // Values go through typed decoding on a real server, which drops nulls such
  // as the `creationTimestamp: null` kubectl sends with `rollout undo`.
  const ops = structuredClone(patch).map((op: unknown) =>
    isMap(op) && (op.op === 'add' || op.op === 'replace') && op.value !== null && typeof op.value === 'object'
      ? { ...op, value: pruneNulls(op.value) }
      : op,
  ) as Parameters<typeof jsonpatch.applyPatch>[1];
  try {
    return jsonpatch.applyPatch(structuredClone(original), ops, true, true).newDocument as unknown as Json;
  } catch (e) {
    if (e instanceof jsonpatch.JsonPatchError) throw unprocessable(jsonPatchMessage(e));
    if (e instanceof TypeError) throw unprocessable(e.message);
    throw e;
  }
}

/** evanphx/json-patch wording, which is what a real server puts in the cause. */
function jsonPatchMessage(e: InstanceType<typeof jsonpatch.JsonPatchError>): string {
  const op = (e.operation ?? {}) as { op?: string; path?: string; from?: string };
  switch (e.name) {
    case 'TEST_OPERATION_FAILED':
      return `testing value ${op.path} failed: test failed`;
    case 'OPERATION_OP_INVALID':
      return `Unexpected kind: ${op.op}`;
    case 'OPERATION_PATH_CANNOT_ADD':
      return `add operation does not apply: doc is missing path: "${op.path}": missing value`;
    case 'OPERATION_PATH_UNRESOLVABLE':
      return `${op.op} operation does not apply: doc is missing path: ${op.path}: missing value`;
    case 'OPERATION_FROM_UNRESOLVABLE':
      return `${op.op} operation does not apply: doc is missing from path: ${op.from}: missing value`;
    case 'OPERATION_VALUE_OUT_OF_BOUNDS':
    case 'OPERATION_PATH_ILLEGAL_ARRAY_INDEX':
      return `Unable to access invalid index: ${op.path}: invalid index referenced`;
    default:
      return e.message;
  }
}

// ---- RFC 7386 -----------------------------------------------------------------

function applyMergePatch(original: K8sObject, patch: unknown): Json {
  if (!isMap(patch)) throw ApiError.badRequest('Invalid JSON Patch');
  return mergeRfc7386(structuredClone(original) as unknown as JsonMap, structuredClone(patch));
}

function mergeRfc7386(target: Json | undefined, patch: Json): Json {
  if (!isMap(patch)) return pruneNulls(patch);
  const out: JsonMap = isMap(target) ? target : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergeRfc7386(out[k], v);
  }
  return out;
}

function pruneNulls(v: Json): Json {
  if (Array.isArray(v)) return v.filter((x) => x !== null).map(pruneNulls);
  if (isMap(v)) {
    for (const k of Object.keys(v)) {
      if (v[k] === null) delete v[k];
      else v[k] = pruneNulls(v[k]);
    }
  }
  return v;
}
