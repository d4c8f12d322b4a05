// Who made a change: the writer whose managedFields entry the update stamped
// (the informers keep {manager, operation, time, subresource} of each), and
// whether that writer is one the team expects — its GitOps/CI tools,
// Kubernetes' own components and kubemend — or someone outside the pipeline.
import { managedFieldsOf, type KubeObject, type ManagedFieldsEntry } from '../kube/index.ts';
import type { ChangeAuthor, ChangeEntry } from './types.ts';

/**
 * Kubernetes' own components, as their writes name themselves (the binary,
 * or one controller of kube-controller-manager): always expected, so a
 * controller's write is never "outside the pipeline".
 */
export const KUBERNETES_MANAGERS: readonly string[] = [
  'kube-apiserver', 'kube-controller-manager', 'cloud-controller-manager', 'kube-scheduler', 'kubelet', 'kube-proxy',
  'deployment-controller', 'replicaset-controller', 'statefulset-controller', 'daemonset-controller', 'job-controller', 'cronjob-controller',
  'horizontal-pod-autoscaler', 'node-controller', 'node-lifecycle-controller', 'namespace-controller', 'garbage-collector', 'generic-garbage-collector',
  'resourcequota-controller', 'disruption-controller', 'endpoint-controller', 'endpointslice-controller', 'endpointslicemirroring-controller',
  'serviceaccount-controller', 'service-controller', 'route-controller', 'persistentvolume-binder', 'attachdetach-controller', 'ttl-controller',
  'ttl-after-finished-controller', 'pod-garbage-collector', 'root-ca-cert-publisher', 'certificate-controller', 'bootstrap-signer', 'token-cleaner',
  'clusterrole-aggregation-controller', 'ephemeral-volume-controller', 'expand-controller', 'pvc-protection-controller', 'pv-protection-controller',
];

/** kubemend's own writes (its user agent, kube/http.ts): audited and attributed to their run. */
export const KUBEMEND_MANAGER = 'kubemend';

/** The GitOps and CI tools expected by default (changes.expectedManagers replaces this list). */
export const DEFAULT_EXPECTED_MANAGERS: readonly string[] = [
  'argocd-controller', 'argocd-application-controller', 'helm', 'helm-controller', 'kustomize-controller', 'flux-client-side-apply',
];

/**
 * Whether a manager is expected: one of `names` (`*` matches any run of
 * characters, so `ci-*` covers every CI job's manager), Kubernetes' own, or kubemend.
 */
export function expectedManagers(names: readonly string[] = DEFAULT_EXPECTED_MANAGERS): (manager: string) => boolean {
  const exact = new Set([...KUBERNETES_MANAGERS, KUBEMEND_MANAGER, ...names.filter((n) => !n.includes('*'))]);
  const globs = names.filter((n) => n.includes('*')).map((n) => new RegExp(`^${n.split('*').map(escape).join('.*')}$`));
  return (manager) => exact.has(manager) || globs.some((g) => g.test(manager));
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * The author of a create or an update: among the writers that are new or
 * whose time moved in this update — a status write is state, not a change —
 * the latest. Undefined when no entry moved (a deletion, a writer that does
 * not stamp managedFields, or a second write by the same writer within the
 * same second, which leaves its entry as it was).
 */
export function authorOf(oldObject: KubeObject | undefined, object: KubeObject): ChangeAuthor | undefined {
  const before = new Map(managedFieldsOf(oldObject).map((e) => [entryKey(e), e.time]));
  const moved = managedFieldsOf(object).filter((e) => e.subresource !== 'status' && e.time && (!before.has(entryKey(e)) || before.get(entryKey(e)) !== e.time));
  const latest = moved.sort((a, b) => b.time!.localeCompare(a.time!))[0];
  if (!latest) return undefined;
  const time = Date.parse(latest.time!);
  if (!Number.isFinite(time)) return undefined;
  return { manager: latest.manager, operation: latest.operation, time, ...(latest.subresource ? { subresource: latest.subresource } : {}), from: 'managedFields' };
}

function entryKey(e: ManagedFieldsEntry): string {
  return `${e.manager}\u0000${e.operation}\u0000${e.subresource ?? ''}`;
}

/** "kubectl-set (alice) at 00:01:00": who, and when the API server stamped it. */
export function authorText(a: ChangeAuthor): string {
  const who = a.user ? ` (${a.user}${a.impersonated ? ` as ${a.impersonated}` : ''})` : '';
  const via = a.subresource ? ` via ${a.subresource}` : '';
  return `${a.manager}${who}${via} at ${new Date(a.time).toISOString().slice(11, 19)}`;
}

/** Who made a change, as the timeline and the draft say it: kubemend's run, the writer (and user), the change-cause annotation. */
export function changeAuthorText(c: ChangeEntry): string | undefined {
  if (c.by?.startsWith('kubemend')) return c.by;
  const author = c.author && authorText(c.author);
  if (author && c.by) return `${author} (change-cause: ${c.by})`;
  return author ?? c.by;
}
