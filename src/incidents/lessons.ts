// What a post-mortem draft learns beyond the timeline: the root cause with
// its evidence, the impact on users as far as the cluster shows it, what
// each of kubemend's changes did (its own drains included), and the
// findings a team's own post-mortem of such a cascade lists: a warning
// nobody was sent, ops and customer workloads sharing the failing node, a
// change that went out with no smoke test. Only what the records support.
import { formatDuration } from '../common/index.ts';
import type { StepTransition } from '../store/index.ts';
import { objectText, rel, type IncidentContext } from './timeline.ts';
import type { ChangeEntry, DetectionRef, Placement } from './types.ts';

export interface RootCause {
  statement: string;
  evidence: string[];
  /** The workload it names, `Kind/ns/name`, when it is one. */
  workload?: string;
}

export interface RunEffect {
  run: string;
  runbook: string;
  changed: string[];
  effect: string[];
}

export interface Lesson {
  id: 'quiet-warning' | 'shared-node' | 'no-smoke-test';
  title: string;
  detail: string;
  action: string;
}

/** `resource/namespace/name` of every object a run's mutating steps sent a write to. */
export function changedObjects(ts: StepTransition[]): string[] {
  const out = new Set<string>();
  for (const t of ts) {
    const o = t.output as { mutated?: boolean; calls?: string[] } | undefined;
    if (t.status !== 'succeeded' || o?.mutated !== true) continue;
    for (const call of o.calls ?? []) {
      const m = /^(?:PATCH|PUT|POST|DELETE) \/(?:api\/v1|apis\/[^/]+\/[^/]+)\/(?:namespaces\/([^/]+)\/)?([^/]+)\/([^/:?]+)/.exec(call);
      if (m) out.add(`${m[2]}/${m[1] ?? ''}/${m[3]}`);
    }
  }
  return [...out];
}

/** The diagnosis a node runbook made (k8s.findMemoryCulprit's outputs), dry runs included. */
function diagnosis(ctx: IncidentContext): { at: number; out: any } | undefined {
  for (const r of ctx.runs) {
    for (const t of ctx.transitions.get(r.id) ?? []) {
      const out = (t.output as { outputs?: any } | undefined)?.outputs;
      if (t.status === 'succeeded' && out?.verdict && out?.culprit) return { at: t.time, out };
    }
  }
  return undefined;
}

export function rootCause(ctx: IncidentContext, t0: number): RootCause {
  const dets = ctx.data.detections;
  const ooms = dets.filter((d) => d.reasons.includes('SystemOOM') || d.rule === 'system-oom');
  const noLimit = ctx.data.guardrails.find((g) => g.id === 'no-memory-limit');
  const d = diagnosis(ctx);
  const created = (w: string) => ctx.changes.find((c) => `${c.object.kind}/${c.object.namespace ?? ''}/${c.object.name}` === w);
  const authored = (c: ChangeEntry | undefined) => (c ? `${objectText(c.object)} ${c.summary}${c.author ? ` by ${c.author.manager}${c.author.user ? ` (${c.author.user})` : ''}` : ''}${c.outsidePipeline ? ', outside the pipeline' : ''} at ${rel(c.time - t0)}` : undefined);
  if (d) {
    const c = d.out.culprit;
    const w = `${c.kind}/${c.namespace}/${c.name}`;
    const evidence = [
      `no memory limit on container ${c.container} (${noLimit ? 'guardrail finding' : "the workload's spec"})`,
      ...(c.growthPerMinute ? [`memory growing ${c.growthPerMinute}/min${c.usage ? `, ${c.usage} in use` : ''} when kubemend measured it at ${rel(d.at - t0)} (metrics.k8s.io)`] : c.usage ? [`${c.usage} in use at ${rel(d.at - t0)}`] : []),
      ...(c.oomVictim ? [`the kernel's OOM victim on node ${d.out.node?.name}${d.out.node?.systemOOMs ? ` (${d.out.node.systemOOMs} SystemOOM${d.out.node.systemOOMs > 1 ? 's' : ''} by then)` : ''}`] : []),
      ...(authored(created(w)) ? [authored(created(w))!] : []),
    ];
    return { workload: w, statement: `${w} ran without a memory limit and leaked: it drove node ${d.out.node?.name} out of memory (SystemOOM), and everything else on the node suffered with it.`, evidence };
  }
  if (noLimit && ooms.length) {
    const w = noLimit.subjects[0];
    return { workload: w, statement: `Probably ${w}, which ran without a memory limit on a node where the kernel ran out of memory (no diagnosis ran to confirm it).`, evidence: [noLimit.detail, `SystemOOM on ${[...new Set(ooms.map((o) => o.subject.name))].join(', ')}`] };
  }
  return { statement: 'Not determined from the records: add what the team found.', evidence: [] };
}

/** Pods the incident cost each workload, and how long monitoring was gone. */
export function userImpact(ctx: IncidentContext, t0: number, culprit?: string): string[] {
  const lost = new Map<string, Placement[]>();
  for (const p of ctx.data.placements) if (p.evicted && p.workload !== culprit) lost.set(p.workload, [...(lost.get(p.workload) ?? []), p]);
  const out: string[] = [];
  for (const [w, ps] of [...lost].sort()) {
    const first = Math.min(...ps.map((p) => p.deletedAt ?? p.firstSeen));
    const back = ctx.data.placements.filter((p) => p.workload === w && p.firstSeen > first && !p.evicted).map((p) => p.firstSeen);
    const since = back.length ? `; a replacement was placed ${formatDuration(Math.min(...back) - first)} later` : '; no replacement was seen';
    const mon = ps.some((p) => p.monitoring) ? ' — monitoring: dashboards and alerts were blind meanwhile' : '';
    out.push(`${w}: ${ps.length} pod${ps.length > 1 ? 's' : ''} evicted from ${[...new Set(ps.map((p) => p.node))].join(', ')} at ${rel(first - t0)}${since}${mon}`);
  }
  if (!out.length) out.push('No workload lost pods to evictions or drains' + (culprit ? ` (apart from ${culprit}, the cause)` : '') + '; request-level impact is not visible to kubemend — add what users saw.');
  return out;
}

/** What each of kubemend's changes did: whether what it acted on stopped, and where pods it moved went. */
export function runEffects(ctx: IncidentContext, t0: number): RunEffect[] {
  const out: RunEffect[] = [];
  const dets = ctx.data.detections.filter((d) => d.severity !== 'info');
  for (const r of ctx.runs.filter((x) => !x.dryRun)) {
    const ts = ctx.transitions.get(r.id) ?? [];
    const changed = changedObjects(ts);
    if (!changed.length) continue;
    const at = Math.max(...ts.filter((t) => (t.output as { mutated?: boolean } | undefined)?.mutated).map((t) => t.time));
    const effect: string[] = [];
    const own = dets.find((d) => d.id === r.detectionId);
    if (own) effect.push(own.lastSeen > at ? `${own.rule} on ${objectText(own.subject)} went on firing until ${rel(own.lastSeen - t0)}` : `${own.rule} on ${objectText(own.subject)} did not fire again`);
    const evicted = changed.filter((c) => c.startsWith('pods/')).map((c) => c.split('/'));
    if (evicted.length) {
      const workloads = new Set(ctx.data.placements.filter((p) => evicted.some(([, ns, pod]) => p.namespace === ns && p.pod === pod)).map((p) => p.workload));
      const landed = ctx.data.placements.filter((p) => workloads.has(p.workload) && p.firstSeen >= at && p.node);
      const nodes = [...new Set(landed.map((p) => p.node!))].sort();
      effect.push(`moved ${evicted.length} pod${evicted.length > 1 ? 's' : ''} (${[...workloads].join(', ')}) to ${nodes.join(', ') || 'no node yet'}`);
      for (const n of nodes) {
        const next = dets.filter((d) => d.subject.kind === 'Node' && d.subject.name === n && d.firstSeen > at).sort((a, b) => a.firstSeen - b.firstSeen)[0];
        if (next) effect.push(`node ${n}, which received them, then had ${next.rule} at ${rel(next.firstSeen - t0)}: the move spread the trouble`);
      }
    }
    const later = dets.filter((d) => d.firstSeen > at && d.id !== r.detectionId && !changed.some((c) => sameObject(c, d)));
    effect.push(later.length ? `${later.length} new detection${later.length > 1 ? 's' : ''} opened after it (first: ${later[0].rule} on ${objectText(later[0].subject)} at ${rel(later[0].firstSeen - t0)})` : 'no new detection opened after it, apart from the contained object itself');
    out.push({ run: r.id, runbook: r.runbook, changed, effect });
  }
  return out;
}

function sameObject(changed: string, d: DetectionRef): boolean {
  const [resource, ns, name] = changed.split('/');
  return resource.startsWith(d.subject.kind.toLowerCase()) && (ns ?? '') === (d.subject.namespace ?? '') && name === d.subject.name;
}

export function findLessons(ctx: IncidentContext, t0: number, cause: RootCause): Lesson[] {
  const out: Lesson[] = [];
  const early = ctx.data.detections.filter((d) => d.firstSeen < t0 && (d.subject.kind !== 'Namespace') && (!cause.workload || cause.workload === `${d.subject.kind}/${d.subject.namespace ?? ''}/${d.subject.name}`));
  for (const d of early) {
    const notified = ctx.audit.some((a) => a.action === 'notify.sent' && a.detectionId === d.id);
    if (d.severity === 'info' || !notified) {
      out.push({
        id: 'quiet-warning', title: 'A warning came before the impact, and nobody was told',
        detail: `${d.rule} fired on ${objectText(d.subject)} ${formatDuration(t0 - d.firstSeen)} before the impact, at ${d.severity} severity${notified ? '' : ', and no notification went out'}.`,
        action: `Make ${d.rule} page the owning team (warning or higher, with a notify step) where it matters: mark production namespaces (kubemend.dev/environment: production) so it does`,
      });
    }
  }
  const w = cause.workload;
  if (w) {
    const [, ns, name] = w.split('/');
    const failing = new Set(ctx.data.detections.filter((d) => d.subject.kind === 'Node').map((d) => d.subject.name));
    const nodes = new Set(ctx.data.placements.filter((p) => p.workload === cause.workload && p.node && failing.has(p.node)).map((p) => p.node!));
    const neighbours = [...new Set(ctx.data.placements.filter((p) => p.node && nodes.has(p.node) && p.namespace !== ns && p.workload !== cause.workload).map((p) => p.workload))].sort();
    if (neighbours.length) {
      out.push({
        id: 'shared-node', title: 'The cause shared its node with unrelated workloads',
        detail: `${cause.workload} ran on ${[...nodes].sort().join(', ')} beside ${neighbours.join(', ')}: one workload's leak became everyone's outage.`,
        action: `Isolate ${ns} workloads (batch, tooling, monitoring) from customer-facing ones: a dedicated node pool (taints and tolerations) or at least ResourceQuotas per namespace`,
      });
    }
    const change = ctx.changes.filter((c) => `${c.object.kind}/${c.object.namespace ?? ''}/${c.object.name}` === w && c.time <= t0).at(-1);
    if (change) {
      const smoke = ctx.audit.filter((a) => a.action.startsWith('smoke.') && a.target?.namespace === ns && a.target?.name === name && a.time >= change.time).sort((a, b) => a.seq - b.seq);
      const ended = smoke.find((a) => a.action === 'smoke.failed' || a.action === 'smoke.passed');
      const what = `${objectText(change.object)} ${change.summary} at ${rel(change.time - t0)}${change.author ? ` (by ${change.author.manager}${change.outsidePipeline ? ', outside the pipeline' : ''})` : ''}`;
      const pipelineStep = `Deploy ${w} through a pipeline with a smoke-test step that checks memory use against its request, not only restarts`;
      if (!ended) {
        out.push({ id: 'no-smoke-test', title: 'No smoke test ran after the change', detail: `${what}; no smoke window watched it, so its memory growth was found by the node running out.`, action: `${pipelineStep}, and keep kubemend's smoke windows on (kubemend.dev/smoke-window) for its namespace` });
      } else if (ended.action === 'smoke.failed') {
        const why = [...new Set(((ended.data as any)?.regressions ?? []).map((r: any) => r.type).filter(Boolean))].slice(0, 3).join(', ');
        out.push({
          id: 'no-smoke-test', title: 'The smoke window after the change caught it too late',
          detail: `${what}; kubemend's smoke window failed only at ${rel(ended.time - t0)}${why ? ` (${why})` : ''}, when the impact had begun: it watches restarts, OOMKills and readiness, and a leak shows in none of them until the kernel kills it. No smoke test ran in a deploy pipeline.`,
          action: pipelineStep,
        });
      }
    }
  }
  return out;
}
