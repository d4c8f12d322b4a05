// The post-mortem draft (the PostmortemModel `kubemend incidents postmortem
// --format json` prints) drawn as DOM: the same sections as the Markdown
// draft (src/incidents/markdown.ts), every string a text node.
import { objectText, rel } from '../lib/forms.js';

export function postmortem(ctx, m) {
  const { h, when, duration, badge, link } = ctx;
  const t0 = m.times.impactStart;
  const at = (ms) => [when(ms), ` (${rel(ms - t0)})`];
  const sec = (title, ...content) => h('section', { class: 'pm-section' }, h('h4', {}, title), content);
  const list = (xs, fn = (x) => x) => (xs.length ? h('ul', {}, xs.map((x) => h('li', {}, fn(x)))) : h('p', { class: 'muted' }, 'None.'));
  const row = (k, ...v) => h('tr', {}, h('th', { scope: 'row' }, k), h('td', {}, v));
  const who = (c) => (c.by ? `by ${c.by}` : c.author ? `by ${c.author.manager}${c.author.user ? ` (${c.author.user})` : ''}` : 'author unknown');

  return h('article', { class: 'postmortem', 'aria-label': 'Post-mortem draft' },
    h('h4', {}, `Post-mortem (draft): ${m.incident.title}`),
    sec('Summary', h('p', {}, m.summary),
      h('table', { class: 'facts-table' }, h('caption', { class: 'visually-hidden' }, 'Key times'), h('tbody', {},
        row('Incident', m.incident.id, ' ', badge(m.incident.status), m.incident.resolvedBecause ? ` (${m.incident.resolvedBecause})` : ''),
        row('Impact started', at(t0), `: ${m.times.firstSign}`),
        row('Detected', at(m.times.detectedAt), `; time to detect ${duration(m.times.timeToDetectMs)}`),
        row('Mitigated', m.times.mitigatedAt !== undefined ? [at(m.times.mitigatedAt), `; time to mitigate ${duration(m.times.timeToMitigateMs)}`] : 'no', `: ${m.times.mitigation}`),
        row(m.incident.resolvedAt !== undefined ? 'Resolved' : 'Last activity', at(m.times.end), `; duration ${duration(m.times.durationMs)}`),
        row('Workloads', m.impact.workloads.join(', ') || '—'),
        row('Nodes', m.impact.nodes.join(', ') || '—'),
        row('Pods evicted or drained', m.impact.evictedPods.join(', ') || '—'),
      ))),
    sec('Root cause', h('p', {}, m.rootCause.statement), m.rootCause.evidence.length ? list(m.rootCause.evidence) : null),
    sec('Impact', list(m.impact.userFacing)),
    sec('Triggering change(s)', list(m.triggers, (c) => [when(c.time), ' ', h('strong', {}, objectText(c.object)), ` ${c.summary} (${who(c)})`])),
    m.outsidePipeline.length ? sec('Changes made outside the pipeline', list(m.outsidePipeline, (c) => [when(c.time), ' ', h('strong', {}, objectText(c.object)), ` ${c.summary} (${who(c)})`])) : null,
    sec('What kubemend did and its effect',
      m.remediation.length
        ? list(m.remediation, (r) => [h('a', { href: link(`runs/${r.id}`) }, r.id.slice(0, 8)), ` ${r.runbook} on ${r.target}, started by ${r.startedBy}: `, badge(r.status), r.dryRun ? ' (dry run)' : '', r.mutated ? ', changed the cluster' : '',
          h('br'), h('small', {}, r.steps.map((s) => `${s.stepId} ${s.status}${s.attempt > 1 ? ` (attempt ${s.attempt})` : ''}`).join(' → ') || 'no step finished')])
        : h('p', {}, 'No runbook ran for this incident.'),
      m.effects.length ? list(m.effects, (e) => `${e.run.slice(0, 8)} ${e.runbook} changed ${e.changed.join(', ')}: ${e.effect.join('; ')}`) : null),
    m.lessons.length ? sec('Findings', m.lessons.map((l) => h('div', {}, h('h5', {}, l.title), h('p', {}, l.detail)))) : null,
    sec('What no alert caught', m.uncaught.length
      ? m.uncaught.map((u) => h('div', { class: 'uncaught' }, h('p', {}, `${u.status === 'late' ? 'Detected late' : 'Not caught'}: ${u.source === 'event' ? 'Warning event' : 'state'} ${u.reason} on ${u.kind.toLowerCase()} ${u.objects.slice(0, 5).join(', ')} (${u.count}×)`), h('p', {}, u.suggestion.text), h('pre', {}, u.suggestion.yaml)))
      : h('p', {}, 'Every Warning event and state change on the incident\'s objects was covered by a detection when it happened.')),
    sec('Action items', list(m.actionItems)),
  );
}
