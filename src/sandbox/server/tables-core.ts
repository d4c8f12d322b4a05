// Printers for the core (v1) group: pods, nodes, services, events,
// namespaces, configmaps, secrets, serviceaccounts and resource quotas.
import type { K8sObject } from '../types.ts';
import { podDisplayStatus, podReadyCount, podRestarts } from '../podstatus.ts';
import { AGE, NAME, age, col, formatLabels, int, simple, since, type Printer } from './tables-format.ts';

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

export const CORE_PRINTERS: Record<string, Printer> = {
  pods, nodes, events, services,
  namespaces: simple([{ column: col('Status', 'string', 'The status of the namespace'), cell: (o) => o.status?.phase ?? '' }]),
  configmaps: simple([{ column: col('Data', 'string', 'Data contains the configuration data.'), cell: (o) => Object.keys(o.data ?? {}).length + Object.keys(o.binaryData ?? {}).length }]),
  secrets: simple([
    { column: col('Type', 'string', 'Used to facilitate programmatic handling of secret data.'), cell: (o) => o.type ?? '' },
    { column: col('Data', 'string', 'Data contains the secret data.'), cell: (o) => new Set([...Object.keys(o.data ?? {}), ...Object.keys(o.stringData ?? {})]).size },
  ]),
  serviceaccounts: simple([{ column: col('Secrets', 'string', 'Secrets is a list of the secrets in the same namespace that pods running using this ServiceAccount are allowed to use.'), cell: (o) => (o.secrets ?? []).length }]),
  resourcequotas: simple([
    { column: col('Request', 'string', 'Request represents a minimum amount of cpu/memory that a container may consume.'), cell: (o) => quotaColumns(o)[0] },
    { column: col('Limit', 'string', 'Limits control the maximum amount of cpu/memory that a container may use independent of contention on the node.'), cell: (o) => quotaColumns(o)[1] },
  ]),
};
