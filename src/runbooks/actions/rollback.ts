// k8s.rollback: `kubectl rollout undo` for Deployments. The target revision
// is found among the ReplicaSets the Deployment controls; its template (minus
// pod-template-hash) replaces the Deployment's, and the annotations are
// rebuilt the way kubectl does (rollback.go): the Deployment's own
// bookkeeping annotations are kept, everything else comes from the ReplicaSet.
import { z } from 'zod';
import { type KubeObject, imagesOf, pathOf, revisionOf, templatesEqual, withoutHash, ownedReplicaSets } from '../../kube/index.ts';
import { ActionError } from '../types.ts';
import { JSON_PATCH, Name, OPERATION_ANNOTATION, checkStamped, kube, mutating, objName, operationOf, reads, allow } from './util.ts';

/** Annotations describing the Deployment itself, never copied from a ReplicaSet (kubectl's annotationsToSkip). */
const SKIP = new Set([
  'kubectl.kubernetes.io/last-applied-configuration',
  'deployment.kubernetes.io/revision',
  'deployment.kubernetes.io/revision-history',
  'deployment.kubernetes.io/desired-replicas',
  'deployment.kubernetes.io/max-replicas',
  'deprecated.deployment.rollback.to',
]);

const Params = z.object({
  kind: z.literal('Deployment').default('Deployment'),
  namespace: Name,
  name: Name,
  /** A revision number; absent or 0 means the one before the current. */
  toRevision: z.coerce.number().int().min(0).optional(),
});
export type RollbackParams = z.infer<typeof Params>;

/** deploymentRevision: the named revision, or the second newest. */
export function pickRevision(dep: KubeObject, rss: KubeObject[], toRevision?: number): KubeObject {
  const revs = rss.filter((rs) => Number.isFinite(revisionOf(rs))).sort((a, b) => revisionOf(b) - revisionOf(a));
  if (toRevision) {
    const hit = revs.find((rs) => revisionOf(rs) === toRevision);
    if (!hit) throw new ActionError('REVISION_NOT_FOUND', `unable to find specified revision ${toRevision} in history of deployment "${dep.metadata.name}"`);
    return hit;
  }
  if (revs.length < 2) throw new ActionError('NO_PREVIOUS_REVISION', `no rollout history found for deployment "${dep.metadata.name}"`);
  return revs[1];
}

export const rollback = mutating<RollbackParams>({
  name: 'k8s.rollback',
  description: "Roll a Deployment back to its previous (or a named) revision's pod template (kubectl rollout undo).",
  params: Params,
  access: [
    allow('apps', ['deployments'], ['get', 'patch']),
    allow('apps', ['replicasets'], ['list']),
  ],
  async prepare(p, ctx) {
    const path = pathOf('Deployment', p.namespace, p.name);
    const dep = await kube<KubeObject>(ctx, 'GET', path);
    const currentImages = imagesOf(dep.spec?.template?.spec);
    if (operationOf(dep) === ctx.operationKey) {
      // This step's rollback already landed; the history has moved on, so picking "the previous" again would undo it.
      return { calls: [], outputs: { alreadyApplied: true, images: currentImages, image: first(currentImages) } };
    }
    if (dep.spec?.paused) {
      throw new ActionError('PAUSED', "you cannot rollback a paused deployment; resume it first with 'kubectl rollout resume' and try again");
    }
    const rss = await ownedReplicaSets(reads(ctx), dep);
    const target = pickRevision(dep, rss, p.toRevision);
    const toRevision = revisionOf(target);
    const currentRS = rss.find((rs) => templatesEqual(rs.spec?.template, dep.spec?.template));
    const fromRevision = currentRS ? revisionOf(currentRS) : Number(dep.metadata.annotations?.['deployment.kubernetes.io/revision'] ?? NaN);
    const images = imagesOf(target.spec?.template?.spec);
    const outputs = { fromRevision, toRevision, images, image: first(images), previousImages: currentImages };
    if (templatesEqual(target.spec?.template, dep.spec?.template)) {
      ctx.log(`skipped rollback (current template already matches revision ${toRevision})`);
      return { calls: [], outputs };
    }
    const annotations: Record<string, string> = {};
    for (const [k, v] of Object.entries(dep.metadata.annotations ?? {})) if (SKIP.has(k)) annotations[k] = v;
    for (const [k, v] of Object.entries(target.metadata.annotations ?? {})) if (!SKIP.has(k)) annotations[k] = v;
    annotations[OPERATION_ANNOTATION] = ctx.operationKey;
    const body = [
      { op: 'replace', path: '/spec/template', value: withoutHash(target.spec?.template) },
      { op: 'add', path: '/metadata/annotations', value: annotations },
    ];
    return {
      calls: [{ method: 'PATCH', path, body, description: `roll back ${objName('Deployment', p.namespace, p.name)} from revision ${fromRevision} to ${toRevision} (${Object.values(images).join(', ')})` }],
      outputs,
      apply: async () => {
        await kube(ctx, 'PATCH', path, { body, contentType: JSON_PATCH });
      },
    };
  },
  check: (p, ctx) => checkStamped(ctx, pathOf('Deployment', p.namespace, p.name), (o) => ({ images: imagesOf(o.spec?.template?.spec), image: first(imagesOf(o.spec?.template?.spec)) })),
});

function first(images: Record<string, string>): string | undefined {
  return Object.values(images)[0];
}
