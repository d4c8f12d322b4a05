// The Detections view's API.
//   GET detections?cluster&namespace&rule&severity&status&cursor&limit   newest first
//   GET detections/:id                                                   with its evidence and the silence that matched it
// Reading needs the policy's `incidents` action on the detection's cluster
// and namespace; a list leaves out what the reader may not see. Creating a
// silence from a detection is the Silences API (routes-silences.ts), with
// matchers the page proposes from the detection's labels.
import { Errors, KubemendError } from '../../common/index.ts';
import type { Detection, DetectionStatus } from '../../store/index.ts';
import { pageSize, type Scope } from './context.ts';
import { decodeCursor, pageOf } from './paging.ts';
import { answer } from './routes-incidents.ts';
import type { RegisterRoutes } from './routes.ts';

const STATUSES: readonly DetectionStatus[] = ['pending', 'open', 'resolved', 'silenced'];
const SEVERITIES = ['info', 'warning', 'critical'];

export function detectionScope(d: Detection): Scope {
  return { cluster: d.cluster, namespace: d.subject.namespace ?? '' };
}

/** What a list row shows (evidence only in the detail: it can be long). */
export function detectionRow(d: Detection) {
  return {
    id: d.id, rule: d.rule, cluster: d.cluster, subject: d.subject, severity: d.severity, summary: d.summary, status: d.status,
    firstSeen: d.firstSeen, lastSeen: d.lastSeen, count: d.count, labels: d.labels,
    silencedBy: d.silencedBy, suppressed: d.suppressed, withheld: d.action?.withheld, runbook: d.action?.runbook,
  };
}

function oneOf<T extends string>(name: string, v: string | undefined, allowed: readonly T[]): T | undefined {
  if (v === undefined || v === '') return undefined;
  if ((allowed as readonly string[]).includes(v)) return v as T;
  throw new KubemendError(Errors.CONSOLE_BAD_REQUEST, `${name} "${v.slice(0, 40)}" is not one of ${allowed.join(', ')}`);
}

function text(name: string, v: string | undefined): string | undefined {
  if (v === undefined || v === '') return undefined;
  if (v.length > 253) throw new KubemendError(Errors.CONSOLE_BAD_REQUEST, `${name} is longer than 253 characters`);
  return v;
}

export const detectionRoutes: RegisterRoutes = (app, ctx) => {
  app.get('/console/api/v1/detections', async (req, reply) => {
    const user = ctx.user(req, reply);
    if (!user) return;
    const q = req.query as Record<string, string | undefined>;
    return answer(reply, async () => {
      const status = oneOf('status', q.status, STATUSES);
      const severity = oneOf('severity', q.severity, SEVERITIES);
      const [cluster, namespace, rule] = [text('cluster', q.cluster), text('namespace', q.namespace), text('rule', q.rule)];
      const may = ctx.visibility(user, 'incidents');
      const page = await pageOf(
        (before, limit) => ctx.store.listDetections({ status, rule, cluster, limit, before }),
        (d) => ({ time: d.lastSeen, id: d.id }),
        (d) => (namespace === undefined || (d.subject.namespace ?? '') === namespace) && (severity === undefined || d.severity === severity) && may(detectionScope(d)),
        pageSize(q.limit), decodeCursor(q.cursor),
      );
      return { items: page.items.map(detectionRow), next: page.next };
    });
  });

  app.get('/console/api/v1/detections/:id', async (req, reply) => {
    const user = ctx.user(req, reply);
    if (!user) return;
    const id = (req.params as { id: string }).id;
    const d = await ctx.store.getDetection(id);
    if (!d) return reply.code(404).send({ error: `no detection ${id}` });
    if (!(await ctx.require(req, reply, 'incidents', detectionScope(d)))) return;
    const silence = d.silencedBy ? (await ctx.store.listSilences()).find((s) => s.id === d.silencedBy) : undefined;
    return { detection: { ...detectionRow(d), evidence: d.evidence, action: d.action, notifications: d.notifications }, silence };
  });
};
