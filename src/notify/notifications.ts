// The one object the rest of kubemend talks to: emit(event) routes it and
// queues one delivery per receiver in the store (the outbox), which the
// worker delivers. Receivers that keep something between deliveries (the
// parent message of each incident's thread, per channel) keep it in the
// store too, through receiverState().
import { randomUUID } from 'node:crypto';
import type { Clock } from '../common/index.ts';
import type { Store } from '../store/index.ts';
import type { Outbox } from './outbox.ts';
import type { RouteDecision, Router } from './router.ts';
import type { NotifyEvent } from './types.ts';

/** Small keyed values a receiver keeps across deliveries and restarts. */
export interface ReceiverState {
  get(key: string): Promise<string | undefined>;
  put(key: string, value: string): Promise<void>;
}

/** The router's own memory lives beside the receivers' under a name no receiver can have. */
export const ROUTER_STATE = '_router';

export function receiverState(store: Store, receiver: string, clock: Clock): ReceiverState {
  return {
    get: (key) => store.getNotifyState(receiver, key),
    put: (key, value) => store.putNotifyState(receiver, key, value, clock.now()),
  };
}

export interface EmitResult extends RouteDecision {
  /** The ids of the queued deliveries (the webhook's X-Kubemend-Delivery). */
  queued: string[];
}

export class Notifications {
  readonly router: Router;
  readonly outbox: Outbox;
  private readonly store: Store;
  private readonly clock: Clock;

  constructor(o: { store: Store; router: Router; outbox: Outbox; clock: Clock }) {
    this.store = o.store;
    this.router = o.router;
    this.outbox = o.outbox;
    this.clock = o.clock;
  }

  /**
   * Routes the event and queues its deliveries durably before resolving;
   * rejects when the store cannot take them (the caller retries, as sinks do).
   */
  async emit(event: NotifyEvent): Promise<EmitResult> {
    const decision = await this.router.route(event);
    const now = this.clock.now();
    const rows = decision.deliveries.map((d) => ({ id: randomUUID(), receiver: d.receiver, key: d.key, event, createdAt: now, nextAt: d.notBefore }));
    await this.store.enqueueDeliveries(rows);
    if (rows.length) this.outbox.kick();
    return { ...decision, queued: rows.map((r) => r.id) };
  }

  state(receiver: string): ReceiverState {
    return receiverState(this.store, receiver, this.clock);
  }

  start(): void {
    this.outbox.start();
  }

  stop(): Promise<void> {
    return this.outbox.stop();
  }

  /** Delivers what is due now and waits for it (tests; before a planned shutdown). */
  flush(timeoutMs?: number): Promise<boolean> {
    return this.outbox.flush(timeoutMs);
  }
}
