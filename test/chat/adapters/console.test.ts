import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createApp } from '../../../src/server/app.ts';
import { ManualClock } from '../../../src/common/clock.ts';
import type { ChatReply } from '../../../src/chat/types.ts';
import { RefusalRecorder, type RefusalRecord } from '../../../src/common/refusals.ts';
import { HELP, ScriptedEngine, until } from './scripted-engine.ts';

const ALICE = 'alice-console-token-0123456789';
const BOB = 'bob-console-token-9876543210';

async function setup(clock?: ManualClock) {
  const engine = new ScriptedEngine();
  const refused: RefusalRecord[] = [];
  const server = await createApp({
    engine,
    refusals: new RefusalRecorder({ clock: clock ?? new ManualClock(0), sink: (r) => refused.push(r) }),
    console: {
      clock,
      users: [
        { name: 'alice', groups: ['sre'], token: ALICE },
        { name: 'bob', tokenSha256: createHash('sha256').update(BOB).digest('hex') },
      ],
    },
  });
  await server.app.listen({ host: '127.0.0.1', port: 0 });
  const base = `http://127.0.0.1:${(server.app.server.address() as { port: number }).port}`;
  return { engine, base, server, refused, close: () => server.app.close() };
}

const bearer = (t: string) => ({ authorization: `Bearer ${t}` });

function say(base: string, text: string, headers: Record<string, string>) {
  return fetch(`${base}/console/api/messages`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ text }) });
}

/** Reads a Server-Sent Events stream into a list of {id, event, data}. */
async function subscribe(url: string, headers: Record<string, string>) {
  const ac = new AbortController();
  const res = await fetch(url, { headers, signal: ac.signal });
  const events: { id?: string; event?: string; data: ChatReply }[] = [];
  const done = (async () => {
    const decoder = new TextDecoder();
    let buf = '';
    try {
      for await (const chunk of res.body!) {
        buf += decoder.decode(chunk, { stream: true });
        let i;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const f: Record<string, string> = {};
          for (const l of block.split('\n')) if (!l.startsWith(':')) f[l.slice(0, l.indexOf(':'))] = l.slice(l.indexOf(':') + 1).trim();
          if (f.data) events.push({ id: f.id, event: f.event, data: JSON.parse(f.data) });
        }
      }
    } catch { /* aborted */ }
  })();
  return { res, events, close: async () => { ac.abort(); await done; } };
}

test('console: the page is served with a strict CSP; /console redirects to /console/', async () => {
  const t = await setup();
  try {
    const redirect = await fetch(`${t.base}/console`, { redirect: 'manual' });
    assert.equal(redirect.status, 302);
    assert.equal(redirect.headers.get('location'), '/console/');
    const page = await fetch(`${t.base}/console/`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type')!, /text\/html/);
    assert.match(page.headers.get('content-security-policy')!, /script-src 'self';/);
    assert.doesNotMatch(page.headers.get('content-security-policy')!, /unsafe-inline/);
    const html = await page.text();
    assert.doesNotMatch(html, /<script>(?!<)/, 'no inline script');
    assert.match(html, /<script type="module" src="app\.js"><\/script>/);
    for (const f of ['app.js', 'lib/dom.js', 'lib/api.js', 'views/index.js']) {
      const js = await fetch(`${t.base}/console/${f}`);
      assert.equal(js.status, 200, f);
      assert.match(js.headers.get('content-type')!, /javascript/);
      assert.match(js.headers.get('content-security-policy')!, /script-src 'self';/);
      assert.doesNotMatch(await js.text(), /innerHTML|outerHTML|insertAdjacentHTML|document\.write|DOMParser|createContextualFragment/, `${f} never writes HTML`);
    }
    assert.equal((await fetch(`${t.base}/console/../package.json`)).status, 404, 'only the console\'s own files');
    assert.equal((await fetch(`${t.base}/console/%2e%2e/%2e%2e/package.json`)).status, 404);
  } finally {
    await t.close();
  }
});

test('console: login sets an HttpOnly SameSite=Strict session cookie; a wrong token is refused; logout ends the session', async () => {
  const t = await setup();
  try {
    const wrong = await fetch(`${t.base}/console/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: 'nope' }) });
    assert.equal(wrong.status, 401);
    const ok = await fetch(`${t.base}/console/login`, { method: 'POST', headers: { 'content-type': 'application/json', origin: t.base }, body: JSON.stringify({ token: BOB }) });
    assert.equal(ok.status, 200);
    const signedIn = await ok.json() as { user: unknown; csrf: string };
    assert.deepEqual(signedIn.user, { name: 'bob', groups: [] });
    assert.match(signedIn.csrf, /^[\w-]{32}$/);
    const setCookie = ok.headers.get('set-cookie')!;
    assert.match(setCookie, /^kubemend_console=[\w-]{43}; Path=\/console; HttpOnly; SameSite=Strict; Max-Age=43200$/);
    assert.ok(!setCookie.includes(BOB), 'the cookie is a session id, not the token');
    const cookie = setCookie.split(';')[0];
    assert.deepEqual(await (await fetch(`${t.base}/console/api/me`, { headers: { cookie } })).json(), { user: { name: 'bob', groups: [] }, csrf: signedIn.csrf });
    const reply = await say(t.base, 'help', { cookie, 'x-kubemend-csrf': signedIn.csrf });
    assert.deepEqual(await reply.json(), { replies: [{ room: 'console', text: HELP }] });
    await fetch(`${t.base}/console/logout`, { method: 'POST', headers: { cookie, 'content-type': 'application/json', 'x-kubemend-csrf': signedIn.csrf }, body: '{}' });
    assert.equal((await fetch(`${t.base}/console/api/me`, { headers: { cookie } })).status, 401);
    assert.equal((await fetch(`${t.base}/console/api/me`)).status, 401);
  } finally {
    await t.close();
  }
});

test('console: sessions expire on the injected clock', async () => {
  const clock = new ManualClock(Date.UTC(2026, 0, 1));
  const t = await setup(clock);
  try {
    const ok = await fetch(`${t.base}/console/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: ALICE }) });
    const cookie = ok.headers.get('set-cookie')!.split(';')[0];
    assert.equal((await fetch(`${t.base}/console/api/me`, { headers: { cookie } })).status, 200);
    await clock.advance(12 * 3600_000);
    assert.equal((await fetch(`${t.base}/console/api/me`, { headers: { cookie } })).status, 401);
  } finally {
    await t.close();
  }
});

test('console: bearer API — replies to the sender come back in the response; non-JSON posts are refused (no CSRF by form)', async () => {
  const t = await setup();
  try {
    const res = await say(t.base, 'restart deployment/web', bearer(ALICE));
    const { replies } = (await res.json()) as { replies: ChatReply[] };
    assert.equal(replies[0].room, 'console');
    assert.deepEqual(replies[0].buttons!.map((b) => b.value), ['confirm r1', 'cancel r1']);
    assert.deepEqual(t.engine.received[0].user, { platform: 'console', id: 'alice', displayName: 'alice', name: 'alice', groups: ['sre'], mapping: 'mapped' });
    const form = await fetch(`${t.base}/console/api/messages`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...bearer(ALICE) }, body: 'text=help' });
    assert.equal(form.status, 415);
    assert.equal((await say(t.base, 'help', bearer('wrong'))).status, 401);
    assert.equal((await say(t.base, '   ', bearer(ALICE))).status, 400);
  } finally {
    await t.close();
  }
});

test('console: live replies over SSE reach their room or addressee, and are replayed after a reconnect', async () => {
  const t = await setup();
  const alice = await subscribe(`${t.base}/console/api/events`, bearer(ALICE));
  const bob = await subscribe(`${t.base}/console/api/events`, bearer(BOB));
  try {
    assert.match(alice.res.headers.get('content-type')!, /text\/event-stream/);
    await say(t.base, 'restart deployment/web', bearer(ALICE));
    await say(t.base, 'confirm r1', bearer(ALICE));
    await until(() => alice.events.length >= 1, 5000, 'async reply on alice\'s stream');
    assert.equal(alice.events[0].event, 'reply');
    assert.equal(alice.events[0].data.text, 'restarted deployment/web for alice');
    t.engine.emit({ room: 'console', text: 'bob only', ephemeralTo: 'bob' });
    t.engine.emit({ room: 'console:alice', text: 'alice only' });
    await until(() => bob.events.length >= 2, 5000, 'bob\'s replies');
    await until(() => alice.events.length >= 2, 5000, 'alice\'s reply');
    assert.deepEqual(bob.events.map((e) => e.data.text), ['restarted deployment/web for alice', 'bob only'], 'the room\'s results reach everyone in it');
    assert.deepEqual(alice.events.map((e) => e.data.text), ['restarted deployment/web for alice', 'alice only']);

    // A reconnecting EventSource sends Last-Event-ID and gets what it missed, and only what it may see.
    const again = await subscribe(`${t.base}/console/api/events`, { ...bearer(BOB), 'last-event-id': alice.events[0].id! });
    await until(() => again.events.length >= 1, 5000, 'replay');
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(again.events.map((e) => e.data.text), ['bob only']);
    await again.close();
  } finally {
    await alice.close();
    await bob.close();
    await t.close();
  }
});

test('console: replies addressed to another adapter\'s room are handed over, not shown', async () => {
  const engine = new ScriptedEngine();
  const delivered: ChatReply[] = [];
  const fakeAdapter = {
    name: 'other', forward: undefined,
    routes: async () => {}, owns: (room: string) => room.startsWith('other:'),
    deliver: async (r: ChatReply) => { delivered.push(r); }, post: async (r: ChatReply) => { delivered.push(r); },
    idle: async () => {}, start: async () => {}, stop: async () => {},
  };
  const server = await createApp({ engine, console: { users: [{ name: 'alice', token: ALICE }] }, adapters: [fakeAdapter] });
  try {
    const res = await server.app.inject({ method: 'POST', url: '/console/api/messages', headers: { 'content-type': 'application/json', ...bearer(ALICE) }, payload: { text: 'ask other:approvers' } });
    assert.deepEqual(res.json().replies.map((r: ChatReply) => r.text), ['asked other:approvers']);
    assert.deepEqual(delivered, [{ room: 'other:approvers', text: 'approve a request from alice?', mention: ['sre'] }]);
  } finally {
    await server.app.close();
  }
  assert.equal(engine.listenerCount, 0, 'adapters unsubscribe from async replies on close');
});

test('console: a cross-site form post cannot log in or act, and is audited; the same request from the page works', async () => {
  const t = await setup();
  try {
    const post = (path: string, headers: Record<string, string>, body: string) => fetch(`${t.base}/console/${path}`, { method: 'POST', headers, body });
    const form = { 'content-type': 'application/x-www-form-urlencoded' };
    // What a form on https://evil.example, submitted by a signed-out victim's browser, sends.
    const evil = await post('login', { ...form, origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' }, `token=${ALICE}`);
    assert.equal(evil.status, 403);
    assert.equal(evil.headers.get('set-cookie'), null, 'no session for the attacker\'s token');
    assert.equal((await post('login', { ...form, origin: 'https://evil.example' }, `token=${ALICE}`)).status, 403, 'Origin alone is enough');
    assert.equal((await post('login', { 'content-type': 'text/plain', 'sec-fetch-site': 'cross-site' }, JSON.stringify({ token: ALICE }))).status, 403, 'Sec-Fetch-Site alone is enough');
    assert.equal((await post('login', form, `token=${ALICE}`)).status, 415, 'a form body is refused even without Origin');
    assert.equal((await post('login', { 'content-type': 'text/plain' }, JSON.stringify({ token: ALICE }))).status, 415, 'text/plain (a "simple" cross-site request) is refused');
    assert.equal((await post('login', { 'content-type': 'application/json', origin: 'null' }, JSON.stringify({ token: ALICE }))).status, 403);
    assert.equal((await post('login', { 'content-type': 'application/json', origin: 'http://127.0.0.1:1' }, JSON.stringify({ token: ALICE }))).status, 403, 'another port is another origin');

    const login = await post('login', { 'content-type': 'application/json', origin: t.base, 'sec-fetch-site': 'same-origin' }, JSON.stringify({ token: ALICE }));
    assert.equal(login.status, 200);
    const cookie = login.headers.get('set-cookie')!.split(';')[0];
    // With a session, a cross-site post (were the cookie sent) still cannot act or log out.
    assert.equal((await post('api/messages', { ...form, cookie, origin: 'https://evil.example' }, 'text=restart+deployment%2Fweb')).status, 403);
    assert.equal((await post('api/messages', { 'content-type': 'application/json', cookie, 'sec-fetch-site': 'same-site' }, JSON.stringify({ text: 'help' }))).status, 403, 'a sibling subdomain is not the console');
    assert.equal((await post('logout', { ...form, cookie, origin: 'https://evil.example' }, '')).status, 403);
    assert.equal(t.engine.received.length, 0);
    assert.equal((await fetch(`${t.base}/console/api/me`, { headers: { cookie } })).status, 200, 'still signed in');
    // The page's own request still needs its session's CSRF token: a missing or another session's token is refused.
    const page = { 'content-type': 'application/json', cookie, origin: t.base, 'sec-fetch-site': 'same-origin' };
    assert.equal((await post('api/messages', page, JSON.stringify({ text: 'help' }))).status, 403, 'no CSRF token');
    const other = await post('login', { 'content-type': 'application/json' }, JSON.stringify({ token: ALICE }));
    const otherCsrf = ((await other.json()) as { csrf: string }).csrf;
    assert.equal((await post('api/messages', { ...page, 'x-kubemend-csrf': otherCsrf }, JSON.stringify({ text: 'help' }))).status, 403, 'another session\'s token');
    assert.equal(t.engine.received.length, 0);
    const csrf = ((await (await fetch(`${t.base}/console/api/me`, { headers: { cookie } })).json()) as { csrf: string }).csrf;
    const ok = await post('api/messages', { ...page, 'x-kubemend-csrf': csrf }, JSON.stringify({ text: 'help' }));
    assert.equal(ok.status, 200);

    assert.deepEqual(t.refused.map((r) => [r.route, r.reason, r.status]), [
      ['/console/login', 'cross_site', 403], ['/console/login', 'cross_site', 403], ['/console/login', 'cross_site', 403],
      ['/console/login', 'not_json', 415], ['/console/login', 'not_json', 415],
      ['/console/login', 'cross_site', 403], ['/console/login', 'cross_site', 403],
      ['/console/api/messages', 'cross_site', 403], ['/console/api/messages', 'cross_site', 403], ['/console/logout', 'cross_site', 403],
      ['/console/api/messages', 'csrf', 403], ['/console/api/messages', 'csrf', 403],
    ]);
    assert.ok(t.refused.every((r) => r.action === 'chat.request.refused' && r.remoteAddress === '127.0.0.1'));
    assert.ok(!JSON.stringify(t.refused).includes(ALICE), 'the token is never in the audit');
  } finally {
    await t.close();
  }
});

test('console: a configured public origin is accepted behind a proxy; bad logins and unauthenticated calls are audited', async () => {
  const engine = new ScriptedEngine();
  const refused: RefusalRecord[] = [];
  const server = await createApp({
    engine,
    refusals: new RefusalRecorder({ clock: new ManualClock(0), sink: (r) => refused.push(r) }),
    console: { users: [{ name: 'alice', token: ALICE }], origins: ['https://kubemend.example.com/'] },
  });
  try {
    const login = (origin: string, token: string) => server.app.inject({ method: 'POST', url: '/console/login', headers: { 'content-type': 'application/json', origin, host: 'kubemend-internal:8080' }, payload: { token } });
    assert.equal((await login('https://kubemend.example.com', ALICE)).statusCode, 200);
    assert.equal((await login('https://kubemend.example.org', ALICE)).statusCode, 403);
    assert.equal((await login('https://kubemend.example.com', 'guess-1')).statusCode, 401);
    assert.equal((await server.app.inject({ method: 'POST', url: '/console/api/messages', headers: { 'content-type': 'application/json', authorization: 'Bearer guess-2' }, payload: { text: 'help' } })).statusCode, 401);
    assert.deepEqual(refused.map((r) => r.reason), ['cross_site', 'bad_login', 'unauthenticated']);
    assert.ok(!JSON.stringify(refused).match(/guess-/), 'the guessed tokens are not audited');
  } finally {
    await server.app.close();
  }
});
