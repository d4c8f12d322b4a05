// A container's resources as pkg/apis/core/validation (1.32) checks them:
// ValidateContainerResourceRequirements → validateResourceRequirements
// (resource names, ValidateResourceQuantityValue, requests ≤ limits, extended
// resources that cannot be overcommitted). Quantities are quoted in canonical
// form, as Quantity.String() prints them: a request of "2000m" above a limit
// of "1" is `Invalid value: "2": must be less than or equal to cpu limit of 1`.
// A quantity that does not parse never gets here: the decoder refuses it with
// a 400 (`quantities must match the regular expression …`).
import { canonicalQuantity, compareQuantities, isNegative, parseQuantityExact, type Quantity } from './quantity-canonical.ts';
import type { StatusCause } from './status.ts';
import { forbidden, goValue, invalid, qualifiedName, required } from './validation-rules.ts';

const STANDARD = new Set(['cpu', 'memory', 'ephemeral-storage', 'requests.cpu', 'requests.memory', 'requests.ephemeral-storage', 'limits.cpu', 'limits.memory', 'limits.ephemeral-storage', 'pods', 'quotas', 'services', 'replicationcontrollers', 'secrets', 'configmaps', 'persistentvolumeclaims', 'storage', 'requests.storage', 'services.nodeports', 'services.loadbalancers']);
const CONTAINER = new Set(['cpu', 'memory', 'ephemeral-storage']);

const isHugePages = (name: string) => name.startsWith('hugepages-');
/** helper.IsNativeResource: no domain, or a kubernetes.io one. */
const isNative = (name: string) => !name.includes('/') || name.includes('kubernetes.io/');
const overcommitAllowed = (name: string) => isNative(name) && !isHugePages(name);
const isExtended = (name: string) => !isNative(name) && !name.startsWith('requests.') && qualifiedName(`requests.${name}`).length === 0;

/** validateContainerResourceName (validateResourceName first). */
function resourceNameCauses(name: string, field: string): StatusCause[] {
  const qn = qualifiedName(name).map((m) => invalid(field, goValue(name), m));
  if (qn.length) return qn;
  const out: StatusCause[] = [];
  if (!name.includes('/')) {
    if (!STANDARD.has(name) && !isHugePages(name) && !name.startsWith('requests.hugepages-')) out.push(invalid(field, goValue(name), 'must be a standard resource type or fully qualified'));
    if (!CONTAINER.has(name) && !isHugePages(name)) out.push(invalid(field, goValue(name), 'must be a standard resource for containers'));
  } else if (!isNative(name) && !isExtended(name)) {
    out.push(invalid(field, goValue(name), "doesn't follow extended resource name standard"));
  }
  return out;
}

const entries = (m: unknown): [string, Quantity | undefined, unknown][] =>
  m && typeof m === 'object' && !Array.isArray(m) ? Object.entries(m as Record<string, unknown>).map(([k, v]) => [k, parseQuantityExact(v), v]) : [];

/** ValidateResourceQuantityValue: not negative (integer resources are not checked here). */
function quantityCauses(q: Quantity | undefined, field: string): StatusCause[] {
  return q && isNegative(q) ? [invalid(field, goValue(canonicalQuantity(q)), 'must be greater than or equal to 0')] : [];
}

/** validateResourceRequirements for a container: limits first, then requests, each in the order written (Go walks a map). */
export function resourcesCauses(resources: any, path: string): StatusCause[] {
  const out: StatusCause[] = [];
  const limPath = `${path}.limits`;
  const reqPath = `${path}.requests`;
  const limits = new Map(entries(resources?.limits).map(([k, q]) => [k, q]));
  let cpuOrMemory = false;
  let hugePages = false;
  for (const [name, q] of entries(resources?.limits)) {
    const field = `${limPath}[${name}]`;
    out.push(...resourceNameCauses(name, field), ...quantityCauses(q, field));
    if (isHugePages(name)) hugePages = true;
    if (name === 'cpu' || name === 'memory') cpuOrMemory = true;
  }
  for (const [name, q] of entries(resources?.requests)) {
    const field = `${reqPath}[${name}]`;
    out.push(...resourceNameCauses(name, field), ...quantityCauses(q, field));
    const lim = limits.get(name);
    if (limits.has(name)) {
      if (q && lim) {
        const c = compareQuantities(q, lim);
        if (c !== 0 && !overcommitAllowed(name)) out.push(invalid(reqPath, goValue(canonicalQuantity(q)), `must be equal to ${name} limit of ${canonicalQuantity(lim)}`));
        else if (c > 0) out.push(invalid(reqPath, goValue(canonicalQuantity(q)), `must be less than or equal to ${name} limit of ${canonicalQuantity(lim)}`));
      }
    } else if (!overcommitAllowed(name)) {
      out.push(required(limPath, 'Limit must be set for non overcommitable resources'));
    }
    if (isHugePages(name)) hugePages = true;
    if (name === 'cpu' || name === 'memory') cpuOrMemory = true;
  }
  if (hugePages && !cpuOrMemory) out.push(forbidden(path, 'HugePages require cpu or memory'));
  return out;
}
