// Every request the webhook receivers turn away is audited (rate-limited, so
// a flood cannot fill the log) and counted, without the credential or body.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { register } from 'prom-client';
import { ManualClock } from '../../src/common/clock.ts';
import { RefusalRecorder, type RefusalRecord } from '../../src/common/refusals.ts';
import { WebhookSource } from '../../src/rules/sources/webhook-source.ts';
import { createApp } from '../../src/server/app.ts';
import { auditRefusals } from '../../src/server/refusal-audit.ts';
import { openStore } from '../../src/store/index.ts';
import { signBody } from '../../src/common/secrets.ts';

const T0 = Date.UTC(2026, 0, 1);
const TOKEN = 'am-token-right';
const WRONG = 'WRONG-token-never-in-the-audit';
const json = { 'content-type': 'application/json', 'user-agent': 'probe/1.0' };

async function setup(limits: { perMinute?: number; totalPerMinute?: number } = {}) {
  const clock = new ManualClock(T0);
  const store = await openStore({ dataDir: mkdtempSync(join(tmpdir(), 'km-refusals-')), clock });
  const refusals = auditRefusals(store.audit, { clock, ...limits });
  const source = new WebhookSource({ clock, defaultCluster: 'c' });
  source.start(() => {});
  const { app } = await createApp({
    refusals,
    webhooks: { source, alertmanager: { bearerToken: TOKEN, maxAlerts: 3 }, webhooks: { github: { secret: 'hook-secret' } }, bodyLimit: 512 },
  });
  const records = async () => {
    await refusals.idle();
    return store.audit.list({ action: 'webhook.refused' });
  };
  const close = async () => { await app.close(); await store.close(); };
  return { app, clock, store, refusals, records, close };
}

const am = (alerts: unknown[]) => ({ version: '4', groupKey: 'g', status: 'firing', receiver: 'kubemend', alerts });
const alert = { status: 'firing', labels: { alertname: 'A' } };

test('webhook refusals: every kind is audited with route, reason, address and agent, never the credential or body', { timeout: 30_000 }, async () => {
  const t = await setup();
  try {
    const auth = { ...json, authorization: `Bearer ${TOKEN}` };
    const post = (url: string, headers: Record<string, string>, payload: string) => t.app.inject({ method: 'POST', url, headers, payload, remoteAddress: '203.0.113.7' });
    const codes = [
      (await post('/webhooks/alertmanager', json, JSON.stringify(am([alert])))).statusCode,
      (await post('/webhooks/alertmanager', { ...json, authorization: `Bearer ${WRONG}` }, JSON.stringify(am([alert])))).statusCode,
      (await post('/webhooks/nope', json, '{"secret-body":"BODY-never-in-the-audit"}')).statusCode,
      (await post('/webhooks/alertmanager', auth, JSON.stringify({ ...am([alert]), pad: 'x'.repeat(600) }))).statusCode,
      (await post('/webhooks/alertmanager', { ...auth, 'content-type': 'text/plain' }, 'hello')).statusCode,
      (await post('/webhooks/alertmanager', auth, JSON.stringify({ version: '3', note: 'BODY-never-in-the-audit' }))).statusCode,
      (await post('/webhooks/alertmanager', auth, JSON.stringify(am([alert, alert, alert, alert])))).statusCode,
      (await post('/webhooks/github', json, '{"a":1}')).statusCode,
      (await post('/webhooks/github', { ...json, 'x-hub-signature-256': signBody('WRONG-secret', '{"a":1}') }, '{"a":1}')).statusCode,
      (await post('/webhooks/alertmanager', auth, JSON.stringify(am([alert])))).statusCode,
    ];
    assert.deepEqual(codes, [401, 401, 404, 413, 415, 400, 413, 401, 401, 200]);
    const recs = await t.records();
    assert.deepEqual(recs.map((r) => [r.data?.route, r.data?.reason, r.data?.status]), [
      ['alertmanager', 'missing_token', 401],
      ['alertmanager', 'bad_token', 401],
      ['nope', 'unknown_name', 404],
      ['alertmanager', 'too_large', 413],
      ['alertmanager', 'bad_content_type', 415],
      ['alertmanager', 'invalid_payload', 400],
      ['alertmanager', 'too_many_alerts', 413],
      ['github', 'missing_signature', 401],
      ['github', 'bad_signature', 401],
    ]);
    for (const r of recs) {
      assert.equal(r.outcome, 'denied');
      assert.deepEqual(r.actor, { type: 'system', name: 'webhooks' });
      assert.equal(r.data?.remoteAddress, '203.0.113.7');
      assert.equal(r.data?.userAgent, 'probe/1.0');
    }
    const all = JSON.stringify(recs);
    for (const secret of [WRONG, TOKEN, 'BODY-never-in-the-audit', 'WRONG-secret', signBody('WRONG-secret', '{"a":1}')]) assert.ok(!all.includes(secret), `the audit holds ${secret}`);
    assert.ok((await t.store.audit.verify()).ok);
  } finally {
    await t.close();
  }
});

test('webhook refusals: a flood writes at most N records a minute per route and reason; the next record says how many were left out', { timeout: 30_000 }, async () => {
  const t = await setup({ perMinute: 5 });
  try {
    const bad = () => t.app.inject({ method: 'POST', url: '/webhooks/alertmanager', headers: { ...json, authorization: `Bearer ${WRONG}` }, payload: '{}' });
    for (let i = 0; i < 200; i++) assert.equal((await bad()).statusCode, 401);
    // Another reason on the same route has its own bucket.
    await t.app.inject({ method: 'POST', url: '/webhooks/alertmanager', headers: json, payload: '{}' });
    let recs = await t.records();
    assert.equal(recs.filter((r) => r.data?.reason === 'bad_token').length, 5, 'the burst, then nothing');
    assert.equal(recs.filter((r) => r.data?.reason === 'missing_token').length, 1);
    assert.ok(recs.every((r) => r.data?.suppressed === undefined));

    await t.clock.advance(60_000);
    await bad();
    recs = await t.records();
    assert.equal(recs.at(-1)!.data?.suppressed, 195, 'the first record after the flood counts what it left out');
    const m = (await register.getSingleMetric('kubemend_refusal_audits_suppressed_total')!.get()).values.find((v) => v.labels.reason === 'bad_token');
    assert.ok(m && m.value >= 195);
    const codes = (await register.getSingleMetric('kubemend_webhook_requests_total')!.get()).values.find((v) => v.labels.route === 'alertmanager' && v.labels.code === '401');
    assert.ok(codes && codes.value >= 202, 'every refusal is counted, recorded or not');

    for (let i = 0; i < 7; i++) await bad(); // the 4 tokens left, then 3 left out
    await t.app.close(); // closing writes a summary of what is still left out
    recs = await t.records();
    assert.equal(recs.at(-1)!.data?.suppressed, 3);
    assert.match(String(recs.at(-1)!.data?.detail), /3 refusals not recorded one by one/);
  } finally {
    await t.close();
  }
});

test('webhook refusals: made-up names share one bucket and one metric label', { timeout: 30_000 }, async () => {
  const t = await setup({ perMinute: 3 });
  try {
    for (let i = 0; i < 50; i++) {
      assert.equal((await t.app.inject({ method: 'POST', url: `/webhooks/probe-${i}`, headers: json, payload: '{}' })).statusCode, 404);
    }
    const recs = await t.records();
    assert.deepEqual(recs.map((r) => r.data?.route), ['probe-0', 'probe-1', 'probe-2'], 'new names do not mint new buckets');
    const labels = (await register.getSingleMetric('kubemend_webhook_requests_total')!.get()).values.map((v) => v.labels.route);
    assert.ok(!labels.some((l) => String(l).startsWith('probe-')), 'made-up names never become metric labels');
    assert.ok(labels.includes('unknown'));
  } finally {
    await t.close();
  }
});

test('refusal recorder: the total bucket caps all routes together; strings are cut', () => {
  const clock = new ManualClock(T0);
  const out: RefusalRecord[] = [];
  const r = new RefusalRecorder({ clock, sink: (x) => out.push(x), perMinute: 100, totalPerMinute: 4 });
  for (let i = 0; i < 10; i++) r.record({ action: 'webhook.refused', route: `r${i}`, reason: 'bad_token', status: 401, userAgent: 'u'.repeat(5000) });
  assert.equal(out.length, 4);
  assert.ok(out[0].userAgent!.length <= 201);
});
