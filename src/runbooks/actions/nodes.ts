// k8s.cordon and k8s.uncordon: flip a node's spec.unschedulable the way
// `kubectl cordon` does; both are idempotent by nature.
import { z } from 'zod';
import type { KubeObject } from '../../kube/types.ts';
import type { Action, ActionContext } from '../types.ts';
import { STRATEGIC, Name, kube, mutating, pathOf, type Prepared } from './util.ts';

const Params = z.object({ node: Name });
export type NodeParams = z.infer<typeof Params>;

/** The patch that sets a node's schedulability, or nothing when it already is as wanted. */
export async function prepareCordon(ctx: ActionContext, node: string, unschedulable: boolean): Promise<Prepared> {
  const path = pathOf('Node', undefined, node);
  const obj = await kube<KubeObject>(ctx, 'GET', path);
  const already = Boolean(obj.spec?.unschedulable) === unschedulable;
  const outputs = { node, unschedulable, wasUnschedulable: Boolean(obj.spec?.unschedulable) };
  if (already) {
    ctx.log(`node/${node} already ${unschedulable ? 'cordoned' : 'uncordoned'}`);
    return { calls: [], outputs };
  }
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

function nodeAction(name: string, unschedulable: boolean, description: string): Action<NodeParams> {
  return mutating<NodeParams>({
    name,
    description,
    params: Params,
    prepare: (p, ctx) => prepareCordon(ctx, p.node, unschedulable),
    async check(p, ctx) {
      const obj = await kube<KubeObject>(ctx, 'GET', pathOf('Node', undefined, p.node));
      return Boolean(obj.spec?.unschedulable) === unschedulable ? { state: 'done', outputs: { node: p.node, unschedulable } } : { state: 'not-done' };
    },
  });
}

export const cordon = nodeAction('k8s.cordon', true, 'Mark a node unschedulable (kubectl cordon).');
export const uncordon = nodeAction('k8s.uncordon', false, 'Mark a node schedulable again (kubectl uncordon).');
