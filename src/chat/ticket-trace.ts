// The trace written back where the change was asked for: when a chat request
// justified by a Jira ticket ends (executed, failed, denied by an approver,
// cancelled, expired), one comment on that ticket says who did what to which
// target, why, how it ended, and which run and audit record hold the detail;
// after a success the ticket may also be moved on (transitionOnSuccess).
//
// Never in the action's way: the comment is posted after the end is
// recorded, in the background (tracked, so idle() and stop can wait for it),
// retried by the writer, and its success or failure is audited and counted.
// A request is commented on once, however often its end is reported.
import { Counter } from 'prom-client';
import type { AuditTarget } from '../audit/index.ts';
import type { Store } from '../store/index.ts';
import type { Clock, ConsoleLinks } from '../common/index.ts';
import type { RequestEnded, Verb } from './conversation.ts';
import { describeUser } from './identity.ts';
import type { CommentDoc, JiraWriter } from './jira-write.ts';

export const jiraCommentsTotal = new Counter({
  name: 'kubemend_jira_comments_total',
  help: 'Comments kubemend wrote on Jira tickets that justified chat actions, by outcome (posted, failed).',
  labelNames: ['outcome'] as const,
});

export const jiraTransitionsTotal = new Counter({
  name: 'kubemend_jira_transitions_total',
  help: 'Jira tickets moved on after a successful chat action, by outcome (done, failed).',
  labelNames: ['outcome'] as const,
});

/** How a request ended: its last transition's verb, reason (a failure names its step), who ended it and its audit record. */
export type RequestEnd = RequestEnded;

export interface TicketTraceOptions {
  writer: JiraWriter;
  store: Store;
  clock: Clock;
  redact: (s: string) => string;
  /** Move the ticket through this transition after a successful action. */
  transitionOnSuccess?: string;
  /** Console links (with server.publicUrl): the comment links the audit record and the run. */
  links?: ConsoleLinks;
  log?: (line: string) => void;
}

const OUTCOME: Partial<Record<Verb, string>> = { executed: 'succeeded', failed: 'failed', rejected: 'denied', cancelled: 'cancelled', expired: 'expired' };
// Requests remembered as commented on; far more than end within a process's memory of them.
const MEMORY = 10_000;

export class TicketTrace {
  private readonly o: TicketTraceOptions;
  private readonly commented = new Set<string>();
  private readonly inFlight = new Set<Promise<void>>();

  constructor(o: TicketTraceOptions) {
    this.o = o;
  }

  /** A request ended: comment on its ticket (once), in the background. */
  ended(e: RequestEnd): void {
    const ticket = e.c.justification?.ticket;
    const outcome = OUTCOME[e.verb];
    // A status read changes nothing: no trace to leave on the change ticket.
    if (!ticket || !outcome || e.c.cmd.action === 'status') return;
    if (this.commented.has(e.c.record.id)) return;
    this.commented.add(e.c.record.id);
    if (this.commented.size > MEMORY) this.commented.delete(this.commented.values().next().value!);
    const p = this.write(e, ticket, outcome).catch((err) => this.o.log?.(`jira: tracing request ${e.c.record.id} on ${ticket} failed: ${(err as Error).message}`));
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p));
  }

  /** Resolves once every comment (and transition) under way has been posted or given up. */
  async idle(): Promise<void> {
    while (this.inFlight.size) await Promise.allSettled([...this.inFlight]);
  }

  private async write(e: RequestEnd, ticket: string, outcome: string): Promise<void> {
    const r = e.c.record;
    const doc = this.comment(e, outcome);
    const base = { ticket, request: r.id, auditRecord: e.record.id, apiVersion: this.o.writer.apiVersion };
    try {
      const commentId = await this.o.writer.comment(ticket, doc);
      jiraCommentsTotal.inc({ outcome: 'posted' });
      await this.audit('jira.comment.posted', 'success', r.target, r.runId, { ...base, commentId });
    } catch (err) {
      jiraCommentsTotal.inc({ outcome: 'failed' });
      const text = doc.map((p) => p.map((i) => i.text).join('')).join('\n');
      await this.audit('jira.comment.failed', 'failure', r.target, r.runId, { ...base, ...failure(err, this.o.redact), comment: text });
    }
    if (outcome !== 'succeeded' || !this.o.transitionOnSuccess) return;
    try {
      const transitionId = await this.o.writer.transition(ticket, this.o.transitionOnSuccess);
      jiraTransitionsTotal.inc({ outcome: 'done' });
      await this.audit('jira.transition.done', 'success', r.target, r.runId, { ...base, transition: this.o.transitionOnSuccess, transitionId });
    } catch (err) {
      jiraTransitionsTotal.inc({ outcome: 'failed' });
      await this.audit('jira.transition.failed', 'failure', r.target, r.runId, { ...base, transition: this.o.transitionOnSuccess, ...failure(err, this.o.redact) });
    }
  }

  private audit(action: string, outcome: 'success' | 'failure', target: AuditTarget, runId: string | undefined, data: Record<string, unknown>) {
    return this.o.store.audit.append({ time: this.o.clock.now(), actor: { type: 'system', name: 'jira' }, action, target, outcome, runId, data });
  }

  /** Who did what to which target, why, how it ended, and where the detail is: every text through the redactor. */
  private comment(e: RequestEnd, outcome: string): CommentDoc {
    const { c, record } = e;
    const r = c.record;
    const t = r.target;
    const x = this.o.redact;
    const approvers = r.approvals.filter((a) => a.decision === 'approve').map((a) => a.user);
    const what = c.preview?.text ? `${c.cmd.action}: ${c.preview.text}` : c.cmd.action;
    const how = outcome === 'succeeded' ? 'succeeded' : `${outcome}${e.by && e.by !== r.user ? ` by ${e.by}` : ''}${e.reason ? ` — ${e.reason}` : ''}`;
    return [
      [{ text: 'kubemend: ', strong: true }, { text: x(`${c.cmd.action} ${t.kind ?? ''} ${t.namespace ? `${t.namespace}/` : ''}${t.name ?? ''} on cluster ${t.cluster ?? r.cluster ?? '?'} ${outcome}`) }],
      [{ text: 'Who: ', strong: true }, { text: x(`${describeUser(c.requester)}, in chat room ${r.room} (${r.adapter})${approvers.length ? `; approved by ${approvers.join(', ')}` : ''}`) }],
      [{ text: 'What: ', strong: true }, { text: x(what) }],
      [{ text: 'Target: ', strong: true }, { text: x(`cluster ${t.cluster ?? '?'}, namespace ${t.namespace ?? '-'}, ${t.kind ?? '?'} ${t.name ?? '?'}`) }],
      [{ text: 'Why: ', strong: true }, { text: x(r.justification ?? c.justification?.reason ?? '') || '-' }],
      [{ text: 'Outcome: ', strong: true }, { text: x(how) }],
      [
        { text: 'Request ', strong: true }, { text: r.id, code: true },
        { text: ' · run ', strong: true }, r.runId ? { text: r.runId, code: true } : { text: 'none (nothing ran)' },
        { text: ' · audit record ', strong: true }, { text: `${record.id} (#${record.seq})`, code: true },
      ],
      ...this.consoleLinks(record.id, r.runId),
    ];
  }

  /** A paragraph with the audit record's and the run's console pages, when kubemend knows its public URL. */
  private consoleLinks(recordId: string, runId: string | undefined): CommentDoc {
    const audit = this.o.links?.('audit', recordId);
    if (!audit) return [];
    const run = runId ? this.o.links?.('runs', runId) : undefined;
    return [[{ text: 'In the kubemend console: ', strong: true }, { text: audit }, ...(run ? [{ text: ' · run ' }, { text: run }] : [])]];
  }
}

function failure(err: unknown, redact: (s: string) => string): Record<string, unknown> {
  const e = err as { code?: string; message?: string; status?: number };
  return { reason: redact(e.message ?? String(err)), ...(e.code ? { code: e.code } : {}), ...(e.status !== undefined ? { status: e.status } : {}) };
}
