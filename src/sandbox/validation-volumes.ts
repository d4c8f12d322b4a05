// Volumes and volume mounts as pkg/apis/core/validation (1.32) checks them:
// ValidateVolumes (names, duplicates, exactly one source, in
// validateVolumeSource's order and with its field paths — `downwarAPI` and
// `cephFS` included), the sources manifests use (emptyDir, hostPath, secret,
// configMap, persistentVolumeClaim, downwardAPI, projected, nfs, csi,
// ephemeral, gitRepo) and ValidateVolumeMounts. A volume without any source
// never gets here: SetDefaults_Volume gives it an emptyDir.
import { isNegative, parseQuantityExact } from './quantity-canonical.ts';
import type { StatusCause } from './status.ts';
import { fieldSelectorCauses, resourceSelectorCauses, VOLUME_FIELD_PATHS } from './validation-env.ts';
import { dns1123Label, dns1123Subdomain, duplicate, each, forbidden, goValue, invalid, list, notFound, notSupported, required } from './validation-rules.ts';

/** Every volume source in validateVolumeSource's order, with the path its "more than 1" error names. */
const SOURCES: [key: string, forbiddenPath: string][] = [
  ['emptyDir', 'emptyDir'], ['hostPath', 'hostPath'], ['gitRepo', 'gitRepo'], ['gcePersistentDisk', 'gcePersistentDisk'],
  ['awsElasticBlockStore', 'awsElasticBlockStore'], ['secret', 'secret'], ['nfs', 'nfs'], ['iscsi', 'iscsi'],
  ['glusterfs', 'glusterfs'], ['flocker', 'flocker'], ['persistentVolumeClaim', 'persistentVolumeClaim'], ['rbd', 'rbd'],
  ['cinder', 'cinder'], ['cephfs', 'cephFS'], ['quobyte', 'quobyte'], ['downwardAPI', 'downwarAPI'], ['fc', 'fc'],
  ['flexVolume', 'flexVolume'], ['configMap', 'configMap'], ['azureFile', 'azureFile'], ['vsphereVolume', 'vsphereVolume'],
  ['photonPersistentDisk', 'photonPersistentDisk'], ['portworxVolume', 'portworxVolume'], ['azureDisk', 'azureDisk'],
  ['storageos', 'storageos'], ['projected', 'projected'], ['scaleIO', 'scaleIO'], ['csi', 'csi'], ['ephemeral', 'ephemeral'],
];

const HOST_PATH_TYPES = ['', 'BlockDevice', 'CharDevice', 'Directory', 'DirectoryOrCreate', 'File', 'FileOrCreate', 'Socket'];
const FILE_MODE = 'must be a number between 0 and 0777 (octal), both inclusive';

/** ValidateVolumes: the causes, and the volumes that are valid (only those can be mounted). */
export function volumesCauses(volumes: unknown, path: string, podName?: string): { causes: StatusCause[]; valid: Map<string, any> } {
  const causes: StatusCause[] = [];
  const valid = new Map<string, any>();
  const names = new Set<string>();
  const created = new Set(podName ? list(volumes).filter((v) => v?.ephemeral).map((v) => `${podName}-${v.name}`) : []);
  list(volumes).forEach((vol: any, i: number) => {
    const p = `${path}[${i}]`;
    const el = sourceCauses(vol ?? {}, p, podName);
    if (!vol?.name) el.push(required(`${p}.name`));
    else el.push(...each(dns1123Label(vol.name), `${p}.name`, vol.name));
    if (names.has(vol?.name ?? '')) el.push(duplicate(`${p}.name`, vol?.name ?? ''));
    if (!el.length) {
      names.add(vol.name);
      valid.set(vol.name, vol);
    } else causes.push(...el);
    const claim = vol?.persistentVolumeClaim?.claimName;
    if (claim && created.has(claim)) causes.push(invalid(`${p}.persistentVolumeClaim.claimName`, goValue(claim), 'must not reference a PVC that gets created for an ephemeral volume'));
  });
  return { causes, valid };
}

/** validateVolumeSource: the first source is validated, each further one Forbidden, none is Required. */
function sourceCauses(vol: any, p: string, podName?: string): StatusCause[] {
  const out: StatusCause[] = [];
  let n = 0;
  for (const [key, forbiddenPath] of SOURCES) {
    const src = vol[key];
    if (src === undefined || src === null) continue;
    if (key === 'emptyDir') {
      // emptyDir is counted but never "more than 1": it comes first.
      n++;
      const size = parseQuantityExact(src.sizeLimit);
      if (size && isNegative(size)) out.push(forbidden(`${p}.emptyDir.sizeLimit`, 'SizeLimit field must be a valid resource quantity'));
      continue;
    }
    if (n > 0) {
      out.push(forbidden(`${p}.${forbiddenPath}`, 'may not specify more than 1 volume type'));
      continue;
    }
    n++;
    out.push(...oneSource(key, src, p, vol.name, podName));
  }
  if (n === 0) out.push(required(p, 'must specify a volume type'));
  return out;
}

function oneSource(key: string, src: any, p: string, volName: string | undefined, podName?: string): StatusCause[] {
  const at = `${p}.${key}`;
  switch (key) {
    case 'hostPath': {
      if (!src.path) return [required(`${at}.path`)];
      const out = noBacksteps(src.path, `${at}.path`);
      if (src.type !== undefined && src.type !== null && !HOST_PATH_TYPES.includes(src.type)) out.push(notSupported(`${at}.type`, src.type, HOST_PATH_TYPES));
      return out;
    }
    case 'gitRepo':
      return [...(src.repository ? [] : [required(`${at}.repository`)]), ...localDescendingPath(src.directory ?? '', `${at}.directory`)];
    case 'secret':
      return keyedSource(src, at, 'secretName');
    case 'configMap':
      return keyedSource(src, at, 'name');
    case 'nfs': {
      const out: StatusCause[] = [];
      if (!src.server) out.push(required(`${at}.server`));
      if (!src.path) out.push(required(`${at}.path`));
      if (!String(src.path ?? '').startsWith('/')) out.push(invalid(`${at}.path`, goValue(src.path ?? ''), 'must be an absolute path'));
      return out;
    }
    case 'persistentVolumeClaim':
      return src.claimName ? [] : [required(`${at}.claimName`)];
    case 'downwardAPI':
      return [...modeCauses(src.defaultMode, `${at}.defaultMode`), ...list(src.items).flatMap((f) => downwardFileCauses(f ?? {}, at))];
    case 'projected':
      return [...modeCauses(src.defaultMode, `${at}.defaultMode`), ...projectionCauses(src, at)];
    case 'csi': {
      const driver: string = src.driver ?? '';
      const out: StatusCause[] = [];
      if (!driver) out.push(required(`${at}.driver`));
      if (driver.length > 63) out.push({ reason: 'FieldValueTooLong', message: 'Too long: may not be more than 63 bytes', field: `${at}.driver` });
      out.push(...each(dns1123Subdomain(driver.toLowerCase()), `${at}.driver`, driver));
      const ref = src.nodePublishSecretRef;
      if (ref && !ref.name) out.push(required(`${at}.nodePublishSecretRef.name`));
      else if (ref) out.push(...each(dns1123Subdomain(ref.name), `${at}.name`, ref.name));
      return out;
    }
    case 'ephemeral': {
      if (!src.volumeClaimTemplate) return [required(`${at}.volumeClaimTemplate`)];
      if (!podName || !volName) return [];
      const pvc = `${podName}-${volName}`;
      return dns1123Subdomain(pvc).map((m) => invalid(`${p}.name`, goValue(volName), `PVC name ${JSON.stringify(pvc)}: ${m}`));
    }
  }
  return [];
}

/** validateSecretVolumeSource / validateConfigMapVolumeSource. */
function keyedSource(src: any, at: string, nameKey: string): StatusCause[] {
  const out: StatusCause[] = [];
  if (!src[nameKey]) out.push(required(`${at}.${nameKey}`));
  out.push(...modeCauses(src.defaultMode, `${at}.defaultMode`));
  list(src.items).forEach((kp: any, i: number) => out.push(...keyToPathCauses(kp ?? {}, `${at}.items[${i}]`)));
  return out;
}

function modeCauses(mode: unknown, field: string): StatusCause[] {
  return typeof mode === 'number' && (mode > 0o777 || mode < 0) ? [invalid(field, String(mode), FILE_MODE)] : [];
}

/** validateKeyToPath. */
function keyToPathCauses(kp: any, p: string): StatusCause[] {
  const out: StatusCause[] = [];
  if (!kp.key) out.push(required(`${p}.key`));
  if (!kp.path) out.push(required(`${p}.path`));
  out.push(...localNonReservedPath(kp.path ?? '', `${p}.path`));
  out.push(...modeCauses(kp.mode, `${p}.mode`));
  return out;
}

/** validateDownwardAPIVolumeFile: note the errors of a projected source name the source, not the item. */
function downwardFileCauses(file: any, p: string): StatusCause[] {
  const out: StatusCause[] = [];
  if (!file.path) out.push(required(`${p}.path`));
  out.push(...localNonReservedPath(file.path ?? '', `${p}.path`));
  if (file.fieldRef) {
    out.push(...fieldSelectorCauses(file.fieldRef, VOLUME_FIELD_PATHS, `${p}.fieldRef`));
    if (file.resourceFieldRef) out.push(invalid(p, '"resource"', 'fieldRef and resourceFieldRef can not be specified simultaneously'));
  } else if (file.resourceFieldRef) out.push(...resourceSelectorCauses(file.resourceFieldRef, `${p}.resourceFieldRef`, true));
  else out.push(required(p, 'one of fieldRef and resourceFieldRef is required'));
  out.push(...modeCauses(file.mode, `${p}.mode`));
  return out;
}

/** validateProjectionSources (secret, configMap, downwardAPI, serviceAccountToken). */
function projectionCauses(proj: any, at: string): StatusCause[] {
  const out: StatusCause[] = [];
  const paths = new Set<string>();
  const claim = (path: string, value: string) => {
    if (!path) return;
    if (paths.has(path)) out.push(invalid(at, goValue(value), 'conflicting duplicate paths'));
    paths.add(path);
  };
  list(proj.sources).forEach((src: any, i: number) => {
    const sp = `${at}.sources[${i}]`;
    let n = 0;
    for (const kind of ['secret', 'configMap']) {
      const s = src?.[kind];
      if (!s) continue;
      n++;
      if (!s.name) out.push(required(`${sp}.${kind}.name`));
      list(s.items).forEach((kp: any, j: number) => {
        out.push(...keyToPathCauses(kp ?? {}, `${sp}.${kind}.items[${j}]`));
        claim(kp?.path ?? '', s.name ?? '');
      });
    }
    if (src?.downwardAPI) {
      n++;
      for (const f of list(src.downwardAPI.items)) {
        out.push(...downwardFileCauses(f ?? {}, `${sp}.downwardAPI`));
        claim(f?.path ?? '', f?.path ?? '');
      }
    }
    const token = src?.serviceAccountToken;
    if (token) {
      n++;
      const exp = token.expirationSeconds ?? 3600;
      if (exp < 600) out.push(invalid(`${sp}.serviceAccountToken.expirationSeconds`, String(exp), 'may not specify a duration less than 10 minutes'));
      if (exp > 2 ** 32) out.push(invalid(`${sp}.serviceAccountToken.expirationSeconds`, String(exp), 'may not specify a duration larger than 2^32 seconds'));
      if (!token.path) out.push(required(`${at}.path`));
      else out.push(...localNonReservedPath(token.path, `${at}.path`));
    }
    if (src?.clusterTrustBundle) n++;
    if (n > 1) out.push(forbidden(sp, 'may not specify more than 1 volume type per source'));
  });
  return out;
}

/** validateLocalDescendingPath: relative, without `..`. */
export function localDescendingPath(target: string, field: string): StatusCause[] {
  const out = target.startsWith('/') ? [invalid(field, goValue(target), 'must be a relative path')] : [];
  return [...out, ...noBacksteps(target, field)];
}

function noBacksteps(target: string, field: string): StatusCause[] {
  return target.split('/').includes('..') ? [invalid(field, goValue(target), "must not contain '..'")] : [];
}

/** ValidateLocalNonReservedPath. */
function localNonReservedPath(target: string, field: string): StatusCause[] {
  const out = localDescendingPath(target, field);
  if (target.startsWith('..') && !target.startsWith('../')) out.push(invalid(field, goValue(target), "must not start with '..'"));
  return out;
}

/** ValidateVolumeMounts: against the valid volumes; note subPath, mountPropagation and recursiveReadOnly errors name the list, not the item. */
export function volumeMountsCauses(c: any, valid: Map<string, any>, path: string): StatusCause[] {
  const out: StatusCause[] = [];
  const points = new Set<string>();
  const devices = list(c?.volumeDevices);
  const privileged = c?.securityContext?.privileged === true;
  list(c?.volumeMounts).forEach((m: any, i: number) => {
    const p = `${path}[${i}]`;
    const name: string = m?.name ?? '';
    const mountPath: string = m?.mountPath ?? '';
    if (!name) out.push(required(`${p}.name`));
    if (!valid.has(name)) out.push(notFound(`${p}.name`, name));
    if (!mountPath) out.push(required(`${p}.mountPath`));
    if (points.has(mountPath)) out.push(invalid(`${p}.mountPath`, goValue(mountPath), 'must be unique'));
    points.add(mountPath);
    if (devices.some((d) => d?.name === name)) out.push(invalid(`${p}.name`, goValue(name), 'must not already exist in volumeDevices'));
    if (devices.some((d) => d?.devicePath === mountPath)) out.push(invalid(`${p}.mountPath`, goValue(mountPath), 'must not already exist as a path in volumeDevices'));
    if (m?.subPath) out.push(...localDescendingPath(m.subPath, `${path}.subPath`));
    if (m?.subPathExpr) {
      if (m.subPath) out.push(invalid(`${p}.subPathExpr`, goValue(m.subPathExpr), 'subPathExpr and subPath are mutually exclusive'));
      out.push(...localDescendingPath(m.subPathExpr, `${path}.subPathExpr`));
    }
    const prop = m?.mountPropagation;
    if (prop !== undefined && prop !== null) {
      if (!['Bidirectional', 'HostToContainer', 'None'].includes(prop)) out.push(notSupported(`${path}.mountPropagation`, prop, ['Bidirectional', 'HostToContainer', 'None']));
      if (prop === 'Bidirectional' && !privileged) out.push(forbidden(`${path}.mountPropagation`, 'Bidirectional mount propagation is available only to privileged containers'));
    }
    out.push(...recursiveReadOnlyCauses(m ?? {}, `${path}.recursiveReadOnly`));
  });
  return out;
}

/** validateMountRecursiveReadOnly. */
function recursiveReadOnlyCauses(m: any, field: string): StatusCause[] {
  const rro = m.recursiveReadOnly;
  if (rro === undefined || rro === null || rro === 'Disabled') return [];
  if (rro !== 'Enabled' && rro !== 'IfPossible') return [notSupported(field, rro, ['Disabled', 'Enabled', 'IfPossible'])];
  const out: StatusCause[] = [];
  if (!m.readOnly) out.push(forbidden(field, 'may only be specified when readOnly is true'));
  if (m.mountPropagation && m.mountPropagation !== 'None') out.push(forbidden(field, 'may only be specified when mountPropagation is None or not specified'));
  return out;
}
