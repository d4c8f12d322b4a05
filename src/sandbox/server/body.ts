// Request bodies: JSON (and YAML, which the API server also decodes), with the
// API server's 400/415 answers for empty, malformed or unknown-format bodies,
// plus the checks that the object matches the URL it was sent to.
import { parse as parseYaml } from 'yaml';
import { apiVersionOf, type ResourceType } from '../resources.ts';
import { ApiError } from '../status.ts';
import type { K8sObject } from '../types.ts';
import type { Call } from './context.ts';
import { decodeK8sProtobuf } from './protobuf.ts';

export const mediaType = (contentType: string | undefined) => (contentType ?? '').split(';')[0].trim().toLowerCase();

const PROTOBUF = 'application/vnd.kubernetes.protobuf';
const OBJECT_TYPES = 'application/json, application/yaml, application/vnd.kubernetes.protobuf, application/cbor';

/** The parsed body, decoded by content type: JSON, or YAML for yaml media types. */
export function decodeBody(call: Call, accepted = OBJECT_TYPES): unknown {
  const ct = mediaType(call.contentType);
  if (ct === PROTOBUF && accepted === OBJECT_TYPES) return decodeK8sProtobuf(call.rawBody ?? Buffer.alloc(0));
  const text = call.body ?? '';
  const yaml = ct === 'application/yaml' || ct === 'application/apply-patch+yaml';
  const jsonish = ct === '' || ct === 'application/json' || ct.endsWith('+json');
  if (!yaml && !jsonish) {
    throw new ApiError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: ${accepted}`);
  }
  if (!text.trim()) throw ApiError.badRequest(`Object 'Kind' is missing in '${text}'`);
  try {
    // Repeated keys are strict decoding errors (fieldValidation), not parse errors.
    return yaml ? parseYaml(text, { uniqueKeys: false }) : JSON.parse(text);
  } catch (err) {
    const why = (err as Error).message.split('\n')[0];
    throw ApiError.badRequest(yaml ? `error converting YAML to JSON: ${why}` : `couldn't get version/kind; json parse error: ${why}`);
  }
}

export function decodeObject(call: Call): K8sObject {
  const body = decodeBody(call);
  if (!body || typeof body !== 'object' || Array.isArray(body)) {
    throw ApiError.badRequest(`couldn't get version/kind; json parse error: json: cannot unmarshal ${Array.isArray(body) ? 'array' : typeof body} into Go value of type struct`);
  }
  const obj = body as K8sObject;
  if (obj.metadata == null) obj.metadata = {};
  if (typeof obj.metadata !== 'object' || Array.isArray(obj.metadata)) throw ApiError.badRequest('metadata must be an object');
  return obj;
}

/** A body sent to one type's endpoint must be of that type (apiVersion/kind may be omitted). */
export function checkKind(obj: K8sObject, type: ResourceType, expected = { apiVersion: apiVersionOf(type), kind: type.kind }): void {
  if (obj.apiVersion && obj.apiVersion !== expected.apiVersion) {
    throw ApiError.badRequest(`the API version in the data (${obj.apiVersion}) does not match the expected API version (${expected.apiVersion})`);
  }
  if (obj.kind && obj.kind !== expected.kind) {
    throw ApiError.badRequest(`the kind in the data (${obj.kind}) does not match the expected kind (${expected.kind})`);
  }
}

/** Namespace and name in the body must agree with the URL; missing ones are taken from it. */
export function checkIdentity(obj: K8sObject, namespace: string | undefined, name: string | undefined): void {
  const m = obj.metadata;
  if (namespace !== undefined) {
    if (m.namespace && m.namespace !== namespace) {
      throw ApiError.badRequest('the namespace of the provided object does not match the namespace sent on the request');
    }
    m.namespace = namespace;
  }
  if (name !== undefined) {
    if (m.name && m.name !== name) {
      throw ApiError.badRequest(`the name of the object (${m.name}) does not match the name on the URL (${name})`);
    }
    m.name = name;
  }
}
