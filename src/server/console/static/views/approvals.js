// Approvals: what waits for a second person — production chat requests
// (four-eyes) and runbook approval steps — with the plan, the justification
// and the requester. Approve or deny with a reason: the server hands it to
// chat as `approve ID reason` / `deny ID reason`, so chat's approver groups,
// policy and four-eyes decide, and its refusal is shown here.
const targetText = (t) => `${(t.kind || '').toLowerCase()} ${t.namespace ? `${t.namespace}/` : ''}${t.name || ''}`.trim();

function card(ctx, item) {
  const { h } = ctx;
  const out = h('p', { role: 'status', class: 'result' });
  const reasonId = `reason-${item.id}`;
  const decide = (decision) => async () => {
    const buttons = form.querySelectorAll('button');
    for (const b of buttons) b.disabled = true;
    try {
      const res = await ctx.api(`approvals/${item.id}`, { decision, reason: form.elements.reason.value });
      out.className = 'result ok';
      out.textContent = res.replies.join('\n');
    } catch (err) {
      out.className = 'result error';
      out.textContent = err.message;
      for (const b of buttons) b.disabled = false;
    }
  };
  const form = h('form', { class: 'decide', onsubmit: (e) => e.preventDefault() },
    h('label', { for: reasonId }, 'Reason'),
    h('input', { id: reasonId, name: 'reason', required: true, autocomplete: 'off' }),
    h('button', { type: 'button', class: 'primary', onclick: decide('approve') }, 'Approve'),
    h('button', { type: 'button', class: 'danger', onclick: decide('deny') }, 'Deny'));
  return h('article', { class: 'approval', 'data-id': item.id, 'aria-labelledby': `title-${item.id}` },
    h('h3', { id: `title-${item.id}` }, item.id, ' · ', item.kind === 'chat' ? `${item.action} ${targetText(item.target)}` : `runbook ${item.runbook}, step ${item.stepId}`),
    h('dl', { class: 'facts pairs' },
      h('dt', {}, 'Plan'), h('dd', {}, h('pre', {}, item.plan || item.command || '–')),
      h('dt', {}, 'Justification'), h('dd', {}, item.justification || '–', item.link ? [' — ', item.link] : ''),
      h('dt', {}, 'Requester'), h('dd', {}, item.requester, item.mine ? ' (you: another approver must decide)' : ''),
      item.group ? [h('dt', {}, 'Approvers'), h('dd', {}, item.group)] : '',
      h('dt', {}, 'Target'), h('dd', {}, `${targetText(item.target)} on ${item.cluster || '–'}`),
      h('dt', {}, 'Waiting since'), h('dd', {}, ctx.when(item.createdAt), item.expiresAt ? [' · expires ', ctx.when(item.expiresAt)] : ''),
      item.runId ? [h('dt', {}, 'Run'), h('dd', {}, h('a', { href: ctx.link(`runs/${item.runId}`) }, item.runId.slice(0, 8)))] : ''),
    form, out);
}

export default {
  id: 'approvals',
  title: 'Approvals',
  nav: true,
  match: /^approvals$/,
  async render(root, ctx) {
    const { h } = ctx;
    const data = await ctx.api('approvals');
    root.append(
      h('h2', {}, 'Approvals'),
      h('h3', {}, 'Production requests (four-eyes)'),
      data.requests.length ? h('div', { class: 'cards' }, data.requests.map((r) => card(ctx, r))) : h('p', { class: 'muted' }, 'No production request waits for approval.'),
      h('h3', {}, 'Runbook approval steps'),
      data.steps.length ? h('div', { class: 'cards' }, data.steps.map((s) => card(ctx, s))) : h('p', { class: 'muted' }, 'No runbook step waits for approval here.'),
      data.elsewhere.length ? h('div', {}, h('h3', {}, 'Waiting on another replica'), h('p', {}, 'These runs wait at an approval step driven by another kubemend replica; decide them in chat.'),
        ctx.table('Runs waiting elsewhere', ['Run', 'Runbook', 'Step', 'Target'], data.elsewhere.map((e) => [h('a', { href: ctx.link(`runs/${e.runId}`) }, e.runId.slice(0, 8)), e.runbook, e.stepId || '–', targetText(e.target)]))) : '',
      data.hidden ? h('p', { class: 'muted' }, `${data.hidden} more the policy does not let you see.`) : '');
    // A decision elsewhere (chat, another page) changes the list: read it again, unless a reason is being typed.
    ctx.live((ev) => {
      if (!/approv|runbook\.(run|step)\.|chat\.[a-z]+\.(expired|cancelled|executed|failed)/.test(ev.action)) return;
      if (root.contains(document.activeElement) && document.activeElement.tagName === 'INPUT') return;
      ctx.refresh();
    });
  },
};
