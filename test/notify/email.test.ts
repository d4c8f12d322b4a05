// Email against a real SMTP server (smtp-server) on this machine: AUTH,
// STARTTLS, the envelope's recipients, the subject, the threading headers
// that keep one incident's mails together, the bodies, which events are
// mailed by default, and SMTP answers (5xx final, 4xx retried).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { smtp, SMTP_PASSWORD as PASSWORD } from '../helpers/local-smtp.ts';
import { ManualClock } from '../../src/common/clock.ts';
import { openStore } from '../../src/store/index.ts';
import { NotificationsSchema, buildNotifications, type NotifyEvent } from '../../src/notify/index.ts';

const T0 = Date.UTC(2026, 0, 1);

async function setup(port: number, smtpCfg: Record<string, unknown> = {}, env: Record<string, string> = { SMTP_USER: 'kubemend', SMTP_PASSWORD: PASSWORD }) {
  const clock = new ManualClock(T0);
  const store = await openStore({ dataDir: mkdtempSync(join(tmpdir(), 'km-mail-')), clock });
  const config = NotificationsSchema.parse({
    route: { receiver: 'oncall-mail' },
    receivers: [{ name: 'oncall-mail', email: { to: ['oncall@example.com', 'sre@example.com'], from: 'kubemend@example.com', smtp: { host: '127.0.0.1', port, userEnv: 'SMTP_USER', passwordEnv: 'SMTP_PASSWORD', ...smtpCfg } } }],
    delivery: { minBackoff: '1s', maxBackoff: '1s' },
  });
  const n = buildNotifications({ config, store, clock, env, pollMs: 3_600_000 });
  return { clock, store, n };
}

const incident = (status: 'open' | 'resolved') => ({ id: 'inc-42', title: 'checkout is crash-looping', status, severity: 'critical' as const, cluster: 'prod', openedAt: T0 });
const ev = (kind: NotifyEvent['kind'], over: Partial<NotifyEvent> = {}): NotifyEvent => ({
  kind, time: T0, labels: { cluster: 'prod', namespace: 'shop' }, title: 'checkout is crash-looping', text: 'checkout-7d9 restarted 6 times\n<b>not html</b>', severity: 'critical',
  incident: incident(kind === 'incident.resolved' ? 'resolved' : 'open'), links: [{ href: 'https://kubemend.example.com/i/inc-42', text: 'incident' }], ...over,
});

test("one incident's mails: opened and resolved, threaded by Message-ID, In-Reply-To and References; steps and updates are not mailed", { timeout: 30_000 }, async () => {
  const s = await smtp();
  const { store, n } = await setup(s.port);
  try {
    for (const kind of ['incident.opened', 'incident.updated', 'run.step', 'incident.resolved'] as const) await n.emit(ev(kind, kind === 'run.step' ? { runId: 'r1' } : {}));
    assert.ok(await n.flush());
    assert.equal(s.mails.length, 2);
    const [opened, resolved] = s.mails;
    assert.equal(opened.user, 'kubemend', 'authenticated');
    assert.deepEqual([opened.from, opened.to], ['kubemend@example.com', ['oncall@example.com', 'sre@example.com']]);
    assert.equal(opened.headers.subject, '[kubemend] critical checkout is crash-looping');
    assert.equal(opened.headers['message-id'], '<incident.inc-42@example.com>');
    assert.equal(opened.headers['in-reply-to'], undefined);
    assert.match(resolved.headers['message-id'], /^<[0-9a-f-]{36}\.incident\.inc-42@example\.com>$/);
    assert.equal(resolved.headers['in-reply-to'], '<incident.inc-42@example.com>');
    assert.equal(resolved.headers.references, '<incident.inc-42@example.com>');
    assert.equal(resolved.headers['x-kubemend-event'], 'incident.resolved');
    assert.match(opened.headers['content-type'], /multipart\/alternative/);
    assert.ok(opened.body.includes('checkout-7d9 restarted 6 times') && opened.body.includes('&#60;b&#62;not html&#60;/b&#62;'), 'text and escaped HTML parts');
    assert.ok(!s.mails.some((m) => m.raw.includes(PASSWORD)));
    const audits = await store.audit.list({ action: 'notify.delivered' });
    assert.equal(audits.length, 2);
    assert.ok(!JSON.stringify(audits).includes(PASSWORD));
  } finally {
    await store.close();
    await s.close();
  }
});

test('STARTTLS with requireTLS: the mail travels encrypted', { timeout: 30_000 }, async () => {
  const s = await smtp({ tls: true });
  const { store, n } = await setup(s.port, { requireTLS: true, rejectUnauthorized: false });
  try {
    await n.emit(ev('incident.opened'));
    await n.flush();
    assert.equal(s.mails.length, 1);
    assert.equal(s.mails[0].secure, true);
  } finally {
    await store.close();
    await s.close();
  }
});

test('a refused login (535) and a refused recipient (550) are dead letters; a 4xx is retried', { timeout: 30_000 }, async () => {
  const s = await smtp();
  const bad = await setup(s.port, {}, { SMTP_USER: 'kubemend', SMTP_PASSWORD: 'wrong-password-1' });
  try {
    await bad.n.emit(ev('incident.opened'));
    await bad.n.flush();
    const [dead] = await bad.store.listDeliveries({ status: 'dead' });
    assert.match(dead.lastError!, /EAUTH .*535/);
    assert.ok(!JSON.stringify(await bad.store.audit.list()).includes('wrong-password-1'));
  } finally {
    await bad.store.close();
    await s.close();
  }
  for (const [code, status] of [[550, 'dead'], [450, 'pending']] as const) {
    const r = await smtp({ rcptError: { code, message: 'mailbox unavailable' } });
    const { store, n } = await setup(r.port);
    try {
      await n.emit(ev('incident.opened'));
      await n.flush();
      const [row] = await store.listDeliveries();
      assert.equal(row.status, status, `SMTP ${code}`);
      assert.match(row.lastError!, new RegExp(`${code}`));
    } finally {
      await store.close();
      await r.close();
    }
  }
});
