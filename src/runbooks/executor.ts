// Runs runbooks step by step. Durable: every step transition is stored
// before and after its action, so after a crash a run resumes from its last
// completed step, and a step whose outcome is unknown is re-checked against
// the cluster (Action.check), never blindly repeated. Safe: one run per
// target (a lock the database enforces), budgets, impersonated mutations,
// and an audit record for every transition. With leader election (fencing),
// only the leader drives runs: a follower queues them, and a deposed leader
// abandons its step instead of completing it (fencing.ts).
import { randomUUID } from 'node:crypto';
import { type Clock, Errors, detectionToFirstRequestSeconds, detectionToRunSeconds, emittedAt, escalationsTotal, latencyNow, observeSince, redact, redactDeep, runToFirstRequestSeconds, runsTotal, stepDurationSeconds } from '../common/index.ts';
import type { Identity, KubeHttp } from '../kube/index.ts';
import type { Actor, AuditInput, AuditTarget } from '../audit/index.ts';
import { ACTIVE_RUN_STATUSES, TargetLockedError, sameFence, type RunRecord, type StepTransition, type StopRequest, type Store, type WriteFence } from '../store/index.ts';
import type { Detection } from '../rules/index.ts';
import { ActionError, type Action, type ActionContext, type ActionResult, type ApprovalGate, type Notifier } from './types.ts';
import { toActionError } from './actions/util.ts';
import { Budgets, describeRefusal, targetKey, type BudgetConfig, type Refusal } from './budgets.ts';
import type { RunbookView } from './view.ts';
import { RunFollower, stopKey, type Fencing } from './fencing.ts';

export interface ExecutorOptions {
  store: Store;
  clock: Clock;
  runbooks: ReadonlyMap<string, RunbookView>;
  actions: ReadonlyMap<string, Action>;
  kube: (cluster: string) => KubeHttp | undefined;
  /**
   * Identity of each cluster (the kube-system namespace's uid), stamped on
   * runs so that a resumed run never acts on a different cluster that took
   * the same name (a fresh sandbox, a rebuilt cluster).
   */
  clusterUid?: (cluster: string) => string | undefined;
  /**
   * Resolves once a cluster has made its writes so far durable. A real API
   * server answers a write after it is stored; the sandbox with a state file
   * writes in batches, so a mutating step is recorded as done only after this.
   */
  durable?: (cluster: string) => Promise<void>;
  /** The service identity mutations are made as, unless a run carries its own (chat). */
  identity: Identity;
  notifier: Notifier;
  approvals: ApprovalGate;
  budgets?: Partial<BudgetConfig>;
  dryRun?: boolean;
  /** Where escalations are sent. */
  escalationChannel?: string;
  onTransition?: (run: RunRecord, t: StepTransition) => void;
  onRunEnd?: (run: RunRecord) => void;
  log?: (message: string) => void;
  /** Leader election: only the leader drives runs, under its term (fencing.ts). Absent: this process drives every run. */
  fencing?: Fencing;
  /** How often runs driven by another replica are read back for listeners (cluster ms, default 1000). */
  followPollMs?: number;
}

export interface TriggerRequest {
  runbook: string;
  detection?: Detection;
  params?: Record<string, unknown>;
  startedBy: Actor;
  /** Impersonate this identity instead of the service identity (chat-triggered runs). */
  as?: Identity;
  target?: AuditTarget;
  incidentId?: string;
  dryRun?: boolean;
  /**
   * A person's confirmed action: when an automatic run (started by a rule or
   * the system) holds the target's lock, ask it to stop at its next step
   * boundary and start once it has, waiting at most `timeoutMs` (cluster time).
   * Never applies to a run a person started, nor to a run started by anything
   * but a person.
   */
  preempt?: Preemption;
}

export interface Preemption {
  timeoutMs: number;
  /** Why, for the pre-empted run's audit record (the person is req.startedBy). */
  reason: string;
  data?: Record<string, unknown>;
  /** Called once the holder was asked to stop, before the wait. */
  onWaiting?: (holder: RunRecord, o: { step?: string; interrupting: boolean }) => void;
}

export interface RunListener {
  onTransition?: (run: RunRecord, t: StepTransition) => void;
  onRunEnd?: (run: RunRecord) => void;
}

export type TriggerResult = { run: RunRecord } | { refused: Refusal; run?: RunRecord };

const SYSTEM: Actor = { type: 'system', name: 'runbook-executor' };
/** The abort reason of a shutdown: not a failure, not a cancellation. */
const SUSPEND = Object.freeze({ code: 'SUSPENDED', message: 'the process is shutting down; the run resumes at the next start' });
/** The abort reason when this process stops leading: the step under way is abandoned, the run left to the new leader. */
const DEPOSED = Object.freeze({ code: 'DEPOSED', message: 'this replica is no longer the leader' });

const isFenced = (err: unknown) => (err as { code?: string }).code === Errors.STORE_FENCED.code;

export class RunbookExecutor {
  readonly budgets: Budgets;
  private readonly o: ExecutorOptions;
  private runbooks: ReadonlyMap<string, RunbookView>;
  /** The view each run in flight started with: a reload never changes a run's steps under it. */
  private readonly views = new Map<string, RunbookView>();
  private readonly inFlight = new Map<string, Promise<void>>();
  private readonly claimed = new Set<string>();
  private readonly aborts = new Map<string, AbortController>();
  /** Runs asked to stop at their next step boundary, with who asked and how the run ends (cancelled, or preempted for a person). */
  private readonly stops = new Map<string, { by: Actor; reason: string; data?: Record<string, unknown>; status: 'cancelled' | 'preempted' }>();
  /** The step each run is taking now: a pre-emption interrupts it at once when it only reads or waits. */
  private readonly stepping = new Map<string, { action: Action; abort: AbortController }>();
  private readonly identities = new Map<string, Identity | undefined>();
  private readonly detections = new Map<string, Detection | undefined>();
  private readonly listeners: RunListener[] = [];
  /** The stop request (stopKey) read from the store and applied to each run this process drives. */
  private readonly storedStops = new Map<string, string>();
  /** Runs stored by trigger() and not yet launched: the leader's periodic adoption must not take them meanwhile. */
  private readonly starting = new Set<string>();
  private readonly follower: RunFollower;
  /** Latency marks of runs launched here that have not sent their first request yet (latencyNow()). */
  private readonly marks = new Map<string, { run: number; detection?: number }>();

  constructor(o: ExecutorOptions) {
    this.o = o;
    this.runbooks = o.runbooks;
    this.budgets = new Budgets(o.store, o.budgets);
    this.follower = new RunFollower({
      store: o.store,
      clock: o.clock,
      pollMs: o.followPollMs ?? 1000,
      onTransition: (run, t) => this.told(run, t),
      onRunEnd: (run) => this.ended(run),
      log: o.log,
    });
  }

  /** Hot reload: new runs use these runbooks; runs in flight keep the ones they started with. */
  setRunbooks(runbooks: ReadonlyMap<string, RunbookView>): void {
    this.runbooks = runbooks;
  }

  runbookNames(): string[] {
    return [...this.runbooks.keys()];
  }

  /**
   * Starts a run unless a lock or budget refuses it; a refusal is audited and,
   * for repeated failures, escalated. On a follower (fencing, not leading)
   * the run is queued for the leader and followed through the store.
   */
  async trigger(req: TriggerRequest): Promise<TriggerResult> {
    const view = this.runbooks.get(req.runbook);
    if (!view) throw new ActionError('UNKNOWN_RUNBOOK', `no runbook named "${req.runbook}"; known: ${[...this.runbooks.keys()].join(', ')}`);
    const now = this.o.clock.now();
    const emitted = emittedAt(req.detection);
    const resolved = view.resolve({ ...(req.detection?.action?.params ?? {}), ...(req.params ?? {}) });
    if (!resolved.ok) {
      const refusal: Refusal = { kind: 'invalid-params', problems: resolved.problems };
      await this.audit({ actor: req.startedBy, action: 'runbook.run.refused', outcome: 'denied', detectionId: req.detection?.id, data: { runbook: req.runbook, reason: describeRefusal(refusal) } });
      return { refused: refusal };
    }
    const params = resolved.params;
    const target = req.target ?? view.target({ detection: req.detection, params });
    const dryRun = req.dryRun ?? this.o.dryRun ?? false;
    const key = targetKey(target);
    // A runbook that cannot change anything takes no lock (budgets.ts, admit).
    const readOnly = this.readOnly(view);
    const exclusive = !dryRun && !readOnly;
    if (exclusive && this.claimed.has(key)) return this.refuse(req, view, target, { kind: 'locked', runId: 'starting' });
    if (exclusive) this.claimed.add(key);
    try {
      let refusal = dryRun ? undefined : await this.budgets.admit(req.runbook, target, now, { readOnly, isReadOnly: (rb) => this.readOnly(this.runbooks.get(rb)), clusterUid: this.o.clusterUid?.(target.cluster ?? '') });
      // The key stays claimed while the holder stops: no other trigger slips in between.
      if (refusal?.kind === 'locked' && req.preempt) refusal = await this.preemptHolder(refusal, req, req.preempt, target);
      if (refusal) return this.refuse(req, view, target, refusal);
      // After a pre-emption's wait, the run starts now, not when it was asked for.
      const at = this.o.clock.now();
      const fence = this.o.fencing?.current();
      const queued = this.o.fencing !== undefined && !fence;
      const run: RunRecord = {
        id: randomUUID(),
        runbook: req.runbook,
        detectionId: req.detection?.id,
        incidentId: req.incidentId,
        cluster: target.cluster ?? req.detection?.cluster ?? '',
        target,
        status: queued ? 'pending' : 'running',
        params,
        startedBy: req.startedBy,
        dryRun,
        createdAt: at,
        updatedAt: at,
        currentStep: view.start,
        outputs: {},
        ...(exclusive ? { lockKey: key } : {}),
        ...(fence ? { fence } : {}),
        ...(req.as ? { as: req.as } : {}),
        ...(view.graph ? { graph: view.graph() } : {}),
      };
      const uid = this.o.clusterUid?.(run.cluster);
      if (uid) run.clusterUid = uid;
      this.starting.add(run.id);
      try {
        // The admission above read the store; this insert is what decides, atomically, across processes.
        await this.o.store.createRun(run);
      } catch (err) {
        this.starting.delete(run.id);
        if (err instanceof TargetLockedError) return this.refuse(req, view, target, { kind: 'locked', runId: err.holder ?? 'that has just ended' });
        throw err;
      }
      try {
        const started = this.audit({ actor: req.startedBy, action: 'runbook.run.started', target, outcome: 'pending', runId: run.id, detectionId: run.detectionId, incidentId: run.incidentId, data: { runbook: run.runbook, params, dryRun, ...(queued ? { queued: 'this replica follows: the leader runs it' } : {}) } });
        if (queued) {
          await started;
          await this.follower.follow(run, 0);
          return { run };
        }
        this.identities.set(run.id, req.as);
        this.detections.set(run.id, req.detection);
        this.views.set(run.id, view);
        // Launched while the record commits: the drive reads what its first step needs meanwhile, and writes,
        // audits and sends nothing before the record is in (drive's `started`). The launch mark stays "audited".
        const audited = started.then(() => {
          const launched = latencyNow();
          observeSince(detectionToRunSeconds, emitted, launched);
          this.marks.set(run.id, { run: launched, detection: emitted });
        });
        this.launch(run, false, audited);
        // The caller still learns of the run once it is on record, or that it could not be recorded.
        await audited;
        return { run };
      } finally {
        this.starting.delete(run.id);
      }
    } finally {
      if (exclusive) this.claimed.delete(key);
    }
  }

  private async refuse(req: TriggerRequest, view: RunbookView, target: AuditTarget, refusal: Refusal): Promise<TriggerResult> {
    await this.audit({ actor: req.startedBy, action: 'runbook.run.refused', target, outcome: 'denied', detectionId: req.detection?.id, incidentId: req.incidentId, data: { runbook: req.runbook, reason: describeRefusal(refusal) } });
    runsTotal.inc({ runbook: req.runbook, outcome: 'refused' });
    if (refusal.kind === 'repeated-failures') {
      escalationsTotal.inc({ runbook: req.runbook });
      await this.o.notifier.send({ channel: this.o.escalationChannel ?? view.escalationChannel, kind: 'escalation', title: `Escalation: ${req.runbook} on ${targetKey(target)}`, text: describeRefusal(refusal), severity: 'critical', detectionId: req.detection?.id });
    }
    return { refused: refusal };
  }

  /** Whether every step's action only reads or tells (false for an unknown runbook: assume it acts). */
  private readOnly(view: RunbookView | undefined): boolean {
    return view !== undefined && view.actions.every((a) => this.o.actions.get(a)?.mutates === false);
  }

  /**
   * After a restart: continues every run the store says was in flight. A run
   * that cannot continue here (its runbook is no longer loaded, its cluster is
   * not configured or is not the same cluster) is ended as `abandoned`, with
   * the reason audited, so it stops holding its target's lock.
   *
   * With leader election only the leader resumes, and it calls this every
   * retry period: runs driven under another term (a deposed or dead leader's,
   * or queued by a follower) are adopted — compare-and-set on their fence, so
   * two leaders never both take one — and stop requests stored for runs it
   * drives (a cancel or pre-emption asked on a follower) are applied.
   */
  async resumeInFlight(): Promise<{ resumed: number; abandoned: number }> {
    const fence = this.o.fencing?.current();
    if (this.o.fencing && !fence) return { resumed: 0, abandoned: 0 };
    const runs = await this.o.store.listRuns({ status: [...ACTIVE_RUN_STATUSES] });
    let resumed = 0;
    let abandoned = 0;
    for (const stored of runs) {
      if (this.starting.has(stored.id)) continue;
      if (this.inFlight.has(stored.id)) {
        this.applyStoredStop(stored);
        continue;
      }
      let run = stored;
      const start = stored.status === 'pending' ? { status: 'running' as const } : {};
      if (fence && !sameFence(stored.fence, fence)) {
        const adopted = await this.o.store.adoptRun(stored.id, stored.fence, fence, start);
        if (!adopted) continue; // ended, or taken by another term meanwhile
        run = adopted;
      } else if (stored.status === 'pending') {
        await this.o.store.updateRun(run.id, start, this.fenced(run));
        run = { ...run, ...start };
      }
      const why = this.whyNotResumable(run);
      if (why) {
        abandoned++;
        await this.finish(run, 'abandoned', why);
        continue;
      }
      resumed++;
      this.follower.unfollow(run.id);
      const from = fence ? { term: fence.term, from: stored.fence ? `${stored.fence.holder} (term ${stored.fence.term})` : 'queued by a follower' } : {};
      await this.audit({ actor: SYSTEM, action: 'runbook.run.resumed', target: run.target, outcome: 'info', runId: run.id, detectionId: run.detectionId, data: { step: run.currentStep, ...from } });
      // Asked to stop before this process took it (a cancel on a follower): it stops before its next step.
      if (run.stop) {
        this.stops.set(run.id, { ...run.stop });
        this.storedStops.set(run.id, stopKey(run)!);
      }
      this.launch(run, true);
    }
    return { resumed, abandoned };
  }

  /** A stop request stored for a run this process drives: applied once; a withdrawn pre-emption is withdrawn here too. */
  private applyStoredStop(run: RunRecord): void {
    const key = stopKey(run);
    const applied = this.storedStops.get(run.id);
    if (key === applied) return;
    if (key === undefined) {
      this.storedStops.delete(run.id);
      if (this.stops.get(run.id)?.status === 'preempted') this.stops.delete(run.id);
      return;
    }
    this.storedStops.set(run.id, key);
    const s = run.stop!;
    if (s.status === 'preempted') this.preemptRun(run.id, s.by, s.reason, s.data);
    else this.stopAfterStep(run.id, s.by, { reason: s.reason, data: s.data });
  }

  /**
   * Stops this process driving runs because it stopped leading: the step
   * under way in each is abandoned (recorded as such; a mutation that may
   * have been sent is left for the new leader to re-check), the runs stay
   * active for the new leader, and their progress is followed from the store.
   */
  async abandonAll(): Promise<void> {
    const ids = [...this.inFlight.keys()];
    for (const a of this.aborts.values()) a.abort(DEPOSED);
    await this.idle();
    for (const id of ids) {
      const run = await this.o.store.getRun(id).catch(() => undefined);
      if (run && ACTIVE_RUN_STATUSES.includes(run.status)) await this.follower.follow(run);
    }
  }

  /** Stops following runs driven elsewhere (shutdown). */
  stopFollowing(): void {
    this.follower.stop();
  }

  private whyNotResumable(run: RunRecord): string | undefined {
    if (!this.runbooks.has(run.runbook)) return `runbook ${run.runbook} is no longer loaded (known: ${[...this.runbooks.keys()].join(', ') || 'none'})`;
    if (!this.o.kube(run.cluster)) return `cluster "${run.cluster}" is not configured in this process`;
    const uid = this.o.clusterUid?.(run.cluster);
    if (run.clusterUid && uid && uid !== run.clusterUid) return `cluster "${run.cluster}" is not the cluster this run acted on (kube-system uid ${uid}, the run's ${run.clusterUid}); a new cluster took its name`;
    return undefined;
  }

  /** Resolves when no run is in flight. */
  async idle(): Promise<void> {
    while (this.inFlight.size) await Promise.allSettled([...this.inFlight.values()]);
  }

  isActive(runId: string): boolean {
    return this.inFlight.has(runId);
  }

  /** Runs in flight in this process. */
  get activeCount(): number {
    return this.inFlight.size;
  }

  /** Observes transitions and run ends (progress output, the remediator). */
  on(listener: RunListener): void {
    this.listeners.push(listener);
  }

  /**
   * Stops driving every run in flight without ending it (process shutdown):
   * the runs stay `running` in the store, a step that was under way keeps its
   * `started` transition, and the next start resumes them, re-checking that
   * step's outcome instead of repeating it.
   */
  async suspendAll(): Promise<void> {
    for (const a of this.aborts.values()) a.abort(SUSPEND);
    await this.idle();
  }

  /**
   * Stops one run at its next step boundary: the step under way, if any, runs
   * to its end untouched (a mutation is never cut off halfway), and no further
   * step starts. The run ends `cancelled`, audited as runbook.run.cancelled by
   * `by`. False when the run is not in flight in this process. A run whose
   * last step is under way ends as that step ends, with nothing left to stop.
   */
  stopAfterStep(runId: string, by: Actor, o: { reason?: string; data?: Record<string, unknown> } = {}): boolean {
    if (!this.inFlight.has(runId)) return false;
    if (!this.stops.has(runId)) this.stops.set(runId, { by, reason: o.reason ?? `cancelled by ${by.name}`, data: o.data, status: 'cancelled' });
    return true;
  }

  /**
   * stopAfterStep for a run wherever it is driven: with leader election a run
   * driven (or queued) by another replica is asked through the store, and its
   * leader applies the request within a retry period. False when it has ended.
   */
  async requestStop(runId: string, by: Actor, o: { reason?: string; data?: Record<string, unknown> } = {}): Promise<boolean> {
    if (this.stopAfterStep(runId, by, o)) return true;
    if (!this.o.fencing) return false;
    const run = await this.o.store.getRun(runId);
    if (!run || !ACTIVE_RUN_STATUSES.includes(run.status)) return false;
    await this.o.store.updateRun(runId, { stop: { by, reason: o.reason ?? `cancelled by ${by.name}`, data: o.data, status: 'cancelled' } });
    return true;
  }

  /**
   * Asks the automatic run holding a target to stop for a person's action
   * and waits for it (bounded): the original refusal when the holder may not
   * be pre-empted (a person's run, or one this process is not driving), then
   * the admission after it stopped, or preempt-timeout (the request to stop
   * is withdrawn: the holder goes on as if never asked).
   */
  private async preemptHolder(locked: Extract<Refusal, { kind: 'locked' }>, req: TriggerRequest, p: Preemption, target: AuditTarget): Promise<Refusal | undefined> {
    const holder = await this.o.store.getRun(locked.runId);
    if (req.startedBy.type !== 'user' || !holder || holder.startedBy.type === 'user') return locked;
    if (!this.inFlight.has(holder.id)) return this.o.fencing && ACTIVE_RUN_STATUSES.includes(holder.status) ? this.preemptElsewhere(req, p, target, holder) : locked;
    const step = holder.currentStep ?? undefined;
    const interrupting = this.preemptRun(holder.id, req.startedBy, p.reason, p.data);
    p.onWaiting?.(holder, { step, interrupting });
    const began = this.o.clock.now();
    const ended = await this.settles(this.inFlight.get(holder.id), p.timeoutMs);
    if (!ended) {
      if (this.stops.get(holder.id)?.status === 'preempted') this.stops.delete(holder.id);
      return { kind: 'preempt-timeout', runId: holder.id, runbook: holder.runbook, step: holder.currentStep ?? step, waitedMs: this.o.clock.now() - began };
    }
    return this.budgets.admit(req.runbook, target, this.o.clock.now());
  }

  /** preemptHolder for a holder another replica drives: the stop goes through the store, and the wait reads it back. */
  private async preemptElsewhere(req: TriggerRequest, p: Preemption, target: AuditTarget, holder: RunRecord): Promise<Refusal | undefined> {
    const step = holder.currentStep ?? undefined;
    const action = step ? this.o.actions.get(this.runbooks.get(holder.runbook)?.step(step)?.action ?? '') : undefined;
    const stop: StopRequest = { by: req.startedBy, reason: p.reason, data: p.data, status: 'preempted' };
    await this.o.store.updateRun(holder.id, { stop });
    p.onWaiting?.(holder, { step, interrupting: action?.mutates === false });
    const began = this.o.clock.now();
    for (;;) {
      const now = await this.o.store.getRun(holder.id);
      if (!now || !ACTIVE_RUN_STATUSES.includes(now.status)) return this.budgets.admit(req.runbook, target, this.o.clock.now());
      const left = p.timeoutMs - (this.o.clock.now() - began);
      if (left <= 0) {
        // Withdrawn only if it is still this request: the holder goes on as if never asked.
        if (stopKey(now) === stopKey({ ...now, stop })) await this.o.store.updateRun(holder.id, { stop: undefined });
        return { kind: 'preempt-timeout', runId: holder.id, runbook: holder.runbook, step: now.currentStep ?? step, waitedMs: this.o.clock.now() - began };
      }
      await this.o.clock.sleep(Math.min(left, this.o.followPollMs ?? 1000));
    }
  }

  /**
   * The stop of a pre-emption: like stopAfterStep, but a step under way that
   * only reads or waits (waitRollout, smokeCheck, approval …) is interrupted
   * at once, since nothing of it can be left half-done; a step that changes
   * the cluster runs to its end. True when the step under way is interrupted.
   */
  private preemptRun(runId: string, by: Actor, reason: string, data?: Record<string, unknown>): boolean {
    this.stops.set(runId, { by, reason, data, status: 'preempted' });
    const under = this.stepping.get(runId);
    if (!under || under.action.mutates) return false;
    under.abort.abort(new ActionError('CANCELLED', `interrupted: ${reason}`));
    return true;
  }

  /** Whether `p` settles within `ms` of cluster time. */
  private async settles(p: Promise<unknown> | undefined, ms: number): Promise<boolean> {
    if (!p) return true;
    let timer: { cancel(): void } | undefined;
    const late = new Promise<false>((r) => (timer = this.o.clock.setTimeout(() => r(false), ms)));
    try {
      return await Promise.race([p.then(() => true, () => true), late]);
    } finally {
      timer?.cancel();
    }
  }

  /** The steps a run of `runbook` takes when every step succeeds, in order (what "not started" is measured against). */
  successPath(runbook: string): string[] {
    const view = this.runbooks.get(runbook);
    const path: string[] = [];
    for (let id = view?.start; view && id && id !== 'end' && id !== 'escalate' && !path.includes(id); id = view.next(id, 'success')) path.push(id);
    return path;
  }

  /** Cancels every run in flight (their steps are aborted; status cancelled). */
  cancelAll(): void {
    for (const a of this.aborts.values()) a.abort(new ActionError('CANCELLED', 'run cancelled'));
  }

  private launch(run: RunRecord, resumed = false, started?: Promise<void>): void {
    const p = this.drive(run, resumed, started)
      .catch((err) => {
        // Another term adopted the run (this process was deposed while a write was on its way): it is theirs now.
        if (isFenced(err)) return this.leftToNewLeader(run, run.currentStep ?? 'end', err as Error);
        this.o.log?.(`run ${run.id} crashed: ${(err as Error).stack ?? err}`);
      })
      .finally(() => {
        this.inFlight.delete(run.id);
        this.aborts.delete(run.id);
        this.stops.delete(run.id);
        this.stepping.delete(run.id);
        this.storedStops.delete(run.id);
        this.marks.delete(run.id);
      });
    this.inFlight.set(run.id, p);
  }

  /**
   * `started`, for a run trigger() has just stored: its `runbook.run.started`
   * record, still committing. Until it is in, the drive only reads (the
   * first step's budget count); no transition, audit record or request goes
   * before it, so the chain has the run's start before any of its steps, and
   * a run whose start could not be recorded never acts (trigger's caller
   * gets the error; the run stays `running` in the store, as it did when
   * trigger failed before launching it, for the next start to resume).
   */
  private async drive(run: RunRecord, resumed: boolean, started?: Promise<void>): Promise<void> {
    const view = this.views.get(run.id) ?? this.runbooks.get(run.runbook);
    if (view) this.views.set(run.id, view);
    const cancel = new AbortController();
    this.aborts.set(run.id, cancel);
    let counted: { stepId: string; used: Promise<number> } | undefined;
    if (started) {
      const first = run.currentStep ? view?.step(run.currentStep) : undefined;
      // Steps this run takes are not in the count yet, and no other run may act on the target while this one holds it: the count is the same now as after the commit.
      if (first && !run.dryRun && this.o.actions.get(first.action)?.mutates) counted = { stepId: run.currentStep!, used: this.actionsUsed(run) };
      try {
        await started;
      } catch {
        this.identities.delete(run.id);
        this.detections.delete(run.id);
        this.views.delete(run.id);
        return;
      }
    }
    if (!view) return this.finish(run, 'failed', `runbook ${run.runbook} is no longer loaded`);
    let stepId = run.currentStep ?? 'end';
    let resumeCheck = resumed;
    let reason = '';
    while (stepId !== 'end' && stepId !== 'escalate') {
      if (cancel.signal.aborted) return cancel.signal.reason === SUSPEND || cancel.signal.reason === DEPOSED ? undefined : this.finish(run, 'cancelled', 'cancelled');
      const stop = this.stops.get(run.id);
      if (stop) return this.finish(run, stop.status, stop.reason, { actor: stop.by, data: { stoppedAt: stepId, ...(stop.data ?? {}) } });
      const step = view.step(stepId);
      const action = step && this.o.actions.get(step.action);
      if (!step || !action) return this.finish(run, 'failed', `step ${stepId} or its action is missing`);
      let outcome: 'success' | 'failure' | 'timeout';
      if (resumeCheck) {
        resumeCheck = false;
        const settled = await this.settleUnknown(run, stepId, action);
        if (settled === 'escalate') {
          reason = `the outcome of step ${stepId} is unknown and cannot be checked; not repeating it`;
          stepId = 'escalate';
          break;
        }
        if (settled) {
          stepId = view.next(stepId, settled);
          await this.moveTo(run, stepId);
          continue;
        }
      }
      const vars = this.vars(run);
      if (!view.when(stepId, vars)) {
        await this.transition(run, { stepId, attempt: 1, status: 'skipped' });
        stepId = view.next(stepId, 'success');
        await this.moveTo(run, stepId);
        continue;
      }
      if (action.mutates && !run.dryRun) {
        // Asked together with the pause (judged first, as ever): one turn at the store instead of two.
        const counting = counted?.stepId === stepId ? counted.used : this.actionsUsed(run);
        counted = undefined;
        const pause = await this.budgets.pauseState();
        if (pause) {
          reason = `remediation was paused by ${pause.by}${pause.reason ? `: ${pause.reason}` : ''}; not taking step ${stepId}`;
          stepId = 'escalate';
          break;
        }
        const used = await counting;
        if (used >= this.budgets.config.actionsPerTargetPerHour) {
          reason = `budget: ${used} actions on ${targetKey(run.target)} in the last hour (limit ${this.budgets.config.actionsPerTargetPerHour})`;
          await this.audit({ actor: SYSTEM, action: 'runbook.budget.exceeded', target: run.target, outcome: 'denied', runId: run.id, detectionId: run.detectionId, data: { step: stepId, reason } });
          stepId = 'escalate';
          break;
        }
      }
      const began = performance.now();
      try {
        // A run started here has no transitions but this drive's, and the graph is a DAG: no step has earlier attempts to read.
        outcome = await this.runStep(run, view, stepId, action, cancel.signal, !resumed);
      } catch (err) {
        if (err === SUSPEND || err === DEPOSED) return;
        throw err;
      }
      stepDurationSeconds.observe({ action: action.name, status: outcome }, (performance.now() - began) / 1000);
      if (outcome !== 'success') reason = `step ${stepId} ${outcome === 'timeout' ? 'timed out' : 'failed'}`;
      const ranStep = stepId;
      stepId = view.next(stepId, outcome);
      await this.moveTo(run, stepId);
      // Pre-empted: whatever edge the step took (an interrupted wait fails), the run ends here unless it is done.
      const preempt = this.stops.get(run.id);
      if (preempt?.status === 'preempted' && stepId !== 'end') {
        return this.finish(run, 'preempted', preempt.reason, { actor: preempt.by, data: { stoppedAt: stepId, lastStep: ranStep, lastOutcome: outcome, ...(preempt.data ?? {}) } });
      }
    }
    if (stepId === 'end') return this.finish(run, run.dryRun ? 'dry-run' : 'succeeded', 'every step done');
    await this.finish(run, 'escalated', reason || 'the runbook escalated');
  }

  /** Mutating actions already taken on the run's target in the last hour (budgets.actionsInLastHour). */
  private actionsUsed(run: RunRecord): Promise<number> {
    const used = this.budgets.actionsInLastHour(run.target, this.o.clock.now(), (a) => this.o.actions.get(a)?.mutates ?? false, (rb, s) => this.runbooks.get(rb)?.step(s)?.action, run.clusterUid);
    // Asked ahead of its use, and maybe never used (a pause, a failed start): a failure is the awaiting caller's, if any.
    used.catch(() => {});
    return used;
  }

  /** Runs one step with its retries and timeout; stores and audits every transition. */
  private async runStep(run: RunRecord, view: RunbookView, stepId: string, action: Action, runSignal: AbortSignal, fresh = false): Promise<'success' | 'failure' | 'timeout'> {
    const step = view.step(stepId)!;
    const retries = step.retries ?? { max: 0, backoffMs: 1000, factor: 2, maxBackoffMs: 60_000 };
    const prior = fresh ? 0 : (await this.o.store.transitions(run.id)).filter((t) => t.stepId === stepId).reduce((m, t) => Math.max(m, t.attempt), 0);
    let backoff = retries.backoffMs;
    for (let attempt = prior + 1; ; attempt++) {
      const operationKey = `${run.id}.${stepId}`;
      let params: Record<string, unknown>;
      try {
        params = action.params.parse(view.render(stepId, this.vars(run))) as Record<string, unknown>;
      } catch (err) {
        await this.transition(run, { stepId, attempt, status: 'failed', error: `invalid parameters: ${(err as Error).message}` });
        return 'failure';
      }
      // The fencing check: a step that changes the cluster is taken only under a term the Lease still holds.
      if (action.mutates && !run.dryRun && this.o.fencing && !(run.fence && (await this.o.fencing.verify(run.fence, runSignal)))) {
        await this.abandonStep(run, stepId, attempt, action, 'no');
        throw DEPOSED;
      }
      await this.transition(run, { stepId, attempt, status: 'started', operationKey, output: { action: action.name, params } });
      const timer = new AbortController();
      const onRunAbort = () => timer.abort(runSignal.reason);
      runSignal.addEventListener('abort', onRunAbort, { once: true });
      // Aborted while the step was being set up (a stop or step-down just after the start): the listener alone would never hear it.
      if (runSignal.aborted) onRunAbort();
      const handle = step.timeoutMs ? this.o.clock.setTimeout(() => timer.abort(new ActionError('TIMEOUT', `step ${stepId} timed out after ${step.timeoutMs}ms`)), step.timeoutMs) : undefined;
      this.stepping.set(run.id, { action, abort: timer });
      try {
        const ctx = this.context(run, stepId, operationKey, timer.signal, action);
        const result: ActionResult = run.dryRun && !(action.runsInDryRun && !action.mutates)
          ? { outputs: {}, mutated: false, calls: await action.plan(params, ctx) }
          : await abortable(() => action.run(params, ctx), timer.signal);
        if (ctx.access?.violations.length) throw new ActionError('INTERNAL', ctx.access.violations[0]);
        if (action.mutates && !run.dryRun) await this.o.durable?.(run.cluster);
        // Outputs are kept (run, transition, audit) and feed later steps: masked once, here, for all of them.
        const outputs = redactDeep(result.outputs);
        run.outputs = { ...run.outputs, [stepId]: { status: 'succeeded', outputs } };
        await this.o.store.updateRun(run.id, { outputs: run.outputs, updatedAt: this.o.clock.now() }, this.fenced(run));
        await this.transition(run, { stepId, attempt, status: 'succeeded', output: { outputs, mutated: result.mutated, calls: result.calls.map((c) => `${c.method} ${c.path}: ${c.description}`) } }, action);
        return 'success';
      } catch (err) {
        if (runSignal.reason === SUSPEND) throw SUSPEND;
        if (isFenced(err)) throw err;
        if (runSignal.reason === DEPOSED) {
          await this.abandonStep(run, stepId, attempt, action, action.mutates && !run.dryRun ? 'unknown' : 'no');
          throw DEPOSED;
        }
        const e = toActionError(err);
        const timedOut = e.reason === 'TIMEOUT' || (timer.signal.reason instanceof ActionError && timer.signal.reason.reason === 'TIMEOUT');
        const canRetry = e.retryable && !timedOut && !runSignal.aborted && attempt - prior <= retries.max;
        await this.transition(run, { stepId, attempt, status: timedOut ? 'timed-out' : 'failed', error: `${e.reason}: ${e.message}${canRetry ? ' (will retry)' : ''}` }, action);
        run.outputs = { ...run.outputs, [stepId]: { status: timedOut ? 'timed-out' : 'failed', error: redact(e.message), code: e.reason } };
        await this.o.store.updateRun(run.id, { outputs: run.outputs, updatedAt: this.o.clock.now() }, this.fenced(run));
        if (!canRetry) return timedOut ? 'timeout' : 'failure';
        await this.o.clock.sleep(backoff);
        // A read or wait waiting to retry is not under way: a pre-emption ends it here.
        if (this.stops.get(run.id)?.status === 'preempted' && !action.mutates) return 'failure';
        backoff = Math.min(backoff * retries.factor, retries.maxBackoffMs);
      } finally {
        handle?.cancel();
        runSignal.removeEventListener('abort', onRunAbort);
        this.stepping.delete(run.id);
      }
    }
  }

  /**
   * A resumed run's current step may have started without a recorded end.
   * Returns the outcome when it can be established, undefined to run the step
   * (it never ran, or it provably did not land), 'escalate' when unknown.
   */
  private async settleUnknown(run: RunRecord, stepId: string, action: Action): Promise<'success' | 'failure' | 'escalate' | undefined> {
    const ts = (await this.o.store.transitions(run.id)).filter((t) => t.stepId === stepId);
    const last = ts[ts.length - 1];
    // Abandoned by a deposed leader: before the mutation was sent ("no"), or with it possibly on its way ("unknown", checked like "started").
    const abandoned = last?.status === 'abandoned' && (last.output as { landed?: string } | undefined)?.landed === 'unknown';
    if (!last || (last.status !== 'started' && !abandoned)) {
      if (last?.status === 'succeeded' || last?.status === 'skipped') return 'success';
      return undefined;
    }
    if (!action.mutates || run.dryRun) return undefined; // reads are safe to repeat
    if (!action.check) return 'escalate';
    const params = action.params.parse(this.runbooks.get(run.runbook)!.render(stepId, this.vars(run)));
    const started = [...ts].reverse().find((t) => t.status === 'started');
    const res = await action.check(params, this.context(run, stepId, started?.operationKey ?? `${run.id}.${stepId}`, new AbortController().signal, action));
    if (res.state === 'done') {
      const outputs = redactDeep(res.outputs ?? {});
      run.outputs = { ...run.outputs, [stepId]: { status: 'succeeded', outputs } };
      await this.o.store.updateRun(run.id, { outputs: run.outputs }, this.fenced(run));
      await this.transition(run, { stepId, attempt: last.attempt, status: 'succeeded', output: { outputs, recheck: 'the mutation had landed before the restart' } }, action);
      return 'success';
    }
    if (res.state === 'not-done') {
      await this.transition(run, { stepId, attempt: last.attempt, status: 'failed', error: abandoned ? 'DEPOSED: the previous leader was deposed before this step landed; running it again' : 'RESTARTED: the engine stopped before this step landed; running it again' }, action);
      return undefined;
    }
    await this.transition(run, { stepId, attempt: last.attempt, status: 'unknown', error: res.reason }, action);
    return 'escalate';
  }

  private context(run: RunRecord, stepId: string, operationKey: string, signal: AbortSignal, action?: Action): ActionContext {
    const kube = this.o.kube(run.cluster);
    if (!kube) throw new ActionError('NO_CLUSTER', `no API access configured for cluster "${run.cluster}"`);
    return {
      cluster: run.cluster,
      kube,
      as: this.identities.get(run.id) ?? run.as ?? (run.startedBy.type === 'user' ? { user: run.startedBy.name } : this.o.identity),
      kubeFor: this.o.kube,
      dryRun: run.dryRun,
      clock: this.o.clock,
      signal,
      detection: this.detections.get(run.id),
      target: run.target,
      runId: run.id,
      stepId,
      operationKey,
      notifier: this.o.notifier,
      approvals: this.o.approvals,
      log: (m) => this.o.log?.(`[${run.runbook} ${run.id.slice(0, 8)} ${stepId}] ${m}`),
      sending: () => this.sending(run.id),
      ...(action ? { access: { action: action.name, rules: action.access, violations: [] } } : {}),
    };
  }

  /** A request of the run is about to go out: the first one ends its latency marks. */
  private sending(runId: string): void {
    const m = this.marks.get(runId);
    if (!m) return;
    this.marks.delete(runId);
    const at = latencyNow();
    observeSince(runToFirstRequestSeconds, m.run, at);
    observeSince(detectionToFirstRequestSeconds, m.detection, at);
  }

  private vars(run: RunRecord): Record<string, unknown> {
    return {
      detection: this.detections.get(run.id) ?? null,
      target: { cluster: run.cluster, ...run.target },
      params: run.params,
      steps: run.outputs,
      run: { id: run.id, dryRun: run.dryRun },
    };
  }

  private async moveTo(run: RunRecord, stepId: string): Promise<void> {
    run.currentStep = stepId;
    run.updatedAt = this.o.clock.now();
    await this.o.store.updateRun(run.id, { currentStep: stepId, updatedAt: run.updatedAt }, this.fenced(run));
  }

  private async transition(run: RunRecord, t: Omit<StepTransition, 'runId' | 'time'>, action?: Action): Promise<void> {
    // What actions return and fail with is text from the cluster and from programs: masked before it is kept.
    const full: StepTransition = { runId: run.id, time: this.o.clock.now(), ...t, ...(t.error ? { error: redact(t.error) } : {}), ...(t.output !== undefined ? { output: redactDeep(t.output) } : {}) };
    await this.o.store.addTransition(full, this.fenced(run));
    const outcome = t.status === 'succeeded' || t.status === 'skipped' ? 'success' : t.status === 'started' ? 'pending' : 'failure';
    await this.audit({ actor: this.actorOf(run), action: `runbook.step.${t.status}`, target: run.target, outcome, runId: run.id, detectionId: run.detectionId, incidentId: run.incidentId, data: { runbook: run.runbook, step: t.stepId, attempt: t.attempt, action: action?.name, dryRun: run.dryRun, ...(full.error ? { error: full.error } : {}), ...(full.output !== undefined ? { output: full.output } : {}) } });
    this.told(run, full);
  }

  private told(run: RunRecord, t: StepTransition): void {
    this.o.onTransition?.(run, t);
    for (const l of this.listeners) l.onTransition?.(run, t);
  }

  private ended(run: RunRecord): void {
    this.o.onRunEnd?.(run);
    for (const l of this.listeners) l.onRunEnd?.(run);
  }

  /** Writes made for a run carry its term: the store refuses them once another term has adopted it. */
  private fenced(run: RunRecord): WriteFence | undefined {
    return run.fence ? { fence: run.fence } : undefined;
  }

  /** Records that this replica, deposed, left a step: `landed` says whether a mutation may have been sent. */
  private async abandonStep(run: RunRecord, stepId: string, attempt: number, action: Action, landed: 'no' | 'unknown'): Promise<void> {
    const e = new ActionError('DEPOSED', `this replica is no longer the leader (term ${run.fence?.term ?? 'none'}); the step is left to the new leader${landed === 'unknown' ? ', which re-checks whether it landed' : ''}`);
    try {
      await this.transition(run, { stepId, attempt, status: 'abandoned', error: `${e.reason}: ${e.message}`, output: { landed } }, action);
    } catch (err) {
      if (!isFenced(err)) throw err;
      return this.leftToNewLeader(run, stepId, err as Error, { attempt, action: action.name, landed });
    }
    this.o.log?.(`[${run.runbook} ${run.id.slice(0, 8)} ${stepId}] abandoned: ${e.message}`);
  }

  /**
   * The store refused a write for `run` because another term adopted it: the
   * run's transitions are the new term's to write (an old one among them
   * would mislead its resume), so this replica's abandonment is kept in the
   * audit log only.
   */
  private async leftToNewLeader(run: RunRecord, stepId: string, refusal: Error, data: Record<string, unknown> = {}): Promise<void> {
    const e = new ActionError('DEPOSED', `this replica is no longer the leader (term ${run.fence?.term ?? 'none'}) and the new leader has adopted the run`);
    this.o.log?.(`[${run.runbook} ${run.id.slice(0, 8)} ${stepId}] abandoned: ${e.message}`);
    await this.audit({ actor: this.actorOf(run), action: 'runbook.step.abandoned', target: run.target, outcome: 'failure', runId: run.id, detectionId: run.detectionId, incidentId: run.incidentId, data: { runbook: run.runbook, step: stepId, ...data, error: `${e.reason}: ${e.message}`, adoptedBy: refusal.message } })
      .catch((err: unknown) => this.o.log?.(`error: could not audit the abandonment of run ${run.id}: ${(err as Error).message}`));
  }

  private actorOf(run: RunRecord): Actor {
    return run.startedBy.type === 'user' ? run.startedBy : SYSTEM;
  }

  private async finish(run: RunRecord, status: RunRecord['status'], reason: string, o: { actor?: Actor; data?: Record<string, unknown> } = {}): Promise<void> {
    run.status = status;
    run.currentStep = null;
    run.updatedAt = this.o.clock.now();
    await this.o.store.updateRun(run.id, { status, currentStep: null, updatedAt: run.updatedAt }, this.fenced(run));
    await this.audit({ actor: o.actor ?? this.actorOf(run), action: `runbook.run.${status}`, target: run.target, outcome: status === 'succeeded' || status === 'dry-run' ? 'success' : 'failure', runId: run.id, detectionId: run.detectionId, incidentId: run.incidentId, data: { runbook: run.runbook, reason, ...(o.data ?? {}) } });
    runsTotal.inc({ runbook: run.runbook, outcome: status });
    if (status === 'escalated') {
      escalationsTotal.inc({ runbook: run.runbook });
      await this.o.notifier.send({ channel: this.o.escalationChannel ?? this.runbooks.get(run.runbook)?.escalationChannel ?? 'default', kind: 'escalation', title: `Escalation: ${run.runbook} on ${targetKey(run.target)}`, text: reason, severity: 'critical', runId: run.id, detectionId: run.detectionId });
    }
    this.identities.delete(run.id);
    this.detections.delete(run.id);
    this.views.delete(run.id);
    this.ended(run);
  }

  private async audit(input: AuditInput): Promise<void> {
    await this.o.store.audit.append({ time: this.o.clock.now(), ...input });
  }
}

/** Starts `start` unless `signal` is already aborted (an action begun with a dead signal would never hear it), and rejects when it aborts. */
function abortable<T>(start: () => Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  const p = start();
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
