// The patchStrategy/patchMergeKey struct tags of k8s.io/api for the fields
// kubectl and controllers patch. Fields not listed behave like untagged ones:
// maps merge key by key, lists are replaced whole.

export interface FieldMeta {
  strategy?: 'merge' | 'replace';
  mergeKey?: string;
  /** The element's fields (list of objects) or the nested struct's fields (map). */
  schema?: Schema;
}
export type Schema = Record<string, FieldMeta>;

const mergeBy = (mergeKey?: string, schema?: Schema): FieldMeta => ({ strategy: 'merge', mergeKey, schema });
const struct = (schema: Schema): FieldMeta => ({ schema });

const CONTAINER: Schema = {
  ports: mergeBy('containerPort'),
  env: mergeBy('name'),
  volumeMounts: mergeBy('mountPath'),
  volumeDevices: mergeBy('devicePath'),
};

const POD_SPEC: Schema = {
  containers: mergeBy('name', CONTAINER),
  initContainers: mergeBy('name', CONTAINER),
  ephemeralContainers: mergeBy('name', CONTAINER),
  volumes: mergeBy('name'),
  imagePullSecrets: mergeBy('name'),
  hostAliases: mergeBy('ip'),
  topologySpreadConstraints: mergeBy('topologyKey'),
  schedulingGates: mergeBy('name'),
  resourceClaims: mergeBy('name'),
};

const OBJECT_META: Schema = { ownerReferences: mergeBy('uid'), finalizers: mergeBy() };
const CONDITIONS: Schema = { conditions: mergeBy('type') };
const POD_TEMPLATE: Schema = { metadata: struct(OBJECT_META), spec: struct(POD_SPEC) };
const WORKLOAD_SPEC: Schema = { template: struct(POD_TEMPLATE) };

const typed = (spec: Schema, status: Schema = CONDITIONS): Schema => ({
  metadata: struct(OBJECT_META),
  spec: struct(spec),
  status: struct(status),
});

const SCHEMAS: Record<string, Schema> = {
  Pod: typed(POD_SPEC, { conditions: mergeBy('type'), podIPs: mergeBy('ip'), hostIPs: mergeBy('ip'), resourceClaimStatuses: mergeBy('name') }),
  Node: typed({ podCIDRs: mergeBy() }, { conditions: mergeBy('type'), addresses: mergeBy('type') }),
  Service: typed({ ports: mergeBy('port') }),
  Deployment: typed(WORKLOAD_SPEC),
  ReplicaSet: typed(WORKLOAD_SPEC),
  StatefulSet: typed(WORKLOAD_SPEC),
  DaemonSet: typed(WORKLOAD_SPEC),
  Job: typed(WORKLOAD_SPEC),
  ServiceAccount: { metadata: struct(OBJECT_META), secrets: mergeBy('name') },
};

export function schemaForKind(kind: string | undefined): Schema {
  return SCHEMAS[kind ?? ''] ?? typed({});
}
