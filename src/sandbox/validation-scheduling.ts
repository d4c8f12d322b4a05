// Where a pod may run, as pkg/apis/core/validation (1.32) checks it:
// validateAffinity (node affinity: ValidateNodeSelector, whose values 1.32
// does not yet check as label values — that came in 1.33; pod (anti-)affinity:
// label selectors, namespaces, topologyKey, weights), ValidateTolerations,
// validateTopologySpreadConstraints, and metav1's ValidateLabelSelector and
// ValidateLabels (apimachinery v0.32.0).
import type { StatusCause } from './status.ts';
import { dns1123Label, dns1123Subdomain, duplicate, each, forbidden, goValue, invalid, labelValue, list, notSupported, qualifiedName, required } from './validation-rules.ts';

/** metav1 validation's ValidateLabels: every key and value reported on the map's own path. */
export function labelsCauses(labels: unknown, field: string): StatusCause[] {
  const out: StatusCause[] = [];
  if (!labels || typeof labels !== 'object') return out;
  for (const [k, v] of Object.entries(labels as Record<string, unknown>)) {
    out.push(...each(qualifiedName(k), field, k));
    if (typeof v === 'string') out.push(...each(labelValue(v), field, v));
  }
  return out;
}

/** ValidateLabelSelector (AllowInvalidLabelValueInSelector false, as for a new object). */
export function labelSelectorCauses(sel: any, path: string): StatusCause[] {
  if (!sel) return [];
  const out = labelsCauses(sel.matchLabels, `${path}.matchLabels`);
  list(sel.matchExpressions).forEach((r: any, i: number) => {
    const p = `${path}.matchExpressions[${i}]`;
    const values = list(r?.values);
    switch (r?.operator) {
      case 'In':
      case 'NotIn':
        if (!values.length) out.push(required(`${p}.values`, "must be specified when `operator` is 'In' or 'NotIn'"));
        break;
      case 'Exists':
      case 'DoesNotExist':
        if (values.length) out.push(forbidden(`${p}.values`, "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"));
        break;
      default:
        out.push(invalid(`${p}.operator`, goValue(r?.operator ?? ''), 'not a valid selector operator'));
    }
    out.push(...each(qualifiedName(r?.key ?? ''), `${p}.key`, r?.key ?? ''));
    values.forEach((v, j) => out.push(...each(labelValue(String(v)), `${p}.values[${j}]`, String(v))));
  });
  return out;
}

/** ValidateNodeSelectorRequirement (1.32: operator and value count, the key; values are not checked). */
function nodeRequirementCauses(r: any, p: string): StatusCause[] {
  const out: StatusCause[] = [];
  const n = list(r?.values).length;
  switch (r?.operator) {
    case 'In':
    case 'NotIn':
      if (!n) out.push(required(`${p}.values`, "must be specified when `operator` is 'In' or 'NotIn'"));
      break;
    case 'Exists':
    case 'DoesNotExist':
      if (n) out.push(forbidden(`${p}.values`, "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"));
      break;
    case 'Gt':
    case 'Lt':
      if (n !== 1) out.push(required(`${p}.values`, "must be specified single value when `operator` is 'Lt' or 'Gt'"));
      break;
    default:
      out.push(invalid(`${p}.operator`, goValue(r?.operator ?? ''), 'not a valid selector operator'));
  }
  out.push(...each(qualifiedName(r?.key ?? ''), `${p}.key`, r?.key ?? ''));
  return out;
}

/** ValidateNodeFieldSelectorRequirement: only metadata.name, with exactly one value. */
function nodeFieldRequirementCauses(r: any, p: string): StatusCause[] {
  const out: StatusCause[] = [];
  if (r?.operator === 'In' || r?.operator === 'NotIn') {
    if (list(r.values).length !== 1) out.push(required(`${p}.values`, "must be only one value when `operator` is 'In' or 'NotIn' for node field selector"));
  } else out.push(invalid(`${p}.operator`, goValue(r?.operator ?? ''), 'not a valid selector operator'));
  if (r?.key !== 'metadata.name') out.push(invalid(`${p}.key`, goValue(r?.key ?? ''), 'not a valid field selector key'));
  else list(r.values).forEach((v, i) => out.push(...each(dns1123Subdomain(String(v)), `${p}.values[${i}]`, String(v))));
  return out;
}

function nodeTermCauses(term: any, p: string): StatusCause[] {
  return [
    ...list(term?.matchExpressions).flatMap((r, j) => nodeRequirementCauses(r, `${p}.matchExpressions[${j}]`)),
    ...list(term?.matchFields).flatMap((r, j) => nodeFieldRequirementCauses(r, `${p}.matchFields[${j}]`)),
  ];
}

const weightCauses = (w: unknown, field: string): StatusCause[] =>
  (typeof w === 'number' && w >= 1 && w <= 100 ? [] : [invalid(field, goValue(typeof w === 'number' ? w : 0), 'must be in the range 1-100')]);

/** validatePodAffinityTerm. */
function podTermCauses(t: any, p: string): StatusCause[] {
  const out = [...labelSelectorCauses(t?.labelSelector, `${p}.labelSelector`), ...labelSelectorCauses(t?.namespaceSelector, `${p}.namespaceSelector`)];
  for (const ns of list(t?.namespaces)) out.push(...each(dns1123Label(String(ns)), `${p}.namespace`, String(ns)));
  for (const key of ['matchLabelKeys', 'mismatchLabelKeys']) {
    const keys = list(t?.[key]);
    if (!keys.length) continue;
    if (!t.labelSelector) out.push(forbidden(`${p}.${key}`, 'must not be specified when labelSelector is not set'));
    else keys.forEach((k, i) => out.push(...each(qualifiedName(String(k)), `${p}.${key}[${i}]`, String(k))));
  }
  if (!t?.topologyKey) out.push(required(`${p}.topologyKey`, 'can not be empty'));
  out.push(...each(qualifiedName(t?.topologyKey ?? ''), `${p}.topologyKey`, t?.topologyKey ?? ''));
  return out;
}

/** validateAffinity. */
export function affinityCauses(a: any, path: string): StatusCause[] {
  if (!a) return [];
  const out: StatusCause[] = [];
  const na = a.nodeAffinity;
  if (na) {
    const req = na.requiredDuringSchedulingIgnoredDuringExecution;
    const rp = `${path}.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms`;
    if (req && !list(req.nodeSelectorTerms).length) out.push(required(rp, 'must have at least one node selector term'));
    else if (req) list(req.nodeSelectorTerms).forEach((t, i) => out.push(...nodeTermCauses(t, `${rp}[${i}]`)));
    list(na.preferredDuringSchedulingIgnoredDuringExecution).forEach((t: any, i: number) => {
      const p = `${path}.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution[${i}]`;
      out.push(...weightCauses(t?.weight, `${p}.weight`), ...nodeTermCauses(t?.preference, `${p}.preference`));
    });
  }
  for (const kind of ['podAffinity', 'podAntiAffinity']) {
    const pa = a[kind];
    if (!pa) continue;
    const p = `${path}.${kind}`;
    list(pa.requiredDuringSchedulingIgnoredDuringExecution).forEach((t, i) => out.push(...podTermCauses(t, `${p}.requiredDuringSchedulingIgnoredDuringExecution[${i}]`)));
    list(pa.preferredDuringSchedulingIgnoredDuringExecution).forEach((t: any, i: number) => {
      const wp = `${p}.preferredDuringSchedulingIgnoredDuringExecution[${i}]`;
      out.push(...weightCauses(t?.weight, `${wp}.weight`), ...podTermCauses(t?.podAffinityTerm, `${wp}.podAffinityTerm`));
    });
  }
  return out;
}

/** Go's %#v of a core.Toleration, as the Exists-with-a-value error prints it. */
function goToleration(t: any): string {
  const secs = typeof t.tolerationSeconds === 'number' ? '(*int64)(0xc000a1b2c8)' : '(*int64)(nil)';
  return `core.Toleration{Key:${JSON.stringify(t.key ?? '')}, Operator:${JSON.stringify(t.operator ?? '')}, Value:${JSON.stringify(t.value ?? '')}, Effect:${JSON.stringify(t.effect ?? '')}, TolerationSeconds:${secs}}`;
}

/** ValidateTolerations. */
export function tolerationsCauses(tolerations: unknown, path: string): StatusCause[] {
  const out: StatusCause[] = [];
  list(tolerations).forEach((t: any, i: number) => {
    const p = `${path}[${i}]`;
    const op = t?.operator ?? '';
    if (t?.key) out.push(...each(qualifiedName(t.key), `${p}.key`, t.key));
    if (!t?.key && op !== 'Exists') out.push(invalid(`${p}.operator`, goValue(op), 'operator must be Exists when `key` is empty, which means "match all values and all keys"'));
    if (typeof t?.tolerationSeconds === 'number' && t.effect !== 'NoExecute') out.push(invalid(`${p}.effect`, goValue(t.effect ?? ''), "effect must be 'NoExecute' when `tolerationSeconds` is set"));
    if (op === 'Equal' || op === '') {
      const errs = labelValue(t?.value ?? '');
      if (errs.length) out.push(invalid(`${p}.operator`, goValue(t?.value ?? ''), errs.join(';')));
    } else if (op === 'Exists') {
      if (t.value) out.push(invalid(`${p}.operator`, goToleration(t), "value must be empty when `operator` is 'Exists'"));
    } else out.push(notSupported(`${p}.operator`, op, ['Equal', 'Exists']));
    if (t?.effect && !['NoSchedule', 'PreferNoSchedule', 'NoExecute'].includes(t.effect)) {
      out.push(notSupported(`${p}.effect`, t.effect, ['NoSchedule', 'PreferNoSchedule', 'NoExecute']));
    }
  });
  return out;
}

/** validateTopologySpreadConstraints. */
export function topologySpreadCauses(constraints: unknown, path: string): StatusCause[] {
  const out: StatusCause[] = [];
  const all = list(constraints);
  all.forEach((c: any, i: number) => {
    const p = `${path}[${i}]`;
    const skew = typeof c?.maxSkew === 'number' ? c.maxSkew : 0;
    if (skew <= 0) out.push(invalid(`${p}.maxSkew`, String(skew), 'must be greater than zero'));
    if (!c?.topologyKey) out.push(required(`${p}.topologyKey`, 'can not be empty'));
    const when = c?.whenUnsatisfiable ?? '';
    if (when !== 'DoNotSchedule' && when !== 'ScheduleAnyway') out.push(notSupported(`${p}.whenUnsatisfiable`, when, ['DoNotSchedule', 'ScheduleAnyway']));
    if (all.slice(i + 1).some((o: any) => (o?.topologyKey ?? '') === (c?.topologyKey ?? '') && (o?.whenUnsatisfiable ?? '') === when)) {
      out.push(duplicate(`${p}.{topologyKey, whenUnsatisfiable}`, `{${c?.topologyKey ?? ''}, ${when}}`));
    }
    if (typeof c?.minDomains === 'number') {
      if (c.minDomains <= 0) out.push(invalid(`${p}.minDomains`, String(c.minDomains), 'must be greater than zero'));
      if (when !== 'DoNotSchedule') out.push(invalid(`${p}.minDomains`, String(c.minDomains), `can only use minDomains if whenUnsatisfiable=DoNotSchedule, not ${when}`));
    }
    for (const policy of ['nodeAffinityPolicy', 'nodeTaintsPolicy']) {
      const v = c?.[policy];
      if (v !== undefined && v !== null && v !== 'Honor' && v !== 'Ignore') out.push(notSupported(`${p}.${policy}`, v, ['Honor', 'Ignore']));
    }
    out.push(...labelSelectorCauses(c?.labelSelector, `${p}.labelSelector`));
  });
  return out;
}
