// Defaults, admission and validation for the storage, networking and
// discovery kinds: PersistentVolumeClaims and PersistentVolumes,
// StorageClasses, Ingresses and IngressClasses, NetworkPolicies, Endpoints
// and EndpointSlices. Messages are those of pkg/apis/*/validation (1.32);
// only the checks a manifest commonly trips are modelled.
import type { StatusCause } from './status.ts';
import type { K8sObject } from './types.ts';

export interface ClassLookup {
  list(storage: string, ns?: string): { items: K8sObject[] };
}

const DEFAULT_SC = 'storageclass.kubernetes.io/is-default-class';
const DEFAULT_IC = 'ingressclass.kubernetes.io/is-default-class';
const ACCESS_MODES = ['ReadOnlyMany', 'ReadWriteMany', 'ReadWriteOnce', 'ReadWriteOncePod'];

/** The admission plugins' choice of a default class: the newest one annotated default (then by name). */
export function defaultClass(store: ClassLookup, storage: string): string | undefined {
  const annotation = storage === 'storage.k8s.io/storageclasses' ? DEFAULT_SC : DEFAULT_IC;
  const defaults = store.list(storage).items.filter((c) => c.metadata.annotations?.[annotation] === 'true');
  defaults.sort((a, b) => (b.metadata.creationTimestamp ?? '').localeCompare(a.metadata.creationTimestamp ?? '') || (a.metadata.name! < b.metadata.name! ? -1 : 1));
  return defaults[0]?.metadata.name;
}

export function isDefaultStorageClass(sc: K8sObject | undefined): boolean {
  return sc?.metadata.annotations?.[DEFAULT_SC] === 'true';
}

/** StorageObjectInUseProtection admission: claims and volumes in use cannot vanish under a pod. */
function addFinalizer(obj: K8sObject, f: string): void {
  const list = obj.metadata.finalizers ?? [];
  if (!list.includes(f)) obj.metadata.finalizers = [...list, f];
}

/** Returns true when it handled `storage`. */
export function applyNetworkStorageDefaults(storage: string, obj: K8sObject, store: ClassLookup, creating: boolean): boolean {
  const spec = obj.spec;
  switch (storage) {
    case 'persistentvolumeclaims':
      obj.spec ??= {};
      obj.spec.volumeMode ??= 'Filesystem';
      // DefaultStorageClass admission: only a class left out entirely, not "".
      if (creating && obj.spec.storageClassName === undefined) {
        const sc = defaultClass(store, 'storage.k8s.io/storageclasses');
        if (sc) obj.spec.storageClassName = sc;
      }
      if (creating) {
        obj.status = { phase: 'Pending' };
        addFinalizer(obj, 'kubernetes.io/pvc-protection');
      }
      return true;
    case 'persistentvolumes':
      obj.spec ??= {};
      obj.spec.persistentVolumeReclaimPolicy ??= 'Retain';
      obj.spec.volumeMode ??= 'Filesystem';
      if (creating) {
        obj.status = { phase: 'Pending' };
        addFinalizer(obj, 'kubernetes.io/pv-protection');
      }
      return true;
    case 'storage.k8s.io/storageclasses':
      obj.reclaimPolicy ??= 'Delete';
      obj.volumeBindingMode ??= 'Immediate';
      return true;
    case 'networking.k8s.io/ingresses':
      obj.spec ??= {};
      if (creating && obj.spec.ingressClassName === undefined && !obj.metadata.annotations?.['kubernetes.io/ingress.class']) {
        const ic = defaultClass(store, 'networking.k8s.io/ingressclasses');
        if (ic) obj.spec.ingressClassName = ic;
      }
      if (creating) obj.status = { loadBalancer: {} };
      return true;
    case 'networking.k8s.io/networkpolicies': {
      obj.spec ??= {};
      obj.spec.podSelector ??= {};
      if (!obj.spec.policyTypes?.length) obj.spec.policyTypes = ['Ingress', ...(obj.spec.egress?.length ? ['Egress'] : [])];
      for (const rule of [...(spec?.ingress ?? []), ...(spec?.egress ?? [])]) for (const p of rule?.ports ?? []) p.protocol ??= 'TCP';
      return true;
    }
    case 'endpoints':
    case 'discovery.k8s.io/endpointslices':
    case 'networking.k8s.io/ingressclasses':
      return true;
    default:
      return false;
  }
}

export function validateNetworkStorage(storage: string, obj: K8sObject, old: K8sObject | undefined): StatusCause[] {
  const causes: StatusCause[] = [];
  const required = (field: string, detail = '') => causes.push({ reason: 'FieldValueRequired', field, message: detail ? `Required value: ${detail}` : 'Required value' });
  const unsupported = (field: string, value: unknown, allowed: string[]) =>
    causes.push({ reason: 'FieldValueNotSupported', field, message: `Unsupported value: ${JSON.stringify(value)}: supported values: ${allowed.map((a) => JSON.stringify(a)).join(', ')}` });
  const invalid = (field: string, value: unknown, detail: string) => causes.push({ reason: 'FieldValueInvalid', field, message: `Invalid value: ${JSON.stringify(value)}: ${detail}` });
  const spec = obj.spec ?? {};
  switch (storage) {
    case 'persistentvolumeclaims': {
      const modes: unknown[] = spec.accessModes ?? [];
      if (!modes.length) required('spec.accessModes', 'at least 1 access mode is required');
      modes.forEach((m) => { if (!ACCESS_MODES.includes(m as string)) unsupported('spec.accessModes', m, ACCESS_MODES); });
      if (!spec.resources?.requests?.storage) required('spec.resources[storage]');
      if (old) {
        // Binding sets volumeName (and a class left unset may be given one); otherwise only a bound claim's requests change.
        const strip = (s: any) => {
          const { resources, volumeName, volumeAttributesClassName, storageClassName, ...rest } = structuredClone(s ?? {});
          return JSON.stringify({ ...rest, resources: { ...(resources ?? {}), requests: undefined } });
        };
        const renamed = old.spec?.volumeName && old.spec.volumeName !== spec.volumeName;
        const reclassed = old.spec?.storageClassName !== undefined && old.spec.storageClassName !== spec.storageClassName;
        if (strip(old.spec) !== strip(spec) || renamed || reclassed) {
          causes.push({ reason: 'FieldValueForbidden', field: 'spec', message: 'Forbidden: spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims' });
        }
      }
      break;
    }
    case 'persistentvolumes': {
      if (!spec.capacity?.storage) required('spec.capacity');
      if (!(spec.accessModes ?? []).length) required('spec.accessModes');
      (spec.accessModes ?? []).forEach((m: unknown) => { if (!ACCESS_MODES.includes(m as string)) unsupported('spec.accessModes', m, ACCESS_MODES); });
      const sources = ['hostPath', 'local', 'csi', 'nfs', 'iscsi', 'fc', 'awsElasticBlockStore', 'gcePersistentDisk', 'azureDisk', 'azureFile', 'cephfs', 'rbd', 'flexVolume', 'cinder', 'glusterfs', 'vsphereVolume', 'portworxVolume', 'scaleIO', 'storageos', 'photonPersistentDisk', 'quobyte', 'flocker'];
      if (!sources.some((s) => spec[s])) required('spec', 'must specify a volume type');
      const policy = spec.persistentVolumeReclaimPolicy;
      if (policy && !['Delete', 'Recycle', 'Retain'].includes(policy)) unsupported('spec.persistentVolumeReclaimPolicy', policy, ['Delete', 'Recycle', 'Retain']);
      break;
    }
    case 'storage.k8s.io/storageclasses': {
      if (!obj.provisioner) required('provisioner');
      if (obj.reclaimPolicy && !['Delete', 'Retain'].includes(obj.reclaimPolicy)) unsupported('reclaimPolicy', obj.reclaimPolicy, ['Delete', 'Retain']);
      if (obj.volumeBindingMode && !['Immediate', 'WaitForFirstConsumer'].includes(obj.volumeBindingMode)) unsupported('volumeBindingMode', obj.volumeBindingMode, ['Immediate', 'WaitForFirstConsumer']);
      if (old) {
        for (const f of ['parameters', 'provisioner', 'reclaimPolicy', 'volumeBindingMode']) {
          if (JSON.stringify(old[f] ?? null) !== JSON.stringify(obj[f] ?? null)) causes.push({ reason: 'FieldValueForbidden', field: f, message: `Forbidden: updates to ${f} are forbidden.` });
        }
      }
      break;
    }
    case 'networking.k8s.io/ingresses':
      validateIngress(spec, causes, invalid, required, unsupported);
      break;
    case 'networking.k8s.io/ingressclasses':
      if (!spec.controller) required('spec.controller');
      if (old && old.spec?.controller !== spec.controller) invalid('spec.controller', spec.controller, 'field is immutable');
      break;
    case 'networking.k8s.io/networkpolicies':
      (spec.policyTypes ?? []).forEach((p: unknown, i: number) => { if (p !== 'Ingress' && p !== 'Egress') unsupported(`spec.policyTypes[${i}]`, p, ['Egress', 'Ingress']); });
      for (const dir of ['ingress', 'egress']) {
        (spec[dir] ?? []).forEach((rule: any, i: number) => (rule?.ports ?? []).forEach((p: any, j: number) => {
          if (p?.protocol && !['SCTP', 'TCP', 'UDP'].includes(p.protocol)) unsupported(`spec.${dir}[${i}].ports[${j}].protocol`, p.protocol, ['SCTP', 'TCP', 'UDP']);
        }));
      }
      break;
    case 'discovery.k8s.io/endpointslices':
      if (!obj.addressType) required('addressType');
      else if (!['FQDN', 'IPv4', 'IPv6'].includes(obj.addressType)) unsupported('addressType', obj.addressType, ['FQDN', 'IPv4', 'IPv6']);
      if (old && old.addressType !== obj.addressType) invalid('addressType', obj.addressType, 'field is immutable');
      (obj.endpoints ?? []).forEach((e: any, i: number) => { if (!(e?.addresses ?? []).length) required(`endpoints[${i}].addresses`, 'must contain at least 1 address'); });
      break;
  }
  return causes;
}

type Invalid = (field: string, value: unknown, detail: string) => void;
type Required = (field: string, detail?: string) => void;
type Unsupported = (field: string, value: unknown, allowed: string[]) => void;

function validateIngress(spec: any, causes: StatusCause[], invalid: Invalid, required: Required, unsupported: Unsupported): void {
  const rules: any[] = spec.rules ?? [];
  if (!spec.defaultBackend && !rules.length) {
    causes.push({ reason: 'FieldValueInvalid', field: 'spec', message: 'Invalid value: []networking.IngressRule(nil): either `defaultBackend` or `rules` must be specified' });
  }
  const backend = (b: any, at: string) => {
    if (!b?.service && !b?.resource) return invalid(at, '', 'resource or service backend is required');
    if (b.service && b.resource) return invalid(at, '', 'cannot set both resource and service backends');
    if (!b.service) return;
    if (!b.service.name) required(`${at}.service.name`);
    const port = b.service.port ?? {};
    if (port.name && port.number) invalid(`${at}.service.port`, '', 'cannot set both port name & port number');
    else if (!port.name && !port.number) required(`${at}.service.port`, 'port name or number is required');
  };
  if (spec.defaultBackend) backend(spec.defaultBackend, 'spec.defaultBackend');
  rules.forEach((rule, i) => {
    (rule?.http?.paths ?? []).forEach((p: any, j: number) => {
      const at = `spec.rules[${i}].http.paths[${j}]`;
      // Without a pathType nothing else of the path is checked (validateHTTPIngressPath returns early).
      if (!p?.pathType) return required(`${at}.pathType`, 'pathType must be specified');
      if (!['Exact', 'ImplementationSpecific', 'Prefix'].includes(p.pathType)) unsupported(`${at}.pathType`, p.pathType, ['Exact', 'ImplementationSpecific', 'Prefix']);
      if ((p?.pathType === 'Exact' || p?.pathType === 'Prefix') && !String(p.path ?? '').startsWith('/')) invalid(`${at}.path`, p.path ?? '', 'must be an absolute path');
      backend(p?.backend, `${at}.backend`);
    });
  });
}
