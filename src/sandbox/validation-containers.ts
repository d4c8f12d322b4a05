// Containers as pkg/apis/core/validation (1.32) checks them: validateContainers
// and validateInitContainers around validateContainerCommon (name, image,
// terminationMessagePolicy, ports, env, envFrom, volume mounts, pull policy,
// resources, security context), probes and lifecycle hooks, container restart
// policies and host port conflicts (AccumulateUniqueHostPorts).
import type { StatusCause } from './status.ts';
import { envCauses, envFromCauses } from './validation-env.ts';
import { probesCauses } from './validation-probes.ts';
import { resourcesCauses } from './validation-resources.ts';
import { duplicate, each, forbidden, dns1123Label, goValue, invalid, list, notSupported, portName, portNum, required } from './validation-rules.ts';
import { containerSecurityCauses } from './validation-security.ts';
import { volumeMountsCauses } from './validation-volumes.ts';

/** What the containers are checked against: the pod's valid volumes, grace period and user namespace. */
export interface ContainerContext { volumes: Map<string, any>; gracePeriod: number | undefined; hostUsers: boolean }

/** validateContainers: none is Required; names unique among regular containers; host ports unique across them. */
export function containersCauses(containers: unknown, path: string, ctx: ContainerContext): StatusCause[] {
  const all = list(containers);
  if (!all.length) return [required(path)];
  const out: StatusCause[] = [];
  const names = new Set<string>();
  all.forEach((c: any, i: number) => {
    const p = `${path}[${i}]`;
    out.push(...containerCommon(c ?? {}, p, ctx));
    const name = c?.name ?? '';
    if (names.has(name)) out.push(duplicate(`${p}.name`, name));
    else names.add(name);
    out.push(...probesCauses(c, p, ctx.gracePeriod));
    if (c?.restartPolicy !== undefined && c?.restartPolicy !== null) out.push(forbidden(`${p}.restartPolicy`, 'may not be set for non-init containers'));
  });
  out.push(...hostPortConflicts(all, path));
  return out;
}

/** validateInitContainers: names unique across regular and init containers; probes and hooks only for restartable (sidecar) ones. */
export function initContainersCauses(inits: unknown, regular: unknown, path: string, ctx: ContainerContext): StatusCause[] {
  const out: StatusCause[] = [];
  const names = new Set(list(regular).map((c) => c?.name ?? ''));
  list(inits).forEach((c: any, i: number) => {
    const p = `${path}[${i}]`;
    out.push(...containerCommon(c ?? {}, p, ctx));
    const rp = c?.restartPolicy;
    if (rp !== undefined && rp !== null && rp !== 'Always') out.push(notSupported(`${p}.restartPolicy`, rp, ['Always']));
    const name = c?.name ?? '';
    if (names.has(name)) out.push(duplicate(`${p}.name`, name));
    else if (name) names.add(name);
    // Init containers run one at a time, so each is checked on its own (and Go names it index 0).
    out.push(...hostPortConflicts([c], path));
    if (rp === 'Always') out.push(...probesCauses(c, p, ctx.gracePeriod));
    else {
      for (const f of ['lifecycle', 'livenessProbe', 'readinessProbe', 'startupProbe']) {
        if (c?.[f] !== undefined && c?.[f] !== null) out.push(forbidden(`${p}.${f}`, 'may not be set for init containers without restartPolicy=Always'));
      }
    }
  });
  return out;
}

/** validateContainerCommon. */
function containerCommon(c: any, p: string, ctx: ContainerContext): StatusCause[] {
  const out: StatusCause[] = [];
  if (!c.name) out.push(required(`${p}.name`));
  else out.push(...each(dns1123Label(c.name), `${p}.name`, c.name));
  if (!c.image) out.push(required(`${p}.image`));
  const tmp = c.terminationMessagePolicy ?? '';
  if (tmp === '') out.push(required(`${p}.terminationMessagePolicy`));
  else if (tmp !== 'File' && tmp !== 'FallbackToLogsOnError') out.push(notSupported(`${p}.terminationMessagePolicy`, tmp, ['File', 'FallbackToLogsOnError']));
  out.push(...portsCauses(c.ports, `${p}.ports`));
  out.push(...envCauses(c.env, `${p}.env`), ...envFromCauses(c.envFrom, `${p}.envFrom`));
  out.push(...volumeMountsCauses(c, ctx.volumes, `${p}.volumeMounts`));
  const pull = c.imagePullPolicy ?? '';
  if (pull === '') out.push(required(`${p}.imagePullPolicy`));
  else if (!['Always', 'IfNotPresent', 'Never'].includes(pull)) out.push(notSupported(`${p}.imagePullPolicy`, pull, ['Always', 'IfNotPresent', 'Never']));
  out.push(...resourcesCauses(c.resources, `${p}.resources`));
  out.push(...containerSecurityCauses(c.securityContext, `${p}.securityContext`, ctx.hostUsers));
  return out;
}

/** validateContainerPorts. */
export function portsCauses(ports: unknown, path: string): StatusCause[] {
  const out: StatusCause[] = [];
  const names = new Set<string>();
  list(ports).forEach((port: any, i: number) => {
    const p = `${path}[${i}]`;
    const name: string = port?.name ?? '';
    if (name) {
      const msgs = portName(name);
      if (msgs.length) out.push(...each(msgs, `${p}.name`, name));
      else if (names.has(name)) out.push(duplicate(`${p}.name`, name));
      else names.add(name);
    }
    const cp = typeof port?.containerPort === 'number' ? port.containerPort : 0;
    if (cp === 0) out.push(required(`${p}.containerPort`));
    else out.push(...portNum(cp).map((m) => invalid(`${p}.containerPort`, String(cp), m)));
    const hp = typeof port?.hostPort === 'number' ? port.hostPort : 0;
    if (hp !== 0) out.push(...portNum(hp).map((m) => invalid(`${p}.hostPort`, String(hp), m)));
    const proto = port?.protocol ?? '';
    if (proto === '') out.push(required(`${p}.protocol`));
    else if (!['SCTP', 'TCP', 'UDP'].includes(proto)) out.push(notSupported(`${p}.protocol`, proto, ['SCTP', 'TCP', 'UDP']));
  });
  return out;
}

/** AccumulateUniqueHostPorts: protocol, host IP and port together must be unique. */
function hostPortConflicts(containers: any[], path: string): StatusCause[] {
  const out: StatusCause[] = [];
  const seen = new Set<string>();
  containers.forEach((c: any, ci: number) => {
    list(c?.ports).forEach((port: any, pi: number) => {
      if (!port?.hostPort) return;
      const key = `${port.protocol ?? ''}/${port.hostIP ?? ''}/${port.hostPort}`;
      if (seen.has(key)) out.push(duplicate(`${path}[${ci}].ports[${pi}].hostPort`, key));
      else seen.add(key);
    });
  });
  return out;
}

/** validatePodHostNetworkDeps: with hostNetwork a hostPort must be the containerPort (a template may leave it 0). */
export function hostNetworkCauses(spec: any, path: string, isPod: boolean): StatusCause[] {
  if (spec?.hostNetwork !== true) return [];
  const out: StatusCause[] = [];
  list(spec.containers).forEach((c: any, i: number) => {
    list(c?.ports).forEach((port: any, j: number) => {
      const hp = port?.hostPort ?? 0;
      if ((isPod || hp !== 0) && hp !== (port?.containerPort ?? 0)) {
        out.push(invalid(`${path}.containers[${i}].ports[${j}].hostPort`, goValue(hp), 'must match `containerPort` when `hostNetwork` is true'));
      }
    });
  });
  return out;
}
