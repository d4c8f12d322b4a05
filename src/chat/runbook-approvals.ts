// Runbook `approval` steps, decided in chat. When a run reaches an approval
// step, the request is posted to the approvals room with Approve/Deny
// buttons; `approve <id>` / `deny <id>` from a member of the step's group —
// by the platform's groups or the policy's `g` lines — whom the RBAC policy
// also allows to approve there settles it; every refusal is audited. Runs
// started by rules have no requester, so any member may decide; the
// decision, who made it and why are audited.
import { randomInt } from 'node:crypto';
import { Errors, formatDuration, type Clock } from '../common/index.ts';
import type { Store } from '../store/index.ts';
import type { Authorizer } from '../authz/index.ts';
import type { ApprovalBook, PendingApproval } from '../runbooks/index.ts';
import type { ChatMessage, ChatReply } from './types.ts';
import { auditIdentity, describeUser } from './identity.ts';

const ALPHABET = 'abcdefghijkmnpqrstuvwxyz23456789';

export interface RunbookApprovalOptions {
  approvals: ApprovalBook;
  store: Store;
  clock: Clock;
  authorizer: Authorizer;
  /** Where requests are posted; without one they are only listed by `help` and time out unanswered. */
  room?: string;
  emit: (r: ChatReply) => void;
  /** Told of each request (with the id people answer with) and decision, for the notification routes. */
  listener?: RunbookApprovalListener;
  reply: (msg: ChatMessage, text: string, o?: { ephemeral?: boolean }) => ChatReply;
}

export interface RunbookApprovalListener {
  requested(p: PendingApproval, short: string): void;
  decided(p: PendingApproval, decision: 'approved' | 'denied', by: string): void;
}

export class RunbookApprovals {
  private readonly o: RunbookApprovalOptions;
  private readonly byShort = new Map<string, PendingApproval>();

  constructor(o: RunbookApprovalOptions) {
    this.o = o;
    o.approvals.onRequest = (p) => this.announce(p);
  }

  /** Whether `id` names a pending runbook approval. */
  has(id: string): boolean {
    const p = this.byShort.get(id);
    return Boolean(p && this.o.approvals.list().some((x) => x.id === p.id));
  }

  /** What waits now, with the id people answer with (the console lists these). */
  pending(): (PendingApproval & { short: string })[] {
    const live = new Set(this.o.approvals.list().map((p) => p.id));
    return [...this.byShort].filter(([, p]) => live.has(p.id)).map(([short, p]) => ({ ...p, short }));
  }

  async decide(msg: ChatMessage, id: string, decision: 'approve' | 'deny', comment?: string): Promise<ChatReply[]> {
    const p = this.byShort.get(id)!;
    const run = await this.o.store.getRun(p.runId);
    const who = msg.user;
    const audit = (action: string, outcome: 'success' | 'denied', data: Record<string, unknown>) => this.o.store.audit.append({
      time: this.o.clock.now(),
      actor: { type: 'user', name: who.name },
      action,
      target: run?.target,
      outcome,
      runId: p.runId,
      detectionId: run?.detectionId,
      justification: comment,
      data: { step: p.stepId, group: p.group, summary: p.summary, room: msg.room, adapter: msg.adapter, decision, user: auditIdentity(who), ...data },
    });
    const refuse = async (why: string) => {
      await audit('runbook.approval.refused', 'denied', { reason: why, code: Errors.CHAT_APPROVAL_REFUSED.code });
      return [this.o.reply(msg, `${Errors.CHAT_APPROVAL_REFUSED.code} ${id}: ${why}.`, { ephemeral: true })];
    };
    if (who.mapping !== 'mapped') return refuse(`${describeUser(who)} is a guest; only users mapped to a name in kubemend's config can decide approvals`);
    // Membership as the policy sees it: the platform's groups and the policy's own `g` lines.
    // A step may name several groups, comma-separated (a forced promote names the chat approver groups): any one of them.
    let member = false;
    for (const g of p.group.split(',').map((x) => x.trim()).filter(Boolean)) if (await this.o.authorizer.memberOf(who.name, who.groups, g)) member = true;
    if (!member) return refuse(`only members of ${p.group} may decide this approval`);
    const rbac = await this.o.authorizer.check({ user: who.name, groups: who.groups, cluster: run?.cluster ?? '', namespace: run?.target.namespace ?? '', room: msg.room, action: 'approve' });
    if (!rbac.allowed) return refuse(`not allowed — ${rbac.reason}`);
    if (run?.startedBy.type === 'user' && run.startedBy.name === who.name) return refuse(`you started this run; someone else in ${p.group} must decide`);
    const res = this.o.approvals.decide(p.id, who.name, decision === 'approve' ? 'approved' : 'denied', comment);
    if (!res.ok) return refuse(res.reason);
    this.byShort.delete(id);
    this.o.listener?.decided(p, decision === 'approve' ? 'approved' : 'denied', who.name);
    await audit(`runbook.approval.${decision === 'approve' ? 'approved' : 'denied'}`, decision === 'approve' ? 'success' : 'denied', { rule: rbac.rule.source });
    return [this.o.reply(msg, `${id}: ${decision === 'approve' ? 'approved' : 'denied'} by ${who.name}; run ${p.runId.slice(0, 8)} ${decision === 'approve' ? 'continues' : 'follows its failure edge'}.`)];
  }

  private announce(p: PendingApproval): void {
    let short: string;
    do short = Array.from({ length: 6 }, () => ALPHABET[randomInt(ALPHABET.length)]).join('');
    while (this.byShort.has(short));
    this.byShort.set(short, p);
    this.o.listener?.requested(p, short);
    if (!this.o.room) return;
    this.o.emit({
      room: this.o.room,
      text: `${short}: runbook approval needed from ${p.group} — ${p.summary} (run ${p.runId.slice(0, 8)}, step ${p.stepId}; expires in ${formatDuration(p.expiresAt - this.o.clock.now())}). Reply approve ${short} or deny ${short} [reason].`,
      buttons: [{ label: 'Approve', value: `approve ${short}`, style: 'primary' }, { label: 'Deny', value: `deny ${short}`, style: 'danger' }],
      mention: [p.group],
    });
  }
}
