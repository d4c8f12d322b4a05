// k8s.rolloutRestart and k8s.promote: the two actions that start a new
// rollout of a workload's pod template without going back in history.
// Promote copies only from a source whose health shows its images work
// (source-health.ts), unless an override is approved by a second person.
import { z } from 'zod';
import { Duration, k8sTime } from '../../common/index.ts';
import { type KubeHttp, type KubeObject, imagesOf, pathOf } from '../../kube/index.ts';
import { ActionError, type ActionContext, type PlannedCall } from '../types.ts';
import { type SourceHealth, describeHealth, sourceHealth } from './source-health.ts';
import { OPERATION_ANNOTATION, STRATEGIC, Name, WorkloadKind, checkDeclared, checkStamped, kube, mutating, objName, operationOf, toActionError, allow } from './util.ts';

const RESTARTED_AT = 'kubectl.kubernetes.io/restartedAt';

const RestartParams = z.object({ kind: WorkloadKind.default('Deployment'), namespace: Name, name: Name });
export type RestartParams = z.infer<typeof RestartParams>;

/** `kubectl rollout restart`: a new restartedAt stamp in the pod template rolls every pod. */
export const rolloutRestart = mutating<RestartParams>({
  name: 'k8s.rolloutRestart',
  description: 'Restart every pod of a Deployment, StatefulSet or DaemonSet through a rollout (kubectl rollout restart).',
  params: RestartParams,
  access: [allow('apps', ['daemonsets', 'deployments', 'statefulsets'], ['get', 'patch'])],
  async prepare(p, ctx) {
    const path = pathOf(p.kind, p.namespace, p.name);
    const obj = await kube<KubeObject>(ctx, 'GET', path);
    if (operationOf(obj) === ctx.operationKey) {
      return { calls: [], outputs: { restartedAt: obj.spec?.template?.metadata?.annotations?.[RESTARTED_AT] } };
    }
    if (obj.spec?.paused) throw new ActionError('PAUSED', `can't restart paused ${objName(p.kind, p.namespace, p.name)} (run rollout resume first)`);
    const restartedAt = k8sTime(ctx.clock.now());
    const body = {
      metadata: { annotations: { [OPERATION_ANNOTATION]: ctx.operationKey } },
      spec: { template: { metadata: { annotations: { [RESTARTED_AT]: restartedAt } } } },
    };
    return {
      calls: [{ method: 'PATCH', path, body, description: `restart ${objName(p.kind, p.namespace, p.name)} (restartedAt ${restartedAt})` }],
      outputs: { restartedAt },
      apply: async () => {
        await kube(ctx, 'PATCH', path, { body, contentType: STRATEGIC });
      },
    };
  },
  check: (p, ctx) => checkStamped(ctx, pathOf(p.kind, p.namespace, p.name), (o) => ({ restartedAt: o.spec?.template?.metadata?.annotations?.[RESTARTED_AT] })),
});

const PromoteParams = z
  .object({
    kind: WorkloadKind.default('Deployment'),
    namespace: Name,
    name: Name,
    fromNamespace: Name.optional(),
    fromCluster: Name.optional(),
    /** Only these containers (default: every container both workloads have). */
    containers: z.array(Name).optional(),
    /** Restarts, OOMKills and crash loops of the source count when they are this recent. */
    window: Duration.prefault('10m'),
    /** Promote from an unhealthy source all the same, once someone in `approvers` other than the run's person approves. */
    override: z.boolean().default(false),
    /** The group that approves an override (four-eyes: never the person the run acts for). */
    approvers: Name.optional(),
    approvalTimeout: Duration.prefault('30m'),
  })
  .refine((p) => p.fromNamespace || p.fromCluster, { message: 'give fromNamespace or fromCluster (or both)' })
  .refine((p) => !p.override || p.approvers, { message: 'override needs approvers: the group that approves promoting from an unhealthy source' });
export type PromoteParams = z.infer<typeof PromoteParams>;

/** The source's API and namespace; refuses a source that is the target itself. */
function sourceOf(p: PromoteParams, ctx: ActionContext): { api: KubeHttp; namespace: string } {
  const namespace = p.fromNamespace ?? p.namespace;
  if (namespace === p.namespace && (!p.fromCluster || p.fromCluster === ctx.cluster)) {
    throw new ActionError('INVALID', 'k8s.promote needs a different namespace or cluster to copy images from');
  }
  const api = p.fromCluster && p.fromCluster !== ctx.cluster ? ctx.kubeFor?.(p.fromCluster) : ctx.kube;
  if (!api) throw new ActionError('UNKNOWN_CLUSTER', `no API access configured for cluster "${p.fromCluster}"`);
  return { api, namespace };
}

async function sourceImages(p: PromoteParams, ctx: ActionContext): Promise<Record<string, string>> {
  const { api, namespace } = sourceOf(p, ctx);
  checkDeclared(ctx, 'GET', pathOf(p.kind, namespace, p.name));
  try {
    // Reading the source is not a mutation; it still goes out as the run's identity.
    const src = await api.request<KubeObject>('GET', pathOf(p.kind, namespace, p.name), { signal: ctx.signal }, ctx.as);
    return imagesOf(src.spec?.template?.spec);
  } catch (err) {
    throw toActionError(err);
  }
}

/**
 * Asks `approvers` to approve promoting from the unhealthy source, showing the
 * evidence. Four-eyes: the person the run acts for is named to the gate and
 * refused again here, whatever gate answers.
 */
async function approveOverride(p: PromoteParams, ctx: ActionContext, health: SourceHealth): Promise<string> {
  const requester = ctx.as?.user;
  const summary = `override the health check and promote ${objName(p.kind, p.namespace, p.name)} from the unhealthy ${describeHealth(health).replace(/^source /, '')}`;
  const d = await ctx.approvals.request({ runId: ctx.runId, stepId: ctx.stepId, group: p.approvers!, summary, timeoutMs: p.approvalTimeout, signal: ctx.signal, requester });
  if (d.decision === 'timeout') throw new ActionError('APPROVAL_TIMEOUT', `${p.approvers} did not approve the override within ${Math.round(p.approvalTimeout / 1000)}s; nothing was changed. ${describeHealth(health)}`);
  if (d.decision === 'denied') throw new ActionError('APPROVAL_DENIED', `${d.by} denied the override${d.comment ? ` (${d.comment})` : ''}; nothing was changed. ${describeHealth(health)}`);
  if (requester && d.by === requester) throw new ActionError('SELF_APPROVAL', `${d.by} asked for the override and cannot approve it too (four-eyes); nothing was changed`);
  ctx.log(`override of the unhealthy source approved by ${d.by}`);
  return d.by;
}

/**
 * Sets the workload's images to those of the same workload elsewhere (the
 * roll-forward), like `kubectl set image`, once the source has shown they work.
 */
export const promote = mutating<PromoteParams>({
  name: 'k8s.promote',
  description: "Set a workload's container images from the same-named workload in another namespace or cluster, if that one is healthy.",
  params: PromoteParams,
  access: [
    allow('apps', ['daemonsets', 'deployments', 'statefulsets'], ['get', 'patch']),
    // The source's health: its pods, and a Deployment's ReplicaSets.
    allow('', ['pods'], ['list']),
    allow('apps', ['replicasets'], ['list']),
  ],
  async prepare(p, ctx) {
    const path = pathOf(p.kind, p.namespace, p.name);
    const [target, from] = await Promise.all([kube<KubeObject>(ctx, 'GET', path), sourceImages(p, ctx)]);
    const spec = target.spec?.template?.spec ?? {};
    const current = imagesOf(spec);
    const wanted = (n: string) => (!p.containers || p.containers.includes(n)) && from[n] !== undefined;
    const matched = Object.keys(current).filter(wanted);
    if (!matched.length) throw new ActionError('NO_MATCHING_CONTAINERS', `no container of ${objName(p.kind, p.namespace, p.name)} exists in the source (${Object.keys(from).join(', ') || 'none'})`);
    const changes = matched.filter((n) => current[n] !== from[n]).map((n) => ({ container: n, old: current[n], new: from[n] }));
    const images = { ...current, ...Object.fromEntries(matched.map((n) => [n, from[n]])) };
    const outputs: Record<string, unknown> = { images, previousImages: current, changes, unmatched: Object.keys(current).filter((n) => !matched.includes(n)) };
    // Nothing to change, or the change already landed (a retry after it): no source to judge.
    if (!changes.length || operationOf(target) === ctx.operationKey) return { calls: [], outputs };
    const { api, namespace } = sourceOf(p, ctx);
    const health = await sourceHealth(api, ctx, p.kind, namespace, p.name, p.window);
    outputs.sourceHealth = health;
    if (!health.healthy && !p.override) {
      throw new ActionError('SOURCE_UNHEALTHY', `not promoting ${objName(p.kind, p.namespace, p.name)}: ${describeHealth(health)}. Its images would carry the failure here; to promote anyway, set override (chat: --force), which someone in the approver group other than you must approve`);
    }
    const pick = (list: any[] | undefined) => (list ?? []).filter((c) => changes.some((x) => x.container === c.name)).map((c) => ({ name: c.name, image: from[c.name] }));
    const podSpec: Record<string, unknown> = { containers: pick(spec.containers) };
    if (pick(spec.initContainers).length) podSpec.initContainers = pick(spec.initContainers);
    const body = { metadata: { annotations: { [OPERATION_ANNOTATION]: ctx.operationKey } }, spec: { template: { spec: podSpec } } };
    const what = changes.map((c) => `${c.container}=${c.new}`).join(', ');
    const sourcePath = pathOf(p.kind, namespace, p.name);
    const calls: PlannedCall[] = [{ method: 'CHECK', path: sourcePath, body: health, description: describeHealth(health) }];
    if (!health.healthy) calls.push({ method: 'APPROVAL', path: p.approvers!, body: { evidence: health.evidence }, description: `ask ${p.approvers} to approve overriding the failed health check of the source (someone other than ${ctx.as?.user ?? 'the requester'})` });
    calls.push({ method: 'PATCH', path, body, description: `set image of ${objName(p.kind, p.namespace, p.name)}: ${what}` });
    return {
      calls,
      outputs,
      apply: async () => {
        const approvedBy = health.healthy ? undefined : await approveOverride(p, ctx, health);
        await kube(ctx, 'PATCH', path, { body, contentType: STRATEGIC });
        return approvedBy ? { override: { approvedBy, evidence: health.evidence } } : undefined;
      },
    };
  },
  check: (p, ctx) => checkStamped(ctx, pathOf(p.kind, p.namespace, p.name), (o) => ({ images: imagesOf(o.spec?.template?.spec) })),
});
