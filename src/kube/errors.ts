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

export class KubeApiError extends KubemendError {
  readonly status: number;
  /** The Kubernetes Status reason (NotFound, Conflict …), or the status as text. */
  readonly reason: string;
  readonly retryAfterSeconds?: number;
  readonly body?: unknown;

  constructor(message: string, status: number, reason: string, opts: { retryAfterSeconds?: number; body?: unknown; cause?: unknown } = {}) {
    super(kubeErrorInfo(status), message, { cause: opts.cause });
    this.name = 'KubeApiError';
    this.status = status;
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
    return new KubeApiError(`${method} ${path}: ${msg}`, status, s.reason ?? String(status), {
      retryAfterSeconds: retryAfter ? Number(retryAfter) : undefined,
      body,
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
