// Talking to Kubernetes: raw JSON requests with impersonation, informers,
// the built-in kinds and their paths, kubeconfig contexts, and the generic
// workload reads that the runbook actions and chat's status share.
export { KubeHttp, type Identity, type RequestOptions } from './http.ts';
export { KubeApiError, UnknownKindError, kubeErrorInfo, rbacDenial, describeDenial, type RbacDenial } from './errors.ts';
export { requestInfo, grants, describeAccess, normalizeAccess, accessTriples, type ApiAccess, type RequestInfo } from './access.ts';
export { Informer, type Change, type ChangeType, type InformerOptions } from './informer.ts';
export { CacheIndex, cacheKey, type OwnerSelector } from './cache-index.ts';
export { KINDS, kindRef, collectionPath, objectPath, type KindRef } from './kinds.ts';
export { stripBulk, projectManagedFields, managedFieldsOf, MANAGED_FIELDS_KEPT } from './transform.ts';
export { loadContexts, kubeConfigFromYaml } from './contexts.ts';
export type { KubeObject, ManagedFieldsEntry } from './types.ts';
export {
  kubeGet, builtinKind, pathOf, listPath, withoutHash, templatesEqual, templateKey, selectorString, isPodReady, revisionOf, imagesOf,
  POD_TEMPLATE_HASH, type KubeGet,
} from './read.ts';
export { readWorkload, ownedReplicaSets, currentPods, summarizePod, type WorkloadView, type PodSummary } from './workload.ts';
export { whoAmI, type KubeUser } from './whoami.ts';
export { PolledList, type PolledListOptions } from './poller.ts';
export { METRICS_API, memoryBytes, containerMemory, podMemoryBytes, type NodeMetrics, type PodMetrics, type Usage } from './metrics.ts';
export { LeaderElector, type LeaderElectorOptions, type LeaderElectionSettings, type LeaderTerm, type LeaseSpec } from './leader-election.ts';
export {
  EACH, IDENTITY, addPath, cloneTree, covers, emptyTree, fieldTree, mergeTrees, objectProjector, parseFieldPath, projector, treePaths, wholeTree, withIdentity,
  type FieldSegment, type FieldTree,
} from './projection.ts';
