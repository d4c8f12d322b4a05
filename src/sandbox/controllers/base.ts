// The wiring most workload controllers share, as in controller-runtime: a
// work queue of `namespace/name` keys drained by sync(), fed from store
// events by onEvent(), and primed at start with every object of the kind the
// controller reconciles, with a per-key back-off for failed syncs.
// Subclasses supply those two methods and `storage`.
import type { K8sObject, StoreEvent } from '../types.ts';
import type { Controller, ControllerContext } from './controller.ts';
import { controllerRef } from './owners.ts';
import { WorkQueue, objectKey } from './workqueue.ts';

export abstract class QueueController implements Controller {
  abstract readonly name: string;
  /** The storage of the objects this controller reconciles, e.g. 'apps/replicasets'. */
  protected abstract readonly storage: string;
  protected ctx!: ControllerContext;
  protected queue!: WorkQueue;
  private unsubscribe: (() => void) | undefined;
  /** Consecutive failed syncs per key, for retryWithBackoff. */
  private readonly failures = new Map<string, number>();

  start(ctx: ControllerContext): void {
    this.ctx = ctx;
    this.queue = new WorkQueue(ctx.clock, (k) => this.sync(k));
    this.unsubscribe = ctx.store.subscribe((ev) => this.onEvent(ev));
    this.queueAll();
  }

  stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    this.queue?.stop();
  }

  /** Reconciles the object named by `namespace/name`; the queue reports what it throws. */
  protected abstract sync(key: string): void;

  /** Turns a store event into the keys to reconcile. */
  protected abstract onEvent(ev: StoreEvent): void;

  /** Queues every object of the controller's kind. */
  protected queueAll(): void {
    for (const o of this.ctx.store.list(this.storage).items) this.queue.add(objectKey(o.metadata));
  }

  /** Re-queues a key whose sync failed after 1s, 2s, 4s … up to 5 minutes (the rate-limited requeue). */
  protected retryWithBackoff(key: string): void {
    const n = (this.failures.get(key) ?? 0) + 1;
    this.failures.set(key, n);
    this.queue.addAfter(key, Math.min(1000 * 2 ** (n - 1), 300_000));
  }

  /** Resets a key's back-off once it syncs cleanly or its object is gone. */
  protected forgetFailures(key: string): void {
    this.failures.delete(key);
  }

  /** Queues the controller of each object (by its controller reference) when it is of `kind`. */
  protected queueController(kind: string, ...objects: (K8sObject | undefined)[]): void {
    for (const o of objects) {
      const ref = controllerRef(o);
      if (ref?.kind === kind) this.queue.add(`${o!.metadata.namespace}/${ref.name}`);
    }
  }
}
