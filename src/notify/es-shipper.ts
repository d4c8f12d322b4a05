// The audit shipper: streams store.audit into an Elasticsearch/OpenSearch
// data stream through _bulk, from a checkpoint kept in the store, so every
// record arrives at least once and in order across restarts and outages
// (docs/trace.md). Only the leader ships (canShip); the checkpoint is in the
// shared store, so a new leader continues where the old one stopped.
import { Errors, KubemendError, Mutex, redactor, redact, traceLagRecords, traceLastSuccessSeconds, type Clock, type TimerHandle } from '../common/index.ts';
import { resolveEsConnection, type ElasticsearchTraceConfig } from './es-config.ts';
import { indexTemplate } from './es-document.ts';
import { backoff } from './outbox.ts';
import { EsHttp } from './es-http.ts';
import { errorReason, request, shipPass, statusError, type PassResult, type ShipperStore } from './es-pass.ts';

export interface AuditShipperOptions {
  store: ShipperStore;
  clock: Clock;
  config: ElasticsearchTraceConfig;
  env?: NodeJS.ProcessEnv;
  log?: (line: string) => void;
  /** Leadership: false while another replica ships (checked before every pass). */
  canShip?: () => boolean;
  /** The checkpoint's name in the store (default "elasticsearch"). */
  name?: string;
  /** For the back-off's jitter (default Math.random). */
  random?: () => number;
}

/** First retry after about this long; doubled per failure up to maxBackoff. */
const BASE_BACKOFF_MS = 1_000;

export class AuditShipper {
  readonly name: string;
  private readonly o: AuditShipperOptions;
  private readonly c: ElasticsearchTraceConfig;
  private http?: EsHttp;
  private readonly confirmed = new Set<number>();
  private readonly lock = new Mutex();
  private templateReady: boolean;
  private timer?: TimerHandle;
  private wake?: () => void;
  private running?: Promise<void>;
  private stopped = true;
  /** Set when stop() ends a drain: a flush still looping gives up at its next pass. */
  private closed = false;
  private failures = 0;
  private lastError?: string;

  constructor(o: AuditShipperOptions) {
    this.o = o;
    this.c = o.config;
    this.name = o.name ?? 'elasticsearch';
    this.templateReady = !o.config.manageTemplate;
  }

  /** Consecutive failed passes (0 when the last one succeeded). */
  get failing(): number {
    return this.failures;
  }

  /**
   * Reads the credentials (KM-TRACE-005 when a variable is missing) and starts
   * the loop; an unreachable cluster does not fail start, it is retried.
   */
  async start(): Promise<void> {
    this.closed = false;
    this.connect();
    this.stopped = false;
    this.running = this.loop();
  }

  /**
   * Stops the loop after the pass under way; with drainMs, first tries to
   * ship what is left for at most that long (wall time): what does not make
   * it is shipped by the next start, from the checkpoint.
   */
  async stop(o: { drainMs?: number } = {}): Promise<void> {
    const wasRunning = !this.stopped;
    this.stopped = true;
    this.timer?.cancel();
    this.wake?.();
    await this.running;
    this.running = undefined;
    if (wasRunning && o.drainMs && (this.o.canShip?.() ?? true)) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([this.flush().catch(() => {}), new Promise<void>((r) => (timer = setTimeout(r, o.drainMs).unref()))]);
      clearTimeout(timer);
    }
    this.closed = true;
    await this.lock.run(async () => {});
    this.http?.close();
    this.http = undefined;
  }

  /** One pass: the template if due, then one _bulk request. Throws KM-TRACE-001/002/004 on a failed request. */
  shipOnce(): Promise<PassResult> {
    const http = this.connect();
    return this.lock.run(async () => {
      let r: PassResult;
      try {
        if (!this.templateReady) await this.putTemplate(http);
        r = await shipPass({
          name: this.name,
          store: this.o.store,
          http,
          dataStream: this.c.dataStream,
          batchSize: this.c.batchSize,
          batchBytes: this.c.batchBytes,
          log: this.log,
          confirmed: this.confirmed,
        });
      } catch (err) {
        // While Elasticsearch is away the lag is what waits: read it from the store, as the pass could not.
        await this.measureLag().catch(() => {});
        throw err;
      }
      traceLagRecords.set({ shipper: this.name }, Math.max(0, r.headSeq - r.checkpoint));
      if (r.retried === 0) traceLastSuccessSeconds.set({ shipper: this.name }, this.o.clock.now() / 1000);
      return r;
    });
  }

  private async measureLag(): Promise<void> {
    const [head, checkpoint] = await Promise.all([this.o.store.audit.head(), this.o.store.shipperCheckpoint(this.name)]);
    traceLagRecords.set({ shipper: this.name }, Math.max(0, (head?.seq ?? 0) - checkpoint));
  }

  /**
   * Ships until caught up with the head; returns the passes' totals (and the
   * last checkpoint and head). Throws on the first failed request, or when
   * Elasticsearch asks for items to be sent again.
   */
  async flush(maxPasses = 1_000): Promise<PassResult> {
    const total: PassResult = { sent: 0, created: 0, duplicates: 0, rejected: 0, retried: 0, gap: 0, checkpoint: 0, headSeq: 0 };
    for (let i = 0; i < maxPasses && !this.closed; i++) {
      const r = await this.shipOnce();
      for (const k of ['sent', 'created', 'duplicates', 'rejected', 'retried', 'gap'] as const) total[k] += r[k];
      total.checkpoint = r.checkpoint;
      total.headSeq = r.headSeq;
      if (r.retried > 0) throw new KubemendError(Errors.TRACE_UNAVAILABLE, `Elasticsearch asked for ${r.retried} audit records to be sent again; the checkpoint is at ${r.checkpoint}`);
      // A pass that sent something may have appended dead letters after the head it read: one more look.
      if (r.checkpoint >= r.headSeq && r.sent === 0) break;
    }
    return total;
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      let wait = this.c.flushInterval;
      if (this.o.canShip?.() ?? true) {
        try {
          const r = await this.shipOnce();
          if (r.retried > 0) wait = this.backoff(`${r.retried} items to retry`);
          else {
            this.recovered();
            if (r.checkpoint < r.headSeq) wait = 0;
          }
        } catch (err) {
          wait = this.backoff(err instanceof KubemendError ? `${err.code} ${err.message}` : `internal: ${(err as Error).message}`, err);
        }
      }
      if (!this.stopped) await this.sleep(wait);
    }
  }

  /** Exponential with jitter: half the step fixed, half random, so replicas and restarts spread out. */
  private backoff(reason: string, err?: unknown): number {
    this.failures++;
    const wait = backoff(this.failures, BASE_BACKOFF_MS, this.c.maxBackoff, this.o.random);
    // A cluster down for an hour says so once, and again when the reason changes, not every retry.
    if (err !== undefined && reason !== this.lastError) {
      const fix = err instanceof KubemendError ? ` (fix: ${err.fix})` : '';
      this.log(`error: audit shipping to ${this.c.dataStream} failed: ${reason}${fix}; retrying in ${wait}ms with back-off`);
    }
    this.lastError = reason;
    return wait;
  }

  private recovered(): void {
    if (this.failures > 0 && this.lastError) this.log(`audit shipping to ${this.c.dataStream} resumed after ${this.failures} failed attempts`);
    this.failures = 0;
    this.lastError = undefined;
  }

  private sleep(ms: number): Promise<void> {
    if (ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      this.wake = resolve;
      this.timer = this.o.clock.setTimeout(resolve, ms);
    });
  }

  private async putTemplate(http: EsHttp): Promise<void> {
    const name = this.c.templateName ?? this.c.dataStream;
    const body = JSON.stringify(indexTemplate({ dataStream: this.c.dataStream, priority: this.c.templatePriority, flavor: this.c.flavor }));
    const res = await request({ http, name: this.name }, 'PUT', `/_index_template/${encodeURIComponent(name)}`, body);
    if (res.status === 200) {
      this.templateReady = true;
      this.log(`audit trace: index template ${name} in place for data stream ${this.c.dataStream} at ${res.url}`);
      return;
    }
    if (res.status === 400 || res.status === 404) {
      throw new KubemendError(Errors.TRACE_TEMPLATE, `${res.url} refused the index template ${name} with ${res.status}: ${redact(errorReason(res.text)).slice(0, 500)}`);
    }
    throw statusError({ name: this.name }, res.status, res.text, res.url, `the index template ${name}`);
  }

  private connect(): EsHttp {
    if (this.http) return this.http;
    const conn = resolveEsConnection(this.c, this.o.env ?? process.env);
    // Whatever Elasticsearch or a proxy echoes back, the credentials never reach a log line.
    if (conn.authorization) {
      redactor.addSecret(conn.authorization);
      redactor.addSecret(conn.authorization.replace(/^\S+\s+/, ''));
      const env = this.o.env ?? process.env;
      // Not the user name: it is no secret, and masking it would blank it out of audit records too.
      for (const v of [this.c.apiKeyEnv, this.c.passwordEnv]) if (v) redactor.addSecret(env[v]);
    }
    this.http = new EsHttp(conn);
    return this.http;
  }

  private readonly log = (line: string): void => {
    (this.o.log ?? ((l: string) => process.stderr.write(`${l}\n`)))(redact(line));
  };
}
