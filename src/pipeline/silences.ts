// Silences live in the store, and only there: `kubemend silence add|expire`
// (or the console) writes them with an audit record, and every running
// process re-reads the store on an interval, so a silence reaches every
// pipeline without a restart. A silence that runs out is audited once as
// `silence.expired` by the first process to notice.
import type { Clock, TimerHandle } from '../common/index.ts';
import type { Store } from '../store/index.ts';
import type { Actor, AuditTarget } from '../audit/index.ts';
import { Silences, silenceState, formatMatcher, type SilenceInput, type Silence } from '../rules/index.ts';

/**
 * The cluster and namespace a silence's exact matchers pin: its audit
 * records' target, so a reader the policy bars from that namespace does not
 * read them (the console hides records by target).
 */
export function silenceTarget(matchers: Silence['matchers']): AuditTarget | undefined {
  const exact = (name: string) => matchers.find((m) => m.name === name && m.op === '=')?.value;
  const cluster = exact('cluster');
  const namespace = exact('namespace');
  const target = { ...(cluster ? { cluster } : {}), ...(namespace ? { namespace } : {}) };
  return Object.keys(target).length ? target : undefined;
}

/** Validates a silence, stores it and audits `silence.created`. */
export async function createSilence(store: Store, clock: Clock, input: SilenceInput): Promise<Silence> {
  const silence = new Silences(clock).add(input);
  await store.putSilence(silence);
  await store.audit.append({
    time: clock.now(),
    actor: { type: 'user', name: silence.createdBy },
    action: 'silence.created',
    target: silenceTarget(silence.matchers),
    outcome: 'success',
    justification: silence.comment,
    data: { silenceId: silence.id, matchers: silence.matchers.map(formatMatcher), startsAt: silence.startsAt, endsAt: silence.endsAt },
  });
  return silence;
}

/** Ends a pending or active silence now; false when it is unknown or already over. */
export async function expireSilence(store: Store, clock: Clock, id: string, by: Actor): Promise<boolean> {
  const [found] = (await store.listSilences()).filter((s) => s.id === id);
  const now = clock.now();
  if (!found || silenceState(found, now) === 'expired') return false;
  const ended: Silence = { ...found, startsAt: Math.min(found.startsAt, now), endsAt: now, expiredBy: by.name };
  await store.putSilence(ended);
  await store.audit.append({ time: now, actor: by, action: 'silence.expired', target: silenceTarget(found.matchers), outcome: 'success', data: { silenceId: id, matchers: found.matchers.map(formatMatcher), reason: 'expired by hand' } });
  return true;
}

export interface SilenceSyncOptions {
  store: Store;
  clock: Clock;
  silences: Silences;
  /** How often to re-read the store (default 5s of the clock's time). */
  intervalMs?: number;
  log?: (line: string) => void;
}

/** Keeps an engine's silences equal to the store's. */
export class SilenceSync {
  private readonly o: SilenceSyncOptions;
  private timer?: TimerHandle;
  private stopped = false;
  private last = '';

  constructor(o: SilenceSyncOptions) {
    this.o = o;
  }

  /** Loads the silences once (awaited, so no detection slips past a silence at start), then follows the store. */
  async start(): Promise<void> {
    await this.sync();
    this.arm();
  }

  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
  }

  async sync(): Promise<void> {
    const now = this.o.clock.now();
    // Expired ones stay listed for a while (as in Alertmanager); the engine's set prunes them.
    const all = await this.o.store.listSilences();
    const text = JSON.stringify(all);
    if (text !== this.last) {
      const first = this.last === '';
      this.last = text;
      this.o.silences.replaceAll(all);
      const active = this.o.silences.active(now).length;
      if (!first || active) this.o.log?.(`silences: ${active} active (from the store)`);
    }
    for (const s of all) {
      if (s.expiredBy || silenceState(s, now) !== 'expired') continue;
      // Mark first, then audit: two processes racing may both audit, never neither.
      await this.o.store.putSilence({ ...s, expiredBy: 'time' });
      await this.o.store.audit.append({ time: now, actor: { type: 'system', name: 'silences' }, action: 'silence.expired', target: silenceTarget(s.matchers), outcome: 'info', data: { silenceId: s.id, matchers: s.matchers.map(formatMatcher), reason: 'its end time passed' } });
    }
  }

  private arm(): void {
    if (this.stopped) return;
    this.timer = this.o.clock.setTimeout(() => {
      this.sync().catch((err) => this.o.log?.(`warning: could not read silences from the store: ${(err as Error).message}`)).finally(() => this.arm());
    }, this.o.intervalMs ?? 5000);
  }
}
