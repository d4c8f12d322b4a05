// k8s.drain: `kubectl drain` as an action. Cordon, then evict every pod on
// the node through the Eviction API (so PodDisruptionBudgets decide), retry
// evictions the budget refuses (429) every `interval` until `timeout`, and
// wait for the evicted pods to be gone. The pod filters and their messages
// follow kubectl's drain package.
import { z } from 'zod';
import { Duration } from '../../common/index.ts';
import { KubeApiError, type KubeObject, listPath, pathOf } from '../../kube/index.ts';
import { ActionError, type ActionContext, type PlannedCall } from '../types.ts';
import { CORDON_ACCESS, prepareCordon } from './nodes.ts';
import { Name, getOptional, kube, mutating, sleep, allow } from './util.ts';

const Params = z.object({
  node: Name,
  timeout: Duration.prefault('5m'),
  ignoreDaemonSets: z.boolean().default(true),
  deleteEmptyDirData: z.boolean().default(false),
  /** Also delete pods no controller will recreate. */
  force: z.boolean().default(false),
  gracePeriodSeconds: z.coerce.number().int().min(0).optional(),
  /** Wait between evictions a disruption budget refused (kubectl: 5s). */
  interval: Duration.prefault('5s'),
  /**
   * kubectl's --skip-wait-for-delete-timeout: a pod whose deletionTimestamp
   * is older than this counts as gone. On a node whose kubelet is down no pod
   * ever finishes terminating, and its controller has replaced it already.
   */
  skipWaitForDeleteTimeout: Duration.optional(),
  /** See k8s.cordon: past this share of unschedulable nodes, the drain is refused. */
  maxUnschedulableFraction: z.coerce.number().gt(0).max(1).optional(),
});
export type DrainParams = z.infer<typeof Params>;

const key = (pod: KubeObject) => `${pod.metadata.namespace}/${pod.metadata.name}`;
const controllerOf = (pod: KubeObject) => pod.metadata.ownerReferences?.find((o) => o.controller);
const terminal = (pod: KubeObject) => pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';

interface Selection {
  evict: KubeObject[];
  skipped: { pod: string; reason: string }[];
}

/** Which pods a drain evicts; the pods kubectl would refuse to delete fail the drain before anything changes. */
export async function podsToEvict(ctx: ActionContext, p: DrainParams): Promise<Selection> {
  const list = await kube<{ items: KubeObject[] }>(ctx, 'GET', listPath('Pod'), { query: { fieldSelector: `spec.nodeName=${p.node}` } });
  const out: Selection = { evict: [], skipped: [] };
  const refused = new Map<string, string[]>();
  const refuse = (why: string, pod: KubeObject) => refused.set(why, [...(refused.get(why) ?? []), key(pod)]);
  for (const pod of list.items) {
    const ctl = controllerOf(pod);
    if (ctl?.kind === 'DaemonSet') {
      if (p.ignoreDaemonSets) out.skipped.push({ pod: key(pod), reason: 'ignoring DaemonSet-managed Pods' });
      else refuse('cannot delete DaemonSet-managed Pods (use ignoreDaemonSets)', pod);
      continue;
    }
    if (pod.metadata.annotations?.['kubernetes.io/config.mirror']) {
      out.skipped.push({ pod: key(pod), reason: 'mirror Pod' });
      continue;
    }
    if (!terminal(pod) && (pod.spec?.volumes ?? []).some((v: any) => v.emptyDir) && !p.deleteEmptyDirData) {
      refuse('cannot delete Pods with local storage (use deleteEmptyDirData)', pod);
      continue;
    }
    if (!terminal(pod) && !ctl && !p.force) {
      refuse('cannot delete Pods that declare no controller (use force)', pod);
      continue;
    }
    out.evict.push(pod);
  }
  if (refused.size) {
    const msg = [...refused].map(([why, pods]) => `${why}: ${pods.join(', ')}`).join('; ');
    throw new ActionError('DRAIN_BLOCKED', `cannot drain node ${p.node}: ${msg}`);
  }
  return out;
}

/** The budget's own words from a 429: "The disruption budget web needs 2 healthy pods and has 2 currently". */
function budgetMessage(err: ActionError): string {
  const cause = err.cause instanceof KubeApiError ? (err.cause.body as any)?.details?.causes?.[0]?.message : undefined;
  return cause ?? err.message;
}

async function evictOne(ctx: ActionContext, p: DrainParams, pod: KubeObject, deadline: number, blocked: Map<string, string>): Promise<void> {
  const path = pathOf('Pod', pod.metadata.namespace, pod.metadata.name!, 'eviction');
  const body = evictionBody(pod, p);
  for (;;) {
    try {
      await kube(ctx, 'POST', path, { body });
      blocked.delete(key(pod));
      return;
    } catch (err) {
      if (!(err instanceof ActionError)) throw err;
      if (err.reason === 'NOT_FOUND') return;
      if (err.reason !== 'THROTTLED') throw err;
      blocked.set(key(pod), budgetMessage(err));
      ctx.log(`error when evicting pods/"${pod.metadata.name}" -n "${pod.metadata.namespace}" (will retry after ${Math.round(p.interval / 1000)}s): ${budgetMessage(err)}`);
      const left = deadline - ctx.clock.now();
      if (left <= 0) return;
      await sleep(ctx, Math.min(p.interval, left));
    }
  }
}

const evictionBody = (pod: KubeObject, p: DrainParams) => ({
  apiVersion: 'policy/v1',
  kind: 'Eviction',
  metadata: { name: pod.metadata.name, namespace: pod.metadata.namespace },
  ...(p.gracePeriodSeconds !== undefined ? { deleteOptions: { gracePeriodSeconds: p.gracePeriodSeconds } } : {}),
});

/** waitForDelete: gone, or replaced by a pod of the same name with another UID. */
async function waitGone(ctx: ActionContext, pods: KubeObject[], deadline: number, skipAfter: number | undefined, stuck: string[]): Promise<string[]> {
  let left = pods;
  for (;;) {
    const still: KubeObject[] = [];
    for (const pod of left) {
      const cur = await getOptional(ctx, pathOf('Pod', pod.metadata.namespace, pod.metadata.name!));
      if (!cur || cur.metadata.uid !== pod.metadata.uid) continue;
      const deleting = cur.metadata.deletionTimestamp ? Date.parse(cur.metadata.deletionTimestamp) : undefined;
      if (skipAfter !== undefined && deleting !== undefined && ctx.clock.now() - deleting > skipAfter) {
        stuck.push(key(pod));
        continue;
      }
      still.push(pod);
    }
    left = still;
    if (!left.length || ctx.clock.now() >= deadline) return left.map(key);
    await sleep(ctx, Math.min(1000, deadline - ctx.clock.now()));
  }
}

export const drain = mutating<DrainParams>({
  name: 'k8s.drain',
  description: 'Cordon a node and evict its pods through the Eviction API, respecting PodDisruptionBudgets (kubectl drain).',
  params: Params,
  access: [
    ...CORDON_ACCESS,
    allow('', ['pods'], ['get', 'list']),
    allow('', ['pods/eviction'], ['create']),
  ],
  async prepare(p, ctx) {
    const cordoned = await prepareCordon(ctx, p.node, true, p.maxUnschedulableFraction);
    const sel = await podsToEvict(ctx, p);
    const calls: PlannedCall[] = [
      ...cordoned.calls,
      ...sel.evict.map((pod) => ({ method: 'POST' as const, path: pathOf('Pod', pod.metadata.namespace, pod.metadata.name!, 'eviction'), body: evictionBody(pod, p), description: `evict pod ${key(pod)}` })),
    ];
    if (sel.evict.length) calls.push({ method: 'WAIT', path: pathOf('Node', undefined, p.node), description: `wait up to ${Math.round(p.timeout / 1000)}s for ${sel.evict.length} evicted pods to be gone` });
    const outputs = { node: p.node, pods: sel.evict.map(key), skipped: sel.skipped };
    if (!cordoned.apply && !sel.evict.length) return { calls, outputs };
    return {
      calls,
      outputs,
      apply: async () => {
        const deadline = ctx.clock.now() + p.timeout;
        await cordoned.apply?.();
        const blocked = new Map<string, string>();
        await Promise.all(sel.evict.map((pod) => evictOne(ctx, p, pod, deadline, blocked)));
        if (blocked.size) {
          const list = [...blocked].map(([pod, why]) => `${pod} (${why})`).join('; ');
          throw new ActionError('PDB_BLOCKED', `drain of node ${p.node} timed out: evicting would violate disruption budgets for ${list}`);
        }
        const stuck: string[] = [];
        const remaining = await waitGone(ctx, sel.evict, deadline, p.skipWaitForDeleteTimeout, stuck);
        if (remaining.length) throw new ActionError('TIMEOUT', `drain of node ${p.node} timed out waiting for pods to be deleted: ${remaining.join(', ')}`);
        if (stuck.length) ctx.log(`not waiting for ${stuck.length} pods stuck terminating past skipWaitForDeleteTimeout: ${stuck.join(', ')}`);
        return { evicted: sel.evict.map(key), stuckTerminating: stuck };
      },
    };
  },
  async check(p, ctx) {
    const node = await kube<KubeObject>(ctx, 'GET', pathOf('Node', undefined, p.node));
    if (!node.spec?.unschedulable) return { state: 'not-done' };
    const sel = await podsToEvict(ctx, p).catch(() => undefined);
    if (!sel) return { state: 'unknown', reason: `node ${p.node} has pods a drain refuses to delete` };
    const live = sel.evict.filter((pod) => !pod.metadata.deletionTimestamp);
    return live.length ? { state: 'not-done' } : { state: 'done', outputs: { node: p.node, skipped: sel.skipped } };
  },
});
