// Detections: the list, filtered by cluster, namespace, rule, severity and
// status (the filters are in the URL), and one detection with its evidence,
// why it was suppressed, and a form that silences detections like it.
import { field, select, filters, pagedTable, statusLine, debounce, diffTable, objectText } from '../lib/forms.js';

const STATUSES = [['', 'Any status'], ['open', 'Open'], ['pending', 'Pending'], ['silenced', 'Silenced'], ['resolved', 'Resolved']];
const SEVERITIES = [['', 'Any severity'], ['critical', 'Critical'], ['warning', 'Warning'], ['info', 'Info']];
const FILTERS = ['cluster', 'namespace', 'rule', 'severity', 'status'];

export default {
  id: 'detections',
  title: 'Detections',
  nav: true,
  match: /^detections(?:\/([^/?]+))?$/,
  render(root, ctx) {
    return ctx.params[0] ? detail(root, ctx, ctx.params[0]) : list(root, ctx);
  },
};

/** Why nothing was sent or started for a detection, in words. */
export function suppression(d) {
  if (d.status === 'silenced' || d.suppressed === 'silenced') return `silenced${d.silencedBy ? ` by ${d.silencedBy.slice(0, 8)}` : ''}`;
  if (d.suppressed === 'group-window') return 'grouped with an earlier notification';
  if (d.suppressed === 'rate-limit') return 'rate-limited';
  if (d.withheld) return `runbook withheld: ${d.withheld}`;
  return '';
}

async function list(root, ctx) {
  const { h, badge, when, link } = ctx;
  const q = Object.fromEntries(FILTERS.map((k) => [k, ctx.query.get(k) || '']));
  const text = (name, placeholder) => field(name[0].toUpperCase() + name.slice(1), h('input', { name, value: q[name], placeholder, size: 14 }));
  const table = pagedTable('Detections', ['Rule', 'Subject', 'Cluster', 'Severity', 'Status', 'Last seen', 'Count', 'Suppressed', ''],
    (cursor) => ctx.api(`detections?${new URLSearchParams(Object.entries({ ...q, limit: '50', cursor }).filter(([, v]) => v))}`),
    (items) => items.map((d) => [
      h('a', { href: link(`detections/${d.id}`) }, d.rule), objectText(d.subject), d.cluster, badge(d.severity), badge(d.status),
      when(d.lastSeen), String(d.count), suppression(d) || '–',
      h('a', { href: link(`detections/${d.id}`, { silence: '1' }), 'aria-label': `Silence detections like ${d.rule} on ${objectText(d.subject)}` }, 'Silence…'),
    ]));
  root.append(
    h('h2', {}, 'Detections'),
    filters(ctx, 'detections', [
      text('cluster', 'any'), text('namespace', 'any'), text('rule', 'any'),
      field('Severity', select('severity', SEVERITIES, q.severity)), field('Status', select('status', STATUSES, q.status)),
    ]),
    table.el,
  );
  await table.reload();
  const again = debounce(() => table.reload().catch(() => {}));
  ctx.live((e) => { if (e.action.startsWith('detection.')) again(); });
}

async function detail(root, ctx, id) {
  const { h, badge, when, link } = ctx;
  const { detection: d, silence } = await ctx.api(`detections/${encodeURIComponent(id)}`);
  document.title = `${d.rule} on ${objectText(d.subject)} · kubemend`;
  const why = suppression(d);
  root.append(
    h('p', {}, h('a', { href: link('detections') }, '← Detections')),
    h('h2', {}, `${d.rule} on ${objectText(d.subject)}`),
    h('p', {}, d.summary),
    h('dl', { class: 'facts' },
      ...[['Status', badge(d.status)], ['Severity', badge(d.severity)], ['Cluster', d.cluster], ['First seen', when(d.firstSeen)], ['Last seen', when(d.lastSeen)], ['Fired', `${d.count}×`],
        ['Runbook', d.runbook || '–'], ['Suppressed', why || 'no']].map(([k, v]) => h('div', {}, h('dt', {}, k), h('dd', {}, v)))),
    h('div', {}, silence ? h('p', { class: 'note' }, 'Silenced by ', h('a', { href: link('silences', { id: silence.id }) }, silence.id.slice(0, 8)), ` (${silence.createdBy}: ${silence.comment}) until `, when(silence.endsAt)) : null),
    h('section', {}, h('h3', {}, 'Evidence'),
      h('ol', { class: 'evidence' }, d.evidence.map((e) => h('li', {},
        when(e.time), ' ', h('span', { class: `tl-source src-${e.type}` }, e.type), ' ', e.summary,
        e.event ? h('p', { class: 'muted' }, `${e.event.type} ${e.event.reason} on ${e.event.involvedObject} (${e.event.count}×): ${e.event.message}`) : null,
        e.diff?.length ? diffTable(e.diff) : null,
        e.rollout ? h('p', { class: 'muted' }, `smoke window ${e.rollout.phase}: ${e.rollout.change.summary}; ${e.rollout.regressions.map((r) => r.message).join('; ') || 'no regression'}`) : null)))),
    silenceForm(ctx, d),
  );
  if (ctx.query.get('silence')) root.querySelector('#silence-comment')?.focus();
}

/** Matchers proposed from the detection's labels; rule, cluster and namespace ticked, the object's name not (the next pod has another). */
function silenceForm(ctx, d) {
  const { h } = ctx;
  const status = statusLine();
  const picks = ['rule', 'cluster', 'namespace', 'kind', 'name', 'severity'].filter((k) => d.labels[k]).map((k) => {
    const box = h('input', { type: 'checkbox', name: 'matcher', value: `${k}=${d.labels[k]}`, checked: ['rule', 'cluster', 'namespace'].includes(k) });
    return h('div', { class: 'check' }, box, h('label', {}, `${k} = ${d.labels[k]}`));
  });
  for (const p of picks) {
    const [box, label] = p.children;
    box.id = `m-${box.value.split('=')[0]}`;
    label.setAttribute('for', box.id);
  }
  const duration = h('input', { name: 'duration', value: '2h', required: true, size: 6 });
  const comment = h('input', { name: 'comment', id: 'silence-comment', required: true, placeholder: 'why, e.g. a ticket and a reason', size: 40, maxlength: 1000 });
  const form = h('form', { class: 'silence-form', 'aria-labelledby': 'silence-h' },
    h('h3', { id: 'silence-h' }, 'Silence detections like this one'),
    h('fieldset', {}, h('legend', {}, 'Match'), picks),
    field('For how long', duration), field('Why', comment),
    h('button', { type: 'submit', class: 'primary' }, 'Create silence'), status.el);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const matchers = [...form.querySelectorAll('input[name=matcher]:checked')].map((b) => b.value);
    try {
      const r = await ctx.api('silences', { matchers, duration: duration.value.trim(), comment: comment.value.trim() });
      status.ok(`Silence ${r.silence.id.slice(0, 8)} created until ${new Date(r.silence.endsAt).toLocaleString()}.`);
      ctx.go('silences', { id: r.silence.id });
    } catch (err) {
      if (err.message !== 'signed out') status.fail(err);
    }
  });
  return form;
}
