// The generic webhook against a real local HTTP server that verifies the
// signature the way docs/notifications.md tells receivers to: HMAC-SHA256
// over "<timestamp>.<raw body>", compared in constant time, with the
// timestamp within 5 minutes. Retries keep the delivery id; 4xx is final;
// credentials never reach the audit log.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../../src/common/clock.ts';
import { openStore } from '../../src/store/index.ts';
import { NotificationsSchema, buildNotifications, WEBHOOK_VERSION, type NotifyEvent } from '../../src/notify/index.ts';

const T0 = Date.UTC(2026, 0, 1);
const SECRET = 'whsec-9c1f0e7a55d24b8e';
const TOKEN = 'Bearer tok-83hd7sk2mq0a';

/** The receiver side, as documented: reject unless the signature over "<timestamp>.<body>" matches and is fresh. */
function verify(headers: IncomingHttpHeaders, raw: Buffer, nowSec: number): string | undefined {
  const ts = String(headers['x-kubemend-timestamp'] ?? '');
  const sig = String(headers['x-kubemend-signature'] ?? '');
  if (!/^\d+$/.test(ts) || Math.abs(nowSec - Number(ts)) > 300) return 'stale or missing timestamp';
  const want = Buffer.from(`sha256=${createHmac('sha256', SECRET).update(`${ts}.`).update(raw).digest('hex')}`);
  const got = Buffer.from(sig);
  return got.length === want.length && timingSafeEqual(got, want) ? undefined : 'bad signature';
}

interface Seen { headers: IncomingHttpHeaders; raw: Buffer; status: number }
const seen: Seen[] = [];
const script: { status: number; headers?: Record<string, string>; body?: string }[] = [];
let clockForServer = new ManualClock(T0);
let server: Server;
let url = '';

before(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const problem = verify(req.headers, raw, Math.floor(clockForServer.now() / 1000));
      const next = problem ? { status: 401, body: problem } : script.shift() ?? { status: 204 };
      seen.push({ headers: req.headers, raw, status: next.status });
      res.writeHead(next.status, next.headers).end(next.body ?? '');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/kubemend`;
});
after(() => new Promise<void>((r) => server.close(() => r())));

async function setup(webhook: Record<string, unknown> = {}) {
  const clock = new ManualClock(T0);
  clockForServer = clock;
  const store = await openStore({ dataDir: mkdtempSync(join(tmpdir(), 'km-hook-')), clock });
  const config = NotificationsSchema.parse({
    route: { receiver: 'hook' },
    receivers: [{ name: 'hook', webhook: { url, secretEnv: 'HOOK_SECRET', headers: { 'X-Team': 'payments' }, headerEnv: { Authorization: 'HOOK_TOKEN' }, ...webhook } }],
    delivery: { minBackoff: '1s', maxBackoff: '1s' },
  });
  const lines: string[] = [];
  const n = buildNotifications({ config, store, clock, env: { HOOK_SECRET: SECRET, HOOK_TOKEN: TOKEN }, pollMs: 3_600_000, log: (l) => lines.push(l) });
  return { clock, store, n, lines };
}

const ev = (over: Partial<NotifyEvent> = {}): NotifyEvent => ({ kind: 'run.escalated', time: T0, labels: { cluster: 'prod', namespace: 'shop' }, title: 'restart-deployment escalated', text: 'three failures', severity: 'warning', runId: 'run-1', ...over });

test('a signed JSON POST with the delivery id, timestamp and configured headers', { timeout: 30_000 }, async () => {
  seen.length = 0;
  const { store, n } = await setup();
  try {
    const { queued } = await n.emit(ev());
    await n.flush();
    assert.equal(seen.length, 1);
    const [s] = seen;
    assert.equal(s.status, 204, 'the signature verified');
    assert.equal(s.headers['x-kubemend-delivery'], queued[0]);
    assert.equal(s.headers['x-kubemend-timestamp'], String(T0 / 1000));
    assert.equal(s.headers['x-kubemend-event'], 'run.escalated');
    assert.equal(s.headers['content-type'], 'application/json');
    assert.equal(s.headers['x-team'], 'payments');
    assert.equal(s.headers.authorization, TOKEN);
    const body = JSON.parse(s.raw.toString());
    assert.deepEqual([body.version, body.delivery, body.event.kind, body.event.runId, body.attempt], [WEBHOOK_VERSION, queued[0], 'run.escalated', 'run-1', 1]);
    const audit = JSON.stringify(await store.audit.list());
    assert.ok(audit.includes('notify.delivered') && !audit.includes(SECRET) && !audit.includes('tok-83hd7sk2mq0a'));
  } finally {
    await store.close();
  }
});

test('a signer that signs the wrong bytes is caught: the body alone, or a re-serialized body', { timeout: 30_000 }, async () => {
  seen.length = 0;
  const body = JSON.stringify({ version: WEBHOOK_VERSION, delivery: 'd-1', event: ev() });
  const ts = String(T0 / 1000);
  const wrong = [
    createHmac('sha256', SECRET).update(body).digest('hex'),
    createHmac('sha256', SECRET).update(`${ts}.${JSON.stringify(JSON.parse(body), null, 1)}`).digest('hex'),
    createHmac('sha256', 'another-secret').update(`${ts}.${body}`).digest('hex'),
  ];
  for (const hex of wrong) {
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-kubemend-timestamp': ts, 'x-kubemend-signature': `sha256=${hex}` }, body });
    assert.equal(res.status, 401);
  }
  const good = createHmac('sha256', SECRET).update(`${ts}.${body}`).digest('hex');
  assert.equal((await fetch(url, { method: 'POST', headers: { 'x-kubemend-timestamp': ts, 'x-kubemend-signature': `sha256=${good}` }, body })).status, 204);
  const stale = String(T0 / 1000 - 301);
  const staleSig = createHmac('sha256', SECRET).update(`${stale}.${body}`).digest('hex');
  assert.equal((await fetch(url, { method: 'POST', headers: { 'x-kubemend-timestamp': stale, 'x-kubemend-signature': `sha256=${staleSig}` }, body })).status, 401, 'a replay after 5 minutes');
});

test('5xx and 429 are retried with the same delivery id; other 4xx are final; nothing secret is kept', { timeout: 30_000 }, async () => {
  seen.length = 0;
  const { clock, store, n, lines } = await setup();
  try {
    script.push({ status: 503 }, { status: 429, headers: { 'retry-after': '12' } }, { status: 200 });
    await n.emit(ev());
    await n.flush();
    await clock.advance(1_000);
    await n.flush();
    assert.equal((await store.listDeliveries())[0].nextAt - clock.now(), 12_000);
    await clock.advance(12_000);
    await n.flush();
    assert.deepEqual(seen.map((s) => s.status), [503, 429, 200]);
    assert.equal(new Set(seen.map((s) => s.headers['x-kubemend-delivery'])).size, 1, 'one delivery id across retries');
    assert.deepEqual(seen.map((s) => JSON.parse(s.raw.toString()).attempt), [1, 2, 3]);
    script.push({ status: 400, body: `bad token ${TOKEN} and key ${SECRET}` });
    await n.emit(ev({ runId: 'run-2' }));
    await n.flush();
    const [dead] = await store.listDeliveries({ status: 'dead' });
    assert.match(dead.lastError!, /webhook hook answered 400: bad token/);
    const kept = JSON.stringify(await store.audit.list()) + lines.join('\n') + dead.lastError;
    assert.ok(!kept.includes('tok-83hd7sk2mq0a') && !kept.includes(SECRET), kept);
  } finally {
    await store.close();
  }
});

test('a receiver that cannot be reached is retried, not dropped', { timeout: 30_000 }, async () => {
  const { store, n } = await setup({ url: 'http://127.0.0.1:9/unreachable', timeout: '2s' });
  try {
    await n.emit(ev());
    await n.flush();
    const [row] = await store.listDeliveries();
    assert.deepEqual([row.status, row.attempts], ['pending', 1]);
    assert.match(row.lastError!, /webhook hook: fetch failed/);
  } finally {
    await store.close();
  }
});
