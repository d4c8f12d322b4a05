// notify: tell people through the configured notifier. It changes nothing in
// the cluster, but a dry-run still sends nothing: a plan is not an incident.
import { z } from 'zod';
import { ActionError, type Action, type PlannedCall } from '../types.ts';

const Params = z.object({
  channel: z.string().min(1),
  title: z.string().min(1),
  text: z.string().default(''),
  severity: z.enum(['info', 'warning', 'critical']).optional(),
});
export type NotifyParams = z.infer<typeof Params>;

const describe = (p: NotifyParams): PlannedCall => ({ method: 'NOTIFY', path: p.channel, body: { title: p.title, text: p.text, severity: p.severity }, description: `notify ${p.channel}: ${p.title}` });

export const notify: Action<NotifyParams> = {
  name: 'notify',
  description: 'Send a message to a notification channel.',
  params: Params,
  access: [],
  mutates: false,
  async plan(p) {
    return [describe(p)];
  },
  async run(p, ctx) {
    const calls = [describe(p)];
    if (ctx.dryRun) return { outputs: {}, mutated: false, calls };
    try {
      await ctx.notifier.send({ channel: p.channel, title: p.title, text: p.text, severity: p.severity ?? ctx.detection?.severity, runId: ctx.runId, detectionId: ctx.detection?.id });
    } catch (err) {
      throw new ActionError('NOTIFY_FAILED', `could not notify ${p.channel}: ${(err as Error)?.message ?? err}`, { cause: err });
    }
    return { outputs: { sent: true, channel: p.channel }, mutated: false, calls };
  },
};
