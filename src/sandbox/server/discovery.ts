// Discovery documents, all derived from the served types (the built-in ones
// and those the sandbox's CRDs establish): /version, the legacy /api,
// /api/v1, /apis, /apis/{group}[/{version}] documents, and the aggregated
// apidiscovery.k8s.io/v2 form that kubectl 1.32 asks for first (one request
// for every group instead of one per group version). With `metricsApi`,
// metrics.k8s.io is listed last, as the aggregator adds it.
import type { TypeRegistry } from '../api-types.ts';
import { verbsOf as builtinVerbs, type ResourceType } from '../resources.ts';
import { ApiError } from '../status.ts';
import type { Outcome } from './context.ts';
import { parseAccept } from './negotiate.ts';
import { METRICS_GROUP, METRICS_RESOURCES, METRICS_VERSION } from './resource-metrics.ts';

export const VERSION_INFO = {
  major: '1',
  minor: '32',
  gitVersion: 'v1.32.0-kubemend',
  gitCommit: '70d3cc986aa8221cd1dfb1121852688902d3bf53',
  gitTreeState: 'clean',
  buildDate: '2024-12-11T17:59:15Z',
  goVersion: 'go1.23.3',
  compiler: 'gc',
  platform: 'linux/amd64',
};

interface SubresourceInfo {
  group?: string;
  version?: string;
  kind: string;
  verbs: string[];
}

/** What each subresource accepts and returns, as the real API server advertises it. */
function subresourceInfo(t: ResourceType, sub: string): SubresourceInfo {
  switch (sub) {
    case 'status': return { kind: t.kind, verbs: ['get', 'patch', 'update'] };
    case 'scale': return { group: 'autoscaling', version: 'v1', kind: 'Scale', verbs: ['get', 'patch', 'update'] };
    case 'log': return { kind: 'Pod', verbs: ['get'] };
    case 'eviction': return { group: 'policy', version: 'v1', kind: 'Eviction', verbs: ['create'] };
    case 'binding': return { kind: 'Binding', verbs: ['create'] };
    case 'finalize': return { kind: 'Namespace', verbs: ['update'] };
    case 'token': return { group: 'authentication.k8s.io', version: 'v1', kind: 'TokenRequest', verbs: ['create'] };
    default: return { kind: t.kind, verbs: ['get'] };
  }
}

/** The order apiextensions-apiserver lists a custom resource's verbs in. */
const CUSTOM_VERBS = ['delete', 'deletecollection', 'get', 'list', 'patch', 'create', 'update', 'watch'];

function verbsOf(t: ResourceType): string[] {
  return t.custom ? [...CUSTOM_VERBS] : builtinVerbs(t);
}

const typesIn = (types: TypeRegistry, group: string, version: string) => types.all().filter((t) => t.group === group && t.version === version);

function metricsResourceList(): Record<string, unknown> {
  const resources = METRICS_RESOURCES.map((m) => ({ name: m.plural, singularName: '', namespaced: m.namespaced, kind: m.kind, verbs: [...m.verbs] }));
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: `${METRICS_GROUP}/${METRICS_VERSION}`, resources };
}

function metricsDiscoveryVersion(): Record<string, unknown> {
  const resources = METRICS_RESOURCES.map((m) => ({
    resource: m.plural,
    responseKind: { group: METRICS_GROUP, version: METRICS_VERSION, kind: m.kind },
    scope: m.namespaced ? 'Namespaced' : 'Cluster',
    singularResource: '',
    verbs: [...m.verbs],
  }));
  return { version: METRICS_VERSION, resources, freshness: 'Current' };
}

/** Served groups and their versions, the metrics API last when it is served. */
function servedGroups(types: TypeRegistry, metricsApi: boolean): { name: string; versions: string[] }[] {
  return metricsApi ? [...types.groups(), { name: METRICS_GROUP, versions: [METRICS_VERSION] }] : types.groups();
}

function apiResourceList(types: TypeRegistry, group: string, version: string): Record<string, unknown> {
  const resources: Record<string, unknown>[] = [];
  for (const t of typesIn(types, group, version)) {
    resources.push({
      name: t.plural,
      singularName: t.singular,
      namespaced: t.namespaced,
      kind: t.kind,
      verbs: verbsOf(t),
      ...(t.shortNames ? { shortNames: t.shortNames } : {}),
      ...(t.categories ? { categories: t.categories } : {}),
    });
    for (const sub of t.subresources ?? []) {
      const info = subresourceInfo(t, sub);
      resources.push({
        name: `${t.plural}/${sub}`,
        singularName: '',
        namespaced: t.namespaced,
        ...(info.group !== undefined ? { group: info.group, version: info.version } : {}),
        kind: info.kind,
        verbs: info.verbs,
      });
    }
  }
  const groupVersion = group ? `${group}/${version}` : version;
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion, resources };
}

function apiGroup(name: string, versions: string[]): Record<string, unknown> {
  const vs = versions.map((v) => ({ groupVersion: `${name}/${v}`, version: v }));
  return { name, versions: vs, preferredVersion: vs[0] };
}

function discoveryVersion(types: TypeRegistry, group: string, version: string): Record<string, unknown> {
  const resources = typesIn(types, group, version).map((t) => ({
    resource: t.plural,
    responseKind: { group: t.group, version: t.version, kind: t.kind },
    scope: t.namespaced ? 'Namespaced' : 'Cluster',
    singularResource: t.singular,
    verbs: verbsOf(t),
    ...(t.shortNames ? { shortNames: t.shortNames } : {}),
    ...(t.categories ? { categories: t.categories } : {}),
    ...(t.subresources?.length
      ? {
          subresources: t.subresources.map((sub) => {
            const info = subresourceInfo(t, sub);
            return { subresource: sub, responseKind: { group: info.group ?? t.group, version: info.version ?? t.version, kind: info.kind }, verbs: info.verbs };
          }),
        }
      : {}),
  }));
  return { version, resources, freshness: 'Current' };
}

function aggregated(types: TypeRegistry, apiVersion: string, legacy: boolean, metricsApi: boolean): Record<string, unknown> {
  const version = (g: string, v: string) => (g === METRICS_GROUP ? metricsDiscoveryVersion() : discoveryVersion(types, g, v));
  const items = legacy
    ? [{ metadata: { creationTimestamp: null }, versions: [discoveryVersion(types, '', 'v1')] }]
    : servedGroups(types, metricsApi).map((g) => ({ metadata: { name: g.name, creationTimestamp: null }, versions: g.versions.map((v) => version(g.name, v)) }));
  return { kind: 'APIGroupDiscoveryList', apiVersion, metadata: {}, items };
}

/** Which discovery form the Accept header asks for: aggregated (v2 / v2beta1) or the legacy documents. */
function discoveryFormat(accept: string | undefined): { aggregated?: 'v2' | 'v2beta1' } {
  for (const r of parseAccept(accept)) {
    if (!['application/json', 'application/*', '*/*'].includes(r.type)) continue;
    if (!r.params.as) return {};
    if (r.params.as === 'APIGroupDiscoveryList' && r.params.g === 'apidiscovery.k8s.io' && (r.params.v === 'v2' || r.params.v === 'v2beta1')) {
      return { aggregated: r.params.v };
    }
  }
  throw new ApiError(406, 'NotAcceptable', 'only the following media types are accepted: application/json, application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList');
}

/** Answers a discovery path, or undefined when the path is not a discovery document. */
export function discovery(path: string, accept: string | undefined, address: string, types: TypeRegistry, metricsApi = false): Outcome | undefined {
  const p = path.replace(/\/+$/, '') || '/';
  if (p === '/version') return { code: 200, body: VERSION_INFO };
  if (p === '/') {
    const paths = ['/api', '/api/v1', '/apis', ...servedGroups(types, metricsApi).flatMap((g) => [`/apis/${g.name}`, ...g.versions.map((v) => `/apis/${g.name}/${v}`)]), '/healthz', '/livez', '/metrics', '/openapi/v2', '/openapi/v3', '/openapi/v3/', '/readyz', '/version'];
    return { code: 200, body: { paths } };
  }
  if (p === '/api' || p === '/apis') {
    const format = discoveryFormat(accept);
    const vary = { Vary: 'Accept' };
    if (format.aggregated) {
      const v = format.aggregated;
      return {
        code: 200,
        body: aggregated(types, `apidiscovery.k8s.io/${v}`, p === '/api', metricsApi),
        contentType: `application/json;g=apidiscovery.k8s.io;v=${v};as=APIGroupDiscoveryList`,
        headers: vary,
      };
    }
    if (p === '/api') {
      const body = { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: address }] };
      return { code: 200, body, headers: vary };
    }
    return { code: 200, body: { kind: 'APIGroupList', apiVersion: 'v1', groups: servedGroups(types, metricsApi).map((g) => apiGroup(g.name, g.versions)) }, headers: vary };
  }
  if (p === '/api/v1') return { code: 200, body: apiResourceList(types, '', 'v1') };
  const m = p.match(/^\/apis\/([^/]+)(?:\/([^/]+))?$/);
  if (!m) return undefined;
  const g = servedGroups(types, metricsApi).find((x) => x.name === m[1]);
  if (!g) return undefined;
  if (!m[2]) return { code: 200, body: { kind: 'APIGroup', apiVersion: 'v1', ...apiGroup(g.name, g.versions) } };
  if (!g.versions.includes(m[2])) return undefined;
  return { code: 200, body: g.name === METRICS_GROUP ? metricsResourceList() : apiResourceList(types, g.name, m[2]) };
}

export const groupVersions = (types: TypeRegistry): { group: string; version: string }[] => [
  { group: '', version: 'v1' },
  ...types.groups().flatMap((g) => g.versions.map((version) => ({ group: g.name, version }))),
];
