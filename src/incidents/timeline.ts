// An incident's timeline: its detections (first seen, repeats summarised),
// the Warning events and state changes involved, the changes that preceded
// it and happened during it (attributed to kubemend's runs where a run made
// them), runbook runs and their steps, chat requests, and the audit records
// nothing else shows. Everything comes from the store, so any process can
// draft it later.
import type { AuditRecord } from '../audit/index.ts';
import type { ChatRequestRecord, IncidentRecord, RunRecord, StepTransition, Store } from '../store/index.ts';
import { Errors, KubemendError, formatDuration } from '../common/index.ts';
import { changeAuthorText, KUBEMEND_MANAGER } from './authors.ts';
import type { ChangeEntry, DetectionRef, IncidentData, Observation } from './types.ts';

export interface IncidentContext {
  incident: IncidentRecord;
  data: IncidentData;
  runs: RunRecord[];
  transitions: Map<string, StepTransition[]>;
  chats: ChatRequestRecord[];
  audit: AuditRecord[];
  /** The incident's changes with `by` filled in where a kubemend run or chat request made them. */
  changes: ChangeEntry[];
  /** The end of what the incident covers: resolution, or the last thing recorded. */
  until: number;
}

export type TimelineSource = 'change' | 'state' | 'event' | 'detection' | 'incident' | 'run' | 'step' | 'notify' | 'chat' | 'audit';

export interface TimelineEntry {
  time: number;
  source: TimelineSource;
  text: string;
  /** The id of the record behind it (detection, run, audit record, chat request). */
  ref?: string;
}

const ORDER: TimelineSource[] = ['change', 'state', 'event', 'detection', 'incident', 'run', 'step', 'notify', 'chat', 'audit'];
/** Audit actions the timeline already shows through runs, steps and detections (a join is its detection's row). */
const SHOWN = /^(runbook\.(run|step)\.|detection\.|incident\.updated$)/;
/** How long after a step ended a change it made may still arrive through the watch. */
const ATTRIBUTION_SLACK_MS = 2000;

/** How far before an incident a smoke window on its workloads counts (the tracker's change lookback). */
const SMOKE_LOOKBACK_MS = 30 * 60_000;

export async function gatherIncident(store: Store, idOrPrefix: string): Promise<IncidentContext> {
  let incident = await store.getIncident(idOrPrefix);
  if (!incident) {
    const found = (await store.listIncidents({})).filter((i) => i.id.startsWith(idOrPrefix));
    if (found.length > 1) throw new KubemendError(Errors.INCIDENT_NOT_FOUND, `${idOrPrefix} matches ${found.length} incidents (${found.slice(0, 3).map((i) => i.id).join(', ')}…): give more of the id`);
    incident = found[0];
  }
  if (!incident) throw new KubemendError(Errors.INCIDENT_NOT_FOUND, `no incident ${idOrPrefix}`);
  const data = incident.data as unknown as IncidentData;
  const ids = new Set(incident.detectionIds);
  const subjects = new Set(data.detections.map((d) => objectKey(d.subject)));
  for (const e of data.entities) if (e.startsWith('workload:')) subjects.add(e.slice('workload:'.length));
  const since = Math.min(incident.openedAt, ...data.detections.map((d) => d.firstSeen));
  const end = incident.resolvedAt ?? Math.max(data.lastActivityAt, ...data.detections.map((d) => d.lastSeen));
  // Until it resolves, whatever is done to the incident's objects is part of it.
  const closes = incident.resolvedAt ?? Infinity;
  const onSubject = (t: { kind?: string; namespace?: string; name?: string } | undefined) => !!t?.name && subjects.has(`${t.kind}/${t.namespace ?? ''}/${t.name}`);
  const runs = (await store.listRuns({ since: since - 60_000 }))
    .filter((r) => r.incidentId === incident.id || (r.detectionId && ids.has(r.detectionId)) || (onSubject(r.target) && r.createdAt >= since && r.createdAt <= closes))
    .sort((a, b) => a.createdAt - b.createdAt || a.runbook.localeCompare(b.runbook) || targetText(a).localeCompare(targetText(b)) || a.id.localeCompare(b.id));
  const transitions = new Map<string, StepTransition[]>();
  for (const r of runs) transitions.set(r.id, await store.transitions(r.id));
  const runIds = new Set(runs.map((r) => r.id));
  const chats = (await store.listChatRequests({ limit: 1000 }))
    .filter((c) => (c.runId && runIds.has(c.runId)) || (onSubject({ kind: c.target.kind, namespace: c.target.namespace, name: c.target.name }) && c.createdAt >= since && c.createdAt <= closes))
    .sort((a, b) => a.createdAt - b.createdAt);
  const seen = new Map<number, AuditRecord>();
  const add = (rs: AuditRecord[]) => rs.forEach((r) => seen.set(r.seq, r));
  add(await store.audit.list({ incidentId: incident.id, limit: 10_000 }));
  for (const id of ids) add(await store.audit.list({ detectionId: id, limit: 10_000 }));
  for (const id of runIds) add(await store.audit.list({ runId: id, limit: 10_000 }));
  // Smoke windows on the incident's workloads, from before it opened (the change that caused it) to its end: whether a smoke test ran is a finding.
  for (const phase of ['started', 'passed', 'failed']) {
    const smoke = await store.audit.list({ action: `smoke.${phase}`, since: since - SMOKE_LOOKBACK_MS, ...(incident.resolvedAt !== undefined ? { until: incident.resolvedAt } : {}), limit: 10_000 });
    add(smoke.filter((a) => a.target?.cluster === incident.cluster && onSubject(a.target)));
  }
  const audit = [...seen.values()].sort((a, b) => a.seq - b.seq);
  const lastRun = Math.max(0, ...runs.map((r) => r.updatedAt));
  const until = incident.resolvedAt ?? Math.max(end, lastRun);
  return { incident, data, runs, transitions, chats, audit, changes: attribute(data.changes, runs, transitions, chats), until };
}

/**
 * Fills in `by` for changes a kubemend run made: same object, during one of
 * the run's steps (a step that reported a mutation first, then the latest).
 */
export function attribute(changes: ChangeEntry[], runs: RunRecord[], transitions: Map<string, StepTransition[]>, chats: ChatRequestRecord[]): ChangeEntry[] {
  return changes.map((c) => {
    // A change managedFields attribute to another writer is not kubemend's, whichever step was running.
    if (c.by || (c.author && c.author.manager !== KUBEMEND_MANAGER)) return c;
    const hits: { r: RunRecord; step: string; start: number; mutated: boolean }[] = [];
    for (const r of runs) {
      if (r.dryRun || !sameObject(r.target, c.object)) continue;
      const ts = transitions.get(r.id) ?? [];
      for (const start of ts.filter((t) => t.status === 'started')) {
        const end = ts.find((t) => t.stepId === start.stepId && t.attempt === start.attempt && t.status !== 'started');
        if (c.time < start.time || c.time > (end?.time ?? r.updatedAt) + ATTRIBUTION_SLACK_MS) continue;
        hits.push({ r, step: start.stepId, start: start.time, mutated: (end?.output as { mutated?: boolean } | undefined)?.mutated === true });
      }
    }
    const best = hits.sort((a, b) => Number(b.mutated) - Number(a.mutated) || b.start - a.start)[0];
    if (!best) return c;
    const chat = chats.find((x) => x.runId === best.r.id);
    const who = chat ? `${chat.user} via chat, ` : best.r.startedBy.type === 'user' ? `${best.r.startedBy.name}, ` : '';
    return { ...c, by: `kubemend (${who}runbook ${best.r.runbook} run ${best.r.id.slice(0, 8)} step ${best.step})` };
  });
}

export function buildTimeline(ctx: IncidentContext): TimelineEntry[] {
  // Sorted by time, then by kind of entry; a run's start, steps and end stay
  // together when they share a second (the `k` tie-breakers).
  const out: (TimelineEntry & { k: number[] })[] = [];
  const push = (e: TimelineEntry, ...k: number[]) => out.push({ ...e, k: [ORDER.indexOf(e.source), ...k] });
  // Changes of one second: by object (watches of different kinds race), then in the order each object saw them.
  const changes = [...ctx.changes].sort((a, b) => a.time - b.time || objectText(a.object).localeCompare(objectText(b.object)) || a.seq - b.seq);
  changes.forEach((c, i) => {
    const by = changeAuthorText(c);
    push({ time: c.time, source: 'change', text: `${objectText(c.object)} ${c.summary}${by ? ` — by ${by}` : ''}${c.outsidePipeline ? ' [made outside the pipeline]' : ''}` }, i);
  });
  for (const g of groupObservations(ctx.data.observations)) push(g);
  for (const d of ctx.data.detections) push({ time: d.firstSeen, source: 'detection', ref: d.id, text: detectionText(d) });
  ctx.runs.forEach((r, i) => {
    const target = objectText({ kind: r.target.kind ?? '', namespace: r.target.namespace, name: r.target.name ?? '' });
    const run = (time: number, text: string, step: number) => out.push({ time, source: step === 0 || step === Infinity ? 'run' : 'step', ref: r.id, text, k: [ORDER.indexOf('run'), i, step] });
    run(r.createdAt, `runbook ${r.runbook} started on ${target} by ${r.startedBy.type}:${r.startedBy.name}${r.dryRun ? ' (dry run)' : ''} — run ${r.id.slice(0, 8)}`, 0);
    (ctx.transitions.get(r.id) ?? []).forEach((t, j) => {
      if (t.status !== 'started' && t.status !== 'pending') run(t.time, `${r.runbook}/${t.stepId}: ${t.status}${stepDetail(t, r.dryRun)}`, j + 1);
    });
    if (!['pending', 'running', 'waiting-approval'].includes(r.status)) run(r.updatedAt, `runbook ${r.runbook} ${r.status} — run ${r.id.slice(0, 8)}`, Infinity);
  });
  for (const c of ctx.chats) push({ time: c.createdAt, source: 'chat', ref: c.id, text: `${c.user} in ${c.room}: ${c.command} (${c.status}${c.justification ? `; why: ${c.justification}` : ''})` });
  for (const a of ctx.audit) {
    if (SHOWN.test(a.action)) continue;
    const source: TimelineSource = a.action.startsWith('incident.') ? 'incident' : a.action === 'notify.sent' ? 'notify' : a.action.startsWith('chat.') ? 'chat' : 'audit';
    push({ time: a.time, source, ref: a.id, text: auditText(a) });
  }
  // Text last, so entries of one second come out the same on every replay.
  out.sort((a, b) => a.time - b.time || compareKeys(a.k, b.k) || a.text.localeCompare(b.text));
  return out.map(({ k: _k, ...e }) => e);
}

function compareKeys(a: number[], b: number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? -1) - (b[i] ?? -1);
    if (d) return d;
  }
  return 0;
}

/** Observations of the same reason, second and node (or workload) as one line: "NodeNotReady on 4 pods on node-1". */
function groupObservations(obs: Observation[]): TimelineEntry[] {
  const groups = new Map<string, Observation[]>();
  for (const o of obs) {
    const k = `${Math.floor(o.time / 1000)}|${o.source}|${o.reason}|${o.object.kind === 'Pod' ? (o.node ?? o.workload) : objectText(o.object)}`;
    groups.set(k, [...(groups.get(k) ?? []), o]);
  }
  return [...groups.values()].map((g) => {
    const o = g[0];
    const repeats = g.reduce((n, x) => n + x.count, 0);
    const more = repeats > g.length ? ` (${repeats}× until ${clock(Math.max(...g.map((x) => x.lastTime)))})` : '';
    const label = o.source === 'event' ? `Warning ${o.reason}` : o.reason;
    if (g.length === 1) return { time: o.time, source: o.source, text: `${label} on ${objectText(o.object)}${o.node && o.object.kind === 'Pod' ? ` (on ${o.node})` : ''}: ${o.message}${more}` };
    const where = o.node ? ` on ${o.node}` : '';
    return { time: o.time, source: o.source, text: `${label} on ${g.length} pods${where}: ${g.map((x) => `${x.object.namespace}/${x.object.name}`).sort().join(', ')} — ${o.message}${more}` };
  });
}

function detectionText(d: DetectionRef): string {
  const repeats = d.count > 1 ? ` (fired ${d.count}×, last ${clock(d.lastSeen)})` : '';
  return `${d.rule} [${d.severity}] on ${objectText(d.subject)}: ${d.summary}${repeats}${d.status === 'silenced' ? ' (silenced)' : ''}`;
}

function stepDetail(t: StepTransition, dryRun: boolean): string {
  if (t.error) return ` (${t.error})`;
  const o = t.output as { calls?: string[]; mutated?: boolean } | undefined;
  const calls = (o?.calls ?? []).filter((c) => !c.startsWith('WAIT') && !c.startsWith('GET'));
  if (!calls.length) return '';
  const text = calls.join('; ');
  return ` — ${dryRun ? 'planned, not made: ' : ''}${text.length > 200 ? `${text.slice(0, 199)}…` : text}`;
}

function auditText(a: AuditRecord): string {
  const d = (a.data ?? {}) as Record<string, unknown>;
  const detail = typeof d.reason === 'string' ? `: ${d.reason}` : typeof d.title === 'string' ? `: ${d.title}` : '';
  return `${a.action} by ${a.actor.type}:${a.actor.name}${detail}`;
}

export function objectText(o: { kind: string; namespace?: string; name: string }): string {
  return `${o.kind.toLowerCase()}/${o.namespace ? `${o.namespace}/` : ''}${o.name}`;
}

function objectKey(o: { kind: string; namespace?: string; name: string }): string {
  return `${o.kind}/${o.namespace ?? ''}/${o.name}`;
}

function targetText(r: RunRecord): string {
  return `${r.target.kind}/${r.target.namespace ?? ''}/${r.target.name}`;
}

function sameObject(t: { kind?: string; namespace?: string; name?: string }, o: { kind: string; namespace?: string; name: string }): boolean {
  return t.kind === o.kind && (t.namespace ?? '') === (o.namespace ?? '') && t.name === o.name;
}

/** HH:MM:SS in UTC: the timeline's clock. */
export function clock(ms: number): string {
  return new Date(ms).toISOString().slice(11, 19);
}

/** T+1m50s / T-30s. */
export function rel(ms: number): string {
  return `T${ms < 0 ? '-' : '+'}${Math.abs(ms) < 1000 ? '0s' : formatDuration(Math.abs(ms))}`;
}
