// The Runs view's API. Reads need the policy's `runs` on the run's cluster
// and namespace (a list shows only those, and refuses a user who may read
// none); an abort goes through chat's `run abort`, so the `abort` action,
// its audit and the stop at the next step boundary are chat's own.
//
//   GET  /console/api/v1/runs?status=&runbook=&cursor=&limit=
//   GET  /console/api/v1/runs/:id          the run, its step graph laid out, the path taken
//   POST /console/api/v1/runs/:id/abort    { reason }
import { type RunGraph, type RunRecord, type RunStatus, ACTIVE_RUN_STATUSES } from '../../store/index.ts';
import { viewOf } from '../../runbooks/index.ts';
import { Errors } from '../../common/index.ts';
import { pageSize, type ConsoleContext, type Scope } from './context.ts';
import { layoutGraph, takenPath, type GraphLayout } from './graph-layout.ts';
import type { RegisterRoutes } from './routes.ts';

const STATUSES: readonly RunStatus[] = ['pending', 'running', 'waiting-approval', 'succeeded', 'failed', 'escalated', 'cancelled', 'preempted', 'dry-run', 'abandoned'];
const RUN_ID = /^[0-9a-f][0-9a-f-]{7,35}$/i;

export const runScope = (r: RunRecord): Scope => ({ cluster: r.cluster, namespace: r.target.namespace ?? '' });

/** A reason typed in the console, as one quoted chat argument: no quotes or line breaks that could end it. */
export function chatArgument(s: unknown, max = 300): string {
  return String(s ?? '').replace(/["'“”‘’„]/g, '`').replace(/\s+/g, ' ').trim().slice(0, max);
}

/** A cursor of the runs list: the last run's creation time and id. */
function cursor(v: unknown): { createdAt: number; id: string } | undefined {
  const m = /^(\d+)\.([0-9a-f-]{8,36})$/i.exec(String(v ?? ''));
  return m ? { createdAt: Number(m[1]), id: m[2] } : undefined;
}

function summary(r: RunRecord, now: number) {
  const ended = !ACTIVE_RUN_STATUSES.includes(r.status);
  return {
    id: r.id, runbook: r.runbook, cluster: r.cluster, target: r.target, status: r.status, dryRun: r.dryRun,
    startedBy: r.startedBy, createdAt: r.createdAt, updatedAt: r.updatedAt, currentStep: r.currentStep ?? null,
    durationMs: (ended ? r.updatedAt : now) - r.createdAt, detectionId: r.detectionId, incidentId: r.incidentId,
  };
}

/** The graph to draw: what the run recorded, else the runbook loaded now when it still has every step the run took. */
function graphOf(ctx: ConsoleContext, run: RunRecord, visited: string[]): { source: 'recorded' | 'loaded' | 'none'; note?: string; graph?: RunGraph } {
  if (run.graph) return { source: 'recorded', graph: run.graph };
  const lr = ctx.services.runbooks().find((r) => r.runbook.metadata.name === run.runbook);
  if (!lr) return { source: 'none', note: `The run did not record its step graph and runbook ${run.runbook} is no longer loaded, so it cannot be drawn; the steps it took are listed below.` };
  const g = viewOf(lr).graph!();
  const missing = visited.filter((id) => !g.steps.some((s) => s.id === id));
  if (missing.length) return { source: 'none', note: `The run did not record its step graph, and runbook ${run.runbook} as loaded now has no step ${missing.join(', ')}: it was changed since, so it is not drawn; the steps the run took are listed below.` };
  return { source: 'loaded', graph: g, note: `Drawn from runbook ${run.runbook} as loaded now: the run did not record its step graph, and the runbook may have changed since.` };
}

export const runsRoutes: RegisterRoutes = (app, ctx) => {
  app.get('/console/api/v1/runs', async (req, reply) => {
    const user = ctx.user(req, reply);
    if (!user) return;
    const q = req.query as Record<string, string | undefined>;
    const status = q.status ? q.status.split(',') : undefined;
    const bad = status?.find((s) => !(STATUSES as string[]).includes(s));
    if (bad !== undefined) return reply.code(400).send({ error: `status "${bad.slice(0, 40)}" is not one of ${STATUSES.join(', ')}`, code: Errors.CONSOLE_BAD_REQUEST.code });
    const after = cursor(q.cursor);
    if (q.cursor && !after) return reply.code(400).send({ error: 'the cursor is not one this server made: start the list again without it', code: Errors.CONSOLE_BAD_REQUEST.code });
    const limit = pageSize(q.limit);
    const rows = await ctx.store.listRuns({ status: status as RunStatus[] | undefined, runbook: q.runbook || undefined, limit, after });
    const may = ctx.visibility(user, 'runs');
    const items = [];
    for (const r of rows) if (await may(runScope(r))) items.push(summary(r, ctx.services.clock.now()));
    // Nothing shown and no right to read runs where the console stands: a refusal, not an empty list.
    if (!items.length && !(await ctx.may(user, 'runs'))) return ctx.forbid(req, reply, user, `${user.name} may not read runs from room ${ctx.room}`);
    const last = rows[rows.length - 1];
    return {
      items,
      hidden: rows.length - items.length,
      next: rows.length === limit && last ? `${last.createdAt}.${last.id}` : undefined,
      statuses: STATUSES,
      runbooks: [...new Set(ctx.services.runbooks().map((r) => r.runbook.metadata.name))].sort(),
    };
  });

  app.get('/console/api/v1/runs/:id', async (req, reply) => {
    const user = ctx.user(req, reply);
    if (!user) return;
    const run = await ctx.store.getRun((req.params as { id: string }).id);
    if (!run) return reply.code(404).send({ error: 'no such run' });
    if (!(await ctx.require(req, reply, 'runs', runScope(run)))) return;
    const transitions = await ctx.store.transitions(run.id);
    const visited = [...new Set(transitions.map((t) => t.stepId))];
    const g = graphOf(ctx, run, visited);
    const path = takenPath(g.graph, transitions, run.status);
    const layout: GraphLayout | undefined = g.graph && layoutGraph(g.graph);
    const active = ACTIVE_RUN_STATUSES.includes(run.status);
    return {
      run: { ...summary(run, ctx.services.clock.now()), params: run.params, stop: active ? run.stop : undefined },
      graph: { source: g.source, note: g.note, start: g.graph?.start, steps: g.graph?.steps, layout },
      path,
      mayAbort: active && (await ctx.may(user, 'abort', runScope(run))),
    };
  });

  app.post('/console/api/v1/runs/:id/abort', async (req, reply) => {
    const user = ctx.user(req, reply);
    if (!user) return;
    const id = (req.params as { id: string }).id;
    const run = RUN_ID.test(id) ? await ctx.store.getRun(id) : undefined;
    if (!run) return reply.code(404).send({ error: 'no such run' });
    if (!(await ctx.require(req, reply, 'abort', runScope(run)))) return;
    const reason = chatArgument((req.body as { reason?: unknown } | undefined)?.reason);
    const replies = await ctx.say(user, `run abort ${run.id}${reason ? ` --reason "${reason}"` : ''}`);
    return { replies: replies.map((r) => r.text) };
  });
};
