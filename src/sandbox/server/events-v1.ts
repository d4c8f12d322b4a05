// events.k8s.io/v1 Events are the stored core/v1 Events shown another way,
// converted field by field as the API server's conversion functions do.
import { k8sMicroTime } from '../../common/index.ts';
import type { K8sObject } from '../types.ts';

export const EVENTS_V1 = 'events.k8s.io/v1';

/** True when a request addresses the events.k8s.io flavour of the `events` storage. */
export function isEventsV1(group: string, storage: string): boolean {
  return storage === 'events' && group === 'events.k8s.io';
}

const microTime = (t: string | null | undefined): string | undefined => {
  if (!t) return undefined;
  const ms = Date.parse(t);
  return Number.isNaN(ms) ? t : k8sMicroTime(ms);
};

export function coreToEventsV1(e: K8sObject): K8sObject {
  const out: K8sObject = {
    apiVersion: EVENTS_V1,
    kind: 'Event',
    metadata: e.metadata,
    eventTime: e.eventTime ?? null,
    reason: e.reason,
    regarding: e.involvedObject ?? {},
    note: e.message,
    type: e.type,
  };
  if (e.series) out.series = e.series;
  else if ((e.count ?? 1) > 1) {
    // Legacy aggregation expressed the way the new recorder reports repeats.
    out.series = { count: e.count, lastObservedTime: microTime(e.lastTimestamp) };
  }
  if (e.reportingComponent || e.source?.component) out.reportingController = e.reportingComponent || e.source.component;
  if (e.reportingInstance || e.source?.host) out.reportingInstance = e.reportingInstance || e.source.host;
  if (e.action) out.action = e.action;
  if (e.related) out.related = e.related;
  // A struct and two metav1.Times in events/v1's Go type: always written, {} and null when unset.
  out.deprecatedSource = e.source ?? {};
  out.deprecatedFirstTimestamp = e.firstTimestamp ?? null;
  out.deprecatedLastTimestamp = e.lastTimestamp ?? null;
  if (e.count !== undefined) out.deprecatedCount = e.count;
  return out;
}

export function eventsV1ToCore(e: K8sObject): K8sObject {
  const out: K8sObject = {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: e.metadata ?? {},
    involvedObject: e.regarding ?? {},
    reason: e.reason,
    message: e.note,
    type: e.type,
    eventTime: e.eventTime ?? null,
  };
  const source = e.deprecatedSource ?? (e.reportingController ? { component: e.reportingController, ...(e.reportingInstance ? { host: e.reportingInstance } : {}) } : undefined);
  if (source) out.source = source;
  if (e.reportingController) out.reportingComponent = e.reportingController;
  if (e.reportingInstance) out.reportingInstance = e.reportingInstance;
  if (e.action) out.action = e.action;
  if (e.related) out.related = e.related;
  if (e.series) out.series = e.series;
  out.firstTimestamp = e.deprecatedFirstTimestamp ?? null;
  out.lastTimestamp = e.deprecatedLastTimestamp ?? null;
  const count = e.deprecatedCount ?? e.series?.count;
  if (count !== undefined) out.count = count;
  return out;
}
