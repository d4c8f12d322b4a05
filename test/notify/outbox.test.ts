// The outbox on SQLite and PostgreSQL: in order per (receiver, key) and
// concurrent across keys; back-off, Retry-After and dead letters; audits and
// metrics; two processes never deliver one row twice; a killed process loses
// nothing; secrets never reach the audit log or the log.
import { it, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { redactor } from '../../src/common/redact.ts';
import { metricsRegistry } from '../../src/common/metrics.ts';
import { Outbox, backoff } from '../../src/notify/outbox.ts';
import type { Delivery, DeliveryResult, NotifyEvent, Receiver } from '../../src/notify/types.ts';
import type { SqlStore } from '../../src/store/index.ts';
import type { ManualClock } from '../../src/common/clock.ts';
import { forEachDialect } from '../audit/helpers.ts';

const CHILD = fileURLToPath(new URL('./fixtures/outbox-child.ts', import.meta.url));

function runChild(args: string[]): Promise<void> {
  const child = spawn(process.execPath, [CHILD, ...args], { stdio: ['ignore', 'inherit', 'inherit'] });
  return new Promise((resolve, reject) => child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`outbox child exited with ${code}`)))));
}

function ev(title: string, over: Partial<NotifyEvent> = {}): NotifyEvent {
  return { kind: 'notify', time: 0, labels: { cluster: 'prod' }, title, text: '', severity: 'info', runId: 'r1', ...over };
}

async function enqueue(store: SqlStore, clock: ManualClock, items: [id: string, key: string][], receiver = 'hook'): Promise<void> {
  await store.enqueueDeliveries(items.map(([id, key]) => ({ id, receiver, key, event: ev(id), createdAt: clock.now(), nextAt: clock.now() })));
}

/** A receiver whose answers the test scripts, recording every call. */
class Scripted implements Receiver {
  readonly type = 'webhook' as const;
  readonly calls: { id: string; attempts: number }[] = [];
  readonly log: string[] = [];
  readonly name: string;
  private readonly answer: (d: Delivery) => Promise<DeliveryResult> | DeliveryResult;
  constructor(name: string, answer: (d: Delivery) => Promise<DeliveryResult> | DeliveryResult = () => ({ ok: true })) {
    this.name = name;
    this.answer = answer;
  }
  async deliver(d: Delivery): Promise<DeliveryResult> {
    this.calls.push({ id: d.id, attempts: d.attempts });
    this.log.push(`start ${d.id}`);
    try {
      return await this.answer(d);
    } finally {
      this.log.push(`end ${d.id}`);
    }
  }
}

async function metric(name: string, labels: Record<string, string>): Promise<number> {
  const m = await metricsRegistry.getSingleMetric(name)!.get();
  return m.values.find((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x))?.value ?? 0;
}

test('back-off doubles from the minimum up to the maximum, with jitter between half and all of it', { timeout: 10_000 }, () => {
  assert.deepEqual([1, 2, 3, 4].map((a) => backoff(a, 1000, 5000, () => 1)), [1000, 2000, 4000, 5000]);
  assert.deepEqual([1, 2, 3].map((a) => backoff(a, 1000, 5000, () => 0)), [500, 1000, 2000]);
});

forEachDialect((env) => {
  it('delivers one key in order, one at a time, while other keys go on', { timeout: 60_000 }, async () => {
    const { store, place } = await env.store();
    const clock = place.clock;
    const gates = new Map<string, () => void>();
    const hold = (id: string) => new Promise<DeliveryResult>((r) => gates.set(id, () => r({ ok: true })));
    const rcv = new Scripted('hook', (d) => (d.id === 'a1' ? hold('a1') : { ok: true }));
    await enqueue(store, clock, [['a1', 'A'], ['a2', 'A'], ['b1', 'B'], ['a3', 'A'], ['b2', 'B']]);
    const outbox = new Outbox({ store, clock, receivers: () => rcv, concurrency: 4 });
    for (let i = 0; i < 500 && !rcv.log.includes('end b2'); i++) {
      await outbox.tick();
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.ok(rcv.log.includes('end b2'), 'key B finished while a1 is held');
    assert.deepEqual(rcv.calls.map((c) => c.id).filter((id) => id.startsWith('a')), ['a1'], 'a2 waits for a1');
    gates.get('a1')!();
    assert.ok(await outbox.flush());
    assert.deepEqual(rcv.log.filter((l) => l.includes(' a')), ['start a1', 'end a1', 'start a2', 'end a2', 'start a3', 'end a3']);
    assert.deepEqual(await store.listDeliveries(), [], 'delivered rows are removed');
  });

  it('flush() goes on while a delivery that ends during a pass\'s claim leaves the next row of its key due', { timeout: 60_000 }, async () => {
    const { store, place } = await env.store();
    const clock = place.clock;
    let release: (() => void) | undefined;
    const rcv = new Scripted('hook', (d) => (d.id === 'a1' ? new Promise((r) => (release = () => r({ ok: true }))) : { ok: true }));
    await enqueue(store, clock, [['a1', 'A'], ['a2', 'A'], ['a3', 'A']]);
    // The claim sees a1's row (so a2 is not due yet), and a1 ends before the claim returns: what a slow database and a fast receiver do.
    let armed = false;
    const racing = new Proxy(store, {
      get(target, prop, receiver) {
        if (prop !== 'claimDeliveries') return Reflect.get(target, prop, receiver);
        return async (...args: Parameters<SqlStore['claimDeliveries']>) => {
          const rows = await target.claimDeliveries(...args);
          if (armed) {
            armed = false;
            release!();
            while ((await target.listDeliveries()).some((r) => r.id === 'a1')) await new Promise((r) => setImmediate(r));
            for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
          }
          return rows;
        };
      },
    });
    const outbox = new Outbox({ store: racing, clock, receivers: () => rcv });
    assert.equal(await outbox.tick(), 1, 'a1 is claimed and held');
    armed = true;
    assert.ok(await outbox.flush());
    assert.deepEqual(rcv.log, ['start a1', 'end a1', 'start a2', 'end a2', 'start a3', 'end a3'], 'flush returned with rows of key A still due');
  });

  it('retries with back-off and Retry-After, audits the first failure once and the delivery, counts them', { timeout: 60_000 }, async () => {
    const { store, place } = await env.store();
    const clock = place.clock;
    const answers: DeliveryResult[] = [{ ok: false, retryable: true, error: 'HTTP 503' }, { ok: false, retryable: true, error: 'HTTP 429', retryAfterMs: 7_000 }, { ok: true, ref: 'x' }];
    const rcv = new Scripted('hook', () => answers.shift()!);
    await store.enqueueDeliveries([{ id: 'd1', receiver: 'hook', key: 'incident/i1', event: ev('t', { incident: { id: 'i1', title: 't', status: 'open', severity: 'critical', cluster: 'prod', openedAt: 0 } }), createdAt: clock.now(), nextAt: clock.now() }]);
    const before = await metric('kubemend_notify_deliveries_total', { receiver: 'hook', outcome: 'failed' });
    const outbox = new Outbox({ store, clock, receivers: () => rcv, random: () => 1, minBackoffMs: 2_000 });
    await outbox.flush();
    let [row] = await store.listDeliveries();
    assert.deepEqual([row.attempts, row.nextAt - clock.now(), row.lastError], [1, 2_000, 'HTTP 503']);
    await clock.advance(1_999);
    await outbox.flush();
    assert.equal(rcv.calls.length, 1, 'not before the back-off');
    await clock.advance(1);
    await outbox.flush();
    [row] = await store.listDeliveries();
    assert.deepEqual([row.attempts, row.nextAt - clock.now()], [2, 7_000], "the receiver's Retry-After wins");
    await clock.advance(7_000);
    await outbox.flush();
    assert.deepEqual(rcv.calls.map((c) => c.attempts), [1, 2, 3]);
    assert.deepEqual(await store.listDeliveries(), []);
    const audits = (await store.audit.list()).filter((r) => r.action.startsWith('notify.'));
    assert.deepEqual(audits.map((a) => [a.action, a.outcome]), [['notify.delivery.failed', 'failure'], ['notify.delivered', 'success']]);
    assert.equal(audits[1].incidentId, 'i1');
    assert.equal(audits[1].runId, 'r1');
    assert.deepEqual([audits[1].data?.receiver, audits[1].data?.event, audits[1].data?.attempts, audits[1].data?.ref], ['hook', 'notify', 3, 'x']);
    assert.equal(await metric('kubemend_notify_deliveries_total', { receiver: 'hook', outcome: 'failed' }), before + 2);
  });

  it('dead-letters refusals and deliveries past maxAge; a dead row does not block its key', { timeout: 60_000 }, async () => {
    const { store, place } = await env.store();
    const clock = place.clock;
    const rcv = new Scripted('hook', (d) => (d.id === 'bad' ? { ok: false, retryable: false, error: 'HTTP 400: invalid' } : d.id === 'slow' ? { ok: false, retryable: true, error: 'HTTP 502' } : { ok: true }));
    await enqueue(store, clock, [['bad', 'A'], ['after', 'A'], ['slow', 'B']]);
    const outbox = new Outbox({ store, clock, receivers: (n) => (n === 'hook' ? rcv : undefined), maxAgeMs: 60_000, maxBackoffMs: 20_000 });
    await outbox.flush();
    await outbox.flush();
    assert.deepEqual(rcv.calls.map((c) => c.id).sort(), ['after', 'bad', 'slow']);
    for (let i = 0; i < 10; i++) {
      await clock.advance(20_000);
      await outbox.flush();
    }
    const dead = await store.listDeliveries({ status: 'dead' });
    assert.deepEqual(dead.map((d) => [d.id, d.lastError]), [['bad', 'HTTP 400: invalid'], ['slow', 'HTTP 502']]);
    assert.ok(clock.now() - dead[1].createdAt >= 60_000 && rcv.calls.filter((c) => c.id === 'slow').length > 2);
    await store.enqueueDeliveries([{ id: 'orphan', receiver: 'gone', key: 'k', event: ev('o'), createdAt: clock.now(), nextAt: clock.now() }]);
    await outbox.flush();
    assert.match((await store.listDeliveries({ status: 'dead', receiver: 'gone' }))[0].lastError!, /no receiver named "gone"/);
    const actions = (await store.audit.list()).filter((r) => r.action.startsWith('notify.delivery')).map((r) => `${r.action} ${r.data?.delivery}`);
    assert.deepEqual(actions.sort(), ['notify.delivery.dead bad', 'notify.delivery.dead orphan', 'notify.delivery.dead slow', 'notify.delivery.failed bad', 'notify.delivery.failed orphan', 'notify.delivery.failed slow']);
    assert.equal((await store.outboxStats()).dead, 3);
  });

  it('two processes on one database never deliver a row twice and keep each key in order', { timeout: 120_000 }, async () => {
    const { store, place } = await env.store();
    const clock = place.clock;
    const items: [string, string][] = [];
    for (let i = 0; i < 40; i++) items.push([`d${String(i).padStart(2, '0')}`, `k${i % 5}`]);
    await enqueue(store, clock, items);
    const logFile = join(place.dataDir, 'drain.log');
    writeFileSync(logFile, '');
    const children = [0, 1].map(() => runChild(['drain', place.dataDir, place.db ?? '', logFile, String(clock.now())]));
    for (let i = 0; i < 3000 && readdirSync(place.dataDir).filter((f) => f.startsWith('drain.log.ready-')).length < 2; i++) await new Promise((r) => setTimeout(r, 10));
    writeFileSync(`${logFile}.go`, '');
    await Promise.all(children);
    const lines = readFileSync(logFile, 'utf8').trim().split('\n').map((l) => l.split(' '));
    const seen = lines.map(([, id]) => id);
    assert.deepEqual([...seen].sort(), items.map(([id]) => id), 'each exactly once');
    assert.equal(new Set(lines.map(([pid]) => pid)).size, 2, 'both processes delivered some');
    for (let k = 0; k < 5; k++) {
      const order = seen.filter((id) => Number(id.slice(1)) % 5 === k);
      assert.deepEqual(order, [...order].sort(), `key k${k} in order`);
    }
    assert.deepEqual(await store.listDeliveries(), []);
  });

  it('waits while canDeliver() is false; a receiver that throws is retried; secrets stay out of the audit log and the log', { timeout: 60_000 }, async () => {
    const { store, place } = await env.store();
    const clock = place.clock;
    const secret = 'hunter2-notify-secret-7f3a';
    redactor.addSecret(secret);
    let leader = false;
    const lines: string[] = [];
    const rcv = new Scripted('hook', () => {
      throw new Error(`connect ECONNREFUSED with token ${secret}`);
    });
    await enqueue(store, clock, [['x', 'A']]);
    const outbox = new Outbox({ store, clock, receivers: () => rcv, canDeliver: () => leader, log: (l) => lines.push(l) });
    await outbox.flush();
    assert.equal(rcv.calls.length, 0, 'a follower delivers nothing');
    leader = true;
    await outbox.flush();
    const [row] = await store.listDeliveries();
    assert.equal(row.status, 'pending', 'a throw is retryable');
    const text = JSON.stringify(await store.audit.list()) + lines.join('\n') + row.lastError;
    assert.ok(text.includes('ECONNREFUSED'), text);
    assert.ok(!text.includes(secret), 'the secret is masked');
  });
});

it('a process killed mid-delivery loses nothing: the next one delivers what it left, in order', { timeout: 60_000 }, async () => {
  const { mkdtempSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const dataDir = mkdtempSync(join(tmpdir(), 'km-outbox-kill-'));
  const logFile = join(dataDir, 'delivered.log');
  writeFileSync(logFile, '');
  const T0 = Date.UTC(2026, 0, 1);
  const child = spawn(process.execPath, [CHILD, 'hang', dataDir, '', logFile, String(T0)], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (b: Buffer) => b.toString().includes('hung') && resolve());
    child.on('exit', (code) => reject(new Error(`child exited early (${code})`)));
  });
  child.kill('SIGKILL');
  await new Promise((r) => child.once('exit', r));
  const before = readFileSync(logFile, 'utf8').trim().split('\n');
  assert.deepEqual(before, ['delivered d0', 'delivered d1', 'started d2']);
  const { openStore } = await import('../../src/store/index.ts');
  const { ManualClock } = await import('../../src/common/clock.ts');
  const clock = new ManualClock(T0 + 5 * 60_000);
  const store = await openStore({ dataDir, clock });
  try {
    const rcv = new Scripted('hook');
    const outbox = new Outbox({ store, clock, receivers: () => rcv, concurrency: 1 });
    await outbox.flush();
    assert.deepEqual(rcv.calls.map((c) => c.id), ['d2', 'd3', 'd4', 'd5'], 'the hung delivery is sent again once its lease lapsed, then the rest');
    assert.deepEqual(await store.listDeliveries(), []);
  } finally {
    await store.close();
  }
});
