// k8s.createLimitRange: adds the LimitRange a guardrail run proposed (and a
// person approved) to a namespace that has none. It creates, never
// replaces: a LimitRange that appeared since the proposal (someone else's)
// stops the step, since two LimitRanges' defaults overlap unpredictably.
// Given no object (a dry run, where the proposal step only planned), it
// reads and sizes the proposal itself, so the plan shows what would be
// created.
import { z } from 'zod';
import { type KubeObject, listPath, pathOf } from '../../kube/index.ts';
import { ActionError } from '../types.ts';
import { Name, OPERATION_ANNOTATION, getOptional, kube, mutating, operationOf, allow } from './util.ts';
import { LimitRangeParams, PROPOSE_LIMITRANGE_ACCESS, limitRangeProposal } from './propose.ts';

/** Only a LimitRange's own fields pass; anything else in the object is dropped, not sent. */
const LimitRangeObject = z.object({
  apiVersion: z.literal('v1').default('v1'),
  kind: z.literal('LimitRange', { error: 'k8s.createLimitRange creates LimitRanges only' }).default('LimitRange'),
  metadata: z.object({
    name: Name,
    namespace: Name.optional(),
    labels: z.record(z.string(), z.string()).optional(),
    annotations: z.record(z.string(), z.string()).optional(),
  }),
  spec: z.object({ limits: z.array(z.record(z.string(), z.unknown())).min(1) }),
});

const Params = LimitRangeParams.extend({
  /** The approved object (k8s.proposeLimitRange's `limitRange`); absent: proposed now from the sizing parameters. */
  limitRange: LimitRangeObject.optional(),
});
export type CreateLimitRangeParams = z.infer<typeof Params>;

const nameOf = (p: CreateLimitRangeParams) => p.limitRange?.metadata.name ?? p.name;

function describeDefaults(obj: { spec: { limits: Record<string, unknown>[] } }): string {
  const c = obj.spec.limits.find((l) => l.type === 'Container') as { default?: { memory?: string }; defaultRequest?: { memory?: string } } | undefined;
  return c ? `containers default to memory request ${c.defaultRequest?.memory ?? '(unset)'}, limit ${c.default?.memory ?? '(unset)'}` : `${obj.spec.limits.length} limit(s)`;
}

export const createLimitRange = mutating<CreateLimitRangeParams>({
  name: 'k8s.createLimitRange',
  description: 'Create a LimitRange in a namespace that has none (the approved proposal of k8s.proposeLimitRange).',
  params: Params,
  access: [
    allow('', ['limitranges'], ['create', 'get', 'list']),
    // Without an approved object it sizes the proposal itself, as k8s.proposeLimitRange reads.
    ...PROPOSE_LIMITRANGE_ACCESS,
  ],
  async prepare(p, ctx) {
    let obj: z.infer<typeof LimitRangeObject> | undefined = p.limitRange;
    if (!obj) {
      const proposal = await limitRangeProposal(ctx, p);
      if (!proposal.limitRange) return { calls: [], outputs: { name: p.name, namespace: p.namespace, existing: proposal.existing } };
      obj = LimitRangeObject.parse(proposal.limitRange);
    }
    if (obj.metadata.namespace && obj.metadata.namespace !== p.namespace) {
      throw new ActionError('INVALID', `the LimitRange is for namespace ${obj.metadata.namespace}, the step for ${p.namespace}`);
    }
    const name = obj.metadata.name;
    const current = await getOptional<KubeObject>(ctx, pathOf('LimitRange', p.namespace, name));
    if (current && operationOf(current) === ctx.operationKey) return { calls: [], outputs: { name, namespace: p.namespace, alreadyApplied: true } };
    const others = (await kube<{ items: KubeObject[] }>(ctx, 'GET', listPath('LimitRange', p.namespace))).items ?? [];
    if (others.length) {
      throw new ActionError('LIMITRANGE_EXISTS', `namespace ${p.namespace} has LimitRange ${others.map((o) => o.metadata.name).sort().join(', ')} now: not adding ${name} beside it`);
    }
    const body = { ...obj, metadata: { ...obj.metadata, namespace: p.namespace, annotations: { ...(obj.metadata.annotations ?? {}), [OPERATION_ANNOTATION]: ctx.operationKey } } };
    const path = listPath('LimitRange', p.namespace);
    return {
      calls: [{ method: 'POST', path, body, description: `create LimitRange ${p.namespace}/${name}: ${describeDefaults(obj)}` }],
      outputs: { name, namespace: p.namespace, limits: obj.spec.limits },
      apply: async () => {
        await kube(ctx, 'POST', path, { body });
      },
    };
  },
  // Absent means the create never landed (unlike a patch, whose object must exist): run it again.
  async check(p, ctx) {
    const obj = await getOptional<KubeObject>(ctx, pathOf('LimitRange', p.namespace, nameOf(p)));
    return obj && operationOf(obj) === ctx.operationKey ? { state: 'done', outputs: { name: nameOf(p), namespace: p.namespace } } : { state: 'not-done' };
  },
});
