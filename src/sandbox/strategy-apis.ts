// Defaults and validation for the CronJob, PriorityClass, RBAC and
// ServiceAccount types (pkg/apis/{batch,scheduling,rbac}/v1 defaults and
// validation), with the real field paths and wording; strategy.ts calls in.
import { knownTimeZone, parseSchedule } from './cron.ts';
import type { StatusCause } from './status.ts';
import type { K8sObject } from './types.ts';

export const RBAC_GROUP = 'rbac.authorization.k8s.io';
/** scheduling.HighestUserDefinablePriority */
export const HIGHEST_USER_PRIORITY = 1_000_000_000;
/** The system classes kube-apiserver creates and reserves (scheduling/bootstrap-system-priority-classes). */
export const SYSTEM_PRIORITY_CLASSES: Record<string, number> = { 'system-node-critical': 2_000_001_000, 'system-cluster-critical': 2_000_000_000 };

const invalid = (field: string, value: unknown, message: string): StatusCause => ({ field, message: `Invalid value: ${goValue(value)}: ${message}`, reason: 'FieldValueInvalid' });
const required = (field: string, message = ''): StatusCause => ({ field, message: `Required value${message ? `: ${message}` : ''}`, reason: 'FieldValueRequired' });
const unsupported = (field: string, value: unknown, supported: string[]): StatusCause => ({
  field, message: `Unsupported value: ${JSON.stringify(value)}: supported values: ${supported.map((s) => JSON.stringify(s)).join(', ')}`, reason: 'FieldValueNotSupported',
});
const forbidden = (field: string, message: string): StatusCause => ({ field, message: `Forbidden: ${message}`, reason: 'FieldValueForbidden' });

/** How field.Invalid prints a value: strings quoted, numbers bare, string lists as Go's %#v. */
function goValue(v: unknown): string {
  if (Array.isArray(v)) return `[]string{${v.map((x) => JSON.stringify(x)).join(', ')}}`;
  return typeof v === 'string' ? JSON.stringify(v) : String(v);
}

export function defaultCronJob(spec: any, defaultPodSpec: (s: any) => void): void {
  if (!spec) return;
  spec.concurrencyPolicy ??= 'Allow';
  spec.suspend ??= false;
  spec.successfulJobsHistoryLimit ??= 3;
  spec.failedJobsHistoryLimit ??= 1;
  defaultPodSpec(spec.jobTemplate?.spec?.template?.spec);
}

export function validateCronJob(obj: K8sObject, causes: StatusCause[], podTemplate: (template: any, path: string) => void): void {
  const spec = obj.spec ?? {};
  const name = obj.metadata.name ?? '';
  if (name.length > 52) causes.push(invalid('metadata.name', name, 'must be no more than 52 characters'));
  if (!spec.schedule) causes.push(required('spec.schedule'));
  else {
    try {
      parseSchedule(String(spec.schedule), null);
    } catch (err) {
      causes.push(invalid('spec.schedule', spec.schedule, (err as Error).message));
    }
    if (String(spec.schedule).includes('TZ')) causes.push(invalid('spec.schedule', spec.schedule, 'cannot use TZ or CRON_TZ in schedule, use timeZone field instead'));
  }
  if (spec.timeZone != null && !knownTimeZone(spec.timeZone)) causes.push(invalid('spec.timeZone', spec.timeZone, `unknown time zone ${spec.timeZone}`));
  for (const f of ['startingDeadlineSeconds', 'successfulJobsHistoryLimit', 'failedJobsHistoryLimit']) {
    if (typeof spec[f] === 'number' && spec[f] < 0) causes.push(invalid(`spec.${f}`, spec[f], 'must be greater than or equal to 0'));
  }
  if (!['Allow', 'Forbid', 'Replace'].includes(spec.concurrencyPolicy)) causes.push(unsupported('spec.concurrencyPolicy', spec.concurrencyPolicy, ['Allow', 'Forbid', 'Replace']));
  const tmpl = spec.jobTemplate?.spec?.template;
  podTemplate(tmpl, 'spec.jobTemplate.spec.template');
}

export function defaultPriorityClass(obj: K8sObject): void {
  obj.preemptionPolicy ??= 'PreemptLowerPriority';
  obj.value ??= 0;
}

export function validatePriorityClass(obj: K8sObject, old: K8sObject | undefined, causes: StatusCause[]): void {
  const name = obj.metadata.name ?? '';
  if (name.startsWith('system-')) {
    const known = SYSTEM_PRIORITY_CLASSES[name];
    let why = '';
    if (known === undefined) why = `${name} is not a known system priority class`;
    else if (obj.value !== known) why = `value of ${name} PriorityClass must be ${known}`;
    else if (obj.globalDefault) why = `globalDefault of ${name} PriorityClass must be false`;
    if (why) causes.push(forbidden('metadata.name', `priority class names with 'system-' prefix are reserved for system use only. error: ${why}`));
  } else if (obj.value > HIGHEST_USER_PRIORITY) {
    causes.push(forbidden('value', `maximum allowed value of a user defined priority is ${HIGHEST_USER_PRIORITY}`));
  }
  if (!['PreemptLowerPriority', 'Never'].includes(obj.preemptionPolicy)) causes.push(unsupported('preemptionPolicy', obj.preemptionPolicy, ['Never', 'PreemptLowerPriority']));
  if (old) {
    if (obj.value !== old.value) causes.push(forbidden('value', 'may not be changed in an update.'));
    if (obj.preemptionPolicy !== old.preemptionPolicy) causes.push(invalid('preemptionPolicy', obj.preemptionPolicy, 'field is immutable'));
  }
}

/** SetDefaults_Subject and the roleRef's API group. */
export function defaultBinding(obj: K8sObject): void {
  if (obj.roleRef && typeof obj.roleRef === 'object') obj.roleRef.apiGroup ||= RBAC_GROUP;
  for (const s of obj.subjects ?? []) {
    if (!s || typeof s !== 'object') continue;
    if (s.apiGroup === undefined || s.apiGroup === '') s.apiGroup = s.kind === 'ServiceAccount' ? '' : RBAC_GROUP;
    if (s.kind === 'ServiceAccount' && s.apiGroup === '') delete s.apiGroup;
  }
}

export function validateRole(obj: K8sObject, namespaced: boolean, causes: StatusCause[]): void {
  ((obj.rules ?? []) as any[]).forEach((rule, i) => {
    const at = `rules[${i}]`;
    if (!rule?.verbs?.length) causes.push(required(`${at}.verbs`, 'verbs must contain at least one value'));
    if (rule?.nonResourceURLs?.length) {
      if (namespaced) causes.push(invalid(`${at}.nonResourceURLs`, rule.nonResourceURLs, 'namespaced rules cannot apply to non-resource URLs'));
      if (rule.apiGroups?.length || rule.resources?.length || rule.resourceNames?.length) {
        causes.push(invalid(`${at}.nonResourceURLs`, rule.nonResourceURLs, 'rules cannot apply to both regular resources and non-resource URLs'));
      }
      return;
    }
    if (!rule?.apiGroups?.length) causes.push(required(`${at}.apiGroups`, 'resource rules must supply at least one api group'));
    if (!rule?.resources?.length) causes.push(required(`${at}.resources`, 'resource rules must supply at least one resource'));
  });
}

const roleRefText = (r: any) => `rbac.RoleRef{APIGroup:${JSON.stringify(r?.apiGroup ?? '')}, Kind:${JSON.stringify(r?.kind ?? '')}, Name:${JSON.stringify(r?.name ?? '')}}`;

export function validateBinding(obj: K8sObject, old: K8sObject | undefined, namespaced: boolean, causes: StatusCause[]): void {
  const ref = obj.roleRef ?? {};
  if (ref.apiGroup !== RBAC_GROUP) causes.push(unsupported('roleRef.apiGroup', ref.apiGroup ?? '', [RBAC_GROUP]));
  const kinds = namespaced ? ['Role', 'ClusterRole'] : ['ClusterRole'];
  if (!kinds.includes(ref.kind)) causes.push(unsupported('roleRef.kind', ref.kind ?? '', kinds));
  if (!ref.name) causes.push(required('roleRef.name'));
  ((obj.subjects ?? []) as any[]).forEach((s, i) => {
    const at = `subjects[${i}]`;
    if (!s?.name) causes.push(required(`${at}.name`));
    switch (s?.kind) {
      case 'ServiceAccount':
        if (s.apiGroup) causes.push(unsupported(`${at}.apiGroup`, s.apiGroup, ['']));
        if (!namespaced && !s.namespace) causes.push(required(`${at}.namespace`));
        break;
      case 'User':
      case 'Group':
        if (s.apiGroup !== RBAC_GROUP) causes.push(unsupported(`${at}.apiGroup`, s.apiGroup ?? '', [RBAC_GROUP]));
        break;
      default:
        causes.push(unsupported(`${at}.kind`, s?.kind ?? '', ['ServiceAccount', 'User', 'Group']));
    }
  });
  if (old && JSON.stringify(old.roleRef) !== JSON.stringify(obj.roleRef)) {
    causes.push({ field: 'roleRef', message: `Invalid value: ${roleRefText(obj.roleRef)}: cannot change roleRef`, reason: 'FieldValueInvalid' });
  }
}
