// The post-mortem draft as Markdown: a starting point a team edits, with
// every claim traceable to a detection, run or audit record in the appendix.
import { formatDuration } from '../common/index.ts';
import type { PostmortemModel } from './postmortem.ts';
import { clock, objectText, rel } from './timeline.ts';
import { changeAuthorText } from './authors.ts';
import type { ChangeEntry } from './types.ts';

export function renderMarkdown(m: PostmortemModel): string {
  const t0 = m.times.impactStart;
  const at = (ms: number) => `${iso(ms)} (${rel(ms - t0)})`;
  const out: string[] = [];
  const p = (...lines: string[]) => out.push(...lines, '');
  p(`# Post-mortem (draft): ${m.incident.title}`);
  p(`_Drafted by kubemend from incident \`${m.incident.id}\`. Everything below comes from the audit log, the store and the cluster's events; check it, add what people saw and decided, and remove this line._`);

  p('## Summary', m.summary);
  p(
    '| | |',
    '|---|---|',
    `| Incident | \`${m.incident.id}\` (${m.incident.status}${m.incident.resolvedBecause ? `: ${m.incident.resolvedBecause}` : ''}) |`,
    `| Cluster | ${m.incident.cluster} |`,
    `| Severity | ${m.incident.severity} |`,
    `| Impact started | ${at(t0)}: ${esc(m.times.firstSign)} |`,
    `| Detected | ${at(m.times.detectedAt)}; time to detect **${dur(m.times.timeToDetectMs)}** |`,
    `| Mitigated | ${m.times.mitigatedAt !== undefined ? `${at(m.times.mitigatedAt)}; time to mitigate **${dur(m.times.timeToMitigateMs!)}**` : '**no**'}: ${esc(m.times.mitigation)} |`,
    `| ${m.incident.resolvedAt !== undefined ? 'Resolved' : 'Last activity'} | ${at(m.times.end)}; duration **${dur(m.times.durationMs)}** |`,
    `| Workloads | ${list(m.impact.workloads)} |`,
    `| Nodes | ${list(m.impact.nodes)} |`,
    `| Pods evicted or drained | ${list(m.impact.evictedPods)} |`,
  );

  p('## Root cause', m.rootCause.statement, ...(m.rootCause.evidence.length ? ['', 'Evidence:', ...m.rootCause.evidence.map((e) => `- ${e}`)] : []));
  p('## Impact', 'As far as the cluster shows it (pods lost, monitoring gone); add what users saw:', '', ...m.impact.userFacing.map((x) => `- ${x}`));

  p('## Timeline', `Times are UTC; T+ is from the start of the impact (${iso(t0)}).`);
  p('| Time | T+ | Source | What |', '|---|---|---|---|', ...m.timeline.map((e) => `| ${clock(e.time)} | ${rel(e.time - t0)} | ${e.source} | ${esc(e.text)} |`));

  p('## Triggering change(s)');
  if (!m.triggers.length) p('No change recorded in the change feed preceded the incident on the objects it started from (the feed covers Deployments, StatefulSets, DaemonSets, ConfigMaps, HPAs, Nodes, LimitRanges, ResourceQuotas and PodDisruptionBudgets).');
  else p(...m.triggers.map((c) => `- ${at(c.time)}: **${objectText(c.object)}** ${esc(c.summary)} ${who(c)}`));

  if (m.outsidePipeline.length) {
    p('## Changes made outside the pipeline',
      'Made by a writer that is not one of the expected managers (`changes.expectedManagers`: the GitOps/CI tools, Kubernetes\' own controllers, kubemend):',
      ...m.outsidePipeline.map((c) => `- ${at(c.time)}: **${objectText(c.object)}** ${esc(c.summary)} ${who(c)}`));
  }

  p('## What kubemend did and its effect');
  if (!m.remediation.length) p('No runbook ran for this incident.');
  else {
    p('| Run | Runbook | Target | Started by | Outcome | Started | Ended |', '|---|---|---|---|---|---|---|',
      ...m.remediation.map((r) => `| \`${r.id.slice(0, 8)}\` | ${r.runbook} | ${r.target} | ${r.startedBy} | ${r.status}${r.dryRun ? ' (dry run)' : ''}${r.mutated ? ', changed the cluster' : ''} | ${rel(r.startedAt - t0)} | ${rel(r.endedAt - t0)} |`));
    for (const r of m.remediation) p(`- \`${r.id.slice(0, 8)}\` ${r.runbook}: ${r.steps.map((s) => `${s.stepId} ${s.status}${s.attempt > 1 ? ` (attempt ${s.attempt})` : ''}${s.detail && s.status !== 'succeeded' ? ` — ${esc(s.detail)}` : ''}`).join(' → ') || 'no step finished'}`);
    if (m.kubemendChanges.length) p('Changes kubemend made:', ...m.kubemendChanges.map((c) => `- ${at(c.time)}: ${objectText(c.object)} ${esc(c.summary)}`));
    if (m.effects.length) p('Their effect:', ...m.effects.map((e) => `- \`${e.run.slice(0, 8)}\` ${e.runbook} changed ${e.changed.join(', ')}: ${e.effect.join('; ')}`));
    else p('Their effect: kubemend changed nothing in the cluster during this incident.');
  }

  p('## Guardrail findings');
  if (!m.guardrails.length) p('No guardrail finding.');
  m.guardrails.forEach((g, i) => p(`### ${i + 1}. ${g.title} (${g.severity})`, `**Affects:** ${g.subjects.join(', ')}${g.fixedDuring?.length ? ` (fixed during the incident: ${g.fixedDuring.join(', ')})` : ''}`, '', esc(g.detail), '', `**Fix:** ${g.fix.text}`, '', '```yaml', g.fix.yaml, '```'));
  if (m.guardrailsSkipped.length) p('Not checked:', ...m.guardrailsSkipped.map((s) => `- ${s.id}: ${s.reason}`));

  if (m.lessons.length) {
    p('## Findings');
    m.lessons.forEach((l) => p(`### ${l.title}`, esc(l.detail)));
  }

  p('## What no alert caught');
  const none = m.uncaught.filter((u) => u.status === 'not-caught');
  const late = m.uncaught.filter((u) => u.status === 'late');
  if (!m.uncaught.length) p('Every Warning event and state change on the incident\'s objects was covered by a detection when it happened.');
  if (none.length) {
    p('### Signals no rule turned into a detection', '| First | Signal | On | Count | Example |', '|---|---|---|---|---|',
      ...none.map((u) => `| ${rel(u.first - t0)} | ${u.source === 'event' ? 'Warning event' : 'state'} ${u.reason} | ${u.kind.toLowerCase()}: ${esc(u.objects.slice(0, 5).join(', '))}${u.objects.length > 5 ? ` and ${u.objects.length - 5} more` : ''} | ${u.count} | ${esc(u.message.slice(0, 120))} |`));
  }
  if (late.length) {
    p('### Detected late', '| Signal first seen | Signal | On | Detected by | Delay |', '|---|---|---|---|---|',
      ...late.map((u) => `| ${rel(u.first - t0)} | ${u.reason} | ${u.kind.toLowerCase()}: ${esc(u.objects.slice(0, 5).join(', '))} | ${u.detectedBy!.rule} at ${rel(u.detectedBy!.at - t0)} | ${formatDuration(u.detectedBy!.delayMs)} |`));
  }
  if (m.uncaught.length) {
    p('### Suggested rules', 'Start from these (`kubemend rules check` accepts them; try them with `kubemend rules test`):');
    for (const u of m.uncaught) p(`${u.suggestion.text}`, '', '```yaml', u.suggestion.yaml, '```');
  }

  p('## Action items', ...m.actionItems.map((a) => `- [ ] ${esc(a)}`), ...(m.actionItems.length ? [] : ['- [ ] (none derived; add the team\'s)']));

  p('## Appendix: audit trail',
    `Verify the chain with \`kubemend audit verify\`; list these records with \`kubemend audit list --incident ${m.incident.id}\`, \`--detection ID\` or \`--run ID\`.`);
  p('Detections:', ...m.appendix.detections.map((d) => `- \`${d.id}\` ${d.rule} on ${d.subject} at ${rel(d.firstSeen - t0)} — ${esc(d.joinedVia)}`));
  if (m.appendix.runs.length) p('Runs:', ...m.appendix.runs.map((r) => `- \`${r.id}\` ${r.runbook}`));
  if (m.appendix.chats.length) p('Chat requests:', ...m.appendix.chats.map((c) => `- \`${c}\``));
  p('| Seq | Time | Action | Actor | Record id | Hash |', '|---|---|---|---|---|---|',
    ...m.appendix.audit.map((a) => `| ${a.seq} | ${clock(a.time)} | ${a.action} | ${esc(a.actor)} | \`${a.id}\` | \`${a.hash.slice(0, 16)}\` |`));
  return `${out.join('\n').trimEnd()}\n`;
}

/** "(by kubectl-set (alice) at 00:01:00; made outside the pipeline)". */
function who(c: ChangeEntry): string {
  const by = changeAuthorText(c);
  const text = by ? `by ${esc(by)}` : 'author unknown: no managedFields entry moved and no audit event matched';
  return `(${text}${c.outsidePipeline ? '; **made outside the pipeline**' : ''})`;
}

function iso(ms: number): string {
  return new Date(ms).toISOString().replace('.000Z', 'Z');
}

function dur(ms: number): string {
  return ms < 1000 ? '0s' : formatDuration(ms);
}


function list(xs: string[]): string {
  return xs.length ? esc(xs.join(', ')) : '—';
}

/** Table cells: a pipe would end the cell, a newline the row. */
function esc(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}
