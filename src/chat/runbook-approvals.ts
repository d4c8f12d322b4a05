// Runbook `approval` steps, decided in chat. When a run reaches an approval
// step, the request is posted to the approvals room with Approve/Deny
// buttons; `approve <id>` / `deny <id>` from a member of the step's group
// (who the RBAC policy also allows to approve there) settles it. Runs
// started by rules have no requester, so any member may decide; the
// decision, who made it and why are audited.
import { randomInt } from 'node:crypto';
import { formatDuration, type Clock } from '../common/index.ts';
import type { Store } from '../store/index.ts';
import type { Authorizer } from '../authz/index.ts';
import type { ApprovalBook, PendingApproval } from '../runbooks/index.ts';
import type { ChatMessage, ChatReply } from './types.ts';

const ALPHABET = 'abcdefghijkmnpqrstuvwxyz23456789';

export interface RunbookApprovalOptions {
  approvals: ApprovalBook;
  store: Store;
  clock: Clock;
  authorizer: Authorizer;
  /** Where requests are posted; without one they are only listed by `help` and time out unanswered. */
  room?: string;
  emit: (r: ChatReply) => void;
  reply: (msg: ChatMessage, text: string, o?: { ephemeral?: boolean }) => ChatReply;
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

  async decide(msg: ChatMessage, id: string, decision: 'approve' | 'deny', comment?: string): Promise<ChatReply[]> {
    const p = this.byShort.get(id)!;
    const run = await this.o.store.getRun(p.runId);
    const groups = msg.user.groups ?? [];
    if (!groups.includes(p.group)) return [this.o.reply(msg, `${id}: only members of ${p.group} may decide this approval.`, { ephemeral: true })];
    const rbac = await this.o.authorizer.check({ user: msg.user.name, groups, cluster: run?.cluster ?? '', namespace: run?.target.namespace ?? '', room: msg.room, action: 'approve' });
    if (!rbac.allowed) return [this.o.reply(msg, `${id}: not allowed — ${rbac.reason}.`, { ephemeral: true })];
    if (run?.startedBy.type === 'user' && run.startedBy.name === msg.user.name) return [this.o.reply(msg, `${id}: you started this run; someone else in ${p.group} must decide.`, { ephemeral: true })];
    const res = this.o.approvals.decide(p.id, msg.user.name, decision === 'approve' ? 'approved' : 'denied', comment);
    if (!res.ok) return [this.o.reply(msg, `${id}: ${res.reason}.`, { ephemeral: true })];
    this.byShort.delete(id);
    await this.o.store.audit.append({
      time: this.o.clock.now(),
      actor: { type: 'user', name: msg.user.name },
      action: `runbook.approval.${decision === 'approve' ? 'approved' : 'denied'}`,
      target: run?.target,
      outcome: decision === 'approve' ? 'success' : 'denied',
      runId: p.runId,
      detectionId: run?.detectionId,
      justification: comment,
      data: { step: p.stepId, group: p.group, room: msg.room },
    });
    return [this.o.reply(msg, `${id}: ${decision === 'approve' ? 'approved' : 'denied'} by ${msg.user.name}; run ${p.runId.slice(0, 8)} ${decision === 'approve' ? 'continues' : 'follows its failure edge'}.`)];
  }

  private announce(p: PendingApproval): void {
    let short: string;
    do short = Array.from({ length: 6 }, () => ALPHABET[randomInt(ALPHABET.length)]).join('');
    while (this.byShort.has(short));
    this.byShort.set(short, p);
    if (!this.o.room) return;
    this.o.emit({
      room: this.o.room,
      text: `${short}: runbook approval needed from ${p.group} — ${p.summary} (run ${p.runId.slice(0, 8)}, step ${p.stepId}; expires in ${formatDuration(p.expiresAt - this.o.clock.now())}). Reply approve ${short} or deny ${short} [reason].`,
      buttons: [{ label: 'Approve', value: `approve ${short}`, style: 'primary' }, { label: 'Deny', value: `deny ${short}`, style: 'danger' }],
      mention: [p.group],
    });
  }
}
