// The console's API against a hostile or merely curious client, over HTTP on
// the real chat engine, policy and SQLite store: what it must refuse cleanly
// (4xx with a stable code, never a 500 that quotes the server's internals),
// what it must never show (a credential in a change's diff, a record about a
// namespace the reader may not see on the live stream).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ChangeFeed } from '../../../src/incidents/index.ts';
import type { KubeObject } from '../../../src/kube/index.ts';
import { viewsFixture as sandboxViews } from './views-fixture.ts';
import { viewsFixture, incident } from '../console-fixture.ts';

test('a repeated query parameter, a cursor or a status the server did not make: 400 KM-CONSOLE-011 on every list, never a 500', { timeout: 120_000 }, async () => {
  const v = await sandboxViews();
  try {
    const paths = [
      'runs?status=running&status=failed', 'runs?runbook=a&runbook=b', 'runs?cursor=garbage', 'runs?status=bogus',
      'detections?cluster=a&cluster=b', 'detections?rule=a&rule=b', 'incidents?limit=5&limit=6',
      'audit?action=a&action=b', 'audit?actor=a&actor=b', 'audit?runId=a&runId=b', 'audit/export?target=a&target=b',
      'changes?kind=a&kind=b', 'silences?state=all&state=all',
    ];
    for (const p of paths) {
      const r = await v.get('sam', p);
      assert.deepEqual([r.status, r.body?.code], [400, 'KM-CONSOLE-011'], `${p}: ${r.text.slice(0, 200)}`);
    }
    assert.equal((await v.get('sam', 'runs?status=running,failed')).status, 200, 'a comma-separated status list is the documented form');
  } finally {
    await v.close();
  }
});

test('a credential in a workload\'s args never reaches the change feed or an incident\'s timeline (masked where it enters)', { timeout: 60_000 }, async () => {
  const t = await viewsFixture();
  try {
    const now = t.f.sandbox.clock.now();
    const deploy = (args: string[]): KubeObject => ({
      apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'shop', managedFields: [] },
      spec: { replicas: 1, template: { spec: { containers: [{ name: 'web', image: 'web:1', args }] } } },
    } as KubeObject);
    const feed = new ChangeFeed();
    const entry = feed.observe({
      source: 'object', cluster: 'sandbox', time: now, operation: 'update',
      oldObject: deploy(['--db-password=Hunter2Hunter2x']), object: deploy(['--api-token=ghp_abcdefghijklmnopqrstuvwxyz0123456789']),
    });
    assert.ok(entry, 'an args change is a change');
    t.changes.push(entry);
    const res = await t.get('changes', 'alice');
    assert.equal(res.status, 200);
    const text = JSON.stringify(res.body);
    assert.match(text, /containers\[name=web\]\.args/, 'the change is listed');
    assert.doesNotMatch(text, /Hunter2Hunter2x|ghp_abcdefghijklmnopqrstuvwxyz0123456789/, text);
    assert.match(text, /\[redacted\]/);

    // An incident keeps the feed's entries: its timeline shows the same masked text.
    const inc = incident('inc-args', 'shop', now + 10_000);
    (inc.data as { changes: unknown[] }).changes = [entry];
    await t.f.store.putIncident(inc);
    const detail = await t.get('incidents/inc-args', 'alice');
    assert.equal(detail.status, 200);
    assert.doesNotMatch(JSON.stringify(detail.body), /Hunter2Hunter2x|ghp_abcdefghijklmnopqrstuvwxyz0123456789/);
  } finally {
    await t.close();
  }
});

test('the live stream tells a reader only of records where they may read incidents, and never a record\'s data', { timeout: 60_000 }, async () => {
  const t = await viewsFixture();
  try {
    const now = t.f.sandbox.clock.now();
    await t.f.store.putIncident(incident('inc-pay-live', 'payments', now));
    await t.f.store.putIncident(incident('inc-shop-live', 'shop', now));
    const stream = await listen(t.base, 'carol-views-token-0123456789');
    await new Promise((r) => setTimeout(r, 300));
    assert.equal((await t.post('incidents/inc-pay-live/note', 'alice', { text: 'payments <script>alert(1)</script> secret plan' })).status, 200);
    assert.equal((await t.post('incidents/inc-shop-live/ack', 'alice', {})).status, 200);
    const deadline = Date.now() + 10_000;
    while (!stream.got().includes('inc-shop-live') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const got = await stream.stop();
    assert.match(got, /"incidentId":"inc-shop-live"/, 'carol hears of the shop incident');
    assert.doesNotMatch(got, /inc-pay-live|payments|secret plan/, 'nor of the payments one, nor any record\'s data');
  } finally {
    await t.close();
  }
});

test('an auditor barred from a namespace does not read the audit records of silences pinned to it', { timeout: 120_000 }, async () => {
  const v = await sandboxViews();
  try {
    const prod = await v.post('sam', 'silences', { matchers: ['rule=crashloop', 'cluster=sandbox', 'namespace=prod'], duration: '1h', comment: 'prod migration tonight' });
    const shop = await v.post('sam', 'silences', { matchers: ['rule=crashloop', 'namespace=shop'], duration: '1h', comment: 'shop deploy' });
    assert.deepEqual([prod.status, shop.status], [200, 200]);
    assert.equal((await v.post('sam', `silences/${prod.body.silence.id}/expire`, {})).status, 200);
    const ivy = await v.get('ivy', 'audit?action=silence.*');
    assert.equal(ivy.status, 200);
    assert.deepEqual(ivy.body.items.map((r: { action: string; target?: { namespace?: string } }) => [r.action, r.target?.namespace]), [['silence.created', 'shop']]);
    assert.equal(ivy.body.hidden, 2);
    assert.doesNotMatch((await v.get('ivy', 'audit/export?action=silence.*')).text, /prod migration/);
    const [rec] = await v.f.store.audit.list({ action: 'silence.created', limit: 1 });
    assert.deepEqual(rec.target, { cluster: 'sandbox', namespace: 'prod' });
    assert.equal((await v.get('ivy', `audit/${rec.id}`)).status, 403);
    assert.equal((await v.get('sam', 'audit?action=silence.*')).body.items.length, 3, 'sam reads all three');
  } finally {
    await v.close();
  }
});

test('a change from another origin is refused even with the session\'s CSRF token; static files do not escape their folder', { timeout: 60_000 }, async () => {
  const t = await viewsFixture();
  try {
    const now = t.f.sandbox.clock.now();
    await t.f.store.putIncident(incident('inc-csrf', 'shop', now));
    const s = await t.session('alice');
    const page = { 'content-type': 'application/json', cookie: s.cookie, 'x-kubemend-csrf': s.csrf };
    assert.equal((await t.post('incidents/inc-csrf/ack', 'alice', {}, { ...page, origin: 'https://evil.example' })).status, 403);
    assert.equal((await t.post('incidents/inc-csrf/ack', 'alice', {}, { ...page, 'sec-fetch-site': 'cross-site' })).status, 403);
    assert.equal((await t.post('incidents/inc-csrf/ack', 'alice', {}, { ...page, 'content-type': 'text/plain' })).status, 415);
    assert.equal((await t.f.store.getIncident('inc-csrf'))!.acknowledgedBy, undefined, 'nothing was done');
    assert.equal((await t.post('incidents/inc-csrf/ack', 'alice', {}, { ...page, origin: t.base })).status, 200, 'the page itself may');
    for (const p of ['../package.json', '..%2f..%2fpackage.json', '%2e%2e/%2e%2e/plugin.ts', 'views%2f..%2f..%2fplugin.ts']) {
      assert.equal((await fetch(`${t.base}/console/${p}`)).status, 404, p);
    }
  } finally {
    await t.close();
  }
});

test('a silence over every namespace is refused to whom a deny rule bars from one of them (a deny on kube-system does not match the literal *)', { timeout: 60_000 }, async () => {
  const t = await viewsFixture({ policy: `p, group:sre, sandbox, *, ops, *\np, *, *, kube-system, *, *, deny\n` });
  try {
    const wide = await t.post('silences', 'alice', { matchers: ['rule=crashloop'], duration: '1h', comment: 'everywhere, kube-system included' });
    assert.equal(wide.status, 403, JSON.stringify(wide.body));
    assert.match(wide.body.error, /kube-system/);
    const [refused] = await t.f.store.audit.list({ action: 'chat.request.refused', limit: 1, order: 'desc' });
    assert.match(String((refused.data as { detail?: string }).detail), /kube-system/, 'the refusal is audited');
    assert.equal((await t.post('silences', 'alice', { matchers: ['rule=crashloop', 'namespace=shop'], duration: '1h', comment: 'shop only' })).status, 200, 'pinned to a namespace the policy allows');
    assert.equal((await t.post('silences', 'alice', { matchers: ['rule=crashloop', 'namespace=kube-system'], duration: '1h', comment: 'x' })).status, 403);
  } finally {
    await t.close();
  }
});

test('the live stream sends records in the log\'s order, whatever each policy check costs (a reconnect resumes after the last id)', { timeout: 60_000 }, async () => {
  const t = await viewsFixture();
  try {
    const stream = await listen(t.base, 'alice-views-token-0123456789');
    await new Promise((r) => setTimeout(r, 300));
    // A record about a new namespace needs a fresh policy check; one about nothing needs none: interleaved, they race.
    const inputs = Array.from({ length: 30 }, (_, i) => (i % 2
      ? { actor: { type: 'system' as const, name: 'test' }, action: 'test.untargeted' }
      : { actor: { type: 'system' as const, name: 'test' }, action: 'test.targeted', target: { cluster: 'sandbox', namespace: `ns-${i}`, kind: 'Deployment', name: 'web' } }));
    await t.f.store.audit.append(inputs);
    const deadline = Date.now() + 10_000;
    while ((stream.got().match(/event: audit/g) ?? []).length < 30 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const got = await stream.stop();
    const ids = [...got.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]));
    assert.equal(ids.length, 30, got.slice(0, 500));
    assert.deepEqual(ids, [...ids].sort((a, b) => a - b), 'in seq order');
  } finally {
    await t.close();
  }
});

/** The live stream as `token` reads it: what arrived so far, and stop() for all of it. */
async function listen(base: string, token: string): Promise<{ got(): string; stop(): Promise<string> }> {
  const ctl = new AbortController();
  const res = await fetch(`${base}/console/api/v1/stream`, { headers: { authorization: `Bearer ${token}` }, signal: ctl.signal });
  assert.equal(res.status, 200);
  let got = '';
  const reading = (async () => {
    const reader = res.body!.getReader();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        got += new TextDecoder().decode(value);
      }
    } catch {
      // aborted by stop()
    }
  })();
  return { got: () => got, stop: async () => { ctl.abort(); await reading; return got; } };
}
