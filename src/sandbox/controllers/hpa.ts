// The HorizontalPodAutoscaler controller (autoscaling/v2), after
// podautoscaler/horizontal.go and replica_calculator.go in Kubernetes 1.32.
// Every resync it reads the target's scale, computes a replica count per
// metric from the pods' usage (ctx.usage, what metrics-server would report),
// takes the largest, then stabilises and rate-limits it: without
// spec.behavior the legacy rules apply (5-minute scale-down window, scale-up
// at most max(2x, 4) per sync); with spec.behavior its windows and policies do.
// Only Resource and ContainerResource metrics have a source here; Pods,
// Object and External metrics fail as on a cluster without a custom or
// external metrics adapter.
import { k8sTime } from '../../common/clock.ts';
import { parseQuantity } from '../../common/quantity.ts';
import { matchesSelector } from '../selectors.ts';
import type { UsageBook } from '../usage.ts';
import type { K8sObject, StoreEvent } from '../types.ts';
import type { Controller, ControllerContext } from './controller.ts';
import { WorkQueue, objectKey, splitKey } from './workqueue.ts';
import { podCondition, setCondition } from './podutil.ts';

// ---- replica calculator ----

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

// ---- controller ----

const HPA = 'autoscaling/horizontalpodautoscalers';
const SOURCE = { component: 'horizontal-pod-autoscaler' };
const DOWNSCALE_STABILISATION_MS = 5 * 60_000;
const SCALE_TARGETS: Record<string, { storage: string; resource: string }> = {
  'apps/Deployment': { storage: 'apps/deployments', resource: 'deployments.apps' },
  'apps/ReplicaSet': { storage: 'apps/replicasets', resource: 'replicasets.apps' },
  'apps/StatefulSet': { storage: 'apps/statefulsets', resource: 'statefulsets.apps' },
};
/** The API server's default when spec.metrics is empty. */
const DEFAULT_METRICS = [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }];

interface Rules { stabilizationWindowSeconds: number; selectPolicy: string; policies: { type: string; value: number; periodSeconds: number }[] }
interface Sample { value: number; at: number }
type Conditions = { set(type: string, status: 'True' | 'False', reason: string, message: string): void };

/** GenerateHPAScaleUpRules / GenerateHPAScaleDownRules: unset fields take the defaults. */
function scalingRules(rules: Partial<Rules> | undefined, up: boolean): Rules {
  return {
    stabilizationWindowSeconds: rules?.stabilizationWindowSeconds ?? (up ? 0 : DOWNSCALE_STABILISATION_MS / 1000),
    selectPolicy: rules?.selectPolicy ?? 'Max',
    policies: rules?.policies ?? (up
      ? [{ type: 'Pods', value: 4, periodSeconds: 15 }, { type: 'Percent', value: 100, periodSeconds: 15 }]
      : [{ type: 'Percent', value: 100, periodSeconds: 15 }]),
  };
}

export class HpaController implements Controller {
  readonly name = 'horizontal-pod-autoscaler';
  private ctx!: ControllerContext;
  private queue?: WorkQueue;
  private unsubscribe?: () => void;
  private readonly recommendations = new Map<string, Sample[]>();
  private readonly scaleUpEvents = new Map<string, Sample[]>();
  private readonly scaleDownEvents = new Map<string, Sample[]>();

  start(ctx: ControllerContext): void {
    this.ctx = ctx;
    this.queue = new WorkQueue(ctx.clock, (k) => this.process(k));
    this.unsubscribe = ctx.store.subscribe((ev) => this.onEvent(ev));
    for (const h of ctx.store.list(HPA).items) this.queue.addAfter(objectKey(h.metadata), this.resyncMs());
  }

  stop(): void {
    this.unsubscribe?.();
    this.queue?.stop();
  }

  private resyncMs(): number {
    return this.ctx.config.resyncSeconds * 1000;
  }

  // Like the real controller's rate-limited queue: an HPA is processed once per
  // resync period; changes to it are picked up at the next one.
  private onEvent(ev: StoreEvent): void {
    if (ev.storage !== HPA) return;
    const key = objectKey(ev.object.metadata);
    if (ev.type === 'DELETED') this.forget(key);
    else this.queue!.addAfter(key, this.resyncMs());
  }

  private forget(key: string): void {
    this.recommendations.delete(key);
    this.scaleUpEvents.delete(key);
    this.scaleDownEvents.delete(key);
  }

  private process(key: string): void {
    const { namespace, name } = splitKey(key);
    const hpa = this.ctx.store.get(HPA, namespace, name);
    if (!hpa) {
      this.forget(key);
      return;
    }
    try {
      this.reconcile(key, hpa);
    } finally {
      this.queue!.addAfter(key, this.resyncMs());
    }
  }

  private reconcile(key: string, hpa: K8sObject): void {
    const now = this.ctx.clock.now();
    const nowIso = k8sTime(now);
    const ns = hpa.metadata.namespace!;
    let conditions: any[] = structuredClone(hpa.status?.conditions ?? []);
    const cond: Conditions = {
      set: (type, status, reason, message) => { conditions = setCondition(conditions, { type, status, reason, message }, nowIso); },
    };
    const writeStatus = (patch: Record<string, unknown>) => {
      this.ctx.store.mutate(HPA, ns, hpa.metadata.name!, (o) => {
        const next: any = { ...(o.status ?? {}), ...patch, conditions };
        for (const [k, v] of Object.entries(next)) if (v === undefined) delete next[k];
        o.status = next;
      }, { subresource: 'status' });
    };

    const ref = hpa.spec.scaleTargetRef ?? {};
    const group = String(ref.apiVersion ?? '').includes('/') ? String(ref.apiVersion).split('/')[0] : '';
    const target = SCALE_TARGETS[`${group}/${ref.kind}`];
    const scaleObj = target && this.ctx.store.get(target.storage, ns, ref.name);
    if (!scaleObj) {
      const err = target ? `${target.resource} "${ref.name}" not found` : `no matches for kind "${ref.kind}" in group "${group}"`;
      this.ctx.events.emit(hpa, 'Warning', 'FailedGetScale', err, SOURCE);
      cond.set('AbleToScale', 'False', 'FailedGetScale', `the HPA controller was unable to get the target's current scale: ${err}`);
      writeStatus({});
      return;
    }
    cond.set('AbleToScale', 'True', 'SucceededGetScale', "the HPA controller was able to get the target's current scale");
    const current: number = scaleObj.spec?.replicas ?? 1;
    const minReplicas: number = hpa.spec.minReplicas ?? 1;
    const maxReplicas: number = hpa.spec.maxReplicas;
    let desired = 0;
    let reason = '';
    let rescale = true;
    let statuses: any[] | undefined;

    if (current === 0 && minReplicas !== 0) {
      rescale = false;
      cond.set('ScalingActive', 'False', 'ScalingDisabled', 'scaling is disabled since the replica count of the target is zero');
    } else if (current > maxReplicas) {
      reason = 'Current number of replicas above Spec.MaxReplicas';
      desired = maxReplicas;
    } else if (current < minReplicas) {
      reason = 'Current number of replicas below Spec.MinReplicas';
      desired = minReplicas;
    } else {
      if (!scaleObj.spec?.selector) {
        this.ctx.events.emit(hpa, 'Warning', 'SelectorRequired', 'selector is required', SOURCE);
        writeStatus({});
        return;
      }
      const pods = this.ctx.store.list('pods', ns).items.filter((p) => matchesSelector(scaleObj.spec.selector, p.metadata.labels));
      const r = this.computeReplicasForMetrics(hpa, pods, current, now, cond);
      statuses = r.statuses;
      if (r.replicas === -1) {
        writeStatus({ currentReplicas: current, currentMetrics: statuses });
        this.ctx.events.emit(hpa, 'Warning', 'FailedComputeMetricsReplicas', r.error!, SOURCE);
        return;
      }
      desired = r.replicas;
      if (desired > current) reason = `${r.metric} above target`;
      if (desired < current) reason = 'All metrics below target';
      desired = hpa.spec.behavior
        ? this.normalizeWithBehaviors(key, hpa, current, desired, minReplicas, now, cond)
        : this.normalize(key, hpa, current, desired, minReplicas, now, cond);
      rescale = desired !== current;
    }

    if (rescale) {
      this.ctx.store.mutate(target.storage, ns, ref.name, (o) => { o.spec.replicas = desired; });
      cond.set('AbleToScale', 'True', 'SucceededRescale', `the HPA controller was able to update the target scale to ${desired}`);
      this.ctx.events.emit(hpa, 'Normal', 'SuccessfulRescale', `New size: ${desired}; reason: ${reason}`, SOURCE);
      if (hpa.spec.behavior) this.storeScaleEvent(key, hpa, current, desired, now);
    } else {
      desired = current;
    }
    writeStatus({
      currentReplicas: current,
      desiredReplicas: desired,
      currentMetrics: statuses,
      lastScaleTime: rescale ? nowIso : hpa.status?.lastScaleTime,
    });
  }

  private computeReplicasForMetrics(hpa: K8sObject, pods: K8sObject[], current: number, now: number, cond: Conditions) {
    const specs: any[] = hpa.spec.metrics?.length ? hpa.spec.metrics : DEFAULT_METRICS;
    const statuses: any[] = [];
    let replicas = 0;
    let metric = '';
    let invalid = 0;
    let first: { reason: string; error: string } | undefined;
    for (const spec of specs) {
      const r = this.computeForMetric(hpa, spec, pods, current, now);
      statuses.push(r.status ?? { type: '' });
      if ('error' in r) {
        this.ctx.events.emit(hpa, 'Warning', r.reason, r.error, SOURCE);
        first ??= r;
        invalid++;
        continue;
      }
      if (replicas === 0 || r.replicas > replicas) {
        replicas = r.replicas;
        metric = r.name;
      }
    }
    const error = first && `invalid metrics (${invalid} invalid out of ${specs.length}), first error is: ${first.error}`;
    if (first && (invalid >= specs.length || replicas < current)) {
      cond.set('ScalingActive', 'False', first.reason, `the HPA was unable to compute the replica count: ${first.error}`);
      return { replicas: -1, metric, statuses, error };
    }
    cond.set('ScalingActive', 'True', 'ValidMetricFound', `the HPA was able to successfully calculate a replica count from ${metric}`);
    return { replicas, metric, statuses, error };
  }

  private computeForMetric(hpa: K8sObject, spec: any, pods: K8sObject[], current: number, now: number):
    { replicas: number; name: string; status: any } | { reason: string; error: string; status?: undefined } {
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
    const query: ResourceQuery = { usage: this.ctx.usage, namespace: ns, pods, resource, container: container ? src.container : undefined, current, now };
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

  /** normalizeDesiredReplicas: the legacy rules for HPAs without spec.behavior. */
  private normalize(key: string, hpa: K8sObject, current: number, proposed: number, minReplicas: number, now: number, cond: Conditions): number {
    const samples = this.recommendations.get(key) ?? [];
    let stabilized = proposed;
    let oldIndex = -1;
    samples.forEach((s, i) => {
      if (s.at < now - DOWNSCALE_STABILISATION_MS) oldIndex = i;
      else if (s.value > stabilized) stabilized = s.value;
    });
    if (oldIndex >= 0) samples[oldIndex] = { value: proposed, at: now };
    else samples.push({ value: proposed, at: now });
    this.recommendations.set(key, samples);
    if (stabilized !== proposed) {
      cond.set('AbleToScale', 'True', 'ScaleDownStabilized', 'recent recommendations were higher than current one, applying the highest recent recommendation');
    } else {
      cond.set('AbleToScale', 'True', 'ReadyForNewScale', 'recommended size matches current size');
    }
    const scaleUpLimit = Math.max(2 * current, 4);
    let max: number = hpa.spec.maxReplicas;
    let limitReason = 'TooManyReplicas';
    let limitMessage = 'the desired replica count is more than the maximum replica count';
    if (max > scaleUpLimit) {
      max = scaleUpLimit;
      limitReason = 'ScaleUpLimit';
      limitMessage = 'the desired replica count is increasing faster than the maximum scale rate';
    }
    let desired = stabilized;
    let r = ['DesiredWithinRange', 'the desired count is within the acceptable range'];
    if (stabilized < minReplicas) {
      desired = minReplicas;
      r = ['TooFewReplicas', 'the desired replica count is less than the minimum replica count'];
    } else if (stabilized > max) {
      desired = max;
      r = [limitReason, limitMessage];
    }
    cond.set('ScalingLimited', desired === stabilized ? 'False' : 'True', r[0], r[1]);
    return desired;
  }

  /** normalizeDesiredReplicasWithBehaviors: stabilisation windows, then scaling policies. */
  private normalizeWithBehaviors(key: string, hpa: K8sObject, current: number, proposed: number, minReplicas: number, now: number, cond: Conditions): number {
    const up = scalingRules(hpa.spec.behavior.scaleUp, true);
    const down = scalingRules(hpa.spec.behavior.scaleDown, false);
    const samples = this.recommendations.get(key) ?? [];
    const upCutoff = now - up.stabilizationWindowSeconds * 1000;
    const downCutoff = now - down.stabilizationWindowSeconds * 1000;
    let upRec = proposed;
    let downRec = proposed;
    let oldIndex = -1;
    samples.forEach((s, i) => {
      if (s.at > upCutoff) upRec = Math.min(upRec, s.value);
      if (s.at > downCutoff) downRec = Math.max(downRec, s.value);
      if (s.at < upCutoff && s.at < downCutoff) oldIndex = i;
    });
    let stabilized = Math.max(Math.min(proposed, upRec), downRec);
    if (oldIndex >= 0) samples[oldIndex] = { value: proposed, at: now };
    else samples.push({ value: proposed, at: now });
    this.recommendations.set(key, samples);
    if (stabilized !== proposed) {
      if (proposed >= current) cond.set('AbleToScale', 'True', 'ScaleUpStabilized', 'recent recommendations were lower than current one, applying the lowest recent recommendation');
      else cond.set('AbleToScale', 'True', 'ScaleDownStabilized', 'recent recommendations were higher than current one, applying the highest recent recommendation');
    } else {
      cond.set('AbleToScale', 'True', 'ReadyForNewScale', 'recommended size matches current size');
    }

    let desired = stabilized;
    let r = ['DesiredWithinRange', 'the desired count is within the acceptable range'];
    const upEvents = this.scaleUpEvents.get(key) ?? [];
    const downEvents = this.scaleDownEvents.get(key) ?? [];
    if (stabilized > current) {
      const limit = Math.max(scaleLimit(up, current, upEvents, downEvents, now, true), current);
      const max = Math.min(hpa.spec.maxReplicas, limit);
      const why = hpa.spec.maxReplicas > limit
        ? ['ScaleUpLimit', 'the desired replica count is increasing faster than the maximum scale rate']
        : ['TooManyReplicas', 'the desired replica count is more than the maximum replica count'];
      if (stabilized > max) [desired, r] = [max, why];
    } else if (stabilized < current) {
      const limit = Math.min(scaleLimit(down, current, upEvents, downEvents, now, false), current);
      const min = Math.max(minReplicas, limit);
      const why = minReplicas < limit
        ? ['ScaleDownLimit', 'the desired replica count is decreasing faster than the maximum scale rate']
        : ['TooFewReplicas', 'the desired replica count is less than the minimum replica count'];
      if (stabilized < min) [desired, r] = [min, why];
    }
    cond.set('ScalingLimited', desired === stabilized ? 'False' : 'True', r[0], r[1]);
    stabilized = desired;
    return stabilized;
  }

  private storeScaleEvent(key: string, hpa: K8sObject, prev: number, next: number, now: number): void {
    const upward = next > prev;
    const rules = scalingRules(upward ? hpa.spec.behavior.scaleUp : hpa.spec.behavior.scaleDown, upward);
    const longest = Math.max(0, ...rules.policies.map((p) => p.periodSeconds)) * 1000;
    const map = upward ? this.scaleUpEvents : this.scaleDownEvents;
    const events = (map.get(key) ?? []).filter((e) => e.at > now - longest);
    events.push({ value: Math.abs(next - prev), at: now });
    map.set(key, events);
  }
}

/** calculateScaleUpLimitWithScalingRules / calculateScaleDownLimitWithBehaviors. */
function scaleLimit(rules: Rules, current: number, upEvents: Sample[], downEvents: Sample[], now: number, up: boolean): number {
  if (rules.selectPolicy === 'Disabled') return current;
  const pickMin = (rules.selectPolicy === 'Min') === up;
  let result = pickMin ? Infinity : -Infinity;
  const changed = (events: Sample[], period: number) =>
    events.filter((e) => e.at > now - period * 1000).reduce((n, e) => n + e.value, 0);
  for (const p of rules.policies) {
    const periodStart = current - changed(upEvents, p.periodSeconds) + changed(downEvents, p.periodSeconds);
    let proposed: number;
    if (up) proposed = p.type === 'Pods' ? periodStart + p.value : Math.ceil(periodStart * (1 + p.value / 100));
    else proposed = p.type === 'Pods' ? periodStart - p.value : Math.trunc(periodStart * (1 - p.value / 100));
    result = pickMin ? Math.min(result, proposed) : Math.max(result, proposed);
  }
  return result;
}
