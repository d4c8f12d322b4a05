// Generic reads of workloads and pods, shared by the runbook actions and the
// chat bot's `status`: object and collection paths by kind name, selectors,
// revisions, images and template comparison. Requests go through a KubeGet,
// so each caller keeps its own identity, cancellation and error mapping
// (the runbook actions turn failures into ActionErrors; chat reads as the
// chat user).
import type { Identity, KubeHttp, RequestOptions } from './http.ts';
import { UnknownKindError } from './errors.ts';
import { collectionPath, kindRef, objectPath, type KindRef } from './kinds.ts';
import type { KubeObject } from './types.ts';

export const POD_TEMPLATE_HASH = 'pod-template-hash';

/** One GET, made however the caller reads (as whom, cancelled by what, failing how). */
export type KubeGet = <T = any>(path: string, query?: RequestOptions['query']) => Promise<T>;

/** A KubeGet straight on the API: as `as` (impersonated), cancelled by `signal`, failing with KubeApiErrors. */
export function kubeGet(http: KubeHttp, opts: { as?: Identity; signal?: AbortSignal } = {}): KubeGet {
  return (path, query) => http.request('GET', path, { query, signal: opts.signal }, opts.as);
}

/** The built-in kind named `kind`; throws UnknownKindError for any other. */
export function builtinKind(kind: string): KindRef {
  const r = kindRef(kind);
  if (!r) throw new UnknownKindError(kind);
  return r;
}

export const pathOf = (kind: string, namespace: string | undefined, name: string, sub?: string) => objectPath(builtinKind(kind), namespace, name, sub);
export const listPath = (kind: string, namespace?: string) => collectionPath(builtinKind(kind), namespace);

/** JSON with sorted keys, for comparing objects regardless of key order. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v).sort().filter((k) => (v as any)[k] !== undefined).map((k) => `${JSON.stringify(k)}:${canonical((v as any)[k])}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

/** A pod template without the pod-template-hash label the Deployment controller adds to its ReplicaSets. */
export function withoutHash(template: any): any {
  const t = structuredClone(template ?? {});
  if (t.metadata?.labels) {
    delete t.metadata.labels[POD_TEMPLATE_HASH];
    if (Object.keys(t.metadata.labels).length === 0) delete t.metadata.labels;
  }
  return t;
}

/** A pod template as a string that two equal templates share whatever their key order or pod-template-hash. */
export const templateKey = (template: unknown) => canonical(withoutHash(template));

export const templatesEqual = (a: unknown, b: unknown) => templateKey(a) === templateKey(b);

/** A LabelSelector rendered as the labelSelector query string. */
export function selectorString(sel: { matchLabels?: Record<string, string>; matchExpressions?: { key: string; operator: string; values?: string[] }[] } | undefined): string {
  const parts = Object.entries(sel?.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
  for (const e of sel?.matchExpressions ?? []) {
    if (e.operator === 'In') parts.push(`${e.key} in (${(e.values ?? []).join(',')})`);
    else if (e.operator === 'NotIn') parts.push(`${e.key} notin (${(e.values ?? []).join(',')})`);
    else if (e.operator === 'Exists') parts.push(e.key);
    else if (e.operator === 'DoesNotExist') parts.push(`!${e.key}`);
  }
  return parts.join(',');
}

export const isPodReady = (pod: KubeObject) => (pod.status?.conditions ?? []).some((c: any) => c.type === 'Ready' && c.status === 'True');

export const revisionOf = (o: KubeObject) => Number(o.metadata.annotations?.['deployment.kubernetes.io/revision'] ?? NaN);

/** Containers (then init containers) of a pod spec by name → image. */
export function imagesOf(spec: any): Record<string, string> {
  const out: Record<string, string> = {};
  for (const c of [...(spec?.containers ?? []), ...(spec?.initContainers ?? [])]) out[c.name] = c.image;
  return out;
}
