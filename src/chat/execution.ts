// Carrying out a cleared request: the chat runbook runs in the
// RunbookExecutor as the chat user (startedBy the user, mutations
// impersonating them, so the cluster's own RBAC still has the last word),
// and its progress and result are posted back to the request's thread.
import type { RunRecord, StepTransition, Store } from '../store/index.ts';
import { type Clock, Errors, formatDuration } from '../common/index.ts';
import { type RunbookExecutor, type TriggerResult, describeRefusal } from '../runbooks/index.ts';
import type { Conversation, RequestBook } from './conversation.ts';
import type { ChatReply, ChatUser } from './types.ts';
import { auditIdentity } from './identity.ts';

/** Where a run's steps stand: ended (with how), under way, and not started on the way to the end. */
export interface StepProgress {
  ran: { step: string; status: string }[];
  inFlight: string[];
  notStarted: string[];
}

export interface ExecutionsOptions {
  executor: RunbookExecutor;
  book: RequestBook;
  clock: Clock;
  store: Store;
  emit: (r: ChatReply) => void;
  /** How long a confirmed action waits for an automatic run holding its target to stop after its step (settings preemptTimeout). */
  preemptTimeoutMs: number;
  log?: (line: string) => void;
}

export class Executions {
  private readonly o: ExecutionsOptions;
  private readonly runs = new Map<string, Conversation>();

  constructor(o: ExecutionsOptions) {
    this.o = o;
    o.executor.on({
      onTransition: (run, t) => this.progress(run, t),
      onRunEnd: (run) => void this.ended(run).catch((err) => o.log?.(`chat: reporting the end of run ${run.id} failed: ${(err as Error).message}`)),
    });
  }

  /**
   * Starts the run of a cleared request; `reply` addresses the message that
   * cleared it. The request is confirmed, authorised, justified and (in
   * production) approved by now, so it may pre-empt an automatic run holding
   * its target: the reply then says it waits for that run's step boundary,
   * and the start (or the refusal) is posted when it comes.
   */
  async start(c: Conversation, reply: (text: string) => ChatReply): Promise<ChatReply[]> {
    c.timer?.cancel();
    const op = c.op!;
    const id = c.record.id;
    let announce!: (w: { holder: RunRecord; step?: string; interrupting: boolean }) => void;
    const waiting = new Promise<{ holder: RunRecord; step?: string; interrupting: boolean }>((r) => (announce = r));
    const started = this.o.executor.trigger({
      runbook: op.runbook,
      params: op.params,
      startedBy: { type: 'user', name: c.requester.name },
      as: c.requester.groups?.length ? { user: c.requester.name, groups: c.requester.groups } : { user: c.requester.name },
      target: op.target,
      preempt: {
        timeoutMs: this.o.preemptTimeoutMs,
        reason: `pre-empted by ${c.requester.name}'s confirmed chat ${c.cmd.action} (request ${id})`,
        data: { request: id, user: auditIdentity(c.requester), chatAction: c.cmd.action },
        onWaiting: (holder, o) => announce({ holder, ...o }),
      },
    });
    const first = await Promise.race([started.then((res) => ({ res })), waiting.then((w) => ({ w }))]);
    if ('res' in first) {
      this.register(c, first.res);
      return this.begun(c, first.res, reply);
    }
    const { holder, step, interrupting } = first.w;
    await this.o.book.transition(c, undefined, 'preempting', { data: { holderRun: holder.id, holderRunbook: holder.runbook, holderStartedBy: holder.startedBy, step, interrupting } });
    void started
      .then((res) => {
        // Known before its end can be reported, which queues behind this start on the request's lock.
        this.register(c, res);
        return this.o.book.locked(id, async () => {
          for (const r of await this.begun(c, res, reply)) this.o.emit(r);
        });
      })
      .catch((err: unknown) => this.o.log?.(`chat: starting ${id} after the pre-emption failed: ${(err as Error).message}`));
    const how = step ? ` (step ${step} ${interrupting ? 'only waits, so it is interrupted now' : 'changes the cluster and is left to finish'})` : '';
    return [reply(`${id}: waiting for the automatic run ${holder.id.slice(0, 8)} (${holder.runbook}, started by ${holder.startedBy.type} ${holder.startedBy.name}) to stop after its current step${how}; at most ${formatDuration(this.o.preemptTimeoutMs)}. Then ${c.cmd.action} starts; it will be posted here.`)];
  }

  private register(c: Conversation, res: TriggerResult): void {
    if ('refused' in res) return;
    c.record.runId = res.run.id;
    this.runs.set(res.run.id, c);
  }

  /** What became of the trigger: the run started, or why not. */
  private async begun(c: Conversation, res: TriggerResult, reply: (text: string) => ChatReply): Promise<ChatReply[]> {
    const op = c.op!;
    if ('refused' in res) {
      const why = describeRefusal(res.refused);
      const code = res.refused.kind === 'preempt-timeout' ? `${Errors.CHAT_PREEMPT_TIMEOUT.code} ` : '';
      await this.o.book.transition(c, 'failed', 'failed', { reason: `refused to start: ${why}`, data: { refusal: res.refused.kind, ...(code ? { code: code.trim() } : {}) } });
      this.o.book.finish(c);
      return [reply(`${code}${c.record.id}: kubemend refused to start it — ${why}. Nothing was changed.`)];
    }
    const run = res.run;
    await this.o.book.transition(c, 'approved', 'started', { data: { runbook: op.runbook } });
    return [reply(`${c.record.id}: running — ${c.preview?.text ?? op.runbook} (run ${run.id.slice(0, 8)}). The result will be posted here.`)];
  }

  /**
   * `cancel` on a running request: the run stops at its next step boundary
   * (the step under way finishes untouched); the reply says what ran, what is
   * still under way and what will not start, and the end is posted as usual.
   */
  async stop(c: Conversation, by: ChatUser, reply: (text: string) => ChatReply): Promise<ChatReply[]> {
    const id = c.record.id;
    const runId = c.record.runId!;
    // Wherever the run is driven: with leader election, perhaps by another replica.
    const stopping = await this.o.executor.requestStop(runId, { type: 'user', name: by.name }, { reason: `cancelled in chat by ${by.name} (request ${id})`, data: { request: id, user: auditIdentity(by) } });
    if (!stopping) return [reply(`${id} has finished running; there is nothing left to cancel (its result is posted here).`)];
    c.stoppedBy = by;
    const p = await this.steps(runId, c.op!.runbook);
    await this.o.book.transition(c, undefined, 'stop-requested', { by, data: { ...p } });
    const under = p.inFlight.length ? `under way, and left to finish: ${p.inFlight.join(', ')}` : 'nothing is under way';
    return [reply(`${id}: stopping run ${runId.slice(0, 8)} at its next step. Already done: ${listRan(p.ran)}; ${under}; will not start: ${p.notStarted.join(', ') || 'nothing (no step is left)'}. Nothing that ran is undone; the result will be posted here.`)];
  }

  /**
   * From the stored run: the step under way (the current step once it has
   * begun — a step waiting to retry is still under way), the last status of
   * every other step that began, and the success path's steps that did not.
   */
  private async steps(runId: string, runbook: string): Promise<StepProgress> {
    const last = new Map<string, string>();
    for (const t of await this.o.store.transitions(runId)) last.set(t.stepId, t.status);
    const current = (await this.o.store.getRun(runId))?.currentStep;
    const inFlight = current && last.has(current) ? [current] : [];
    const ran = [...last].filter(([step]) => !inFlight.includes(step)).map(([step, status]) => ({ step, status }));
    const notStarted = this.o.executor.successPath(runbook).filter((s) => !last.has(s));
    return { ran, inFlight, notStarted };
  }

  private progress(run: RunRecord, t: StepTransition): void {
    const c = this.runs.get(run.id);
    if (!c || t.status === 'started' || t.status === 'pending') return;
    this.o.emit({ room: c.record.room, thread: c.thread, text: `${c.record.id}: step ${t.stepId} ${t.status}${t.error ? ` (${t.error})` : ''}` });
  }

  private async ended(run: RunRecord): Promise<void> {
    const c = this.runs.get(run.id);
    if (!c) return;
    this.runs.delete(run.id);
    await this.o.book.locked(c.record.id, async () => {
      if (run.status === 'cancelled') return this.cancelled(c, run);
      const ok = run.status === 'succeeded';
      const reason = ok ? undefined : await this.failure(run);
      await this.o.book.transition(c, ok ? 'executed' : 'failed', ok ? 'executed' : 'failed', { data: { runStatus: run.status }, ...(reason ? { reason } : {}) });
      this.o.book.finish(c);
      const approvedBy = c.record.approvals.filter((a) => a.decision === 'approve').map((a) => a.user);
      const who = `requested by ${c.record.user}${approvedBy.length ? `, approved by ${approvedBy.join(', ')}` : ''}`;
      const what = (c.preview?.text ?? run.runbook).replace(/, then wait for the rollout$/, '');
      this.o.emit({
        room: c.record.room,
        thread: c.thread,
        text: ok ? `${c.record.id} done: ${what}; the rollout finished (run ${run.id.slice(0, 8)}, ${who}).${c.stoppedBy ? ' The cancel came while its last step was under way, so every step ran.' : ''}` : `${c.record.id} failed: ${reason} (run ${run.id.slice(0, 8)} ${run.status}, ${who}). See: kubemend runs show ${run.id}`,
      });
    });
  }

  /** A run that stopped before its end (a `cancel`, or kubemend cancelling its runs): say exactly what ran and what did not. */
  private async cancelled(c: Conversation, run: RunRecord): Promise<void> {
    const p = await this.steps(run.id, run.runbook);
    const by = c.stoppedBy;
    const reason = by ? `cancelled by ${by.name} while running` : 'kubemend cancelled the run';
    await this.o.book.transition(c, 'cancelled', 'cancelled', { ...(by ? { by } : { system: true }), reason, data: { runStatus: run.status, ran: p.ran, notRun: [...p.inFlight, ...p.notStarted] } });
    this.o.book.finish(c);
    const notRun = [...p.inFlight, ...p.notStarted];
    this.o.emit({
      room: c.record.room,
      thread: c.thread,
      text: `${c.record.id} stopped${by ? ` at ${by.name}'s request` : ''} before its end: ran ${listRan(p.ran)}; did not run: ${notRun.join(', ') || 'nothing'}. What ran stays as it is: nothing was rolled back (run ${run.id.slice(0, 8)}). See: kubemend runs show ${run.id}`,
    });
  }

  /** The last step error of a run that did not succeed. */
  private async failure(run: RunRecord): Promise<string> {
    const ts = await this.o.store.transitions(run.id);
    const bad = [...ts].reverse().find((t) => t.error);
    return bad ? `step ${bad.stepId}: ${bad.error}` : `the run ended ${run.status}`;
  }
}

function listRan(ran: StepProgress['ran']): string {
  return ran.length ? ran.map((r) => `${r.step} (${r.status})`).join(', ') : 'nothing';
}
