// PagerDuty Events API v2 (POST /v2/enqueue): one PagerDuty alert per
// kubemend incident, keyed by a stable dedup_key (kubemend/<incident id>;
// without an incident the run's or the detection's), so the trigger, its
// updates, the acknowledgement and the resolve all land on the same alert.
// kubemend's incident states map to event actions:
//   opened, updated, reopened (and escalations, approvals, notify) → trigger
//   acknowledged → acknowledge;  resolved → resolve
//   mitigated → resolve by default: kubemend's fix worked and the detections
//     cleared, so paging on is noise; and a relapse (reopened) triggers a new
//     PagerDuty alert under the same dedup_key, which pages again — where an
//     acknowledged alert would take the new trigger silently. `mitigated:
//     acknowledge` keeps the alert open (but then a relapse does not page).
// Answers as documented: 202 taken; 400 invalid event (refused, the
// `errors` are kept); 429 and 5xx retried (429 after at least 30 s, PagerDuty
// asks for minutes rather than seconds).
import { createHash } from 'node:crypto';
import { retryAfterMs } from '../common/index.ts';
import { classify, postJson } from './http.ts';
import type { Delivery, DeliveryResult, NotifyEvent, NotifyEventKind, Receiver } from './types.ts';

export type PdSeverity = 'critical' | 'error' | 'warning' | 'info';
export type PdAction = 'trigger' | 'acknowledge' | 'resolve';

export interface PagerDutyOptions {
  name: string;
  routingKey: string;
  url?: string;
  severity?: Partial<Record<NotifyEvent['severity'], PdSeverity>>;
  mitigated?: PdAction;
  /** payload.source when the event names no cluster. */
  source?: string;
  client?: string;
  clientUrl?: string;
  timeoutMs?: number;
}

const SUMMARY_MAX = 1024;
const DEDUP_MAX = 255;
const RATE_LIMIT_WAIT_MS = 30_000;

/** The event action of a kind; undefined: PagerDuty is not told (it has nothing to show for it). */
export function pagerDutyAction(kind: NotifyEventKind, e: Pick<NotifyEvent, 'incident'>, mitigated: PdAction = 'resolve'): PdAction | undefined {
  switch (kind) {
    case 'incident.acknowledged': return 'acknowledge';
    case 'incident.resolved': return 'resolve';
    case 'incident.mitigated': return mitigated;
    case 'incident.postmortem': case 'approval.decided': return undefined;
    // A run's own alert ends with it; one inside an incident follows the incident's state.
    case 'run.ended': return e.incident ? undefined : 'resolve';
    default: return 'trigger';
  }
}

export function dedupKey(e: NotifyEvent, fallback: string): string {
  const key = e.incident ? `kubemend/${e.incident.id}` : e.runId ? `kubemend/run/${e.runId}` : e.detectionId ? `kubemend/detection/${e.detectionId}` : `kubemend/${fallback}`;
  return key.length <= DEDUP_MAX ? key : `kubemend/${createHash('sha256').update(key).digest('hex')}`;
}

function truncate(s: string, max: number): string {
  const chars = [...s];
  return chars.length <= max ? s : `${chars.slice(0, max - 1).join('')}…`;
}

export class PagerDutyReceiver implements Receiver {
  readonly name: string;
  readonly type = 'pagerduty' as const;
  private readonly o: PagerDutyOptions;

  constructor(o: PagerDutyOptions) {
    this.name = o.name;
    this.o = o;
  }

  /** The request body for a delivery, or undefined when PagerDuty is not told of this kind. */
  body(d: Delivery): Record<string, unknown> | undefined {
    const e = d.event;
    const action = pagerDutyAction(e.kind, e, this.o.mitigated);
    if (!action) return undefined;
    const base = { routing_key: this.o.routingKey, event_action: action, dedup_key: dedupKey(e, d.key) };
    if (action !== 'trigger') return base;
    const l = e.labels;
    const title = e.incident && e.kind.startsWith('incident.') ? `${e.incident.title} (${e.incident.status})` : e.title;
    return {
      ...base,
      payload: {
        summary: truncate(title || e.kind, SUMMARY_MAX),
        source: l.cluster ?? e.incident?.cluster ?? this.o.source ?? 'kubemend',
        severity: this.o.severity?.[e.severity] ?? e.severity,
        timestamp: new Date(e.time).toISOString(),
        ...(l.namespace || l.workload ? { component: [l.namespace, l.workload ?? l.name].filter(Boolean).join('/') } : {}),
        ...(l.team || l.namespace ? { group: l.team ?? l.namespace } : {}),
        class: l.rule ?? e.kind,
        custom_details: {
          event: e.kind,
          text: e.text,
          labels: l,
          ...(e.incident ? { incident: e.incident } : {}),
          ...(e.runId ? { run: e.runId } : {}),
          ...(e.detectionId ? { detection: e.detectionId } : {}),
          ...(e.auditId ? { audit_record: e.auditId } : {}),
          ...(e.details ?? {}),
        },
      },
      ...(e.links?.length ? { links: e.links.filter((k) => k.href).map((k) => ({ href: k.href, text: k.text })) } : {}),
      client: this.o.client ?? 'kubemend',
      ...(this.o.clientUrl ? { client_url: this.o.clientUrl } : {}),
    };
  }

  async deliver(d: Delivery): Promise<DeliveryResult> {
    const body = this.body(d);
    if (!body) return { ok: true, ref: 'not sent: PagerDuty has no action for this event' };
    const answer = await postJson(this.o.url ?? 'https://events.pagerduty.com/v2/enqueue', JSON.stringify(body), {}, this.o.timeoutMs ?? 15_000);
    const result = classify(`PagerDuty (${body.event_action})`, answer, (a) => {
      try {
        const j = JSON.parse(a.text) as { message?: string; errors?: string[] };
        return [j.message, ...(j.errors ?? [])].filter(Boolean).join('; ') || a.text;
      } catch {
        return a.text;
      }
    });
    if (result.ok) return { ok: true, ref: String(body.dedup_key) };
    if (!('networkError' in answer) && answer.status === 429) return { ...result, retryAfterMs: Math.max(retryAfterMs(answer.headers.get('retry-after')) ?? 0, RATE_LIMIT_WAIT_MS) };
    return result;
  }
}
