// ValidatePodSpec and ValidatePodTemplateSpec (pkg/apis/core/validation,
// 1.32), in their order, so a manifest with several faults lists them as a
// real server does; then what the owner adds: a Deployment's, ReplicaSet's,
// StatefulSet's or DaemonSet's template must restart Always
// (ValidatePodTemplateSpecForReplicaSet & co.), a Job's OnFailure or Never
// (batch validateJobSpec), and a Pod's containers may not have padded images
// (validateContainersOnlyForPod).
import { resourcesCauses } from './validation-resources.ts';
import type { StatusCause } from './status.ts';
import { containersCauses, hostNetworkCauses, initContainersCauses } from './validation-containers.ts';
import { dns1123Label, dns1123Subdomain, each, goValue, inclusiveRange, invalid, list, notSupported, qualifiedName, required } from './validation-rules.ts';
import { affinityCauses, labelsCauses, tolerationsCauses, topologySpreadCauses } from './validation-scheduling.ts';
import { hostUsersCauses, podSecurityCauses } from './validation-security.ts';
import { volumesCauses } from './validation-volumes.ts';

/**
 * Where a pod spec appears, which decides the restart policies it may have.
 * A StatefulSet's template is not a validated pod spec in 1.32 (only its
 * labels, annotations and restart policy; ValidatePodTemplateSpecForStatefulSet
 * leaves the rest to the pods, whose creation then fails — kubernetes#131790
 * added the check in 1.34).
 */
export type PodOwner = 'pod' | 'workload' | 'statefulset' | 'job';

const MAX_INT32 = 2147483647;

/** ValidatePodSpec, then the owner's rules. `podName` is a Pod's own name (ephemeral volumes' claim names derive from it). */
export function podSpecCauses(spec: any, path: string, owner: PodOwner, podName?: string): StatusCause[] {
  const s = spec ?? {};
  const out: StatusCause[] = [];
  const gracePeriod = typeof s.terminationGracePeriodSeconds === 'number' ? s.terminationGracePeriodSeconds : undefined;
  if (gracePeriod === undefined && spec) out.push(required(`${path}.terminationGracePeriodSeconds`));
  const vols = volumesCauses(s.volumes, `${path}.volumes`, owner === 'pod' ? podName : undefined);
  out.push(...vols.causes);
  const ctx = { volumes: vols.valid, gracePeriod, hostUsers: s.hostUsers !== false };
  out.push(...containersCauses(s.containers, `${path}.containers`, ctx));
  out.push(...initContainersCauses(s.initContainers, s.containers, `${path}.initContainers`, ctx));
  out.push(...hostNetworkCauses(s, path, owner === 'pod'));
  out.push(...restartPolicyCauses(s.restartPolicy, `${path}.restartPolicy`));
  const dns = s.dnsPolicy ?? '';
  if (dns === '') out.push(required(`${path}.dnsPolicy`));
  else if (!['ClusterFirstWithHostNet', 'ClusterFirst', 'Default', 'None'].includes(dns)) out.push(notSupported(`${path}.dnsPolicy`, dns, ['ClusterFirstWithHostNet', 'ClusterFirst', 'Default', 'None']));
  out.push(...labelsCauses(s.nodeSelector, `${path}.nodeSelector`));
  out.push(...podSecurityCauses(s, path));
  out.push(...affinityCauses(s.affinity, `${path}.affinity`));
  if (dns === 'None' && !s.dnsConfig) out.push(required(`${path}.dnsConfig`, 'must provide `dnsConfig` when `dnsPolicy` is None'));
  else if (dns === 'None' && !list(s.dnsConfig.nameservers).length) out.push(required(`${path}.dnsConfig.nameservers`, 'must provide at least one DNS nameserver when `dnsPolicy` is None'));
  list(s.readinessGates).forEach((g: any, i: number) => out.push(...each(qualifiedName(g?.conditionType ?? ''), `${path}.readinessGates[${i}].conditionType`, g?.conditionType ?? '')));
  out.push(...topologySpreadCauses(s.topologySpreadConstraints, `${path}.topologySpreadConstraints`));
  out.push(...hostUsersCauses(s, path));
  for (const key of ['serviceAccountName', 'nodeName']) {
    if (s[key]) out.push(...each(dns1123Subdomain(s[key]), `${path}.${key}`, s[key]));
  }
  if (typeof s.activeDeadlineSeconds === 'number' && (s.activeDeadlineSeconds < 1 || s.activeDeadlineSeconds > MAX_INT32)) {
    out.push(invalid(`${path}.activeDeadlineSeconds`, String(s.activeDeadlineSeconds), inclusiveRange(1, MAX_INT32)));
  }
  for (const key of ['hostname', 'subdomain']) {
    if (s[key]) out.push(...each(dns1123Label(s[key]), `${path}.${key}`, s[key]));
  }
  out.push(...tolerationsCauses(s.tolerations, `${path}.tolerations`));
  for (const key of ['priorityClassName', 'runtimeClassName']) {
    if (typeof s[key] === 'string' && (s[key] || key === 'runtimeClassName')) out.push(...each(dns1123Subdomain(s[key]), `${path}.${key}`, s[key]));
  }
  const pp = s.preemptionPolicy;
  if (pp !== undefined && pp !== null) {
    if (pp === '') out.push(required(`${path}.preemptionPolicy`));
    else if (pp !== 'PreemptLowerPriority' && pp !== 'Never') out.push(notSupported(`${path}.preemptionPolicy`, pp, ['PreemptLowerPriority', 'Never']));
  }
  if (s.overhead) out.push(...resourcesCauses({ limits: s.overhead }, `${path}.overhead`));
  if (s.os) {
    if (!s.os.name) out.push(required(`${path}.os.name`));
    else if (s.os.name !== 'linux' && s.os.name !== 'windows') out.push(notSupported(`${path}.os.name`, s.os.name, ['linux', 'windows']));
  }
  out.push(...ownerCauses(s, path, owner));
  return out;
}

/** validateRestartPolicy (every pod spec). */
function restartPolicyCauses(rp: unknown, field: string): StatusCause[] {
  if (rp === undefined || rp === null || rp === '') return [required(field)];
  return ['Always', 'OnFailure', 'Never'].includes(rp as string) ? [] : [notSupported(field, String(rp), ['Always', 'OnFailure', 'Never'])];
}

/** What the object holding the spec adds, after ValidatePodTemplateSpec. */
function ownerCauses(s: any, path: string, owner: PodOwner): StatusCause[] {
  const rp: string = s.restartPolicy ?? '';
  const field = `${path}.restartPolicy`;
  switch (owner) {
    case 'workload':
    case 'statefulset':
      return rp === 'Always' ? [] : [notSupported(field, rp, ['Always'])];
    case 'job':
      // SetDefaults_PodSpec has made an unset policy Always, so Always reads as "not given".
      if (rp === 'Always' || rp === '') return [required(field, 'valid values: "OnFailure", "Never"')];
      return rp === 'OnFailure' || rp === 'Never' ? [] : [notSupported(field, rp, ['OnFailure', 'Never'])];
    case 'pod': {
      const out: StatusCause[] = [];
      for (const key of ['containers', 'initContainers']) {
        list(s[key]).forEach((c: any, i: number) => {
          if (typeof c?.image === 'string' && c.image !== c.image.trim()) out.push(invalid(`${path}.${key}[${i}].image`, goValue(c.image), 'must not have leading or trailing whitespace'));
        });
      }
      return out;
    }
  }
}

/** ValidatePodTemplateSpec: the template's labels and annotation keys (on `<path>.labels`, not `.metadata.labels`), then its spec (not a StatefulSet's). */
export function templateCauses(template: any, path: string, owner: PodOwner): StatusCause[] {
  const annotations = template?.metadata?.annotations;
  const annotationCauses = annotations && typeof annotations === 'object'
    ? Object.keys(annotations).flatMap((k) => each(qualifiedName(k.toLowerCase()), `${path}.annotations`, k)) : [];
  const meta = [...labelsCauses(template?.metadata?.labels, `${path}.labels`), ...annotationCauses];
  if (owner === 'statefulset') return [...meta, ...ownerCauses(template?.spec ?? {}, `${path}.spec`, owner)];
  return [...meta, ...podSpecCauses(template?.spec, `${path}.spec`, owner)];
}
