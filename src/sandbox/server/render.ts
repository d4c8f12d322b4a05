// Turns stored objects into what a client asked for: the object in the
// requested API version (events.k8s.io conversion), a meta.k8s.io Table, or
// PartialObjectMetadata. Lists, single objects and watch events share this.
import { apiVersionOf, type ResourceType } from '../resources.ts';
import type { K8sObject } from '../types.ts';
import { hpaToV1 } from '../hpa-v1.ts';
import { coreToEventsV1, isEventsV1 } from './events-v1.ts';
import type { Rendering } from './negotiate.ts';
import { toTable } from './tables.ts';

export interface ListMeta {
  resourceVersion: string;
  continue?: string;
  remainingItemCount?: number;
}

export interface RenderOptions {
  rendering: Rendering;
  includeObject: 'None' | 'Metadata' | 'Object';
  now: number;
}

/** The stored object as the requested type shows it. */
export function present(type: ResourceType, obj: K8sObject): K8sObject {
  if (isEventsV1(type.group, type.storage)) return coreToEventsV1(obj);
  if (isHpaV1(type)) return hpaToV1(obj);
  // A new object: watch events share theirs with the store's other listeners.
  const { apiVersion: _v, kind: _k, ...rest } = obj;
  return { apiVersion: apiVersionOf(type), kind: type.kind, ...rest } as K8sObject;
}

export const isHpaV1 = (type: ResourceType) => type.group === 'autoscaling' && type.version === 'v1' && type.plural === 'horizontalpodautoscalers';

export function partialMetadata(obj: K8sObject): K8sObject {
  return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: obj.metadata };
}

export function renderObject(type: ResourceType, obj: K8sObject, opts: RenderOptions): Record<string, unknown> {
  if (opts.rendering === 'table') {
    return toTable(type.storage, [obj], opts.now, opts.includeObject, (o) => present(type, o));
  }
  const shown = present(type, obj);
  return opts.rendering === 'metadata' ? partialMetadata(shown) : shown;
}

export function renderList(type: ResourceType, items: K8sObject[], meta: ListMeta, opts: RenderOptions): Record<string, unknown> {
  const listMeta = cleanMeta(meta);
  if (opts.rendering === 'table') {
    const table = toTable(type.storage, items, opts.now, opts.includeObject, (o) => present(type, o));
    return { ...table, metadata: { ...((table.metadata as object | undefined) ?? {}), ...listMeta } };
  }
  const shown = items.map((o) => present(type, o));
  if (opts.rendering === 'metadata') {
    return { kind: 'PartialObjectMetadataList', apiVersion: 'meta.k8s.io/v1', metadata: listMeta, items: shown.map(partialMetadata) };
  }
  return { kind: `${type.kind}List`, apiVersion: apiVersionOf(type), metadata: listMeta, items: shown };
}

function cleanMeta(meta: ListMeta): ListMeta {
  const out: ListMeta = { resourceVersion: meta.resourceVersion };
  if (meta.continue) out.continue = meta.continue;
  if (meta.remainingItemCount !== undefined) out.remainingItemCount = meta.remainingItemCount;
  return out;
}
