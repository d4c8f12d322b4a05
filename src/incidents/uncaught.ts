// "What no alert caught": the Warning events and state changes on the
// incident's objects that no detection stood for when they happened, either
// never (add a rule) or only later (detect sooner). A signal counts as
// caught when a warning/critical detection about the same object, its
// workload or (for node-caused pod events) its node already existed, or
// fired within a minute of it. Each comes with a rule to start from.
import { stringify } from 'yaml';
import type { DetectionRef, IncidentData, Observation } from './types.ts';

/** Pod events that are the node's failure showing through (a node detection covers them). */
const NODE_CAUSED = new Set(['NodeNotReady', 'TaintManagerEviction', 'NodeShutdown', 'NodeOutOfMemory']);
const GRACE_MS = 60_000;

export interface UncaughtSignal {
  status: 'not-caught' | 'late';
  source: Observation['source'];
  reason: string;
  kind: string;
  objects: string[];
  count: number;
  first: number;
  last: number;
  message: string;
  /** For late ones: the detection that eventually covered it. */
  detectedBy?: { id: string; rule: string; at: number; delayMs: number };
  suggestion: { text: string; yaml: string };
}

export function findUncaught(data: IncidentData, incidentId: string): UncaughtSignal[] {
  const detections = data.detections.filter((d) => d.severity !== 'info');
  const groups = new Map<string, UncaughtSignal>();
  for (const o of data.observations) {
    const about = detections.filter((d) => covers(d, o));
    if (about.some((d) => d.reasons.includes(o.reason) || d.firstSeen <= o.time + GRACE_MS)) continue;
    const later = about.sort((a, b) => a.firstSeen - b.firstSeen)[0];
    const status = later ? 'late' : 'not-caught';
    const key = `${status}|${o.source}|${o.reason}|${o.object.kind}`;
    const name = `${o.object.namespace ? `${o.object.namespace}/` : ''}${o.object.name}`;
    const g = groups.get(key);
    if (g) {
      if (!g.objects.includes(name)) g.objects.push(name);
      g.count += o.count;
      g.first = Math.min(g.first, o.time);
      g.last = Math.max(g.last, o.lastTime);
      continue;
    }
    groups.set(key, {
      status,
      source: o.source,
      reason: o.reason,
      kind: o.object.kind,
      objects: [name],
      count: o.count,
      first: o.time,
      last: o.lastTime,
      message: o.message,
      ...(later ? { detectedBy: { id: later.id, rule: later.rule, at: later.firstSeen, delayMs: later.firstSeen - o.time } } : {}),
      suggestion: suggest(o, incidentId, later),
    });
  }
  return [...groups.values()].map((g) => ({ ...g, objects: g.objects.sort() })).sort((a, b) => a.first - b.first || a.reason.localeCompare(b.reason));
}

function covers(d: DetectionRef, o: Observation): boolean {
  const s = d.subject;
  if (s.kind === o.object.kind && (s.namespace ?? '') === (o.object.namespace ?? '') && s.name === o.object.name) return true;
  if (o.object.kind !== 'Pod') return false;
  if (o.workload === `${s.kind}/${s.namespace ?? ''}/${s.name}`) return true;
  // A container the kernel killed when its node ran out of memory shows as OOMKilled: the node's SystemOOM detection stands for it.
  return s.kind === 'Node' && s.name === o.node && (NODE_CAUSED.has(o.reason) || (o.reason === 'OOMKilled' && d.reasons.includes('SystemOOM')));
}

const CONDITION: Record<string, string> = {
  NotReady: "c.type == 'Ready' && c.status != 'True'",
  MemoryPressure: "c.type == 'MemoryPressure' && c.status == 'True'",
  DiskPressure: "c.type == 'DiskPressure' && c.status == 'True'",
  PIDPressure: "c.type == 'PIDPressure' && c.status == 'True'",
  NetworkUnavailable: "c.type == 'NetworkUnavailable' && c.status == 'True'",
};

/** A kubemend Rule to start from (`kubemend rules check` accepts it as written). */
function suggest(o: Observation, incidentId: string, later?: DetectionRef): UncaughtSignal['suggestion'] {
  const kind = o.object.kind || 'Pod';
  const name = `${kind}-${o.reason}`.replace(/([a-z0-9])([A-Z])/g, '$1-$2').replace(/[^A-Za-z0-9-]+/g, '-').toLowerCase();
  const who = kind === 'Node' ? "'node ' + object.metadata.name" : `'${kind.toLowerCase()} ' + object.metadata.namespace + '/' + object.metadata.name`;
  const meta = { name, description: `${o.reason} on a ${kind} (suggested by the post-mortem of ${incidentId})`, labels: { category: 'suggested' } };
  let spec: Record<string, unknown>;
  if (o.source === 'state' && kind === 'Node' && CONDITION[o.reason]) {
    spec = { source: 'object', match: { kinds: ['Node'] }, when: `object.status.conditions.exists(c, ${CONDITION[o.reason]})`, summary: `${who} + ': ${o.reason}'`, severity: 'warning' };
  } else if (o.source === 'state' && o.reason === 'OOMKilled') {
    spec = { source: 'object', match: { kinds: ['Pod'] }, when: "object.status.containerStatuses.exists(c, has(c.lastState.terminated) && c.lastState.terminated.reason == 'OOMKilled')", summary: `${who} + ' was OOMKilled'`, severity: 'warning' };
  } else {
    const subject = kind === 'Node' ? "'node ' + event.involvedObject.name" : `'${kind.toLowerCase()} ' + event.involvedObject.namespace + '/' + event.involvedObject.name`;
    spec = { source: 'event', match: { kinds: [kind], reasons: [o.reason] }, summary: `${subject} + ': ' + event.message`, severity: 'warning', group: { by: ['rule', 'cluster', 'namespace'], window: '5m' } };
  }
  const yaml = stringify({ apiVersion: 'kubemend.dev/v1alpha1', kind: 'Rule', metadata: meta, spec }, { lineWidth: 0 }).trimEnd();
  const text = later
    ? `Detect ${o.reason} on the ${kind.toLowerCase()} itself: ${later.rule} only fired later.`
    : `No rule turned ${o.reason} on a ${kind.toLowerCase()} into a detection; add one.`;
  return { text, yaml };
}
