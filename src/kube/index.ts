export { KubeHttp, type Identity, type RequestOptions } from './http.ts';
export { KubeApiError, kubeErrorInfo } from './errors.ts';
export { Informer, type Change, type ChangeType, type InformerOptions } from './informer.ts';
export { KINDS, kindRef, collectionPath, objectPath, type KindRef } from './kinds.ts';
export { stripBulk } from './transform.ts';
export type { KubeObject } from './types.ts';
