// Errors returned to API clients as metav1.Status objects, with the code and
// reason a real API server uses, so clients (kubectl, client-node) react the
// same way: 409 Conflict makes kubectl retry, 410 Gone makes informers relist.

export type StatusReason =
  | 'BadRequest' | 'Unauthorized' | 'Forbidden' | 'NotFound' | 'AlreadyExists' | 'Conflict'
  | 'Gone' | 'Expired' | 'Invalid' | 'MethodNotAllowed' | 'NotAcceptable' | 'UnsupportedMediaType'
  | 'TooManyRequests' | 'InternalError' | 'Timeout'
  // No reason: what the server sends for errors it does not classify (server-side apply's schema errors).
  | '';

export interface StatusCause { reason?: string; message: string; field?: string }

export interface StatusDetails { name?: string; group?: string; kind?: string; causes?: StatusCause[]; retryAfterSeconds?: number }

export class ApiError extends Error {
  readonly code: number;
  readonly reason: StatusReason;
  readonly details?: StatusDetails;

  constructor(code: number, reason: StatusReason, message: string, details?: StatusDetails) {
    super(message);
    this.code = code;
    this.reason = reason;
    this.details = details;
  }

  toStatus(): Record<string, unknown> {
    return {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: this.message,
      ...(this.reason ? { reason: this.reason } : {}),
      ...(this.details ? { details: this.details } : {}),
      code: this.code,
    };
  }

  static badRequest(message: string, _kind?: string): ApiError {
    return new ApiError(400, 'BadRequest', message);
  }

  /** `pods "web-1" not found` */
  static notFound(group: string, plural: string, name: string): ApiError {
    const res = group ? `${plural}.${group}` : plural;
    return new ApiError(404, 'NotFound', `${res} "${name}" not found`, { name, group, kind: plural });
  }

  static alreadyExists(group: string, plural: string, name: string): ApiError {
    const res = group ? `${plural}.${group}` : plural;
    return new ApiError(409, 'AlreadyExists', `${res} "${name}" already exists`, { name, group, kind: plural });
  }

  static conflict(group: string, plural: string, name: string, why: string): ApiError {
    const res = group ? `${plural}.${group}` : plural;
    return new ApiError(409, 'Conflict', `Operation cannot be fulfilled on ${res} "${name}": ${why}`, { name, group, kind: plural });
  }

  static gone(message: string): ApiError {
    return new ApiError(410, 'Expired', message);
  }

  /**
   * errors.NewInvalid: `Deployment.apps "d" is invalid: a` for one error,
   * `[a, b]` for several (duplicates dropped), the group left out for core kinds.
   */
  static invalid(kind: string, name: string, group: string, causes: StatusCause[]): ApiError {
    const texts = [...new Set(causes.map((c) => `${c.field ? c.field + ': ' : ''}${c.message}`))];
    const qualified = group ? `${kind}.${group}` : kind;
    const msg = `${qualified} ${JSON.stringify(name)} is invalid: ${texts.length === 1 ? texts[0] : `[${texts.join(', ')}]`}`;
    return new ApiError(422, 'Invalid', msg, { name, ...(group ? { group } : {}), kind, causes });
  }
}
