// The API server's validators (k8s.io/kubernetes pkg/apis/{core,apps,batch}/
// validation and apimachinery's name and label checks) for what a manifest
// most often gets wrong: names, labels, Services without ports and immutable
// fields here; pod specs (containers, probes, ports, env, volumes, resources,
// security contexts, affinity, tolerations) in validation-podspec.ts and the
// validation-*.ts files it calls. Causes are worded as field.Error's
// ErrorBody, so `kubectl apply` prints what a real cluster prints.
import type { StatusCause } from './status.ts';
import type { K8sObject } from './types.ts';
import { dns1035Label, dns1123Label, dns1123Subdomain, forbidden, goValue, invalid, labelValue, qualifiedName, required } from './validation-rules.ts';

export { dns1035Label, dns1123Label, dns1123Subdomain, forbidden, goValue, invalid, labelValue, qualifiedName, required } from './validation-rules.ts';
export { podSpecCauses, templateCauses, type PodOwner } from './validation-podspec.ts';

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
