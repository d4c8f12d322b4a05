// The Silences view's API.
//   GET  silences?state=active|pending|expired|all     (expired ones for five days, as the CLI lists them)
//   POST silences {matchers: ["rule=crashloop", …], duration: "2h" | endsAt, comment}
//   POST silences/:id/expire
// A silence is about what its matchers pin: an exact `cluster=` and
// `namespace=` make its scope; without `cluster=` it covers every cluster
// kubemend watches (each is checked), without `namespace=` every namespace
// (checked as `*`, so it needs a rule that allows any namespace). Creating and
// expiring need the policy's `silence` action there, reading `incidents`.
// Both write through the same functions as `kubemend silence add|expire`, so
// the store, the audit records (silence.created/expired with the person as
// actor) and every process's silence sync behave as they do for the CLI.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Silence } from '../../store/index.ts';
import { Silences, formatMatcher, silenceState } from '../../rules/index.ts';
import { createSilence, expireSilence } from '../../pipeline/index.ts';
import { Errors, KubemendError } from '../../common/index.ts';
import type { Scope } from './context.ts';
import { answer } from './routes-incidents.ts';
import type { RegisterRoutes } from './routes.ts';

const KEEP_EXPIRED_MS = 5 * 86_400_000;
const STATES = ['active', 'pending', 'expired', 'all'];

/**
 * Where a silence's matchers reach: the cluster and namespace they pin
 * exactly, else every watched cluster and every namespace — checked as `*`
 * and as each namespace a deny rule of the policy names, since a deny for
 * `kube-system` does not match the literal `*`, and a silence over every
 * namespace silences kube-system too.
 */
export function silenceScopes(matchers: Silence['matchers'], clusters: readonly string[], deniedNamespaces: readonly string[] = []): Scope[] {
  const exact = (name: string) => matchers.find((m) => m.name === name && m.op === '=')?.value;
  const pinned = exact('namespace');
  const namespaces = pinned !== undefined ? [pinned] : ['*', ...new Set(deniedNamespaces.filter((n) => n !== '*'))];
  const cluster = exact('cluster');
  return (cluster !== undefined ? [cluster] : clusters.length ? clusters : ['*']).flatMap((c) => namespaces.map((namespace) => ({ cluster: c, namespace })));
}

function row(s: Silence, now: number) {
  return { ...s, state: silenceState(s, now), text: s.matchers.map(formatMatcher) };
}

function body(b: unknown): { matchers: string[]; duration?: string; endsAt?: string; comment: string } {
  const o = (b ?? {}) as Record<string, unknown>;
  const bad = (m: string) => new KubemendError(Errors.CONSOLE_BAD_REQUEST, m);
  if (!Array.isArray(o.matchers) || !o.matchers.length || o.matchers.length > 20 || !o.matchers.every((m) => typeof m === 'string' && m.length <= 300)) throw bad('"matchers" must be a list of 1 to 20 matchers such as "rule=crashloop"');
  for (const k of ['duration', 'endsAt', 'comment'] as const) if (o[k] !== undefined && (typeof o[k] !== 'string' || (o[k] as string).length > 1000)) throw bad(`"${k}" must be text of at most 1000 characters`);
  return { matchers: o.matchers as string[], duration: o.duration as string | undefined, endsAt: o.endsAt as string | undefined, comment: String(o.comment ?? '') };
}

export const silenceRoutes: RegisterRoutes = (app, ctx) => {
  const clock = ctx.services.clock;
  const denied = () => ctx.services.authorizer.policy.rules.filter((r) => r.effect === 'deny').map((r) => r.namespace);
  const scopes = (s: Pick<Silence, 'matchers'>) => silenceScopes(s.matchers, ctx.services.clusters, denied());
  /** The user when the policy lets them `silence` everywhere the matchers reach; else 403, audited with the first scope refused. */
  const mayChange = async (req: FastifyRequest, reply: FastifyReply, s: Pick<Silence, 'matchers'>) => {
    const user = ctx.user(req, reply);
    if (!user) return undefined;
    for (const scope of scopes(s)) if (!(await ctx.may(user, 'silence', scope))) return ctx.require(req, reply, 'silence', scope);
    return user;
  };

  app.get('/console/api/v1/silences', async (req, reply) => {
    const user = ctx.user(req, reply);
    if (!user) return;
    const state = (req.query as { state?: string }).state || 'all';
    if (!STATES.includes(state)) return reply.code(400).send({ error: `state "${state.slice(0, 40)}" is not one of ${STATES.join(', ')}`, code: Errors.CONSOLE_BAD_REQUEST.code });
    const now = clock.now();
    const may = ctx.visibility(user, 'incidents');
    const items = [];
    // Newest first; silences are few (people make them), so one read is the whole list.
    for (const s of (await ctx.store.listSilences()).reverse()) {
      if (s.endsAt <= now - KEEP_EXPIRED_MS || (state !== 'all' && silenceState(s, now) !== state)) continue;
      if ((await Promise.all(scopes(s).map(may))).every(Boolean)) items.push(row(s, now));
    }
    return { items };
  });

  app.post('/console/api/v1/silences', async (req, reply) => {
    const user = ctx.user(req, reply);
    if (!user) return;
    return answer(reply, async () => {
      const input = body(req.body);
      // Parsed before the policy is asked: the scope comes from the matchers.
      const probe = new Silences(clock).add({ ...input, createdBy: user.name, comment: input.comment || '-' });
      if (!(await mayChange(req, reply, probe))) return;
      const s = await createSilence(ctx.store, clock, { ...input, createdBy: user.name });
      return { silence: row(s, clock.now()) };
    });
  });

  app.post('/console/api/v1/silences/:id/expire', async (req, reply) => {
    const user = ctx.user(req, reply);
    if (!user) return;
    const id = (req.params as { id: string }).id;
    const found = (await ctx.store.listSilences()).find((s) => s.id === id);
    if (!found) return reply.code(404).send({ error: `no silence ${id}` });
    if (!(await mayChange(req, reply, found))) return;
    if (!(await expireSilence(ctx.store, clock, id, { type: 'user', name: user.name }))) return reply.code(409).send({ error: `silence ${id} is already over` });
    return { ok: true };
  });
};
