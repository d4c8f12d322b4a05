// How a kubemend process ends. Commands clean up before returning, and the
// process then exits explicitly so a forgotten keep-alive socket or timer can
// never keep a finished command around. Exiting at once would cut output
// still queued for a pipe (`kubemend … --json | jq` lost everything past the
// 64 KiB pipe buffer), so the exit waits until stdout and stderr have handed
// everything to the OS.
import { readFileSync } from 'node:fs';
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

/**
 * `npx kubemend …` and `npm run …` start kubemend as npm → `sh -c` → node.
 * npm passes SIGINT and SIGTERM only to that shell, which dies without
 * passing them on, and a SIGHUP kills npm alone; either way kubemend was
 * left running with nobody to stop it. So when npm launched it, kubemend
 * stops itself, as on SIGTERM (commands shut down cleanly on it), once its
 * parent or its parent's parent is gone. Outside npm a parent going away
 * changes nothing (`nohup kubemend watch &` keeps working).
 */
export function stopWithNpmParent(env: NodeJS.ProcessEnv = process.env, everyMs = 200): () => void {
  const byNpm = env.npm_command !== undefined || env.npm_lifecycle_event !== undefined;
  if (!byNpm || process.platform === 'win32') return () => {};
  const parent = process.ppid;
  const grandparent = parentOf(parent);
  const timer = setInterval(() => {
    if (process.ppid === parent && (grandparent === undefined || parentOf(parent) === grandparent)) return;
    clearInterval(timer);
    process.kill(process.pid, 'SIGTERM');
  }, everyMs);
  // Watching must never be what keeps a finished command alive.
  timer.unref();
  return () => clearInterval(timer);
}

/** The parent pid of `pid` from /proc (Linux); undefined where there is no /proc or no such process. */
function parentOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // "pid (comm) state ppid …": comm may hold spaces and parentheses.
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return undefined;
  }
}
