// The engine-facing half of the webhook receivers: the HTTP plugin
// (src/server/webhooks.ts) authenticates and validates, then hands calls here,
// where they become Signals. Keeping the two apart lets the engine own the
// source's lifecycle while the HTTP server owns the sockets.
import type { Clock } from '../../common/index.ts';
import type { AlertmanagerPayload } from './alertmanager.ts';
import type { AlertPayload, Signal } from '../types.ts';
import type { Emit, Source } from './source.ts';

export interface WebhookSourceOptions {
  clock: Clock;
  /** Cluster for alerts without a cluster label and for webhooks without a configured cluster. */
  defaultCluster: string;
  /** Alert label naming the cluster (default "cluster"). */
  clusterLabel?: string;
  /** Alerts emitted between two turns of the event loop (default 200). */
  chunk?: number;
}

export class WebhookSource implements Source {
  readonly name = 'webhooks';
  private readonly clock: Clock;
  private readonly defaultCluster: string;
  private readonly clusterLabel: string;
  private readonly chunk: number;
  private emit: Emit | null = null;
  private alertQueue: Promise<unknown> = Promise.resolve();

  constructor(opts: WebhookSourceOptions) {
    this.clock = opts.clock;
    this.defaultCluster = opts.defaultCluster;
    this.clusterLabel = opts.clusterLabel ?? 'cluster';
    this.chunk = Math.max(1, opts.chunk ?? 200);
  }

  start(emit: Emit): void {
    this.emit = emit;
  }

  stop(): void {
    this.emit = null;
  }

  /** Whether calls are being turned into signals; the HTTP side answers 503 otherwise, so senders retry. */
  get running(): boolean {
    return this.emit !== null;
  }

  /**
   * One Signal per alert of the group, in order; resolves with how many were
   * emitted. Alerts are emitted in chunks with a turn of the event loop
   * between them, so a payload of thousands of alerts does not stall every
   * other request, timer and watch; payloads are taken one after another, so
   * a later one never overtakes an earlier one.
   */
  receiveAlerts(payload: AlertmanagerPayload): Promise<number> {
    const run = this.alertQueue.then(() => this.emitAlerts(payload));
    this.alertQueue = run.catch(() => undefined);
    return run;
  }

  private async emitAlerts(payload: AlertmanagerPayload): Promise<number> {
    const time = this.clock.now();
    let emitted = 0;
    for (let i = 0; i < payload.alerts.length; i += this.chunk) {
      if (i > 0) await new Promise<void>((r) => setImmediate(r));
      const emit = this.emit;
      if (!emit) break; // stopped half-way: the rest would go nowhere
      for (const a of payload.alerts.slice(i, i + this.chunk)) {
        const alert: AlertPayload = {
          status: a.status,
          labels: a.labels,
          annotations: a.annotations,
          startsAt: a.startsAt,
          endsAt: a.endsAt,
          generatorURL: a.generatorURL,
          fingerprint: a.fingerprint,
        };
        for (const k of Object.keys(alert) as (keyof AlertPayload)[]) if (alert[k] === undefined) delete alert[k];
        const cluster = a.labels[this.clusterLabel] || this.defaultCluster;
        const signal: Signal = { source: 'alert', cluster, time, alert };
        emit(signal);
        emitted++;
      }
    }
    return emitted;
  }

  /** A generic webhook call: `name` is the path segment of /webhooks/<name>. Returns whether it was emitted. */
  receiveWebhook(name: string, body: unknown, headers: Record<string, string>, cluster?: string): boolean {
    const emit = this.emit;
    if (!emit) return false;
    const signal: Signal = {
      source: 'webhook',
      cluster: cluster ?? this.defaultCluster,
      time: this.clock.now(),
      webhook: { name, body, headers },
    };
    emit(signal);
    return true;
  }
}
