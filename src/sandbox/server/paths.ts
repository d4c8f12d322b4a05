// Maps request paths onto resource types the way the API server's routes do:
// /api/v1/namespaces/{ns}/{plural}/{name}/{sub}, /apis/{group}/{version}/...,
// cluster-wide /api/v1/{plural}, and the deprecated /watch/ prefix.
import type { TypeRegistry } from '../api-types.ts';
import { RESOURCES } from '../resources.ts';
import { ApiError } from '../status.ts';
import type { ResourceRequest } from './context.ts';

export interface ParsedPath extends ResourceRequest {
  /** The old-style `/api/v1/watch/...` form: a watch whatever the query says. */
  watchPrefix: boolean;
}

// NewGenericServerResponse leaves details empty but present (`"details": {}`).
export const notFoundPath = () => new ApiError(404, 'NotFound', 'the server could not find the requested resource', {});
export const methodNotAllowed = () => new ApiError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource', {});

const NAMESPACE_SUBS = new Set(RESOURCES.find((t) => t.plural === 'namespaces')?.subresources ?? []);

/**
 * undefined when the path is not under /api or /apis (a non-resource URL);
 * throws 404 for resource-shaped paths that name nothing this server serves.
 */
export function parseResourcePath(path: string, types: TypeRegistry): ParsedPath | undefined {
  const segs = path.split('/').filter(Boolean).map(decodeURIComponent);
  let group: string;
  let version: string;
  let rest: string[];
  if (segs[0] === 'api' && segs.length >= 3) {
    group = '';
    version = segs[1];
    rest = segs.slice(2);
  } else if (segs[0] === 'apis' && segs.length >= 4) {
    group = segs[1];
    version = segs[2];
    rest = segs.slice(3);
  } else {
    return undefined;
  }
  let watchPrefix = false;
  if (rest[0] === 'watch') {
    watchPrefix = true;
    rest = rest.slice(1);
  }
  let namespace: string | undefined;
  // namespaces/{ns}/{plural}/... is a namespaced resource unless the third
  // segment is one of the Namespace type's own subresources.
  if (rest[0] === 'namespaces' && rest.length >= 3 && !(rest.length === 3 && NAMESPACE_SUBS.has(rest[2]))) {
    namespace = rest[1];
    rest = rest.slice(2);
  }
  if (rest.length < 1 || rest.length > 3) throw notFoundPath();
  const [plural, name, subresource] = rest;
  const type = types.find(group, version, plural);
  if (!type) throw notFoundPath();
  if (namespace !== undefined && !type.namespaced) throw notFoundPath();
  // A namespaced object is only addressable inside its namespace.
  if (namespace === undefined && type.namespaced && name !== undefined) throw notFoundPath();
  if (subresource !== undefined && !type.subresources?.includes(subresource)) throw notFoundPath();
  if (watchPrefix && subresource !== undefined) throw notFoundPath();
  return { type, namespace, name, subresource, watchPrefix };
}

/** The resource label used in metrics: `pods`, `apps/deployments`, `pods/log`. */
export function resourceLabel(r: ResourceRequest): string {
  const base = r.type.group ? `${r.type.group}/${r.type.plural}` : r.type.plural;
  return r.subresource ? `${base}/${r.subresource}` : base;
}
