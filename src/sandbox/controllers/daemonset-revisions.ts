// A DaemonSet's ControllerRevisions: the current template's revision and
// hash, history pruned to revisionHistoryLimit, and whether a pod is of the
// current template.
import type { ObjectStore } from '../store.ts';
import type { K8sObject } from '../types.ts';
import { revisionData, revisionHash } from './hash.ts';
import { newControllerRef, ownedBy } from './owners.ts';

export const REVISIONS = 'apps/controllerrevisions';

/** Ensures the revision of the current template exists and is the newest; returns its hash. */
export function syncRevisions(store: ObjectStore, ds: K8sObject, pods: () => K8sObject[]): string {
  const ns = ds.metadata.namespace;
  const revisions = ownedBy(store.list(REVISIONS, ns).items, ds).sort((a, b) => (a.revision ?? 0) - (b.revision ?? 0));
  const data = revisionData(ds);
  const hash = revisionHash(data, ds.status?.collisionCount ?? 0);
  const name = `${ds.metadata.name}-${hash}`;
  const max = revisions[revisions.length - 1]?.revision ?? 0;
  const cur = revisions.find((r) => r.metadata.name === name);
  if (!cur) {
    store.create(REVISIONS, {
      metadata: {
        name,
        namespace: ns,
        labels: { ...(ds.spec.template?.metadata?.labels ?? {}), 'controller.kubernetes.io/hash': hash },
        ownerReferences: [newControllerRef(ds)],
      },
      data,
      revision: max + 1,
    });
  } else if (cur.revision < max) {
    store.mutate(REVISIONS, ns, name, (r) => { r.revision = max + 1; });
  }
  // cleanupHistory: drop unused old revisions beyond revisionHistoryLimit.
  const live = new Set([name, ...pods().map((p) => `${ds.metadata.name}-${p.metadata.labels?.['controller-revision-hash']}`)]);
  const old = revisions.filter((r) => !live.has(r.metadata.name!));
  const limit = ds.spec.revisionHistoryLimit ?? 10;
  for (const r of old.slice(0, Math.max(0, old.length - limit))) store.remove(REVISIONS, r);
  return hash;
}

export function templateGeneration(ds: K8sObject): number {
  const a = ds.metadata.annotations?.['deprecated.daemonset.template.generation'];
  return a !== undefined ? Number(a) : ds.metadata.generation ?? 1;
}

/** util.IsPodUpdated: the pod carries the current template hash or template generation. */
export function isUpdated(pod: K8sObject, ds: K8sObject, hash: string): boolean {
  const l = pod.metadata.labels ?? {};
  return l['controller-revision-hash'] === hash || l['pod-template-generation'] === String(templateGeneration(ds));
}
