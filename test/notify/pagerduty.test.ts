// PagerDuty through the whole path (config → router → outbox → receiver)
// against a fake that checks every request against the Events API v2
// documentation: one PagerDuty alert per incident under a stable dedup_key,
// triggered, updated, acknowledged and resolved; 400 dead-letters with
// PagerDuty's `errors`; 429 and 5xx retried.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../../src/common/clock.ts';
import { openStore, type SqlStore } from '../../src/store/index.ts';
import { NotificationsSchema, buildNotifications, pagerDutyAction, type NotifyEvent } from '../../src/notify/index.ts';
import { FakePagerDuty, validateEvent } from '../helpers/fake-pagerduty.ts';

const T0 = Date.UTC(2026, 0, 1);
const KEY = 'R0123456789abcdef0123456789abcd0';
const pd = new FakePagerDuty();
before(() => pd.start());
after(() => pd.stop());

async function setup(pagerduty: Record<string, unknown> = {}, env: Record<string, string> = { PD_KEY: KEY }) {
  const clock = new ManualClock(T0);
  const store: SqlStore = await openStore({ dataDir: mkdtempSync(join(tmpdir(), 'km-pd-')), clock });
  const config = NotificationsSchema.parse({
    route: { receiver: 'page' },
    receivers: [{ name: 'page', pagerduty: { routingKeyEnv: 'PD_KEY', url: pd.url, clientUrl: 'https://kubemend.example.com/console', ...pagerduty } }],
    delivery: { minBackoff: '1s', maxBackoff: '1s' },
  });
  const n = buildNotifications({ config, store, clock, env, pollMs: 3_600_000 });
  return { clock, store, n };
}

const incident = (status: 'open' | 'acknowledged' | 'mitigated' | 'resolved', id = 'inc-1') => ({ id, title: 'checkout is crash-looping', status, severity: 'critical' as const, cluster: 'prod', openedAt: T0 });

function ev(kind: NotifyEvent['kind'], over: Partial<NotifyEvent> = {}): NotifyEvent {
  return {
    kind, time: T0, title: 'checkout is crash-looping', text: 'checkout-7d9 restarted 6 times', severity: 'critical',
    labels: { cluster: 'prod', namespace: 'shop', rule: 'crashloop', workload: 'deployment/checkout' },
    links: [{ href: 'https://kubemend.example.com/console/incidents/inc-1', text: 'incident' }],
    details: { restarts: 6 }, auditId: 'a-17', ...over,
  };
}

test('one PagerDuty alert per incident: triggered, updated, then resolved under the same dedup_key', { timeout: 30_000 }, async () => {
  const { store, n } = await setup();
  try {
    for (const [kind, status] of [['incident.opened', 'open'], ['incident.updated', 'open'], ['incident.mitigated', 'mitigated'], ['incident.resolved', 'resolved']] as const) {
      await n.emit(ev(kind, { incident: incident(status), text: `${kind}` }));
      assert.ok(await n.flush());
    }
    const mine = pd.alerts.filter((a) => a.dedupKey === 'kubemend/inc-1');
    assert.equal(mine.length, 1, 'one alert');
    assert.equal(mine[0].status, 'resolved');
    assert.deepEqual(mine[0].log, ['trigger', 'trigger', 'resolve'], 'mitigated resolves; the later resolve finds nothing open and is dropped by PagerDuty');
    const first = pd.requests.find((r) => (r.body as { dedup_key: string }).dedup_key === 'kubemend/inc-1')!;
    assert.equal(first.status, 202);
    const body = first.body as Record<string, any>;
    assert.equal(body.routing_key, KEY);
    assert.deepEqual(body.links, [{ href: 'https://kubemend.example.com/console/incidents/inc-1', text: 'incident' }]);
    assert.equal(body.client_url, 'https://kubemend.example.com/console');
    assert.deepEqual([body.payload.source, body.payload.severity, body.payload.component, body.payload.group, body.payload.class, body.payload.timestamp], ['prod', 'critical', 'shop/deployment/checkout', 'shop', 'crashloop', '2026-01-01T00:00:00.000Z']);
    assert.deepEqual([body.payload.custom_details.restarts, body.payload.custom_details.audit_record, body.payload.custom_details.incident.id], [6, 'a-17', 'inc-1']);
    const audits = (await store.audit.list({ action: 'notify.delivered' })).filter((r) => r.incidentId === 'inc-1');
    assert.equal(audits.length, 4);
    assert.ok(!JSON.stringify(audits).includes(KEY), 'the routing key is never audited');
    await n.emit(ev('incident.reopened', { incident: incident('open') }));
    await n.flush();
    assert.deepEqual(pd.alerts.filter((a) => a.dedupKey === 'kubemend/inc-1').map((a) => a.status), ['resolved', 'triggered'], 'a relapse pages again under the same dedup_key');
  } finally {
    await store.close();
  }
});

test('acknowledge follows the incident; mitigated: acknowledge keeps the alert open; a run without an incident is its own alert', { timeout: 30_000 }, async () => {
  const { store, n } = await setup({ mitigated: 'acknowledge', severity: { critical: 'error' } });
  try {
    await n.emit(ev('incident.opened', { incident: incident('open', 'inc-2') }));
    await n.emit(ev('incident.acknowledged', { incident: incident('acknowledged', 'inc-2') }));
    await n.emit(ev('incident.mitigated', { incident: incident('mitigated', 'inc-2') }));
    await n.emit(ev('run.escalated', { runId: 'run-9', links: [] }));
    await n.emit(ev('run.ended', { runId: 'run-9' }));
    await n.flush();
    const a = pd.alerts.find((x) => x.dedupKey === 'kubemend/inc-2')!;
    assert.deepEqual([a.status, a.severity, a.log], ['acknowledged', 'error', ['trigger', 'acknowledge', 'acknowledge']]);
    assert.deepEqual(pd.alerts.find((x) => x.dedupKey === 'kubemend/run/run-9')!.log, ['trigger', 'resolve']);
    assert.equal(pagerDutyAction('incident.postmortem', {}), undefined);
  } finally {
    await store.close();
  }
});

test("400 is dead-lettered with PagerDuty's errors; 429 waits its Retry-After (at least 30 s); 5xx is retried", { timeout: 30_000 }, async () => {
  const bad = await setup({}, { PD_KEY: 'short-key-123' });
  try {
    await bad.n.emit(ev('incident.opened', { incident: incident('open', 'inc-3') }));
    await bad.n.flush();
    const [dead] = await bad.store.listDeliveries({ status: 'dead' });
    assert.match(dead.lastError!, /answered 400: Event object is invalid; Length of 'routing_key' is incorrect/);
    const [audit] = await bad.store.audit.list({ action: 'notify.delivery.dead' });
    assert.equal(audit.incidentId, 'inc-3');
    assert.ok(!JSON.stringify(audit).includes('short-key-123'), 'the key stays out of the audit record');
  } finally {
    await bad.store.close();
  }
  const { clock, store, n } = await setup();
  try {
    pd.fail.push({ status: 429, headers: { 'retry-after': '5' } }, { status: 500 });
    await n.emit(ev('incident.opened', { incident: incident('open', 'inc-4') }));
    await n.flush();
    assert.equal((await store.listDeliveries())[0].nextAt - clock.now(), 30_000, 'a 429 waits at least 30 s');
    await clock.advance(30_000);
    await n.flush();
    assert.equal((await store.listDeliveries())[0].attempts, 2, 'the 500 is retried');
    await clock.advance(1_000);
    await n.flush();
    assert.deepEqual(await store.listDeliveries(), []);
    assert.equal(pd.alerts.filter((a) => a.dedupKey === 'kubemend/inc-4').length, 1);
  } finally {
    await store.close();
  }
});

test('summaries are cut to 1024 characters; the fake refuses what PagerDuty documents as invalid', { timeout: 30_000 }, async () => {
  const { store, n } = await setup();
  try {
    await n.emit(ev('notify', { title: 'x'.repeat(3000), runId: 'run-long' }));
    await n.flush();
    assert.equal([...pd.alerts.find((a) => a.dedupKey === 'kubemend/run/run-long')!.summary].length, 1024);
  } finally {
    await store.close();
  }
  const ok = { routing_key: KEY, event_action: 'trigger', dedup_key: 'k', payload: { summary: 's', source: 'prod', severity: 'info' } };
  assert.deepEqual(validateEvent(ok), []);
  assert.match(validateEvent({ ...ok, payload: { ...ok.payload, severity: 'high' } }).join(), /severity/);
  assert.match(validateEvent({ ...ok, payload: { ...ok.payload, summary: 'y'.repeat(1025) } }).join(), /1024/);
  assert.match(validateEvent({ ...ok, dedup_key: 'd'.repeat(256) }).join(), /255/);
  assert.match(validateEvent({ routing_key: KEY, event_action: 'resolve' }).join(), /dedup_key' is required/);
  assert.match(validateEvent({ ...ok, payload: { ...ok.payload, timestamp: 'yesterday' } }).join(), /ISO 8601/);
  assert.match(validateEvent({ ...ok, dedupKey: 'k' }).join(), /'dedupKey' is not a known field/);
  assert.match(validateEvent({ ...ok, links: [{ text: 'no href' }] }).join(), /href/);
});
