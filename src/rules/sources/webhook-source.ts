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
}

export class WebhookSource implements Source {
  readonly name = 'webhooks';
  private readonly clock: Clock;
  private readonly defaultCluster: string;
  private readonly clusterLabel: string;
  private emit: Emit | null = null;

  constructor(opts: WebhookSourceOptions) {
    this.clock = opts.clock;
    this.defaultCluster = opts.defaultCluster;
    this.clusterLabel = opts.clusterLabel ?? 'cluster';
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

  /** One Signal per alert of the group; returns how many were emitted. */
  receiveAlerts(payload: AlertmanagerPayload): number {
    const emit = this.emit;
    if (!emit) return 0;
    const time = this.clock.now();
    for (const a of payload.alerts) {
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
    }
    return payload.alerts.length;
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
