// Checkpoints a busy store's WAL on another thread. SQLite copies the WAL
// back into the database (and fsyncs it) every 1,000 pages by default, inside
// the COMMIT that crossed the line: on the event loop, since node:sqlite is
// synchronous. With the checkpoints on a worker, 10,000 audit appends from 64
// tasks went from 10.8k to 13.0k records a second (issue 16's bench, paired
// medians). Once a connection has committed `afterWrites` transactions, a
// worker thread with its own connection takes over, and the connection's own
// automatic checkpoint stays only as a backstop, at `backstopPages`, for a
// worker that fell behind or died.
import { Worker } from 'node:worker_threads';
import { sqliteCheckpointsTotal } from '../common/index.ts';
import type { CheckpointWorkerData, CheckpointWorkerMessage } from './sqlite-checkpoint-worker.ts';

export interface CheckpointerOptions {
  /** Write transactions before the worker starts: small and short-lived stores (tests, CLI commands) never start one. */
  afterWrites?: number;
  intervalMs?: number;
  /** A WAL larger than this is truncated by the worker. */
  truncateBytes?: number;
  /** The connection's own wal_autocheckpoint while the worker runs. */
  backstopPages?: number;
  busyTimeoutMs?: number;
}

/** SQLite's default wal_autocheckpoint, restored when the worker is gone. */
const DEFAULT_PAGES = 1000;

export interface CheckpointStats {
  /** Whether the worker runs now. */
  running: boolean;
  /** Checkpoints that moved frames, and frames moved. */
  checkpoints: number;
  frames: number;
  truncations: number;
  lastError?: string;
}

export class WalCheckpointer {
  readonly stats: CheckpointStats = { running: false, checkpoints: 0, frames: 0, truncations: 0 };
  private readonly path: string;
  private readonly setAutocheckpoint: (pages: number) => void;
  private readonly o: Required<CheckpointerOptions>;
  private writes = 0;
  private worker: Worker | undefined;
  private stopped = false;

  constructor(path: string, setAutocheckpoint: (pages: number) => void, opts: CheckpointerOptions = {}) {
    this.path = path;
    this.setAutocheckpoint = setAutocheckpoint;
    // An option passed as undefined keeps its default (an undefined threshold would never start the worker).
    const given = Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined)) as CheckpointerOptions;
    this.o = { afterWrites: 32, intervalMs: 500, truncateBytes: 64 * 2 ** 20, backstopPages: 16_384, busyTimeoutMs: 30_000, ...given };
  }

  /** The worker thread while it runs (for tests that make it fail). */
  get thread(): Worker | undefined {
    return this.worker;
  }

  /** Called after each committed write: starts the worker at the threshold. */
  wrote(): void {
    if (++this.writes === this.o.afterWrites && !this.stopped) this.start();
  }

  private start(): void {
    const data: CheckpointWorkerData = { path: this.path, intervalMs: this.o.intervalMs, truncateBytes: this.o.truncateBytes, busyTimeoutMs: this.o.busyTimeoutMs };
    const worker = new Worker(new URL('./sqlite-checkpoint-worker.ts', import.meta.url), { workerData: data });
    this.worker = worker;
    // At once, not when the worker has started: a burst of appends runs on microtasks and would not hear from it until the burst is over.
    this.stats.running = true;
    this.setAutocheckpoint(this.o.backstopPages);
    worker.on('message', (m: CheckpointWorkerMessage) => {
      if ('error' in m) {
        this.stats.lastError = m.error;
        sqliteCheckpointsTotal.inc({ outcome: 'failed' });
        return;
      }
      if (m.checkpointed > 0) {
        this.stats.checkpoints++;
        sqliteCheckpointsTotal.inc({ outcome: 'checkpointed' });
      }
      this.stats.frames += m.checkpointed;
      if (m.truncated) {
        this.stats.truncations++;
        sqliteCheckpointsTotal.inc({ outcome: 'truncated' });
      }
    });
    const gone = (why?: string) => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      this.stats.running = false;
      if (why) {
        // The worker's own last error (it could not open the database, say) is the reason; keep it beside the exit.
        this.stats.lastError = this.stats.lastError ? `${why} (its last error: ${this.stats.lastError})` : why;
        sqliteCheckpointsTotal.inc({ outcome: 'worker_died' });
      }
      if (this.stopped) return;
      // Back to the connection's own checkpoints: the WAL must not grow without bound.
      this.setAutocheckpoint(DEFAULT_PAGES);
      if (why) process.emitWarning(`the SQLite checkpoint worker of ${this.path} stopped: ${this.stats.lastError}; the store checkpoints in its own commits again`, { code: 'KUBEMEND_SQLITE_CHECKPOINTER' });
    };
    worker.on('error', (err) => gone(err.message));
    worker.on('exit', (code) => gone(code === 0 ? undefined : `the checkpoint worker exited with code ${code}`));
    // A store left open must not keep the process alive for its checkpoints. After the listeners: adding a 'message' listener refs the worker again.
    worker.unref();
  }

  /** Stops the worker, its connection closed, before the store's own connection closes. */
  async stop(): Promise<void> {
    this.stopped = true;
    const worker = this.worker;
    if (!worker) return;
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    worker.postMessage('stop');
    const timer = setTimeout(() => void worker.terminate(), 5_000);
    await exited;
    clearTimeout(timer);
  }
}
