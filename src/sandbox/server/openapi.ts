// OpenAPI v3 documents, just enough for kubectl: `create`/`apply`/`edit` look
// for the `fieldValidation` query parameter on each kind's PATCH operation to
// decide that the server validates (so kubectl sends fieldValidation=Strict
// instead of validating client-side against a full schema). Paths and
// operations mirror the real ones; component schemas are omitted, so kubectl
// computes strategic merge patches from its built-in types as it does for any
// server without them.
import { createHash } from 'node:crypto';
import type { TypeRegistry } from '../api-types.ts';
import type { ResourceType } from '../resources.ts';
import type { Outcome } from './context.ts';
import { VERSION_INFO, groupVersions } from './discovery.ts';

const gvPath = (group: string, version: string) => (group ? `apis/${group}/${version}` : `api/${version}`);

const queryParam = (name: string, type: 'string' | 'boolean' | 'integer', description: string) => ({
  name,
  in: 'query',
  description,
  schema: { type, uniqueItems: true },
});

const WRITE_PARAMS = [
  queryParam('dryRun', 'string', 'When present, indicates that modifications should not be persisted.'),
  queryParam('fieldManager', 'string', 'fieldManager is a name associated with the actor or entity that is making these changes.'),
  queryParam('fieldValidation', 'string', 'fieldValidation instructs the server on how to handle objects in the request containing unknown or duplicate fields. Valid values are: Ignore, Warn, Strict.'),
];
const LIST_PARAMS = ['allowWatchBookmarks', 'continue', 'fieldSelector', 'labelSelector', 'limit', 'resourceVersion', 'resourceVersionMatch', 'sendInitialEvents', 'timeoutSeconds', 'watch'].map((n) =>
  queryParam(n, n === 'limit' || n === 'timeoutSeconds' ? 'integer' : n === 'watch' || n === 'allowWatchBookmarks' || n === 'sendInitialEvents' ? 'boolean' : 'string', n),
);
const PATCH_CONTENT = ['application/json-patch+json', 'application/merge-patch+json', 'application/apply-patch+yaml'];

function op(action: string, id: string, gvk: Record<string, string>, params: unknown[], patch = false): Record<string, unknown> {
  return {
    operationId: id,
    parameters: [...params, ...(action === 'patch' ? [queryParam('force', 'boolean', 'Force is going to "force" Apply requests.')] : [])],
    ...(patch ? { requestBody: { content: Object.fromEntries(PATCH_CONTENT.map((c) => [c, { schema: { type: 'object' } }])), required: true } } : {}),
    responses: { '200': { description: 'OK' }, '401': { description: 'Unauthorized' } },
    'x-kubernetes-action': action,
    'x-kubernetes-group-version-kind': gvk,
  };
}

const pathParam = (name: string) => ({ name, in: 'path', required: true, description: `${name} of the object`, schema: { type: 'string', uniqueItems: true } });

function pathsFor(t: ResourceType): Record<string, unknown> {
  const base = `/${gvPath(t.group, t.version)}`;
  const coll = t.namespaced ? `${base}/namespaces/{namespace}/${t.plural}` : `${base}/${t.plural}`;
  const gvk = { group: t.group, version: t.version, kind: t.kind };
  const id = `${t.group.split('.')[0]}${t.version}${t.kind}`;
  const nsParams = t.namespaced ? [pathParam('namespace')] : [];
  // Review APIs are a collection to POST to, nothing more.
  if (t.virtual) return { [coll]: { post: op('post', `create${id}`, gvk, WRITE_PARAMS), parameters: nsParams } };
  const paths: Record<string, unknown> = {
    [coll]: {
      get: op('list', `list${id}`, gvk, LIST_PARAMS),
      post: op('post', `create${id}`, gvk, WRITE_PARAMS),
      delete: op('deletecollection', `deletecollection${id}`, gvk, LIST_PARAMS),
      parameters: nsParams,
    },
    [`${coll}/{name}`]: {
      get: op('get', `read${id}`, gvk, []),
      put: op('put', `replace${id}`, gvk, WRITE_PARAMS),
      patch: op('patch', `patch${id}`, gvk, WRITE_PARAMS, true),
      delete: op('delete', `delete${id}`, gvk, [queryParam('dryRun', 'string', 'dryRun'), queryParam('gracePeriodSeconds', 'integer', 'gracePeriodSeconds'), queryParam('propagationPolicy', 'string', 'propagationPolicy')]),
      parameters: [pathParam('name'), ...nsParams],
    },
  };
  if (t.namespaced) paths[`${base}/${t.plural}`] = { get: op('list', `list${id}ForAllNamespaces`, gvk, LIST_PARAMS) };
  for (const sub of t.subresources ?? []) {
    if (sub === 'token') {
      paths[`${coll}/{name}/token`] = {
        post: op('post', `create${id}Token`, { group: 'authentication.k8s.io', version: 'v1', kind: 'TokenRequest' }, WRITE_PARAMS),
        parameters: [pathParam('name'), ...nsParams],
      };
      continue;
    }
    if (sub !== 'status' && sub !== 'scale') continue;
    const sgvk = sub === 'scale' ? { group: 'autoscaling', version: 'v1', kind: 'Scale' } : gvk;
    paths[`${coll}/{name}/${sub}`] = {
      get: op('get', `read${id}${sub}`, sgvk, []),
      put: op('put', `replace${id}${sub}`, sgvk, WRITE_PARAMS),
      patch: op('patch', `patch${id}${sub}`, sgvk, WRITE_PARAMS, true),
      parameters: [pathParam('name'), ...nsParams],
    };
  }
  return paths;
}

/** A custom resource's schema under its reversed-domain name, as the CRD OpenAPI builder publishes it. */
function customSchema(t: ResourceType): Record<string, unknown> {
  const name = `${t.group.split('.').reverse().join('.')}.${t.version}.${t.kind}`;
  const gvk = [{ group: t.group, version: t.version, kind: t.kind }];
  return { [name]: { ...(t.custom?.schema ?? { type: 'object' }), 'x-kubernetes-group-version-kind': gvk } };
}

function gvDocument(types: TypeRegistry, group: string, version: string): string {
  const paths: Record<string, unknown> = {};
  const schemas: Record<string, unknown> = {};
  for (const t of types.all()) {
    if (t.group !== group || t.version !== version) continue;
    Object.assign(paths, pathsFor(t));
    if (t.custom) Object.assign(schemas, customSchema(t));
  }
  return JSON.stringify({
    openapi: '3.0.0',
    info: { title: 'Kubernetes', version: VERSION_INFO.gitVersion },
    paths,
    components: { schemas },
  });
}

type Docs = Map<string, { body: string; hash: string }>;
/** Per registry, rebuilt when its CRDs change what it serves. */
const cache = new WeakMap<TypeRegistry, { generation: number; docs: Docs }>();

function documents(types: TypeRegistry): Docs {
  const hit = cache.get(types);
  if (hit && hit.generation === types.generation) return hit.docs;
  const docs: Docs = new Map();
  for (const { group, version } of groupVersions(types)) {
    const body = gvDocument(types, group, version);
    docs.set(gvPath(group, version), { body, hash: createHash('sha512').update(body).digest('hex').slice(0, 128).toUpperCase() });
  }
  cache.set(types, { generation: types.generation, docs });
  return docs;
}

/** /openapi/v3 and /openapi/v3/{api|apis}/...; undefined for other paths. */
export function openapi(path: string, types: TypeRegistry): Outcome | undefined {
  const p = path.replace(/\/+$/, '');
  if (p === '/openapi/v3') {
    const paths = Object.fromEntries([...documents(types)].map(([k, d]) => [k, { serverRelativeURL: `/openapi/v3/${k}?hash=${d.hash}` }]));
    return { code: 200, body: { paths } };
  }
  if (!p.startsWith('/openapi/v3/')) return undefined;
  const doc = documents(types).get(p.slice('/openapi/v3/'.length));
  if (!doc) return undefined;
  return { code: 200, text: doc.body, contentType: 'application/json', headers: { Etag: `"${doc.hash}"`, 'Cache-Control': 'public, immutable' } };
}
