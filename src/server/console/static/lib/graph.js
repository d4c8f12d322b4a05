// A runbook's step graph as SVG, from the layout the server computed
// (src/server/console/graph-layout.ts): boxes for steps, `end` and
// `escalate`, curves for edges labelled with their outcomes, and the path a
// run took marked by class (and by a thicker line, so colour is not the only
// signal). Built with h('svg:…'), never from markup.

/** layout: { width, height, nodes, edges }; path: { steps: [{ id, status }], edges: ['from>to'] }. */
export function renderGraph(h, layout, path, description) {
  const status = new Map(path.steps.map((s) => [s.id, s.status]));
  const taken = new Set(path.edges);
  const reached = new Set([...status.keys(), ...path.edges.map((e) => e.split('>')[1])]);
  const edges = layout.edges.map((e) => {
    const [p0] = e.points;
    let d = `M${p0[0]},${p0[1]}`;
    for (let i = 1; i + 2 < e.points.length; i += 3) d += ` C${e.points[i].join(',')} ${e.points[i + 1].join(',')} ${e.points[i + 2].join(',')}`;
    const on = taken.has(`${e.from}>${e.to}`);
    return h('svg:g', { class: `edge ${on ? 'taken' : ''} ${e.outcomes[0]}`, 'data-edge': `${e.from}>${e.to}` },
      h('svg:path', { d, 'marker-end': on ? 'url(#arrow-taken)' : 'url(#arrow)' }),
      h('svg:text', { x: e.label[0] + 4, y: e.label[1], class: 'edge-label' }, e.outcomes.join(' / ')));
  });
  const nodes = layout.nodes.map((n) => {
    const st = status.get(n.id);
    return h('svg:g', { class: `node ${n.kind} ${reached.has(n.id) ? 'reached' : ''} ${st ? `st-${st}` : ''}`, 'data-step': n.id },
      h('svg:rect', { x: n.x, y: n.y, width: n.w, height: n.h, rx: n.kind === 'step' ? 6 : n.h / 2 }),
      h('svg:text', { x: n.x + n.w / 2, y: n.y + (n.action ? 18 : 27), 'text-anchor': 'middle', class: 'node-id' }, n.id),
      n.action ? h('svg:text', { x: n.x + n.w / 2, y: n.y + 34, 'text-anchor': 'middle', class: 'node-action' }, st ? `${n.action} · ${st}` : n.action) : null);
  });
  const marker = (id) => h('svg:marker', { id, viewBox: '0 0 10 10', refX: 9, refY: 5, markerUnits: 'userSpaceOnUse', markerWidth: 10, markerHeight: 10, orient: 'auto-start-reverse' }, h('svg:path', { d: 'M0,0 L10,5 L0,10 z' }));
  return h('figure', { class: 'graph' },
    h('svg:svg', { viewBox: `0 0 ${layout.width} ${layout.height}`, width: layout.width, height: layout.height, role: 'img', 'aria-labelledby': 'graph-title graph-desc' },
      h('svg:title', { id: 'graph-title' }, 'Step graph'),
      h('svg:desc', { id: 'graph-desc' }, description),
      h('svg:defs', {}, marker('arrow'), marker('arrow-taken')),
      edges, nodes),
    h('figcaption', {}, 'Highlighted: the path the run took. Solid boxes: steps it reached.'));
}
