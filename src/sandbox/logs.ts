// Container logs kept by the kubelet model and served by `pods/{name}/log`.
// Each container keeps its current and previous instance, like a real node.
import type { Clock } from '../common/index.ts';

export interface LogLine {
  time: number;
  text: string;
}

export interface ReadOptions {
  previous?: boolean;
  tailLines?: number;
  sinceSeconds?: number;
  timestamps?: boolean;
}

const MAX_LINES = 5000;

/** The kubelet's timestamps=true prefix: RFC3339NanoFixed, nine fractional digits. */
export function logTimestamp(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000000Z');
}

export interface ContainerLog {
  current: LogLine[];
  previous?: LogLine[];
}

export class LogBook {
  private readonly logs = new Map<string, ContainerLog>();
  private readonly followers = new Map<string, Set<(line: string) => void>>();

  private readonly clock: Clock;

  constructor(clock: Clock) {
    this.clock = clock;
  }

  append(ns: string, pod: string, container: string, text: string): void {
    const k = `${ns}/${pod}/${container}`;
    let log = this.logs.get(k);
    if (!log) this.logs.set(k, (log = { current: [] }));
    const line = { time: this.clock.now(), text };
    log.current.push(line);
    if (log.current.length > MAX_LINES) log.current.splice(0, log.current.length - MAX_LINES);
    for (const f of this.followers.get(k) ?? []) f(text);
  }

  /** A container restarted: its current log becomes the previous one. */
  rotate(ns: string, pod: string, container: string): void {
    const log = this.logs.get(`${ns}/${pod}/${container}`);
    if (log) {
      log.previous = log.current;
      log.current = [];
    }
  }

  /** undefined when the container never ran (or, with previous, never restarted). */
  read(ns: string, pod: string, container: string, opts: ReadOptions = {}): string[] | undefined {
    const log = this.logs.get(`${ns}/${pod}/${container}`);
    const lines = opts.previous ? log?.previous : log?.current;
    if (!lines) return undefined;
    let out = lines;
    if (opts.sinceSeconds !== undefined) {
      const from = this.clock.now() - opts.sinceSeconds * 1000;
      out = out.filter((l) => l.time >= from);
    }
    if (opts.tailLines !== undefined) out = opts.tailLines <= 0 ? [] : out.slice(-opts.tailLines);
    return out.map((l) => (opts.timestamps ? `${logTimestamp(l.time)} ${l.text}` : l.text));
  }

  /** Calls fn with each new line until the returned function is called. */
  follow(ns: string, pod: string, container: string, fn: (line: string) => void): () => void {
    const k = `${ns}/${pod}/${container}`;
    let set = this.followers.get(k);
    if (!set) this.followers.set(k, (set = new Set()));
    set.add(fn);
    return () => set!.delete(fn);
  }

  /** Every container's lines, for a state snapshot (serialize at once: they are live). */
  save(): [string, ContainerLog][] {
    return [...this.logs];
  }

  restore(saved: [string, ContainerLog][]): void {
    this.logs.clear();
    for (const [k, log] of saved) this.logs.set(k, log);
  }

  /** The pod is gone: forget its logs. */
  forgetPod(ns: string, pod: string): void {
    for (const k of this.logs.keys()) if (k.startsWith(`${ns}/${pod}/`)) this.logs.delete(k);
  }
}
