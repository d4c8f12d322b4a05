// Leader election on a coordination.k8s.io/v1 Lease, after client-go's
// tools/leaderelection (which @kubernetes/client-node 2.x does not ship):
// the same record (holderIdentity, leaseDurationSeconds, acquireTime,
// renewTime, leaseTransitions), optimistic concurrency on resourceVersion,
// and the same judgement of expiry — a candidate counts leaseDuration from
// when *it* saw the record change, never from the holder's timestamps, so
// clocks need not agree. The leader steps down when it has not renewed for
// renewDeadline (< leaseDuration), so it stops acting before anyone else may
// take over. Two differences: candidates retry every retryPeriod on a fixed
// cadence, without jitter (a handful of replicas, and it bounds failover by
// leaseDuration + retryPeriod), and losing the lease makes this process a
// follower again instead of exiting.
import { type Clock, type TimerHandle, Errors, KubemendError, k8sMicroTime } from '../common/index.ts';
import { KubeApiError } from './errors.ts';
import type { KubeHttp } from './http.ts';

export interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

interface Lease {
  metadata: { name: string; namespace: string; resourceVersion?: string };
  spec?: LeaseSpec;
}

/** One leadership: who, and the Lease's transition count when it was won (the fencing token). */
export interface LeaderTerm {
  holder: string;
  term: number;
}

export interface LeaderElectionSettings {
  namespace: string;
  name: string;
  /** This process's holderIdentity: unique per process (hostname_uuid), as controller-runtime makes it. */
  identity: string;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
}

export interface LeaderElectorOptions extends LeaderElectionSettings {
  kube: KubeHttp;
  clock: Clock;
  onStartedLeading?: (term: LeaderTerm) => void;
  onStoppedLeading?: (term: LeaderTerm, reason: string) => void;
  /** The holder another replica's record names, whenever it changes (undefined: nobody holds it). */
  onNewLeader?: (holder: string | undefined) => void;
  log?: (line: string) => void;
}

export class LeaderElector {
  readonly o: LeaderElectorOptions;
  private observed?: { spec: LeaseSpec; rv?: string; raw: string };
  /** Local clock time at which the observed record last changed. */
  private observedAt = 0;
  private leadingTerm?: LeaderTerm;
  private deadline?: TimerHandle;
  private running = false;
  private loopDone?: Promise<void>;
  private wake?: () => void;
  /** Aborts the attempt in flight (a renewal hanging past the deadline). */
  private abortAttempt?: () => void;
  private lastError?: string;
  private lastHolder?: string;

  constructor(o: LeaderElectorOptions) {
    if (!(o.leaseDurationMs > o.renewDeadlineMs && o.renewDeadlineMs > o.retryPeriodMs && o.retryPeriodMs > 0)) {
      throw new Error(`internal: leader election needs leaseDuration > renewDeadline > retryPeriod > 0 (got ${o.leaseDurationMs}, ${o.renewDeadlineMs}, ${o.retryPeriodMs})`);
    }
    this.o = o;
  }

  get path(): string {
    return `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(this.o.namespace)}/leases/${encodeURIComponent(this.o.name)}`;
  }

  get leading(): boolean {
    return this.leadingTerm !== undefined;
  }

  /** This process's term while it leads. */
  get term(): LeaderTerm | undefined {
    return this.leadingTerm;
  }

  /** The holder of the record last seen (this process's identity while it leads). */
  get holder(): string | undefined {
    return this.observed?.spec.holderIdentity || undefined;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loopDone = this.loop();
  }

  /** Stops campaigning; a leader steps down and releases the Lease (holder cleared) so a follower takes over at once. */
  async stop(o: { release?: boolean } = {}): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loopDone;
    const term = this.leadingTerm;
    if (term) this.stepDown('this process is stopping');
    if (term && o.release !== false) await this.release(term).catch((err: unknown) => this.o.log?.(`leader election: could not release ${this.where()}: ${(err as Error).message}`));
  }

  /**
   * The fencing check, made live: this process still leads under `term` and
   * the Lease, read now, names the same holder with the same transition count.
   */
  async verify(term: LeaderTerm, signal?: AbortSignal): Promise<boolean> {
    const mine = this.leadingTerm;
    if (!mine || mine.holder !== term.holder || mine.term !== term.term) return false;
    const lease = await this.o.kube.request<Lease>('GET', this.path, { signal }).catch(() => undefined);
    return lease?.spec?.holderIdentity === term.holder && (lease.spec.leaseTransitions ?? 0) === term.term && this.leadingTerm === mine;
  }

  /** One attempt (client-go's tryAcquireOrRenew): true when this process holds the Lease afterwards. */
  async tryAcquireOrRenew(signal?: AbortSignal): Promise<boolean> {
    const now = this.o.clock.now();
    const desired: LeaseSpec = {
      holderIdentity: this.o.identity,
      // The record carries whole seconds; rounding up only makes others wait longer.
      leaseDurationSeconds: Math.ceil(this.o.leaseDurationMs / 1000),
      acquireTime: k8sMicroTime(now),
      renewTime: k8sMicroTime(now),
      leaseTransitions: 0,
    };
    // 1. The leader's fast path: update over the record it wrote last.
    if (this.isLeader() && this.valid(now) && this.observed) {
      desired.acquireTime = this.observed.spec.acquireTime;
      desired.leaseTransitions = this.observed.spec.leaseTransitions ?? 0;
      const res = await this.write('PUT', desired, this.observed.rv, signal).catch((err: unknown) => {
        if (!(err instanceof KubeApiError && err.status === 409)) this.o.log?.(`leader election: optimistic renew of ${this.where()} failed (${(err as Error).message}); reading it again`);
        return undefined;
      });
      if (res) return this.saw(res, now, true);
    }
    // 2. Read the record, or create it.
    let current: Lease;
    try {
      current = await this.o.kube.request<Lease>('GET', this.path, { signal });
    } catch (err) {
      if (!(err instanceof KubeApiError && err.status === 404)) throw this.failure('read', err);
      const created = await this.write('POST', desired, undefined, signal).catch((e: unknown) => {
        if (e instanceof KubeApiError && e.status === 409) return undefined; // another replica created it first
        throw this.failure('create', e);
      });
      return created ? this.saw(created, now, true) : false;
    }
    // 3. Someone else's record that has not expired, as this process has seen it.
    this.saw(current, now, false);
    const spec = current.spec ?? {};
    if (spec.holderIdentity && this.valid(now) && !this.isLeader()) return false;
    // 4. Take it (a new transition) or renew it (the same one).
    if (this.isLeader()) {
      desired.acquireTime = spec.acquireTime;
      desired.leaseTransitions = spec.leaseTransitions ?? 0;
    } else {
      desired.leaseTransitions = (spec.leaseTransitions ?? 0) + 1;
    }
    const res = await this.write('PUT', desired, current.metadata.resourceVersion, signal).catch((e: unknown) => {
      if (e instanceof KubeApiError && e.status === 409) return undefined; // another replica wrote first
      throw this.failure('update', e);
    });
    return res ? this.saw(res, now, true) : false;
  }

  private async loop(): Promise<void> {
    while (this.running) {
      // A fixed cadence (not retryPeriod after each attempt ends): slow round trips do not add up, so a follower
      // tries again at the moment the lease it saw expires, and failover stays within leaseDuration + retryPeriod.
      const began = this.o.clock.now();
      const attempt = new AbortController();
      // A renewal still hanging at the deadline is abandoned with the leadership.
      const onDeadline = () => attempt.abort();
      this.abortAttempt = onDeadline;
      const ok = await this.tryAcquireOrRenew(attempt.signal).catch((err: unknown) => {
        const code = (err as { code?: unknown }).code;
        const msg = `${typeof code === 'string' ? `${code} ` : ''}${(err as Error).message}`;
        if (msg !== this.lastError) this.o.log?.(`leader election: ${msg}`);
        this.lastError = msg;
        return false;
      });
      this.abortAttempt = undefined;
      if (!this.running) break;
      if (ok) {
        this.lastError = undefined;
        if (!this.leadingTerm) {
          this.leadingTerm = { holder: this.o.identity, term: this.observed?.spec.leaseTransitions ?? 0 };
          this.armDeadline();
          this.o.onStartedLeading?.(this.leadingTerm);
        } else {
          this.armDeadline();
        }
      } else if (this.leadingTerm && this.holder !== this.o.identity) {
        this.stepDown(`${this.holder ?? 'another replica'} holds ${this.where()} now`);
      }
      await new Promise<void>((r) => {
        const t = this.o.clock.setTimeout(r, Math.max(0, began + this.o.retryPeriodMs - this.o.clock.now()));
        this.wake = () => {
          t.cancel();
          r();
        };
      });
      this.wake = undefined;
    }
  }

  /** Steps down when no renewal succeeds within renewDeadline of the last one. */
  private armDeadline(): void {
    this.deadline?.cancel();
    this.deadline = this.o.clock.setTimeout(() => {
      this.abortAttempt?.();
      this.stepDown(`could not renew ${this.where()} within renewDeadline (${this.o.renewDeadlineMs}ms)`);
    }, this.o.renewDeadlineMs);
  }

  private stepDown(reason: string): void {
    const term = this.leadingTerm;
    this.deadline?.cancel();
    this.deadline = undefined;
    if (!term) return;
    this.leadingTerm = undefined;
    this.o.onStoppedLeading?.(term, reason);
  }

  private async release(term: LeaderTerm): Promise<void> {
    const now = this.o.clock.now();
    await this.write('PUT', { leaseDurationSeconds: 1, acquireTime: k8sMicroTime(now), renewTime: k8sMicroTime(now), leaseTransitions: term.term }, this.observed?.rv);
  }

  private isLeader(): boolean {
    return this.observed?.spec.holderIdentity === this.o.identity;
  }

  private valid(now: number): boolean {
    return this.observedAt + (this.observed?.spec.leaseDurationSeconds ?? 0) * 1000 > now;
  }

  /** Records the record seen; its expiry counts from now only when it changed. Returns `ok`. */
  private saw(lease: Lease, now: number, ok: boolean): boolean {
    const spec = lease.spec ?? {};
    const raw = JSON.stringify(spec);
    if (raw !== this.observed?.raw) this.observedAt = now;
    this.observed = { spec, rv: lease.metadata.resourceVersion, raw };
    const holder = spec.holderIdentity || undefined;
    if (holder !== this.lastHolder) {
      this.lastHolder = holder;
      this.o.onNewLeader?.(holder);
    }
    return ok;
  }

  private write(method: 'POST' | 'PUT', spec: LeaseSpec, rv: string | undefined, signal?: AbortSignal): Promise<Lease> {
    const body = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: this.o.name, namespace: this.o.namespace, ...(rv ? { resourceVersion: rv } : {}) }, spec };
    const path = method === 'POST' ? this.path.slice(0, this.path.lastIndexOf('/')) : this.path;
    return this.o.kube.request<Lease>(method, path, { body, signal });
  }

  private where(): string {
    return `Lease ${this.o.namespace}/${this.o.name}`;
  }

  private failure(what: string, err: unknown): KubemendError {
    return new KubemendError(Errors.LEADER_ELECTION, `cannot ${what} ${this.where()}: ${(err as Error).message}`, { cause: err });
  }
}
