// The change feed: what people and tools changed in the cluster, newest
// first, with the writer (field manager and, with the API server's audit
// webhook, the user) and the diff; changes by a writer outside the expected
// pipeline are flagged.
import { field, select, filters, pagedTable, debounce, diffTable, objectText } from '../lib/forms.js';

const KINDS = ['', 'Deployment', 'StatefulSet', 'DaemonSet', 'ConfigMap', 'HorizontalPodAutoscaler', 'Node', 'LimitRange', 'ResourceQuota', 'PodDisruptionBudget'];

export default {
  id: 'changes',
  title: 'Changes',
  nav: true,
  match: /^changes$/,
  async render(root, ctx) {
    const { h, when } = ctx;
    const q = { cluster: ctx.query.get('cluster') || '', namespace: ctx.query.get('namespace') || '', kind: ctx.query.get('kind') || '' };
    let off = '';
    const table = pagedTable('Changes', ['When', 'Object', 'Change', 'By', 'Diff'],
      async (cursor) => {
        const r = await ctx.api(`changes?${new URLSearchParams(Object.entries({ ...q, limit: '50', cursor }).filter(([, v]) => v))}`);
        off = r.off || '';
        return r;
      },
      (items) => items.map((c) => [
        when(c.time), objectText(c.object), [c.summary, c.outsidePipeline ? [' ', h('span', { class: 'badge warning' }, 'outside the pipeline')] : null],
        c.by || (c.author ? `${c.author.manager}${c.author.user ? ` (${c.author.user})` : ''}` : 'unknown'),
        c.diff.length ? h('details', {}, h('summary', {}, `${c.diff.length} path${c.diff.length === 1 ? '' : 's'}`), diffTable(c.diff)) : '–',
      ]));
    const note = h('p', { class: 'muted' });
    root.append(
      h('h2', {}, 'Changes'),
      filters(ctx, 'changes', [
        field('Cluster', h('input', { name: 'cluster', value: q.cluster, placeholder: 'any', size: 12 })),
        field('Namespace', h('input', { name: 'namespace', value: q.namespace, placeholder: 'any', size: 12 })),
        field('Kind', select('kind', KINDS.map((k) => [k, k || 'Any kind']), q.kind)),
      ]),
      note, table.el,
    );
    await table.reload();
    note.textContent = off;
    // Changes are not audit records; the detections they cause are, and arrive just after.
    const again = debounce(() => table.reload().catch(() => {}), 500);
    ctx.live((e) => { if (e.action.startsWith('detection.') || e.action.startsWith('incident.')) again(); });
  },
};
