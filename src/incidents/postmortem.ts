// The post-mortem draft as data: what `incidents postmortem --format json`
// prints and what the Markdown is rendered from. Times are the cluster's
// (virtual in a replay), so a replay drafts the same document every time,
// up to the names the cluster generates (pod suffixes, record ids).
import type { RunRecord, StepTransition } from '../store/index.ts';
import { formatDuration } from '../common/index.ts';
import { buildTimeline, objectText, type IncidentContext, type TimelineEntry } from './timeline.ts';
import { findUncaught, type UncaughtSignal } from './uncaught.ts';
import { findLessons, rootCause, runEffects, userImpact, type Lesson, type RootCause, type RunEffect } from './lessons.ts';
import type { ChangeEntry, GuardrailFinding, GuardrailSkip } from './types.ts';

export interface RunSummary {
  id: string;
  runbook: string;
  target: string;
  startedBy: string;
  status: RunRecord['status'];
  dryRun: boolean;
  startedAt: number;
  endedAt: number;
  /** Whether any step changed the cluster, and when the last such step ended. */
  mutated: boolean;
  mutatedAt?: number;
  steps: { stepId: string; attempt: number; status: StepTransition['status']; time: number; detail: string }[];
}

export interface PostmortemModel {
  incident: { id: string; title: string; cluster: string; status: string; severity: string; openedAt: number; resolvedAt?: number; resolvedBecause?: string };
  times: {
    impactStart: number;
    /** What made the impact visible first. */
    firstSign: string;
    detectedAt: number;
    timeToDetectMs: number;
    mitigatedAt?: number;
    timeToMitigateMs?: number;
    /** One sentence on mitigation: what fixed it, or why nothing did. */
    mitigation: string;
    end: number;
    durationMs: number;
  };
  impact: { workloads: string[]; nodes: string[]; namespaces: string[]; evictedPods: string[]; userFacing: string[] };
  rootCause: RootCause;
  summary: string;
  timeline: TimelineEntry[];
  triggers: ChangeEntry[];
  remediation: RunSummary[];
  /** What each of kubemend's changes did (its own drains and evictions included). */
  effects: RunEffect[];
  /** Findings beyond the guardrails: a warning nobody got, a shared node, no smoke test. */
  lessons: Lesson[];
  /** Changes kubemend itself made during the incident. */
  kubemendChanges: ChangeEntry[];
  /** Finding: changes by a writer not in changes.expectedManagers (a person's kubectl, a tool outside GitOps/CI). */
  outsidePipeline: ChangeEntry[];
  guardrails: GuardrailFinding[];
  guardrailsSkipped: GuardrailSkip[];
  uncaught: UncaughtSignal[];
  actionItems: string[];
  appendix: {
    detections: { id: string; rule: string; subject: string; firstSeen: number; joinedVia: string }[];
    runs: { id: string; runbook: string }[];
    chats: string[];
    audit: { seq: number; id: string; time: number; action: string; actor: string; hash: string }[];
  };
}

export function draftPostmortem(ctx: IncidentContext): PostmortemModel {
  const { incident, data } = ctx;
  const opening = data.detections.filter((d) => d.severity !== 'info' && d.status !== 'silenced');
  const detectedAt = Math.min(incident.openedAt, ...opening.map((d) => d.firstSeen));
  const firstObs = data.observations.filter((o) => o.time <= detectedAt).sort((a, b) => a.time - b.time)[0];
  const impactStart = Math.min(detectedAt, firstObs?.time ?? Infinity);
  const firstSign = firstObs && firstObs.time < detectedAt
    ? `${firstObs.source === 'event' ? 'Warning ' : ''}${firstObs.reason} on ${objectText(firstObs.object)}`
    : `detection ${opening[0]?.rule ?? data.detections[0]?.rule} on ${objectText((opening[0] ?? data.detections[0]).subject)}`;
  const runs = ctx.runs.map((r) => summariseRun(r, ctx.transitions.get(r.id) ?? []));
  const mit = mitigation(runs, opening.map((d) => d.firstSeen), impactStart);
  const end = ctx.until;
  const failingNodes = new Set(data.detections.filter((d) => d.subject.kind === 'Node').map((d) => d.subject.name));
  const impact = {
    workloads: data.entities.filter((e) => e.startsWith('workload:')).map((e) => e.slice(9)),
    nodes: [...new Set([...failingNodes, ...data.observations.filter((o) => o.object.kind === 'Node').map((o) => o.object.name), ...data.placements.filter((p) => p.evicted && p.node).map((p) => p.node!)])].sort(),
    namespaces: data.entities.filter((e) => e.startsWith('ns:')).map((e) => e.slice(3)),
    evictedPods: [...new Set(data.placements.filter((p) => p.evicted || (p.deletedAt !== undefined && p.node && failingNodes.has(p.node))).map((p) => `${p.namespace}/${p.pod}`))].sort(),
    userFacing: [] as string[],
  };
  const cause = rootCause(ctx, impactStart);
  impact.userFacing = userImpact(ctx, impactStart, cause.workload);
  const kubemendChanges = ctx.changes.filter((c) => c.by?.startsWith('kubemend'));
  const uncaught = findUncaught(data, incident.id);
  const model: PostmortemModel = {
    incident: {
      id: incident.id, title: incident.title, cluster: incident.cluster, status: incident.status, severity: incident.severity, openedAt: incident.openedAt,
      ...(incident.resolvedAt !== undefined ? { resolvedAt: incident.resolvedAt } : {}),
      ...(typeof data.resolvedBecause === 'string' ? { resolvedBecause: data.resolvedBecause } : {}),
    },
    times: { impactStart, firstSign, detectedAt, timeToDetectMs: detectedAt - impactStart, ...mit, end, durationMs: end - impactStart },
    impact,
    summary: '',
    timeline: buildTimeline(ctx),
    triggers: triggers(ctx, detectedAt, impactStart),
    rootCause: cause,
    remediation: runs,
    effects: runEffects(ctx, impactStart),
    lessons: findLessons(ctx, impactStart, cause),
    kubemendChanges,
    outsidePipeline: ctx.changes.filter((c) => c.outsidePipeline),
    guardrails: data.guardrails,
    guardrailsSkipped: data.guardrailsSkipped,
    uncaught,
    actionItems: [],
    appendix: {
      detections: data.detections.map((d) => ({ id: d.id, rule: d.rule, subject: objectText(d.subject), firstSeen: d.firstSeen, joinedVia: d.joinedVia })),
      runs: ctx.runs.map((r) => ({ id: r.id, runbook: r.runbook })),
      chats: ctx.chats.map((c) => c.id),
      audit: ctx.audit.map((a) => ({ seq: a.seq, id: a.id, time: a.time, action: a.action, actor: `${a.actor.type}:${a.actor.name}`, hash: a.hash })),
    },
  };
  model.summary = summarise(model, opening.length);
  model.actionItems = actionItems(model);
  return model;
}

function summariseRun(r: RunRecord, ts: StepTransition[]): RunSummary {
  const steps = ts.filter((t) => t.status !== 'started' && t.status !== 'pending').map((t) => {
    const o = t.output as { calls?: string[] } | undefined;
    const calls = (o?.calls ?? []).filter((c) => !c.startsWith('GET'));
    return { stepId: t.stepId, attempt: t.attempt, status: t.status, time: t.time, detail: t.error ?? calls.join('; ').slice(0, 160) };
  });
  const changed = r.dryRun ? [] : ts.filter((t) => (t.output as { mutated?: boolean } | undefined)?.mutated === true);
  const target = objectText({ kind: r.target.kind ?? '', namespace: r.target.namespace, name: r.target.name ?? '' });
  return {
    id: r.id, runbook: r.runbook, target, startedBy: `${r.startedBy.type}:${r.startedBy.name}`, status: r.status, dryRun: r.dryRun, startedAt: r.createdAt, endedAt: r.updatedAt,
    mutated: changed.length > 0, ...(changed.length ? { mutatedAt: Math.max(...changed.map((t) => t.time)) } : {}), steps,
  };
}

/**
 * Mitigated: when the last run that changed the cluster and succeeded made
 * its change, provided no warning or critical detection opened after it
 * (the run's end, after its checks, is when that was verified). Otherwise why not.
 */
function mitigation(runs: RunSummary[], openings: number[], impactStart: number): Pick<PostmortemModel['times'], 'mitigatedAt' | 'timeToMitigateMs' | 'mitigation'> {
  const fixing = runs.filter((r) => r.mutated && r.status === 'succeeded');
  if (!fixing.length) {
    const dry = runs.some((r) => r.dryRun);
    return { mitigation: runs.length ? `no kubemend run changed the cluster${dry ? ' (dry run)' : ''}` : 'no runbook ran' };
  }
  const last = fixing[fixing.length - 1];
  if (Math.max(...openings) > last.mutatedAt!) {
    return { mitigation: `new detections kept opening after kubemend's last change (${last.runbook} on ${last.target}, run ${last.id.slice(0, 8)})` };
  }
  return {
    mitigatedAt: last.mutatedAt!,
    timeToMitigateMs: last.mutatedAt! - impactStart,
    mitigation: `${last.runbook} on ${last.target} (run ${last.id.slice(0, 8)}); no new detection opened after it, and the run verified it by ${new Date(last.endedAt).toISOString().slice(11, 19)}`,
  };
}

/** The latest change before the impact to each object the incident started from (the workloads of its earliest detections). */
function triggers(ctx: IncidentContext, detectedAt: number, impactStart: number): ChangeEntry[] {
  const origins = new Set<string>();
  for (const d of ctx.data.detections.filter((x) => x.firstSeen <= detectedAt)) {
    const s = d.subject;
    if (s.kind === 'Pod') {
      const p = ctx.data.placements.find((x) => x.namespace === s.namespace && x.pod === s.name);
      if (p) origins.add(p.workload);
    } else origins.add(`${s.kind}/${s.namespace ?? ''}/${s.name}`);
  }
  const namespaces = new Set([...origins].map((o) => o.split('/')[1]).filter(Boolean));
  // A node joining is capacity arriving, not a cause.
  const before = ctx.changes.filter((c) => c.time <= impactStart && !c.by?.startsWith('kubemend') && !(c.object.kind === 'Node' && c.operation === 'create'));
  const latest = new Map<string, ChangeEntry>();
  for (const c of before) {
    const key = `${c.object.kind}/${c.object.namespace ?? ''}/${c.object.name}`;
    const related = origins.has(key) || (c.object.namespace && namespaces.has(c.object.namespace) && ['ConfigMap', 'HorizontalPodAutoscaler', 'LimitRange', 'ResourceQuota'].includes(c.object.kind));
    if (related) latest.set(key, c);
  }
  return [...latest.values()].sort((a, b) => a.time - b.time);
}

function summarise(m: PostmortemModel, openings: number): string {
  const n = (xs: string[], what: string) => `${xs.length} ${what}${xs.length === 1 ? '' : 's'}`;
  const across = [m.impact.nodes.length && n(m.impact.nodes, 'node'), m.impact.workloads.length && n(m.impact.workloads, 'workload')].filter(Boolean).join(' and ');
  const parts = [
    `A ${m.incident.severity} incident on cluster ${m.incident.cluster}: ${m.appendix.detections.length} detections (${openings} warning or critical)${across ? ` across ${across}` : ''}${m.impact.evictedPods.length ? `; ${n(m.impact.evictedPods, 'pod')} evicted or drained` : ''}.`,
    `The first sign was ${m.times.firstSign}; kubemend detected it ${m.times.timeToDetectMs ? `${formatDuration(m.times.timeToDetectMs)} later` : 'at once'}.`,
    m.triggers.length ? `It followed ${m.triggers.map((t) => `${objectText(t.object)} ${t.summary}${t.outsidePipeline ? ` (made outside the pipeline, by ${t.author!.manager}${t.author!.user ? `, user ${t.author!.user}` : ''})` : ''}`).join('; ')}.` : 'No recorded change preceded it.',
    m.times.mitigatedAt !== undefined ? `Mitigated by ${m.times.mitigation}.` : `Not mitigated: ${m.times.mitigation}.`,
  ];
  return parts.join(' ');
}

function actionItems(m: PostmortemModel): string[] {
  const items: string[] = [];
  // The lesson itself first: the cause, then what would have warned, isolated and caught it.
  const fixed = m.guardrails.find((g) => g.id === 'no-memory-limit')?.fixedDuring?.includes(m.rootCause.workload ?? '');
  if (m.rootCause.workload) items.push(`Fix the memory growth of ${m.rootCause.workload} and give it a deliberate memory request and limit${fixed ? ' (kubemend set one to contain it; replace it with a sized one)' : ''}`);
  for (const l of m.lessons) items.push(`${l.action}`);
  for (const g of m.guardrails) items.push(`${g.title}: ${g.fix.text} (${g.subjects.join(', ')})`);
  for (const u of m.uncaught) items.push(u.status === 'late' ? `Detect ${u.reason} on ${u.kind.toLowerCase()}s sooner: ${u.detectedBy!.rule} fired ${formatDuration(u.detectedBy!.delayMs)} after the first one` : `Add a rule for ${u.reason} on ${u.kind.toLowerCase()}s (suggested below)`);
  const failures = new Map<string, string[]>();
  for (const r of m.remediation.filter((x) => x.status === 'escalated' || x.status === 'failed')) {
    const bad = r.steps.find((s) => s.status === 'failed' || s.status === 'timed-out');
    const what = `Review runbook ${r.runbook} on ${r.target}: ${r.status}${bad ? ` at step ${bad.stepId} (${bad.detail})` : ''}`;
    failures.set(what, [...(failures.get(what) ?? []), r.id.slice(0, 8)]);
  }
  for (const [what, ids] of failures) items.push(`${what} — run${ids.length > 1 ? 's' : ''} ${ids.join(', ')}`);
  if (m.outsidePipeline.length) {
    const who = [...new Set(m.outsidePipeline.map((c) => (c.author?.user ? `${c.author.manager} (${c.author.user})` : c.author?.manager ?? 'unknown')))].join(', ');
    items.push(`Make changes through the pipeline: ${m.outsidePipeline.length} change${m.outsidePipeline.length > 1 ? 's were' : ' was'} made outside it (${who}); add the tools that belong to changes.expectedManagers, and route the rest through GitOps/CI`);
  }
  const cordoned = [...new Set(m.kubemendChanges.filter((c) => c.object.kind === 'Node' && c.summary.includes('cordoned') && !c.summary.includes('uncordoned')).map((c) => c.object.name))].sort();
  if (cordoned.length > 1) items.push(`Cap node remediation: kubemend cordoned ${cordoned.length} nodes (${cordoned.join(', ')}) in one incident; a cluster-wide budget should stop it before capacity runs out`);
  if (m.guardrailsSkipped.length) items.push(`Watch the kinds the guardrail checks need (${m.guardrailsSkipped.map((s) => s.id).join(', ')} were not checked)`);
  return items;
}
