// Errors from the Kubernetes API, classified by type so callers decide about
// retries without reading messages: the HTTP status picks the registry entry,
// and the entry says whether it is retryable (409, 429, 5xx and network
// failures are; 410 means "relist"; other 4xx are final).
import { KubemendError, Errors, type ErrorInfo } from '../common/index.ts';

/** The registry entry for an API answer's HTTP status (0: no answer at all). */
export function kubeErrorInfo(status: number): ErrorInfo {
  if (status === 0) return Errors.KUBE_UNREACHABLE;
  if (status >= 500) return Errors.KUBE_SERVER_ERROR;
  switch (status) {
    case 400:
    case 422:
      return Errors.KUBE_INVALID;
    case 401:
      return Errors.KUBE_UNAUTHORIZED;
    case 403:
      return Errors.KUBE_FORBIDDEN;
    case 404:
      return Errors.KUBE_NOT_FOUND;
    case 409:
      return Errors.KUBE_CONFLICT;
    case 410:
      return Errors.KUBE_GONE;
    case 429:
      return Errors.KUBE_THROTTLED;
    default:
      return Errors.KUBE_REJECTED;
  }
}

/** What the RBAC authorizer refused: who, and the permission missing (responsewriters.forbiddenMessage's parts). */
export interface RbacDenial {
  user: string;
  verb: string;
  /** With the subresource: `deployments/scale`. */
  resource: string;
  group: string;
  /** Absent for a cluster-scope request. */
  namespace?: string;
}

// kube-apiserver words every authorization refusal the same way (its
// forbiddenMessage); admission refusals (quota, PodSecurity, a terminating
// namespace) are 403 too but read otherwise, so only these are RBAC's.
const DENIAL = /User "((?:[^"\\]|\\.)*)" cannot (\S+) resource "([^"]*)" in API group "([^"]*)" (?:in the namespace "([^"]*)"|at the cluster scope)/;

/** The denial a 403's message states, when the authorizer refused it. */
export function rbacDenial(message: string): RbacDenial | undefined {
  const m = DENIAL.exec(message);
  if (!m) return undefined;
  return { user: JSON.parse(`"${m[1]}"`), verb: m[2], resource: m[3], group: m[4], ...(m[5] !== undefined ? { namespace: m[5] } : {}) };
}

/** `"alice" may not patch deployments (API group "apps") in namespace "shop"`: the missing permission, in one phrase. */
export function describeDenial(d: RbacDenial): string {
  const where = d.namespace !== undefined ? `in namespace "${d.namespace}"` : 'at the cluster scope';
  return `${JSON.stringify(d.user)} may not ${d.verb} ${d.resource} (API group "${d.group}") ${where}`;
}

export class KubeApiError extends KubemendError {
  readonly status: number;
  /** Set when RBAC refused the request: the permission the identity lacks. */
  readonly denied?: RbacDenial;
  /** The Kubernetes Status reason (NotFound, Conflict …), or the status as text. */
  readonly reason: string;
  readonly retryAfterSeconds?: number;
  readonly body?: unknown;

  constructor(message: string, status: number, reason: string, opts: { retryAfterSeconds?: number; body?: unknown; cause?: unknown; denied?: RbacDenial } = {}) {
    super(opts.denied ? Errors.KUBE_RBAC_DENIED : kubeErrorInfo(status), message, { cause: opts.cause });
    this.name = 'KubeApiError';
    this.status = status;
    if (opts.denied) this.denied = opts.denied;
    this.reason = reason;
    this.retryAfterSeconds = opts.retryAfterSeconds;
    this.body = opts.body;
  }

  get gone(): boolean {
    return this.status === 410;
  }

  static fromResponse(method: string, path: string, status: number, body: unknown, retryAfter: string | null): KubeApiError {
    const s = body && typeof body === 'object' ? (body as { message?: string; reason?: string }) : {};
    const msg = s.message ?? (typeof body === 'string' ? body.slice(0, 200) : `HTTP ${status}`);
    const denied = status === 403 ? rbacDenial(msg) : undefined;
    // A refusal leads with the permission to grant; the API server's own words follow for searching.
    const text = denied ? `missing RBAC permission: ${describeDenial(denied)} — ${method} ${path}: ${msg}` : `${method} ${path}: ${msg}`;
    return new KubeApiError(text, status, s.reason ?? String(status), {
      retryAfterSeconds: retryAfter ? Number(retryAfter) : undefined,
      body,
      denied,
    });
  }

  static network(method: string, path: string, cause: unknown): KubeApiError {
    return new KubeApiError(`${method} ${path}: ${(cause as Error)?.message ?? cause}`, 0, 'NetworkError', { cause });
  }
}

/** A kind name outside the built-in table (kinds.ts): a caller's bug, since kinds are validated before use. */
export class UnknownKindError extends Error {
  readonly kind: string;

  constructor(kind: string) {
    super(`unsupported kind ${kind}`);
    this.name = 'UnknownKindError';
    this.kind = kind;
  }
}
