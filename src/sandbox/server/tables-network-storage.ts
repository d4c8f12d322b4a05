// Printers for Endpoints and EndpointSlices, claims, volumes and storage
// classes, Ingresses, IngressClasses and NetworkPolicies
// (pkg/printers/internalversion/printers.go, Kubernetes 1.32).
import type { K8sObject } from '../types.ts';
import { AGE, NAME, age, col, type Printer } from './tables-format.ts';
import { formatSelector } from './tables-workloads.ts';

/** listWithMoreString: at most three, then " + N more...", "<unset>" when empty. */
function listWithMore(items: string[], max = 3): string {
  if (items.length > max) return `${items.slice(0, max).join(',')} + ${items.length - max} more...`;
  return items.join(',') || '<unset>';
}

/** formatEndpoints: ip:port for each address of each port, at most three. */
function formatEndpoints(o: K8sObject): string {
  const subsets: any[] = o.subsets ?? [];
  if (!subsets.length) return '<none>';
  const list: string[] = [];
  for (const ss of subsets) {
    const addrs: string[] = (ss.addresses ?? []).map((a: any) => a.ip);
    if (!(ss.ports ?? []).length) list.push(...addrs);
    else for (const p of ss.ports) for (const ip of addrs) list.push(ip.includes(':') ? `[${ip}]:${p.port}` : `${ip}:${p.port}`);
  }
  return list.length > 3 ? `${list.slice(0, 3).join(',')} + ${list.length - 3} more...` : list.join(',');
}

const ACCESS_MODES: [string, string][] = [['ReadWriteOnce', 'RWO'], ['ReadOnlyMany', 'ROX'], ['ReadWriteMany', 'RWX'], ['ReadWriteOncePod', 'RWOP']];
/** helper.GetAccessModesAsString: fixed order, short forms. */
const accessModes = (modes: string[] | undefined) => ACCESS_MODES.filter(([m]) => (modes ?? []).includes(m)).map(([, s]) => s).join(',');

const endpoints: Printer = {
  columns: [NAME, col('Endpoints', 'string', 'The set of all endpoints is the union of all subsets. Addresses are placed into subsets according to the IPs they share. A single address with multiple ports, some of which are ready and some of which are not (because they come from different containers) will result in the address being displayed in different subsets for the different ports. No address will appear in both Addresses and NotReadyAddresses in the same subset. Sets of addresses and ports that comprise a service.'), AGE],
  cells: (o, now) => [o.metadata.name, formatEndpoints(o), age(o, now)],
};

const endpointSlices: Printer = {
  columns: [
    NAME,
    col('AddressType', 'string', 'addressType specifies the type of address carried by this EndpointSlice. All addresses in this slice must be the same type. This field is immutable after creation.'),
    col('Ports', 'string', 'ports specifies the list of network ports exposed by each endpoint in this slice. Each port must have a unique name.'),
    col('Endpoints', 'string', 'endpoints is a list of unique endpoints in this slice. Each slice may include a maximum of 1000 endpoints.'),
    AGE,
  ],
  cells: (o, now) => [
    o.metadata.name, o.addressType ?? '',
    listWithMore((o.ports ?? []).map((p: any) => (p.port !== undefined ? String(p.port) : p.name ?? '*'))),
    listWithMore((o.endpoints ?? []).flatMap((e: any) => e.addresses ?? [])),
    age(o, now),
  ],
};

const claims: Printer = {
  columns: [
    NAME,
    col('Status', 'string', 'phase represents the current phase of PersistentVolumeClaim.'),
    col('Volume', 'string', 'volumeName is the binding reference to the PersistentVolume backing this claim.'),
    col('Capacity', 'string', 'capacity represents the actual resources of the underlying volume.'),
    col('Access Modes', 'string', 'accessModes contains the actual access modes the volume backing the PVC has.'),
    col('StorageClass', 'string', 'StorageClass of the pvc'),
    col('VolumeAttributesClass', 'string', 'VolumeAttributesClass of the pvc'),
    AGE,
    col('VolumeMode', 'string', 'volumeMode defines what type of volume is required by the claim. Value of Filesystem is implied when not included in claim spec.', 1),
  ],
  cells(o, now) {
    const bound = Boolean(o.spec?.volumeName);
    return [
      o.metadata.name, o.metadata.deletionTimestamp ? 'Terminating' : o.status?.phase ?? '', o.spec?.volumeName ?? '',
      bound ? o.status?.capacity?.storage ?? '' : '', bound ? accessModes(o.status?.accessModes) : '',
      o.spec?.storageClassName ?? o.metadata.annotations?.['volume.beta.kubernetes.io/storage-class'] ?? '',
      o.spec?.volumeAttributesClassName ?? '<unset>', age(o, now), o.spec?.volumeMode ?? '<unset>',
    ];
  },
};

const volumes: Printer = {
  columns: [
    NAME,
    col('Capacity', 'string', 'capacity is the description of the persistent volume\'s resources and capacity.'),
    col('Access Modes', 'string', 'accessModes contains all ways the volume can be mounted.'),
    col('Reclaim Policy', 'string', 'persistentVolumeReclaimPolicy defines what happens to a persistent volume when released from its claim.'),
    col('Status', 'string', 'phase indicates if a volume is available, bound to a claim, or released by a claim.'),
    col('Claim', 'string', 'claimRef is part of a bi-directional binding between PersistentVolume and PersistentVolumeClaim.'),
    col('StorageClass', 'string', 'StorageClass of the pv'),
    col('VolumeAttributesClass', 'string', 'VolumeAttributesClass of the pv'),
    col('Reason', 'string', 'reason is a brief CamelCase string that describes any failure and is meant for machine parsing and tidy display in the CLI.'),
    AGE,
    col('VolumeMode', 'string', 'volumeMode defines if a volume is intended to be used with a formatted filesystem or to remain in raw block state. Value of Filesystem is implied when not included in spec.', 1),
  ],
  cells(o, now) {
    const ref = o.spec?.claimRef;
    return [
      o.metadata.name, o.spec?.capacity?.storage ?? '', accessModes(o.spec?.accessModes), o.spec?.persistentVolumeReclaimPolicy ?? '',
      o.metadata.deletionTimestamp ? 'Terminating' : o.status?.phase ?? '', ref ? `${ref.namespace}/${ref.name}` : '',
      o.spec?.storageClassName ?? '', o.spec?.volumeAttributesClassName ?? '<unset>', o.status?.reason ?? '', age(o, now), o.spec?.volumeMode ?? '<unset>',
    ];
  },
};

const storageClasses: Printer = {
  columns: [
    NAME,
    col('Provisioner', 'string', 'provisioner indicates the type of the provisioner.'),
    col('ReclaimPolicy', 'string', 'reclaimPolicy controls the reclaimPolicy for dynamically provisioned PersistentVolumes of this storage class. Defaults to Delete.'),
    col('VolumeBindingMode', 'string', 'volumeBindingMode indicates how PersistentVolumeClaims should be provisioned and bound.  When unset, VolumeBindingImmediate is used. This field is only honored by servers that enable the VolumeScheduling feature.'),
    col('AllowVolumeExpansion', 'string', 'allowVolumeExpansion shows whether the storage class allow volume expand.'),
    AGE,
  ],
  cells(o, now) {
    const isDefault = ['true'].includes(o.metadata.annotations?.['storageclass.kubernetes.io/is-default-class'] ?? o.metadata.annotations?.['storageclass.beta.kubernetes.io/is-default-class'] ?? '');
    return [
      isDefault ? `${o.metadata.name} (default)` : o.metadata.name, o.provisioner ?? '', o.reclaimPolicy ?? 'Delete',
      o.volumeBindingMode ?? 'Immediate', o.allowVolumeExpansion === true, age(o, now),
    ];
  },
};

/** formatHosts: the rules' hosts, at most four, "*" when none. */
function formatHosts(rules: any[] | undefined): string {
  const hosts = (rules ?? []).map((r) => r?.host).filter(Boolean) as string[];
  if (!hosts.length) return '*';
  return hosts.length > 4 ? `${hosts.slice(0, 4).join(',')} + ${hosts.length - 4} more...` : hosts.join(',');
}

const ingresses: Printer = {
  columns: [
    NAME,
    col('Class', 'string', 'The name of the IngressClass resource that should be used for additional configuration'),
    col('Hosts', 'string', 'Hosts that incoming requests are matched against before the ingress rule'),
    col('Address', 'string', 'Address is a list containing ingress points for the load-balancer'),
    col('Ports', 'string', 'Ports of TLS configurations that open'),
    AGE,
  ],
  cells(o, now) {
    const lb: any[] = o.status?.loadBalancer?.ingress ?? [];
    const address = [...new Set(lb.map((i) => i.ip || i.hostname).filter(Boolean))].sort().join(',');
    return [o.metadata.name, o.spec?.ingressClassName ?? '<none>', formatHosts(o.spec?.rules), address, (o.spec?.tls ?? []).length ? '80, 443' : '80', age(o, now)];
  },
};

const ingressClasses: Printer = {
  columns: [
    NAME,
    col('Controller', 'string', 'Controller that is responsible for handling this class'),
    col('Parameters', 'string', 'A reference to a resource with additional parameters'),
    AGE,
  ],
  cells(o, now) {
    const p = o.spec?.parameters;
    const params = p ? `${p.kind}${p.apiGroup ? `.${p.apiGroup}` : ''}/${p.name}` : '<none>';
    return [o.metadata.name, o.spec?.controller ?? '', params, age(o, now)];
  },
};

const networkPolicies: Printer = {
  columns: [NAME, col('Pod-Selector', 'string', 'Selects the pods to which this NetworkPolicy object applies. The array of ingress rules is applied to any pods selected by this field. Multiple network policies can select the same set of pods. In this case, the ingress rules for each are combined additively. This field is NOT optional and follows standard label selector semantics. An empty podSelector matches all pods in this namespace.'), AGE],
  cells: (o, now) => [o.metadata.name, formatSelector(o.spec?.podSelector), age(o, now)],
};

export const NETWORK_STORAGE_PRINTERS: Record<string, Printer> = {
  endpoints,
  'discovery.k8s.io/endpointslices': endpointSlices,
  persistentvolumeclaims: claims,
  persistentvolumes: volumes,
  'storage.k8s.io/storageclasses': storageClasses,
  'networking.k8s.io/ingresses': ingresses,
  'networking.k8s.io/ingressclasses': ingressClasses,
  'networking.k8s.io/networkpolicies': networkPolicies,
};
