// Printers for workloads and their policies: the apps, batch, autoscaling,
// policy and coordination.k8s.io groups.
import type { K8sObject } from '../types.ts';
import { humanAge } from '../podstatus.ts';
import { AGE, NAME, age, col, formatLabels, int, simple, type Printer } from './tables-format.ts';

const CONTAINERS = col('Containers', 'string', 'Names of each container in the template.', 1);
const IMAGES = col('Images', 'string', 'Images referenced by each container in the template.', 1);
const SELECTOR = col('Selector', 'string', 'Label query over pods that should match the replica count.', 1);

export interface LabelSelector { matchLabels?: Record<string, string>; matchExpressions?: { key: string; operator: string; values?: string[] }[] }

/** labels.Selector.String() of metav1.LabelSelectorAsSelector: requirements sorted by key. */
function selectorString(sel: LabelSelector | undefined): string {
  if (!sel) return '';
  const reqs: [string, string][] = Object.entries(sel.matchLabels ?? {}).map(([k, v]) => [k, `${k}=${v}`]);
  for (const e of sel.matchExpressions ?? []) {
    const vals = [...new Set(e.values ?? [])].sort().join(',');
    if (e.operator === 'In') reqs.push([e.key, `${e.key} in (${vals})`]);
    else if (e.operator === 'NotIn') reqs.push([e.key, `${e.key} notin (${vals})`]);
    else if (e.operator === 'Exists') reqs.push([e.key, e.key]);
    else if (e.operator === 'DoesNotExist') reqs.push([e.key, `!${e.key}`]);
  }
  return reqs.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, s]) => s).join(',');
}

/** metav1.FormatLabelSelector: like selectorString but "<none>" when empty. */
export const formatSelector = (sel: LabelSelector | undefined) => selectorString(sel) || '<none>';

export function containerCells(containers: { name?: string; image?: string }[] | undefined): [string, string] {
  const cs = containers ?? [];
  return [cs.map((c) => c.name ?? '').join(','), cs.map((c) => c.image ?? '').join(',')];
}

const templateContainers = (o: K8sObject) => containerCells(o.spec?.template?.spec?.containers);

const deployments: Printer = {
  columns: [
    NAME, col('Ready', 'string', 'Number of the pod with ready state'),
    col('Up-to-date', 'string', 'Total number of non-terminated pods targeted by this deployment that have the desired template spec.'),
    col('Available', 'string', 'Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.'),
    AGE, CONTAINERS, IMAGES, SELECTOR,
  ],
  cells(o, now) {
    const s = o.status ?? {};
    return [
      o.metadata.name, `${int(s.readyReplicas)}/${o.spec?.replicas ?? 1}`, int(s.updatedReplicas), int(s.availableReplicas), age(o, now),
      ...templateContainers(o), selectorString(o.spec?.selector),
    ];
  },
};

const replicasets: Printer = {
  columns: [
    NAME, col('Desired', 'integer', 'Replicas is the number of desired replicas.'),
    col('Current', 'integer', 'Replicas is the most recently observed number of replicas.'),
    col('Ready', 'integer', 'The number of ready replicas for this replica set.'), AGE, CONTAINERS, IMAGES, SELECTOR,
  ],
  cells(o, now) {
    const s = o.status ?? {};
    return [o.metadata.name, o.spec?.replicas ?? 1, int(s.replicas), int(s.readyReplicas), age(o, now), ...templateContainers(o), formatSelector(o.spec?.selector)];
  },
};

const statefulsets: Printer = {
  columns: [NAME, col('Ready', 'string', 'Number of the pod with ready state'), AGE, CONTAINERS, IMAGES],
  cells: (o, now) => [o.metadata.name, `${int(o.status?.readyReplicas)}/${o.spec?.replicas ?? 1}`, age(o, now), ...templateContainers(o)],
};

const daemonsets: Printer = {
  columns: [
    NAME, col('Desired', 'integer', 'The total number of nodes that should be running the daemon pod.'),
    col('Current', 'integer', 'The number of nodes that are running at least 1 daemon pod and are supposed to run the daemon pod.'),
    col('Ready', 'integer', 'The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and ready.'),
    col('Up-to-date', 'integer', 'The total number of nodes that are running updated daemon pod'),
    col('Available', 'integer', 'The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and available.'),
    col('Node Selector', 'string', "NodeSelector is a selector which must be true for the pod to fit on a node."),
    AGE, CONTAINERS, IMAGES, SELECTOR,
  ],
  cells(o, now) {
    const s = o.status ?? {};
    return [
      o.metadata.name, int(s.desiredNumberScheduled), int(s.currentNumberScheduled), int(s.numberReady), int(s.updatedNumberScheduled),
      int(s.numberAvailable), formatLabels(o.spec?.template?.spec?.nodeSelector), age(o, now), ...templateContainers(o), formatSelector(o.spec?.selector),
    ];
  },
};

const hasCondition = (o: K8sObject, type: string) =>
  ((o.status?.conditions ?? []) as { type: string; status: string }[]).find((c) => c.type === type)?.status === 'True';

function jobStatus(o: K8sObject): string {
  if (hasCondition(o, 'Complete')) return 'Complete';
  if (hasCondition(o, 'Failed')) return 'Failed';
  if (o.metadata.deletionTimestamp) return 'Terminating';
  if (hasCondition(o, 'Suspended')) return 'Suspended';
  if (hasCondition(o, 'FailureTarget')) return 'FailureTarget';
  return 'Running';
}

const jobs: Printer = {
  columns: [
    NAME, col('Status', 'string', 'Status of the job.'),
    col('Completions', 'string', 'The number of pods which reached phase Succeeded.'),
    col('Duration', 'string', 'Time required to complete the job.'), AGE, CONTAINERS, IMAGES, SELECTOR,
  ],
  cells(o, now) {
    const s = o.status ?? {};
    let completions: string;
    if (typeof o.spec?.completions === 'number') completions = `${int(s.succeeded)}/${o.spec.completions}`;
    else completions = int(o.spec?.parallelism) > 1 ? `${int(s.succeeded)}/1 of ${o.spec.parallelism}` : `${int(s.succeeded)}/1`;
    let duration = '';
    if (s.startTime) duration = humanAge((s.completionTime ? Date.parse(s.completionTime) : now) - Date.parse(s.startTime));
    return [o.metadata.name, jobStatus(o), completions, duration, age(o, now), ...templateContainers(o), formatSelector(o.spec?.selector)];
  },
};

/** The HPA TARGETS column (formatHPAMetrics): at most two metrics, then "+ N more...". */
function hpaTargets(o: K8sObject): string {
  const specs: any[] = o.spec?.metrics ?? [];
  if (!specs.length) return '<none>';
  const statuses: any[] = o.status?.currentMetrics ?? [];
  const list = specs.map((spec, i) => {
    const st = statuses[i];
    switch (spec.type) {
      case 'External':
      case 'Object': {
        const key = spec.type === 'External' ? 'external' : 'object';
        const target = spec[key]?.target ?? {};
        if (target.averageValue != null) return `${st?.[key]?.current?.averageValue ?? '<unknown>'}/${target.averageValue} (avg)`;
        return `${st?.[key]?.current?.value ?? '<unknown>'}/${target.value}`;
      }
      case 'Pods':
        return `${st?.pods?.current?.averageValue ?? '<unknown>'}/${spec.pods?.target?.averageValue}`;
      case 'Resource':
      case 'ContainerResource': {
        const key = spec.type === 'Resource' ? 'resource' : 'containerResource';
        const target = spec[key]?.target ?? {};
        const name = spec[key]?.name;
        if (target.averageValue != null) return `${name}: ${st?.[key]?.current?.averageValue ?? '<unknown>'}/${target.averageValue}`;
        const cur = st?.[key]?.current?.averageUtilization;
        const want = target.averageUtilization;
        return `${name}: ${cur != null ? `${cur}%` : '<unknown>'}/${want != null ? `${want}%` : '<auto>'}`;
      }
      default:
        return '<unknown type>';
    }
  });
  return list.length > 2 ? `${list.slice(0, 2).join(', ')} + ${list.length - 2} more...` : list.join(', ');
}

const hpa: Printer = {
  columns: [
    NAME, col('Reference', 'string', 'scaleTargetRef points to the target resource to scale.'),
    col('Targets', 'string', 'metrics contains the specifications for which to use to calculate the desired replica count.'),
    col('MinPods', 'string', 'minReplicas is the lower limit for the number of replicas to which the autoscaler can scale down.'),
    col('MaxPods', 'string', 'maxReplicas is the upper limit for the number of replicas to which the autoscaler can scale up.'),
    col('Replicas', 'string', 'currentReplicas is current number of replicas of pods managed by this autoscaler.'), AGE,
  ],
  cells: (o, now) => [
    o.metadata.name, `${o.spec?.scaleTargetRef?.kind ?? ''}/${o.spec?.scaleTargetRef?.name ?? ''}`, hpaTargets(o),
    typeof o.spec?.minReplicas === 'number' ? String(o.spec.minReplicas) : '<unset>', int(o.spec?.maxReplicas), int(o.status?.currentReplicas), age(o, now),
  ],
};

function controllerOf(o: K8sObject): string {
  const ref = (o.metadata.ownerReferences ?? []).find((r) => r.controller);
  if (!ref) return '<none>';
  const group = ref.apiVersion.includes('/') ? ref.apiVersion.split('/')[0] : '';
  return `${(group ? `${ref.kind}.${group}` : ref.kind).toLowerCase()}/${ref.name}`;
}

const intOrString = (v: unknown) => (v == null ? 'N/A' : String(v));

export const WORKLOAD_PRINTERS: Record<string, Printer> = {
  'apps/deployments': deployments,
  'apps/replicasets': replicasets,
  'apps/statefulsets': statefulsets,
  'apps/daemonsets': daemonsets,
  'batch/jobs': jobs,
  'autoscaling/horizontalpodautoscalers': hpa,
  'coordination.k8s.io/leases': simple([{ column: col('Holder', 'string', 'holderIdentity contains the identity of the holder of a current lease.'), cell: (o) => o.spec?.holderIdentity ?? '' }]),
  'policy/poddisruptionbudgets': simple([
    { column: col('Min Available', 'string', 'The minimum number of pods that must be available.'), cell: (o) => intOrString(o.spec?.minAvailable) },
    { column: col('Max Unavailable', 'string', 'The maximum number of pods that may be unavailable.'), cell: (o) => intOrString(o.spec?.maxUnavailable) },
    { column: col('Allowed Disruptions', 'integer', 'Calculated number of pods that may be disrupted at this time.'), cell: (o) => int(o.status?.disruptionsAllowed) },
  ]),
  'apps/controllerrevisions': simple([
    { column: col('Controller', 'string', 'Controller of the object'), cell: controllerOf },
    { column: col('Revision', 'string', 'Revision indicates the revision of the state represented by Data.'), cell: (o) => int(o.revision) },
  ]),
};
