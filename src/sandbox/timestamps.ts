// Timestamps in written objects, decoded and re-encoded the way the API
// server's metav1.Time and metav1.MicroTime do: any RFC 3339 offset becomes
// UTC with `Z`, Time keeps whole seconds, MicroTime exactly six fractional
// digits (and must be sent with six), and an unparseable one is a 400.
import { ApiError } from './status.ts';
import { GoTimeError, RFC3339, RFC3339_MICRO, formatMicroTime, formatTime, parseGoTime } from './gotime.ts';
import type { K8sObject } from './types.ts';
import { isBuiltInGroup } from './groups.ts';

/** Fields of the built-in types that are metav1.Time, wherever they appear. */
const TIME_FIELDS = new Set([
  'creationTimestamp', 'deletionTimestamp',
  'lastTransitionTime', 'lastProbeTime', 'lastUpdateTime', 'lastHeartbeatTime',
  'startTime', 'completionTime', 'startedAt', 'finishedAt',
  'firstTimestamp', 'lastTimestamp', 'deprecatedFirstTimestamp', 'deprecatedLastTimestamp',
  'lastScaleTime', 'lastScheduleTime', 'lastSuccessfulTime', 'expirationTimestamp', 'lastPhaseTransitionTime',
]);

/** Fields that are metav1.MicroTime. */
const MICRO_FIELDS = new Set(['eventTime', 'lastObservedTime', 'acquireTime', 'renewTime', 'pingTime']);

/** Free-form maps whose keys are the user's, not field names. */
const OPAQUE = new Set(['labels', 'annotations', 'data', 'binaryData', 'stringData', 'fieldsV1', 'nodeSelector', 'matchLabels', 'selector', 'capacity', 'allocatable', 'limits', 'requests', 'hard', 'used']);


interface Target { kind: string; version: string; group: string }

type Fix = (value: string) => string | null;

function walk(node: unknown, fix: { time: Fix; micro: Fix }): void {
  if (Array.isArray(node)) {
    for (const x of node) walk(x, fix);
    return;
  }
  if (!node || typeof node !== 'object') return;
  const o = node as Record<string, unknown>;
  for (const [k, v] of Object.entries(o)) {
    if (typeof v === 'string') {
      if (TIME_FIELDS.has(k)) o[k] = fix.time(v);
      else if (MICRO_FIELDS.has(k)) o[k] = fix.micro(v);
    } else if (k === 'managedFields' && Array.isArray(v)) {
      for (const m of v) if (m && typeof m === 'object' && typeof m.time === 'string') m.time = fix.time(m.time);
    } else if (k === 'disruptedPods' && v && typeof v === 'object') {
      // PodDisruptionBudget status: pod name -> eviction time.
      const m = v as Record<string, unknown>;
      for (const [p, t] of Object.entries(m)) if (typeof t === 'string') m[p] = fix.time(t);
    } else if (!OPAQUE.has(k)) {
      walk(v, fix);
    }
  }
}

/**
 * Rewrites the object's timestamps in place as the API server would store
 * them; throws a 400 like the request decoder when one does not parse.
 */
export function normalizeTimestamps(obj: K8sObject, target: Target): void {
  const convert = (layout: typeof RFC3339 | typeof RFC3339_MICRO, format: (t: { seconds: number; nanos: number }) => string): Fix => (value) => {
    try {
      const t = parseGoTime(value, layout);
      // Go's zero time encodes as null.
      if (t.seconds === ZERO_SECONDS && t.nanos === 0) return null;
      return format(t);
    } catch (err) {
      if (!(err instanceof GoTimeError)) throw err;
      throw ApiError.badRequest(`${target.kind} in version "${target.version}" cannot be handled as a ${target.kind}: ${err.message}`);
    }
  };
  // Custom resources are unstructured: only their metadata has known timestamp fields.
  walk(isBuiltInGroup(target.group) ? obj : obj.metadata, { time: convert(RFC3339, formatTime), micro: convert(RFC3339_MICRO, formatMicroTime) });
}

const ZERO_SECONDS = -62135596800;
