// k8s.deletePod: delete one pod so its controller replaces it. The pod is
// stamped with the operation key first and deleted with a UID precondition,
// so a retry can never delete the replacement of the pod it meant.
import { z } from 'zod';
import { type KubeObject, pathOf } from '../../kube/index.ts';
import type { CheckResult } from '../types.ts';
import { MERGE, Name, OPERATION_ANNOTATION, getOptional, kube, mutating, objName, operationOf, allow } from './util.ts';

const Params = z.object({
  namespace: Name,
  name: Name,
  gracePeriodSeconds: z.coerce.number().int().min(0).optional(),
});
export type DeletePodParams = z.infer<typeof Params>;

export const deletePod = mutating<DeletePodParams>({
  name: 'k8s.deletePod',
  description: 'Delete a pod (its controller creates a replacement).',
  params: Params,
  access: [allow('', ['pods'], ['delete', 'get', 'patch'])],
  async prepare(p, ctx) {
    const path = pathOf('Pod', p.namespace, p.name);
    const pod = await getOptional(ctx, path);
    if (!pod || pod.metadata.deletionTimestamp) return { calls: [], outputs: { alreadyGone: true } };
    const stamp = { metadata: { annotations: { [OPERATION_ANNOTATION]: ctx.operationKey } } };
    const options = {
      apiVersion: 'v1',
      kind: 'DeleteOptions',
      preconditions: { uid: pod.metadata.uid },
      ...(p.gracePeriodSeconds !== undefined ? { gracePeriodSeconds: p.gracePeriodSeconds } : {}),
    };
    const what = objName('Pod', p.namespace, p.name);
    return {
      calls: [
        { method: 'PATCH', path, body: stamp, description: `mark ${what} with operation ${ctx.operationKey}` },
        { method: 'DELETE', path, body: options, description: `delete ${what}${p.gracePeriodSeconds !== undefined ? ` (grace ${p.gracePeriodSeconds}s)` : ''}` },
      ],
      outputs: { uid: pod.metadata.uid, node: pod.spec?.nodeName },
      apply: async () => {
        await kube(ctx, 'PATCH', path, { body: stamp, contentType: MERGE });
        await kube(ctx, 'DELETE', path, { body: options });
      },
    };
  },
  async check(p, ctx): Promise<CheckResult> {
    const pod = await getOptional<KubeObject>(ctx, pathOf('Pod', p.namespace, p.name));
    if (!pod || pod.metadata.deletionTimestamp) return { state: 'done' };
    if (operationOf(pod) === ctx.operationKey) return { state: 'not-done' };
    // A StatefulSet recreates its pods under the same name: an unstamped pod may be the replacement.
    if (pod.metadata.ownerReferences?.some((o) => o.controller && o.kind === 'StatefulSet')) {
      return { state: 'unknown', reason: `pod ${p.namespace}/${p.name} exists without this operation's mark; it may be the StatefulSet's replacement` };
    }
    return { state: 'not-done' };
  },
});
