// Delivers the outbox: due rows are claimed from the store (a lease, safe
// with several processes on one database), handed to their receiver, and
// removed only once the receiver took them — a crash in between sends again,
// which receivers make harmless (PagerDuty's dedup_key, the webhook's
// delivery id). Within one (receiver, key) deliveries go one at a time in
// order; across keys up to `concurrency` at once. Failures back off
// exponentially with jitter (a receiver's Retry-After wins); a refusal, or
// running past maxAge / maxAttempts, dead-letters the row. The first failure
// of a delivery, every dead letter and every success are audited.
import { randomUUID } from 'node:crypto';
import { type Clock, Errors, notifyDeadLetters, notifyDeliveriesTotal, notifyOldestPendingSeconds, notifyQueuePending, realClock, redact } from '../common/index.ts';
import type { AuditInput } from '../audit/index.ts';
import type { OutboxRecord, Store } from '../store/index.ts';
import type { Delivery, DeliveryResult, NotifyEvent, Receiver } from './types.ts';

export interface OutboxOptions {
  store: Store;
  /** The receiver of a row, by name. */
  receivers: (name: string) => Receiver | undefined;
  clock: Clock;
  log?: (line: string) => void;
  /** Deliver only while this holds (the leader check under leader election). */
  canDeliver?: () => boolean;
  concurrency?: number;
  /** How often due rows are looked for when nothing kicks the worker. */
  pollMs?: number;
  /** How long a claim holds before another process may take the row. */
  leaseMs?: number;
  /** 0: no limit. */
  maxAttempts?: number;
  maxAgeMs?: number;
  minBackoffMs?: number;
  maxBackoffMs?: number;
  random?: () => number;
}

/** Exponential back-off with equal jitter: attempt n waits between half and all of min·2^(n-1), capped at max. */
export function backoff(attempt: number, minMs: number, maxMs: number, random: () => number = Math.random): number {
  const full = Math.min(maxMs, minMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(full / 2 + (full / 2) * random());
}

const ACTOR = { type: 'system' as const, name: 'notify' };

export class Outbox {
  readonly owner = `notify-${randomUUID()}`;
  private readonly o: Required<Omit<OutboxOptions, 'log' | 'canDeliver'>> & Pick<OutboxOptions, 'log' | 'canDeliver'>;
  private readonly inflight = new Map<string, Promise<void>>();
  private running = false;
  private timer: { cancel(): void } | undefined;
  private ticking: Promise<number> | undefined;
  private again = false;
  /** Deliveries ended so far: flush() is only done after a pass that no delivery ended during. */
  private ended = 0;

  constructor(opts: OutboxOptions) {
    // An option passed as undefined keeps its default (an undefined poll interval would make the worker spin).
    const given = Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined)) as OutboxOptions;
    this.o = { concurrency: 4, pollMs: 1_000, leaseMs: 5 * 60_000, maxAttempts: 0, maxAgeMs: 24 * 3_600_000, minBackoffMs: 1_000, maxBackoffMs: 5 * 60_000, random: Math.random, ...given };
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.kick();
  }

  /** Stops claiming and waits for deliveries in flight. */
  async stop(): Promise<void> {
    this.running = false;
    this.timer?.cancel();
    this.timer = undefined;
    await this.ticking;
    await Promise.allSettled([...this.inflight.values()]);
  }

  /** Look for due rows now (after an enqueue, or a delivery ended). */
  kick(): void {
    if (!this.running) return;
    if (this.ticking) {
      this.again = true;
      return;
    }
    setImmediate(() => void this.tick().catch((err) => this.o.log?.(`notify: outbox: ${redact((err as Error).message)}`)));
  }

  /** One pass: claims what is due and free, starts delivering it; returns how many were claimed. */
  tick(): Promise<number> {
    if (this.ticking) return this.ticking;
    this.ticking = this.pass().finally(() => {
      this.ticking = undefined;
      if (this.again) {
        this.again = false;
        this.kick();
      } else if (this.running && !this.timer) {
        this.timer = this.o.clock.setTimeout(() => {
          this.timer = undefined;
          this.kick();
        }, this.o.pollMs);
      }
    });
    return this.ticking;
  }

  /**
   * Delivers everything due, waiting for it (tests, shutdown). Bounded in
   * wall time: a receiver that hangs must not hold a shutdown.
   */
  async flush(timeoutMs = 10_000): Promise<boolean> {
    const deadline = realClock.now() + timeoutMs;
    for (;;) {
      // A delivery that ends while the pass is claiming frees its key after the claim looked: the next row of that key is due, and another pass must look.
      const ended = this.ended;
      const claimed = await this.tick();
      const waited = this.inflight.size;
      await Promise.allSettled([...this.inflight.values()]);
      if (claimed === 0 && waited === 0 && this.ended === ended) return true;
      if (realClock.now() >= deadline) return false;
    }
  }

  private async pass(): Promise<number> {
    if (this.o.canDeliver && !this.o.canDeliver()) return 0;
    const free = this.o.concurrency - this.inflight.size;
    const rows = free > 0 ? await this.o.store.claimDeliveries({ now: this.o.clock.now(), limit: free, leaseMs: this.o.leaseMs, owner: this.owner, exclude: [...this.inflight.keys()] }) : [];
    for (const row of rows) {
      const p = this.deliver(row)
        .catch((err) => this.o.log?.(`notify: delivery ${row.id} to ${row.receiver}: ${redact((err as Error).message)} (the row is retried when its lease lapses)`))
        .finally(() => {
          this.ended++;
          this.inflight.delete(row.id);
          this.kick();
        });
      this.inflight.set(row.id, p);
    }
    await this.updateGauges();
    return rows.length;
  }

  private async deliver(row: OutboxRecord): Promise<void> {
    const event = row.event as NotifyEvent;
    const attempts = row.attempts + 1;
    const receiver = this.o.receivers(row.receiver);
    const delivery: Delivery = { id: row.id, receiver: row.receiver, key: row.key, event, attempts, createdAt: row.createdAt };
    let result: DeliveryResult;
    if (!receiver) result = { ok: false, retryable: false, error: `no receiver named "${row.receiver}" is configured` };
    else {
      try {
        result = await receiver.deliver(delivery);
      } catch (err) {
        result = { ok: false, retryable: true, error: (err as Error).message };
      }
    }
    const type = receiver?.type ?? 'unknown';
    if (result.ok) {
      await this.audit(delivery, type, 'notify.delivered', 'success', { ...(result.ref ? { ref: result.ref } : {}) });
      await this.o.store.completeDelivery(row.id);
      notifyDeliveriesTotal.inc({ receiver: row.receiver, outcome: 'delivered' });
      return;
    }
    const error = redact(result.error).slice(0, 2_000);
    const now = this.o.clock.now();
    const expires = row.createdAt + this.o.maxAgeMs;
    const dead = !result.retryable || (this.o.maxAttempts > 0 && attempts >= this.o.maxAttempts) || now >= expires;
    if (attempts === 1) await this.audit(delivery, type, 'notify.delivery.failed', 'failure', { error, code: Errors.NOTIFY_DELIVERY_FAILED.code, retryable: result.retryable });
    if (dead) {
      const why = !result.retryable ? 'refused by the receiver' : now >= expires ? `not delivered within ${Math.round(this.o.maxAgeMs / 1000)}s` : `${attempts} attempts failed`;
      await this.audit(delivery, type, 'notify.delivery.dead', 'failure', { error, why, code: Errors.NOTIFY_DEAD.code });
      await this.o.store.deadLetterDelivery(row.id, { attempts, error });
      notifyDeliveriesTotal.inc({ receiver: row.receiver, outcome: 'dead' });
      this.o.log?.(`notify: ${Errors.NOTIFY_DEAD.code} gave up delivering ${event.kind} to ${row.receiver} (${why}): ${error}`);
      return;
    }
    const wait = result.retryAfterMs ?? backoff(attempts, this.o.minBackoffMs, this.o.maxBackoffMs, this.o.random);
    await this.o.store.retryDelivery(row.id, { attempts, nextAt: Math.min(now + wait, expires), error });
    notifyDeliveriesTotal.inc({ receiver: row.receiver, outcome: 'failed' });
    if (attempts === 1) this.o.log?.(`notify: ${Errors.NOTIFY_DELIVERY_FAILED.code} delivering ${event.kind} to ${row.receiver} failed, retrying: ${error}`);
  }

  private async audit(d: Delivery, type: string, action: string, outcome: AuditInput['outcome'], data: Record<string, unknown>): Promise<void> {
    const e = d.event;
    const target = { ...(e.labels.cluster ? { cluster: e.labels.cluster } : {}), ...(e.labels.namespace ? { namespace: e.labels.namespace } : {}) };
    await this.o.store.audit.append({
      time: this.o.clock.now(),
      actor: ACTOR,
      action,
      outcome,
      ...(Object.keys(target).length ? { target } : {}),
      ...(e.incident ? { incidentId: e.incident.id } : {}),
      ...(e.runId ? { runId: e.runId } : {}),
      ...(e.detectionId ? { detectionId: e.detectionId } : {}),
      data: { delivery: d.id, receiver: d.receiver, receiverType: type, event: e.kind, key: d.key, attempts: d.attempts, ...(e.auditId ? { reflects: e.auditId } : {}), ...data },
    });
  }

  private async updateGauges(): Promise<void> {
    try {
      const s = await this.o.store.outboxStats();
      notifyQueuePending.set(s.pending);
      notifyDeadLetters.set(s.dead);
      notifyOldestPendingSeconds.set(s.oldestPendingAt === undefined ? 0 : Math.max(0, (this.o.clock.now() - s.oldestPendingAt) / 1000));
    } catch (err) {
      this.o.log?.(`notify: outbox stats: ${redact((err as Error).message)}`);
    }
  }
}
