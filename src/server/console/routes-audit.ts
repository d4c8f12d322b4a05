// The Audit view's API. Reading needs the policy's `audit` where the
// console stands (its room, the first cluster, no namespace), and each record
// about a namespaced object also `audit` there: a list leaves the others out
// and says how many. Verifying the chain reads every record, which takes
// seconds on a large log, so it is never done per page view: the answer is
// cached for VERIFY_TTL_MS and refreshed on demand (concurrent asks share one
// verification).
//
//   GET /console/api/v1/audit?action=&actor=&target=&since=&until=&runId=&incidentId=&detectionId=&before=&limit=
//   GET /console/api/v1/audit/status[?verify=1]   the signed head and the chain's verification
//   GET /console/api/v1/audit/export?…filters      JSON Lines, as `kubemend audit export` writes
//   GET /console/api/v1/audit/:id                  one record, whole
import { Readable } from 'node:stream';
import { jsonlLine, type AuditQuery, type AuditRecord, type VerifyResult } from '../../audit/index.ts';
import { realClock } from '../../common/index.ts';
import type { ChatUser } from '../../chat/index.ts';
import { pageSize, type ConsoleContext } from './context.ts';
import type { RegisterRoutes } from './routes.ts';

export const VERIFY_TTL_MS = 60_000;

/** The filters a list or an export takes, from a query string. */
function filters(q: Record<string, string | undefined>): AuditQuery {
  const time = (v?: string) => (v && Number.isFinite(Number(v)) ? Number(v) : v && !Number.isNaN(Date.parse(v)) ? Date.parse(v) : undefined);
  const text = (v?: string) => (v && v.trim() ? v.trim().slice(0, 200) : undefined);
  return {
    action: text(q.action), actor: text(q.actor), target: text(q.target), since: time(q.since), until: time(q.until),
    runId: text(q.runId), incidentId: text(q.incidentId), detectionId: text(q.detectionId),
  };
}

function sees(ctx: ConsoleContext, user: ChatUser): (r: AuditRecord) => Promise<boolean> {
  const may = ctx.visibility(user, 'audit');
  // Records about nothing namespaced were already allowed by the check where the console stands.
  return (r) => (r.target?.namespace ? may({ cluster: r.target.cluster, namespace: r.target.namespace }) : r.target?.cluster ? may({ cluster: r.target.cluster }) : Promise.resolve(true));
}

const row = (r: AuditRecord) => ({
  seq: r.seq, id: r.id, time: r.time, actor: r.actor, action: r.action, target: r.target, outcome: r.outcome,
  runId: r.runId, detectionId: r.detectionId, incidentId: r.incidentId, justification: r.justification,
});

class VerifyCache {
  private last?: { result: VerifyResult; checkedAt: number; tookMs: number };
  private running?: Promise<void>;

  async get(ctx: ConsoleContext, fresh: boolean): Promise<{ result: VerifyResult; checkedAt: number; tookMs: number; ttlMs: number }> {
    // Real time: how stale an answer may be is a matter of the reader's patience, whatever clock the sandbox runs on.
    if (fresh || !this.last || realClock.now() - this.last.checkedAt > VERIFY_TTL_MS) {
      this.running ??= (async () => {
        const t0 = realClock.now();
        const result = await ctx.store.audit.verify();
        this.last = { result, checkedAt: realClock.now(), tookMs: realClock.now() - t0 };
      })().finally(() => { this.running = undefined; });
      await this.running;
    }
    return { ...this.last!, ttlMs: VERIFY_TTL_MS };
  }
}

export const auditRoutes: RegisterRoutes = (app, ctx) => {
  const verification = new VerifyCache();

  app.get('/console/api/v1/audit', async (req, reply) => {
    const user = await ctx.require(req, reply, 'audit');
    if (!user) return;
    const q = req.query as Record<string, string | undefined>;
    const limit = pageSize(q.limit);
    const before = Number(q.before);
    const records = await ctx.store.audit.list({ ...filters(q), order: 'desc', limit, ...(Number.isInteger(before) && before > 0 ? { beforeSeq: before } : {}) });
    const visible = sees(ctx, user);
    const items = [];
    for (const r of records) if (await visible(r)) items.push(row(r));
    return { items, hidden: records.length - items.length, next: records.length === limit ? records[records.length - 1].seq : undefined };
  });

  app.get('/console/api/v1/audit/status', async (req, reply) => {
    if (!(await ctx.require(req, reply, 'audit'))) return;
    const fresh = (req.query as { verify?: string }).verify === '1';
    const [head, v] = await Promise.all([ctx.store.audit.head(), verification.get(ctx, fresh)]);
    return { head: head ?? null, verification: v };
  });

  app.get('/console/api/v1/audit/export', async (req, reply) => {
    const user = await ctx.require(req, reply, 'audit');
    if (!user) return;
    const q = filters(req.query as Record<string, string | undefined>);
    const visible = sees(ctx, user);
    const log = ctx.store.audit;
    async function* lines() {
      for await (const r of log.iterate(q)) if (await visible(r)) yield `${jsonlLine(r)}\n`;
    }
    const name = `kubemend-audit-${new Date(ctx.services.clock.now()).toISOString().replace(/[:.]/g, '-')}.jsonl`;
    return reply.type('application/x-ndjson; charset=utf-8').header('content-disposition', `attachment; filename="${name}"`).send(Readable.from(lines()));
  });

  app.get('/console/api/v1/audit/:id', async (req, reply) => {
    const user = await ctx.require(req, reply, 'audit');
    if (!user) return;
    const id = (req.params as { id: string }).id;
    const [r] = /^\d+$/.test(id) ? await ctx.store.audit.list({ afterSeq: Number(id) - 1, limit: 1 }) : await ctx.store.audit.list({ id, limit: 1 });
    if (!r || (/^\d+$/.test(id) && r.seq !== Number(id))) return reply.code(404).send({ error: 'no such audit record' });
    if (!(await sees(ctx, user)(r))) return ctx.forbid(req, reply, user, `${user.name} may not read audit records about ${r.target?.cluster ?? ''}/${r.target?.namespace ?? ''}`);
    return { record: r };
  });
};
