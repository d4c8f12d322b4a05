// kubemend web console. No framework and no build step. Everything the
// server sends is written with textContent, never as HTML, so a reply that
// contains markup shows the markup as text.
'use strict';

const $ = (id) => document.getElementById(id);
let events;

async function call(path, body) {
  const res = await fetch(path, {
    method: body === undefined ? 'GET' : 'POST',
    credentials: 'same-origin',
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  let data = {};
  try { data = await res.json(); } catch { /* an empty answer */ }
  return { status: res.status, data };
}

async function start() {
  const me = await call('api/me');
  if (me.status === 401) return showLogin();
  showChat(me.data.user);
}

function showLogin() {
  if (events) events.close();
  $('chat').hidden = true;
  $('who').hidden = true;
  $('logout').hidden = true;
  $('live').hidden = true;
  $('login').hidden = false;
  $('token').focus();
}

function showChat(user) {
  $('login').hidden = true;
  $('chat').hidden = false;
  $('who').hidden = false;
  $('who').textContent = user.name;
  $('logout').hidden = false;
  $('live').hidden = false;
  $('input').focus();
  follow();
}

// Run progress and approvals arrive later; EventSource reconnects by itself
// and the server replays what was missed (Last-Event-ID).
function follow() {
  if (events) events.close();
  events = new EventSource('api/events');
  events.onopen = () => { $('live').dataset.state = 'on'; };
  events.onerror = () => { $('live').dataset.state = 'off'; };
  events.addEventListener('reply', (e) => render(JSON.parse(e.data), true));
}

function line(cls) {
  const li = document.createElement('li');
  li.className = cls;
  $('log').append(li);
  return li;
}

function render(reply, live) {
  const li = line(live ? 'bot async' : 'bot');
  for (const m of reply.mention || []) {
    const span = document.createElement('span');
    span.className = 'mention';
    span.textContent = '@' + m;
    li.append(span);
  }
  const pre = document.createElement('pre');
  pre.textContent = reply.text;
  li.append(pre);
  if (reply.buttons && reply.buttons.length) {
    const row = document.createElement('div');
    row.className = 'buttons';
    for (const b of reply.buttons) {
      const btn = document.createElement('button');
      btn.type = 'button';
      btn.textContent = b.label;
      if (b.style) btn.className = b.style;
      btn.addEventListener('click', () => {
        // One answer per question: a second press would only confuse the conversation.
        for (const other of row.querySelectorAll('button')) other.disabled = true;
        send(b.value);
      });
      row.append(btn);
    }
    li.append(row);
  }
  li.scrollIntoView({ block: 'end' });
}

async function send(text) {
  line('you').textContent = '> ' + text;
  const res = await call('api/messages', { text });
  if (res.status === 401) return showLogin();
  if (res.status !== 200) return render({ text: 'error: ' + (res.data.error || 'HTTP ' + res.status) }, false);
  for (const r of res.data.replies) render(r, false);
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
  showChat(res.data.user);
});

$('compose').addEventListener('submit', (e) => {
  e.preventDefault();
  const text = $('input').value.trim();
  $('input').value = '';
  if (text) send(text);
});

$('logout').addEventListener('click', async () => {
  await call('logout', {});
  $('log').replaceChildren();
  showLogin();
});

start();
