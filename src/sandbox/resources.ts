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
  r('', 'v1', 'ServiceAccount', 'serviceaccounts', true, { shortNames: ['sa'] }),
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
  r('autoscaling', 'v2', 'HorizontalPodAutoscaler', 'horizontalpodautoscalers', true, {
    shortNames: ['hpa'],
    categories: ['all'],
    subresources: ['status'],
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
]);

export const VERBS = ALL_VERBS;

export function apiVersionOf(t: Pick<ResourceType, 'group' | 'version'>): string {
  return t.group ? `${t.group}/${t.version}` : t.version;
}

export function findResource(group: string, version: string, plural: string): ResourceType | undefined {
  return RESOURCES.find((t) => t.group === group && t.version === version && t.plural === plural);
}

/** The type for an object's apiVersion + kind, as written in a manifest. */
export function findByKind(apiVersion: string, kind: string): ResourceType | undefined {
  return RESOURCES.find((t) => apiVersionOf(t) === apiVersion && t.kind === kind);
}

/** The canonical type of a storage key (core Event for 'events'). */
export function typeOfStorage(storage: string): ResourceType {
  const t = RESOURCES.find((x) => x.storage === storage);
  if (!t) throw new Error(`unknown storage ${storage}`);
  return t;
}

/** Groups in discovery order, each with its versions. */
export function groups(): { name: string; versions: string[] }[] {
  const out = new Map<string, Set<string>>();
  for (const t of RESOURCES) {
    if (!t.group) continue;
    if (!out.has(t.group)) out.set(t.group, new Set());
    out.get(t.group)!.add(t.version);
  }
  return [...out].map(([name, versions]) => ({ name, versions: [...versions] }));
}
