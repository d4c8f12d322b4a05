// The change feed's API: GET changes?cluster&namespace&kind&cursor&limit,
// newest first. The feed is what the incident tracker keeps in memory from
// the informers (the last 2,000 changes to Deployments, StatefulSets,
// DaemonSets, ConfigMaps, HPAs, Nodes, LimitRanges, ResourceQuotas and PDBs,
// with their author and diff); an incident keeps its own changes in the
// store, so they outlive a restart there. Reading needs the policy's
// `incidents` action on the change's cluster and namespace.
import type { ChangeEntry } from '../../incidents/index.ts';
import { pageSize } from './context.ts';
import { decodeCursor, pageOf, type Cursor } from './paging.ts';
import { answer } from './routes-incidents.ts';
import type { RegisterRoutes } from './routes.ts';

const key = (c: ChangeEntry): Cursor => ({ time: c.time, id: String(c.seq).padStart(12, '0') });

export const changeRoutes: RegisterRoutes = (app, ctx) => {
  app.get('/console/api/v1/changes', async (req, reply) => {
    const user = ctx.user(req, reply);
    if (!user) return;
    const q = req.query as Record<string, string | undefined>;
    const feed = ctx.services.changes;
    if (!feed) return { items: [], off: 'the change feed needs incident tracking (incidents.enabled in the service config)' };
    return answer(reply, async () => {
      const may = ctx.visibility(user, 'incidents');
      // Newest first, ties by sequence as the store's keyset pages order them.
      const all = feed({ cluster: q.cluster || undefined }).slice().sort((a, b) => b.time - a.time || a.seq - b.seq);
      const page = await pageOf(
        async (before, n) => {
          const start = before ? all.findIndex((c) => c.time < before.time || (c.time === before.time && key(c).id > before.id)) : 0;
          return start < 0 ? [] : all.slice(start, start + n);
        },
        key,
        (c) => (!q.namespace || (c.object.namespace ?? '') === q.namespace) && (!q.kind || c.object.kind === q.kind) && may({ cluster: c.cluster, namespace: c.object.namespace ?? '' }),
        pageSize(q.limit), decodeCursor(q.cursor),
      );
      return { items: page.items.map((c) => ({ ...c, diff: c.changes, changes: undefined })), next: page.next };
    });
  });
};
