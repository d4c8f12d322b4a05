// How a kubemend process ends. Commands clean up before returning, and the
// process then exits explicitly so a forgotten keep-alive socket or timer can
// never keep a finished command around. Exiting at once would cut output
// still queued for a pipe (`kubemend … --json | jq` lost everything past the
// 64 KiB pipe buffer), so the exit waits until stdout and stderr have handed
// everything to the OS.
import type { Writable } from 'node:stream';

/** Resolves once everything written to `stream` so far has reached the OS, or the stream can take no more. */
export function flushed(stream: Writable): Promise<void> {
  if (stream.destroyed || stream.writableEnded || stream.writableLength === 0) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      stream.off('close', done);
      resolve();
    };
    // A reader that went away (`… | head`) closes the stream instead of draining it.
    stream.once('close', done);
    // Writes complete in order, so an empty write's callback runs after every earlier one.
    stream.write('', done);
  });
}

/** Exits with `code` once stdout and stderr are flushed. */
export async function exitWhenFlushed(code: number): Promise<never> {
  await Promise.all([flushed(process.stdout), flushed(process.stderr)]);
  process.exit(code);
}

/**
 * A reader closing the pipe early (`kubemend audit export | head`) is its
 * choice, not an error: the stream is dropped (later writes go nowhere)
 * instead of the process dying with an EPIPE stack trace.
 */
export function tolerateClosedPipes(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE') throw err;
      stream.destroy();
    });
  }
}
