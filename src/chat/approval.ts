// Production needs a second person: after the requester confirms, a member
// of an approver group — never the requester (four-eyes) — and allowed by
// the policy to `approve` for that cluster, namespace and room, approves or
// denies within a time limit of cluster time. Refused attempts are audited
// too: who tried to approve what is exactly what an auditor asks about.
import type { Authorizer } from '../authz/index.ts';
import { type Clock, Errors, formatDuration } from '../common/index.ts';
import type { Conversation, RequestBook } from './conversation.ts';
import { reply, type Out } from './reply.ts';
import type { Executions } from './execution.ts';
import type { ChatSettings } from './settings.ts';
import type { ChatMessage } from './types.ts';
import { describeUser, sameIdentity, samePerson } from './identity.ts';

export interface ApprovalsOptions {
  /** (Re)starts a conversation's wait; when it runs out the request expires. */
  arm: (c: Conversation, ms: number) => void;
  authorizer: Authorizer;
  settings: ChatSettings;
  clock: Clock;
  book: RequestBook;
  executions: Executions;
}

export class Approvals {
  private readonly o: ApprovalsOptions;

  constructor(o: ApprovalsOptions) {
    this.o = o;
  }

  /** Puts a confirmed production request before the approvers. */
  async ask(msg: ChatMessage, c: Conversation): Promise<Out> {
    const { settings } = this.o;
    const groups = settings.approval.groups;
    const timeout = settings.approval.timeout;
    c.record.status = 'awaiting-approval';
    this.o.arm(c, timeout);
    await this.o.book.transition(c, 'awaiting-approval', 'approval-requested', { data: { groups, expiresAt: new Date(c.expiresAt).toISOString() } });
    const id = c.record.id;
    const text = `${id} needs approval: ${c.requester.name} asks to ${c.preview!.text}.\nJustification: ${c.justification!.reason} — ${c.justification!.detail}.\nApprovers (${groups.join(', ')}), within ${formatDuration(timeout)}: approve ${id} or deny ${id} [reason]. ${c.requester.name} cannot approve their own request.`;
    const buttons = [
      { label: 'Approve', value: `approve ${id}`, style: 'primary' as const },
      { label: 'Deny', value: `deny ${id}`, style: 'danger' as const },
    ];
    const out: Out = [reply(msg, text, { buttons, mention: groups })];
    const room = settings.approval.room;
    if (room && room !== msg.room) out.push({ room, text, buttons, mention: groups });
    return out;
  }

  async decide(msg: ChatMessage, c: Conversation, decision: 'approve' | 'deny', comment?: string): Promise<Out> {
    const { book } = this.o;
    const id = c.record.id;
    const who = msg.user;
    if (c.record.status !== 'awaiting-approval') {
      return [reply(msg, `${id} is ${c.record.status}; there is nothing to ${decision}${c.record.status === 'awaiting-confirmation' && sameIdentity(who, c.requester) ? ` (did you mean confirm ${id}?)` : ''}.`, { ephemeral: true })];
    }
    const refuse = async (why: string) => {
      await book.transition(c, undefined, 'approval-refused', { by: who, reason: why, data: { decision, approverRoom: msg.room } });
      return [reply(msg, `${Errors.CHAT_APPROVAL_REFUSED.code} ${id}: ${why}.`, { ephemeral: true })];
    };
    // Platform identities, mapped subjects and devices — never display names, never object identity.
    if (samePerson(who, c.requester)) {
      const self = sameIdentity(who, c.requester) ? 'you asked for it' : `${describeUser(who)} may be the same person as ${describeUser(c.requester)}, who asked for it`;
      return refuse(decision === 'approve'
        ? `${self}, so someone else in ${this.o.settings.approval.groups.join(', ')} must approve it (four-eyes)`
        : `${self}; to drop it, the requester cancels ${id}`);
    }
    if (who.mapping !== 'mapped') return refuse(`${describeUser(who)} is a guest; only users mapped to a name in kubemend's config can approve`);
    const groups = this.o.settings.approval.groups;
    let member = false;
    for (const g of groups) if (await this.o.authorizer.memberOf(who.name, who.groups, g)) member = true;
    if (!member) return refuse(`${who.name} is not in an approver group (${groups.join(', ')})`);
    const allowed = await this.o.authorizer.check({ user: who.name, groups: who.groups, cluster: c.record.cluster!, namespace: c.cmd.namespace, room: msg.room, action: 'approve' });
    if (!allowed.allowed) return refuse(allowed.reason);

    c.record.approvals.push({ user: who.name, decision, time: this.o.clock.now(), ...(comment ? { comment } : {}) });
    const toRequester = (text: string): Out => (msg.room === c.record.room ? [] : [{ room: c.record.room, ...(c.thread ? { thread: c.thread } : {}), text }]);
    if (decision === 'deny') {
      await book.transition(c, 'denied', 'rejected', { by: who, reason: comment ?? 'denied by an approver', data: { rule: allowed.rule.source } });
      book.finish(c);
      const text = `${id} denied by ${who.name}${comment ? `: ${comment}` : ''}. Nothing was changed.`;
      return [reply(msg, text), ...toRequester(text)];
    }
    await book.transition(c, 'approved', 'approved', { by: who, data: { rule: allowed.rule.source, ...(comment ? { comment } : {}) } });
    const started = await this.o.executions.start(c, (text) => reply({ room: c.record.room, thread: c.thread }, `${text.replace(`${id}: `, `${id}: approved by ${who.name}; `)}`));
    return msg.room === c.record.room ? started : [reply(msg, `${id} approved; the result will be posted in ${c.record.room}.`), ...started];
  }
}
