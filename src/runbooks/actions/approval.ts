// approval: a named group must approve within a time limit. Denial and
// time-out are final for this attempt (not retryable), so the runbook's
// failure edge decides what happens next.
import { z } from 'zod';
import { Duration } from '../../common/index.ts';
import { ActionError, type Action, type PlannedCall } from '../types.ts';

const Params = z.object({
  group: z.string().min(1),
  summary: z.string().min(1),
  timeout: Duration.prefault('30m'),
});
export type ApprovalParams = z.infer<typeof Params>;

const describe = (p: ApprovalParams): PlannedCall => ({ method: 'APPROVAL', path: p.group, body: { summary: p.summary }, description: `ask ${p.group} to approve within ${Math.round(p.timeout / 1000)}s: ${p.summary}` });

export const approval: Action<ApprovalParams> = {
  name: 'approval',
  description: 'Wait for a named group to approve; denial or time-out follows the failure edge.',
  params: Params,
  access: [],
  mutates: false,
  async plan(p) {
    return [describe(p)];
  },
  async run(p, ctx) {
    const calls = [describe(p)];
    if (ctx.dryRun) return { outputs: {}, mutated: false, calls };
    const d = await ctx.approvals.request({ runId: ctx.runId, stepId: ctx.stepId, group: p.group, summary: p.summary, timeoutMs: p.timeout, signal: ctx.signal });
    if (d.decision === 'approved') {
      ctx.log(`approved by ${d.by}`);
      return { outputs: { approvedBy: d.by, comment: d.comment }, mutated: false, calls };
    }
    if (d.decision === 'denied') throw new ActionError('APPROVAL_DENIED', `${d.by} denied: ${p.summary}${d.comment ? ` (${d.comment})` : ''}`);
    throw new ActionError('APPROVAL_TIMEOUT', `${p.group} did not approve within ${Math.round(p.timeout / 1000)}s: ${p.summary}`);
  },
};
