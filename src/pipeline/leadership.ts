// High availability: replicas of `serve` elect a leader on a Lease in the
// cluster they watch. Every replica keeps its informers, engine and chat
// warm; only the leader's sinks act (recording, remediation, incidents,
// notifications). The leader resumes and adopts runs every retry period
// (a dead leader's, those a follower queued), applies stop requests made on
// followers, and ingests the webhook signals followers relayed. Losing the
// lease abandons the runs in flight at once, before anyone else may take it.
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import { type Clock, type TimerHandle, leaderStatus, leaderTransitionsTotal } from '../common/index.ts';
import { LeaderElector, type KubeHttp, type LeaderElectionSettings, type LeaderTerm } from '../kube/index.ts';
import type { Fence, RunRecord, Store } from '../store/index.ts';
import type { Detection, Signal } from '../rules/index.ts';
import type { Fencing, RunbookExecutor } from '../runbooks/index.ts';

export interface LeaderElectionOptions extends Omit<LeaderElectionSettings, 'identity'> {
  /** holderIdentity (default hostname_uuid: unique per process, as controller-runtime makes it). */
  identity?: string;
  /** The cluster whose API holds the Lease (default: the first). */
  cluster?: string;
  /** Lease timing's clock (default: the pipeline's). */
  clock?: Clock;
}

export interface LeaderInfo {
  enabled: boolean;
  leading: boolean;
  identity?: string;
  /** The holder this replica last saw. */
  holder?: string;
  term?: number;
  lease?: string;
}

const ACTOR = { type: 'system', name: 'leader-election' } as const;

export class Leadership implements Fencing {
  readonly elector: LeaderElector;
  readonly identity: string;
  private readonly o: {
    store: Store;
    clock: Clock;
    executor: () => RunbookExecutor | undefined;
    ingest: (signal: Signal) => void;
    /** The leader-only sinks catch up with what the engine holds open (pipeline.ts). */
    takeOver: () => Promise<void>;
    log?: (line: string) => void;
  };
  /** Leading and losing are handled in order, each after the last. */
  private work: Promise<void> = Promise.resolve();
  private tick?: TimerHandle;
  private relayCursor = 0;
  private stopped = false;

  constructor(settings: LeaderElectionOptions, kube: KubeHttp, o: Leadership['o']) {
    this.o = o;
    this.identity = settings.identity ?? `${hostname()}_${randomUUID()}`;
    leaderStatus.set(0);
    this.elector = new LeaderElector({
      ...settings,
      identity: this.identity,
      kube,
      clock: settings.clock ?? o.clock,
      log: o.log,
      onStartedLeading: (term) => {
        this.work = this.work.then(() => this.lead(term)).catch((err: unknown) => o.log?.(`error: taking over as leader: ${(err as Error).message}`));
      },
      onStoppedLeading: (term, reason) => {
        // At once, not queued: the steps under way must stop before another replica may take the lease.
        const abandoning = o.executor()?.abandonAll() ?? Promise.resolve();
        this.tick?.cancel();
        this.work = this.work.then(() => this.lose(term, reason, abandoning)).catch((err: unknown) => o.log?.(`error: stepping down: ${(err as Error).message}`));
      },
      onNewLeader: (holder) => {
        if (holder !== this.identity) o.log?.(`leader election: ${holder ? `${holder} leads` : 'nobody leads'} (${this.lease})`);
      },
    });
  }

  get lease(): string {
    return `Lease ${this.elector.o.namespace}/${this.elector.o.name}`;
  }

  get leading(): boolean {
    return this.elector.leading;
  }

  current(): Fence | undefined {
    const t = this.elector.term;
    return t && { holder: t.holder, term: t.term };
  }

  verify(fence: Fence, signal?: AbortSignal): Promise<boolean> {
    return this.elector.verify(fence, signal);
  }

  info(): LeaderInfo {
    return { enabled: true, leading: this.leading, identity: this.identity, holder: this.elector.holder, term: this.elector.term?.term, lease: `${this.elector.o.namespace}/${this.elector.o.name}` };
  }

  start(): void {
    this.o.log?.(`leader election: campaigning for ${this.lease} as ${this.identity}`);
    this.elector.start();
  }

  /** Abandons the runs in flight under this replica's term, then releases the lease for a follower to take at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.tick?.cancel();
    if (this.leading) await this.o.executor()?.abandonAll();
    await this.elector.stop();
    await this.work;
    this.o.executor()?.stopFollowing();
  }

  private async lead(term: LeaderTerm): Promise<void> {
    leaderStatus.set(1);
    leaderTransitionsTotal.inc({ to: 'leader' });
    this.o.log?.(`leader election: this replica leads (${this.lease}, term ${term.term})`);
    await this.o.store.audit.append({ time: this.o.clock.now(), actor: ACTOR, action: 'leader.elected', outcome: 'info', data: { identity: term.holder, term: term.term, lease: this.info().lease } });
    await this.adopt();
    await this.o.takeOver();
    this.schedule();
  }

  private async lose(term: LeaderTerm, reason: string, abandoning: Promise<void>): Promise<void> {
    leaderStatus.set(0);
    leaderTransitionsTotal.inc({ to: 'follower' });
    this.o.log?.(`leader election: this replica no longer leads (term ${term.term}): ${reason}`);
    await abandoning.catch((err: unknown) => this.o.log?.(`error: abandoning runs: ${(err as Error).message}`));
    await this.o.store.audit.append({ time: this.o.clock.now(), actor: ACTOR, action: 'leader.lost', outcome: 'info', data: { identity: term.holder, term: term.term, lease: this.info().lease, reason } });
  }

  /** Every retry period while leading: adopt runs, apply stop requests, ingest relayed signals. */
  private schedule(): void {
    if (this.stopped || !this.leading) return;
    this.tick = this.o.clock.setTimeout(() => {
      this.work = this.work.then(async () => {
        if (!this.leading || this.stopped) return;
        await this.adopt();
        this.schedule();
      }).catch((err: unknown) => {
        this.o.log?.(`warning: leader's periodic work: ${(err as Error).message}`);
        this.schedule();
      });
    }, this.elector.o.retryPeriodMs);
  }

  private async adopt(): Promise<void> {
    const executor = this.o.executor();
    if (executor) {
      const { resumed, abandoned } = await executor.resumeInFlight();
      if (resumed) this.o.log?.(`leader: driving ${resumed} run(s) another replica started or left`);
      if (abandoned) this.o.log?.(`leader: abandoned ${abandoned} run(s) that cannot resume here (kubemend audit list --action runbook.run.abandoned)`);
    }
    const relayed = await this.o.store.relayedSignals(this.relayCursor);
    // A signal that waited longer than two failovers was relayed while no replica led: the world has moved on
    // (a still-firing alert is sent again by Alertmanager), so it is dropped rather than acted on late.
    const { leaseDurationMs, retryPeriodMs } = this.elector.o;
    const oldest = this.o.clock.now() - 2 * (leaseDurationMs + retryPeriodMs);
    let stale = 0;
    for (const r of relayed) {
      if (!this.leading) return;
      if (r.time >= oldest) this.o.ingest(r.signal as Signal);
      else stale++;
      this.relayCursor = r.seq;
    }
    if (stale) this.o.log?.(`leader: dropped ${stale} relayed webhook signal(s) older than ${2 * (leaseDurationMs + retryPeriodMs)}ms`);
    if (relayed.length) await this.o.store.dropRelayedSignals(this.relayCursor);
  }
}

/** The newest run started for a detection (by any replica), for a new leader's remediator. */
export async function lastRunFor(store: Store, d: Detection): Promise<RunRecord | undefined> {
  const runbook = d.action?.runbook;
  if (!runbook) return undefined;
  return (await store.listRuns({ runbook, since: d.firstSeen })).find((r) => r.detectionId === d.id);
}
