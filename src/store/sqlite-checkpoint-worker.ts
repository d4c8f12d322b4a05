// The worker thread of sqlite-checkpointer.ts: its own connection to the
// store's file, checkpointing the WAL into the database on a timer. A PASSIVE
// checkpoint never waits for, or holds up, the writer in the main thread; a
// WAL grown past `truncateBytes` (writes so steady that no checkpoint ever
// caught up) is checkpointed and truncated, which waits for the writer once.
import { statSync } from 'node:fs';
import { DatabaseSync } from 'node:sqlite';
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
    db = new DatabaseSync(path, { timeout: busyTimeoutMs });
  } catch (err) {
    port.postMessage({ error: (err as Error).message } satisfies CheckpointWorkerMessage);
    process.exit(1);
  }
  const passive = db.prepare('PRAGMA wal_checkpoint(PASSIVE)');
  const truncate = db.prepare('PRAGMA wal_checkpoint(TRUNCATE)');

  const timer = setInterval(() => {
    try {
      const big = walBytes() > truncateBytes;
      const r = (big ? truncate : passive).get() as { busy: number; log: number; checkpointed: number };
      if (r.log > 0 || big) port.postMessage({ checkpointed: r.checkpointed, walFrames: r.log, truncated: big } satisfies CheckpointWorkerMessage);
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
