// The resource metrics API, metrics.k8s.io/v1beta1, as metrics-server serves
// it behind the aggregator: get and list of PodMetrics (namespaced, and
// cluster-wide /pods) and NodeMetrics, label and metadata field selectors,
// Tables for `kubectl get`, no watch. Values come from metrics-view.ts.
import { listNodeMetrics, listPodMetrics, nodeMetricsOf, podMetricsOf, sumUsage, type NodeMetrics, type PodMetrics } from '../metrics-view.ts';
import { parseFieldSelector } from '../field-selectors.ts';
import { parseLabelSelector } from '../selectors.ts';
import { ApiError, type StatusDetails } from '../status.ts';
import type { K8sObject } from '../types.ts';
import type { UsageBook } from '../usage.ts';
import type { Call, Outcome, ServerContext } from './context.ts';
import type { RequestLogEntry } from './metrics.ts';
import { boolParam, chooseRendering, includeObjectParam } from './negotiate.ts';
import { notFoundPath } from './paths.ts';
import { methodNotAllowed } from './subresources.ts';

export const METRICS_GROUP = 'metrics.k8s.io';
export const METRICS_VERSION = 'v1beta1';
const API_VERSION = `${METRICS_GROUP}/${METRICS_VERSION}`;
const PREFIX = `/apis/${API_VERSION}/`;

/** What discovery advertises: only get and list, and no singular name, as metrics-server registers them. */
export const METRICS_RESOURCES = [
  { plural: 'nodes', kind: 'NodeMetrics', namespaced: false, verbs: ['get', 'list'] },
  { plural: 'pods', kind: 'PodMetrics', namespaced: true, verbs: ['get', 'list'] },
] as const;

export const isResourceMetricsPath = (path: string) => path.startsWith(PREFIX);

interface MetricsRequest {
  plural: 'pods' | 'nodes';
  namespace?: string;
  name?: string;
}

/** The routes metrics-server's API group installs; anything else under the prefix is 404. */
function parse(path: string): MetricsRequest {
  const segs = path.slice(PREFIX.length).split('/').filter(Boolean).map(decodeURIComponent);
  if (segs[0] === 'namespaces' && segs[2] === 'pods' && segs.length >= 3 && segs.length <= 4) return { plural: 'pods', namespace: segs[1], name: segs[3] };
  if (segs[0] === 'pods' && segs.length === 1) return { plural: 'pods' };
  if (segs[0] === 'nodes' && segs.length <= 2) return { plural: 'nodes', name: segs[1] };
  throw notFoundPath();
}

/** The error Kubernetes' errors.NewNotFound builds (an empty group is left out of the details). */
function notFound(group: string, resource: string, name: string): ApiError {
  const details: StatusDetails = { name, kind: resource };
  if (group) details.group = group;
  return new ApiError(404, 'NotFound', `${group ? `${resource}.${group}` : resource} "${name}" not found`, details);
}

export function handleResourceMetrics(ctx: ServerContext, usage: UsageBook, call: Call, entry: RequestLogEntry): Outcome {
  const r = parse(call.path);
  entry.resource = `${METRICS_GROUP}/${r.plural}`;
  if (r.namespace !== undefined) entry.namespace = r.namespace;
  if (r.name !== undefined) entry.name = r.name;
  if (call.method !== 'GET') throw methodNotAllowed();
  if (boolParam(call.query, 'watch')) {
    entry.verb = 'watch';
    throw new ApiError(405, 'MethodNotAllowed', `watch is not supported on resources of kind "${r.plural}.${METRICS_GROUP}"`, { group: METRICS_GROUP, kind: r.plural });
  }
  entry.verb = r.name === undefined ? 'list' : 'get';
  const fault = ctx.faults?.take(entry.verb, entry.resource, r.namespace, r.name);
  if (fault) throw fault;
  const now = ctx.clock.now();
  const rendering = chooseRendering(call.headers.accept, r.name === undefined);
  const kind = r.plural === 'pods' ? 'PodMetrics' : 'NodeMetrics';
  if (r.name !== undefined) {
    const item = r.plural === 'pods' ? getPod(ctx, usage, r.namespace!, r.name, now) : getNode(ctx, usage, r.name, now);
    if (rendering === 'table') return { code: 200, body: toTable(r.plural, [item], includeObjectParam(call.query)) };
    if (rendering === 'metadata') return { code: 200, body: { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: item.metadata } };
    return { code: 200, body: { kind, apiVersion: API_VERSION, ...item } };
  }
  // metrics-server filters the pods (or nodes) it knows, then looks up their metrics.
  const labels = parseLabelSelector(call.query.get('labelSelector') ?? '');
  const fields = parseFieldSelector(call.query.get('fieldSelector') ?? '', kind, METRICS_GROUP);
  const keep = (o: K8sObject) => labels(o.metadata.labels) && fields(o);
  const items: (PodMetrics | NodeMetrics)[] = r.plural === 'pods'
    ? listPodMetrics(ctx.store, usage, r.namespace, keep, now)
    : listNodeMetrics(ctx.store, usage, keep, now);
  if (rendering === 'table') return { code: 200, body: toTable(r.plural, items, includeObjectParam(call.query)) };
  if (rendering === 'metadata') {
    return { code: 200, body: { kind: 'PartialObjectMetadataList', apiVersion: 'meta.k8s.io/v1', metadata: {}, items: items.map((i) => ({ kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: i.metadata })) } };
  }
  // Items carry no kind or apiVersion, and the list no resourceVersion: metrics are not stored objects.
  return { code: 200, body: { kind: `${kind}List`, apiVersion: API_VERSION, metadata: {}, items } };
}

function getPod(ctx: ServerContext, usage: UsageBook, ns: string, name: string, now: number): PodMetrics {
  const pod = ctx.store.get('pods', ns, name);
  // metrics-server answers from its pod informer first, then from its samples.
  if (!pod) throw notFound('', 'pods', name);
  const m = podMetricsOf(usage, pod, now);
  if (!m) throw notFound(METRICS_GROUP, 'podmetrics', `${ns}/${name}`);
  return m;
}

function getNode(ctx: ServerContext, usage: UsageBook, name: string, now: number): NodeMetrics {
  const node = ctx.store.get('nodes', undefined, name);
  // The typed node lister names the resource in the singular.
  if (!node) throw notFound('', 'node', name);
  const m = nodeMetricsOf(usage, node, now);
  if (!m) throw notFound(METRICS_GROUP, 'nodemetrics', name);
  return m;
}

/** metrics-server's Table: the name, the usage summed over containers, the window. */
function toTable(plural: 'pods' | 'nodes', items: (PodMetrics | NodeMetrics)[], includeObject: 'None' | 'Metadata' | 'Object'): Record<string, unknown> {
  const kind = plural === 'pods' ? 'PodMetrics' : 'NodeMetrics';
  const columnDefinitions = items.length === 0 ? [] : [
    { name: 'Name', type: 'string', format: 'name', description: 'Name of the resource', priority: 0 },
    { name: 'cpu', type: 'string', format: 'quantity', description: '', priority: 0 },
    { name: 'memory', type: 'string', format: 'quantity', description: '', priority: 0 },
    { name: 'Window', type: 'string', format: 'duration', description: '', priority: 0 },
  ];
  const rows = items.map((i) => {
    const u = 'usage' in i ? i.usage : sumUsage(i.containers.map((c) => c.usage));
    const row: Record<string, unknown> = { cells: [i.metadata.name, u.cpu, u.memory, i.window] };
    if (includeObject === 'Object') row.object = { kind, apiVersion: API_VERSION, ...i };
    else if (includeObject === 'Metadata') row.object = { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: i.metadata };
    return row;
  });
  return { kind: 'Table', apiVersion: 'meta.k8s.io/v1', metadata: {}, columnDefinitions, rows };
}
