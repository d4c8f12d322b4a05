// Carrying out a cleared request: the chat runbook runs in the
// RunbookExecutor as the chat user (startedBy the user, mutations
// impersonating them, so the cluster's own RBAC still has the last word),
// and its progress and result are posted back to the request's thread.
import type { RunRecord, StepTransition, Store } from '../store/index.ts';
import type { Clock } from '../common/index.ts';
import { type RunbookExecutor, describeRefusal } from '../runbooks/index.ts';
import type { Conversation, RequestBook } from './conversation.ts';
import type { ChatReply } from './types.ts';

export interface ExecutionsOptions {
  executor: RunbookExecutor;
  book: RequestBook;
  clock: Clock;
  store: Store;
  emit: (r: ChatReply) => void;
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

  /** Starts the run of a cleared request; `reply` addresses the message that cleared it. */
  async start(c: Conversation, reply: (text: string) => ChatReply): Promise<ChatReply[]> {
    c.timer?.cancel();
    const op = c.op!;
    const res = await this.o.executor.trigger({
      runbook: op.runbook,
      params: op.params,
      startedBy: { type: 'user', name: c.requester.name },
      as: c.requester.groups?.length ? { user: c.requester.name, groups: c.requester.groups } : { user: c.requester.name },
      target: op.target,
    });
    if ('refused' in res) {
      const why = describeRefusal(res.refused);
      await this.o.book.transition(c, 'failed', 'failed', { reason: `refused to start: ${why}` });
      this.o.book.finish(c);
      return [reply(`${c.record.id}: kubemend refused to start it — ${why}. Nothing was changed.`)];
    }
    const run = res.run;
    c.record.runId = run.id;
    this.runs.set(run.id, c);
    await this.o.book.transition(c, 'approved', 'started', { data: { runbook: op.runbook } });
    return [reply(`${c.record.id}: running — ${c.preview?.text ?? op.runbook} (run ${run.id.slice(0, 8)}). The result will be posted here.`)];
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
        text: ok ? `${c.record.id} done: ${what}; the rollout finished (run ${run.id.slice(0, 8)}, ${who}).` : `${c.record.id} failed: ${reason} (run ${run.id.slice(0, 8)} ${run.status}, ${who}). See: kubemend runs show ${run.id}`,
      });
    });
  }

  /** The last step error of a run that did not succeed. */
  private async failure(run: RunRecord): Promise<string> {
    const ts = await this.o.store.transitions(run.id);
    const bad = [...ts].reverse().find((t) => t.error);
    return bad ? `step ${bad.stepId}: ${bad.error}` : `the run ended ${run.status}`;
  }
}
