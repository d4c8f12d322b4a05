// GET /console/api/v1/overview: what the navigation shows beside each view —
// open incidents, runs in progress, approvals waiting — and the signed-in
// user with what the policy lets them read.
import { ACTIVE_INCIDENT_STATUSES, ACTIVE_RUN_STATUSES } from '../../store/index.ts';
import type { RegisterRoutes } from './routes.ts';

export const overviewRoutes: RegisterRoutes = (app, ctx) => {
  app.get('/console/api/v1/overview', async (req, reply) => {
    const user = ctx.user(req, reply);
    if (!user) return;
    const [incidents, runs] = await Promise.all([
      ctx.store.listIncidents({ status: [...ACTIVE_INCIDENT_STATUSES], limit: 1000 }),
      ctx.store.listRuns({ status: [...ACTIVE_RUN_STATUSES], limit: 1000 }),
    ]);
    return {
      views: true,
      user: { name: user.name, groups: user.groups },
      room: ctx.room,
      clusters: ctx.services.clusters,
      counts: { openIncidents: incidents.length, activeRuns: runs.length, waitingApprovals: runs.filter((r) => r.status === 'waiting-approval').length },
      may: {
        incidents: await ctx.may(user, 'incidents'),
        runs: await ctx.may(user, 'runs'),
      },
    };
  });
};
