// Security contexts as pkg/apis/core/validation (1.32) checks them:
// ValidateSecurityContext for a container, validatePodSpecSecurityContext for
// the pod, validateSeccompProfileField, ValidateAppArmorProfileField and
// validateHostUsers. Privileged containers are allowed (kube-apiserver
// --allow-privileged=true, what kubeadm, kind and managed clusters run).
import type { StatusCause } from './status.ts';
import { duplicate, forbidden, goValue, invalid, list, notSupported, required, unixId } from './validation-rules.ts';
import { localDescendingPath } from './validation-volumes.ts';

const set = (v: unknown) => v !== undefined && v !== null;

/**
 * Go's %#v of a struct whose pointer fields print as `(*T)(0xc…)`: how
 * field.Invalid shows a *SecurityContext or *SeccompProfile. The addresses are
 * a real server's heap addresses, so they differ from call to call there too;
 * these are stable per message.
 */
function goStruct(type: string, fields: [name: string, goType: string, value: unknown, pointer: boolean][]): string {
  let addr = 0xc000a1b2c0;
  const parts = fields.map(([name, goType, value, pointer]) => {
    if (!pointer) return `${name}:${JSON.stringify(value ?? '')}`;
    if (!set(value)) return `${name}:(*${goType})(nil)`;
    addr += 8;
    return `${name}:(*${goType})(0x${addr.toString(16)})`;
  });
  return `${type}{${parts.join(', ')}}`;
}

function goSecurityContext(sc: any): string {
  return goStruct('core.SecurityContext', [
    ['Capabilities', 'core.Capabilities', sc.capabilities, true], ['Privileged', 'bool', sc.privileged, true],
    ['SELinuxOptions', 'core.SELinuxOptions', sc.seLinuxOptions, true], ['WindowsOptions', 'core.WindowsSecurityContextOptions', sc.windowsOptions, true],
    ['RunAsUser', 'int64', sc.runAsUser, true], ['RunAsGroup', 'int64', sc.runAsGroup, true], ['RunAsNonRoot', 'bool', sc.runAsNonRoot, true],
    ['ReadOnlyRootFilesystem', 'bool', sc.readOnlyRootFilesystem, true], ['AllowPrivilegeEscalation', 'bool', sc.allowPrivilegeEscalation, true],
    ['ProcMount', 'core.ProcMountType', sc.procMount, true], ['SeccompProfile', 'core.SeccompProfile', sc.seccompProfile, true],
    ['AppArmorProfile', 'core.AppArmorProfile', sc.appArmorProfile, true],
  ]);
}

const idCauses = (v: unknown, field: string): StatusCause[] => (typeof v === 'number' ? unixId(v).map((m) => invalid(field, String(v), m)) : []);

/** ValidateSecurityContext (a container's). `hostUsers` is the pod's (true unless spec.hostUsers is false). */
export function containerSecurityCauses(sc: any, path: string, hostUsers: boolean): StatusCause[] {
  if (!sc) return [];
  const out = [...idCauses(sc.runAsUser, `${path}.runAsUser`), ...idCauses(sc.runAsGroup, `${path}.runAsGroup`)];
  if (set(sc.procMount)) {
    if (sc.procMount !== 'Default' && sc.procMount !== 'Unmasked') out.push(notSupported(`${path}.procMount`, sc.procMount, ['Default', 'Unmasked']));
    if (hostUsers && sc.procMount === 'Unmasked') out.push(invalid(`${path}.procMount`, goValue(sc.procMount), '`hostUsers` must be false to use `Unmasked`'));
  }
  out.push(...seccompCauses(sc.seccompProfile, `${path}.seccompProfile`));
  if (sc.allowPrivilegeEscalation === false) {
    if (sc.privileged === true) out.push(invalid(path, goSecurityContext(sc), 'cannot set `allowPrivilegeEscalation` to false and `privileged` to true'));
    for (const cap of list(sc.capabilities?.add)) {
      if (cap === 'CAP_SYS_ADMIN') out.push(invalid(path, goSecurityContext(sc), 'cannot set `allowPrivilegeEscalation` to false and `capabilities.Add` CAP_SYS_ADMIN'));
    }
  }
  out.push(...appArmorCauses(sc.appArmorProfile, `${path}.appArmorProfile`));
  return out;
}

/** validatePodSpecSecurityContext (host namespaces are spec fields in v1 but the pod's security context in Go). */
export function podSecurityCauses(spec: any, path: string): StatusCause[] {
  const sc = spec?.securityContext;
  if (!sc) return [];
  const p = `${path}.securityContext`;
  const out = [...idCauses(sc.fsGroup, `${p}.fsGroup`), ...idCauses(sc.runAsUser, `${p}.runAsUser`), ...idCauses(sc.runAsGroup, `${p}.runAsGroup`)];
  list(sc.supplementalGroups).forEach((g, i) => out.push(...idCauses(g, `${p}.supplementalGroups[${i}]`)));
  if (spec.shareProcessNamespace === true && spec.hostPID === true) {
    out.push(invalid(`${p}.shareProcessNamespace`, 'true', 'ShareProcessNamespace and HostPID cannot both be enabled'));
  }
  out.push(...sysctlCauses(sc, spec, `${p}.sysctls`));
  if (set(sc.fsGroupChangePolicy) && sc.fsGroupChangePolicy !== 'Always' && sc.fsGroupChangePolicy !== 'OnRootMismatch') {
    out.push(notSupported(`${p}.fsGroupChangePolicy`, sc.fsGroupChangePolicy, ['Always', 'OnRootMismatch']));
  }
  out.push(...seccompCauses(sc.seccompProfile, `${p}.seccompProfile`), ...appArmorCauses(sc.appArmorProfile, `${p}.appArmorProfile`));
  return out;
}

/** validateSysctls: names, duplicates, and namespaced sysctls a host-network or host-IPC pod may not set. */
function sysctlCauses(sc: any, spec: any, path: string): StatusCause[] {
  const out: StatusCause[] = [];
  const seen = new Set<string>();
  const re = /^([a-z0-9]([-_a-z0-9]*[a-z0-9])?[\./])*[a-z0-9]([-_a-z0-9]*[a-z0-9])?$/;
  list(sc.sysctls).forEach((s: any, i: number) => {
    const name: string = s?.name ?? '';
    const f = `${path}[${i}].name`;
    if (!name) out.push(required(f));
    else if (name.length > 253 || !re.test(name)) out.push(invalid(f, goValue(name), `must have at most 253 characters and match regex ${re.source}`));
    else if (seen.has(name)) out.push(duplicate(f, name));
    const normal = name.replaceAll('/', '.');
    if (spec.hostNetwork === true && normal.startsWith('net.')) out.push(invalid(f, goValue(name), "may not be specified when 'hostNetwork' is true"));
    else if (spec.hostIPC === true && (normal.startsWith('kernel.shm') || normal.startsWith('kernel.msg') || normal === 'kernel.sem' || normal.startsWith('fs.mqueue.'))) {
      out.push(invalid(f, goValue(name), "may not be specified when 'hostIPC' is true"));
    }
    seen.add(name);
  });
  return out;
}

/** validateSeccompProfileField. */
function seccompCauses(sp: any, path: string): StatusCause[] {
  if (!sp) return [];
  const out: StatusCause[] = [];
  const type = sp.type ?? '';
  if (type === '') out.push(required(`${path}.type`, 'type is required when seccompProfile is set'));
  else if (!['Localhost', 'RuntimeDefault', 'Unconfined'].includes(type)) out.push(notSupported(`${path}.type`, type, ['Localhost', 'RuntimeDefault', 'Unconfined']));
  if (type === 'Localhost') {
    if (!set(sp.localhostProfile)) out.push(required(`${path}.localhostProfile`, 'must be set when seccomp type is Localhost'));
    else out.push(...localDescendingPath(sp.localhostProfile, `${path}.localhostProfile`));
  } else if (set(sp.localhostProfile)) {
    const value = goStruct('core.SeccompProfile', [['Type', '', type, false], ['LocalhostProfile', 'string', sp.localhostProfile, true]]);
    out.push(invalid(`${path}.localhostProfile`, value, 'can only be set when seccomp type is Localhost'));
  }
  return out;
}

/** ValidateAppArmorProfileField. */
function appArmorCauses(ap: any, path: string): StatusCause[] {
  if (!ap) return [];
  const type = ap.type ?? '';
  const lp = ap.localhostProfile;
  switch (type) {
    case 'Localhost':
      if (!set(lp)) return [required(`${path}.localhostProfile`, 'must be set when AppArmor type is Localhost')];
      if (String(lp).trim() !== lp) return [invalid(`${path}.localhostProfile`, goValue(lp), 'must not be padded with whitespace')];
      return lp === '' ? [required(`${path}.localhostProfile`, 'must be set when AppArmor type is Localhost')] : [];
    case 'RuntimeDefault':
    case 'Unconfined':
      return set(lp) ? [invalid(`${path}.localhostProfile`, goValue(lp), 'can only be set when AppArmor type is Localhost')] : [];
    case '':
      return [required(`${path}.type`, 'type is required when appArmorProfile is set')];
    default:
      return [notSupported(`${path}.type`, type, ['Localhost', 'RuntimeDefault', 'Unconfined'])];
  }
}

/** validateHostUsers: a pod in its own user namespace may not share the host's others (note Go's `HostPID` and `HostIPC` paths). */
export function hostUsersCauses(spec: any, path: string): StatusCause[] {
  if (spec?.hostUsers !== false) return [];
  const out: StatusCause[] = [];
  if (spec.hostNetwork === true) out.push(forbidden(`${path}.hostNetwork`, 'when `pod.Spec.HostUsers` is false'));
  if (spec.hostPID === true) out.push(forbidden(`${path}.HostPID`, 'when `pod.Spec.HostUsers` is false'));
  if (spec.hostIPC === true) out.push(forbidden(`${path}.HostIPC`, 'when `pod.Spec.HostUsers` is false'));
  return out;
}
