// Small pieces the list and detail views share: labelled form controls,
// filters kept in the URL (so a filtered list is a link), a "more" pager
// over the API's cursors, a status line for actions, and a debounce for
// live refreshes (a burst of audit records is one re-read).
import { h } from './dom.js';

let ids = 0;

/** A label and its control, tied by id (screen readers announce the label). */
export function field(label, control) {
  control.id ||= `f${++ids}`;
  return h('div', { class: 'field' }, h('label', { for: control.id }, label), control);
}

/** <select name> of [value, text] pairs with `value` selected. */
export function select(name, options, value) {
  return h('select', { name }, options.map(([v, text]) => h('option', { value: v, selected: v === (value ?? '') }, text)));
}

/** A filter form whose fields live in the hash's query: submitting navigates, so the filtered view has a URL. */
export function filters(ctx, path, controls) {
  const form = h('form', { class: 'filters', role: 'search', 'aria-label': 'Filters' }, controls, h('button', { type: 'submit' }, 'Filter'));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const q = {};
    for (const [k, v] of new FormData(form)) if (String(v).trim()) q[k] = String(v).trim();
    ctx.go(path, q);
  });
  // A select filters as soon as it changes; text waits for Enter or the button.
  for (const s of form.querySelectorAll('select')) s.addEventListener('change', () => form.requestSubmit());
  return form;
}

/**
 * A paged table body: `load(cursor)` returns { items, next }; rows(items) the
 * cells. Returns { el, reload } — reload re-reads the first page (live updates).
 */
export function pagedTable(caption, columns, load, rows) {
  const wrap = h('div', { class: 'paged' });
  let shown = [];
  let next;
  const more = h('button', { type: 'button', class: 'more', hidden: true }, 'Show more');
  const draw = () => {
    const { table } = tableOf(caption, columns, rows(shown));
    wrap.replaceChildren(table, more);
    more.hidden = !next;
  };
  more.addEventListener('click', async () => {
    const page = await load(next);
    shown = shown.concat(page.items);
    next = page.next;
    draw();
    more.focus();
  });
  return {
    el: wrap,
    async reload() {
      // Keep as many rows as the reader had opened, so a live refresh does not fold the list up.
      const want = Math.max(shown.length, 1);
      let page = await load(undefined);
      let items = page.items;
      while (items.length < want && page.next) {
        page = await load(page.next);
        items = items.concat(page.items);
      }
      shown = items;
      next = page.next;
      draw();
      return shown;
    },
  };
}

function tableOf(caption, columns, rows) {
  return {
    table: h('table', {},
      h('caption', { class: 'visually-hidden' }, caption),
      h('thead', {}, h('tr', {}, columns.map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', {}, rows.length ? rows.map((r) => h('tr', {}, r.map((cell) => h('td', {}, cell)))) : h('tr', {}, h('td', { colspan: columns.length, class: 'empty' }, 'Nothing here.')))),
  };
}

/** A polite status line (and alerts for errors) for the result of an action. */
export function statusLine() {
  const el = h('p', { class: 'status', role: 'status' });
  return {
    el,
    ok(text) { el.className = 'status ok'; el.setAttribute('role', 'status'); el.textContent = text; },
    fail(err) { el.className = 'status error'; el.setAttribute('role', 'alert'); el.textContent = err.message || String(err); },
  };
}

export function debounce(fn, ms = 250) {
  let t;
  return (...a) => {
    clearTimeout(t);
    t = setTimeout(() => fn(...a), ms);
  };
}

/** kind/namespace/name as kubectl writes it. */
export function objectText(o) {
  if (!o) return '–';
  return `${String(o.kind || '').toLowerCase()}/${o.namespace ? `${o.namespace}/` : ''}${o.name}`;
}

/** A value from a diff, as one line. */
export function valueText(v) {
  if (v === undefined) return '–';
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/** A diff as a small table of path, before, after. */
export function diffTable(diff) {
  return h('table', { class: 'diff' },
    h('caption', { class: 'visually-hidden' }, 'What changed'),
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Path'), h('th', { scope: 'col' }, 'Before'), h('th', { scope: 'col' }, 'After'))),
    h('tbody', {}, (diff || []).map((d) => h('tr', {}, h('td', {}, h('code', {}, d.path)), h('td', {}, valueText(d.old)), h('td', {}, valueText(d.new))))));
}

/** T+1m05s, as the post-mortem writes it. */
export function rel(ms) {
  const s = Math.round(Math.abs(ms) / 1000);
  const text = s < 60 ? `${s}s` : s < 3600 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  return `T${ms < 0 ? '-' : '+'}${text}`;
}
