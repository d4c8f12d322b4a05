// kubemend web console. No framework and no build step: ES modules served as
// they are. Everything the server sends is written as text nodes (lib/dom.js),
// never parsed as HTML, so markup in a reply or an object name shows as text.
//
// Routing is by the URL's hash (#/incidents/inc-1, #/runs/r1?step=rollback),
// so every incident, run and audit record has a link chat messages and
// notifications can carry, and the server serves one page.
//
// A view's render(root, ctx) gets ctx = {
//   params: the match's groups, query: URLSearchParams of the hash's query,
//   api(path, body?): JSON from api/v1/ (POST when body is given; throws with the server's message),
//   h, when, duration, table, badge: DOM helpers (lib/dom.js),
//   link(path, query?): '#/path?query', go(path, query?): navigate,
//   live(fn): fn(event) for every audit record the server announces while the view is shown,
//   user: { name, groups }, refresh(): render the view again,
// }
import { call, api, setCsrf } from './lib/api.js';
import { h, when, duration, table, badge } from './lib/dom.js';
import { VIEWS } from './views/index.js';

const $ = (id) => document.getElementById(id);
const defaultRoute = () => (views.find((v) => v.id === 'incidents') ? 'incidents' : 'chat');
let user;
let replies; // the chat replies stream
let stream; // the views' live stream
let listeners = new Set();
let cleanup;

// ---- sign-in ----------------------------------------------------------------

async function start() {
  // Both at once: the first paint waits for one round trip, not two.
  const [me, overview] = await Promise.all([call('api/me'), call('api/v1/overview')]);
  if (me.status === 401) return showLogin();
  signedIn(me.data, overview);
}

function showLogin() {
  user = undefined;
  replies?.close();
  stream?.close();
  for (const id of ['chat', 'view', 'who', 'logout', 'live', 'nav']) $(id).hidden = true;
  stream = undefined;
  $('login').hidden = false;
  $('token').focus();
}

let views = VIEWS;

async function signedIn(data, known) {
  user = data.user;
  setCsrf(data.csrf);
  // A server without the service's parts (watch --listen) offers chat alone.
  const overview = known ?? await call('api/v1/overview');
  views = overview.status === 200 && overview.data.views ? VIEWS : VIEWS.filter((v) => v.id === 'chat');
  $('login').hidden = true;
  for (const id of ['who', 'logout', 'live']) $(id).hidden = false;
  $('nav').hidden = views.length < 2;
  $('who').textContent = user.name;
  $('nav').replaceChildren(...views.filter((v) => v.nav).map((v) => h('a', { href: `#/${v.id}`, 'data-view': v.id }, v.title)));
  follow(views.length > 1);
  route();
}

$('login').addEventListener('submit', async (e) => {
  e.preventDefault();
  const res = await call('login', { token: $('token').value });
  $('token').value = '';
  if (res.status !== 200) {
    $('login-error').textContent = res.data.error || 'sign-in failed';
    return;
  }
  $('login-error').textContent = '';
  signedIn(res.data);
});

$('logout').addEventListener('click', async () => {
  await call('logout', {});
  $('log').replaceChildren();
  showLogin();
});

window.addEventListener('kubemend:signed-out', () => showLogin());

// ---- live streams -----------------------------------------------------------

// EventSource reconnects by itself and the server replays what was missed (Last-Event-ID).
function follow(withViews) {
  replies?.close();
  replies = new EventSource('api/events');
  replies.onopen = () => { $('live').dataset.state = 'on'; };
  replies.onerror = () => { $('live').dataset.state = 'off'; };
  replies.addEventListener('reply', (e) => renderReply(JSON.parse(e.data), true));
  stream?.close();
  if (!withViews) return;
  stream = new EventSource('api/v1/stream');
  stream.addEventListener('audit', (e) => {
    const ev = JSON.parse(e.data);
    for (const fn of listeners) fn(ev);
  });
}

// ---- routing ----------------------------------------------------------------

function parseHash() {
  const raw = decodeURIComponent(location.hash.replace(/^#\/?/, ''));
  const q = raw.indexOf('?');
  return { path: q < 0 ? raw : raw.slice(0, q), query: new URLSearchParams(q < 0 ? '' : raw.slice(q + 1)) };
}

export function link(path, query) {
  const qs = query ? new URLSearchParams(Object.entries(query).filter(([, v]) => v !== undefined && v !== '')).toString() : '';
  return `#/${path}${qs ? `?${qs}` : ''}`;
}

let generation = 0;

/**
 * Shows the view the hash names. A navigation clears the page at once (a
 * half-loaded new view never shows an old view's rows); a live refresh of
 * the same view renders off screen and swaps when ready, keeping the scroll
 * position, so a busy cluster's stream of records never blanks the page.
 */
async function route(opts = {}) {
  if (!user) return;
  const { path, query } = parseHash();
  if (!path) {
    location.replace(link(defaultRoute()));
    return;
  }
  const view = views.find((v) => v.match.test(path));
  const mine = ++generation;
  cleanup?.();
  cleanup = undefined;
  listeners = new Set();
  for (const a of $('nav').querySelectorAll('a')) {
    if (a.dataset.view === view?.id) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  const chat = view?.keepsOwnSection === 'chat';
  $('chat').hidden = !chat;
  $('view').hidden = chat;
  if (chat) {
    $('input').focus();
    return;
  }
  const root = $('view');
  if (!opts.refresh) {
    root.replaceChildren();
    root.scrollTop = 0;
  }
  if (!view) {
    root.append(h('p', { class: 'error' }, `No view at #/${path}.`));
    return;
  }
  document.title = `${view.title} · kubemend`;
  const stage = h('div', { class: 'stage' });
  const ctx = {
    params: view.match.exec(path).slice(1), query, api, h, when, duration, table, badge, link,
    go: (p, q) => { location.hash = link(p, q); },
    live: (fn) => { listeners.add(fn); },
    user,
    refresh: throttled(() => { if (mine === generation) route({ refresh: true }); }),
  };
  if (!opts.refresh) root.append(stage);
  try {
    const done = (await view.render(stage, ctx)) || undefined;
    if (mine !== generation) return done?.();
    cleanup = done;
  } catch (err) {
    if (mine !== generation) return;
    if (err.message !== 'signed out') stage.append(h('p', { class: 'error', role: 'alert' }, `Could not show ${view.title.toLowerCase()}: ${err.message}`));
  }
  if (opts.refresh) {
    const top = root.scrollTop;
    root.replaceChildren(stage);
    root.scrollTop = top;
  }
}

/** At most one call a second: a burst of live records refreshes a view once, then once more at the end. */
function throttled(fn) {
  let last = 0;
  let timer;
  return () => {
    const wait = last + 1000 - Date.now();
    if (wait <= 0) {
      last = Date.now();
      fn();
    } else if (!timer) {
      timer = setTimeout(() => { timer = undefined; last = Date.now(); fn(); }, wait);
    }
  };
}

// Only #/… is a route: an in-page anchor (#view, #step-x) must not re-render the view.
window.addEventListener('hashchange', () => { if (location.hash === '' || location.hash.startsWith('#/')) route(); });

// The skip link moves the focus to the view without touching the route.
document.querySelector('a.skip').addEventListener('click', (e) => {
  e.preventDefault();
  $('view').focus();
});

// ---- chat -------------------------------------------------------------------

function line(cls) {
  const li = document.createElement('li');
  li.className = cls;
  $('log').append(li);
  return li;
}

function renderReply(reply, live) {
  const li = line(live ? 'bot async' : 'bot');
  for (const m of reply.mention || []) li.append(h('span', { class: 'mention' }, '@' + m));
  li.append(h('pre', {}, reply.text));
  if (reply.buttons && reply.buttons.length) {
    const row = h('div', { class: 'buttons' });
    for (const b of reply.buttons) {
      row.append(h('button', {
        type: 'button', class: b.style,
        onclick: () => {
          // One answer per question: a second press would only confuse the conversation.
          for (const other of row.querySelectorAll('button')) other.disabled = true;
          send(b.value);
        },
      }, b.label));
    }
    li.append(row);
  }
  if (!$('chat').hidden) li.scrollIntoView({ block: 'end' });
}

async function send(text) {
  line('you').textContent = '> ' + text;
  const res = await call('api/messages', { text });
  if (res.status === 401) return showLogin();
  if (res.status !== 200) return renderReply({ text: 'error: ' + (res.data.error || 'HTTP ' + res.status) }, false);
  for (const r of res.data.replies) renderReply(r, false);
}

$('compose').addEventListener('submit', (e) => {
  e.preventDefault();
  const text = $('input').value.trim();
  $('input').value = '';
  if (text) send(text);
});

start();
