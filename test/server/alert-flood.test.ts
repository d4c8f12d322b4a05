// A large Alertmanager payload must not stall the server: alerts are
// validated and handed to the engine in chunks, with the event loop free in
// between, in order; payloads above the configured maximum are refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock, realClock } from '../../src/common/clock.ts';
import { loadRules } from '../../src/rules/loader.ts';
import { WebhookSource } from '../../src/rules/sources/webhook-source.ts';
import type { Signal } from '../../src/rules/types.ts';
import { Pipeline } from '../../src/pipeline/pipeline.ts';
import { createApp } from '../../src/server/app.ts';

const RULE = `apiVersion: kubemend.dev/v1alpha1
kind: Rule
metadata: { name: alert-critical }
spec:
  source: alert
  when: "alert.labels.severity == 'critical' && alert.status == 'firing'"
  subject: "{'kind': 'Alert', 'name': alert.labels.alertname + '-' + alert.labels.pod, 'namespace': alert.labels.namespace}"
  severity: critical
`;

const payload = (n: number, from = 0) => ({
  version: '4', groupKey: '{}:{alertname="PodDown"}', status: 'firing', receiver: 'kubemend',
  alerts: Array.from({ length: n }, (_, i) => ({
    status: 'firing',
    labels: { alertname: 'PodDown', severity: 'critical', namespace: `ns${(from + i) % 50}`, pod: `pod-${from + i}` },
    annotations: { summary: 'pod down' },
    startsAt: '2026-01-01T00:00:00Z',
  })),
});

test('10,000 alerts in one payload: every one reaches the engine in order, and the event loop turns while they are handled', { timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'km-alert-flood-'));
  writeFileSync(join(dir, 'alert.yaml'), RULE);
  const seen: string[] = [];
  // A probe that runs once per turn of the event loop. The turns counted
  // between the first and the last alert reaching the engine say whether the
  // payload was handled in slices (other requests get served between them) or
  // in one go (zero turns) — a count, not a duration, so load cannot flake it.
  let turns = 0;
  let probing = true;
  const probe = () => { turns++; if (probing) setImmediate(probe); };
  setImmediate(probe);
  let turnsAtFirst = -1;
  let turnsAtLast = -1;
  const pipeline = new Pipeline({
    clock: realClock, clusters: [], rules: loadRules(dir), webhooks: {}, log: () => {},
    sinks: [{ name: 'order', observe: (s: Signal) => {
      if (!seen.length) turnsAtFirst = turns;
      seen.push(s.alert!.labels.pod);
      turnsAtLast = turns;
    } }],
  });
  await pipeline.start();
  const { app } = await createApp({ webhooks: { source: pipeline.webhooks!, alertmanager: { bearerToken: 't', maxAlerts: 10_000 }, bodyLimit: 4 * 1024 * 1024 } });
  await app.listen({ host: '127.0.0.1', port: 0 });
  try {
    const body = JSON.stringify(payload(10_000));
    const res = await fetch(`http://127.0.0.1:${(app.server.address() as { port: number }).port}/webhooks/alertmanager`, {
      method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer t' }, body,
    });
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { accepted: 10_000 });
    assert.equal(seen.length, 10_000);
    assert.deepEqual(seen.slice(0, 3), ['pod-0', 'pod-1', 'pod-2']);
    assert.ok(seen.every((p, i) => p === `pod-${i}`), 'in the payload\'s order');
    assert.equal(pipeline.engine.detections().length, 10_000);
    // Emitted in chunks of 200, 10,000 alerts give the loop 49 turns; in one go, none.
    assert.ok(turnsAtLast - turnsAtFirst >= 40, `the event loop turned ${turnsAtLast - turnsAtFirst} times while the alerts were handled`);
  } finally {
    probing = false;
    await app.close();
    await pipeline.stop();
  }
});

test('payloads are taken one after another: a later one never overtakes an earlier one', async () => {
  const source = new WebhookSource({ clock: new ManualClock(0), defaultCluster: 'c', chunk: 10 });
  const seen: string[] = [];
  source.start((s) => seen.push(s.alert!.labels.pod));
  const [a, b] = await Promise.all([source.receiveAlerts(payload(100) as never), source.receiveAlerts(payload(5, 100) as never)]);
  assert.deepEqual([a, b], [100, 5]);
  assert.deepEqual(seen, Array.from({ length: 105 }, (_, i) => `pod-${i}`));
});

test('more alerts than the maximum: 413 saying how to set max_alerts, and nothing reaches the engine', async () => {
  const source = new WebhookSource({ clock: new ManualClock(0), defaultCluster: 'c' });
  const seen: Signal[] = [];
  source.start((s) => seen.push(s));
  const { app } = await createApp({ webhooks: { source, alertmanager: { bearerToken: 't' }, bodyLimit: 4 * 1024 * 1024 } });
  try {
    const post = (n: number) => app.inject({ method: 'POST', url: '/webhooks/alertmanager', headers: { 'content-type': 'application/json', authorization: 'Bearer t' }, payload: JSON.stringify(payload(n)) });
    const res = await post(1001);
    assert.equal(res.statusCode, 413);
    assert.match(res.json().error, /1001 alerts in one payload, more than the 1000 allowed: set max_alerts: 1000/);
    assert.equal(seen.length, 0);
    assert.equal((await post(1000)).statusCode, 200, 'the default maximum is 1000');
    // A payload of many broken alerts is answered with the first problems, not all of them.
    const broken = payload(500);
    for (const a of broken.alerts) (a as { status: string }).status = 'pending';
    const bad = await app.inject({ method: 'POST', url: '/webhooks/alertmanager', headers: { 'content-type': 'application/json', authorization: 'Bearer t' }, payload: JSON.stringify(broken) });
    assert.equal(bad.statusCode, 400);
    assert.equal(bad.json().problems.length, 20);
    assert.match(bad.json().error, /; and 480 more$/);
  } finally {
    await app.close();
  }
});
