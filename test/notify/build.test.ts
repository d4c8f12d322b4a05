// buildNotifications, the one call the integrator makes: receivers from the
// config and the environment (KM-NOTIFY-001 naming everything missing),
// supplied receivers by name (slack/mattermost), secrets handed to the
// redactor, the leadership predicate, start/stop, and per-receiver state.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../../src/common/clock.ts';
import { KubemendError } from '../../src/common/errors.ts';
import { redactor } from '../../src/common/redact.ts';
import { openStore } from '../../src/store/index.ts';
import { NotificationsSchema, buildNotifications, type Delivery, type NotifyEvent, type Receiver } from '../../src/notify/index.ts';

const T0 = Date.UTC(2026, 0, 1);
const config = NotificationsSchema.parse({
  route: { receiver: 'ops', routes: [{ matchers: ['severity=critical'], receiver: 'page', continue: true }] },
  receivers: [
    { name: 'ops', slack: { channel: 'ops' } },
    { name: 'page', pagerduty: { routingKeyEnv: 'PD_KEY' } },
    { name: 'mail', email: { to: ['a@example.com'], from: 'k@example.com', smtp: { host: 'localhost', userEnv: 'SMTP_USER', passwordEnv: 'SMTP_PASSWORD' } } },
    { name: 'hook', webhook: { url: 'https://hooks.example.com/', secretEnv: 'HOOK_SECRET', headerEnv: { Authorization: 'HOOK_AUTH' } } },
  ],
});
const ENV = { PD_KEY: 'R0123456789abcdef0123456789abc77', SMTP_USER: 'u', SMTP_PASSWORD: 'smtp-pw-0a9s8d7f', HOOK_SECRET: 'hook-secret-6y5t4r', HOOK_AUTH: 'Bearer hook-auth-1q2w3e' };

class ChatLike implements Receiver {
  readonly name = 'ops';
  readonly type = 'slack' as const;
  readonly got: Delivery[] = [];
  async deliver(d: Delivery) {
    this.got.push(d);
    return { ok: true as const, ref: `ts-${this.got.length}` };
  }
}

const store = () => openStore({ dataDir: mkdtempSync(join(tmpdir(), 'km-build-')), clock: new ManualClock(T0) });

test('every receiver that cannot be built is named in one KM-NOTIFY-001', { timeout: 30_000 }, async () => {
  const s = await store();
  try {
    assert.throws(() => buildNotifications({ config, store: s, clock: new ManualClock(T0), env: { SMTP_USER: 'u' } }), (err: unknown) => {
      assert.ok(err instanceof KubemendError);
      assert.equal(err.code, 'KM-NOTIFY-001');
      for (const m of ['receiver ops: a slack receiver posts through the slack chat adapter', 'receiver page: pagerduty.routingKeyEnv: $PD_KEY is not set', 'receiver mail: email.smtp.passwordEnv: $SMTP_PASSWORD is not set', 'receiver hook: webhook.secretEnv: $HOOK_SECRET is not set', 'receiver hook: webhook.headerEnv.Authorization: $HOOK_AUTH is not set']) {
        assert.ok(err.message.includes(m), `${m} in ${err.message}`);
      }
      return true;
    });
  } finally {
    await s.close();
  }
});

test('a supplied receiver gets its events; secrets go to the redactor; canDeliver holds delivery; start/stop run the worker', { timeout: 30_000 }, async () => {
  const s = await store();
  const clock = new ManualClock(T0);
  const ops = new ChatLike();
  let leader = false;
  const n = buildNotifications({ config, store: s, clock, env: ENV, receivers: { ops, page: { name: 'page', type: 'pagerduty', deliver: async () => ({ ok: true }) } }, canDeliver: () => leader });
  try {
    for (const v of Object.values(ENV).filter((v) => v.length >= 6)) assert.equal(redactor.redact(`x ${v} y`).includes(v), false, `${v} is masked`);
    const e: NotifyEvent = { kind: 'incident.opened', time: T0, labels: { cluster: 'prod' }, title: 't', text: '', severity: 'warning', incident: { id: 'i1', title: 't', status: 'open', severity: 'warning', cluster: 'prod', openedAt: T0 } };
    const r = await n.emit(e);
    assert.equal(r.queued.length, 1);
    n.start();
    await new Promise((res) => setTimeout(res, 100));
    assert.equal(ops.got.length, 0, 'not while another process leads');
    leader = true;
    n.outbox.kick();
    for (let i = 0; i < 50 && !ops.got.length; i++) await new Promise((res) => setTimeout(res, 20));
    assert.deepEqual(ops.got.map((d) => [d.id, d.key, d.attempts]), [[r.queued[0], 'incident/i1', 1]]);
    await n.stop();
    const st = n.state('ops');
    await st.put('thread/ops/i1', '1767225600.000100');
    assert.equal(await n.state('ops').get('thread/ops/i1'), '1767225600.000100');
    assert.equal(await n.state('page').get('thread/ops/i1'), undefined, 'state is per receiver');
  } finally {
    await n.stop();
    await s.close();
  }
});

test('without a poll interval the worker waits the default second between passes (it does not spin on the store)', { timeout: 30_000 }, async () => {
  const s = await store();
  const clock = new ManualClock(T0);
  const n = buildNotifications({ config, store: s, clock, env: ENV, receivers: { ops: new ChatLike() } });
  let claims = 0;
  const claim = s.claimDeliveries.bind(s);
  s.claimDeliveries = (q) => { claims++; return claim(q); };
  n.start();
  await new Promise((r) => setTimeout(r, 300));
  assert.ok(claims <= 2, `one pass at start, then one per second of the clock (saw ${claims} in 300ms of a stopped clock)`);
  await clock.advance(1_000);
  await new Promise((r) => setTimeout(r, 100));
  assert.ok(claims >= 2 && claims <= 3, `a pass after the clock's second (saw ${claims})`);
  await n.stop();
  await s.close();
});
