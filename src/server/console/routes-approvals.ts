// The Approvals view's API: what waits for a second person — chat requests
// in production after their requester confirmed (four-eyes), and runbook
// `approval` steps — with the plan, the justification and the requester.
// Deciding is chat's `approve ID reason` / `deny ID reason` as the signed-in
// user, so the approver groups, the policy's `approve`, four-eyes (never the
// requester) and the audit are exactly chat's.
//
//   GET  /console/api/v1/approvals
//   POST /console/api/v1/approvals/:id   { decision: 'approve' | 'deny', reason }
import { Errors } from '../../common/index.ts';
import { REQUEST_ID, type ChatUser } from '../../chat/index.ts';
import type { ChatRequestRecord } from '../../store/index.ts';
import type { ConsoleContext, Scope } from './context.ts';
import { chatArgument, runScope } from './routes-runs.ts';
import type { RegisterRoutes } from './routes.ts';

const requestScope = (r: ChatRequestRecord): Scope => ({ cluster: r.cluster, namespace: r.target.namespace ?? '' });

/** The plan the requester confirmed (chat audits it with the confirmation). */
async function planOf(ctx: ConsoleContext, r: ChatRequestRecord): Promise<string | undefined> {
  const confirmed = await ctx.store.audit.list({ action: `chat.${r.action}.confirmed`, since: r.createdAt, limit: 200 });
  const rec = confirmed.find((a) => a.data?.request === r.id);
  return typeof rec?.data?.preview === 'string' ? rec.data.preview : undefined;
}

/** Everything waiting that `user` may see: they may approve there, or read the run, or asked for it. */
async function waiting(ctx: ConsoleContext, user: ChatUser) {
  const approve = ctx.visibility(user, 'approve');
  const runs = ctx.visibility(user, 'runs');
  const requests = [];
  let hidden = 0;
  for (const r of await ctx.store.listChatRequests({ status: ['awaiting-approval'], limit: 200 })) {
    if (r.user !== user.name && !(await approve(requestScope(r)))) {
      hidden++;
      continue;
    }
    requests.push({
      id: r.id, kind: 'chat' as const, requester: r.user, room: r.room, command: r.command, action: r.action, cluster: r.cluster, target: r.target,
      justification: r.justification, link: r.link, createdAt: r.createdAt, plan: await planOf(ctx, r), approvals: r.approvals, mine: r.user === user.name,
    });
  }
  const steps = [];
  const here = new Set<string>();
  for (const p of ctx.services.runbookApprovals?.() ?? []) {
    const run = await ctx.store.getRun(p.runId);
    if (!run) continue;
    here.add(run.id);
    if (!(await approve(runScope(run))) && !(await runs(runScope(run)))) {
      hidden++;
      continue;
    }
    const detection = run.detectionId ? await ctx.store.getDetection(run.detectionId) : undefined;
    steps.push({
      id: p.short, kind: 'runbook' as const, runId: run.id, runbook: run.runbook, stepId: p.stepId, group: p.group, plan: p.summary,
      requester: run.startedBy.type === 'user' ? run.startedBy.name : `${run.startedBy.type} ${run.startedBy.name}`,
      justification: detection?.summary, cluster: run.cluster, target: run.target, createdAt: p.requestedAt, expiresAt: p.expiresAt,
      dryRun: run.dryRun, mine: run.startedBy.type === 'user' && run.startedBy.name === user.name,
    });
  }
  // A run waiting on another replica's approval step: its id lives in that process; say so rather than hide it.
  const elsewhere = [];
  for (const run of await ctx.store.listRuns({ status: ['waiting-approval'], limit: 200 })) {
    if (here.has(run.id) || !(await runs(runScope(run)))) continue;
    elsewhere.push({ runId: run.id, runbook: run.runbook, stepId: run.currentStep ?? undefined, cluster: run.cluster, target: run.target, createdAt: run.updatedAt });
  }
  return { requests, steps, elsewhere, hidden };
}

export const approvalsRoutes: RegisterRoutes = (app, ctx) => {
  app.get('/console/api/v1/approvals', async (req, reply) => {
    const user = ctx.user(req, reply);
    if (!user) return;
    const w = await waiting(ctx, user);
    const none = !w.requests.length && !w.steps.length && !w.elsewhere.length;
    if (none && !(await ctx.may(user, 'approve')) && !(await ctx.may(user, 'runs'))) return ctx.forbid(req, reply, user, `${user.name} may neither approve nor read runs from room ${ctx.room}`);
    return w;
  });

  app.post('/console/api/v1/approvals/:id', async (req, reply) => {
    const user = ctx.user(req, reply);
    if (!user) return;
    const id = (req.params as { id: string }).id.toLowerCase();
    const body = (req.body ?? {}) as { decision?: unknown; reason?: unknown };
    if (body.decision !== 'approve' && body.decision !== 'deny') return reply.code(400).send({ error: 'decision must be "approve" or "deny"' });
    const reason = chatArgument(body.reason, 500);
    if (!reason) return reply.code(400).send({ error: `give a reason for the ${body.decision === 'approve' ? 'approval' : 'denial'}` });
    const w = REQUEST_ID.test(id) ? await waiting(ctx, user) : undefined;
    if (!w || ![...w.requests, ...w.steps].some((x) => x.id === id)) return reply.code(404).send({ error: `nothing waits for approval as ${id.slice(0, 12)}` });
    // Chat decides: its approver groups, its policy check, four-eyes, and the audit of a refusal.
    const replies = (await ctx.say(user, `${body.decision} ${id} ${reason}`)).map((r) => r.text);
    if (replies.some((t) => t.startsWith(Errors.CHAT_APPROVAL_REFUSED.code))) return reply.code(403).send({ error: replies.join('\n'), replies });
    return { replies };
  });
};
