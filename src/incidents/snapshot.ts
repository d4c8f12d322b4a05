// The incident's record as it is stored: its detections, and the slices of
// the change feed, the observations and the pod placements that concern it,
// plus the guardrail findings at that moment. Bounded, so a long incident
// in a busy cluster keeps the most recent of each.
import type { Detection } from '../rules/index.ts';
import type { ChangeFeed } from './change-feed.ts';
import { scopeOf, touchOf, unionTouch, WORKLOAD_KINDS, type Scope, type Touch } from './correlate.ts';
import { checkGuardrails } from './guardrails.ts';
import type { ObservationLog } from './observations.ts';
import type { PodPlacements } from './placements.ts';
import type { CacheLookup, ChangeEntry, DetectionRef, GuardrailFinding, IncidentData, Observation } from './types.ts';

export const LIMITS = { changes: 200, observations: 300, placements: 500 };

export interface SnapshotInput {
  cluster: string;
  members: Detection[];
  refs: Map<string, DetectionRef>;
  since: number;
  now: number;
  lastActivityAt: number;
  feed: ChangeFeed;
  observations: ObservationLog;
  lookup: CacheLookup;
  /** The findings of the incident's previous snapshot, which stay when fixed since. */
  previousGuardrails?: GuardrailFinding[];
}

export function detectionRef(d: Detection, joinedVia: string, joinedAt: number): DetectionRef {
  const reasons = [...new Set(d.evidence.flatMap((e) => (e.event?.reason ? [e.event.reason] : [])))];
  return {
    id: d.id,
    rule: d.rule,
    subject: { kind: d.subject.kind, ...(d.subject.namespace ? { namespace: d.subject.namespace } : {}), name: d.subject.name },
    severity: d.severity,
    summary: d.summary,
    firstSeen: d.firstSeen,
    lastSeen: d.lastSeen,
    count: d.count,
    status: d.status,
    joinedVia,
    joinedAt,
    reasons,
  };
}

export function incidentTouch(cluster: string, members: Detection[], placements: PodPlacements, lookup: CacheLookup): Touch {
  return unionTouch(members.filter((d) => d.cluster === cluster).map((d) => touchOf(d.subject, placements, lookup)));
}

export function buildData(i: SnapshotInput): IncidentData {
  const table = i.observations.table(i.cluster);
  const touch = incidentTouch(i.cluster, i.members, table.view(i.since), i.lookup);
  const scope = scopeOf(touch);
  const failing = new Set(i.members.filter((d) => d.subject.kind === 'Node').map((d) => d.subject.name));
  // The index selects exactly what inScope accepts (the placements of its workloads, on its nodes, or the pods it names).
  const placements = table.select(scope).filter((p) => p.firstSeen <= i.now && (p.deletedAt === undefined || p.deletedAt >= i.since));
  const guard = checkGuardrails({ cluster: i.cluster, scope, failingNodes: failing, placements, since: i.since, until: i.now, lookup: i.lookup });
  for (const d of i.members) {
    const ref = i.refs.get(d.id);
    if (ref) Object.assign(ref, detectionRef(d, ref.joinedVia, ref.joinedAt));
  }
  return {
    version: 1,
    lastActivityAt: i.lastActivityAt,
    entities: [...touch.own].sort(),
    detections: i.members.map((d) => ({ ...i.refs.get(d.id)! })),
    changes: i.feed.entries({ since: i.since, until: i.now, cluster: i.cluster }).filter((c) => changeInScope(scope, c, i)).slice(-LIMITS.changes),
    observations: i.observations.observations({ since: i.since, until: i.now, cluster: i.cluster }).filter((o) => observationInScope(scope, o)).map((o) => ({ ...o })).slice(-LIMITS.observations),
    placements: placements.map((p) => ({ ...p })).slice(-LIMITS.placements),
    guardrails: stickyFindings(guard.findings, i.previousGuardrails ?? []),
    guardrailsSkipped: guard.skipped,
  };
}

/**
 * A finding holds for the incident even when someone (kubemend's
 * containment, a person) fixed it before the draft: the worker had no limit
 * when it took the node down. Findings gone from the cluster stay, marked.
 */
function stickyFindings(now: GuardrailFinding[], before: GuardrailFinding[]): GuardrailFinding[] {
  const out = now.map((f) => {
    const old = before.find((b) => b.id === f.id);
    const fixed = old?.subjects.filter((x) => !f.subjects.includes(x)) ?? [];
    return fixed.length ? { ...f, subjects: [...f.subjects, ...fixed], fixedDuring: [...new Set([...(old?.fixedDuring ?? []), ...fixed])] } : f;
  });
  for (const b of before) if (!now.some((f) => f.id === b.id)) out.push({ ...b, fixedDuring: [...b.subjects] });
  return out;
}

function changeInScope(s: Scope, c: ChangeEntry, i: SnapshotInput): boolean {
  const { kind, namespace: ns = '', name } = c.object;
  if (kind === 'Node') return s.nodes.has(name);
  if (WORKLOAD_KINDS.includes(kind)) return s.workloads.has(`${kind}/${ns}/${name}`);
  if (!s.namespaces.has(ns)) return false;
  if (kind !== 'HorizontalPodAutoscaler') return true;
  const t = i.lookup(i.cluster, kind, ns)?.find((o) => o.metadata.name === name)?.spec?.scaleTargetRef;
  return !t || s.workloads.has(`${t.kind}/${ns}/${t.name}`);
}

function observationInScope(s: Scope, o: Observation): boolean {
  const { kind, namespace: ns = '', name } = o.object;
  if (kind === 'Node') return s.nodes.has(name);
  if (kind === 'Pod') return (o.workload !== undefined && s.workloads.has(o.workload)) || (o.node !== undefined && s.nodes.has(o.node)) || s.objects.has(`Pod/${ns}/${name}`);
  if (WORKLOAD_KINDS.includes(kind) && kind !== 'ReplicaSet') return s.workloads.has(`${kind}/${ns}/${name}`);
  // A ReplicaSet is named <deployment>-<pod-template-hash>.
  if (kind === 'ReplicaSet') return [...s.workloads].some((w) => w.startsWith(`Deployment/${ns}/`) && name.startsWith(`${w.split('/')[2]}-`));
  return s.namespaces.has(ns) || s.objects.has(`${kind}/${ns}/${name}`);
}
