// Injected API failures, so runbooks can be tested against an API server
// that says no: "the next 2 patches of apps/deployments answer 500". A test
// or a scenario step adds a fault; matching requests get the error instead
// of being served (nothing is written).
import { ApiError, type StatusReason } from './status.ts';

export interface Fault {
  verb?: string;
  /** As counted by the API server: `pods`, `apps/deployments`, `pods/eviction` … */
  resource?: string;
  namespace?: string;
  name?: string;
  code: number;
  reason?: StatusReason;
  message?: string;
  /** How many requests fail (default: every one until cleared). */
  times?: number;
}

const REASONS: Record<number, StatusReason> = { 400: 'BadRequest', 403: 'Forbidden', 404: 'NotFound', 409: 'Conflict', 422: 'Invalid', 429: 'TooManyRequests', 500: 'InternalError', 504: 'Timeout' };

export class FaultBook {
  private faults: (Fault & { left: number })[] = [];
  /** Told when a fault is added, used up or cleared (the state snapshot listens). */
  onChange?: () => void;

  add(f: Fault): void {
    this.faults.push({ ...f, left: f.times ?? Infinity });
    this.onChange?.();
  }

  clear(): void {
    this.faults = [];
    this.onChange?.();
  }

  /** Faults with their remaining uses, for a state snapshot. */
  save(): (Fault & { left: number })[] {
    return this.faults;
  }

  restore(saved: (Fault & { left: number })[]): void {
    this.faults = saved.map((f) => ({ ...f }));
  }

  /** The error for a request, consuming one use of the first matching fault. */
  take(verb: string, resource: string | undefined, namespace: string | undefined, name: string | undefined): ApiError | undefined {
    const f = this.faults.find((x) => x.left > 0 && (!x.verb || x.verb === verb) && (!x.resource || x.resource === resource) && (!x.namespace || x.namespace === namespace) && (!x.name || x.name === name));
    if (!f) return undefined;
    f.left--;
    this.onChange?.();
    const reason = f.reason ?? REASONS[f.code] ?? 'InternalError';
    return new ApiError(f.code, reason, f.message ?? `injected fault: ${verb} ${resource ?? ''}${name ? ` ${name}` : ''} answers ${f.code}`);
  }
}
