// The Incidents, Detections, Silences and Changes views' API over HTTP, on
// the real chat engine, incident tracker, policy and SQLite store: lists show
// only what the reader may read and page through all of it; a refusal is a
// 403 and an audit record; lifecycle actions go through chat (its audit
// records, the person as actor); POSTs from a cookie session need its CSRF token.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { detection, incident, viewsFixture, type ViewsFixture } from './console-fixture.ts';

let t: ViewsFixture;
let now: number;

before(async () => {
  t = await viewsFixture({ publicUrl: 'https://kubemend.example.com' });
  now = t.f.sandbox.clock.now();
  // Five shop incidents and three in payments, one a minute; two share an opening time (the cursor's tie-break).
  for (let i = 0; i < 5; i++) await t.f.store.putIncident(incident(`inc-shop-${i}`, 'shop', now - 60_000 * (i === 4 ? 3 : i)));
  for (let i = 0; i < 3; i++) await t.f.store.putIncident(incident(`inc-pay-${i}`, 'payments', now - 60_000 * i - 30_000));
  await t.f.store.putIncident(incident('inc-shop-old', 'shop', now - 3_600_000, { status: 'resolved', resolvedAt: now - 3_000_000 }));
  for (let i = 0; i < 4; i++) await t.f.store.putDetection(detection(`shop${i}`, 'shop', now - i * 1000, i === 3 ? { severity: 'critical' } : {}));
  for (let i = 0; i < 3; i++) await t.f.store.putDetection(detection(`pay${i}`, 'payments', now - i * 1000 - 500));
}, { timeout: 120_000 });

after(async () => t?.close());

async function refusals(detail: string) {
  const recs = await t.f.store.audit.list({ action: 'chat.request.refused', limit: 1000 });
  return recs.filter((r) => (r.data as { reason?: string; detail?: string }).reason === 'forbidden' && String((r.data as { detail?: string }).detail).includes(detail));
}

test('incidents: a list shows only what the reader may read, pages through all of it once, and filters by state', { timeout: 60_000 }, async () => {
  const all = await t.get('incidents', 'alice');
  assert.equal(all.status, 200);
  assert.equal(all.body.items.length, 8, 'alice (sre) reads every active incident');
  const row = all.body.items.find((i: { id: string }) => i.id === 'inc-shop-0');
  assert.deepEqual([row.status, row.severity, row.cluster, row.namespaces, row.workloads, row.openedAt], ['open', 'warning', 'sandbox', ['shop'], ['Deployment/shop/web'], now]);

  const seen: string[] = [];
  let cursor: string | undefined;
  for (let pages = 0; pages < 10; pages++) {
    const p = await t.get(`incidents?limit=2${cursor ? `&cursor=${cursor}` : ''}`, 'carol');
    assert.equal(p.status, 200);
    assert.ok(p.body.items.length <= 2);
    seen.push(...p.body.items.map((i: { id: string }) => i.id));
    cursor = p.body.next;
    if (!cursor) break;
  }
  assert.deepEqual(seen, ['inc-shop-0', 'inc-shop-1', 'inc-shop-2', 'inc-shop-3', 'inc-shop-4'], 'carol (shop) sees shop only, newest first, each once');

  assert.deepEqual((await t.get('incidents?state=resolved', 'carol')).body.items.map((i: { id: string }) => i.id), ['inc-shop-old']);
  assert.equal((await t.get('incidents?state=all', 'carol')).body.items.length, 6);
  const bad = await t.get('incidents?state=nope', 'carol');
  assert.deepEqual([bad.status, bad.body.code], [400, 'KM-CONSOLE-011']);
  assert.equal((await t.get('incidents?cursor=garbage', 'carol')).status, 400);
  assert.equal((await fetch(`${t.base}/console/api/v1/incidents`)).status, 401);
});

test('incident detail: the timeline (detection, change with author and diff), guardrails and post-mortem; 403 and audited outside the reader\'s namespaces', { timeout: 60_000 }, async () => {
  const d = await t.get('incidents/inc-shop-0', 'carol');
  assert.equal(d.status, 200);
  assert.equal(d.body.incident.id, 'inc-shop-0');
  const change = d.body.timeline.find((e: { source: string }) => e.source === 'change');
  assert.match(change.text, /deployment\/shop\/web image web:1 → web:2/);
  assert.deepEqual(change.change.diff, [{ path: 'spec.template.spec.containers[web].image', old: 'web:1', new: 'web:2' }]);
  assert.equal(change.change.author.user, 'mallory');
  assert.ok(d.body.timeline.some((e: { source: string; ref?: string }) => e.source === 'detection' && e.ref === 'd-inc-shop-0'));
  assert.deepEqual(d.body.timeline.map((e: { time: number }) => e.time), [...d.body.timeline.map((e: { time: number }) => e.time)].sort((a, b) => a - b), 'one time axis');
  assert.equal(d.body.guardrails[0].id, 'single-replica');
  assert.match(d.body.postmortem.summary, /A warning incident on cluster sandbox/);
  assert.equal(d.body.postmortem.outsidePipeline.length, 1);

  const before = (await refusals('carol')).length;
  const no = await t.get('incidents/inc-pay-0', 'carol');
  assert.equal(no.status, 403);
  assert.equal((await refusals('carol')).length, before + 1, 'the refusal is audited');
  assert.equal((await t.get('incidents/inc-none', 'carol')).status, 404);
});

test('incident lifecycle goes through chat: ack, assign, note, resolve as the signed-in user; refusals 403; cookie POSTs need the CSRF token', { timeout: 60_000 }, async () => {
  const ack = await t.post('incidents/inc-shop-1/ack', 'carol', {});
  assert.equal(ack.status, 200, JSON.stringify(ack.body));
  assert.equal(ack.body.incident.acknowledgedBy, 'carol');
  assert.match(ack.body.text, /^inc-shop-1 acknowledged by carol\.\nconsole: https:\/\/kubemend\.example\.com\/console\/#\/incidents\/inc-shop-1$/, 'chat replies about an incident carry its console link');
  const shown = await t.f.say('sam', 'incident show inc-shop-2');
  assert.match(shown[0].text, /\nconsole: https:\/\/kubemend\.example\.com\/console\/#\/incidents\/inc-shop-2$/);
  const again = await t.post('incidents/inc-shop-1/ack', 'carol', {});
  assert.deepEqual([again.status, again.body.code], [409, 'KM-INCIDENT-003']);
  assert.equal((await t.post('incidents/inc-shop-1/assign', 'carol', { user: 'me' })).body.incident.owner, 'carol');

  const s = await t.session('carol');
  const cookieOnly = { 'content-type': 'application/json', cookie: s.cookie };
  assert.equal((await t.post('incidents/inc-shop-1/note', 'carol', { text: 'x' }, cookieOnly)).status, 403, 'no CSRF token');
  const note = await t.post('incidents/inc-shop-1/note', 'carol', { text: 'rolled back by hand, "web:1" is "fine"' }, { ...cookieOnly, 'x-kubemend-csrf': s.csrf });
  assert.equal(note.status, 200, JSON.stringify(note.body));
  const stored = await t.f.store.getIncident('inc-shop-1');
  assert.deepEqual(stored!.notes!.map((n) => [n.by, n.text]), [['carol', 'rolled back by hand, "web:1" is "fine"']]);
  const resolved = await t.post('incidents/inc-shop-1/resolve', 'carol', { reason: "it's back on web:1" });
  assert.equal(resolved.status, 200);
  assert.equal((await t.f.store.getIncident('inc-shop-1'))!.resolveReason, "it's back on web:1");

  const audit = await t.f.store.audit.list({ incidentId: 'inc-shop-1', limit: 100 });
  assert.deepEqual(audit.filter((a) => a.actor.type === 'user').map((a) => [a.action, a.actor.name]), [
    ['incident.acknowledged', 'carol'], ['incident.assigned', 'carol'], ['incident.noted', 'carol'], ['incident.resolved', 'carol'],
  ]);

  const before = (await refusals('carol')).length;
  assert.equal((await t.post('incidents/inc-pay-1/ack', 'carol', {})).status, 403);
  assert.equal((await refusals('carol')).length, before + 1);
  assert.equal((await t.f.store.getIncident('inc-pay-1'))!.acknowledgedBy, undefined);
  assert.equal((await t.post('incidents/inc-shop-2/note', 'carol', {})).status, 400);
  assert.equal((await t.post('incidents/inc-shop-2/assign', 'carol', { user: 'no body' })).status, 400);
});

test('detections: filters, visibility, evidence', { timeout: 60_000 }, async () => {
  const carol = await t.get('detections', 'carol');
  assert.deepEqual(carol.body.items.map((d: { id: string }) => d.id), ['shop0', 'shop1', 'shop2', 'shop3']);
  assert.equal((await t.get('detections', 'alice')).body.items.length, 7);
  assert.deepEqual((await t.get('detections?namespace=payments', 'alice')).body.items.map((d: { id: string }) => d.id), ['pay0', 'pay1', 'pay2']);
  assert.deepEqual((await t.get('detections?namespace=payments', 'carol')).body.items, []);
  assert.deepEqual((await t.get('detections?severity=critical', 'carol')).body.items.map((d: { id: string }) => d.id), ['shop3']);
  const p1 = await t.get('detections?limit=3', 'carol');
  const p2 = await t.get(`detections?limit=3&cursor=${p1.body.next}`, 'carol');
  assert.deepEqual([...p1.body.items, ...p2.body.items].map((d: { id: string }) => d.id), ['shop0', 'shop1', 'shop2', 'shop3']);
  assert.equal((await t.get('detections?status=bogus', 'carol')).status, 400);
  const one = await t.get('detections/shop0', 'carol');
  assert.equal(one.body.detection.evidence[0].event.reason, 'BackOff');
  assert.equal((await t.get('detections/pay0', 'carol')).status, 403);
});

test('silences: create needs the policy\'s silence action where the matchers point (audited), expire, list by visibility', { timeout: 60_000 }, async () => {
  const m = ['rule=crashloop', 'cluster=sandbox', 'namespace=shop'];
  const before = (await refusals('carol')).length;
  const no = await t.post('silences', 'carol', { matchers: m, duration: '1h', comment: 'deploy' });
  assert.equal(no.status, 403, 'carol may not silence');
  assert.equal((await refusals('carol')).length, before + 1);

  const bad = await t.post('silences', 'alice', { matchers: ['rule=~('], duration: '1h', comment: 'x' });
  assert.deepEqual([bad.status, bad.body.code], [400, 'KM-SILENCE-001']);
  assert.equal((await t.post('silences', 'alice', { matchers: 'rule=x', duration: '1h', comment: 'x' })).status, 400);

  const s = await t.session('alice');
  assert.equal((await t.post('silences', 'alice', { matchers: m, duration: '1h', comment: 'x' }, { 'content-type': 'application/json', cookie: s.cookie })).status, 403, 'no CSRF token');
  const ok = await t.post('silences', 'alice', { matchers: m, duration: '1h', comment: 'deploy in progress' }, { 'content-type': 'application/json', cookie: s.cookie, 'x-kubemend-csrf': s.csrf });
  assert.equal(ok.status, 200, JSON.stringify(ok.body));
  const id = ok.body.silence.id;
  const [created] = await t.f.store.audit.list({ action: 'silence.created', limit: 10, order: 'desc' });
  assert.deepEqual([created.actor.name, (created.data as { silenceId: string }).silenceId], ['alice', id]);
  const wide = await t.post('silences', 'alice', { matchers: ['rule=crashloop'], duration: '1h', comment: 'everywhere' });
  assert.equal(wide.status, 200);

  assert.deepEqual((await t.get('silences?state=active', 'carol')).body.items.map((x: { id: string }) => x.id), [id], 'carol reads the shop silence, not the one over every namespace');
  assert.equal((await t.get('silences', 'alice')).body.items.length, 2);

  assert.equal((await t.post(`silences/${id}/expire`, 'carol', {})).status, 403);
  assert.equal((await t.post(`silences/${id}/expire`, 'alice', {})).status, 200);
  assert.equal((await t.post(`silences/${id}/expire`, 'alice', {})).status, 409);
  const [expired] = await t.f.store.audit.list({ action: 'silence.expired', limit: 10, order: 'desc' });
  assert.equal(expired.actor.name, 'alice');
  assert.equal((await t.get('silences?state=expired', 'alice')).body.items[0].id, id);
});

test('changes: newest first, only where the reader may read incidents', { timeout: 60_000 }, async () => {
  const inc = (ns: string, seq: number) => ({ ...(incident('x', ns, now + seq).data as { changes: never[] }).changes[0] as object, seq, time: now + seq * 1000 });
  t.changes.push(inc('shop', 1) as never, inc('payments', 2) as never, inc('shop', 3) as never);
  const carol = await t.get('changes', 'carol');
  assert.deepEqual(carol.body.items.map((c: { seq: number }) => c.seq), [3, 1]);
  assert.equal(carol.body.items[0].author.manager, 'kubectl-edit');
  assert.equal(carol.body.items[0].diff[0].new, 'web:2');
  const alice = await t.get('changes?limit=2', 'alice');
  assert.deepEqual(alice.body.items.map((c: { seq: number }) => c.seq), [3, 2]);
  assert.deepEqual((await t.get(`changes?limit=2&cursor=${alice.body.next}`, 'alice')).body.items.map((c: { seq: number }) => c.seq), [1]);
});

test('the page modules never write HTML', { timeout: 30_000 }, async () => {
  for (const f of ['views/incidents.js', 'views/postmortem.js', 'views/detections.js', 'views/silences.js', 'views/changes.js', 'lib/forms.js']) {
    const res = await fetch(`${t.base}/console/${f}`);
    assert.equal(res.status, 200, f);
    assert.doesNotMatch(await res.text(), /innerHTML|outerHTML|insertAdjacentHTML|document\.write|DOMParser|createContextualFragment|eval\(|new Function/, f);
  }
});
