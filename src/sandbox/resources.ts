// The built-in resource types the sandbox serves. Discovery documents,
// routing and the store's keys are derived from this table plus the custom
// resources a sandbox's CRDs add (api-types.ts, one registry per store), so
// adding a type here is what makes kubectl see it.

export interface ResourceType {
  group: string; // '' for the core group
  version: string;
  kind: string;
  plural: string;
  singular: string;
  namespaced: boolean;
  shortNames?: string[];
  categories?: string[];
  /** Subresources served as `<plural>/<sub>`. */
  subresources?: string[];
  /** Verbs when not all eight (the review APIs only take `create`). */
  verbs?: string[];
  /** Nothing is stored: each create is answered and forgotten (TokenReview, SubjectAccessReview …). */
  virtual?: boolean;
  /**
   * Where the objects live. Two API types can share storage (core/v1 Events
   * and events.k8s.io/v1 Events are one stored object shown two ways).
   */
  storage: string;
  /** Set for custom resources: what their CRD says about them. */
  custom?: CustomInfo;
}

/** A printer column of a CRD version (additionalPrinterColumns). */
export interface PrinterColumn {
  name: string;
  type: string;
  format?: string;
  description?: string;
  priority?: number;
  jsonPath: string;
}

/** What a custom resource type carries beyond the built-in fields, from its CRD. */
export interface CustomInfo {
  /** The CRD's name, `<plural>.<group>`. */
  crd: string;
  /** The version's openAPIV3Schema (structural). */
  schema: Record<string, any> | undefined;
  /** names.listKind, for the list's OpenAPI schema. */
  listKind?: string;
  /** The version's selectableFields' JSONPaths (published in OpenAPI; field selectors on them are not modelled). */
  selectableFields?: string[];
  scale?: { specReplicasPath: string; statusReplicasPath: string; labelSelectorPath?: string };
  columns: PrinterColumn[];
  /** The version objects are stored in; the others are shown by rewriting apiVersion (conversion "None"). */
  storage: boolean;
  /** The CRD is being deleted: its objects may be read and deleted, not created. */
  terminating: boolean;
}

const ALL_VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

function r(
  group: string,
  version: string,
  kind: string,
  plural: string,
  namespaced: boolean,
  extra: Partial<ResourceType> = {},
): ResourceType {
  return {
    group,
    version,
    kind,
    plural,
    singular: kind.toLowerCase(),
    namespaced,
    storage: extra.storage ?? (group ? `${group}/${plural}` : plural),
    ...extra,
  };
}

export const RESOURCES: readonly ResourceType[] = Object.freeze([
  r('', 'v1', 'Namespace', 'namespaces', false, { shortNames: ['ns'], subresources: ['status', 'finalize'] }),
  r('', 'v1', 'Node', 'nodes', false, { shortNames: ['no'], subresources: ['status'] }),
  r('', 'v1', 'Pod', 'pods', true, {
    shortNames: ['po'],
    categories: ['all'],
    subresources: ['status', 'log', 'eviction', 'binding'],
  }),
  r('', 'v1', 'Event', 'events', true, { shortNames: ['ev'], storage: 'events' }),
  r('', 'v1', 'Service', 'services', true, { shortNames: ['svc'], categories: ['all'], subresources: ['status'] }),
  r('', 'v1', 'ConfigMap', 'configmaps', true, { shortNames: ['cm'] }),
  r('', 'v1', 'Secret', 'secrets', true),
  r('', 'v1', 'LimitRange', 'limitranges', true, { shortNames: ['limits'] }),
  r('', 'v1', 'ResourceQuota', 'resourcequotas', true, { shortNames: ['quota'], subresources: ['status'] }),
  r('', 'v1', 'ServiceAccount', 'serviceaccounts', true, { shortNames: ['sa'], subresources: ['token'] }),
  r('', 'v1', 'Endpoints', 'endpoints', true, { singular: 'endpoints', shortNames: ['ep'] }),
  r('', 'v1', 'PersistentVolumeClaim', 'persistentvolumeclaims', true, { shortNames: ['pvc'], subresources: ['status'] }),
  r('', 'v1', 'PersistentVolume', 'persistentvolumes', false, { shortNames: ['pv'], subresources: ['status'] }),
  r('apps', 'v1', 'Deployment', 'deployments', true, {
    shortNames: ['deploy'],
    categories: ['all'],
    subresources: ['status', 'scale'],
  }),
  r('apps', 'v1', 'ReplicaSet', 'replicasets', true, {
    shortNames: ['rs'],
    categories: ['all'],
    subresources: ['status', 'scale'],
  }),
  r('apps', 'v1', 'DaemonSet', 'daemonsets', true, { shortNames: ['ds'], categories: ['all'], subresources: ['status'] }),
  r('apps', 'v1', 'StatefulSet', 'statefulsets', true, {
    shortNames: ['sts'],
    categories: ['all'],
    subresources: ['status', 'scale'],
  }),
  r('apps', 'v1', 'ControllerRevision', 'controllerrevisions', true),
  r('batch', 'v1', 'Job', 'jobs', true, { categories: ['all'], subresources: ['status'] }),
  r('batch', 'v1', 'CronJob', 'cronjobs', true, { shortNames: ['cj'], categories: ['all'], subresources: ['status'] }),
  // v2 first: it is the stored and preferred version; v1 is served by conversion (convert.ts).
  r('autoscaling', 'v2', 'HorizontalPodAutoscaler', 'horizontalpodautoscalers', true, {
    shortNames: ['hpa'],
    categories: ['all'],
    subresources: ['status'],
  }),
  r('autoscaling', 'v1', 'HorizontalPodAutoscaler', 'horizontalpodautoscalers', true, {
    shortNames: ['hpa'],
    categories: ['all'],
    subresources: ['status'],
    storage: 'autoscaling/horizontalpodautoscalers',
  }),
  r('coordination.k8s.io', 'v1', 'Lease', 'leases', true),
  r('policy', 'v1', 'PodDisruptionBudget', 'poddisruptionbudgets', true, { shortNames: ['pdb'], subresources: ['status'] }),
  r('events.k8s.io', 'v1', 'Event', 'events', true, { shortNames: ['ev'], storage: 'events' }),
  r('discovery.k8s.io', 'v1', 'EndpointSlice', 'endpointslices', true),
  r('networking.k8s.io', 'v1', 'Ingress', 'ingresses', true, { shortNames: ['ing'], subresources: ['status'] }),
  r('networking.k8s.io', 'v1', 'IngressClass', 'ingressclasses', false),
  r('networking.k8s.io', 'v1', 'NetworkPolicy', 'networkpolicies', true, { shortNames: ['netpol'] }),
  r('storage.k8s.io', 'v1', 'StorageClass', 'storageclasses', false, { shortNames: ['sc'] }),
  r('apiextensions.k8s.io', 'v1', 'CustomResourceDefinition', 'customresourcedefinitions', false, {
    shortNames: ['crd', 'crds'],
    categories: ['api-extensions'],
    subresources: ['status'],
  }),
  review('authentication.k8s.io', 'SelfSubjectReview', 'selfsubjectreviews', false),
  review('authentication.k8s.io', 'TokenReview', 'tokenreviews', false),
  review('authorization.k8s.io', 'LocalSubjectAccessReview', 'localsubjectaccessreviews', true),
  review('authorization.k8s.io', 'SelfSubjectAccessReview', 'selfsubjectaccessreviews', false),
  review('authorization.k8s.io', 'SelfSubjectRulesReview', 'selfsubjectrulesreviews', false),
  review('authorization.k8s.io', 'SubjectAccessReview', 'subjectaccessreviews', false),
  r('rbac.authorization.k8s.io', 'v1', 'ClusterRoleBinding', 'clusterrolebindings', false),
  r('rbac.authorization.k8s.io', 'v1', 'ClusterRole', 'clusterroles', false),
  r('rbac.authorization.k8s.io', 'v1', 'RoleBinding', 'rolebindings', true),
  r('rbac.authorization.k8s.io', 'v1', 'Role', 'roles', true),
  r('scheduling.k8s.io', 'v1', 'PriorityClass', 'priorityclasses', false, { shortNames: ['pc'] }),
]);

function review(group: string, kind: string, plural: string, namespaced: boolean): ResourceType {
  return r(group, 'v1', kind, plural, namespaced, { verbs: ['create'], virtual: true });
}

/**
 * The order kube-apiserver 1.32 lists its groups in (/apis, aggregated
 * discovery); groups not named here follow in the order RESOURCES has them.
 */
const GROUP_ORDER = [
  'apiregistration.k8s.io', 'apps', 'events.k8s.io', 'authentication.k8s.io', 'authorization.k8s.io', 'autoscaling', 'batch',
  'certificates.k8s.io', 'networking.k8s.io', 'policy', 'rbac.authorization.k8s.io', 'storage.k8s.io', 'admissionregistration.k8s.io',
  'apiextensions.k8s.io', 'scheduling.k8s.io', 'coordination.k8s.io', 'node.k8s.io', 'discovery.k8s.io', 'flowcontrol.apiserver.k8s.io',
];

export const VERBS = ALL_VERBS;

export function apiVersionOf(t: Pick<ResourceType, 'group' | 'version'>): string {
  return t.group ? `${t.group}/${t.version}` : t.version;
}

export function findResource(group: string, version: string, plural: string): ResourceType | undefined {
  return RESOURCES.find((t) => t.group === group && t.version === version && t.plural === plural);
}

/** The stored type for an object's apiVersion + kind, as written in a manifest (reviews are never stored). */
export function findByKind(apiVersion: string, kind: string): ResourceType | undefined {
  return RESOURCES.find((t) => !t.virtual && apiVersionOf(t) === apiVersion && t.kind === kind);
}

/** The canonical type of a storage key (core Event for 'events', autoscaling/v2 for HPAs). */
export function typeOfStorage(storage: string): ResourceType {
  const t = RESOURCES.find((x) => x.storage === storage && !x.virtual);
  if (!t) throw new Error(`unknown storage ${storage}`);
  return t;
}

/** Groups in discovery order, each with its versions, the preferred one first. */
export function groups(): { name: string; versions: string[] }[] {
  const out = new Map<string, Set<string>>();
  for (const t of RESOURCES) {
    if (!t.group) continue;
    if (!out.has(t.group)) out.set(t.group, new Set());
    out.get(t.group)!.add(t.version);
  }
  const rank = (g: string) => (GROUP_ORDER.includes(g) ? GROUP_ORDER.indexOf(g) : GROUP_ORDER.length);
  const all = [...out].map(([name, versions]) => ({ name, versions: [...versions] }));
  return all.map((g, i) => ({ g, i })).sort((a, b) => rank(a.g.name) - rank(b.g.name) || a.i - b.i).map((x) => x.g);
}

/** The verbs a type serves. */
export function verbsOf(t: ResourceType): string[] {
  if (t.verbs) return [...t.verbs];
  // Namespaces are deleted one by one (their contents are drained first).
  return t.plural === 'namespaces' ? ALL_VERBS.filter((v) => v !== 'deletecollection') : [...ALL_VERBS];
}
