// Errors from the Kubernetes API, classified by type so callers decide about
// retries without reading messages: 409 and 429 and 5xx and network failures
// are worth retrying; 410 means "relist"; 4xx otherwise are final.

export class KubeApiError extends Error {
  readonly status: number;
  readonly reason: string;
  readonly retryable: boolean;
  readonly retryAfterSeconds?: number;
  readonly body?: unknown;

  constructor(message: string, status: number, reason: string, opts: { retryable?: boolean; retryAfterSeconds?: number; body?: unknown; cause?: unknown } = {}) {
    super(message, { cause: opts.cause });
    this.name = 'KubeApiError';
    this.status = status;
    this.reason = reason;
    this.retryable = opts.retryable ?? (status === 409 || status === 429 || status >= 500 || status === 0);
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
    return new KubeApiError(`${method} ${path}: ${(cause as Error)?.message ?? cause}`, 0, 'NetworkError', { retryable: true, cause });
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
