// meta.k8s.io/v1 Table rendering, which is what `kubectl get` asks for
// (Accept: application/json;as=Table;g=meta.k8s.io;v=v1). Column names,
// order and cell formats follow the API server's printers
// (pkg/printers/internalversion/printers.go, Kubernetes 1.32). Like the real
// server, every row carries the wide (priority 1) cells too; kubectl hides
// them unless `-o wide`, and upper-cases the names when printing.
import type { K8sObject } from '../types.ts';
import { humanAge, podDisplayStatus, podReadyCount, podRestarts } from '../podstatus.ts';

interface Column { name: string; type: string; format: string; description: string; priority: number }

interface Printer {
  columns: Column[];
  cells(o: K8sObject, now: number): unknown[];
  conditions?(o: K8sObject): Record<string, string>[] | undefined;
}

const NAME_DOC =
  'Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names';
const AGE_DOC =
  'CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata';

function col(name: string, type: string, description: string, priority = 0, format = ''): Column {
  return { name, type, format, description, priority };
}

const NAME = col('Name', 'string', NAME_DOC, 0, 'name');
const AGE = col('Age', 'string', AGE_DOC);
const CONTAINERS = col('Containers', 'string', 'Names of each container in the template.', 1);
const IMAGES = col('Images', 'string', 'Images referenced by each container in the template.', 1);
const SELECTOR = col('Selector', 'string', 'Label query over pods that should match the replica count.', 1);

/** translateTimestampSince: "<unknown>" for a missing timestamp. */
function since(ts: string | undefined, now: number): string {
  const ms = ts ? Date.parse(ts) : NaN;
  return Number.isFinite(ms) ? humanAge(now - ms) : '<unknown>';
}

const age = (o: K8sObject, now: number) => since(o.metadata.creationTimestamp, now);
const int = (v: unknown) => (typeof v === 'number' ? v : 0);

/** labels.FormatLabels: sorted `k=v` pairs, "<none>" when empty. */
function formatLabels(m: Record<string, string> | undefined): string {
  const keys = Object.keys(m ?? {}).sort();
  return keys.length ? keys.map((k) => `${k}=${m![k]}`).join(',') : '<none>';
}

interface LabelSelector { matchLabels?: Record<string, string>; matchExpressions?: { key: string; operator: string; values?: string[] }[] }

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
const formatSelector = (sel: LabelSelector | undefined) => selectorString(sel) || '<none>';

function containerCells(containers: { name?: string; image?: string }[] | undefined): [string, string] {
  const cs = containers ?? [];
  return [cs.map((c) => c.name ?? '').join(','), cs.map((c) => c.image ?? '').join(',')];
}

const templateContainers = (o: K8sObject) => containerCells(o.spec?.template?.spec?.containers);

const pods: Printer = {
  columns: [
    NAME,
    col('Ready', 'string', 'The aggregate readiness state of this pod for accepting traffic.'),
    col('Status', 'string', 'The aggregate status of the containers in this pod.'),
    col('Restarts', 'string', 'The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.'),
    AGE,
    col('IP', 'string', 'podIP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.', 1),
    col('Node', 'string', 'NodeName indicates in which node this pod is scheduled.', 1),
    col('Nominated Node', 'string', 'nominatedNodeName is set only when this pod preempts other pods on the node, but it cannot be scheduled right away as preemption victims receive their graceful termination periods.', 1),
    col('Readiness Gates', 'string', 'If specified, all readiness gates will be evaluated for pod readiness.', 1),
  ],
  cells(o, now) {
    const { ready, total } = podReadyCount(o);
    const st = o.status ?? {};
    const gates: { conditionType: string }[] = o.spec?.readinessGates ?? [];
    let readinessGates = '<none>';
    if (gates.length) {
      const conds: { type: string; status: string }[] = st.conditions ?? [];
      const trueCount = gates.filter((g) => conds.find((c) => c.type === g.conditionType)?.status === 'True').length;
      readinessGates = `${trueCount}/${gates.length}`;
    }
    return [
      o.metadata.name, `${ready}/${total}`, podDisplayStatus(o), podRestarts(o, now), age(o, now),
      st.podIPs?.[0]?.ip || st.podIP || '<none>', o.spec?.nodeName || '<none>', st.nominatedNodeName || '<none>', readinessGates,
    ];
  },
  conditions(o) {
    if (o.status?.phase === 'Succeeded') return [{ type: 'Completed', status: 'True', reason: 'Succeeded', message: 'The pod has completed successfully.' }];
    if (o.status?.phase === 'Failed') return [{ type: 'Completed', status: 'True', reason: 'Failed', message: 'The pod failed.' }];
    return undefined;
  },
};

function nodeRoles(labels: Record<string, string> | undefined): string {
  const roles = new Set<string>();
  for (const [k, v] of Object.entries(labels ?? {})) {
    if (k.startsWith('node-role.kubernetes.io/')) {
      const role = k.slice('node-role.kubernetes.io/'.length);
      if (role) roles.add(role);
    } else if (k === 'kubernetes.io/role' && v) roles.add(v);
  }
  return [...roles].sort().join(',') || '<none>';
}

const nodeAddress = (o: K8sObject, type: string) =>
  ((o.status?.addresses ?? []) as { type: string; address: string }[]).find((a) => a.type === type)?.address ?? '<none>';

const nodes: Printer = {
  columns: [
    NAME, col('Status', 'string', 'The status of the node'), col('Roles', 'string', 'The roles of the node'), AGE,
    col('Version', 'string', 'Kubelet Version reported by the node.'),
    col('Internal-IP', 'string', 'List of addresses reachable to the node.', 1),
    col('External-IP', 'string', 'List of addresses reachable to the node.', 1),
    col('OS-Image', 'string', 'OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).', 1),
    col('Kernel-Version', 'string', "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).", 1),
    col('Container-Runtime', 'string', 'ContainerRuntime Version reported by the node through runtime remote API (e.g. containerd://1.4.2).', 1),
  ],
  cells(o, now) {
    const ready = ((o.status?.conditions ?? []) as { type: string; status: string }[]).find((c) => c.type === 'Ready');
    const status = [ready ? (ready.status === 'True' ? 'Ready' : 'NotReady') : 'Unknown'];
    if (o.spec?.unschedulable) status.push('SchedulingDisabled');
    const info = o.status?.nodeInfo ?? {};
    return [
      o.metadata.name, status.join(','), nodeRoles(o.metadata.labels), age(o, now), info.kubeletVersion ?? '',
      nodeAddress(o, 'InternalIP'), nodeAddress(o, 'ExternalIP'),
      info.osImage || '<unknown>', info.kernelVersion || '<unknown>', info.containerRuntimeVersion || '<unknown>',
    ];
  },
};

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

function serviceExternalIP(o: K8sObject): string {
  const externalIPs: string[] = o.spec?.externalIPs ?? [];
  switch (o.spec?.type ?? 'ClusterIP') {
    case 'ClusterIP':
    case 'NodePort':
      return externalIPs.length ? externalIPs.join(',') : '<none>';
    case 'LoadBalancer': {
      const ingress: { ip?: string; hostname?: string }[] = o.status?.loadBalancer?.ingress ?? [];
      const lb = [...new Set(ingress.map((i) => i.ip || i.hostname || '').filter(Boolean))].sort();
      if (externalIPs.length) return [...lb, ...externalIPs].join(',');
      return lb.length ? lb.join(',') : '<pending>';
    }
    case 'ExternalName':
      return o.spec?.externalName ?? '';
    default:
      return '<unknown>';
  }
}

const services: Printer = {
  columns: [
    NAME, col('Type', 'string', 'type determines how the Service is exposed.'),
    col('Cluster-IP', 'string', 'clusterIP is the IP address of the service and is usually assigned randomly.'),
    col('External-IP', 'string', 'externalIPs is a list of IP addresses for which nodes in the cluster will also accept traffic for this service.'),
    col('Port(s)', 'string', 'The list of ports that are exposed by this service.'), AGE,
    col('Selector', 'string', 'Route service traffic to pods with label keys and values matching this selector.', 1),
  ],
  cells(o, now) {
    const ports: { port: number; nodePort?: number; protocol?: string }[] = o.spec?.ports ?? [];
    const portStr = ports.map((p) => `${p.port}${p.nodePort ? `:${p.nodePort}` : ''}/${p.protocol ?? 'TCP'}`).join(',');
    return [
      o.metadata.name, o.spec?.type ?? 'ClusterIP', o.spec?.clusterIPs?.[0] ?? o.spec?.clusterIP ?? '<none>', serviceExternalIP(o),
      portStr || '<none>', age(o, now), formatLabels(o.spec?.selector),
    ];
  },
};

const events: Printer = {
  columns: [
    col('Last Seen', 'string', 'The time at which the most recent occurrence of this event was recorded.'),
    col('Type', 'string', 'Type of this event (Normal, Warning), new types could be added in the future'),
    col('Reason', 'string', "This should be a short, machine understandable string that gives the reason for the transition into the object's current status."),
    col('Object', 'string', 'The object that this event is about.'),
    col('Subobject', 'string', 'If referring to a piece of an object instead of an entire object, this string should contain a valid JSON/Go field access statement, such as desiredState.manifest.containers[2].', 1),
    col('Source', 'string', 'The component reporting this event. Should be a short machine understandable string.', 1),
    col('Message', 'string', 'A human-readable description of the status of this operation.'),
    col('First Seen', 'string', 'The time at which the event was first recorded. (Time of server receipt is in TypeMeta.)', 1),
    col('Count', 'string', 'The number of times this event has occurred.', 1),
    { ...NAME, priority: 1 },
  ],
  cells(e, now) {
    const o = asCoreEvent(e);
    const first = o.firstTimestamp ? since(o.firstTimestamp, now) : since(o.eventTime, now);
    let last = o.lastTimestamp ? since(o.lastTimestamp, now) : first;
    let count = int(o.count);
    if (o.series) {
      last = since(o.series.lastObservedTime, now);
      count = int(o.series.count);
    } else if (count === 0) count = 1;
    const inv = o.involvedObject ?? {};
    const kind = String(inv.kind ?? '').toLowerCase();
    const component = o.source?.component || o.reportingComponent || '';
    const instance = o.source?.host || o.reportingInstance || '';
    return [
      last, o.type ?? '', o.reason ?? '', inv.name ? `${kind}/${inv.name}` : kind, inv.fieldPath ?? '',
      instance ? `${component}, ${instance}` : component, String(o.message ?? '').trim(), first, count, o.metadata.name,
    ];
  },
};

/** events.k8s.io/v1 Events print through the core printer, as the server converts them to core first. */
function asCoreEvent(e: K8sObject): K8sObject {
  if (!e.apiVersion?.startsWith('events.k8s.io/')) return e;
  return {
    ...e,
    involvedObject: e.regarding,
    message: e.note,
    source: e.deprecatedSource,
    firstTimestamp: e.deprecatedFirstTimestamp,
    lastTimestamp: e.deprecatedLastTimestamp,
    count: e.deprecatedCount,
    reportingComponent: e.reportingController,
  };
}

function simple(extra: { column: Column; cell: (o: K8sObject) => unknown }[]): Printer {
  return {
    columns: [NAME, ...extra.map((e) => e.column), AGE],
    cells: (o, now) => [o.metadata.name, ...extra.map((e) => e.cell(o)), age(o, now)],
  };
}

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

/** RESOURCE: used/hard pairs, requests and limits split as the quota printer does. */
function quotaColumns(o: K8sObject): [string, string] {
  const hard: Record<string, string> = o.status?.hard ?? {};
  const used: Record<string, string> = o.status?.used ?? {};
  const req: string[] = [];
  const lim: string[] = [];
  for (const r of Object.keys(hard).sort()) {
    const pieces = r.split('.');
    (pieces.length > 1 && pieces[0] === 'limits' ? lim : req).push(`${r}: ${used[r] ?? '0'}/${hard[r]}`);
  }
  return [req.join(', '), lim.join(', ')];
}

const intOrString = (v: unknown) => (v == null ? 'N/A' : String(v));

const PRINTERS: Record<string, Printer> = {
  pods, nodes, events, services,
  'apps/deployments': deployments,
  'apps/replicasets': replicasets,
  'apps/statefulsets': statefulsets,
  'apps/daemonsets': daemonsets,
  'batch/jobs': jobs,
  'autoscaling/horizontalpodautoscalers': hpa,
  namespaces: simple([{ column: col('Status', 'string', 'The status of the namespace'), cell: (o) => o.status?.phase ?? '' }]),
  configmaps: simple([{ column: col('Data', 'string', 'Data contains the configuration data.'), cell: (o) => Object.keys(o.data ?? {}).length + Object.keys(o.binaryData ?? {}).length }]),
  secrets: simple([
    { column: col('Type', 'string', 'Used to facilitate programmatic handling of secret data.'), cell: (o) => o.type ?? '' },
    { column: col('Data', 'string', 'Data contains the secret data.'), cell: (o) => new Set([...Object.keys(o.data ?? {}), ...Object.keys(o.stringData ?? {})]).size },
  ]),
  serviceaccounts: simple([{ column: col('Secrets', 'string', 'Secrets is a list of the secrets in the same namespace that pods running using this ServiceAccount are allowed to use.'), cell: (o) => (o.secrets ?? []).length }]),
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
  resourcequotas: simple([
    { column: col('Request', 'string', 'Request represents a minimum amount of cpu/memory that a container may consume.'), cell: (o) => quotaColumns(o)[0] },
    { column: col('Limit', 'string', 'Limits control the maximum amount of cpu/memory that a container may use independent of contention on the node.'), cell: (o) => quotaColumns(o)[1] },
  ]),
};

/** The API server's default convertor for types without a printer (e.g. LimitRange). */
const defaultPrinter: Printer = {
  columns: [NAME, col('Created At', 'date', AGE_DOC)],
  cells(o) {
    const ms = o.metadata.creationTimestamp ? Date.parse(o.metadata.creationTimestamp) : NaN;
    return [o.metadata.name, Number.isFinite(ms) ? new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z') : '0001-01-01T00:00:00Z'];
  },
};

/** Renders objects of one storage as a meta.k8s.io/v1 Table; the caller sets metadata.resourceVersion. */
export function toTable(
  storage: string,
  objects: K8sObject[],
  now: number,
  includeObject: 'None' | 'Metadata' | 'Object',
): Record<string, unknown> {
  const printer = PRINTERS[storage] ?? defaultPrinter;
  const rows = objects.map((o) => {
    const row: Record<string, unknown> = { cells: printer.cells(o, now) };
    const conditions = printer.conditions?.(o);
    if (conditions) row.conditions = conditions;
    if (includeObject === 'Object') row.object = o;
    else if (includeObject === 'Metadata') row.object = { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata };
    return row;
  });
  return { kind: 'Table', apiVersion: 'meta.k8s.io/v1', metadata: {}, columnDefinitions: printer.columns.map((c) => ({ ...c })), rows };
}
