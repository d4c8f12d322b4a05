// The Incidents view's API.
//   GET  incidents?state=active|all|open|…&cursor&limit   the list, newest first
//   GET  incidents/:id                                     the incident, its timeline, findings and post-mortem draft
//   POST incidents/:id/ack | assign {user} | resolve {reason?} | note {text}
// Reading needs the policy's `incidents` action on the incident's cluster and
// namespace (its first detection's, as in chat). The lifecycle actions are
// chat commands said as the signed-in user (`incident ack ID` …), so the
// chat's `incident` action, its audit records and its answers apply as they
// are; the route checks the policy first only to answer 403 instead of 200.
import type { FastifyReply } from 'fastify';
import { Errors, KubemendError } from '../../common/index.ts';
import { INCIDENT_STATUSES, ACTIVE_INCIDENT_STATUSES, type IncidentRecord, type IncidentStatus } from '../../store/index.ts';
import { gatherIncident, buildTimeline, draftPostmortem, type IncidentData, type ChangeEntry, type TimelineEntry } from '../../incidents/index.ts';
import { pageSize, type ConsoleContext, type Scope } from './context.ts';
import { decodeCursor, pageOf } from './paging.ts';
import type { RegisterRoutes } from './routes.ts';

/** Where an incident lives for the policy: its cluster and its first detection's namespace (chat decides the same way). */
export function incidentScope(i: IncidentRecord): Scope {
  const root = (i.data as Partial<IncidentData>).detections?.[0]?.subject;
  return { cluster: i.cluster, namespace: root?.namespace ?? '' };
}

/** What a list row shows. */
export function incidentRow(i: IncidentRecord) {
  const data = i.data as Partial<IncidentData>;
  const entities = data.entities ?? [];
  return {
    id: i.id, title: i.title, status: i.status, severity: i.severity, cluster: i.cluster,
    namespaces: entities.filter((e) => e.startsWith('ns:')).map((e) => e.slice(3)),
    workloads: entities.filter((e) => e.startsWith('workload:')).map((e) => e.slice(9)),
    openedAt: i.openedAt, mitigatedAt: i.mitigatedAt, resolvedAt: i.resolvedAt,
    owner: i.owner, acknowledgedBy: i.acknowledgedBy, detections: i.detectionIds.length,
  };
}

function states(v: unknown): readonly IncidentStatus[] | undefined {
  if (v === undefined || v === '' || v === 'active') return ACTIVE_INCIDENT_STATUSES;
  if (v === 'all') return undefined;
  if ((INCIDENT_STATUSES as readonly unknown[]).includes(v)) return [v as IncidentStatus];
  throw new KubemendError(Errors.CONSOLE_BAD_REQUEST, `state "${String(v).slice(0, 40)}" is not one of active, all, ${INCIDENT_STATUSES.join(', ')}`);
}

/** Answers a KubemendError the client caused as 400 with its code; anything else is the server's fault. */
export async function answer<T>(reply: FastifyReply, fn: () => Promise<T>): Promise<T | undefined> {
  try {
    return await fn();
  } catch (err) {
    if (!(err instanceof KubemendError)) throw err;
    const status = err.code === Errors.INCIDENT_NOT_FOUND.code ? 404 : 400;
    void reply.code(status).send({ error: err.message, code: err.code });
    return undefined;
  }
}

/** The timeline's change entries with the change behind each (author, diff), matched in the order buildTimeline made them. */
function withChanges(timeline: TimelineEntry[], changes: ChangeEntry[]) {
  const left = [...changes];
  return timeline.map((e) => {
    if (e.source !== 'change') return e;
    const i = left.findIndex((c) => c.time === e.time && e.text.startsWith(`${c.object.kind.toLowerCase()}/${c.object.namespace ? `${c.object.namespace}/` : ''}${c.object.name} ${c.summary}`));
    if (i < 0) return e;
    const [c] = left.splice(i, 1);
    return { ...e, change: { cluster: c.cluster, object: c.object, operation: c.operation, category: c.category, summary: c.summary, diff: c.changes, by: c.by, author: c.author, outsidePipeline: c.outsidePipeline } };
  });
}

async function detail(ctx: ConsoleContext, id: string) {
  const g = await gatherIncident(ctx.store, id);
  const pm = draftPostmortem(g);
  const i = g.incident;
  return {
    incident: { ...incidentRow(i), notes: i.notes ?? [], resolvedBy: i.resolvedBy, resolveReason: i.resolveReason, acknowledgedAt: i.acknowledgedAt, resolvedBecause: g.data.resolvedBecause },
    detections: g.data.detections,
    timeline: withChanges(buildTimeline(g), g.changes),
    runs: g.runs.map((r) => ({ id: r.id, runbook: r.runbook, status: r.status, dryRun: r.dryRun, createdAt: r.createdAt, updatedAt: r.updatedAt })),
    guardrails: g.data.guardrails ?? [],
    guardrailsSkipped: g.data.guardrailsSkipped ?? [],
    postmortem: pm,
  };
}

/** A chat argument quoted so the chat's tokenizer gives it back whole; KM-CONSOLE-011 when no quote fits. */
export function quoteArg(text: string): string {
  for (const [open, close] of [['"', '"'], ["'", "'"], ['‘', '’']]) {
    if (!text.includes(close) && !(close === '"' && text.includes('”'))) return `${open}${text}${close}`;
  }
  throw new KubemendError(Errors.CONSOLE_BAD_REQUEST, 'the text uses every kind of quote mark ("…", \'…\' and ‘…’); leave one kind out');
}

function field(body: unknown, name: string, max: number, required: boolean): string | undefined {
  const v = (body as Record<string, unknown> | undefined)?.[name];
  if (v === undefined || v === null || v === '') {
    if (required) throw new KubemendError(Errors.CONSOLE_BAD_REQUEST, `"${name}" is required`);
    return undefined;
  }
  if (typeof v !== 'string' || v.length > max || !v.trim()) throw new KubemendError(Errors.CONSOLE_BAD_REQUEST, `"${name}" must be text of 1 to ${max} characters`);
  return v.trim();
}

const VERBS = ['ack', 'assign', 'resolve', 'note'] as const;

export const incidentRoutes: RegisterRoutes = (app, ctx) => {
  app.get('/console/api/v1/incidents', async (req, reply) => {
    const user = ctx.user(req, reply);
    if (!user) return;
    const q = req.query as Record<string, string | undefined>;
    return answer(reply, async () => {
      const status = states(q.state);
      const may = ctx.visibility(user, 'incidents');
      const page = await pageOf(
        (before, limit) => ctx.store.listIncidents({ status, limit, before }),
        (i) => ({ time: i.openedAt, id: i.id }),
        (i) => may(incidentScope(i)),
        pageSize(q.limit), decodeCursor(q.cursor),
      );
      return { items: page.items.map(incidentRow), next: page.next };
    });
  });

  app.get('/console/api/v1/incidents/:id', async (req, reply) => {
    const user = ctx.user(req, reply);
    if (!user) return;
    const id = (req.params as { id: string }).id;
    const found = await ctx.store.getIncident(id);
    if (!found) return reply.code(404).send({ error: `no incident ${id}`, code: Errors.INCIDENT_NOT_FOUND.code });
    if (!(await ctx.require(req, reply, 'incidents', incidentScope(found)))) return;
    return answer(reply, () => detail(ctx, found.id));
  });

  for (const verb of VERBS) {
    app.post(`/console/api/v1/incidents/:id/${verb}`, async (req, reply) => {
      const user = ctx.user(req, reply);
      if (!user) return;
      const id = (req.params as { id: string }).id;
      const found = await ctx.store.getIncident(id);
      if (!found) return reply.code(404).send({ error: `no incident ${id}`, code: Errors.INCIDENT_NOT_FOUND.code });
      if (!(await ctx.require(req, reply, 'incident', incidentScope(found)))) return;
      return answer(reply, async () => {
        let command = `incident ${verb} ${found.id}`;
        if (verb === 'assign') {
          const who = field(req.body, 'user', 64, true)!;
          if (!/^[a-zA-Z0-9][a-zA-Z0-9._@-]{0,63}$/.test(who)) throw new KubemendError(Errors.CONSOLE_BAD_REQUEST, `"${who.slice(0, 64)}" is not a user name (or me)`);
          command += ` ${who}`;
        } else if (verb === 'resolve') {
          const reason = field(req.body, 'reason', 500, false);
          if (reason) command += ` --reason ${quoteArg(reason)}`;
        } else if (verb === 'note') {
          command += ` ${quoteArg(field(req.body, 'text', 2000, true)!)}`;
        }
        const replies = await ctx.say(user, command);
        const text = replies.map((r) => r.text).join('\n');
        // The chat answers a refusal or a failed change with its error code first (KM-…); anything else is done.
        const failed = /^KM-[A-Z]+-\d+/.exec(text)?.[0];
        if (failed) return reply.code(failed === Errors.CHAT_NOT_ALLOWED.code ? 403 : 409).send({ error: text, code: failed });
        return { ok: true, text, incident: incidentRow((await ctx.store.getIncident(found.id)) ?? found) };
      });
    });
  }
};
