import { test } from 'node:test';
import assert from 'node:assert/strict';
import Fastify from 'fastify';
import { ManualClock } from '../../src/common/clock.ts';
import { WebhookSource } from '../../src/rules/sources/webhook-source.ts';
import type { Signal } from '../../src/rules/types.ts';
import { webhooksPlugin, type WebhooksOptions } from '../../src/server/webhooks.ts';
import { logSafeUrl, sameSecret, signBody, signatureMatches } from '../../src/common/secrets.ts';

const T0 = Date.UTC(2026, 0, 1);

async function setup(opts: Omit<WebhooksOptions, 'source'> = {}, started = true) {
  const clock = new ManualClock(T0);
  const source = new WebhookSource({ clock, defaultCluster: 'default-cluster' });
  const signals: Signal[] = [];
  if (started) source.start((s) => signals.push(s));
  const app = Fastify({ logger: false });
  await app.register(webhooksPlugin, { source, ...opts });
  await app.ready();
  return { app, clock, source, signals };
}

const json = { 'content-type': 'application/json' };

function amPayload(alerts: unknown[], extra: Record<string, unknown> = {}) {
  return {
    version: '4',
    groupKey: '{}:{alertname="KubePodCrashLooping"}',
    truncatedAlerts: 0,
    status: 'firing',
    receiver: 'kubemend',
    groupLabels: { alertname: 'KubePodCrashLooping' },
    commonLabels: { alertname: 'KubePodCrashLooping' },
    commonAnnotations: {},
    externalURL: 'http://alertmanager:9093',
    alerts,
    ...extra,
  };
}

const firing = (labels: Record<string, string>) => ({
  status: 'firing',
  labels: { alertname: 'KubePodCrashLooping', ...labels },
  annotations: { summary: 'crash looping' },
  startsAt: '2026-01-01T00:00:00.123456789Z',
  endsAt: '0001-01-01T00:00:00Z',
  generatorURL: 'http://prometheus:9090/graph?g0.expr=up',
  fingerprint: 'c6eadffa33fcdf37',
});

test('alertmanager: each alert becomes a Signal, cluster from its label or the default', async () => {
  const { app, clock, signals } = await setup();
  await clock.advance(5000);
  const res = await app.inject({
    method: 'POST', url: '/webhooks/alertmanager', headers: json,
    payload: amPayload([firing({ cluster: 'prod-eu', namespace: 'shop' }), firing({ namespace: 'db' })], { orgId: 1 }),
  });
  assert.equal(res.statusCode, 200, res.body);
  assert.deepEqual(res.json(), { accepted: 2 });
  assert.equal(signals.length, 2);
  assert.deepEqual(signals[0], {
    source: 'alert', cluster: 'prod-eu', time: T0 + 5000,
    alert: { ...firing({ cluster: 'prod-eu', namespace: 'shop' }), status: 'firing' },
  });
  assert.equal(signals[1].cluster, 'default-cluster');
  assert.equal(signals[1].alert?.labels.namespace, 'db');
});

test('alertmanager: a bad payload is 400 naming the field, and emits nothing', async () => {
  const { app, signals } = await setup();
  const post = (payload: unknown) => app.inject({ method: 'POST', url: '/webhooks/alertmanager', headers: json, payload: JSON.stringify(payload) });

  let res = await post(amPayload([firing({})], { version: '3' }));
  assert.equal(res.statusCode, 400);
  assert.equal(res.json().field, 'version');
  assert.match(res.json().error, /^invalid Alertmanager payload: version: must be "4"/);

  res = await post(amPayload([{ ...firing({}), status: 'pending' }]));
  assert.equal(res.statusCode, 400);
  assert.equal(res.json().field, 'alerts[0].status');

  res = await post(amPayload([{ ...firing({}), labels: { severity: 3 } }]));
  assert.equal(res.json().field, 'alerts[0].labels.severity');

  res = await post(amPayload([{ ...firing({}), startsAt: 'yesterday' }]));
  assert.equal(res.json().field, 'alerts[0].startsAt');
  assert.match(res.json().error, /RFC 3339/);

  const { groupKey: _drop, ...noGroupKey } = amPayload([]);
  res = await post(noGroupKey);
  assert.equal(res.json().field, 'groupKey');
  assert.match(res.json().error, /groupKey: is required/);

  res = await post([firing({})]);
  assert.equal(res.statusCode, 400);
  assert.equal(res.json().field, '');

  res = await app.inject({ method: 'POST', url: '/webhooks/alertmanager', headers: json, payload: '{"version": "4",' });
  assert.equal(res.statusCode, 400);
  assert.ok(res.json().error);
  assert.equal(signals.length, 0);
});

test('alertmanager: bearer token is required when configured', async () => {
  const { app, signals } = await setup({ alertmanager: { bearerToken: 's3cret-token' } });
  const payload = amPayload([firing({})]);
  let res = await app.inject({ method: 'POST', url: '/webhooks/alertmanager', headers: json, payload });
  assert.equal(res.statusCode, 401);
  assert.equal(res.headers['www-authenticate'], 'Bearer realm="kubemend"');
  assert.match(res.json().error, /missing bearer token/);
  res = await app.inject({ method: 'POST', url: '/webhooks/alertmanager', headers: { ...json, authorization: 'Bearer s3cret-tokeN' }, payload });
  assert.equal(res.statusCode, 401);
  assert.match(res.json().error, /does not match/);
  res = await app.inject({ method: 'POST', url: '/webhooks/alertmanager', headers: { ...json, authorization: 'Basic czNjcmV0LXRva2Vu' }, payload });
  assert.equal(res.statusCode, 401);
  res = await app.inject({ method: 'POST', url: '/webhooks/alertmanager', headers: { ...json, authorization: 'bearer s3cret-token' }, payload });
  assert.equal(res.statusCode, 200);
  assert.equal(signals.length, 1);
});

test('503 with Retry-After until the engine starts the source, so senders retry', async () => {
  const { app, source, signals } = await setup({ webhooks: { ci: {} } }, false);
  let res = await app.inject({ method: 'POST', url: '/webhooks/alertmanager', headers: json, payload: amPayload([firing({})]) });
  assert.equal(res.statusCode, 503);
  assert.equal(res.headers['retry-after'], '5');
  res = await app.inject({ method: 'POST', url: '/webhooks/ci', headers: json, payload: { ok: true } });
  assert.equal(res.statusCode, 503);
  source.start((s) => signals.push(s));
  res = await app.inject({ method: 'POST', url: '/webhooks/ci', headers: json, payload: { ok: true } });
  assert.equal(res.statusCode, 200);
  source.stop();
  res = await app.inject({ method: 'POST', url: '/webhooks/ci', headers: json, payload: { ok: true } });
  assert.equal(res.statusCode, 503);
  assert.equal(signals.length, 1);
});

test('generic webhook: body, cluster and selected headers, never credentials', async () => {
  const { app, signals } = await setup({
    webhooks: { 'argo-cd': { cluster: 'prod', headers: ['X-Argo-Event', 'Authorization'] } },
  });
  const body = { app: 'shop', phase: 'Failed', revision: 'abc123' };
  const res = await app.inject({
    method: 'POST', url: '/webhooks/argo-cd',
    headers: { ...json, 'user-agent': 'argocd-notifications', 'x-argo-event': 'sync-failed', authorization: 'Bearer x', cookie: 'a=b', 'x-other': '1' },
    payload: body,
  });
  assert.equal(res.statusCode, 200, res.body);
  assert.deepEqual(res.json(), { accepted: 1 });
  assert.deepEqual(signals, [{
    source: 'webhook', cluster: 'prod', time: T0,
    webhook: { name: 'argo-cd', body, headers: { 'content-type': 'application/json', 'user-agent': 'argocd-notifications', 'x-argo-event': 'sync-failed' } },
  }]);
});

test('generic webhook: unknown names are 404 unless unlisted ones are allowed, and then they need the token', async () => {
  let { app } = await setup({ webhooks: { trivy: {} } });
  let res = await app.inject({ method: 'POST', url: '/webhooks/falco', headers: json, payload: {} });
  assert.equal(res.statusCode, 404);
  assert.match(res.json().error, /no webhook named "falco"/);
  await assert.rejects(setup({ allowUnlisted: true }), /allowUnlisted needs unlistedBearerToken/);
  ({ app } = await setup({ allowUnlisted: true, unlistedBearerToken: 'watch-token' }));
  res = await app.inject({ method: 'POST', url: '/webhooks/falco', headers: json, payload: { rule: 'Terminal shell' } });
  assert.equal(res.statusCode, 401, 'an unlisted name without the token is refused');
  res = await app.inject({ method: 'POST', url: '/webhooks/falco', headers: { ...json, authorization: 'Bearer wrong' }, payload: { rule: 'Terminal shell' } });
  assert.equal(res.statusCode, 401);
  res = await app.inject({ method: 'POST', url: '/webhooks/falco', headers: { ...json, authorization: 'Bearer watch-token' }, payload: { rule: 'Terminal shell' } });
  assert.equal(res.statusCode, 200);
  res = await app.inject({ method: 'POST', url: '/webhooks/..%2Fetc', headers: json, payload: {} });
  assert.equal(res.statusCode, 404);
});

test('generic webhook: HMAC-SHA256 signatures, GitHub style and a custom header', async () => {
  const secret = 'hook-secret';
  const { app, signals } = await setup({
    webhooks: {
      github: { secret },
      scanner: { secret, signatureHeader: 'X-Scanner-Signature' },
    },
  });
  // The signature covers the exact bytes sent, whitespace included.
  const raw = '{ "action": "completed",  "conclusion": "failure" }';
  const post = (url: string, headers: Record<string, string>, payload = raw) =>
    app.inject({ method: 'POST', url, headers: { ...json, ...headers }, payload });

  let res = await post('/webhooks/github', { 'x-hub-signature-256': signBody(secret, raw), 'x-github-event': 'check_run', 'user-agent': 'GitHub-Hookshot/1a2b3c' });
  assert.equal(res.statusCode, 200, res.body);
  assert.deepEqual(signals[0].webhook, {
    name: 'github', body: { action: 'completed', conclusion: 'failure' },
    headers: { 'content-type': 'application/json', 'user-agent': 'GitHub-Hookshot/1a2b3c', 'x-github-event': 'check_run' },
  });

  res = await post('/webhooks/github', {});
  assert.equal(res.statusCode, 401);
  assert.match(res.json().error, /missing x-hub-signature-256/);
  res = await post('/webhooks/github', { 'x-hub-signature-256': signBody('wrong-secret', raw) });
  assert.equal(res.statusCode, 401);
  assert.match(res.json().error, /does not match/);
  res = await post('/webhooks/github', { 'x-hub-signature-256': signBody(secret, raw) }, raw.replace('failure', 'success'));
  assert.equal(res.statusCode, 401, 'a tampered body fails');
  res = await post('/webhooks/github', { 'x-hub-signature-256': 'sha256=zz' });
  assert.equal(res.statusCode, 401);

  const bare = signBody(secret, raw).slice('sha256='.length);
  res = await post('/webhooks/scanner', { 'x-scanner-signature': bare });
  assert.equal(res.statusCode, 200);
  assert.equal(signals[1].webhook?.headers?.['x-scanner-signature'], undefined);
  res = await post('/webhooks/scanner', { 'x-hub-signature-256': signBody(secret, raw) });
  assert.equal(res.statusCode, 401, 'only the configured header counts');
  assert.equal(signals.length, 2);
});

test('generic webhook: a bearer token is checked before the body is read', async () => {
  const { app, signals } = await setup({ webhooks: { ci: { bearerToken: 'ci-token' } }, bodyLimit: 64 });
  const big = JSON.stringify({ log: 'x'.repeat(1000) });
  let res = await app.inject({ method: 'POST', url: '/webhooks/ci', headers: json, payload: big });
  assert.equal(res.statusCode, 401);
  res = await app.inject({ method: 'POST', url: '/webhooks/ci', headers: { ...json, authorization: 'Bearer ci-token' }, payload: { ok: 1 } });
  assert.equal(res.statusCode, 200);
  assert.equal(signals.length, 1);
});

test('generic webhook: 413 over the body limit, 415 for non-JSON, 400 for broken JSON', async () => {
  const { app, signals } = await setup({ webhooks: { ci: {} }, bodyLimit: 256 });
  let res = await app.inject({ method: 'POST', url: '/webhooks/ci', headers: json, payload: JSON.stringify({ log: 'x'.repeat(300) }) });
  assert.equal(res.statusCode, 413);
  assert.deepEqual(res.json(), { error: 'body larger than 256 bytes' });

  res = await app.inject({ method: 'POST', url: '/webhooks/ci', headers: { 'content-type': 'text/plain' }, payload: 'build failed' });
  assert.equal(res.statusCode, 415);
  assert.match(res.json().error, /unsupported Content-Type "text\/plain"/);
  res = await app.inject({ method: 'POST', url: '/webhooks/ci', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'payload=%7B%7D' });
  assert.equal(res.statusCode, 415);
  res = await app.inject({ method: 'POST', url: '/webhooks/ci' });
  assert.equal(res.statusCode, 415);
  assert.match(res.json().error, /missing Content-Type/);

  res = await app.inject({ method: 'POST', url: '/webhooks/ci', headers: json, payload: '{"ok": tru' });
  assert.equal(res.statusCode, 400);
  res = await app.inject({ method: 'POST', url: '/webhooks/ci', headers: json, payload: '' });
  assert.equal(res.statusCode, 400);
  res = await app.inject({ method: 'POST', url: '/webhooks/ci', headers: json, payload: '{"__proto__": {"admin": true}}' });
  assert.equal(res.statusCode, 400, 'prototype poisoning is refused');

  res = await app.inject({ method: 'POST', url: '/webhooks/ci', headers: { 'content-type': 'application/cloudevents+json; charset=utf-8' }, payload: '{"specversion":"1.0"}' });
  assert.equal(res.statusCode, 200, res.body);
  res = await app.inject({ method: 'POST', url: '/webhooks/ci', headers: { 'content-type': 'application/json; charset=utf-8' }, payload: '[1,2]' });
  assert.equal(res.statusCode, 200);
  assert.deepEqual(signals.map((s) => s.webhook?.body), [{ specversion: '1.0' }, [1, 2]]);
});

test('secret comparisons', () => {
  assert.equal(sameSecret('abc', 'abc'), true);
  assert.equal(sameSecret('abc', 'abcd'), false);
  assert.equal(sameSecret('', 'abc'), false);
  const body = Buffer.from('{"a":1}');
  assert.equal(signatureMatches('k', body, signBody('k', body)), true);
  assert.equal(signatureMatches('k', body, signBody('k', body).toUpperCase().replace('SHA256=', 'sha256=')), true);
  assert.equal(signatureMatches('k', body, 'sha1=' + 'a'.repeat(40)), false);
  assert.equal(signatureMatches('k', body, ''), false);
});

test('log-safe URLs keep the path and query names, never a value', () => {
  assert.equal(logSafeUrl('/webhooks/ci'), '/webhooks/ci');
  assert.equal(logSafeUrl('/a?token=s3cret&page=2'), '/a?token=[redacted]&page=[redacted]');
  assert.equal(logSafeUrl('/a?s3cret'), '/a?[redacted]');
  assert.equal(logSafeUrl('/a?x%3Ds3cret%26=1'), '/a?[redacted]');
  assert.equal(logSafeUrl('/a?=s3cret&&'), '/a?[redacted]');
  assert.equal(logSafeUrl('/a?'), '/a');
});
