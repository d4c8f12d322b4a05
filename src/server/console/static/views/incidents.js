// Incidents: the list (filter by state; live) and one incident — its facts,
// lifecycle actions (sent as the chat's `incident` commands by the server),
// the correlated timeline on one time axis (changes with author and diff,
// detections, runs and steps, chat, notifications), guardrail findings,
// notes and the post-mortem draft drawn from its data, never from HTML.
import { field, select, filters, pagedTable, statusLine, debounce, diffTable, rel } from '../lib/forms.js';
import { postmortem } from './postmortem.js';

const STATES = [['active', 'Under way'], ['open', 'Open'], ['acknowledged', 'Acknowledged'], ['mitigated', 'Mitigated'], ['resolved', 'Resolved'], ['postmortem', 'Post-mortem'], ['all', 'All']];

export default {
  id: 'incidents',
  title: 'Incidents',
  nav: true,
  match: /^incidents(?:\/([^/?]+))?$/,
  render(root, ctx) {
    return ctx.params[0] ? detail(root, ctx, ctx.params[0]) : list(root, ctx);
  },
};

async function list(root, ctx) {
  const { h, badge, when, link } = ctx;
  const state = ctx.query.get('state') || 'active';
  const table = pagedTable('Incidents', ['Incident', 'State', 'Severity', 'Cluster', 'Workloads', 'Started', 'Owner'],
    (cursor) => ctx.api(`incidents?${new URLSearchParams({ state, limit: '50', ...(cursor ? { cursor } : {}) })}`),
    (items) => items.map((i) => [
      h('a', { href: link(`incidents/${i.id}`) }, i.title, h('br'), h('small', { class: 'muted' }, i.id)),
      badge(i.status), badge(i.severity), i.cluster,
      i.workloads.length ? i.workloads.join(', ') : (i.namespaces.join(', ') || '–'),
      when(i.openedAt), i.owner || '–',
    ]));
  root.append(
    h('h2', {}, 'Incidents'),
    filters(ctx, 'incidents', [field('State', select('state', STATES, state))]),
    table.el,
  );
  await table.reload();
  // Any incident record (opened, updated, acknowledged…) may change a row or add one.
  const again = debounce(() => table.reload().catch(() => {}));
  ctx.live((e) => { if (e.action.startsWith('incident.')) again(); });
}

async function detail(root, ctx, id) {
  const { h, badge, when, link } = ctx;
  const body = h('div', { class: 'incident' });
  const status = statusLine();
  let data = await ctx.api(`incidents/${encodeURIComponent(id)}`);

  const act = async (verb, payload, form) => {
    try {
      const r = await ctx.api(`incidents/${encodeURIComponent(id)}/${verb}`, payload);
      status.ok(r.text);
      form?.reset();
      await redraw();
    } catch (err) {
      if (err.message !== 'signed out') status.fail(err);
    }
  };
  const actions = h('section', { class: 'actions', 'aria-labelledby': 'inc-actions' },
    h('h3', { id: 'inc-actions' }, 'Actions'),
    h('div', { class: 'action-row' },
      h('button', { type: 'button', class: 'primary', id: 'inc-ack', onclick: () => act('ack', {}) }, 'Acknowledge'),
      form('Assign to', 'user', 'a user name, or me', 'Assign', (v, f) => act('assign', { user: v }, f)),
      form('Resolve — reason (optional)', 'reason', 'why it is resolved', 'Resolve', (v, f) => act('resolve', v ? { reason: v } : {}, f), { optional: true, danger: true }),
    ),
    form('Add a note', 'text', 'what you saw or did', 'Add note', (v, f) => act('note', { text: v }, f), { area: true }),
    status.el,
  );

  async function redraw() {
    data = await ctx.api(`incidents/${encodeURIComponent(id)}`);
    draw();
  }

  function draw() {
    const i = data.incident;
    document.title = `${i.title} · kubemend`;
    const closed = i.status === 'resolved' || i.status === 'postmortem';
    actions.querySelector('#inc-ack').hidden = closed || Boolean(i.acknowledgedBy);
    const t0 = data.postmortem.times.impactStart;
    body.replaceChildren(
      h('dl', { class: 'facts' },
        fact('State', badge(i.status), i.acknowledgedBy ? ` acknowledged by ${i.acknowledgedBy}` : '', i.resolvedBy ? ` · resolved by ${i.resolvedBy}${i.resolveReason ? ` (${i.resolveReason})` : ''}` : ''),
        fact('Severity', badge(i.severity)),
        fact('Cluster', i.cluster),
        fact('Workloads', i.workloads.join(', ') || '–'),
        fact('Started', when(i.openedAt)),
        fact('Owner', i.owner || 'nobody'),
        fact('Detections', String(i.detections)),
      ),
      section('Timeline', `Every time on one axis; T+ counts from the start of the impact (${new Date(t0).toISOString()}).`,
        h('ol', { class: 'timeline' }, data.timeline.map((e) => entry(e, t0)))),
      section('Guardrail findings', data.guardrails.length ? '' : 'No guardrail finding.',
        data.guardrails.map((g) => h('article', { class: 'finding' },
          h('h4', {}, g.title, ' ', badge(g.severity)),
          h('p', {}, h('strong', {}, 'Affects: '), g.subjects.join(', '), g.fixedDuring?.length ? ` (fixed during the incident: ${g.fixedDuring.join(', ')})` : ''),
          h('p', {}, g.detail), h('p', {}, h('strong', {}, 'Fix: '), g.fix.text), h('pre', {}, g.fix.yaml))),
        data.guardrailsSkipped.length ? h('p', { class: 'muted' }, 'Not checked: ', data.guardrailsSkipped.map((s) => `${s.id} (${s.reason})`).join('; ')) : null),
      section('Notes', i.notes.length ? '' : 'No notes yet.', h('ul', { class: 'notes' }, i.notes.map((n) => h('li', {}, h('strong', {}, n.by), ' ', when(n.time), ': ', n.text)))),
      section('Post-mortem draft', 'Drafted from the store as `kubemend incidents postmortem` does; check it and add what people saw.', postmortem(ctx, data.postmortem)),
    );
  }

  function entry(e, t0) {
    const ref = e.ref && (e.source === 'detection' ? h('a', { href: link(`detections/${e.ref}`) }, 'detection')
      : e.source === 'run' || e.source === 'step' ? h('a', { href: link(`runs/${e.ref}`) }, 'run') : null);
    const c = e.change;
    return h('li', { class: `tl-${e.source}` },
      h('span', { class: 'tl-time' }, when(e.time), h('small', { class: 'muted' }, ` ${rel(e.time - t0)}`)),
      h('span', { class: `tl-source src-${e.source}` }, e.source),
      h('span', { class: 'tl-text' }, e.text, ref ? [' · ', ref] : null,
        c ? h('details', {}, h('summary', {}, `diff (${c.diff.length} path${c.diff.length === 1 ? '' : 's'})${c.author ? ` — ${c.author.manager}${c.author.user ? ` as ${c.author.user}` : ''}` : ''}${c.outsidePipeline ? ' — outside the pipeline' : ''}`), diffTable(c.diff)) : null));
  }

  function section(title, note, ...content) {
    return h('section', {}, h('h3', {}, title), note ? h('p', { class: 'muted' }, note) : null, content);
  }

  function fact(k, ...v) {
    return h('div', {}, h('dt', {}, k), h('dd', {}, v));
  }

  function form(label, name, placeholder, button, submit, o = {}) {
    const input = o.area ? h('textarea', { name, rows: 2, placeholder, maxlength: 2000, required: !o.optional }) : h('input', { name, placeholder, required: !o.optional, maxlength: 500 });
    const f = h('form', { class: 'inline' }, field(label, input), h('button', { type: 'submit', class: o.danger ? 'danger' : '' }, button));
    f.addEventListener('submit', (e) => {
      e.preventDefault();
      submit(input.value.trim(), f);
    });
    return f;
  }

  root.append(
    h('p', {}, h('a', { href: link('incidents') }, '← Incidents')),
    h('h2', {}, data.incident.title, ' ', h('small', { class: 'muted' }, data.incident.id)),
    actions, body,
  );
  draw();
  // Whatever is recorded about this incident, its detections or its runs changes what the page shows.
  const again = debounce(() => redraw().catch(() => {}), 400);
  ctx.live((e) => {
    if (e.incidentId === id || (e.detectionId && data.detections.some((d) => d.id === e.detectionId)) || (e.runId && data.runs.some((r) => r.id === e.runId))) again();
  });
}
