// `runs [--all]`, `run show ID` and `run abort ID [--reason "…"]`. Reading
// needs the policy's `runs` action and aborting `abort`, on the run's
// cluster and namespace. An abort asks the run to stop at its next step
// boundary through the executor's stop request, so it works whichever
// replica drives the run: the step under way finishes untouched, no further
// step starts, and the run ends `cancelled`, audited with the person. Stopping
// a remediation is the safe direction, so no justification is asked; a
// reason, when given, is recorded.
import { ACTIVE_RUN_STATUSES, type RunRecord, type StepTransition } from '../store/index.ts';
import type { RunbookExecutor } from '../runbooks/index.ts';
import type { ConsoleLinks } from '../common/index.ts';
import type { RunCommand, ListCommand } from './desk-grammar.ts';
import { age, check, clip, refuse, visible, type DeskContext, type Scope } from './desk.ts';
import { auditIdentity } from './identity.ts';
import type { Out } from './reply.ts';
import type { ChatMessage, ChatReply } from './types.ts';

const SHOWN = 20;

const scopeOf = (r: RunRecord): Scope => ({ cluster: r.cluster, namespace: r.target.namespace ?? '', target: r.target });
const targetText = (r: RunRecord) => `${(r.target.kind ?? '').toLowerCase()} ${r.target.namespace ? `${r.target.namespace}/` : ''}${r.target.name ?? ''}`.trim() || r.cluster;

export class RunCommands {
  private readonly ctx: DeskContext;
  private readonly executor: RunbookExecutor;
  /** Where each abort was asked, so the run's end is posted there. */
  private readonly aborts = new Map<string, { room: string; thread?: string; by: string }>();

  private readonly links?: ConsoleLinks;

  constructor(ctx: DeskContext, executor: RunbookExecutor, emit: (r: ChatReply) => void, links?: ConsoleLinks) {
    this.ctx = ctx;
    this.executor = executor;
    this.links = links;
    executor.on({
      onRunEnd: (run) => {
        const a = this.aborts.get(run.id);
        if (!a) return;
        this.aborts.delete(run.id);
        const how = run.status === 'cancelled' ? `stopped at ${a.by}'s request (cancelled)` : `ended ${run.status} before the abort took effect`;
        emit({ room: a.room, thread: a.thread, text: `run ${run.id.slice(0, 8)} (${run.runbook}) ${how}. What ran stays as it is. See: run show ${run.id.slice(0, 8)}` });
      },
    });
  }

  async list(msg: ChatMessage, cmd: ListCommand): Promise<Out> {
    const runs = await this.ctx.store.listRuns(cmd.all ? { limit: 200 } : { status: [...ACTIVE_RUN_STATUSES], limit: 200 });
    const v = await visible(this.ctx, msg, 'runs', runs, scopeOf);
    if (v.refused) return refuse(this.ctx, msg, 'runs', v.refused, { data: { command: 'runs', hidden: v.hidden } });
    const n = v.shown.length;
    if (!n) return [this.ctx.reply(msg, `No ${cmd.all ? 'recent runs' : 'runs under way'}.`)];
    const what = `${cmd.all ? 'recent ' : ''}${n === 1 ? 'run' : 'runs'}${cmd.all ? '' : ' under way'}`;
    const lines = v.shown.slice(0, SHOWN).map((r) => `${r.id.slice(0, 8)}  ${r.runbook}  ${targetText(r)}  ${r.status}${r.currentStep ? ` at ${r.currentStep}` : ''}  by ${r.startedBy.type} ${r.startedBy.name}  ${age(this.ctx, r.createdAt)}`);
    const hidden = v.hidden ? `\n(${v.hidden} more the policy does not let you see)` : '';
    return [this.ctx.reply(msg, `${n} ${what} (id, runbook, target, status and step, started by, age):\n${lines.join('\n')}${hidden}\nrun show ID for one`)];
  }

  async handle(msg: ChatMessage, cmd: RunCommand): Promise<Out> {
    const found = await this.find(cmd.id);
    if ('problem' in found) return [this.ctx.reply(msg, found.problem, { ephemeral: true })];
    const run = found.run;
    const action = cmd.verb === 'show' ? 'runs' : 'abort';
    const allowed = await check(this.ctx, msg, action, scopeOf(run));
    if (!allowed.allowed) return refuse(this.ctx, msg, action, allowed, { target: run.target, data: { run: run.id, verb: cmd.verb } });
    return cmd.verb === 'show' ? this.show(msg, run) : this.abort(msg, run, cmd.reason);
  }

  private async show(msg: ChatMessage, run: RunRecord): Promise<Out> {
    const last = new Map<string, StepTransition>();
    for (const t of await this.ctx.store.transitions(run.id)) last.set(t.stepId, t);
    const steps = [...last.values()].map((t) => `  ${t.stepId}: ${t.status}${t.attempt > 1 ? ` (attempt ${t.attempt})` : ''}${t.error ? ` — error: ${clip(t.error, 160)}` : t.output !== undefined && t.status === 'succeeded' ? ` — ${clip(JSON.stringify(t.output), 120)}` : ''}`);
    const active = ACTIVE_RUN_STATUSES.includes(run.status);
    const lines = [
      `run ${run.id}: ${run.runbook} on ${targetText(run)} (cluster ${run.cluster})${run.dryRun ? ', dry run' : ''}`,
      `status: ${run.status}${run.currentStep ? ` at step ${run.currentStep}` : ''}${run.stop && active ? ` (asked to stop by ${run.stop.by.name})` : ''} · started by ${run.startedBy.type} ${run.startedBy.name} ${age(this.ctx, run.createdAt)} ago${run.incidentId ? ` · incident ${run.incidentId}` : ''}`,
      steps.length ? 'steps:' : 'steps: none started yet',
      ...steps,
      // The step graph and each step's output are in the console, when kubemend knows its public URL.
      ...(this.links?.('runs', run.id) ? [`console: ${this.links('runs', run.id)}`] : []),
    ];
    return [this.ctx.reply(msg, lines.join('\n'), { buttons: active ? [{ label: 'Abort', value: `run abort ${run.id}`, style: 'danger' }] : [] })];
  }

  private async abort(msg: ChatMessage, run: RunRecord, reason?: string): Promise<Out> {
    const id8 = run.id.slice(0, 8);
    if (!ACTIVE_RUN_STATUSES.includes(run.status)) return [this.ctx.reply(msg, `run ${id8} has already ended (${run.status}); there is nothing to abort.`, { ephemeral: true })];
    const by = { type: 'user' as const, name: msg.user.name };
    const why = `aborted in chat by ${msg.user.name}${reason ? `: ${reason}` : ''}`;
    const data = { room: msg.room, adapter: msg.adapter, user: auditIdentity(msg.user), command: 'run abort', ...(reason ? { reason } : {}) };
    await this.ctx.store.audit.append({ time: this.ctx.clock.now(), actor: by, action: 'run.abort.requested', target: run.target, outcome: 'info', runId: run.id, detectionId: run.detectionId, incidentId: run.incidentId, data: { ...data, step: run.currentStep ?? null, status: run.status } });
    this.aborts.set(run.id, { room: msg.room, thread: msg.thread, by: msg.user.name });
    let stopping = await this.executor.requestStop(run.id, by, { reason: why, data });
    if (!stopping) {
      // Not driven here and no leader election: the process that resumes it applies the stop before its next step.
      const now = await this.ctx.store.getRun(run.id);
      if (now && ACTIVE_RUN_STATUSES.includes(now.status)) {
        await this.ctx.store.updateRun(run.id, { stop: { by, reason: why, data, status: 'cancelled' } });
        stopping = true;
      }
    }
    if (!stopping) {
      this.aborts.delete(run.id);
      return [this.ctx.reply(msg, `run ${id8} ended before the abort reached it; nothing was stopped. See: run show ${id8}`)];
    }
    const step = (await this.ctx.store.getRun(run.id))?.currentStep;
    return [this.ctx.reply(msg, `run ${id8} (${run.runbook} on ${targetText(run)}): stopping at its next step boundary${step ? `; step ${step} is under way and is left to finish` : ''}. Nothing that ran is undone; the end will be posted here.`)];
  }

  /** A run by id or unique prefix. */
  private async find(idOrPrefix: string): Promise<{ run: RunRecord } | { problem: string }> {
    const exact = await this.ctx.store.getRun(idOrPrefix);
    if (exact) return { run: exact };
    const found = (await this.ctx.store.listRuns({ limit: 5000 })).filter((r) => r.id.startsWith(idOrPrefix));
    if (found.length > 1) return { problem: `${idOrPrefix} matches ${found.length} runs (${found.slice(0, 3).map((r) => r.id.slice(0, 12)).join(', ')}…): give more of the id.` };
    if (!found.length) return { problem: `There is no run ${idOrPrefix} (runs --all lists the recent ones).` };
    return { run: found[0] };
  }
}
