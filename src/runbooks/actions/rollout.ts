// k8s.rolloutRestart and k8s.promote: the two actions that start a new
// rollout of a workload's pod template without going back in history.
import { z } from 'zod';
import { k8sTime } from '../../common/index.ts';
import { type KubeObject, imagesOf, pathOf } from '../../kube/index.ts';
import { ActionError, type ActionContext } from '../types.ts';
import { OPERATION_ANNOTATION, STRATEGIC, Name, WorkloadKind, checkStamped, kube, mutating, objName, operationOf, toActionError } from './util.ts';

const RESTARTED_AT = 'kubectl.kubernetes.io/restartedAt';

const RestartParams = z.object({ kind: WorkloadKind.default('Deployment'), namespace: Name, name: Name });
export type RestartParams = z.infer<typeof RestartParams>;

/** `kubectl rollout restart`: a new restartedAt stamp in the pod template rolls every pod. */
export const rolloutRestart = mutating<RestartParams>({
  name: 'k8s.rolloutRestart',
  description: 'Restart every pod of a Deployment, StatefulSet or DaemonSet through a rollout (kubectl rollout restart).',
  params: RestartParams,
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
  })
  .refine((p) => p.fromNamespace || p.fromCluster, { message: 'give fromNamespace or fromCluster (or both)' });
export type PromoteParams = z.infer<typeof PromoteParams>;

async function sourceImages(p: PromoteParams, ctx: ActionContext): Promise<Record<string, string>> {
  const ns = p.fromNamespace ?? p.namespace;
  if (ns === p.namespace && (!p.fromCluster || p.fromCluster === ctx.cluster)) {
    throw new ActionError('INVALID', 'k8s.promote needs a different namespace or cluster to copy images from');
  }
  const api = p.fromCluster && p.fromCluster !== ctx.cluster ? ctx.kubeFor?.(p.fromCluster) : ctx.kube;
  if (!api) throw new ActionError('UNKNOWN_CLUSTER', `no API access configured for cluster "${p.fromCluster}"`);
  try {
    // Reading the source is not a mutation; it still goes out as the run's identity.
    const src = await api.request<KubeObject>('GET', pathOf(p.kind, ns, p.name), { signal: ctx.signal }, ctx.as);
    return imagesOf(src.spec?.template?.spec);
  } catch (err) {
    throw toActionError(err);
  }
}

/** Sets the workload's images to those of the same workload elsewhere (the roll-forward), like `kubectl set image`. */
export const promote = mutating<PromoteParams>({
  name: 'k8s.promote',
  description: "Set a workload's container images from the same-named workload in another namespace or cluster.",
  params: PromoteParams,
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
    const outputs = { images, previousImages: current, changes, unmatched: Object.keys(current).filter((n) => !matched.includes(n)) };
    if (!changes.length || operationOf(target) === ctx.operationKey) return { calls: [], outputs };
    const pick = (list: any[] | undefined) => (list ?? []).filter((c) => changes.some((x) => x.container === c.name)).map((c) => ({ name: c.name, image: from[c.name] }));
    const podSpec: Record<string, unknown> = { containers: pick(spec.containers) };
    if (pick(spec.initContainers).length) podSpec.initContainers = pick(spec.initContainers);
    const body = { metadata: { annotations: { [OPERATION_ANNOTATION]: ctx.operationKey } }, spec: { template: { spec: podSpec } } };
    const what = changes.map((c) => `${c.container}=${c.new}`).join(', ');
    return {
      calls: [{ method: 'PATCH', path, body, description: `set image of ${objName(p.kind, p.namespace, p.name)}: ${what}` }],
      outputs,
      apply: async () => {
        await kube(ctx, 'PATCH', path, { body, contentType: STRATEGIC });
      },
    };
  },
  check: (p, ctx) => checkStamped(ctx, pathOf(p.kind, p.namespace, p.name), (o) => ({ images: imagesOf(o.spec?.template?.spec) })),
});
