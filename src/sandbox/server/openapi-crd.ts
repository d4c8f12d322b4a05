// What a served custom resource version adds to the OpenAPI documents, as
// apiextensions-apiserver 1.32 builds it (pkg/controller/openapi/builder):
// the kind's schema from the CRD's openAPIV3Schema with Kubernetes' own
// apiVersion/kind/metadata, its list kind, and the paths of its routes. The
// query parameters are those of the same options types on the built-in
// routes, taken from the vendored document (AddObjectParams writes both).
import type { ServedType } from '../api-types.ts';
import { addEmbeddedProperties, pruneDefaults, sortKeys, toKubeOpenAPI, toOpenAPIV2, unfold } from './openapi-crd-schema.ts';
import { V2_PREFIX, resolveParameter, type Json, type Swagger } from './openapi-spec.ts';

// builder.go's own texts: PartialObjectMetadata(List)'s swagger docs and the embedded TypeMeta's.
const METADATA_DOC = "Standard object's metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata";
const LIST_METADATA_DOC = 'Standard list metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds';
const EMBEDDED_API_VERSION_DOC = 'apiVersion defines the versioned schema of this representation of an object. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources';
const EMBEDDED_KIND_DOC = 'kind is a string value representing the type of this object. In CamelCase. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds';
const OBJECT_META = `${V2_PREFIX}io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta`;
const LIST_META = `${V2_PREFIX}io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta`;
const STATUS = `${V2_PREFIX}io.k8s.apimachinery.pkg.apis.meta.v1.Status`;
const SCALE = `${V2_PREFIX}io.k8s.api.autoscaling.v1.Scale`;
/** A built-in kind whose routes take the same options types as a custom resource's; only its parameters are borrowed. */
const TEMPLATE = '/apis/apps/v1/namespaces/{namespace}/deployments';

/** util.ToRESTFriendlyName of `group/version.Kind`: the group's domain reversed (com.example.v1.Widget). */
export const crdDefinitionName = (t: Pick<ServedType, 'group' | 'version'>, kind: string) => `${t.group.split('.').reverse().join('.')}.${t.version}.${kind}`;

const listKindOf = (t: ServedType) => t.custom?.listKind ?? `${t.kind}List`;

/** x-kubernetes-selectable-fields: the builder writes it, an empty list when the version names none. */
const selectable = (t: ServedType) => (t.custom?.selectableFields ?? []).map((p) => ({ fieldPath: p.replace(/^\./, '') }));

/** The kind and list definitions of one custom resource version; v2 for /openapi/v2, otherwise for its v3 document (refs still v2-style). */
export function crdDefinitions(spec: Swagger, t: ServedType, v2: boolean): Record<string, Json> {
  const typeMeta = spec.definitions['io.k8s.api.apps.v1.Deployment'].properties;
  const gvk = (kind: string) => [{ group: t.group, kind, version: t.version }];
  const raw = t.custom?.schema;
  let kind: Json;
  if (!raw || (v2 && raw['x-kubernetes-preserve-unknown-fields'] === true)) {
    // Without properties kubectl would refuse every field but apiVersion, kind and metadata.
    kind = { type: 'object' };
  } else {
    let s = unfold(toKubeOpenAPI(raw));
    if (v2) s = toOpenAPIV2(s);
    s.properties = { ...s.properties, metadata: { $ref: OBJECT_META, description: METADATA_DOC }, apiVersion: typeMeta.apiVersion, kind: typeMeta.kind };
    kind = addEmbeddedProperties(s, {
      apiVersion: { ...typeMeta.apiVersion, description: EMBEDDED_API_VERSION_DOC },
      kind: { ...typeMeta.kind, description: EMBEDDED_KIND_DOC },
      metadata: { $ref: OBJECT_META, description: METADATA_DOC },
    }, v2);
  }
  kind = { ...kind, 'x-kubernetes-group-version-kind': gvk(t.kind), 'x-kubernetes-selectable-fields': selectable(t) };
  const list: Json = {
    description: `${listKindOf(t)} is a list of ${t.kind}`,
    properties: {
      apiVersion: typeMeta.apiVersion,
      items: {
        description: `List of ${t.plural}. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md`,
        items: { $ref: V2_PREFIX + crdDefinitionName(t, t.kind) },
        type: 'array',
      },
      kind: typeMeta.kind,
      metadata: { $ref: LIST_META, description: LIST_METADATA_DOC },
    },
    required: ['items'],
    type: 'object',
    'x-kubernetes-group-version-kind': gvk(listKindOf(t)),
    'x-kubernetes-selectable-fields': selectable(t),
  };
  const defs = { [crdDefinitionName(t, t.kind)]: kind, [crdDefinitionName(t, listKindOf(t))]: list };
  return sortKeys(v2 ? Object.fromEntries(Object.entries(defs).map(([k, v]) => [k, pruneDefaults(v)])) : defs);
}

/** endpoints.ToValidOperationID: letters and underscores kept, anything else capitalizes what follows. */
function operationWord(s: string, capitalize: boolean): string {
  let out = '';
  let up = capitalize;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (/[A-Za-z_]/.test(c) || (i > 0 && /\d/.test(c))) {
      out += up ? c.toUpperCase() : c;
      up = false;
    } else {
      up = true;
    }
  }
  return out;
}

interface Route {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  action: string;
  verb: string;
  sub?: string;
  params: Json[];
  responses: Json;
}

/** The paths a custom resource version's routes add (generateBuilder's routes, kube-openapi's path building). */
export function crdPaths(spec: Swagger, t: ServedType): Record<string, Json> {
  const tpl = spec.paths[TEMPLATE];
  const item = spec.paths[`${TEMPLATE}/{name}`];
  const resolved = (ps: Json[] = []) => ps.map((p) => ({ ref: p, p: resolveParameter(spec, p) }));
  const kindRef = V2_PREFIX + crdDefinitionName(t, t.kind);
  const listRef = V2_PREFIX + crdDefinitionName(t, listKindOf(t));
  // The template's parameters, its body re-pointed at this kind (or Scale) unless it is a generic one.
  const paramsOf = (op: Json, body?: string) => resolved(op.parameters).map(({ ref, p }) =>
    p.in === 'body' && !String(p.schema?.$ref).startsWith(`${V2_PREFIX}io.k8s.apimachinery`) ? { ...p, schema: { $ref: body } } : ref);
  const list = paramsOf(tpl.get);
  const resourceVersion = list.filter((p) => resolveParameter(spec, p).name === 'resourceVersion');
  const pathParams = Object.fromEntries(resolved([...tpl.parameters, ...item.parameters]).map(({ ref, p }) => [p.name, ref]));
  const name = { ...resolveParameter(spec, pathParams.name), description: `name of the ${t.kind}` };
  const res = (code: string, description: string, ref: string) => ({ [code]: { description, schema: { $ref: ref } } });
  const ok = (ref: string) => res('200', 'OK', ref);

  const namespaced = t.namespaced ? 'Namespaced' : '';
  const root = t.namespaced ? `/apis/${t.group}/${t.version}/namespaces/{namespace}/${t.plural}` : `/apis/${t.group}/${t.version}/${t.plural}`;
  const routes: [string, Route][] = [];
  const add = (path: string, r: Route) => routes.push([path, r]);
  if (t.namespaced) add(`/apis/${t.group}/${t.version}/${t.plural}`, { method: 'get', action: 'list', verb: `list${t.kind}ForAllNamespaces`, params: list, responses: ok(listRef) });
  add(root, { method: 'get', action: 'list', verb: `list${namespaced}${t.kind}`, params: list, responses: ok(listRef) });
  add(root, { method: 'post', action: 'post', verb: `create${namespaced}${t.kind}`, params: paramsOf(tpl.post, kindRef), responses: { ...ok(kindRef), ...res('201', 'Created', kindRef), ...res('202', 'Accepted', kindRef) } });
  add(root, { method: 'delete', action: 'deletecollection', verb: `deletecollection${namespaced}${t.kind}`, params: list, responses: ok(STATUS) });
  const itemRoutes = (sub: string | undefined, sample: string) => {
    const path = `${root}/{name}${sub ? `/${sub}` : ''}`;
    const suffix = sub ? sub[0].toUpperCase() + sub.slice(1) : '';
    add(path, { method: 'get', action: 'get', verb: `read${namespaced}${t.kind}${suffix}`, sub, params: resourceVersion, responses: ok(sample) });
    add(path, { method: 'put', action: 'put', verb: `replace${namespaced}${t.kind}${suffix}`, sub, params: paramsOf(item.put, sample), responses: { ...ok(sample), ...res('201', 'Created', sample) } });
    if (!sub) add(path, { method: 'delete', action: 'delete', verb: `delete${namespaced}${t.kind}`, params: paramsOf(item.delete), responses: { ...ok(STATUS), ...res('202', 'Accepted', STATUS) } });
    add(path, { method: 'patch', action: 'patch', verb: `patch${namespaced}${t.kind}${suffix}`, sub, params: paramsOf(item.patch), responses: ok(sample) });
  };
  itemRoutes(undefined, kindRef);
  if (t.subresources?.includes('status')) itemRoutes('status', kindRef);
  if (t.subresources?.includes('scale')) itemRoutes('scale', SCALE);

  const paths: Record<string, Json> = {};
  for (const path of new Set(routes.map(([p]) => p))) {
    const here = routes.filter(([p]) => p === path).map(([, r]) => ({
      ...r,
      params: [...r.params, pathParams.pretty, ...(path.includes('{namespace}') ? [pathParams.namespace] : []), ...(path.includes('{name}') ? [name] : [])],
    }));
    paths[path] = buildPathItem(spec, t, here);
  }
  return sortKeys(paths);
}

const key = (p: Json) => `${p.in}:${p.name}`;
const byNameIn = (spec: Swagger) => (a: Json, b: Json) => {
  const x = resolveParameter(spec, a);
  const y = resolveParameter(spec, b);
  return x.name < y.name ? -1 : x.name > y.name ? 1 : x.in < y.in ? -1 : x.in > y.in ? 1 : 0;
};

/** builder.buildPaths: parameters every route of a path takes (bodies excepted) move to the path, both lists sorted. */
function buildPathItem(spec: Swagger, t: ServedType, routes: (Route & { params: Json[] })[]): Json {
  const counts = new Map<string, number>();
  for (const r of routes) for (const p of r.params) counts.set(key(resolveParameter(spec, p)), (counts.get(key(resolveParameter(spec, p))) ?? 0) + 1);
  const common = (p: Json) => {
    const x = resolveParameter(spec, p);
    return x.in !== 'body' && counts.get(key(x)) === routes.length;
  };
  const item: Json = { parameters: routes[0].params.filter(common).sort(byNameIn(spec)) };
  const group = operationWord(t.group.replace(/\.k8s\.io$/, ''), true) + operationWord(t.version, true);
  for (const r of routes) {
    const prefix = ['get', 'log', 'read', 'replace', 'patch', 'delete', 'watch', 'connect', 'proxy', 'list', 'create'].find((v) => r.verb.startsWith(v))!;
    const params = r.params.filter((p) => !common(p)).sort(byNameIn(spec));
    item[r.method] = {
      consumes: r.method === 'patch' ? ['application/json-patch+json', 'application/merge-patch+json', 'application/apply-patch+yaml'] : ['application/json', 'application/yaml'],
      description: describe(t.kind, r.action === 'post' ? 'create' : r.action === 'get' ? 'read' : r.action === 'put' ? 'replace' : r.action, r.sub),
      operationId: prefix + group + operationWord(r.verb.slice(prefix.length), true),
      ...(params.length ? { parameters: params } : {}),
      produces: ['application/json', 'application/yaml'],
      responses: { ...r.responses, 401: { description: 'Unauthorized' } },
      schemes: ['https'],
      tags: [`${operationWord(t.group.replace(/\.k8s\.io$/, ''), false)}_${operationWord(t.version, false)}`],
      'x-kubernetes-action': r.action,
      'x-kubernetes-group-version-kind': { group: t.group, kind: t.kind, version: t.version },
    };
  }
  return item;
}

/** builder.descriptionFor. */
function describe(kind: string, verb: string, sub?: string): string {
  const of = sub ? ` ${sub} of` : '';
  const article = (padding: string) => {
    if (!kind.endsWith('ss') && kind.endsWith('s')) return padding;
    return `${padding}${/^[aeiou]/i.test(kind) ? 'an' : 'a'}${padding}`;
  };
  if (verb === 'patch') return `partially update${of} the specified ${kind}`;
  if (verb === 'deletecollection') return `delete collection of${sub ? `${of} a` : ''} ${kind}`;
  if (verb === 'list') return `list${of} objects of kind ${kind}`;
  if (verb === 'read' || verb === 'replace') return `${verb}${of} the specified ${kind}`;
  return `${verb}${of}${article(' ')}${kind}`;
}
