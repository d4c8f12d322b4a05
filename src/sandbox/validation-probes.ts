// Probes and lifecycle hooks as pkg/apis/core/validation (1.32) checks them:
// validateLivenessProbe/validateReadinessProbe/validateStartupProbe →
// validateProbe → validateHandler (exactly one of exec, httpGet, tcpSocket,
// grpc; lifecycle hooks: exec, httpGet, tcpSocket, sleep), and
// validateLifecycle. Numbers left at 0 were defaulted before validation
// (SetDefaults_Probe), so only negatives reach "must be greater than or equal
// to 0" here.
import type { StatusCause } from './status.ts';
import { each, forbidden, goValue, httpHeaderName, invalid, list, nonNegative, notSupported, portName, portNum, required } from './validation-rules.ts';

type Kind = 'liveness' | 'readiness' | 'startup';

/** The three probes of a regular (or restartable init) container, in validateContainers' order. */
export function probesCauses(c: any, path: string, gracePeriod: number | undefined): StatusCause[] {
  const out: StatusCause[] = [];
  if (c?.lifecycle) out.push(...lifecycleCauses(c.lifecycle, `${path}.lifecycle`, gracePeriod));
  for (const kind of ['liveness', 'readiness', 'startup'] as Kind[]) {
    const probe = c?.[`${kind}Probe`];
    if (probe) out.push(...probeCauses(probe, `${path}.${kind}Probe`, kind));
  }
  return out;
}

/** validateLivenessProbe & co.: validateProbe, then what is particular to the kind. */
export function probeCauses(probe: any, path: string, kind: Kind): StatusCause[] {
  const out = [
    ...handlerCauses(probe, path, ['exec', 'httpGet', 'tcpSocket', 'grpc'], undefined),
    ...nonNegative(probe.initialDelaySeconds, `${path}.initialDelaySeconds`),
    ...nonNegative(probe.timeoutSeconds, `${path}.timeoutSeconds`),
    ...nonNegative(probe.periodSeconds, `${path}.periodSeconds`),
    ...nonNegative(probe.successThreshold, `${path}.successThreshold`),
    ...nonNegative(probe.failureThreshold, `${path}.failureThreshold`),
  ];
  const tgps = probe.terminationGracePeriodSeconds;
  if (typeof tgps === 'number' && tgps <= 0) out.push(invalid(`${path}.terminationGracePeriodSeconds`, String(tgps), 'must be greater than 0'));
  if (kind === 'readiness') {
    if (tgps !== undefined && tgps !== null) out.push(invalid(`${path}.terminationGracePeriodSeconds`, String(tgps), 'must not be set for readinessProbes'));
  } else if ((probe.successThreshold ?? 1) !== 1) {
    out.push(invalid(`${path}.successThreshold`, String(probe.successThreshold), 'must be 1'));
  }
  return out;
}

/** validateLifecycle: postStart and preStop are handlers (sleep allowed, grpc not). */
export function lifecycleCauses(lc: any, path: string, gracePeriod: number | undefined): StatusCause[] {
  const out: StatusCause[] = [];
  for (const hook of ['postStart', 'preStop']) {
    if (lc?.[hook]) out.push(...handlerCauses(lc[hook], `${path}.${hook}`, ['exec', 'httpGet', 'tcpSocket', 'sleep'], gracePeriod));
  }
  return out;
}

/** validateHandler: the first handler given is validated, each further one is Forbidden. */
function handlerCauses(h: any, path: string, kinds: string[], gracePeriod: number | undefined): StatusCause[] {
  const out: StatusCause[] = [];
  let n = 0;
  for (const kind of kinds) {
    const action = h?.[kind];
    if (action === undefined || action === null) continue;
    const p = `${path}.${kind}`;
    if (n > 0) {
      out.push(forbidden(p, 'may not specify more than 1 handler type'));
      continue;
    }
    n++;
    out.push(...actionCauses(kind, action, p, gracePeriod));
  }
  if (n === 0) out.push(required(path, 'must specify a handler type'));
  return out;
}

function actionCauses(kind: string, a: any, p: string, gracePeriod: number | undefined): StatusCause[] {
  switch (kind) {
    case 'exec':
      return list(a.command).length ? [] : [required(`${p}.command`)];
    case 'httpGet': {
      const out: StatusCause[] = [];
      if (!a.path) out.push(required(`${p}.path`));
      out.push(...portNumOrName(a.port, `${p}.port`));
      if (a.scheme !== 'HTTP' && a.scheme !== 'HTTPS') out.push(notSupported(`${p}.scheme`, a.scheme ?? '', ['HTTP', 'HTTPS']));
      for (const header of list(a.httpHeaders)) out.push(...each(httpHeaderName(header?.name ?? ''), `${p}.httpHeaders`, header?.name ?? ''));
      return out;
    }
    case 'tcpSocket':
      return portNumOrName(a.port, `${p}.port`);
    case 'grpc':
      return portNumOrName(typeof a.port === 'number' ? a.port : 0, `${p}.port`);
    case 'sleep': {
      // validateSleepAction without PodLifecycleSleepActionAllowZero (alpha, off in 1.32).
      const s = typeof a.seconds === 'number' ? a.seconds : 0;
      if (gracePeriod !== undefined && (s <= 0 || s > gracePeriod)) {
        return [invalid(p, String(s), `must be greater than 0 and less than terminationGracePeriodSeconds (${gracePeriod}). Enable AllowPodLifecycleSleepActionZeroValue feature gate for zero sleep.`)];
      }
      return [];
    }
  }
  return [];
}

/** ValidatePortNumOrName: an IntOrString port, 1–65535 or an IANA_SVC_NAME. */
export function portNumOrName(port: unknown, field: string): StatusCause[] {
  if (typeof port === 'string') return each(portName(port), field, port);
  const n = typeof port === 'number' ? port : 0;
  return portNum(n).map((m) => invalid(field, goValue(n), m));
}
