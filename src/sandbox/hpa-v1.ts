// autoscaling/v1 HorizontalPodAutoscalers are the stored autoscaling/v2
// objects shown another way, converted as pkg/apis/autoscaling/v1/conversion.go
// does: the first CPU utilization metric is targetCPUUtilizationPercentage;
// what v1 cannot hold (other metrics, current metrics, conditions, behavior)
// travels in the autoscaling.alpha.kubernetes.io/* annotations, in v1's own
// (v2beta1-shaped) metric form, and comes back from them on a v1 write.
import type { K8sObject } from './types.ts';

export const METRICS_ANNOTATION = 'autoscaling.alpha.kubernetes.io/metrics';
export const CURRENT_METRICS_ANNOTATION = 'autoscaling.alpha.kubernetes.io/current-metrics';
export const CONDITIONS_ANNOTATION = 'autoscaling.alpha.kubernetes.io/conditions';
export const BEHAVIOR_ANNOTATION = 'autoscaling.alpha.kubernetes.io/behavior';
const ROUND_TRIP = [METRICS_ANNOTATION, CURRENT_METRICS_ANNOTATION, CONDITIONS_ANNOTATION, BEHAVIOR_ANNOTATION];

/** autoscaling.DefaultCPUUtilization: what an HPA without metrics targets. */
export const DEFAULT_CPU_UTILIZATION = 80;

type Json = Record<string, any>;

/** Drops undefined members, so the JSON has only the fields Go would write. */
function clean<T extends Json>(o: T): T {
  for (const k of Object.keys(o)) if (o[k] === undefined) delete o[k];
  return o;
}

const isCpuUtilization = (m: Json) => m?.type === 'Resource' && m.resource?.name === 'cpu' && m.resource?.target?.averageUtilization != null;

function metricSpecToV1(m: Json): Json {
  const t = m.resource?.target ?? m.containerResource?.target ?? m.pods?.target ?? m.object?.target ?? m.external?.target ?? {};
  switch (m.type) {
    case 'Resource':
      return { type: m.type, resource: clean({ name: m.resource.name, targetAverageUtilization: t.averageUtilization, targetAverageValue: t.averageValue }) };
    case 'ContainerResource':
      return { type: m.type, containerResource: clean({ name: m.containerResource.name, targetAverageUtilization: t.averageUtilization, targetAverageValue: t.averageValue, container: m.containerResource.container }) };
    case 'Pods':
      return { type: m.type, pods: clean({ metricName: m.pods.metric?.name, targetAverageValue: t.averageValue ?? '0', selector: m.pods.metric?.selector }) };
    case 'Object':
      return { type: m.type, object: clean({ target: m.object.describedObject, metricName: m.object.metric?.name, targetValue: t.value ?? '0', selector: m.object.metric?.selector, averageValue: t.averageValue }) };
    case 'External':
      return { type: m.type, external: clean({ metricName: m.external.metric?.name, metricSelector: m.external.metric?.selector, targetValue: t.value, targetAverageValue: t.averageValue }) };
    default:
      return { type: m.type };
  }
}

function metricSpecFromV1(m: Json): Json {
  switch (m.type) {
    case 'Resource': {
      const r = m.resource ?? {};
      return { type: m.type, resource: { name: r.name, target: resourceTarget(r.targetAverageUtilization, r.targetAverageValue) } };
    }
    case 'ContainerResource': {
      const r = m.containerResource ?? {};
      return { type: m.type, containerResource: { name: r.name, container: r.container, target: resourceTarget(r.targetAverageUtilization, r.targetAverageValue) } };
    }
    case 'Pods':
      return { type: m.type, pods: { metric: clean({ name: m.pods?.metricName, selector: m.pods?.selector }), target: { type: 'AverageValue', averageValue: m.pods?.targetAverageValue } } };
    case 'Object': {
      const o = m.object ?? {};
      const target = o.averageValue == null ? { type: 'Value', value: o.targetValue } : clean({ type: 'AverageValue', value: o.targetValue, averageValue: o.averageValue });
      return { type: m.type, object: { describedObject: o.target, target, metric: clean({ name: o.metricName, selector: o.selector }) } };
    }
    case 'External': {
      const e = m.external ?? {};
      const target = clean({ type: e.targetValue == null ? 'AverageValue' : 'Value', value: e.targetValue, averageValue: e.targetAverageValue });
      return { type: m.type, external: { metric: clean({ name: e.metricName, selector: e.metricSelector }), target } };
    }
    default:
      return { type: m.type };
  }
}

const resourceTarget = (utilization: unknown, value: unknown) =>
  clean({ type: utilization == null ? 'AverageValue' : 'Utilization', averageUtilization: utilization as number | undefined, averageValue: value as string | undefined });

function metricStatusToV1(m: Json): Json {
  const c = m.resource?.current ?? m.containerResource?.current ?? m.pods?.current ?? m.object?.current ?? m.external?.current ?? {};
  switch (m.type) {
    case 'Resource':
      return { type: m.type, resource: clean({ name: m.resource.name, currentAverageUtilization: c.averageUtilization, currentAverageValue: c.averageValue ?? '0' }) };
    case 'ContainerResource':
      return { type: m.type, containerResource: clean({ name: m.containerResource.name, currentAverageUtilization: c.averageUtilization, currentAverageValue: c.averageValue ?? '0', container: m.containerResource.container }) };
    case 'Pods':
      return { type: m.type, pods: clean({ metricName: m.pods.metric?.name, currentAverageValue: c.averageValue ?? '0', selector: m.pods.metric?.selector }) };
    case 'Object':
      return { type: m.type, object: clean({ target: m.object.describedObject, metricName: m.object.metric?.name, currentValue: c.value ?? '0', selector: m.object.metric?.selector, averageValue: c.averageValue }) };
    case 'External':
      return { type: m.type, external: clean({ metricName: m.external.metric?.name, metricSelector: m.external.metric?.selector, currentValue: c.value ?? '0', currentAverageValue: c.averageValue }) };
    default:
      return { type: m.type };
  }
}

function metricStatusFromV1(m: Json): Json {
  switch (m.type) {
    case 'Resource':
      return { type: m.type, resource: { name: m.resource?.name, current: clean({ averageValue: m.resource?.currentAverageValue, averageUtilization: m.resource?.currentAverageUtilization }) } };
    case 'ContainerResource':
      return { type: m.type, containerResource: { name: m.containerResource?.name, container: m.containerResource?.container, current: clean({ averageValue: m.containerResource?.currentAverageValue, averageUtilization: m.containerResource?.currentAverageUtilization }) } };
    case 'Pods':
      return { type: m.type, pods: { metric: clean({ name: m.pods?.metricName, selector: m.pods?.selector }), current: { averageValue: m.pods?.currentAverageValue } } };
    case 'Object':
      return { type: m.type, object: { metric: clean({ name: m.object?.metricName, selector: m.object?.selector }), current: clean({ value: m.object?.currentValue, averageValue: m.object?.averageValue }), describedObject: m.object?.target } };
    case 'External':
      return { type: m.type, external: { metric: clean({ name: m.external?.metricName, selector: m.external?.metricSelector }), current: clean({ value: m.external?.currentValue, averageValue: m.external?.currentAverageValue }) } };
    default:
      return { type: m.type };
  }
}

// The behavior annotation is the internal Go type marshalled without JSON
// tags (a known wart of the real conversion): field names are capitalised.
const RULE_FIELDS = ['StabilizationWindowSeconds', 'SelectPolicy', 'Policies'] as const;

function behaviorToAnnotation(b: Json): string {
  const rules = (r: Json | undefined) =>
    r == null
      ? null
      : {
          StabilizationWindowSeconds: r.stabilizationWindowSeconds ?? null,
          SelectPolicy: r.selectPolicy ?? null,
          Policies: r.policies ? r.policies.map((p: Json) => ({ Type: p.type, Value: p.value, PeriodSeconds: p.periodSeconds })) : null,
        };
  return JSON.stringify({ ScaleUp: rules(b.scaleUp), ScaleDown: rules(b.scaleDown) });
}

/** Go's encoding/json matches keys case-insensitively, so the annotation may use either spelling. */
function pick(o: Json | null | undefined, key: string): any {
  if (!o || typeof o !== 'object') return undefined;
  const k = Object.keys(o).find((x) => x.toLowerCase() === key.toLowerCase());
  return k === undefined ? undefined : o[k];
}

function behaviorFromAnnotation(text: string): Json {
  const raw = JSON.parse(text);
  const rules = (r: Json | undefined) => {
    if (r == null) return undefined;
    const out: Json = {};
    const [win, sel, pol] = RULE_FIELDS.map((f) => pick(r, f));
    if (win != null) out.stabilizationWindowSeconds = win;
    if (sel != null) out.selectPolicy = sel;
    if (Array.isArray(pol)) out.policies = pol.map((p: Json) => ({ type: pick(p, 'Type'), value: pick(p, 'Value'), periodSeconds: pick(p, 'PeriodSeconds') }));
    return out;
  };
  return clean({ scaleUp: rules(pick(raw, 'ScaleUp')), scaleDown: rules(pick(raw, 'ScaleDown')) });
}

const sortKeys = (m: Record<string, string>) => Object.fromEntries(Object.entries(m).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));

/** The stored (autoscaling/v2) object as autoscaling/v1 shows it. */
export function hpaToV1(obj: K8sObject): K8sObject {
  const spec: Json = obj.spec ?? {};
  const status: Json = obj.status ?? {};
  const metadata = structuredClone(obj.metadata);
  const metrics: Json[] = spec.metrics ?? [];
  const annotations: Record<string, string> = {};
  const others = metrics.filter((m) => !isCpuUtilization(m)).map(metricSpecToV1);
  if (others.length) annotations[METRICS_ANNOTATION] = JSON.stringify(others);
  if (status.currentMetrics?.length) annotations[CURRENT_METRICS_ANNOTATION] = JSON.stringify(status.currentMetrics.map(metricStatusToV1));
  if (status.conditions?.length) {
    annotations[CONDITIONS_ANNOTATION] = JSON.stringify(status.conditions.map((c: Json) => clean({ type: c.type, status: c.status, lastTransitionTime: c.lastTransitionTime ?? null, reason: c.reason, message: c.message })));
  }
  if (spec.behavior) annotations[BEHAVIOR_ANNOTATION] = behaviorToAnnotation(spec.behavior);
  if (Object.keys(annotations).length) metadata.annotations = sortKeys({ ...(metadata.annotations ?? {}), ...annotations });

  const cpu = metrics.find((m) => m?.type === 'Resource' && m.resource?.name === 'cpu');
  let currentCpu: number | undefined;
  for (const m of status.currentMetrics ?? []) {
    if (m?.type === 'Resource' && m.resource?.name === 'cpu' && m.resource.current?.averageUtilization != null) currentCpu = m.resource.current.averageUtilization;
  }
  const { apiVersion: _a, kind: _k, metadata: _m, spec: _s, status: _st, ...rest } = obj;
  return {
    apiVersion: 'autoscaling/v1',
    kind: 'HorizontalPodAutoscaler',
    metadata,
    spec: clean({
      scaleTargetRef: spec.scaleTargetRef,
      minReplicas: spec.minReplicas,
      maxReplicas: spec.maxReplicas,
      targetCPUUtilizationPercentage: cpu?.resource?.target?.averageUtilization ?? undefined,
    }),
    status: clean({
      observedGeneration: status.observedGeneration,
      lastScaleTime: status.lastScaleTime,
      currentReplicas: status.currentReplicas ?? 0,
      desiredReplicas: status.desiredReplicas ?? 0,
      currentCPUUtilizationPercentage: currentCpu,
    }),
    ...rest,
  };
}

/** An autoscaling/v1 body as the stored autoscaling/v2 object; the round-trip annotations are folded back in. */
export function hpaFromV1(obj: K8sObject): K8sObject {
  const spec: Json = obj.spec ?? {};
  const status: Json = obj.status ?? {};
  const metadata = structuredClone(obj.metadata ?? {});
  const ann: Record<string, string> = metadata.annotations ?? {};
  const parse = (key: string): any => {
    try {
      return ann[key] !== undefined ? JSON.parse(ann[key]) : undefined;
    } catch {
      return undefined;
    }
  };
  let metrics: Json[] = [];
  if (spec.targetCPUUtilizationPercentage != null) {
    metrics = [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: spec.targetCPUUtilizationPercentage } } }];
  }
  const others = parse(METRICS_ANNOTATION);
  if (Array.isArray(others)) metrics = [...others.map(metricSpecFromV1), ...metrics];
  // v1 once defaulted this in the controller; v2 makes it explicit.
  if (!metrics.length) metrics = [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: DEFAULT_CPU_UTILIZATION } } }];
  let behavior: Json | undefined;
  if (ann[BEHAVIOR_ANNOTATION] !== undefined) {
    try {
      behavior = behaviorFromAnnotation(ann[BEHAVIOR_ANNOTATION]);
    } catch {
      behavior = undefined;
    }
  }

  let currentMetrics: Json[] | undefined;
  const current = parse(CURRENT_METRICS_ANNOTATION);
  if (Array.isArray(current)) currentMetrics = current.map(metricStatusFromV1);
  else if (status.currentCPUUtilizationPercentage != null) {
    currentMetrics = [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: status.currentCPUUtilizationPercentage } } }];
  }
  const conditions = parse(CONDITIONS_ANNOTATION);

  for (const k of ROUND_TRIP) delete ann[k];
  if (metadata.annotations && !Object.keys(ann).length) delete metadata.annotations;

  const { apiVersion: _a, kind: _k, metadata: _m, spec: _s, status: _st, ...rest } = obj;
  return {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata,
    spec: clean({ scaleTargetRef: spec.scaleTargetRef, minReplicas: spec.minReplicas, maxReplicas: spec.maxReplicas, metrics, behavior }),
    status: clean({
      observedGeneration: status.observedGeneration,
      lastScaleTime: status.lastScaleTime,
      currentReplicas: status.currentReplicas,
      desiredReplicas: status.desiredReplicas ?? 0,
      currentMetrics,
      conditions: Array.isArray(conditions) ? conditions : undefined,
    }),
    ...rest,
  };
}

/** A manifest as the store keeps it: autoscaling/v1 HPAs become v2, anything else is left alone. */
export function storedForm(o: K8sObject): K8sObject {
  return o.apiVersion === 'autoscaling/v1' && o.kind === 'HorizontalPodAutoscaler' ? hpaFromV1(o) : o;
}
