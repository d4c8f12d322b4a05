// k8s.proposeMemoryLimits and k8s.proposeLimitRange: read-only actions that
// work out what a team should apply — memory requests and limits for the
// containers that have none, as a ready `kubectl patch`, and a LimitRange
// for a namespace without one — and say who owns the workload. Usage comes
// from metrics.k8s.io when the cluster serves it (one LIST of the
// namespace's PodMetrics); without it the proposal says so and falls back to
// the LimitRange default or the stated default. Nothing is changed: the
// memory warning only tells, the guardrail applies after an approval.
import { z } from 'zod';
import { parseQuantity, tryQuantity } from '../../common/index.ts';
import { celHelpers } from '../../rules/index.ts';
import { type KubeObject, type PodMetrics, containerMemory, listPath, pathOf, readWorkload, memoryBytes, podMemoryBytes, type NodeMetrics } from '../../kube/index.ts';
import { ActionError, type ActionContext, type PlannedCall } from '../types.ts';
import { Name, getOptional, kube, readOnly, reads, allow } from './util.ts';
import {
  type ContainerProposal, type LimitRangeDefaults, type SizingOptions, LIMITRANGE_NAME, fmt, kubectlPatch, limitRangeDefaults, limitRangeObject,
  memoryPatch, ownerMarks, sizeContainer, sizeLimitRange, toYaml, unlimited,
} from './memory-sizing.ts';

const Quantity = z.string().refine((q) => tryQuantity(q) !== undefined, { message: 'expected a quantity such as 512Mi, 1Gi or 2' });
const Sizing = {
  headroom: z.coerce.number().min(1).max(10).default(1.5),
  defaultMemory: Quantity.default('512Mi'),
  maxMemory: Quantity.default('4Gi'),
};
const options = (p: { headroom: number; defaultMemory: string; maxMemory: string }): SizingOptions => ({ headroom: p.headroom, defaultMemory: parseQuantity(p.defaultMemory), maxMemory: parseQuantity(p.maxMemory) });

/** What one namespace tells about memory: its labels, LimitRanges, pods and their usage. */
interface NamespaceFacts {
  name: string;
  namespace?: KubeObject;
  ranges: KubeObject[];
  pods: KubeObject[];
  /** Pod name → its metrics; undefined when metrics.k8s.io did not answer. */
  metrics?: Map<string, PodMetrics>;
  /** Why there are no usage figures. */
  metricsNote?: string;
}

/** A metrics.k8s.io read: absent or failing metrics are a note, never a failed step. */
async function readMetrics<T>(ctx: ActionContext, path: string): Promise<{ value: T } | { note: string }> {
  try {
    return { value: await kube<T>(ctx, 'GET', path) };
  } catch (err) {
    if (ctx.signal.aborted || !(err instanceof ActionError)) throw err;
    const why = err.reason === 'NOT_FOUND' ? 'not served (404; is metrics-server installed?)' : err.reason === 'SERVER_ERROR' ? 'unavailable (5xx)' : `refused (${err.reason})`;
    return { note: `metrics.k8s.io ${why}` };
  }
}

async function namespaceFacts(ctx: ActionContext, name: string): Promise<NamespaceFacts> {
  const [namespace, ranges, pods, metrics] = await Promise.all([
    getOptional(ctx, pathOf('Namespace', undefined, name)),
    kube<{ items: KubeObject[] }>(ctx, 'GET', listPath('LimitRange', name)),
    kube<{ items: KubeObject[] }>(ctx, 'GET', listPath('Pod', name)),
    readMetrics<{ items?: PodMetrics[] }>(ctx, listPath('PodMetrics', name)),
  ]);
  const facts: NamespaceFacts = { name, namespace, ranges: ranges.items ?? [], pods: pods.items ?? [] };
  if ('value' in metrics) facts.metrics = new Map((metrics.value?.items ?? []).map((m) => [m.metadata.name!, m]));
  else facts.metricsNote = metrics.note;
  return facts;
}

export interface WorkloadProposal {
  owner: { kind: string; namespace: string; name: string; marks: string[] };
  containers: ContainerProposal[];
  /** The workload's pods' memory in use, when known. */
  usage?: string;
  patch?: Record<string, unknown>;
  kubectl?: string;
  patchYaml?: string;
}

async function proposeWorkload(ctx: ActionContext, kind: string, name: string, facts: NamespaceFacts, o: SizingOptions): Promise<WorkloadProposal> {
  const view = await readWorkload(reads(ctx), kind, facts.name, name);
  const podSpec = kind === 'Pod' ? view.obj.spec : view.obj.spec?.template?.spec;
  const peak = new Map<string, number>();
  let total: number | undefined;
  for (const pod of view.pods) {
    const m = facts.metrics?.get(pod.metadata.name!);
    for (const [c, b] of containerMemory(m)) peak.set(c, Math.max(peak.get(c) ?? 0, b));
    const sum = podMemoryBytes(m);
    if (sum !== undefined) total = (total ?? 0) + sum;
  }
  const lr: LimitRangeDefaults | undefined = limitRangeDefaults(facts.ranges);
  const containers = unlimited(podSpec).map((c) => sizeContainer(c, peak.get(c.name), lr, o));
  const owner = { kind, namespace: facts.name, name, marks: [...ownerMarks(view.obj, kind.toLowerCase()), ...ownerMarks(facts.namespace, `namespace ${facts.name}`)] };
  if (!containers.length) return { owner, containers, ...(total !== undefined ? { usage: fmt(total) } : {}) };
  const patch = memoryPatch(kind, containers);
  return { owner, containers, ...(total !== undefined ? { usage: fmt(total) } : {}), patch, kubectl: kubectlPatch(kind, facts.name, name, patch), patchYaml: toYaml(patch) };
}

function proposeLimitRange(facts: NamespaceFacts, name: string, o: SizingOptions & { defaultRequest: number }) {
  const existing = facts.ranges.map((r) => r.metadata.name!).sort();
  const usages: { bytes: number; limited: boolean }[] = [];
  for (const pod of facts.pods) {
    if (pod.status?.phase !== 'Running') continue;
    const per = containerMemory(facts.metrics?.get(pod.metadata.name!));
    for (const c of pod.spec?.containers ?? []) {
      const bytes = per.get(c.name);
      if (bytes !== undefined) usages.push({ bytes, limited: c.resources?.limits?.memory !== undefined });
    }
  }
  const sizing = sizeLimitRange(usages, o);
  const limitRange = limitRangeObject(facts.name, name, sizing);
  const summary = existing.length
    ? `namespace ${facts.name} already has LimitRange ${existing.join(', ')}: nothing to add`
    : `LimitRange ${name} in namespace ${facts.name}: containers without memory settings get request ${sizing.defaultRequestMemory}, limit ${sizing.defaultMemory} (${sizing.basis})`;
  return { exists: existing.length > 0, existing, limitRange: existing.length ? null : limitRange, yaml: existing.length ? '' : toYaml(limitRange), basis: sizing.basis, warnings: sizing.warnings, summary, ...(facts.metricsNote ? { metrics: facts.metricsNote } : {}) };
}

function workloadLines(p: WorkloadProposal): string[] {
  const o = p.owner;
  const lines = [`${o.kind} ${o.namespace}/${o.name}${p.usage ? ` (uses ${p.usage})` : ''} — owner: ${o.marks.length ? o.marks.join(', ') : 'no team, owner or managed-by label or annotation found'}`];
  for (const c of p.containers) lines.push(`  container ${c.name}: memory request ${c.memoryRequest}, limit ${c.memoryLimit} — ${c.basis}`);
  if (p.kubectl) lines.push(`  patch: ${p.kubectl}`);
  return lines;
}

function limitRangeLines(lr: ReturnType<typeof proposeLimitRange>): string[] {
  if (lr.exists) return [];
  return [`Namespace ${lr.limitRange!.metadata.namespace} has no LimitRange: containers created without memory settings run unbounded. Proposed (${lr.basis}); apply with kubectl apply -f:`, lr.yaml, ...lr.warnings.map((w) => `Note: ${w}`)];
}

const WORKLOAD_KINDS = ['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job', 'Pod'] as const;

const MemoryParams = z.object({
  kind: z.enum([...WORKLOAD_KINDS, 'Node']).default('Deployment'),
  namespace: Name.optional(),
  name: Name,
  ...Sizing,
  /** kind Node: propose for at most this many workloads, those using the most memory without a limit first. */
  maxWorkloads: z.coerce.number().int().min(1).max(20).default(3),
  /** The LimitRange proposed alongside, when the namespace has none. */
  limitRangeName: Name.default(LIMITRANGE_NAME),
  defaultRequest: Quantity.default('256Mi'),
}).refine((p) => p.kind === 'Node' || p.namespace, { message: 'namespace is required (except for kind Node)', path: ['namespace'] });
export type ProposeMemoryParams = z.infer<typeof MemoryParams>;

const memoryPlan = (p: ProposeMemoryParams): PlannedCall[] => [{
  method: 'GET',
  path: p.kind === 'Node' ? listPath('Pod') : listPath('Pod', p.namespace),
  description: `read ${p.kind.toLowerCase()} ${p.namespace ? `${p.namespace}/` : ''}${p.name}, its pods, LimitRanges and metrics.k8s.io usage`,
}];

export const proposeMemoryLimits = readOnly<ProposeMemoryParams>({
  name: 'k8s.proposeMemoryLimits',
  description: 'Propose memory requests and limits for containers without a limit (a workload, or the heaviest ones on a node), with the owner and a LimitRange; changes nothing.',
  params: MemoryParams,
  access: [
    // The workload (any kind, or a node and what runs on it), its namespace, LimitRanges and usage.
    allow('apps', ['daemonsets', 'deployments', 'replicasets', 'statefulsets'], ['get']),
    allow('batch', ['jobs'], ['get']),
    allow('', ['namespaces', 'nodes', 'pods'], ['get']),
    allow('', ['limitranges', 'pods'], ['list']),
    allow('apps', ['replicasets'], ['list']),
    allow('metrics.k8s.io', ['nodes'], ['get']),
    allow('metrics.k8s.io', ['pods'], ['list']),
  ],
  plan: async (p) => memoryPlan(p),
  async run(p, ctx) {
    const o = options(p);
    const lrOpts = { ...o, defaultRequest: parseQuantity(p.defaultRequest) };
    const calls = memoryPlan(p);
    if (p.kind !== 'Node') {
      const facts = await namespaceFacts(ctx, p.namespace!);
      const w = await proposeWorkload(ctx, p.kind, p.name, facts, o);
      const lr = proposeLimitRange(facts, p.limitRangeName, lrOpts);
      const head = w.containers.length
        ? `${p.kind} ${p.namespace}/${p.name} has ${w.containers.length} container(s) without a memory limit: one leak can use up its node's memory and take the pods beside it down.`
        : `${p.kind} ${p.namespace}/${p.name}: every container has a memory limit now; nothing to patch.`;
      const message = [head, ...workloadLines(w), ...limitRangeLines(lr), ...(facts.metricsNote ? [`Usage unknown: ${facts.metricsNote}.`] : [])].join('\n');
      return { outputs: { ...w, limitRange: lr.limitRange, limitRangeYaml: lr.yaml, metrics: facts.metricsNote ?? 'available', message }, mutated: false, calls };
    }
    return { outputs: await proposeForNode(ctx, p, o, lrOpts), mutated: false, calls };
  },
});

async function proposeForNode(ctx: ActionContext, p: ProposeMemoryParams, o: SizingOptions, lrOpts: SizingOptions & { defaultRequest: number }): Promise<Record<string, unknown>> {
  const node = await kube<KubeObject>(ctx, 'GET', pathOf('Node', undefined, p.name));
  const nm = await readMetrics<NodeMetrics>(ctx, pathOf('NodeMetrics', undefined, p.name));
  const allocatable = tryQuantity(node.status?.allocatable?.memory);
  const used = 'value' in nm ? memoryBytes(nm.value.usage) : undefined;
  const pods = (await kube<{ items: KubeObject[] }>(ctx, 'GET', listPath('Pod'), { query: { fieldSelector: `spec.nodeName=${p.name}` } })).items
    .filter((pod) => pod.metadata.namespace !== 'kube-system' && !['Succeeded', 'Failed'].includes(pod.status?.phase) && unlimited(pod.spec).length);
  const facts = new Map<string, NamespaceFacts>();
  for (const ns of new Set(pods.map((pod) => pod.metadata.namespace!))) facts.set(ns, await namespaceFacts(ctx, ns));
  const owners = new Map<string, { kind: string; ns: string; name: string; bytes?: number }>();
  for (const pod of pods) {
    const ref = celHelpers.owner(pod);
    const key = `${pod.metadata.namespace}/${ref.kind}/${ref.name}`;
    const cur = owners.get(key) ?? { kind: ref.kind, ns: pod.metadata.namespace!, name: ref.name };
    const b = podMemoryBytes(facts.get(cur.ns)?.metrics?.get(pod.metadata.name!));
    if (b !== undefined) cur.bytes = (cur.bytes ?? 0) + b;
    owners.set(key, cur);
  }
  const ranked = [...owners.values()].sort((a, b) => (b.bytes ?? -1) - (a.bytes ?? -1) || a.ns.localeCompare(b.ns) || a.name.localeCompare(b.name));
  const workloads: WorkloadProposal[] = [];
  const skipped: string[] = [];
  for (const w of ranked.slice(0, p.maxWorkloads)) {
    if (!(WORKLOAD_KINDS as readonly string[]).includes(w.kind)) {
      skipped.push(`${w.kind} ${w.ns}/${w.name} (kubemend cannot read a ${w.kind})`);
      continue;
    }
    workloads.push(await proposeWorkload(ctx, w.kind, w.name, facts.get(w.ns)!, o));
  }
  const bare = [...facts.values()].map((f) => proposeLimitRange(f, p.limitRangeName, lrOpts)).filter((lr) => !lr.exists);
  const share = used !== undefined && allocatable ? ` — ${fmt(used)} of ${fmt(allocatable)} allocatable (${Math.round((100 * used) / allocatable)}%)` : '';
  const message = [
    `Node ${p.name}${share}. ${workloads.length ? `Workloads on it without a memory limit, heaviest first:` : 'No workload on it runs without a memory limit.'}`,
    ...workloads.flatMap(workloadLines),
    ...(ranked.length > p.maxWorkloads ? [`(${ranked.length - p.maxWorkloads} more without a limit not shown)`] : []),
    ...skipped.map((s) => `Skipped: ${s}`),
    ...bare.flatMap(limitRangeLines),
    ...('note' in nm ? [`Usage unknown: ${nm.note}.`] : []),
  ].join('\n');
  return {
    node: p.name,
    ...(used !== undefined ? { usage: fmt(used) } : {}),
    ...(allocatable ? { allocatable: fmt(allocatable) } : {}),
    workloads,
    limitRanges: bare.map((lr) => lr.limitRange),
    message,
  };
}

export const LimitRangeParams = z.object({
  namespace: Name,
  name: Name.default(LIMITRANGE_NAME),
  ...Sizing,
  /** The default request when no usage is known. */
  defaultRequest: Quantity.default('256Mi'),
});
export type ProposeLimitRangeParams = z.infer<typeof LimitRangeParams>;

const limitRangePlan = (p: { namespace: string }): PlannedCall[] => [{ method: 'GET', path: listPath('LimitRange', p.namespace), description: `read namespace ${p.namespace}'s LimitRanges, pods and metrics.k8s.io usage` }];

/** The proposal for a namespace, read now: what k8s.proposeLimitRange outputs, and what k8s.createLimitRange plans without an approved object. */
export async function limitRangeProposal(ctx: ActionContext, p: ProposeLimitRangeParams) {
  const facts = await namespaceFacts(ctx, p.namespace);
  return { ...proposeLimitRange(facts, p.name, { ...options(p), defaultRequest: parseQuantity(p.defaultRequest) }), metrics: facts.metricsNote ?? 'available' };
}

/** What a LimitRange proposal reads: the namespace, its LimitRanges and pods, and their usage. */
export const PROPOSE_LIMITRANGE_ACCESS = [
  allow('', ['namespaces'], ['get']),
  allow('', ['limitranges', 'pods'], ['list']),
  allow('metrics.k8s.io', ['pods'], ['list']),
];

export const proposeLimitRangeAction = readOnly<ProposeLimitRangeParams>({
  name: 'k8s.proposeLimitRange',
  description: "Propose a LimitRange with memory defaults for a namespace that has none, sized from its containers' observed usage; changes nothing.",
  params: LimitRangeParams,
  access: PROPOSE_LIMITRANGE_ACCESS,
  plan: async (p) => limitRangePlan(p),
  async run(p, ctx) {
    return { outputs: await limitRangeProposal(ctx, p), mutated: false, calls: limitRangePlan(p) };
  },
});
