// Runs runbooks step by step. Durable: every step transition is stored
// before and after its action, so after a crash a run resumes from its last
// completed step, and a step whose outcome is unknown is re-checked against
// the cluster (Action.check), never blindly repeated. Safe: one run per
// target, budgets, impersonated mutations, and an audit record for every
// transition.
import { randomUUID } from 'node:crypto';
import { type Clock, escalationsTotal, redact, redactDeep, runsTotal, stepDurationSeconds } from '../common/index.ts';
import type { Identity, KubeHttp } from '../kube/index.ts';
import type { Actor, AuditInput, AuditTarget } from '../audit/index.ts';
import type { RunRecord, StepTransition, Store } from '../store/index.ts';
import type { Detection } from '../rules/index.ts';
import { ActionError, type Action, type ActionContext, type ActionResult, type ApprovalGate, type Notifier } from './types.ts';
import { toActionError } from './actions/util.ts';
import { Budgets, describeRefusal, targetKey, type BudgetConfig, type Refusal } from './budgets.ts';
import type { RunbookView } from './view.ts';

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

  constructor(o: ExecutorOptions) {
    this.o = o;
    this.runbooks = o.runbooks;
    this.budgets = new Budgets(o.store, o.budgets);
  }

  /** Hot reload: new runs use these runbooks; runs in flight keep the ones they started with. */
  setRunbooks(runbooks: ReadonlyMap<string, RunbookView>): void {
    this.runbooks = runbooks;
  }

  runbookNames(): string[] {
    return [...this.runbooks.keys()];
  }

  /** Starts a run unless a lock or budget refuses it; a refusal is audited and, for repeated failures, escalated. */
  async trigger(req: TriggerRequest): Promise<TriggerResult> {
    const view = this.runbooks.get(req.runbook);
    if (!view) throw new ActionError('UNKNOWN_RUNBOOK', `no runbook named "${req.runbook}"; known: ${[...this.runbooks.keys()].join(', ')}`);
    const now = this.o.clock.now();
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
    if (exclusive && this.claimed.has(key)) {
      const refusal: Refusal = { kind: 'locked', runId: 'starting' };
      await this.audit({ actor: req.startedBy, action: 'runbook.run.refused', target, outcome: 'denied', detectionId: req.detection?.id, incidentId: req.incidentId, data: { runbook: req.runbook, reason: describeRefusal(refusal) } });
      runsTotal.inc({ runbook: req.runbook, outcome: 'refused' });
      return { refused: refusal };
    }
    if (exclusive) this.claimed.add(key);
    try {
      let refusal = dryRun ? undefined : await this.budgets.admit(req.runbook, target, now, { readOnly, isReadOnly: (r) => this.readOnly(this.runbooks.get(r.runbook)), clusterUid: this.o.clusterUid?.(target.cluster ?? '') });
      // The key stays claimed while the holder stops: no other trigger slips in between.
      if (refusal?.kind === 'locked' && req.preempt) refusal = await this.preemptHolder(refusal, req, req.preempt, target);
      if (refusal) {
        await this.audit({ actor: req.startedBy, action: 'runbook.run.refused', target, outcome: 'denied', detectionId: req.detection?.id, incidentId: req.incidentId, data: { runbook: req.runbook, reason: describeRefusal(refusal) } });
        runsTotal.inc({ runbook: req.runbook, outcome: 'refused' });
        if (refusal.kind === 'repeated-failures') {
          escalationsTotal.inc({ runbook: req.runbook });
          await this.o.notifier.send({ channel: this.o.escalationChannel ?? view.escalationChannel, title: `Escalation: ${req.runbook} on ${key}`, text: describeRefusal(refusal), severity: 'critical', detectionId: req.detection?.id });
        }
        return { refused: refusal };
      }
      // After a pre-emption's wait, the run starts now, not when it was asked for.
      const at = this.o.clock.now();
      const run: RunRecord = {
        id: randomUUID(),
        runbook: req.runbook,
        detectionId: req.detection?.id,
        incidentId: req.incidentId,
        cluster: target.cluster ?? req.detection?.cluster ?? '',
        target,
        status: 'running',
        params,
        startedBy: req.startedBy,
        dryRun,
        createdAt: at,
        updatedAt: at,
        currentStep: view.start,
        outputs: {},
      };
      const uid = this.o.clusterUid?.(run.cluster);
      if (uid) run.clusterUid = uid;
      await this.o.store.createRun(run);
      this.identities.set(run.id, req.as);
      this.detections.set(run.id, req.detection);
      this.views.set(run.id, view);
      await this.audit({ actor: req.startedBy, action: 'runbook.run.started', target, outcome: 'pending', runId: run.id, detectionId: run.detectionId, incidentId: run.incidentId, data: { runbook: run.runbook, params, dryRun } });
      this.launch(run);
      return { run };
    } finally {
      if (exclusive) this.claimed.delete(key);
    }
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
   */
  async resumeInFlight(): Promise<{ resumed: number; abandoned: number }> {
    const runs = await this.o.store.listRuns({ status: ['pending', 'running', 'waiting-approval'] });
    let resumed = 0;
    let abandoned = 0;
    for (const run of runs) {
      if (this.inFlight.has(run.id)) continue;
      const why = this.whyNotResumable(run);
      if (why) {
        abandoned++;
        await this.finish(run, 'abandoned', why);
        continue;
      }
      resumed++;
      await this.audit({ actor: SYSTEM, action: 'runbook.run.resumed', target: run.target, outcome: 'info', runId: run.id, detectionId: run.detectionId, data: { step: run.currentStep } });
      this.launch(run, true);
    }
    return { resumed, abandoned };
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
   * Asks the automatic run holding a target to stop for a person's action
   * and waits for it (bounded): the original refusal when the holder may not
   * be pre-empted (a person's run, or one this process is not driving), then
   * the admission after it stopped, or preempt-timeout (the request to stop
   * is withdrawn: the holder goes on as if never asked).
   */
  private async preemptHolder(locked: Extract<Refusal, { kind: 'locked' }>, req: TriggerRequest, p: Preemption, target: AuditTarget): Promise<Refusal | undefined> {
    const holder = await this.o.store.getRun(locked.runId);
    if (req.startedBy.type !== 'user' || !holder || holder.startedBy.type === 'user' || !this.inFlight.has(holder.id)) return locked;
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

  private launch(run: RunRecord, resumed = false): void {
    const p = this.drive(run, resumed)
      .catch((err) => this.o.log?.(`run ${run.id} crashed: ${(err as Error).stack ?? err}`))
      .finally(() => {
        this.inFlight.delete(run.id);
        this.aborts.delete(run.id);
        this.stops.delete(run.id);
        this.stepping.delete(run.id);
      });
    this.inFlight.set(run.id, p);
  }

  private async drive(run: RunRecord, resumed: boolean): Promise<void> {
    const view = this.views.get(run.id) ?? this.runbooks.get(run.runbook);
    if (view) this.views.set(run.id, view);
    const cancel = new AbortController();
    this.aborts.set(run.id, cancel);
    if (!view) return this.finish(run, 'failed', `runbook ${run.runbook} is no longer loaded`);
    let stepId = run.currentStep ?? 'end';
    let resumeCheck = resumed;
    let reason = '';
    while (stepId !== 'end' && stepId !== 'escalate') {
      if (cancel.signal.aborted) return cancel.signal.reason === SUSPEND ? undefined : this.finish(run, 'cancelled', 'cancelled');
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
        const pause = await this.budgets.pauseState();
        if (pause) {
          reason = `remediation was paused by ${pause.by}${pause.reason ? `: ${pause.reason}` : ''}; not taking step ${stepId}`;
          stepId = 'escalate';
          break;
        }
        const used = await this.budgets.actionsInLastHour(run.target, this.o.clock.now(), (a) => this.o.actions.get(a)?.mutates ?? false, (r, s) => this.runbooks.get(r.runbook)?.step(s)?.action, run.clusterUid);
        if (used >= this.budgets.config.actionsPerTargetPerHour) {
          reason = `budget: ${used} actions on ${targetKey(run.target)} in the last hour (limit ${this.budgets.config.actionsPerTargetPerHour})`;
          await this.audit({ actor: SYSTEM, action: 'runbook.budget.exceeded', target: run.target, outcome: 'denied', runId: run.id, detectionId: run.detectionId, data: { step: stepId, reason } });
          stepId = 'escalate';
          break;
        }
      }
      const began = performance.now();
      try {
        outcome = await this.runStep(run, view, stepId, action, cancel.signal);
      } catch (err) {
        if (err === SUSPEND) return;
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

  /** Runs one step with its retries and timeout; stores and audits every transition. */
  private async runStep(run: RunRecord, view: RunbookView, stepId: string, action: Action, runSignal: AbortSignal): Promise<'success' | 'failure' | 'timeout'> {
    const step = view.step(stepId)!;
    const retries = step.retries ?? { max: 0, backoffMs: 1000, factor: 2, maxBackoffMs: 60_000 };
    const prior = (await this.o.store.transitions(run.id)).filter((t) => t.stepId === stepId).reduce((m, t) => Math.max(m, t.attempt), 0);
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
      await this.transition(run, { stepId, attempt, status: 'started', operationKey, output: { action: action.name, params } });
      const timer = new AbortController();
      const onRunAbort = () => timer.abort(runSignal.reason);
      runSignal.addEventListener('abort', onRunAbort, { once: true });
      const handle = step.timeoutMs ? this.o.clock.setTimeout(() => timer.abort(new ActionError('TIMEOUT', `step ${stepId} timed out after ${step.timeoutMs}ms`)), step.timeoutMs) : undefined;
      this.stepping.set(run.id, { action, abort: timer });
      try {
        const ctx = this.context(run, stepId, operationKey, timer.signal, action);
        const result: ActionResult = run.dryRun && !(action.runsInDryRun && !action.mutates)
          ? { outputs: {}, mutated: false, calls: await action.plan(params, ctx) }
          : await abortable(action.run(params, ctx), timer.signal);
        if (ctx.access?.violations.length) throw new ActionError('INTERNAL', ctx.access.violations[0]);
        if (action.mutates && !run.dryRun) await this.o.durable?.(run.cluster);
        // Outputs are kept (run, transition, audit) and feed later steps: masked once, here, for all of them.
        const outputs = redactDeep(result.outputs);
        run.outputs = { ...run.outputs, [stepId]: { status: 'succeeded', outputs } };
        await this.o.store.updateRun(run.id, { outputs: run.outputs, updatedAt: this.o.clock.now() });
        await this.transition(run, { stepId, attempt, status: 'succeeded', output: { outputs, mutated: result.mutated, calls: result.calls.map((c) => `${c.method} ${c.path}: ${c.description}`) } }, action);
        return 'success';
      } catch (err) {
        if (runSignal.reason === SUSPEND) throw SUSPEND;
        const e = toActionError(err);
        const timedOut = e.reason === 'TIMEOUT' || (timer.signal.reason instanceof ActionError && timer.signal.reason.reason === 'TIMEOUT');
        const canRetry = e.retryable && !timedOut && !runSignal.aborted && attempt - prior <= retries.max;
        await this.transition(run, { stepId, attempt, status: timedOut ? 'timed-out' : 'failed', error: `${e.reason}: ${e.message}${canRetry ? ' (will retry)' : ''}` }, action);
        run.outputs = { ...run.outputs, [stepId]: { status: timedOut ? 'timed-out' : 'failed', error: redact(e.message), code: e.reason } };
        await this.o.store.updateRun(run.id, { outputs: run.outputs, updatedAt: this.o.clock.now() });
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
    if (!last || last.status !== 'started') {
      if (last?.status === 'succeeded' || last?.status === 'skipped') return 'success';
      return undefined;
    }
    if (!action.mutates || run.dryRun) return undefined; // reads are safe to repeat
    if (!action.check) return 'escalate';
    const params = action.params.parse(this.runbooks.get(run.runbook)!.render(stepId, this.vars(run)));
    const res = await action.check(params, this.context(run, stepId, last.operationKey ?? `${run.id}.${stepId}`, new AbortController().signal, action));
    if (res.state === 'done') {
      const outputs = redactDeep(res.outputs ?? {});
      run.outputs = { ...run.outputs, [stepId]: { status: 'succeeded', outputs } };
      await this.o.store.updateRun(run.id, { outputs: run.outputs });
      await this.transition(run, { stepId, attempt: last.attempt, status: 'succeeded', output: { outputs, recheck: 'the mutation had landed before the restart' } }, action);
      return 'success';
    }
    if (res.state === 'not-done') {
      await this.transition(run, { stepId, attempt: last.attempt, status: 'failed', error: 'RESTARTED: the engine stopped before this step landed; running it again' }, action);
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
      as: this.identities.get(run.id) ?? (run.startedBy.type === 'user' ? { user: run.startedBy.name } : this.o.identity),
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
      ...(action ? { access: { action: action.name, rules: action.access, violations: [] } } : {}),
    };
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
    await this.o.store.updateRun(run.id, { currentStep: stepId, updatedAt: run.updatedAt });
  }

  private async transition(run: RunRecord, t: Omit<StepTransition, 'runId' | 'time'>, action?: Action): Promise<void> {
    // What actions return and fail with is text from the cluster and from programs: masked before it is kept.
    const full: StepTransition = { runId: run.id, time: this.o.clock.now(), ...t, ...(t.error ? { error: redact(t.error) } : {}), ...(t.output !== undefined ? { output: redactDeep(t.output) } : {}) };
    await this.o.store.addTransition(full);
    const outcome = t.status === 'succeeded' || t.status === 'skipped' ? 'success' : t.status === 'started' ? 'pending' : 'failure';
    await this.audit({ actor: this.actorOf(run), action: `runbook.step.${t.status}`, target: run.target, outcome, runId: run.id, detectionId: run.detectionId, incidentId: run.incidentId, data: { runbook: run.runbook, step: t.stepId, attempt: t.attempt, action: action?.name, dryRun: run.dryRun, ...(full.error ? { error: full.error } : {}), ...(full.output !== undefined ? { output: full.output } : {}) } });
    this.o.onTransition?.(run, full);
    for (const l of this.listeners) l.onTransition?.(run, full);
  }

  private actorOf(run: RunRecord): Actor {
    return run.startedBy.type === 'user' ? run.startedBy : SYSTEM;
  }

  private async finish(run: RunRecord, status: RunRecord['status'], reason: string, o: { actor?: Actor; data?: Record<string, unknown> } = {}): Promise<void> {
    run.status = status;
    run.currentStep = null;
    run.updatedAt = this.o.clock.now();
    await this.o.store.updateRun(run.id, { status, currentStep: null, updatedAt: run.updatedAt });
    await this.audit({ actor: o.actor ?? this.actorOf(run), action: `runbook.run.${status}`, target: run.target, outcome: status === 'succeeded' || status === 'dry-run' ? 'success' : 'failure', runId: run.id, detectionId: run.detectionId, incidentId: run.incidentId, data: { runbook: run.runbook, reason, ...(o.data ?? {}) } });
    runsTotal.inc({ runbook: run.runbook, outcome: status });
    if (status === 'escalated') {
      escalationsTotal.inc({ runbook: run.runbook });
      await this.o.notifier.send({ channel: this.o.escalationChannel ?? this.runbooks.get(run.runbook)?.escalationChannel ?? 'default', title: `Escalation: ${run.runbook} on ${targetKey(run.target)}`, text: reason, severity: 'critical', runId: run.id, detectionId: run.detectionId });
    }
    this.identities.delete(run.id);
    this.detections.delete(run.id);
    this.views.delete(run.id);
    this.o.onRunEnd?.(run);
    for (const l of this.listeners) l.onRunEnd?.(run);
  }

  private async audit(input: AuditInput): Promise<void> {
    await this.o.store.audit.append({ time: this.o.clock.now(), ...input });
  }
}

function abortable<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
