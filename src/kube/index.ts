export { KubeHttp, type Identity, type RequestOptions } from './http.ts';
export { KubeApiError } from './errors.ts';
export { Informer, type Change, type ChangeType, type InformerOptions } from './informer.ts';
export { KINDS, kindRef, collectionPath, objectPath, type KindRef } from './kinds.ts';
export { stripBulk } from './transform.ts';
export type { KubeObject } from './types.ts';
export { UnknownKindError } from './errors.ts';
export {
  kubeGet, builtinKind, pathOf, listPath, withoutHash, templatesEqual, selectorString, isPodReady, revisionOf, imagesOf,
  POD_TEMPLATE_HASH, type KubeGet,
} from './read.ts';
export { readWorkload, ownedReplicaSets, currentPods, summarizePod, type WorkloadView, type PodSummary } from './workload.ts';
