// The HPA replica calculator, after podautoscaler/replica_calculator.go in
// Kubernetes 1.32: a replica count for one metric of an HPA from the pods'
// usage as the resource metrics API would report it.
import { parseQuantity } from '../../common/index.ts';
import type { UsageBook } from '../usage.ts';
import type { K8sObject } from '../types.ts';
import { podCondition } from './podutil.ts';

export const TOLERANCE = 0.1;
const CPU_INITIALIZATION_PERIOD_MS = 5 * 60_000;
const DELAY_OF_INITIAL_READINESS_MS = 30_000;
/** metrics-server's scrape window: a pod ready for less than this may report pre-ready CPU. */
const METRIC_WINDOW_MS = 15_000;

export class MetricError extends Error {}

export interface ReplicaResult {
  replicas: number;
  /** Average utilization in percent of request (utilization targets only). */
  utilization?: number;
  /** Average usage per pod in milli-units. */
  rawAverage: number;
}

type Metrics = Map<string, number>;

/** Per-pod usage in milli-units (millicores, milli-bytes) as the resource metrics API reports it. */
function podMetrics(usage: UsageBook, ns: string, pods: K8sObject[], resource: string, container?: string): Metrics {
  const out: Metrics = new Map();
  for (const pod of pods) {
    const u = usage.pod(ns, pod.metadata.name!);
    if (!u || !u.containers.size) continue;
    let total = 0;
    let found = false;
    for (const [name, c] of u.containers) {
      if (container && name !== container) continue;
      found = true;
      total += resource === 'cpu' ? c.cpuCores : resource === 'memory' ? c.memoryBytes : 0;
    }
    if (found) out.set(pod.metadata.name!, Math.round(total * 1000));
  }
  if (!out.size) throw new MetricError(`unable to get metrics for resource ${resource}: no metrics returned from resource metrics API`);
  return out;
}

/** groupPods: which pods' metrics can be trusted right now. */
function groupPods(pods: K8sObject[], metrics: Metrics, resource: string, now: number) {
  let readyCount = 0;
  const unready = new Set<string>();
  const missing = new Set<string>();
  const ignored = new Set<string>();
  for (const pod of pods) {
    const name = pod.metadata.name!;
    if (pod.metadata.deletionTimestamp || pod.status?.phase === 'Failed') {
      ignored.add(name);
      continue;
    }
    if (pod.status?.phase === 'Pending') {
      unready.add(name);
      continue;
    }
    if (!metrics.has(name)) {
      missing.add(name);
      continue;
    }
    if (resource === 'cpu') {
      const ready = podCondition(pod, 'Ready');
      const start = Date.parse(pod.status?.startTime ?? '');
      let isUnready: boolean;
      if (!ready || !Number.isFinite(start)) {
        isUnready = true;
      } else {
        const transition = Date.parse(ready.lastTransitionTime ?? '') || start;
        if (start + CPU_INITIALIZATION_PERIOD_MS > now) {
          isUnready = ready.status === 'False' || now < transition + METRIC_WINDOW_MS;
        } else {
          isUnready = ready.status === 'False' && start + DELAY_OF_INITIAL_READINESS_MS > transition;
        }
      }
      if (isUnready) {
        unready.add(name);
        continue;
      }
    }
    readyCount++;
  }
  return { readyCount, unready, missing, ignored };
}

/** Sum of container requests per pod, in milli-units; every container must request the resource. */
function podRequests(pods: K8sObject[], resource: string, container?: string): Metrics {
  const out: Metrics = new Map();
  for (const pod of pods) {
    let total = 0;
    for (const c of pod.spec?.containers ?? []) {
      if (container && c.name !== container) continue;
      const q = c.resources?.requests?.[resource];
      if (q === undefined) throw new MetricError(`missing request for ${resource} in container ${c.name} of Pod ${pod.metadata.name}`);
      total += Math.round(parseQuantity(q) * 1000);
    }
    out.set(pod.metadata.name!, total);
  }
  return out;
}

function utilizationRatio(metrics: Metrics, requests: Metrics, target: number) {
  let used = 0;
  let requested = 0;
  let entries = 0;
  for (const [pod, m] of metrics) {
    const r = requests.get(pod);
    if (r === undefined) continue;
    used += m;
    requested += r;
    entries++;
  }
  if (requested === 0) throw new MetricError('no metrics returned matched known pods');
  const utilization = Math.trunc((used * 100) / requested);
  return { ratio: utilization / target, utilization, rawAverage: Math.trunc(used / entries) };
}

/** The shared tail of GetResourceReplicas / calcPlainMetricReplicas. */
function settle(
  current: number, ratio: number, readyCount: number, metrics: Metrics, unready: Set<string>, missing: Set<string>,
  fillScaleDown: (pod: string) => number, rerate: (m: Metrics) => number,
): number {
  const scaleUpWithUnready = unready.size > 0 && ratio > 1;
  if (!scaleUpWithUnready && !missing.size) {
    if (Math.abs(1 - ratio) <= TOLERANCE) return current;
    return Math.ceil(ratio * readyCount);
  }
  for (const pod of missing) {
    if (ratio < 1) metrics.set(pod, fillScaleDown(pod));
    else if (ratio > 1) metrics.set(pod, 0);
  }
  if (scaleUpWithUnready) for (const pod of unready) metrics.set(pod, 0);
  const next = rerate(metrics);
  if (Math.abs(1 - next) <= TOLERANCE || (ratio < 1 && next > 1) || (ratio > 1 && next < 1)) return current;
  const replicas = Math.ceil(next * metrics.size);
  if ((next < 1 && replicas > current) || (next > 1 && replicas < current)) return current;
  return replicas;
}

export interface ResourceQuery {
  usage: UsageBook;
  namespace: string;
  pods: K8sObject[];
  resource: string;
  container?: string;
  current: number;
  now: number;
}

function prepare(q: ResourceQuery) {
  const metrics = podMetrics(q.usage, q.namespace, q.pods, q.resource, q.container);
  if (!q.pods.length) throw new MetricError('no pods returned by selector while calculating replica count');
  const groups = groupPods(q.pods, metrics, q.resource, q.now);
  for (const p of [...groups.ignored, ...groups.unready]) metrics.delete(p);
  if (!metrics.size) throw new MetricError('did not receive metrics for targeted pods (pods might be unready)');
  return { metrics, ...groups };
}

/** Replicas for a target average utilization (percent of request). */
export function resourceReplicas(q: ResourceQuery, targetUtilization: number): ReplicaResult {
  const { metrics, readyCount, unready, missing } = prepare(q);
  const requests = podRequests(q.pods, q.resource, q.container);
  const first = utilizationRatio(metrics, requests, targetUtilization);
  const replicas = settle(q.current, first.ratio, readyCount, metrics, unready, missing,
    (pod) => requests.get(pod) ?? 0, (m) => utilizationRatio(m, requests, targetUtilization).ratio);
  return { replicas, utilization: first.utilization, rawAverage: first.rawAverage };
}

/** Replicas for a target average value per pod (milli-units). */
export function rawResourceReplicas(q: ResourceQuery, targetMilli: number): ReplicaResult {
  const { metrics, readyCount, unready, missing } = prepare(q);
  const average = (m: Metrics) => [...m.values()].reduce((a, b) => a + b, 0) / m.size;
  const usage = Math.trunc(average(metrics));
  const replicas = settle(q.current, average(metrics) / targetMilli, readyCount, metrics, unready, missing,
    () => targetMilli, (m) => average(m) / targetMilli);
  return { replicas, rawAverage: usage };
}

/** A milli-unit value as resource.NewMilliQuantity(v, DecimalSI) prints it: "250m", "1", "64M". */
export function formatMilli(milli: number): string {
  if (milli % 1000 !== 0) return `${milli}m`;
  let n = milli / 1000;
  if (n === 0) return '0';
  for (const suffix of ['', 'k', 'M', 'G', 'T', 'P']) {
    if (n % 1000 !== 0 || suffix === 'P') return `${n}${suffix}`;
    n /= 1000;
  }
  return String(n);
}

export type MetricResult =
  | { replicas: number; name: string; status: any }
  | { reason: string; error: string; status?: undefined };

/** computeReplicasForMetric: one entry of spec.metrics as a replica count and its status, or why it failed. */
export function computeForMetric(usage: UsageBook, hpa: K8sObject, spec: any, pods: K8sObject[], current: number, now: number): MetricResult {
  const ns = hpa.metadata.namespace!;
  const container = spec.type === 'ContainerResource';
  const src = container ? spec.containerResource : spec.type === 'Resource' ? spec.resource : undefined;
  if (!src) {
    const fail: Record<string, [string, string]> = {
      Pods: ['FailedGetPodsMetric', `unable to get metric ${spec.pods?.metric?.name}: unable to fetch metrics from custom metrics API: no custom metrics API (custom.metrics.k8s.io) registered`],
      Object: ['FailedGetObjectMetric', `unable to get metric ${spec.object?.metric?.name}: ${spec.object?.describedObject?.kind}/${spec.object?.describedObject?.name}: unable to fetch metrics from custom metrics API: no custom metrics API (custom.metrics.k8s.io) registered`],
      External: ['FailedGetExternalMetric', `unable to get external metric ${ns}/${spec.external?.metric?.name}: unable to fetch metrics from external metrics API: no external metrics API (external.metrics.k8s.io) registered`],
    };
    const [reason, error] = fail[spec.type] ?? ['InvalidMetricSourceType', `unknown metric source type "${spec.type}"`];
    return { reason, error };
  }
  const resource: string = src.name;
  const reason = container ? 'FailedGetContainerResourceMetric' : 'FailedGetResourceMetric';
  const query: ResourceQuery = { usage, namespace: ns, pods, resource, container: container ? src.container : undefined, current, now };
  const wrap = (current: Record<string, unknown>) => (container
    ? { type: 'ContainerResource', containerResource: { name: resource, container: src.container, current } }
    : { type: 'Resource', resource: { name: resource, current } });
  const prefix = container ? `${resource} container resource` : `${resource} resource`;
  try {
    if (src.target?.averageValue !== undefined) {
      try {
        const r = rawResourceReplicas(query, Math.round(parseQuantity(src.target.averageValue) * 1000));
        return { replicas: r.replicas, name: prefix, status: wrap({ averageValue: formatMilli(r.rawAverage) }) };
      } catch (err) {
        throw new MetricError(`failed to get ${resource} usage: ${(err as Error).message}`);
      }
    }
    if (src.target?.averageUtilization == null) {
      throw new MetricError('invalid resource metric source: neither an average utilization target nor an average value (usage) target was set');
    }
    try {
      const r = resourceReplicas(query, src.target.averageUtilization);
      return {
        replicas: r.replicas,
        name: `${prefix} utilization (percentage of request)`,
        status: wrap({ averageUtilization: r.utilization, averageValue: formatMilli(r.rawAverage) }),
      };
    } catch (err) {
      throw new MetricError(`failed to get ${resource} utilization: ${(err as Error).message}`);
    }
  } catch (err) {
    if (!(err instanceof MetricError)) throw err;
    return { reason, error: err.message };
  }
}
