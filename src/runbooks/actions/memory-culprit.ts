// k8s.findMemoryCulprit: before anything touches a node that is out of
// memory, find out whether a workload is driving it. Draining a node whose
// trouble is one leaking pod moves the leak onto the next node (the incident
// this project learns from), so the verdict decides the runbook's branch:
// `workload` (limit or stop the culprit, leave the node alone), `node` (the
// node itself is broken: cordon and drain) or `unclear` (a human decides).
// Only GETs: it runs in dry-run too, so the plan shows the branch taken.
import { z } from 'zod';
import { Duration, formatBytes, tryQuantity } from '../../common/index.ts';
import { type KubeObject, listPath, pathOf } from '../../kube/index.ts';
import { ActionError, type Action, type ActionContext, type PlannedCall } from '../types.ts';
import { chooseLimit, mib, mibRate, containerEvidence, oomVictims, pickCulprit, verdictOf, type ContainerEvidence, type Culprit, type UsageSample } from './memory-evidence.ts';
import { Name, getOptional, kube, sleep, allow } from './util.ts';

const Params = z.object({
  node: Name,
  /** Two usage samples this far apart (cluster time) give the growth rate; 0 takes one sample. */
  sample: Duration.prefault('20s'),
  /** Never set a limit above this, nor above what the node can hold beside its other pods. */
  maxMemory: z.string().refine((q) => tryQuantity(q) !== undefined, { message: 'expected a quantity such as 2Gi' }).default('16Gi'),
  /** Observed usage is multiplied by this to get a limit. */
  headroom: z.coerce.number().min(1).max(4).default(1.25),
});
export type FindMemoryCulpritParams = z.infer<typeof Params>;

/** The namespace annotation naming its memory limit policy (a quantity). */
export const MEMORY_POLICY_ANNOTATION = 'kubemend.dev/default-memory-limit';
const PATCHABLE = new Set(['Deployment', 'StatefulSet', 'DaemonSet']);
const METRICS = '/apis/metrics.k8s.io/v1beta1';
const MIN_LIMIT_BYTES = 64 * 2 ** 20;

/**
 * What the node can give the culprit while everything else on it keeps what
 * it may use (its limit, else what it uses now): a limit within this keeps a
 * leak inside the culprit's cgroup, below the kernel's OOM line.
 */
function roomBeside(evidence: ContainerEvidence[], culprit: ContainerEvidence, allocatable: number): number {
  if (allocatable <= 0) return Infinity;
  let others = 0;
  for (const e of evidence) {
    if (e.namespace === culprit.namespace && e.pod === culprit.pod && e.container === culprit.container) continue;
    others += e.limitBytes ?? e.usageBytes ?? 0;
  }
  return Math.max(0, allocatable - others);
}

/** Working set per `ns/pod/container`; undefined when the cluster serves no metrics API. */
/** Usage per container, with the time metrics-server says it was measured (the kubelet's report). */
async function podUsage(ctx: ActionContext, namespaces: string[]): Promise<Map<string, UsageSample> | undefined> {
  const out = new Map<string, UsageSample>();
  for (const ns of namespaces) {
    const list = await getOptional<{ items: any[] }>(ctx, `${METRICS}/namespaces/${ns}/pods`);
    if (!list) return undefined;
    for (const pm of list.items ?? []) {
      const at = Date.parse(pm.timestamp ?? '');
      for (const c of pm.containers ?? []) {
        const bytes = tryQuantity(c.usage?.memory);
        if (bytes !== undefined) out.set(`${ns}/${pm.metadata?.name}/${c.name}`, { bytes, ...(Number.isFinite(at) ? { at } : {}) });
      }
    }
  }
  return out;
}

/** The workload that owns a pod: a ReplicaSet's Deployment, else the pod's own controller. */
async function ownerOf(ctx: ActionContext, ns: string, owner: ContainerEvidence['owner']): Promise<{ kind: string; name: string } | undefined> {
  if (!owner) return undefined;
  if (owner.kind !== 'ReplicaSet') return owner;
  const rs = await getOptional(ctx, pathOf('ReplicaSet', ns, owner.name));
  const up = rs?.metadata.ownerReferences?.find((o) => o.controller);
  return up ? { kind: up.kind, name: up.name } : owner;
}

async function namespaceLimits(ctx: ActionContext, ns: string): Promise<{ limitRangeDefault?: string; namespacePolicy?: string }> {
  const ranges = await kube<{ items: KubeObject[] }>(ctx, 'GET', listPath('LimitRange', ns));
  const limitRangeDefault = ranges.items.flatMap((lr) => lr.spec?.limits ?? []).find((l: any) => l.type === 'Container' && l.default?.memory)?.default?.memory;
  const nsObj = await getOptional(ctx, pathOf('Namespace', undefined, ns));
  return { limitRangeDefault, namespacePolicy: nsObj?.metadata.annotations?.[MEMORY_POLICY_ANNOTATION] };
}

const planned = (p: FindMemoryCulpritParams): PlannedCall[] => [
  { method: 'GET', path: `${METRICS}/namespaces/*/pods`, description: `find what drives node ${p.node} out of memory (pods, usage twice ${Math.round(p.sample / 1000)}s apart, SystemOOM victims)` },
];

export const findMemoryCulprit: Action<FindMemoryCulpritParams> = {
  name: 'k8s.findMemoryCulprit',
  description: 'Decide whether a workload (a pod without a memory limit, growing or OOM-killed) or the node itself is at fault, and the limit to contain it.',
  params: Params,
  access: [
    allow('', ['namespaces', 'nodes'], ['get']),
    allow('', ['events', 'limitranges', 'pods'], ['list']),
    allow('apps', ['replicasets'], ['get']),
    allow('metrics.k8s.io', ['pods'], ['list']),
  ],
  mutates: false,
  runsInDryRun: true,
  async plan(p) {
    return planned(p);
  },
  async run(p, ctx) {
    const node = await kube<KubeObject>(ctx, 'GET', pathOf('Node', undefined, p.node));
    const conds: any[] = node.status?.conditions ?? [];
    const nodeReady = conds.some((c) => c.type === 'Ready' && c.status === 'True');
    const memoryPressure = conds.some((c) => c.type === 'MemoryPressure' && c.status === 'True');
    const allocatable = tryQuantity(node.status?.allocatable?.memory) ?? tryQuantity(node.status?.capacity?.memory) ?? 0;
    const pods = (await kube<{ items: KubeObject[] }>(ctx, 'GET', listPath('Pod'), { query: { fieldSelector: `spec.nodeName=${p.node}` } })).items;
    const events = (await kube<{ items: KubeObject[] }>(ctx, 'GET', listPath('Event'), { query: { fieldSelector: `involvedObject.kind=Node,involvedObject.name=${p.node},reason=SystemOOM` } })).items;
    const namespaces = [...new Set(pods.map((x) => x.metadata.namespace!))].sort();
    let first = await podUsage(ctx, namespaces);
    let second = first;
    if (first && p.sample > 0) {
      await sleep(ctx, p.sample);
      second = await podUsage(ctx, namespaces);
      // A container the kernel just killed has no metrics until it has run a while (two kubelet reports),
      // and two samples may see one report: one more sample gives its growth.
      const unlimited = pods.flatMap((pod) => (pod.spec?.containers ?? []).filter((c: any) => !c.resources?.limits?.memory).map((c: any) => `${pod.metadata.namespace}/${pod.metadata.name}/${c.name}`));
      const unknown = (k: string) => {
        const [a, b] = [first!.get(k), second!.get(k)];
        return !a || !b || b.bytes < a.bytes || (a.at !== undefined && a.at === b.at);
      };
      for (let extra = 0; extra < 2 && second && unlimited.some(unknown); extra++) {
        await sleep(ctx, p.sample);
        [first, second] = [second, await podUsage(ctx, namespaces)];
      }
    }
    const evidence = containerEvidence(pods, first ?? new Map(), second ?? new Map(), p.sample, oomVictims(events));
    const picked = pickCulprit(evidence, allocatable);
    const verdict = verdictOf(picked, nodeReady);
    const nodeUsage = second ? evidence.reduce((n, c) => n + (c.usageBytes ?? 0), 0) : undefined;
    const outputs: Record<string, unknown> = {
      verdict,
      node: { name: p.node, ready: nodeReady, memoryPressure, allocatable: formatBytes(allocatable), ...(nodeUsage !== undefined ? { podUsage: formatBytes(nodeUsage) } : {}), systemOOMs: events.reduce((n, e) => n + (e.count ?? 1), 0) },
      metrics: second ? 'metrics.k8s.io' : 'none',
    };
    if (picked) {
      const { c, why } = picked;
      const owner = (await ownerOf(ctx, c.namespace, c.owner)) ?? { kind: 'Pod', name: c.pod };
      const siblings = evidence.filter((e) => e.namespace === c.namespace && e.container === c.container && e.owner?.name === c.owner?.name).map((e) => e.pod);
      const culprit: Culprit & Record<string, unknown> = {
        namespace: c.namespace,
        kind: owner.kind,
        name: owner.name,
        container: c.container,
        pods: [...new Set(siblings)],
        ...(c.usageBytes !== undefined ? { usage: mib(c.usageBytes) } : {}),
        ...(c.growthPerMinute !== undefined ? { growthPerMinute: mibRate(c.growthPerMinute) } : {}),
        oomVictim: c.oomVictim,
        why,
      };
      const room = roomBeside(evidence, c, allocatable);
      const capBytes = Math.min(tryQuantity(p.maxMemory)!, room);
      const limit = chooseLimit({ ...(await namespaceLimits(ctx, c.namespace)), usageBytes: c.usageBytes, headroom: p.headroom, capBytes });
      // A limit below the smallest a container could run with leaves it nothing but a crash loop: stop it instead.
      culprit.safeToLimit = PATCHABLE.has(owner.kind) && limit !== undefined && limit.bytes >= MIN_LIMIT_BYTES;
      culprit.scalable = owner.kind === 'Deployment' || owner.kind === 'StatefulSet';
      if (limit) Object.assign(culprit, { limit: formatBytes(limit.bytes), limitSource: limit.source });
      outputs.culprit = culprit;
      outputs.reason = `${owner.kind} ${c.namespace}/${owner.name} (container ${c.container}) drives node ${p.node} out of memory: ${why.join(', ')}; contain it before any node action${culprit.safeToLimit ? ` — limit ${culprit.limit} (${culprit.limitSource})` : culprit.scalable ? ' — it cannot be limited safely, so scale it down (with approval)' : ' — it is neither limitable nor scalable: a human decides'}`;
    } else if (verdict === 'node') {
      outputs.reason = `node ${p.node} is not ready and no pod on it explains it (no container without a memory limit is growing, large or OOM-killed): the node itself is at fault`;
    } else {
      outputs.reason = `node ${p.node} is ready and no pod on it explains the memory trouble${second ? '' : ' (no metrics API, so only OOM victims and missing limits were checked)'}: not touching the node, a human decides`;
    }
    ctx.log(String(outputs.reason));
    // "Not acting" is a decision too: failing here hands over to humans with the reason, through the runbook's failure edge.
    if (verdict === 'unclear') throw new ActionError('NO_MEMORY_CULPRIT', String(outputs.reason));
    const c = outputs.culprit as Record<string, unknown> | undefined;
    if (c && !c.safeToLimit && !c.scalable) throw new ActionError('UNCONTAINABLE', String(outputs.reason));
    outputs.suspects = evidence
      .filter((e) => !e.hasLimit)
      .sort((a, b) => (b.usageBytes ?? 0) - (a.usageBytes ?? 0))
      .slice(0, 5)
      .map((e) => ({ pod: `${e.namespace}/${e.pod}`, container: e.container, usage: e.usageBytes !== undefined ? formatBytes(e.usageBytes) : undefined, oomVictim: e.oomVictim }));
    return { outputs, mutated: false, calls: planned(p) };
  },
};
