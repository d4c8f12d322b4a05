// Per-kind defaulting and validation, the part of the API server that makes a
// bare manifest look like what a real cluster stores (strategy defaults,
// LimitRanger admission) and rejects what a real one rejects.
import { RESOURCES } from './resources.ts';
import { ApiError, type StatusCause } from './status.ts';
import { matchesSelector } from './selectors.ts';
import { forbidden, goLabelSelector, goValue, immutableDataCauses, invalid, metadataCauses, podSpecCauses, required, same, serviceCauses, templateCauses } from './validation.ts';
import type { K8sObject } from './types.ts';
import { CRD_STORAGE, defaultCrd, validateCrd } from './apiextensions/index.ts';
import { applyNetworkStorageDefaults, validateNetworkStorage } from './strategy-network-storage.ts';
import { DEFAULT_CPU_UTILIZATION } from './hpa-v1.ts';
import { defaultHostNetworkPorts, defaultPodSpecLists } from './pod-defaults.ts';
import {
  defaultBinding, defaultCronJob, defaultPriorityClass, validateBinding, validateCronJob, validatePriorityClass, validateRole,
} from './strategy-apis.ts';

export interface Lookup {
  list(storage: string, ns?: string): { items: K8sObject[] };
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
  defaultPodSpecLists(spec);
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

interface TolerationLike { key?: string; operator?: string; effect?: string; value?: string; tolerationSeconds?: number }

/**
 * The DefaultTolerationSeconds admission plugin (pods, on create and update):
 * 300s for not-ready and unreachable NoExecute, unless the pod tolerates them already.
 */
export function withDefaultTolerations<T extends TolerationLike>(tolerations: T[]): (T | TolerationLike)[] {
  const covers = (key: string) => tolerations.some((t) => (!t.key || t.key === key) && (!t.effect || t.effect === 'NoExecute'));
  const out: (T | TolerationLike)[] = [...tolerations];
  for (const key of ['node.kubernetes.io/not-ready', 'node.kubernetes.io/unreachable']) {
    if (!covers(key)) out.push({ key, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 });
  }
  return out;
}

function admitDefaultTolerations(spec: any): void {
  if (!spec) return;
  const next = withDefaultTolerations(spec.tolerations ?? []);
  if (next.length !== (spec.tolerations ?? []).length) spec.tolerations = next;
}

export function applyDefaults(storage: string, obj: K8sObject, store: Lookup, creating: boolean): void {
  if (applyNetworkStorageDefaults(storage, obj, store, creating)) return;
  const spec = obj.spec;
  switch (storage) {
    case CRD_STORAGE:
      defaultCrd(obj, creating);
      break;
    case 'namespaces':
      obj.spec ??= { finalizers: ['kubernetes'] };
      obj.status ??= { phase: 'Active' };
      obj.metadata.labels = { ...(obj.metadata.labels ?? {}), 'kubernetes.io/metadata.name': obj.metadata.name! };
      break;
    case 'pods':
      defaultPodSpec(spec);
      // SetDefaults_Pod (not templates): service links are on unless turned off.
      if (spec) spec.enableServiceLinks ??= true;
      defaultHostNetworkPorts(spec);
      admitDefaultTolerations(spec);
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


/** What a StatefulSet update may change (ValidateStatefulSetUpdate). */
const STS_MUTABLE = ['replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy', 'minReadySeconds'];

export function validate(storage: string, obj: K8sObject, old: K8sObject | undefined): void {
  const causes: StatusCause[] = metadataCauses(storage, obj);
  const spec = obj.spec;
  causes.push(...validateNetworkStorage(storage, obj, old));
  switch (storage) {
    case CRD_STORAGE:
      causes.push(...validateCrd(obj, old));
      break;
    case 'pods':
      causes.push(...podSpecCauses(spec, 'spec', 'pod', obj.metadata.name));
      if (old && !same(stripMutablePodSpec(old.spec), stripMutablePodSpec(spec))) {
        // The real message goes on with a diff of the two specs.
        causes.push(forbidden('spec', 'pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)'));
      }
      break;
    case 'apps/deployments':
    case 'apps/replicasets':
    case 'apps/daemonsets':
    case 'apps/statefulsets': {
      if (!spec?.selector) causes.push(required('spec.selector'));
      else if (!Object.keys(spec.selector.matchLabels ?? {}).length && !(spec.selector.matchExpressions ?? []).length) {
        causes.push(invalid('spec.selector', goLabelSelector(spec.selector), `empty selector is invalid for ${storage === 'apps/deployments' ? 'deployment' : storage === 'apps/daemonsets' ? 'daemonset' : storage === 'apps/statefulsets' ? 'statefulset' : 'replicaset'}`));
      }
      if (spec?.selector && !matchesSelector(spec.selector, spec.template?.metadata?.labels)) {
        causes.push(invalid('spec.template.metadata.labels', goStringMap(spec.template?.metadata?.labels), '`selector` does not match template `labels`'));
      }
      causes.push(...templateCauses(spec?.template, 'spec.template', storage === 'apps/statefulsets' ? 'statefulset' : 'workload'));
      if (old && !same(old.spec?.selector, spec?.selector)) {
        causes.push(invalid('spec.selector', goLabelSelector(spec?.selector), 'field is immutable'));
      }
      const ru = storage === 'apps/deployments' ? spec?.strategy?.rollingUpdate : undefined;
      const intOrPercent = (v: unknown) => (typeof v === 'string' ? parseInt(v, 10) : Number(v ?? 1));
      if (ru && intOrPercent(ru.maxUnavailable) === 0 && intOrPercent(ru.maxSurge) === 0) {
        causes.push(invalid('spec.strategy.rollingUpdate.maxUnavailable', goValue(ru.maxUnavailable), 'may not be 0 when `maxSurge` is 0'));
      }
      if (typeof spec?.replicas === 'number' && spec.replicas < 0) {
        causes.push(invalid('spec.replicas', String(spec.replicas), 'must be greater than or equal to 0'));
      }
      if (old && storage === 'apps/statefulsets') {
        const rest = (sp: any) => Object.fromEntries(Object.entries(sp ?? {}).filter(([k]) => !STS_MUTABLE.includes(k)));
        if (!same(rest(old.spec), rest(spec))) {
          causes.push(forbidden('spec', "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden"));
        }
      }
      break;
    }
    case 'batch/jobs':
      causes.push(...templateCauses(spec?.template, 'spec.template', 'job'));
      if (old && !same(old.spec?.template, spec?.template)) {
        // The real message dumps the whole Go struct (%#v); its start is enough to recognise.
        causes.push(invalid('spec.template', 'core.PodTemplateSpec{...}', 'field is immutable'));
      }
      break;
    case 'services':
      causes.push(...serviceCauses(obj, old));
      break;
    case 'configmaps':
    case 'secrets':
      causes.push(...immutableDataCauses(obj, old));
      break;
    case 'autoscaling/horizontalpodautoscalers':
      if (!spec?.scaleTargetRef?.name) causes.push(required('spec.scaleTargetRef.name'));
      if (!spec?.maxReplicas) causes.push(required('spec.maxReplicas'));
      if (spec?.maxReplicas && spec.minReplicas > spec.maxReplicas) {
        causes.push(invalid('spec.maxReplicas', String(spec.maxReplicas), 'must be greater than or equal to `minReplicas`'));
      }
      break;
    case 'batch/cronjobs':
      validateCronJob(obj, causes, (tmpl, path) => causes.push(...templateCauses(tmpl, path, 'job')));
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

/** Go's %#v of a map[string]string (keys sorted, as fmt prints maps). */
function goStringMap(m: Record<string, string> | undefined): string {
  return `map[string]string{${Object.keys(m ?? {}).sort().map((k) => `${JSON.stringify(k)}:${JSON.stringify(m![k])}`).join(', ')}}`;
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
