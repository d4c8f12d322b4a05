// The worker thread of sqlite-checkpointer.ts: its own connection to the
// store's file, checkpointing the WAL into the database on a timer. A PASSIVE
// checkpoint never waits for, or holds up, the writer in the main thread; a
// WAL grown past `truncateBytes` (writes so steady that no checkpoint ever
// caught up, or a reader that kept it) is checkpointed and truncated once no
// reader uses it: tried at each interval, never waited for.
import { statSync } from 'node:fs';
import { DatabaseSync } from 'node:sqlite';
import { pathToFileURL } from 'node:url';
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';

export interface CheckpointWorkerData {
  path: string;
  intervalMs: number;
  truncateBytes: number;
  busyTimeoutMs: number;
}

export type CheckpointWorkerMessage = { checkpointed: number; walFrames: number; truncated: boolean } | { error: string };

// Imported anywhere but as the checkpoint worker (a check that every module loads), it does nothing.
if (parentPort && workerData) run(parentPort, workerData as CheckpointWorkerData);

function run(port: MessagePort, { path, intervalMs, truncateBytes, busyTimeoutMs }: CheckpointWorkerData): void {
  function walBytes(): number {
    try {
      return statSync(`${path}-wal`).size;
    } catch {
      return 0;
    }
  }

  let db: DatabaseSync | undefined;
  try {
    // mode=rw: a database deleted or moved since the store opened it is an error here, never a new empty file checkpointed in its place.
    const url = pathToFileURL(path);
    url.searchParams.set('mode', 'rw');
    db = new DatabaseSync(url, { timeout: busyTimeoutMs });
  } catch (err) {
    port.postMessage({ error: (err as Error).message } satisfies CheckpointWorkerMessage);
    process.exit(1);
  }
  const passive = db.prepare('PRAGMA wal_checkpoint(PASSIVE)');
  const truncate = db.prepare('PRAGMA wal_checkpoint(TRUNCATE)');
  // TRUNCATE holds the write lock while it waits for readers: with a busy
  // timeout, a read transaction in another process (`kubemend audit verify`)
  // would hold up every writer for as long. It tries once, as a PASSIVE
  // checkpoint when it cannot have the lock, and again at the next interval.
  function truncateNow(): { busy: number; log: number; checkpointed: number } {
    // exec, not a prepared statement: SQLite applies this pragma when it prepares it.
    db!.exec('PRAGMA busy_timeout = 0');
    try {
      return truncate.get() as { busy: number; log: number; checkpointed: number };
    } finally {
      db!.exec(`PRAGMA busy_timeout = ${Math.trunc(busyTimeoutMs)}`);
    }
  }

  const timer = setInterval(() => {
    try {
      const big = walBytes() > truncateBytes;
      const r = big ? truncateNow() : (passive.get() as { busy: number; log: number; checkpointed: number });
      // busy: a reader kept the WAL, or another process was checkpointing (then both counts are -1).
      if (r.log > 0 || big) port.postMessage({ checkpointed: Math.max(0, r.checkpointed), walFrames: r.log, truncated: big && r.busy === 0 } satisfies CheckpointWorkerMessage);
    } catch (err) {
      port.postMessage({ error: (err as Error).message } satisfies CheckpointWorkerMessage);
    }
  }, intervalMs);

  port.on('message', (m: unknown) => {
    if (m !== 'stop') return;
    clearInterval(timer);
    db!.close();
    port.close();
  });
}
