// A generic outgoing webhook: POST of the event as JSON, signed so the
// receiver can tell it came from kubemend and was not replayed later:
//   X-Kubemend-Delivery:  the delivery id (the same on every retry: dedup by it)
//   X-Kubemend-Timestamp: unix seconds when this attempt was signed
//   X-Kubemend-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">
// (docs/notifications.md shows how to verify it). 2xx is taken; 408, 429,
// 5xx and network errors are retried by the outbox; other statuses refused.
import { createHmac } from 'node:crypto';
import type { Clock } from '../common/index.ts';
import { classify, postJson } from './http.ts';
import type { Delivery, DeliveryResult, Receiver } from './types.ts';

export const WEBHOOK_VERSION = 'kubemend.dev/notify/v1';

export interface WebhookOptions {
  name: string;
  url: string;
  /** The HMAC key; without it requests are not signed. */
  secret?: string;
  headers?: Record<string, string>;
  timeoutMs?: number;
  clock: Clock;
}

export function webhookSignature(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

export class WebhookReceiver implements Receiver {
  readonly name: string;
  readonly type = 'webhook' as const;
  private readonly o: WebhookOptions;

  constructor(o: WebhookOptions) {
    this.name = o.name;
    this.o = o;
  }

  async deliver(d: Delivery): Promise<DeliveryResult> {
    const body = JSON.stringify({ version: WEBHOOK_VERSION, delivery: d.id, receiver: d.receiver, key: d.key, attempt: d.attempts, queuedAt: new Date(d.createdAt).toISOString(), event: d.event });
    const timestamp = String(Math.floor(this.o.clock.now() / 1000));
    const headers: Record<string, string> = {
      ...this.o.headers,
      'user-agent': 'kubemend-notify',
      'x-kubemend-delivery': d.id,
      'x-kubemend-event': d.event.kind,
      'x-kubemend-timestamp': timestamp,
      ...(this.o.secret ? { 'x-kubemend-signature': webhookSignature(this.o.secret, timestamp, body) } : {}),
    };
    const result = classify(`webhook ${this.name}`, await postJson(this.o.url, body, headers, this.o.timeoutMs ?? 10_000));
    return result.ok ? { ok: true, ref: d.id } : result;
  }
}
