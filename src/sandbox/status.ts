// Errors returned to API clients as metav1.Status objects, with the code and
// reason a real API server uses, so clients (kubectl, client-node) react the
// same way: 409 Conflict makes kubectl retry, 410 Gone makes informers relist.

export type StatusReason =
  | 'BadRequest' | 'Unauthorized' | 'Forbidden' | 'NotFound' | 'AlreadyExists' | 'Conflict'
  | 'Gone' | 'Expired' | 'Invalid' | 'MethodNotAllowed' | 'NotAcceptable' | 'UnsupportedMediaType'
  | 'TooManyRequests' | 'InternalError' | 'Timeout'
  // StatusReasonUnknown: errors the API server never turned into a Status (sent with no reason).
  | '';

export interface StatusCause { reason?: string; message: string; field?: string }

export interface StatusDetails { name?: string; group?: string; kind?: string; uid?: string; causes?: StatusCause[]; retryAfterSeconds?: number }

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
      ...(this.details ? { details: cleanDetails(this.details) } : {}),
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

  /** errors.NewInvalid: `Deployment.apps "web" is invalid: [a, b]` (one cause unbracketed, repeats dropped). */
  static invalid(kind: string, name: string, group: string, causes: StatusCause[]): ApiError {
    const all = [...new Set(causes.map((c) => `${c.field ?? ''}: ${c.message}`))];
    const list = all.length === 1 ? all[0] : `[${all.join(', ')}]`;
    const msg = `${group ? `${kind}.${group}` : kind} ${JSON.stringify(name)} is invalid${all.length ? `: ${list}` : ''}`;
    return new ApiError(422, 'Invalid', msg, { name, ...(group ? { group } : {}), kind, causes });
  }
}

/** StatusDetails as Go encodes it: every field is omitempty, so "" and empty lists are absent. */
function cleanDetails(d: StatusDetails): StatusDetails {
  const out: StatusDetails = {};
  if (d.name) out.name = d.name;
  if (d.group) out.group = d.group;
  if (d.kind) out.kind = d.kind;
  if (d.uid) out.uid = d.uid;
  if (d.causes?.length) {
    out.causes = d.causes.map((c) => ({ ...(c.reason ? { reason: c.reason } : {}), ...(c.message ? { message: c.message } : {}), ...(c.field ? { field: c.field } : {}) }) as StatusCause);
  }
  if (d.retryAfterSeconds) out.retryAfterSeconds = d.retryAfterSeconds;
  return out;
}
