// Runs: the list (filter by status and runbook, paged) and one run — its
// runbook's step graph drawn as SVG with the path taken highlighted, a list of
// the steps with their outcomes (the graph's text alternative), each step's
// duration, output and (dry runs) the API calls it would make, and Abort.
import { renderGraph } from '../lib/graph.js';

const targetText = (t) => `${(t.kind || '').toLowerCase()} ${t.namespace ? `${t.namespace}/` : ''}${t.name || ''}`.trim() || t.cluster || '–';

async function list(root, ctx) {
  const { h, query } = ctx;
  const status = query.get('status') || '';
  const runbook = query.get('runbook') || '';
  const data = await ctx.api(`runs?${new URLSearchParams(Object.entries({ status, runbook, cursor: query.get('cursor') || '' }).filter(([, v]) => v))}`);
  const select = (id, label, value, options) => [
    h('label', { for: id }, label),
    h('select', { id, name: id }, h('option', { value: '' }, 'any'), options.map((o) => h('option', { value: o, selected: o === value }, o))),
  ];
  const form = h('form', { class: 'filters', onsubmit: (e) => {
    e.preventDefault();
    ctx.go('runs', { status: form.elements.status.value, runbook: form.elements.runbook.value });
  } }, select('status', 'Status', status, data.statuses), select('runbook', 'Runbook', runbook, data.runbooks), h('button', { type: 'submit' }, 'Filter'));
  root.append(
    h('h2', {}, 'Runs'),
    form,
    ctx.table('Runbook runs, newest first', ['Run', 'Runbook', 'Target', 'Status', 'Started', 'Duration'], data.items.map((r) => [
      h('a', { href: ctx.link(`runs/${r.id}`) }, r.id.slice(0, 8)),
      r.runbook,
      targetText(r.target),
      [ctx.badge(r.status), r.dryRun ? ' dry run' : ''],
      ctx.when(r.createdAt),
      ctx.duration(r.durationMs),
    ])),
    data.hidden ? h('p', { class: 'muted' }, `${data.hidden} more on this page the policy does not let you see.`) : '',
    data.next ? h('p', {}, h('a', { href: ctx.link('runs', { status, runbook, cursor: data.next }) }, 'Older runs')) : '',
  );
  ctx.live((ev) => { if (ev.runId || ev.action.startsWith('runbook.')) ctx.refresh(); });
}

function stepDetails(ctx, s) {
  const { h } = ctx;
  return h('section', { class: 'step', id: `step-${s.id}` },
    h('h4', {}, s.id, ' ', ctx.badge(s.status), s.attempts > 1 ? ` (${s.attempts} attempts)` : ''),
    h('p', {}, 'Started ', ctx.when(s.startedAt), ' · took ', ctx.duration(s.durationMs)),
    s.error ? h('p', { class: 'error' }, s.error) : '',
    s.calls && s.calls.length ? [h('h5', {}, 'API calls'), h('ul', { class: 'calls' }, s.calls.map((c) => h('li', {}, h('code', {}, c))))] : '',
    s.params !== undefined ? h('details', {}, h('summary', {}, 'Parameters'), h('pre', {}, JSON.stringify(s.params, null, 2))) : '',
    s.output !== undefined ? h('details', {}, h('summary', {}, 'Output'), h('pre', {}, JSON.stringify(s.output, null, 2))) : '');
}

async function detail(root, ctx, id) {
  const { h } = ctx;
  const data = await ctx.api(`runs/${encodeURIComponent(id)}`);
  const r = data.run;
  const byStep = new Map(data.path.steps.map((s) => [s.id, s]));
  root.append(
    h('p', {}, h('a', { href: ctx.link('runs') }, '← Runs')),
    h('h2', {}, `Run ${r.id.slice(0, 8)}: ${r.runbook}`),
    h('dl', { class: 'facts pairs' },
      h('dt', {}, 'Target'), h('dd', {}, `${targetText(r.target)} (cluster ${r.cluster})`),
      h('dt', {}, 'Status'), h('dd', {}, ctx.badge(r.status), r.dryRun ? ' dry run: nothing was changed' : '', r.currentStep ? ` at ${r.currentStep}` : ''),
      h('dt', {}, 'Started'), h('dd', {}, ctx.when(r.createdAt), ` by ${r.startedBy.type} ${r.startedBy.name}`),
      h('dt', {}, 'Duration'), h('dd', {}, ctx.duration(r.durationMs)),
      r.incidentId ? [h('dt', {}, 'Incident'), h('dd', {}, h('a', { href: ctx.link(`incidents/${r.incidentId}`) }, r.incidentId))] : '',
      h('dt', {}, 'Audit'), h('dd', {}, h('a', { href: ctx.link('audit', { runId: r.id }) }, 'this run\'s audit records'))),
  );
  if (data.mayAbort) {
    const out = h('p', { role: 'status', class: 'result' });
    const form = h('form', { class: 'abort', onsubmit: async (e) => {
      e.preventDefault();
      form.querySelector('button').disabled = true;
      try {
        const res = await ctx.api(`runs/${encodeURIComponent(r.id)}/abort`, { reason: form.elements.reason.value });
        out.textContent = res.replies.join('\n');
      } catch (err) {
        out.textContent = err.message;
        form.querySelector('button').disabled = false;
      }
    } }, h('label', { for: 'abort-reason' }, 'Reason to abort'), h('input', { id: 'abort-reason', name: 'reason', autocomplete: 'off' }), h('button', { type: 'submit', class: 'danger' }, 'Abort run'));
    root.append(form, out);
  }
  root.append(h('h3', {}, 'Steps'));
  if (data.graph.note) root.append(h('p', { class: 'note' }, data.graph.note));
  if (data.graph.layout) root.append(renderGraph(h, data.graph.layout, data.path, `Step graph of runbook ${r.runbook}; the path run ${r.id.slice(0, 8)} took is highlighted. The list below says the same in words.`));
  // The text alternative: every step of the graph (or, without one, every step taken) with its outcome.
  const steps = data.graph.steps || data.path.steps.map((s) => ({ id: s.id }));
  root.append(h('ol', { class: 'steps', 'aria-label': 'Steps and their outcomes' }, steps.map((s) => {
    const t = byStep.get(s.id);
    const edges = s.success ? ` — on success → ${s.success}, on failure → ${s.failure}${s.timeout !== s.failure ? `, on timeout → ${s.timeout}` : ''}` : '';
    return h('li', { class: t ? 'taken' : 'not-taken' },
      t ? h('a', { href: `#step-${s.id}`, onclick: (e) => { e.preventDefault(); document.getElementById(`step-${s.id}`)?.scrollIntoView(); } }, s.id) : s.id,
      s.action ? ` (${s.action})` : '', ': ', t ? [ctx.badge(t.status), ` in ${ctx.duration(t.durationMs)}`] : 'not reached', edges);
  })));
  root.append(h('h3', {}, 'What each step did'), h('div', {}, data.path.steps.length ? data.path.steps.map((s) => stepDetails(ctx, s)) : h('p', {}, 'No step has started yet.')));
  ctx.live((ev) => { if (ev.runId === r.id) ctx.refresh(); });
}

export default {
  id: 'runs',
  title: 'Runs',
  nav: true,
  match: /^runs(?:\/([^/?]+))?$/,
  render(root, ctx) {
    return ctx.params[0] ? detail(root, ctx, ctx.params[0]) : list(root, ctx);
  },
};
