// Time is injected everywhere so that a 10-minute incident can be replayed in
// milliseconds and every timestamp (objects, events, detections) agrees.

export interface TimerHandle {
  cancel(): void;
}

export interface Clock {
  /** Milliseconds since the epoch, in this clock's (possibly virtual) time. */
  now(): number;
  /** Run fn after `ms` of this clock's time. */
  setTimeout(fn: () => void, ms: number): TimerHandle;
  /** Resolve after `ms` of this clock's time. */
  sleep(ms: number): Promise<void>;
  /** How many clock milliseconds pass per real millisecond (1 for real time). */
  readonly speed: number;
}

export const realClock: Clock = {
  now: () => Date.now(),
  setTimeout(fn, ms) {
    const t = setTimeout(fn, Math.max(0, ms));
    return { cancel: () => clearTimeout(t) };
  },
  sleep: (ms) => new Promise((r) => setTimeout(r, Math.max(0, ms))),
  speed: 1,
};

/**
 * Virtual time that runs `speed` times faster than the wall clock, starting at
 * `start`. Timers are real timers scaled down, so HTTP clients (kubectl, the
 * informers) see a live server whose timestamps move faster.
 */
export class ScaledClock implements Clock {
  readonly speed: number;
  private readonly startVirtual: number;
  private readonly startReal: number;

  constructor(opts: { speed?: number; start?: number } = {}) {
    this.speed = opts.speed ?? 1;
    if (!(this.speed > 0)) throw new RangeError(`speed must be > 0, got ${this.speed}`);
    this.startReal = performance.now();
    this.startVirtual = opts.start ?? Date.now();
  }

  now(): number {
    return Math.floor(this.startVirtual + (performance.now() - this.startReal) * this.speed);
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const t = setTimeout(fn, Math.max(0, ms) / this.speed);
    return { cancel: () => clearTimeout(t) };
  }

  sleep(ms: number): Promise<void> {
    return new Promise((r) => this.setTimeout(r, ms));
  }
}

interface ManualTimer {
  at: number;
  seq: number;
  fn: () => void;
  cancelled: boolean;
}

/**
 * A clock that only moves when told to. `advance` fires due timers in time
 * order (ties in creation order), letting promise callbacks settle between
 * timers so async code observes each step.
 */
export class ManualClock implements Clock {
  readonly speed = Infinity;
  private current: number;
  private seq = 0;
  private timers: ManualTimer[] = [];

  constructor(start = Date.UTC(2026, 0, 1)) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const timer: ManualTimer = { at: this.current + Math.max(0, ms), seq: this.seq++, fn, cancelled: false };
    this.timers.push(timer);
    return { cancel: () => { timer.cancelled = true; } };
  }

  sleep(ms: number): Promise<void> {
    return new Promise((r) => this.setTimeout(r, ms));
  }

  /** Number of timers still waiting. */
  pending(): number {
    return this.timers.filter((t) => !t.cancelled).length;
  }

  async advance(ms: number): Promise<void> {
    const target = this.current + ms;
    for (;;) {
      await settle();
      this.timers = this.timers.filter((t) => !t.cancelled);
      const due = this.timers.filter((t) => t.at <= target).sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (!due) break;
      this.timers.splice(this.timers.indexOf(due), 1);
      this.current = Math.max(this.current, due.at);
      due.fn();
    }
    this.current = target;
    await settle();
  }
}

async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise<void>((r) => setImmediate(r));
}

/** RFC 3339 timestamp with second precision, as Kubernetes writes them. */
export function k8sTime(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

/** RFC 3339 with microseconds, as Kubernetes writes MicroTime (eventTime). */
export function k8sMicroTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Parses "90s", "5m", "1h30m", "250ms"; a bare number is seconds. */
export function parseDuration(input: string | number): number {
  if (typeof input === 'number') return input * 1000;
  const s = input.trim();
  if (/^\d+(\.\d+)?$/.test(s)) return Number(s) * 1000;
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/gy;
  let total = 0;
  let matched = 0;
  for (let m = re.exec(s); m; m = re.exec(s)) {
    total += Number(m[1]) * UNITS[m[2]];
    matched = re.lastIndex;
  }
  if (matched === 0 || matched !== s.length) {
    throw new RangeError(`invalid duration "${input}": use forms like 30s, 5m, 1h30m or 250ms`);
  }
  return total;
}

/** Elapsed virtual time as a fixed-width stamp, "12m05s": progress lines line up. */
export function formatClock(ms: number): string {
  const s = Math.floor(ms / 1000);
  return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}

/** "3m12s" style rendering used in CLI output. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  let s = Math.floor(ms / 1000);
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  return (h ? `${h}h` : '') + (m ? `${m}m` : '') + (s || (!h && !m) ? `${s}s` : '');
}
