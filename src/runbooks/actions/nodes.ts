// k8s.cordon and k8s.uncordon: flip a node's spec.unschedulable the way
// `kubectl cordon` does; both are idempotent by nature.
import { z } from 'zod';
import { type KubeObject, pathOf } from '../../kube/index.ts';
import { ActionError, type Action, type ActionContext } from '../types.ts';
import { STRATEGIC, Name, allow, kube, mutating, type Prepared } from './util.ts';

/**
 * The share of nodes that may be unschedulable (cordoned or not Ready) once
 * this node is cordoned (at least one, never all). An automatic remediation
 * that cordons node after node as each comes under pressure would leave
 * nowhere to schedule: past this share the cordon is refused and the run
 * escalates to humans.
 */
export const DEFAULT_MAX_UNSCHEDULABLE_FRACTION = 1 / 3;

const Params = z.object({ node: Name, maxUnschedulableFraction: z.coerce.number().gt(0).max(1).optional() });
export type NodeParams = z.infer<typeof Params>;

/** The patch that sets a node's schedulability, or nothing when it already is as wanted. */
export async function prepareCordon(ctx: ActionContext, node: string, unschedulable: boolean, maxFraction = DEFAULT_MAX_UNSCHEDULABLE_FRACTION): Promise<Prepared> {
  const path = pathOf('Node', undefined, node);
  const obj = await kube<KubeObject>(ctx, 'GET', path);
  const already = Boolean(obj.spec?.unschedulable) === unschedulable;
  const outputs = { node, unschedulable, wasUnschedulable: Boolean(obj.spec?.unschedulable) };
  if (already) {
    ctx.log(`node/${node} already ${unschedulable ? 'cordoned' : 'uncordoned'}`);
    return { calls: [], outputs };
  }
  if (unschedulable) await guardCapacity(ctx, node, maxFraction);
  // kubectl sends null to drop the field when uncordoning.
  const body = { spec: { unschedulable: unschedulable ? true : null } };
  return {
    calls: [{ method: 'PATCH', path, body, description: `${unschedulable ? 'cordon' : 'uncordon'} node/${node}` }],
    outputs,
    apply: async () => {
      await kube(ctx, 'PATCH', path, { body, contentType: STRATEGIC });
    },
  };
}

async function guardCapacity(ctx: ActionContext, node: string, maxFraction: number): Promise<void> {
  const list = await kube<{ items: KubeObject[] }>(ctx, 'GET', '/api/v1/nodes');
  const nodes = list.items ?? [];
  const out = nodes.filter((n) => n.metadata.name === node || n.spec?.unschedulable || !n.status?.conditions?.some((c: { type: string; status: string }) => c.type === 'Ready' && c.status === 'True'));
  const outNames = new Set(out.map((n) => n.metadata.name));
  outNames.add(node);
  // One node may always go (routine maintenance on a small cluster); never the last.
  const allowed = Math.min(nodes.length - 1, Math.max(1, Math.floor(nodes.length * maxFraction + 1e-9)));
  if (outNames.size > allowed) {
    throw new ActionError('CAPACITY_GUARD', `cordoning node/${node} would leave ${nodes.length - outNames.size} of ${nodes.length} nodes schedulable (unschedulable or not ready: ${[...outNames].sort().join(', ')}); kubemend takes at most ${allowed} out automatically — a human must decide`);
  }
}

/** cordon lists every node for its capacity guard; uncordon reads and patches only its own. */
export const CORDON_ACCESS = [allow('', ['nodes'], ['get', 'list', 'patch'])];
const UNCORDON_ACCESS = [allow('', ['nodes'], ['get', 'patch'])];

function nodeAction(name: string, unschedulable: boolean, description: string): Action<NodeParams> {
  return mutating<NodeParams>({
    name,
    description,
    params: Params,
    access: unschedulable ? CORDON_ACCESS : UNCORDON_ACCESS,
    prepare: (p, ctx) => prepareCordon(ctx, p.node, unschedulable, p.maxUnschedulableFraction),
    async check(p, ctx) {
      const obj = await kube<KubeObject>(ctx, 'GET', pathOf('Node', undefined, p.node));
      return Boolean(obj.spec?.unschedulable) === unschedulable ? { state: 'done', outputs: { node: p.node, unschedulable } } : { state: 'not-done' };
    },
  });
}

export const cordon = nodeAction('k8s.cordon', true, 'Mark a node unschedulable (kubectl cordon).');
export const uncordon = nodeAction('k8s.uncordon', false, 'Mark a node schedulable again (kubectl uncordon).');
