// Building the page from data without ever parsing markup: every string the
// server sends becomes a text node, so an object name, a log line or a
// reason that contains HTML shows as text (the CSP forbids inline script too).

/** h('a', { href: '#/runs/1', class: 'x', onclick: fn }, 'text', child) */
export function h(tag, props, ...children) {
  const el = tag.startsWith('svg:') ? document.createElementNS('http://www.w3.org/2000/svg', tag.slice(4)) : document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

/** A time as the reader's local date and time, with the ISO instant on hover. */
export function when(ms) {
  if (!ms) return h('span', {}, '–');
  const d = new Date(ms);
  return h('time', { datetime: d.toISOString(), title: d.toISOString() }, d.toLocaleString());
}

/** A duration in ms as 850 ms, 12.3 s, 4m 05s, 2h 10m. */
export function duration(ms) {
  if (ms === undefined || ms === null) return '–';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 3_600_000) return `${Math.floor(ms / 60_000)}m ${String(Math.floor((ms % 60_000) / 1000)).padStart(2, '0')}s`;
  return `${Math.floor(ms / 3_600_000)}h ${String(Math.floor((ms % 3_600_000) / 60_000)).padStart(2, '0')}m`;
}

/** A table with a caption (for screen readers), column headers and one row per item. */
export function table(caption, columns, rows) {
  return h('table', {},
    h('caption', { class: 'visually-hidden' }, caption),
    h('thead', {}, h('tr', {}, columns.map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', {}, rows.length ? rows.map((r) => h('tr', {}, r.map((cell) => h('td', {}, cell)))) : h('tr', {}, h('td', { colspan: columns.length, class: 'empty' }, 'Nothing here.'))));
}

/** A status word as a coloured badge (colour is never the only signal: the word is there). */
export function badge(word) {
  return h('span', { class: `badge ${String(word).replace(/[^a-z-]/gi, '')}` }, word);
}
