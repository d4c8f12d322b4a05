// Writes the sandbox's state file in batches: a change only marks the state
// dirty; at most once per interval the whole state is serialized (one
// synchronous pass, so it is consistent) and written atomically — a temporary
// file in the same directory, fsync, rename, fsync of the directory. A kill -9
// loses at most the changes since the last write; the file on disk is always
// a whole snapshot, old or new.
//
// The interval is real time, not cluster time: it paces disk writes, whose
// cost is real, whatever speed virtual time runs at.
import { closeSync, fsyncSync, openSync, renameSync, writeFileSync } from 'node:fs';
import { open, rename } from 'node:fs/promises';
import { dirname } from 'node:path';
import { KubemendError, Errors } from '../common/index.ts';

export const DEFAULT_WRITE_INTERVAL_MS = 250;
/** The state holds every object, Secrets included: readable by the owner only, like the kubeconfig. */
const FILE_MODE = 0o600;

export interface StateWriteStats {
  /** Snapshots written since start. */
  writes: number;
  /** Virtual time of the last snapshot on disk. */
  lastSavedAt?: number;
  /** Size of the last snapshot, bytes. */
  lastBytes: number;
  /** Time to gather and serialize the last snapshot (blocks the sandbox), ms. */
  lastBuildMs: number;
  /** Time to write, fsync and rename it (in the background), ms. */
  lastWriteMs: number;
}

export interface StateWriterOptions {
  file: string;
  /** Gathers and serializes the state now; returns the text and its virtual time. */
  build: () => { text: string; savedAt: number };
  intervalMs?: number;
  /** A background write failed (the sandbox keeps running; the next batch tries again). */
  onError?: (err: KubemendError) => void;
}

export class StateWriter {
  readonly stats: StateWriteStats = { writes: 0, lastBytes: 0, lastBuildMs: 0, lastWriteMs: 0 };
  private readonly opts: StateWriterOptions;
  private readonly intervalMs: number;
  private readonly tmp: string;
  private dirty = false;
  private timer?: NodeJS.Timeout;
  private inFlight?: Promise<KubemendError | undefined>;
  private lastWriteReal = 0;
  private closed = false;
  /** The failure last reported, so a full disk is said once, not four times a second. */
  private lastError?: string;

  constructor(opts: StateWriterOptions) {
    this.opts = opts;
    this.intervalMs = opts.intervalMs ?? DEFAULT_WRITE_INTERVAL_MS;
    this.tmp = `${opts.file}.tmp`;
  }

  /** Something changed: a write follows within the interval. O(1), safe to call on every store event. */
  markDirty(): void {
    if (this.closed) return;
    this.dirty = true;
    if (this.timer || this.inFlight) return;
    // A big cluster takes longer to serialize: space the batches so that snapshots never take more than a tenth of the time.
    const spacing = Math.max(this.intervalMs, 10 * this.stats.lastBuildMs);
    const wait = Math.max(0, this.lastWriteReal + spacing - performance.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.writeAsync();
    }, wait);
    // A pending batch must not keep a finished process alive; stop() writes it.
    this.timer.unref();
  }

  /**
   * Writes now and synchronously: the first snapshot at start, so a state
   * file that cannot be written fails the start rather than a later batch.
   */
  writeSync(): void {
    const { text, savedAt } = this.snapshot();
    const t0 = performance.now();
    try {
      const fd = openSync(this.tmp, 'w', FILE_MODE);
      try {
        writeFileSync(fd, text);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(this.tmp, this.opts.file);
      syncDirSync(dirname(this.opts.file));
    } catch (err) {
      throw this.ioError(err);
    }
    this.done(text, savedAt, t0);
  }

  /** Resolves once everything changed so far is on disk (a write barrier for callers); rejects when it cannot be written. */
  async flush(): Promise<void> {
    while (this.inFlight) await this.inFlight;
    if (!this.dirty) return;
    clearTimeout(this.timer);
    this.timer = undefined;
    const failed = await this.writeAsync();
    if (failed) throw failed;
  }

  /** Writes the state a last time (also the virtual time that passed without changes) and stops. */
  async close(): Promise<void> {
    this.dirty = true;
    await this.flush();
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private snapshot(): { text: string; savedAt: number } {
    const t0 = performance.now();
    this.dirty = false;
    const out = this.opts.build();
    this.stats.lastBuildMs = performance.now() - t0;
    return out;
  }

  /** Resolves with the error when the write failed (reported through onError, retried with the next batch). */
  private writeAsync(): Promise<KubemendError | undefined> {
    if (this.inFlight) return this.inFlight;
    const { text, savedAt } = this.snapshot();
    const t0 = performance.now();
    this.inFlight = (async () => {
      try {
        const fh = await open(this.tmp, 'w', FILE_MODE);
        try {
          await fh.writeFile(text);
          await fh.sync();
        } finally {
          await fh.close();
        }
        await rename(this.tmp, this.opts.file);
        syncDirSync(dirname(this.opts.file));
        this.done(text, savedAt, t0);
        return undefined;
      } catch (err) {
        this.dirty = true; // the next batch carries these changes too
        this.lastWriteReal = performance.now();
        const e = this.ioError(err);
        if (e.message !== this.lastError) (this.opts.onError ?? defaultOnError)(e);
        this.lastError = e.message;
        return e;
      } finally {
        this.inFlight = undefined;
        if (this.dirty && !this.closed) this.markDirty();
      }
    })();
    return this.inFlight;
  }

  private done(text: string, savedAt: number, t0: number): void {
    this.lastWriteReal = performance.now();
    this.lastError = undefined;
    this.stats.writes++;
    this.stats.lastSavedAt = savedAt;
    this.stats.lastBytes = Buffer.byteLength(text);
    this.stats.lastWriteMs = this.lastWriteReal - t0;
  }

  private ioError(err: unknown): KubemendError {
    return new KubemendError(Errors.SANDBOX_STATE_FILE, `cannot write the sandbox state file ${this.opts.file}: ${(err as Error).message}`, { cause: err });
  }
}

/** Makes the rename itself durable; some filesystems refuse fsync on a directory, which only weakens that. */
function syncDirSync(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // best effort
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function defaultOnError(err: KubemendError): void {
  console.error(err.render());
}
