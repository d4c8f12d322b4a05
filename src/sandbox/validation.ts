// The API server's validators (k8s.io/kubernetes pkg/apis/{core,apps,batch}/
// validation and apimachinery's name and label checks) for what a manifest
// most often gets wrong: names, labels, containers, restart policies,
// requests above limits, Services without ports and immutable fields. Causes
// are worded as field.Error's ErrorBody, so `kubectl apply` prints what a
// real cluster prints.
import { tryQuantity } from '../common/index.ts';
import type { StatusCause } from './status.ts';
import type { K8sObject } from './types.ts';

const regexError = (msg: string, fmt: string, ...examples: string[]) =>
  `${msg} (e.g. ${examples.map((e) => `'${e}', `).join(' or ')}regex used for validation is '${fmt}')`;

const DNS1123_LABEL = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
const DNS1123_SUBDOMAIN = `${DNS1123_LABEL}(\\.${DNS1123_LABEL})*`;
const DNS1035_LABEL = '[a-z]([-a-z0-9]*[a-z0-9])?';
const QUALIFIED_NAME = '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]';
const LABEL_VALUE = `(${QUALIFIED_NAME})?`;
const full = (re: string) => new RegExp(`^${re}$`);

export function dns1123Subdomain(v: string): string[] {
  const errs: string[] = [];
  if (v.length > 253) errs.push('must be no more than 253 characters');
  if (!full(DNS1123_SUBDOMAIN).test(v)) errs.push(regexError("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character", DNS1123_SUBDOMAIN, 'example.com'));
  return errs;
}

export function dns1123Label(v: string): string[] {
  const errs: string[] = [];
  if (v.length > 63) errs.push('must be no more than 63 characters');
  if (!full(DNS1123_LABEL).test(v)) {
    errs.push(full(DNS1123_SUBDOMAIN).test(v) ? 'must not contain dots' : regexError("a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character", DNS1123_LABEL, 'my-name', '123-abc'));
  }
  return errs;
}

export function dns1035Label(v: string): string[] {
  const errs: string[] = [];
  if (v.length > 63) errs.push('must be no more than 63 characters');
  if (!full(DNS1035_LABEL).test(v)) errs.push(regexError("a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character", DNS1035_LABEL, 'my-name', 'abc-123'));
  return errs;
}

const QN_MSG = "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";

export function qualifiedName(v: string): string[] {
  const parts = v.split('/');
  const errs: string[] = [];
  let name = parts[0];
  if (parts.length === 2) {
    name = parts[1];
    if (!parts[0]) errs.push('prefix part must be non-empty');
    else errs.push(...dns1123Subdomain(parts[0]).map((m) => `prefix part ${m}`));
  } else if (parts.length > 2) {
    return [`a qualified name ${regexError(QN_MSG, QUALIFIED_NAME, 'MyName', 'my.name', '123-abc')} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`];
  }
  if (!name) errs.push('name part must be non-empty');
  else if (name.length > 63) errs.push('name part must be no more than 63 characters');
  if (!full(QUALIFIED_NAME).test(name)) errs.push(`name part ${regexError(QN_MSG, QUALIFIED_NAME, 'MyName', 'my.name', '123-abc')}`);
  return errs;
}

export function labelValue(v: string): string[] {
  const errs: string[] = [];
  if (v.length > 63) errs.push('must be no more than 63 characters');
  if (!full(LABEL_VALUE).test(v)) errs.push(regexError("a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character", LABEL_VALUE, 'MyValue', 'my_value', '12345'));
  return errs;
}

/** Go's %q for a string, %v for numbers and booleans: how field.Invalid shows a bad value. */
export const goValue = (v: unknown): string => (typeof v === 'string' ? JSON.stringify(v) : typeof v === 'number' || typeof v === 'boolean' ? String(v) : v == null ? 'null' : JSON.stringify(v));

export const invalid = (field: string, value: string, detail: string): StatusCause => ({ reason: 'FieldValueInvalid', message: `Invalid value: ${value}: ${detail}`, field });
export const required = (field: string, detail = ''): StatusCause => ({ reason: 'FieldValueRequired', message: detail ? `Required value: ${detail}` : 'Required value', field });
export const forbidden = (field: string, detail: string): StatusCause => ({ reason: 'FieldValueForbidden', message: `Forbidden: ${detail}`, field });
const duplicate = (field: string, value: string): StatusCause => ({ reason: 'FieldValueDuplicate', message: `Duplicate value: ${JSON.stringify(value)}`, field });
const notSupported = (field: string, value: string, supported: string[]) => ({ reason: 'FieldValueNotSupported', message: `Unsupported value: ${JSON.stringify(value)}: supported values: ${supported.map((s) => JSON.stringify(s)).join(', ')}`, field });

/** Which name rule a kind's metadata.name follows (its registry strategy's ValidateNameFunc). */
function nameRule(storage: string): (v: string) => string[] {
  if (storage === 'namespaces') return dns1123Label;
  if (storage === 'services') return dns1035Label;
  if (storage.startsWith('rbac.authorization.k8s.io/')) return pathSegmentName;
  return dns1123Subdomain;
}

/** path.IsValidPathSegmentName, RBAC's name rule (so `system:aggregate-to-admin` is valid). */
function pathSegmentName(v: string): string[] {
  if (v === '.' || v === '..') return [`may not be '${v}'`];
  return ['/', '%'].filter((c) => v.includes(c)).map((c) => `may not contain '${c}'`);
}

function labelCauses(labels: unknown, field: string): StatusCause[] {
  const out: StatusCause[] = [];
  if (!labels || typeof labels !== 'object') return out;
  for (const [k, v] of Object.entries(labels as Record<string, unknown>)) {
    for (const m of qualifiedName(k)) out.push(invalid(field, goValue(k), m));
    if (typeof v === 'string') for (const m of labelValue(v)) out.push(invalid(field, goValue(v), m));
  }
  return out;
}

/** ValidateObjectMeta: name, labels and annotation keys. */
export function metadataCauses(storage: string, obj: K8sObject): StatusCause[] {
  const out: StatusCause[] = [];
  const m = obj.metadata ?? {};
  if (m.name) for (const msg of nameRule(storage)(m.name)) out.push(invalid('metadata.name', goValue(m.name), msg));
  out.push(...labelCauses(m.labels, 'metadata.labels'));
  for (const k of Object.keys(m.annotations ?? {})) {
    for (const msg of qualifiedName(k)) out.push(invalid('metadata.annotations', goValue(k), msg));
  }
  return out;
}

/** The restart policies a pod spec may have where it appears. */
export type PodOwner = 'pod' | 'workload' | 'job';

function restartPolicyCauses(spec: any, path: string, owner: PodOwner): StatusCause[] {
  const rp = spec?.restartPolicy;
  const field = `${path}.restartPolicy`;
  if (owner === 'workload') return rp === 'Always' ? [] : [notSupported(field, rp ?? '', ['Always'])];
  // batch's validateJobSpec: Always or none is Required, another unknown one NotSupported.
  if (owner === 'job') {
    if (rp === 'OnFailure' || rp === 'Never') return [];
    return rp && rp !== 'Always' ? [notSupported(field, rp, ['OnFailure', 'Never'])] : [required(field, 'valid values: "OnFailure", "Never"')];
  }
  if (rp === undefined || rp === '') return [required(field)];
  return ['Always', 'OnFailure', 'Never'].includes(rp) ? [] : [notSupported(field, rp, ['Always', 'OnFailure', 'Never'])];
}

function resourceCauses(c: any, path: string): StatusCause[] {
  const out: StatusCause[] = [];
  const req = c?.resources?.requests ?? {};
  const lim = c?.resources?.limits ?? {};
  for (const [name, q] of Object.entries(req)) {
    const r = tryQuantity(q);
    const l = tryQuantity(lim[name]);
    if (r !== undefined && l !== undefined && r > l) {
      out.push(invalid(`${path}.resources.requests`, goValue(String(q)), `must be less than or equal to ${name} limit of ${String(lim[name])}`));
    }
  }
  return out;
}

/** ValidatePodSpec for the fields manifests get wrong: containers, names, images, resources, restartPolicy. */
export function podSpecCauses(spec: any, path: string, owner: PodOwner): StatusCause[] {
  const out: StatusCause[] = [];
  const names = new Set<string>();
  const containers = (list: unknown, key: string) => {
    (Array.isArray(list) ? list : []).forEach((c: any, i: number) => {
      const p = `${path}.${key}[${i}]`;
      if (!c?.name) out.push(required(`${p}.name`));
      else {
        for (const m of dns1123Label(c.name)) out.push(invalid(`${p}.name`, goValue(c.name), m));
        if (names.has(c.name)) out.push(duplicate(`${p}.name`, c.name));
        names.add(c.name);
      }
      if (!c?.image) out.push(required(`${p}.image`));
      out.push(...resourceCauses(c, p));
    });
  };
  containers(spec?.initContainers, 'initContainers');
  if (!Array.isArray(spec?.containers) || spec.containers.length === 0) out.push(required(`${path}.containers`));
  containers(spec?.containers, 'containers');
  out.push(...restartPolicyCauses(spec, path, owner));
  return out;
}

/** A pod template: its labels and its pod spec. */
export function templateCauses(template: any, path: string, owner: PodOwner): StatusCause[] {
  return [...labelCauses(template?.metadata?.labels, `${path}.metadata.labels`), ...podSpecCauses(template?.spec, `${path}.spec`, owner)];
}

/** Go's %#v of a metav1.LabelSelector, as immutable-selector errors print it. */
export function goLabelSelector(sel: any): string {
  const ml = sel?.matchLabels;
  const labels = ml ? `map[string]string{${Object.keys(ml).sort().map((k) => `${JSON.stringify(k)}:${JSON.stringify(ml[k])}`).join(', ')}}` : 'map[string]string(nil)';
  const me = sel?.matchExpressions;
  const exprs = Array.isArray(me) && me.length
    ? `[]v1.LabelSelectorRequirement{${me.map((r: any) => `v1.LabelSelectorRequirement{Key:${JSON.stringify(r.key ?? '')}, Operator:${JSON.stringify(r.operator ?? '')}, Values:${r.values ? `[]string{${r.values.map((v: string) => JSON.stringify(v)).join(', ')}}` : '[]string(nil)'}}`).join(', ')}}`
    : '[]v1.LabelSelectorRequirement(nil)';
  return `v1.LabelSelector{MatchLabels:${labels}, MatchExpressions:${exprs}}`;
}

/** JSON with sorted keys: a patch may reorder an object's keys without changing it. */
export function canonical(v: unknown): string {
  const sort = (x: unknown): unknown => {
    if (Array.isArray(x)) return x.map(sort);
    if (x && typeof x === 'object') return Object.fromEntries(Object.keys(x).sort().map((k) => [k, sort((x as Record<string, unknown>)[k])]));
    return x;
  };
  return JSON.stringify(sort(v ?? null));
}

/** apiequality.Semantic.DeepEqual for JSON values. */
export const same = (a: unknown, b: unknown) => canonical(a) === canonical(b);

/** Service rules: ports (unless headless or ExternalName), port numbers, and a clusterIP that may not change. */
export function serviceCauses(obj: K8sObject, old: K8sObject | undefined): StatusCause[] {
  const out: StatusCause[] = [];
  const spec = obj.spec ?? {};
  const ports = Array.isArray(spec.ports) ? spec.ports : [];
  if (!ports.length && spec.clusterIP !== 'None' && spec.type !== 'ExternalName') out.push(required('spec.ports'));
  ports.forEach((p: any, i: number) => {
    if (typeof p?.port !== 'number' || p.port < 1 || p.port > 65535) out.push(invalid(`spec.ports[${i}].port`, goValue(p?.port ?? 0), 'must be between 1 and 65535, inclusive'));
  });
  const was: string[] = old?.spec?.clusterIPs ?? (old?.spec?.clusterIP ? [old.spec.clusterIP] : []);
  // A changed clusterIP wins over an unchanged clusterIPs (the strategy's normalizeClusterIPs).
  const now: string[] = spec.clusterIP ? [spec.clusterIP, ...(spec.clusterIPs ?? []).slice(1)] : (spec.clusterIPs ?? []);
  if (old && old.spec?.type !== 'ExternalName' && spec.type !== 'ExternalName') {
    was.forEach((ip, i) => {
      if (i < now.length && now[i] !== ip) out.push(invalid(`spec.clusterIPs[${i}]`, `[]string{${now.map((x) => JSON.stringify(x)).join(', ')}}`, 'may not change once set'));
    });
  }
  return out;
}

/** ConfigMaps and Secrets marked immutable keep their data (and stay immutable). */
export function immutableDataCauses(obj: K8sObject, old: K8sObject | undefined): StatusCause[] {
  if (!old?.immutable) return [];
  const out: StatusCause[] = [];
  const why = 'field is immutable when `immutable` is set';
  if (obj.immutable !== true) out.push(forbidden('immutable', why));
  if (!same(obj.data, old.data)) out.push(forbidden('data', why));
  if (!same(obj.binaryData, old.binaryData)) out.push(forbidden('binaryData', why));
  return out;
}
