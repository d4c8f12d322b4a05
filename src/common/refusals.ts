// Refused requests at kubemend's doors (webhooks, Slack, Mattermost, the
// console) are written to the audit log, so a probe or a leaked-then-revoked
// credential leaves a trace. A flood of refusals must not fill the log, so
// writes are rate-limited by token buckets on the injected clock: one per
// (action, reason, route) and one for all of them together. What a bucket
// withholds is counted and carried by the next record of that bucket (and
// written as a summary on close), so the log still says how many there were.
//
// It lives in common/ because both the server (webhooks) and the chat
// adapters refuse requests, and the audit log is reached through a callback.
import type { Clock } from './clock.ts';
import { refusalAuditsSuppressedTotal } from './metrics.ts';

/** One refused request, as the door that refused it describes it. Never a credential or a body. */
export interface Refusal {
  /** `webhook.refused` or `chat.request.refused`. */
  action: string;
  /** The webhook's name (`alertmanager`, `github`) or the chat route (`/slack/commands`). */
  route: string;
  /** A stable reason code: `bad_token`, `bad_signature`, `replay`, `unknown_name`, `too_large`, … */
  reason: string;
  /** The HTTP status the caller got. */
  status: number;
  /** A short human explanation (never the credential). */
  detail?: string;
  remoteAddress?: string;
  userAgent?: string;
  /**
   * Rate-limit bucket instead of the route, for routes a caller chooses
   * freely (an unknown webhook name), so new names cannot mint new buckets.
   */
  bucket?: string;
}

/** What reaches the audit log: the refusal plus how many like it were withheld before it. */
export interface RefusalRecord extends Omit<Refusal, 'bucket'> {
  /** Refusals of the same bucket withheld since the last record of it. */
  suppressed: number;
}

/** Where refusals go: the doors call `record`, which never throws and never waits. */
export interface RefusalAudit {
  record(r: Refusal): void;
}

export interface RefusalRecorderOptions {
  /** Writes one record (the audit log's append); failures are reported to `onError`. */
  sink: (r: RefusalRecord) => Promise<unknown> | unknown;
  clock: Clock;
  /** Records per minute per bucket (default 10), also the burst. */
  perMinute?: number;
  /** Records per minute over all buckets (default 120), also the burst. */
  totalPerMinute?: number;
  onError?: (err: unknown) => void;
}

// Strings from the caller are cut: a refusal must not be a way to write large records.
const FIELD_MAX = 200;
// Buckets are keyed by configured routes and fixed reasons; this caps them anyway.
const BUCKETS_MAX = 1000;

class TokenBucket {
  private readonly perMinute: number;
  private tokens: number;
  private last: number;
  constructor(perMinute: number, now: number) {
    this.perMinute = perMinute;
    this.tokens = perMinute;
    this.last = now;
  }

  take(now: number): boolean {
    this.tokens = Math.min(this.perMinute, this.tokens + ((now - this.last) * this.perMinute) / 60_000);
    this.last = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

export class RefusalRecorder implements RefusalAudit {
  private readonly o: RefusalRecorderOptions;
  private readonly perMinute: number;
  private readonly total: TokenBucket;
  private readonly buckets = new Map<string, { bucket: TokenBucket; suppressed: number; last?: RefusalRecord }>();
  private readonly inFlight = new Set<Promise<void>>();

  constructor(o: RefusalRecorderOptions) {
    this.o = o;
    this.perMinute = o.perMinute ?? 10;
    this.total = new TokenBucket(o.totalPerMinute ?? 120, o.clock.now());
  }

  record(r: Refusal): void {
    const now = this.o.clock.now();
    const rec: RefusalRecord = {
      action: r.action,
      route: cut(r.route),
      reason: r.reason,
      status: r.status,
      ...(r.detail ? { detail: cut(r.detail) } : {}),
      ...(r.remoteAddress ? { remoteAddress: cut(r.remoteAddress) } : {}),
      ...(r.userAgent ? { userAgent: cut(r.userAgent) } : {}),
      suppressed: 0,
    };
    let key = `${r.action}\u0000${r.reason}\u0000${r.bucket ?? r.route}`;
    if (!this.buckets.has(key) && this.buckets.size >= BUCKETS_MAX) key = `${r.action}\u0000${r.reason}\u0000*`;
    let b = this.buckets.get(key);
    if (!b) this.buckets.set(key, b = { bucket: new TokenBucket(this.perMinute, now), suppressed: 0 });
    // The bucket is asked first, so a flood on one route cannot spend the tokens others need.
    if (!b.bucket.take(now) || !this.total.take(now)) {
      b.suppressed++;
      b.last = rec;
      refusalAuditsSuppressedTotal.inc({ action: r.action, reason: r.reason });
      return;
    }
    rec.suppressed = b.suppressed;
    b.suppressed = 0;
    b.last = undefined;
    this.write(rec);
  }

  /** Writes a summary for every bucket with withheld refusals, then waits for every write. */
  async close(): Promise<void> {
    for (const b of this.buckets.values()) {
      if (!b.suppressed || !b.last) continue;
      const { remoteAddress: _a, userAgent: _u, ...last } = b.last;
      this.write({ ...last, detail: `${b.suppressed} refusals not recorded one by one (rate limit); the last: ${last.detail ?? last.reason}`, suppressed: b.suppressed });
      b.suppressed = 0;
      b.last = undefined;
    }
    await this.idle();
  }

  /** Resolves once every record handed to the sink so far is written (or failed). */
  async idle(): Promise<void> {
    while (this.inFlight.size) await Promise.allSettled([...this.inFlight]);
  }

  private write(rec: RefusalRecord): void {
    const p = (async () => {
      try {
        await this.o.sink(rec);
      } catch (err) {
        this.o.onError?.(err);
      }
    })();
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p));
  }
}

function cut(s: string): string {
  return s.length > FIELD_MAX ? `${s.slice(0, FIELD_MAX)}…` : s;
}
