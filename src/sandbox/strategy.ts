// Per-kind defaulting and validation, the part of the API server that makes a
// bare manifest look like what a real cluster stores (strategy defaults,
// LimitRanger admission) and rejects what a real one rejects.
import { RESOURCES } from './resources.ts';
import { ApiError, type StatusCause } from './status.ts';
import { matchesSelector } from './selectors.ts';
import type { K8sObject } from './types.ts';
import { DEFAULT_CPU_UTILIZATION } from './hpa-v1.ts';
import {
  defaultBinding, defaultCronJob, defaultPriorityClass, validateBinding, validateCronJob, validatePriorityClass, validateRole,
} from './strategy-apis.ts';

export interface Lookup {
  list(storage: string, ns?: string): { items: K8sObject[] };
}

const withStatus = new Set(RESOURCES.filter((t) => t.subresources?.includes('status')).map((t) => t.storage));

export function hasStatusSubresource(storage: string): boolean {
  return withStatus.has(storage);
}

export function defaultPodSpec(spec: any): void {
  if (!spec) return;
  spec.restartPolicy ??= 'Always';
  spec.terminationGracePeriodSeconds ??= 30;
  spec.dnsPolicy ??= 'ClusterFirst';
  spec.schedulerName ??= 'default-scheduler';
  spec.securityContext ??= {};
  spec.serviceAccountName ??= 'default';
  for (const c of [...(spec.initContainers ?? []), ...(spec.containers ?? [])]) {
    c.imagePullPolicy ??= typeof c.image === 'string' && (c.image.endsWith(':latest') || !c.image.split('/').pop()!.includes(':')) ? 'Always' : 'IfNotPresent';
    c.terminationMessagePath ??= '/dev/termination-log';
    c.terminationMessagePolicy ??= 'File';
    c.resources ??= {};
  }
}

function defaultRollingUpdate(spec: any, kind: 'Deployment' | 'DaemonSet'): void {
  spec.strategy ??= {};
  const key = kind === 'Deployment' ? 'strategy' : 'updateStrategy';
  spec[key] ??= {};
  if (kind === 'DaemonSet') delete spec.strategy;
  const s = spec[key];
  s.type ??= 'RollingUpdate';
  if (s.type === 'RollingUpdate') {
    s.rollingUpdate ??= {};
    if (kind === 'Deployment') s.rollingUpdate.maxSurge ??= '25%';
    s.rollingUpdate.maxUnavailable ??= kind === 'Deployment' ? '25%' : 1;
  }
}

/** LimitRanger admission: container defaults from the namespace's LimitRanges. */
function applyLimitRanges(pod: K8sObject, store: Lookup): void {
  const ranges = store.list('limitranges', pod.metadata.namespace).items;
  for (const lr of ranges) {
    for (const lim of lr.spec?.limits ?? []) {
      if (lim.type !== 'Container') continue;
      for (const c of pod.spec?.containers ?? []) {
        c.resources ??= {};
        if (lim.default) c.resources.limits = { ...lim.default, ...(c.resources.limits ?? {}) };
        if (lim.defaultRequest) c.resources.requests = { ...lim.defaultRequest, ...(c.resources.requests ?? {}) };
      }
      const names = (pod.spec?.containers ?? []).map((c: any) => c.name).join(', ');
      pod.metadata.annotations = {
        ...(pod.metadata.annotations ?? {}),
        'kubernetes.io/limit-ranger': `LimitRanger plugin set: defaults for container ${names}`,
      };
    }
  }
}

export function applyDefaults(storage: string, obj: K8sObject, store: Lookup, creating: boolean): void {
  const spec = obj.spec;
  switch (storage) {
    case 'namespaces':
      obj.spec ??= { finalizers: ['kubernetes'] };
      obj.status ??= { phase: 'Active' };
      obj.metadata.labels = { ...(obj.metadata.labels ?? {}), 'kubernetes.io/metadata.name': obj.metadata.name! };
      break;
    case 'pods':
      defaultPodSpec(spec);
      if (creating) {
        applyLimitRanges(obj, store);
        obj.status = { phase: 'Pending', qosClass: qosClass(spec) };
      }
      break;
    case 'apps/deployments':
      spec.replicas ??= 1;
      spec.revisionHistoryLimit ??= 10;
      spec.progressDeadlineSeconds ??= 600;
      defaultRollingUpdate(spec, 'Deployment');
      defaultPodSpec(spec.template?.spec);
      break;
    case 'apps/replicasets':
    case 'apps/statefulsets':
      spec.replicas ??= 1;
      defaultPodSpec(spec.template?.spec);
      if (storage === 'apps/statefulsets') {
        spec.podManagementPolicy ??= 'OrderedReady';
        spec.updateStrategy ??= { type: 'RollingUpdate', rollingUpdate: { partition: 0 } };
        spec.revisionHistoryLimit ??= 10;
      }
      break;
    case 'apps/daemonsets':
      defaultRollingUpdate(spec, 'DaemonSet');
      spec.revisionHistoryLimit ??= 10;
      defaultPodSpec(spec.template?.spec);
      break;
    case 'batch/jobs':
      spec.parallelism ??= 1;
      spec.completions ??= 1;
      spec.backoffLimit ??= 6;
      spec.completionMode ??= 'NonIndexed';
      if (spec.template?.spec) spec.template.spec.restartPolicy ??= 'Never';
      defaultPodSpec(spec.template?.spec);
      break;
    case 'services':
      spec.type ??= 'ClusterIP';
      spec.sessionAffinity ??= 'None';
      if (creating && spec.clusterIP === undefined) {
        spec.clusterIP = `10.96.${Math.floor(Math.random() * 250)}.${1 + Math.floor(Math.random() * 250)}`;
        spec.clusterIPs = [spec.clusterIP];
      }
      break;
    case 'autoscaling/horizontalpodautoscalers':
      spec.minReplicas ??= 1;
      // autoscaling/v2's SetDefaults_HorizontalPodAutoscaler.
      if (!spec.metrics?.length) spec.metrics = [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: DEFAULT_CPU_UTILIZATION } } }];
      break;
    case 'batch/cronjobs':
      defaultCronJob(spec, defaultPodSpec);
      // PrepareForCreate: a new CronJob's status is empty, whatever was sent.
      if (creating) obj.status = {};
      break;
    case 'scheduling.k8s.io/priorityclasses':
      defaultPriorityClass(obj);
      break;
    case 'rbac.authorization.k8s.io/rolebindings':
    case 'rbac.authorization.k8s.io/clusterrolebindings':
      defaultBinding(obj);
      break;
    case 'secrets':
      obj.type ??= 'Opaque';
      break;
  }
}

export function qosClass(spec: any): 'Guaranteed' | 'Burstable' | 'BestEffort' {
  const cs: any[] = spec?.containers ?? [];
  let any = false;
  let guaranteed = cs.length > 0;
  for (const c of cs) {
    const req = c.resources?.requests ?? {};
    const lim = c.resources?.limits ?? {};
    if (Object.keys(req).length || Object.keys(lim).length) any = true;
    for (const r of ['cpu', 'memory']) {
      const l = lim[r];
      const q = req[r] ?? l;
      if (l === undefined || q !== l) guaranteed = false;
    }
  }
  if (!any) return 'BestEffort';
  return guaranteed ? 'Guaranteed' : 'Burstable';
}

export function validate(storage: string, obj: K8sObject, old: K8sObject | undefined): void {
  const causes: StatusCause[] = [];
  const need = (cond: unknown, field: string, message: string) => {
    if (!cond) causes.push({ field, message, reason: 'FieldValueRequired' });
  };
  const podSpec = (spec: any, path: string) => {
    need(Array.isArray(spec?.containers) && spec.containers.length > 0, `${path}.containers`, 'Required value');
    (spec?.containers ?? []).forEach((c: any, i: number) => {
      need(c?.name, `${path}.containers[${i}].name`, 'Required value');
      need(c?.image, `${path}.containers[${i}].image`, 'Required value');
    });
  };
  const spec = obj.spec;
  switch (storage) {
    case 'pods':
      podSpec(spec, 'spec');
      if (old && JSON.stringify(stripMutablePodSpec(old.spec)) !== JSON.stringify(stripMutablePodSpec(spec))) {
        causes.push({ field: 'spec', message: 'Forbidden: pod updates may not change fields other than `spec.containers[*].image`, `spec.activeDeadlineSeconds`, `spec.tolerations` (only additions to existing tolerations) or `spec.terminationGracePeriodSeconds`', reason: 'FieldValueForbidden' });
      }
      break;
    case 'apps/deployments':
    case 'apps/replicasets':
    case 'apps/daemonsets':
    case 'apps/statefulsets': {
      need(spec?.selector, 'spec.selector', 'Required value');
      podSpec(spec?.template?.spec, 'spec.template.spec');
      if (spec?.selector && !matchesSelector(spec.selector, spec.template?.metadata?.labels)) {
        causes.push({ field: 'spec.template.metadata.labels', message: `Invalid value: ${JSON.stringify(spec.template?.metadata?.labels ?? {})}: \`selector\` does not match template \`labels\``, reason: 'FieldValueInvalid' });
      }
      if (old && JSON.stringify(old.spec?.selector) !== JSON.stringify(spec?.selector)) {
        causes.push({ field: 'spec.selector', message: 'Invalid value: field is immutable', reason: 'FieldValueInvalid' });
      }
      const ru = storage === 'apps/deployments' ? spec?.strategy?.rollingUpdate : undefined;
      const intOrPercent = (v: unknown) => (typeof v === 'string' ? parseInt(v, 10) : Number(v ?? 1));
      if (ru && intOrPercent(ru.maxUnavailable) === 0 && intOrPercent(ru.maxSurge) === 0) {
        causes.push({ field: 'spec.strategy.rollingUpdate.maxUnavailable', message: `Invalid value: ${JSON.stringify(ru.maxUnavailable)}: may not be 0 when \`maxSurge\` is 0`, reason: 'FieldValueInvalid' });
      }
      if (typeof spec?.replicas === 'number' && spec.replicas < 0) {
        causes.push({ field: 'spec.replicas', message: 'Invalid value: must be greater than or equal to 0', reason: 'FieldValueInvalid' });
      }
      break;
    }
    case 'autoscaling/horizontalpodautoscalers':
      need(spec?.scaleTargetRef?.name, 'spec.scaleTargetRef.name', 'Required value');
      need(spec?.maxReplicas, 'spec.maxReplicas', 'Required value');
      if (spec?.maxReplicas && spec.minReplicas > spec.maxReplicas) {
        causes.push({ field: 'spec.maxReplicas', message: `Invalid value: ${spec.maxReplicas}: must be greater than or equal to \`minReplicas\``, reason: 'FieldValueInvalid' });
      }
      break;
    case 'batch/cronjobs':
      validateCronJob(obj, causes, podSpec);
      break;
    case 'scheduling.k8s.io/priorityclasses':
      validatePriorityClass(obj, old, causes);
      break;
    case 'rbac.authorization.k8s.io/roles':
    case 'rbac.authorization.k8s.io/clusterroles':
      validateRole(obj, storage === 'rbac.authorization.k8s.io/roles', causes);
      break;
    case 'rbac.authorization.k8s.io/rolebindings':
    case 'rbac.authorization.k8s.io/clusterrolebindings':
      validateBinding(obj, old, storage === 'rbac.authorization.k8s.io/rolebindings', causes);
      break;
  }
  if (causes.length) {
    const t = RESOURCES.find((x) => x.storage === storage)!;
    throw ApiError.invalid(t.kind, obj.metadata.name ?? '', t.group, causes);
  }
}

// Fields of a pod's spec that an update may change (the rest are immutable).
function stripMutablePodSpec(spec: any): any {
  if (!spec) return spec;
  const s = structuredClone(spec);
  for (const c of s.containers ?? []) delete c.image;
  for (const c of s.initContainers ?? []) delete c.image;
  delete s.activeDeadlineSeconds;
  delete s.tolerations;
  delete s.terminationGracePeriodSeconds;
  delete s.nodeName; // set through the binding subresource
  return s;
}
