// A container's environment as pkg/apis/core/validation (1.32) checks it:
// ValidateEnv (names under RelaxedEnvironmentVariableValidation, on by
// default in 1.32; validateEnvVarValueFrom: exactly one source, not beside
// `value`), the downward API selectors and ValidateEnvFrom. The downward API
// file checks of volumes use the same selectors.
import { canonicalQuantity, parseQuantityExact } from './quantity-canonical.ts';
import type { StatusCause } from './status.ts';
import { configMapKey, dns1123Subdomain, each, goValue, invalid, list, notSupported, qualifiedName, relaxedEnvVarName, required } from './validation-rules.ts';

/** The fieldPaths an env var may read (validEnvDownwardAPIFieldPathExpressions), sorted as sets.List prints them. */
export const ENV_FIELD_PATHS = ['metadata.name', 'metadata.namespace', 'metadata.uid', 'spec.nodeName', 'spec.serviceAccountName', 'status.hostIP', 'status.hostIPs', 'status.podIP', 'status.podIPs'];
/** …and a downwardAPI volume file (validVolumeDownwardAPIFieldPathExpressions). */
export const VOLUME_FIELD_PATHS = ['metadata.annotations', 'metadata.labels', 'metadata.name', 'metadata.namespace', 'metadata.uid'];
const RESOURCE_PATHS = ['limits.cpu', 'limits.ephemeral-storage', 'limits.memory', 'requests.cpu', 'requests.ephemeral-storage', 'requests.memory'];

/** ConvertDownwardAPIFieldLabel's labels for v1. */
const CONVERTIBLE = new Set(['metadata.annotations', 'metadata.labels', 'metadata.name', 'metadata.namespace', 'metadata.uid', 'spec.nodeName', 'spec.restartPolicy', 'spec.serviceAccountName', 'spec.schedulerName', 'status.phase', 'status.hostIP', 'status.hostIPs', 'status.podIP', 'status.podIPs']);

/** ValidateEnv. */
export function envCauses(vars: unknown, path: string): StatusCause[] {
  const out: StatusCause[] = [];
  list(vars).forEach((ev: any, i: number) => {
    const p = `${path}[${i}]`;
    if (!ev?.name) out.push(required(`${p}.name`));
    else out.push(...each(relaxedEnvVarName(ev.name), `${p}.name`, ev.name));
    out.push(...valueFromCauses(ev, `${p}.valueFrom`));
  });
  return out;
}

function valueFromCauses(ev: any, path: string): StatusCause[] {
  const from = ev?.valueFrom;
  if (!from) return [];
  const out: StatusCause[] = [];
  let n = 0;
  if (from.fieldRef) {
    n++;
    out.push(...fieldSelectorCauses(from.fieldRef, ENV_FIELD_PATHS, `${path}.fieldRef`));
  }
  if (from.resourceFieldRef) {
    n++;
    out.push(...resourceSelectorCauses(from.resourceFieldRef, `${path}.resourceFieldRef`, false));
  }
  if (from.configMapKeyRef) {
    n++;
    out.push(...keySelectorCauses(from.configMapKeyRef, `${path}.configMapKeyRef`));
  }
  if (from.secretKeyRef) {
    n++;
    out.push(...keySelectorCauses(from.secretKeyRef, `${path}.secretKeyRef`));
  }
  if (n === 0) out.push(invalid(path, '""', 'must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`'));
  else if (ev.value) out.push(invalid(path, '""', 'may not be specified when `value` is not empty'));
  else if (n > 1) out.push(invalid(path, '""', 'may not have more than one field specified at a time'));
  return out;
}

/** validateObjectFieldSelector. */
export function fieldSelectorCauses(fs: any, allowed: string[], path: string): StatusCause[] {
  if (!fs.apiVersion) return [required(`${path}.apiVersion`)];
  if (!fs.fieldPath) return [required(`${path}.fieldPath`)];
  const fp: string = fs.fieldPath;
  const sub = subscripted(fp);
  let err = '';
  if (fs.apiVersion !== 'v1') err = `unsupported pod version: ${fs.apiVersion}`;
  else if (sub && sub.path !== 'metadata.annotations' && sub.path !== 'metadata.labels') err = `field label does not support subscript: ${fp}`;
  else if (!sub && !CONVERTIBLE.has(fp) && fp !== 'spec.host') err = `field label not supported: ${fp}`;
  if (err) return [invalid(`${path}.fieldPath`, goValue(fp), `error converting fieldPath: ${err}`)];
  if (sub) return each(qualifiedName(sub.path === 'metadata.annotations' ? sub.key.toLowerCase() : sub.key), path, sub.path === 'metadata.annotations' ? sub.key.toLowerCase() : sub.key);
  const internal = fp === 'spec.host' ? 'spec.nodeName' : fp;
  return allowed.includes(internal) ? [] : [notSupported(`${path}.fieldPath`, internal, allowed)];
}

/** fieldpath.SplitMaybeSubscriptedPath: `metadata.labels['app']`. */
function subscripted(fp: string): { path: string; key: string } | undefined {
  if (!fp.endsWith("']")) return undefined;
  const s = fp.slice(0, -2);
  const at = s.indexOf("['");
  if (at <= 0) return undefined;
  return { path: s.slice(0, at), key: s.slice(at + 2) };
}

const DIVISORS: Record<string, string[]> = {
  cpu: ['1m', '1'],
  memory: ['1', '1k', '1M', '1G', '1T', '1P', '1E', '1Ki', '1Mi', '1Gi', '1Ti', '1Pi', '1Ei'],
};
const DIVISOR_MSG: Record<string, string> = {
  cpu: "only divisor's values 1m and 1 are supported with the cpu resource",
  memory: "only divisor's values 1, 1k, 1M, 1G, 1T, 1P, 1E, 1Ki, 1Mi, 1Gi, 1Ti, 1Pi, 1Ei are supported with the memory resource",
  'ephemeral-storage': "only divisor's values 1, 1k, 1M, 1G, 1T, 1P, 1E, 1Ki, 1Mi, 1Gi, 1Ti, 1Pi, 1Ei are supported with the local ephemeral storage resource",
};

/** validateContainerResourceFieldSelector (env vars, and volume files where containerName is required). */
export function resourceSelectorCauses(fs: any, path: string, volume: boolean): StatusCause[] {
  const out: StatusCause[] = [];
  const res: string = fs.resource ?? '';
  if (volume && !fs.containerName) out.push(required(`${path}.containerName`));
  else if (!res) out.push(required(`${path}.resource`));
  else if (!RESOURCE_PATHS.includes(res) && !res.startsWith('requests.hugepages-') && !res.startsWith('limits.hugepages-')) {
    out.push(notSupported(`${path}.resource`, res, RESOURCE_PATHS));
  }
  const divisor = parseQuantityExact(fs.divisor);
  if (divisor && divisor.mant !== 0n) {
    const text = canonicalQuantity(divisor);
    const kind = res.replace(/^(limits|requests)\./, '');
    const allowed = kind === 'cpu' ? DIVISORS.cpu : DIVISORS.memory;
    if ((kind in DIVISOR_MSG) && !allowed.includes(text)) out.push(invalid(`${path}.divisor`, goValue(res), DIVISOR_MSG[kind]));
    if (kind.startsWith('hugepages-') && !DIVISORS.memory.includes(text)) {
      out.push(invalid(`${path}.divisor`, goValue(res), "only divisor's values 1, 1k, 1M, 1G, 1T, 1P, 1E, 1Ki, 1Mi, 1Gi, 1Ti, 1Pi, 1Ei are supported with the hugepages resource"));
    }
  }
  return out;
}

/** validateConfigMapKeySelector / validateSecretKeySelector: the name is a subdomain (an empty one too), the key required. */
function keySelectorCauses(s: any, path: string): StatusCause[] {
  const out = each(dns1123Subdomain(s.name ?? ''), `${path}.name`, s.name ?? '');
  if (!s.key) out.push(required(`${path}.key`));
  else out.push(...each(configMapKey(s.key), `${path}.key`, s.key));
  return out;
}

/** ValidateEnvFrom. */
export function envFromCauses(sources: unknown, path: string): StatusCause[] {
  const out: StatusCause[] = [];
  list(sources).forEach((ev: any, i: number) => {
    const p = `${path}[${i}]`;
    if (ev?.prefix) out.push(...each(relaxedEnvVarName(ev.prefix), `${p}.prefix`, ev.prefix));
    let n = 0;
    for (const kind of ['configMapRef', 'secretRef']) {
      const ref = ev?.[kind];
      if (!ref) continue;
      n++;
      if (!ref.name) out.push(required(`${p}.${kind}.name`));
      // NameIsDNSSubdomain with prefix=true: a trailing dash is allowed.
      else out.push(...each(dns1123Subdomain(ref.name.length > 1 && ref.name.endsWith('-') ? `${ref.name.slice(0, -1)}a` : ref.name), `${p}.${kind}.name`, ref.name));
    }
    if (n === 0) out.push(invalid(path, '""', 'must specify one of: `configMapRef` or `secretRef`'));
    else if (n > 1) out.push(invalid(path, '""', 'may not have more than one field specified at a time'));
  });
  return out;
}

