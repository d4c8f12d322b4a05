// GET /console/api/v1/overview: what the page asks once after sign-in — that
// the views are served here, who is signed in, the console's room and
// clusters. Cheap on purpose: the page asks it beside /console/api/me before
// its first paint.
import type { RegisterRoutes } from './routes.ts';

export const overviewRoutes: RegisterRoutes = (app, ctx) => {
  app.get('/console/api/v1/overview', async (req, reply) => {
    const user = ctx.user(req, reply);
    if (!user) return;
    return {
      views: true,
      user: { name: user.name, groups: user.groups },
      room: ctx.room,
      clusters: ctx.services.clusters,
    };
  });
};
