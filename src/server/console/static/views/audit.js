// Audit: the log, newest first, filtered and paged by seq; the chain's
// verification (cached by the server; "Verify now" asks again) and its signed
// head; one record whole at #/audit/<id>; export as JSON Lines.
const FILTERS = [
  ['action', 'Action (e.g. chat.*)'], ['actor', 'Actor (name or user:name)'], ['target', 'Target contains'],
  ['runId', 'Run id'], ['incidentId', 'Incident id'], ['detectionId', 'Detection id'],
];
const targetText = (t) => (t ? [t.cluster, t.namespace, t.kind && `${t.kind.toLowerCase()}/${t.name || ''}`].filter(Boolean).join(' ') : '');
const local = (ms) => (ms ? new Date(ms - new Date(ms).getTimezoneOffset() * 60_000).toISOString().slice(0, 16) : '');

async function status(ctx, box, fresh) {
  const { h } = ctx;
  const s = await ctx.api(`audit/status${fresh ? '?verify=1' : ''}`);
  const v = s.verification;
  const verdict = v.result.ok
    ? h('span', { class: 'badge succeeded' }, `chain verified: ${v.result.records} records`)
    : h('span', { class: 'badge failed' }, `chain broken at seq ${v.result.firstBad.seq}: ${v.result.firstBad.reason}`);
  const button = h('button', { type: 'button', onclick: async () => { button.disabled = true; await status(ctx, box, true); } }, 'Verify now');
  box.replaceChildren(
    h('p', {}, verdict, ' checked ', ctx.when(v.checkedAt), ` in ${ctx.duration(v.tookMs)}; kept ${Math.round(v.ttlMs / 1000)} s before it is checked again. `, button),
    s.head ? h('p', {}, 'Signed head: seq ', String(s.head.seq), ' · hash ', h('code', {}, s.head.hash.slice(0, 16), '…'), ' · key ', h('code', {}, s.head.keyId), ' · signed ', ctx.when(s.head.time)) : h('p', {}, 'No signed head yet.'));
}

async function list(root, ctx) {
  const { h, query } = ctx;
  const q = Object.fromEntries([...FILTERS.map(([k]) => k), 'since', 'until'].map((k) => [k, query.get(k) || '']));
  const params = new URLSearchParams(Object.entries({ ...q, before: query.get('before') || '' }).filter(([, v]) => v));
  const data = await ctx.api(`audit?${params}`);
  const form = h('form', { class: 'filters', onsubmit: (e) => {
    e.preventDefault();
    const f = form.elements;
    const t = (v) => (v ? String(new Date(v).getTime()) : '');
    ctx.go('audit', { ...Object.fromEntries(FILTERS.map(([k]) => [k, f[k].value.trim()])), since: t(f.since.value), until: t(f.until.value) });
  } },
  FILTERS.map(([k, label]) => h('span', { class: 'field' }, h('label', { for: `f-${k}` }, label), h('input', { id: `f-${k}`, name: k, value: q[k], autocomplete: 'off' }))),
  h('span', { class: 'field' }, h('label', { for: 'f-since' }, 'From'), h('input', { id: 'f-since', name: 'since', type: 'datetime-local', value: local(Number(q.since)) })),
  h('span', { class: 'field' }, h('label', { for: 'f-until' }, 'Until'), h('input', { id: 'f-until', name: 'until', type: 'datetime-local', value: local(Number(q.until)) })),
  h('button', { type: 'submit' }, 'Filter'));
  const box = h('section', { class: 'chain', 'aria-label': 'Chain verification' }, h('p', {}, 'Checking the chain…'));
  const exportQuery = new URLSearchParams(Object.entries(q).filter(([, v]) => v));
  root.append(
    h('h2', {}, 'Audit log'),
    box,
    form,
    h('p', {}, h('a', { href: `api/v1/audit/export?${exportQuery}`, download: 'kubemend-audit.jsonl' }, 'Export these records (JSON Lines)')),
    ctx.table('Audit records, newest first', ['Seq', 'Time', 'Actor', 'Action', 'Target', 'Outcome'], data.items.map((r) => [
      h('a', { href: ctx.link(`audit/${r.id}`) }, String(r.seq)),
      ctx.when(r.time),
      `${r.actor.type} ${r.actor.name}`,
      r.action,
      [targetText(r.target), r.runId ? [' ', h('a', { href: ctx.link(`runs/${r.runId}`) }, `run ${r.runId.slice(0, 8)}`)] : ''],
      r.outcome ? ctx.badge(r.outcome === 'success' ? 'succeeded' : r.outcome === 'denied' ? 'denied' : r.outcome === 'failure' ? 'failed' : r.outcome) : '',
    ])),
    data.hidden ? h('p', { class: 'muted' }, `${data.hidden} records on this page the policy does not let you see.`) : '',
    data.next ? h('p', {}, h('a', { href: ctx.link('audit', { ...q, before: data.next }) }, 'Older records')) : '');
  await status(ctx, box, false);
  // New records appear at the top of the first page only.
  if (!query.get('before')) ctx.live(() => ctx.refresh());
}

async function detail(root, ctx, id) {
  const { h } = ctx;
  const { record: r } = await ctx.api(`audit/${encodeURIComponent(id)}`);
  const row = (k, v) => (v === undefined || v === '' ? '' : [h('dt', {}, k), h('dd', {}, v)]);
  root.append(
    h('p', {}, h('a', { href: ctx.link('audit') }, '← Audit log')),
    h('h2', {}, `Audit record ${r.seq}: ${r.action}`),
    h('dl', { class: 'facts pairs' },
      row('Id', r.id), row('Time', ctx.when(r.time)), row('Actor', `${r.actor.type} ${r.actor.name}`), row('Outcome', r.outcome),
      row('Target', targetText(r.target)), row('Justification', r.justification), row('Link', r.link),
      row('Run', r.runId && h('a', { href: ctx.link(`runs/${r.runId}`) }, r.runId)),
      row('Incident', r.incidentId && h('a', { href: ctx.link(`incidents/${r.incidentId}`) }, r.incidentId)),
      row('Detection', r.detectionId), row('Previous hash', h('code', {}, r.prevHash)), row('Hash', h('code', {}, r.hash))),
    h('h3', {}, 'Record'), h('pre', { class: 'record' }, JSON.stringify(r, null, 2)));
}

export default {
  id: 'audit',
  title: 'Audit',
  nav: true,
  match: /^audit(?:\/([^/?]+))?$/,
  render(root, ctx) {
    return ctx.params[0] ? detail(root, ctx, ctx.params[0]) : list(root, ctx);
  },
};
