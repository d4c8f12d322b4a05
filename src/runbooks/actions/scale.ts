// k8s.scale: `kubectl scale` through the scale subresource, so it works the
// same for every scalable kind and never touches the rest of the spec.
import { z } from 'zod';
import { type KubeObject, pathOf } from '../../kube/index.ts';
import { MERGE, Name, kube, mutating, objName, allow } from './util.ts';

const Params = z.object({
  kind: z.enum(['Deployment', 'StatefulSet', 'ReplicaSet']).default('Deployment'),
  namespace: Name,
  name: Name,
  replicas: z.coerce.number().int().min(0),
});
export type ScaleParams = z.infer<typeof Params>;

export const scale = mutating<ScaleParams>({
  name: 'k8s.scale',
  description: 'Set the replica count of a Deployment, StatefulSet or ReplicaSet (kubectl scale).',
  params: Params,
  access: [allow('apps', ['deployments/scale', 'replicasets/scale', 'statefulsets/scale'], ['get', 'patch'])],
  async prepare(p, ctx) {
    const path = pathOf(p.kind, p.namespace, p.name, 'scale');
    const current = await kube<KubeObject>(ctx, 'GET', path);
    const from = current.spec?.replicas ?? 0;
    const outputs = { from, to: p.replicas };
    // Setting the count is idempotent by nature: no operation stamp needed.
    if (from === p.replicas) return { calls: [], outputs };
    const body = { spec: { replicas: p.replicas } };
    return {
      calls: [{ method: 'PATCH', path, body, description: `scale ${objName(p.kind, p.namespace, p.name)} from ${from} to ${p.replicas}` }],
      outputs,
      apply: async () => {
        await kube(ctx, 'PATCH', path, { body, contentType: MERGE });
      },
    };
  },
  async check(p, ctx) {
    const current = await kube<KubeObject>(ctx, 'GET', pathOf(p.kind, p.namespace, p.name, 'scale'));
    return current.spec?.replicas === p.replicas ? { state: 'done', outputs: { to: p.replicas } } : { state: 'not-done' };
  },
});
