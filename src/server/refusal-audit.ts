// Refused requests into the audit log: `serve` and `watch --listen` build one
// RefusalRecorder over the store's audit log and hand it to every door (the
// webhook receivers and the chat adapters) through createApp.
import { type Clock, RefusalRecorder, type RefusalRecord } from '../common/index.ts';
import type { AuditLog } from '../audit/index.ts';

export interface RefusalAuditOptions {
  clock: Clock;
  /** Records per minute per (action, reason, route); default 10. */
  perMinute?: number;
  /** Records per minute in all; default 120. */
  totalPerMinute?: number;
  log?: (line: string) => void;
}

/** Audit records for refusals: outcome denied, actor the anonymous caller's door, data without credentials. */
export function auditRefusals(audit: Pick<AuditLog, 'append'>, o: RefusalAuditOptions): RefusalRecorder {
  return new RefusalRecorder({
    clock: o.clock,
    perMinute: o.perMinute,
    totalPerMinute: o.totalPerMinute,
    sink: (r: RefusalRecord) => audit.append({
      actor: { type: 'system', name: r.action.startsWith('webhook') ? 'webhooks' : 'chat' },
      action: r.action,
      outcome: 'denied',
      data: {
        route: r.route, reason: r.reason, status: r.status,
        ...(r.detail ? { detail: r.detail } : {}),
        ...(r.remoteAddress ? { remoteAddress: r.remoteAddress } : {}),
        ...(r.userAgent ? { userAgent: r.userAgent } : {}),
        ...(r.suppressed ? { suppressed: r.suppressed } : {}),
      },
    }),
    onError: (err) => o.log?.(`warning: could not audit a refused request: ${(err as Error).message}`),
  });
}
