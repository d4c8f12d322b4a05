// What kube-apiserver creates at start: the two system PriorityClasses
// (scheduling/bootstrap-system-priority-classes), the default RBAC roles and
// bindings (rbac/bootstrap-roles: cluster-admin for system:masters, the
// user-facing admin/edit/view roles, discovery and self-review access for
// every authenticated user) and the default/kubernetes Service. ensureBootstrap
// creates whichever is missing, on a fresh sandbox and after a restore, as
// the real post-start hooks do. The admin/edit/view rules cover the resources
// a 1.32 cluster grants them; they are stored already aggregated, in the
// order the clusterrole-aggregation controller writes them
// (controllers/clusterrole-aggregation.ts), so it finds nothing to change at
// start and requests made before it first runs see the full roles.
import { recordUpdate } from './server/managed.ts';
import { RBAC_GROUP, SYSTEM_PRIORITY_CLASSES } from './strategy-apis.ts';
import type { ObjectStore } from './store.ts';
import type { K8sObject } from './types.ts';

/** The default/kubernetes Service's address: the first of the service range. */
export const KUBERNETES_SERVICE_IP = '10.96.0.1';

const READ = ['get', 'list', 'watch'];
const WRITE = ['create', 'delete', 'deletecollection', 'patch', 'update'];
const rule = (apiGroups: string[], resources: string[], verbs: string[]) => ({ apiGroups, resources, verbs });
const urls = (nonResourceURLs: string[], verbs: string[]) => ({ nonResourceURLs, verbs });

const VIEW_RULES = [
  rule([''], ['configmaps', 'endpoints', 'persistentvolumeclaims', 'persistentvolumeclaims/status', 'pods', 'replicationcontrollers', 'replicationcontrollers/scale', 'serviceaccounts', 'services', 'services/status'], READ),
  rule([''], ['bindings', 'events', 'limitranges', 'namespaces/status', 'pods/log', 'pods/status', 'replicationcontrollers/status', 'resourcequotas', 'resourcequotas/status'], READ),
  rule([''], ['namespaces'], READ),
  rule(['discovery.k8s.io'], ['endpointslices'], READ),
  rule(['apps'], ['controllerrevisions', 'daemonsets', 'daemonsets/status', 'deployments', 'deployments/scale', 'deployments/status', 'replicasets', 'replicasets/scale', 'replicasets/status', 'statefulsets', 'statefulsets/scale', 'statefulsets/status'], READ),
  rule(['autoscaling'], ['horizontalpodautoscalers', 'horizontalpodautoscalers/status'], READ),
  rule(['batch'], ['cronjobs', 'cronjobs/status', 'jobs', 'jobs/status'], READ),
  rule(['extensions'], ['daemonsets', 'daemonsets/status', 'deployments', 'deployments/scale', 'deployments/status', 'ingresses', 'ingresses/status', 'networkpolicies', 'replicasets', 'replicasets/scale', 'replicasets/status', 'replicationcontrollers/scale'], READ),
  rule(['policy'], ['poddisruptionbudgets', 'poddisruptionbudgets/status'], READ),
  rule(['networking.k8s.io'], ['ingresses', 'ingresses/status', 'networkpolicies'], READ),
];

const EDIT_RULES = [
  rule([''], ['pods/attach', 'pods/exec', 'pods/portforward', 'pods/proxy', 'secrets', 'services/proxy'], READ),
  rule([''], ['serviceaccounts'], ['impersonate']),
  rule([''], ['pods', 'pods/attach', 'pods/exec', 'pods/portforward', 'pods/proxy'], WRITE),
  rule([''], ['pods/eviction'], ['create']),
  rule([''], ['configmaps', 'events', 'persistentvolumeclaims', 'replicationcontrollers', 'replicationcontrollers/scale', 'secrets', 'serviceaccounts', 'services', 'services/proxy'], WRITE),
  rule([''], ['serviceaccounts/token'], ['create']),
  rule(['apps'], ['daemonsets', 'deployments', 'deployments/rollback', 'deployments/scale', 'replicasets', 'replicasets/scale', 'statefulsets', 'statefulsets/scale'], WRITE),
  rule(['autoscaling'], ['horizontalpodautoscalers'], WRITE),
  rule(['batch'], ['cronjobs', 'jobs'], WRITE),
  rule(['extensions'], ['daemonsets', 'deployments', 'deployments/rollback', 'deployments/scale', 'ingresses', 'networkpolicies', 'replicasets', 'replicasets/scale', 'replicationcontrollers/scale'], WRITE),
  rule(['policy'], ['poddisruptionbudgets'], WRITE),
  rule(['networking.k8s.io'], ['ingresses', 'networkpolicies'], WRITE),
  rule(['coordination.k8s.io'], ['leases'], [...WRITE, ...READ].sort()),
];

const ADMIN_RULES = [
  rule(['authorization.k8s.io'], ['localsubjectaccessreviews'], ['create']),
  rule([RBAC_GROUP], ['rolebindings', 'roles'], [...WRITE, ...READ].sort()),
];

const DEFAULTS = { 'kubernetes.io/bootstrapping': 'rbac-defaults' };
const AUTOUPDATE = { 'rbac.authorization.kubernetes.io/autoupdate': 'true' };

function clusterRole(name: string, rules: unknown[], labels: Record<string, string> = {}, aggregateFrom?: string): K8sObject {
  return {
    apiVersion: `${RBAC_GROUP}/v1`,
    kind: 'ClusterRole',
    metadata: { name, labels: { ...DEFAULTS, ...labels }, annotations: { ...AUTOUPDATE } },
    ...(aggregateFrom ? { aggregationRule: { clusterRoleSelectors: [{ matchLabels: { [`rbac.authorization.k8s.io/aggregate-to-${aggregateFrom}`]: 'true' } }] } } : {}),
    rules,
  };
}

function binding(name: string, role: string, subjects: { kind: string; name: string }[]): K8sObject {
  return {
    apiVersion: `${RBAC_GROUP}/v1`,
    kind: 'ClusterRoleBinding',
    metadata: { name, labels: { ...DEFAULTS }, annotations: { ...AUTOUPDATE } },
    roleRef: { apiGroup: RBAC_GROUP, kind: 'ClusterRole', name: role },
    subjects: subjects.map((s) => ({ apiGroup: RBAC_GROUP, ...s })),
  };
}

const group = (name: string) => ({ kind: 'Group', name });

function rbacDefaults(): [string, K8sObject][] {
  const roles = [
    clusterRole('cluster-admin', [rule(['*'], ['*'], ['*']), urls(['*'], ['*'])]),
    // Matched roles in name order: edit (itself edit's then view's rules) before system:aggregate-to-admin.
    clusterRole('admin', [...EDIT_RULES, ...VIEW_RULES, ...ADMIN_RULES], {}, 'admin'),
    clusterRole('edit', [...EDIT_RULES, ...VIEW_RULES], { 'rbac.authorization.k8s.io/aggregate-to-admin': 'true' }, 'edit'),
    clusterRole('view', VIEW_RULES, { 'rbac.authorization.k8s.io/aggregate-to-edit': 'true' }, 'view'),
    clusterRole('system:aggregate-to-admin', ADMIN_RULES, { 'rbac.authorization.k8s.io/aggregate-to-admin': 'true' }),
    clusterRole('system:aggregate-to-edit', EDIT_RULES, { 'rbac.authorization.k8s.io/aggregate-to-edit': 'true' }),
    clusterRole('system:aggregate-to-view', VIEW_RULES, { 'rbac.authorization.k8s.io/aggregate-to-view': 'true' }),
    clusterRole('system:basic-user', [
      rule(['authorization.k8s.io'], ['selfsubjectaccessreviews', 'selfsubjectrulesreviews'], ['create']),
      rule(['authentication.k8s.io'], ['selfsubjectreviews'], ['create']),
    ]),
    clusterRole('system:discovery', [urls(['/api', '/api/*', '/apis', '/apis/*', '/healthz', '/livez', '/openapi', '/openapi/*', '/readyz', '/version', '/version/'], ['get'])]),
    clusterRole('system:public-info-viewer', [urls(['/healthz', '/livez', '/readyz', '/version', '/version/'], ['get'])]),
  ];
  const bindings = [
    binding('cluster-admin', 'cluster-admin', [group('system:masters')]),
    binding('system:basic-user', 'system:basic-user', [group('system:authenticated')]),
    binding('system:discovery', 'system:discovery', [group('system:authenticated')]),
    binding('system:public-info-viewer', 'system:public-info-viewer', [group('system:authenticated'), group('system:unauthenticated')]),
  ];
  return [
    ...roles.map((r): [string, K8sObject] => ['rbac.authorization.k8s.io/clusterroles', r]),
    ...bindings.map((b): [string, K8sObject] => ['rbac.authorization.k8s.io/clusterrolebindings', b]),
  ];
}

function priorityClasses(): [string, K8sObject][] {
  const description: Record<string, string> = {
    'system-node-critical': 'Used for system critical pods that must not be moved from their current node.',
    'system-cluster-critical': 'Used for system critical pods that must run in the cluster, but can be moved to another node if necessary.',
  };
  return Object.entries(SYSTEM_PRIORITY_CLASSES).map(([name, value]) => [
    'scheduling.k8s.io/priorityclasses',
    { apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name }, value, description: description[name], preemptionPolicy: 'PreemptLowerPriority' },
  ]);
}

/** The default/kubernetes Service kube-apiserver keeps (its bootstrap controller). */
export function kubernetesService(): K8sObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'kubernetes', namespace: 'default', labels: { component: 'apiserver', provider: 'kubernetes' } },
    spec: {
      clusterIP: KUBERNETES_SERVICE_IP,
      clusterIPs: [KUBERNETES_SERVICE_IP],
      internalTrafficPolicy: 'Cluster',
      ipFamilies: ['IPv4'],
      ipFamilyPolicy: 'SingleStack',
      ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: 6443 }],
      sessionAffinity: 'None',
      type: 'ClusterIP',
    },
    status: { loadBalancer: {} },
  };
}

/** Creates what is missing (the default namespace must exist for the Service). */
export function ensureBootstrap(store: ObjectStore): void {
  const now = store.clock.now();
  const items: [string, K8sObject][] = [...priorityClasses(), ...rbacDefaults()];
  if (store.get('namespaces', undefined, 'default')) items.push(['services', kubernetesService()]);
  for (const [storage, obj] of items) {
    if (store.get(storage, obj.metadata.namespace, obj.metadata.name!)) continue;
    obj.metadata.managedFields = recordUpdate(undefined, obj, { manager: 'kube-apiserver', operation: 'Update', apiVersion: obj.apiVersion! }, now);
    store.create(storage, obj);
  }
}
