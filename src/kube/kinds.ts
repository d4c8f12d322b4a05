// The built-in kinds kubemend watches and acts on, and their URL paths.
// A static table (not discovery) keeps start-up to one request per watched
// kind; custom resources can be added by passing a KindRef. The
// metrics.k8s.io kinds cannot be watched (metrics-server serves LIST and GET
// only): they are `polled`, listed on demand (kube/poller.ts).

export interface KindRef {
  apiVersion: string;
  kind: string;
  plural: string;
  namespaced: boolean;
  /** Served without watch (metrics.k8s.io): listed on demand, never given an informer. */
  polled?: boolean;
}

const k = (apiVersion: string, kind: string, plural: string, namespaced = true, polled = false): KindRef => ({ apiVersion, kind, plural, namespaced, ...(polled ? { polled } : {}) });

export const KINDS: readonly KindRef[] = Object.freeze([
  k('v1', 'Pod', 'pods'),
  k('v1', 'Node', 'nodes', false),
  k('v1', 'Event', 'events'),
  k('v1', 'Namespace', 'namespaces', false),
  k('v1', 'Service', 'services'),
  k('v1', 'ConfigMap', 'configmaps'),
  k('v1', 'Secret', 'secrets'),
  k('v1', 'LimitRange', 'limitranges'),
  k('v1', 'ResourceQuota', 'resourcequotas'),
  k('apps/v1', 'Deployment', 'deployments'),
  k('apps/v1', 'ReplicaSet', 'replicasets'),
  k('apps/v1', 'StatefulSet', 'statefulsets'),
  k('apps/v1', 'DaemonSet', 'daemonsets'),
  k('batch/v1', 'Job', 'jobs'),
  k('autoscaling/v2', 'HorizontalPodAutoscaler', 'horizontalpodautoscalers'),
  k('policy/v1', 'PodDisruptionBudget', 'poddisruptionbudgets'),
  k('coordination.k8s.io/v1', 'Lease', 'leases'),
  k('metrics.k8s.io/v1beta1', 'NodeMetrics', 'nodes', false, true),
  k('metrics.k8s.io/v1beta1', 'PodMetrics', 'pods', true, true),
]);

export function kindRef(kind: string, apiVersion?: string): KindRef | undefined {
  return KINDS.find((x) => x.kind === kind && (!apiVersion || x.apiVersion === apiVersion));
}

function prefix(apiVersion: string): string {
  return apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
}

export function collectionPath(kind: KindRef, namespace?: string): string {
  return kind.namespaced && namespace ? `${prefix(kind.apiVersion)}/namespaces/${namespace}/${kind.plural}` : `${prefix(kind.apiVersion)}/${kind.plural}`;
}

export function objectPath(kind: KindRef, namespace: string | undefined, name: string, sub?: string): string {
  const base = kind.namespaced ? `${prefix(kind.apiVersion)}/namespaces/${namespace ?? 'default'}/${kind.plural}` : `${prefix(kind.apiVersion)}/${kind.plural}`;
  return `${base}/${encodeURIComponent(name)}${sub ? `/${sub}` : ''}`;
}
