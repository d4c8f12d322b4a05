// Turns stored objects into what a client asked for: the object in the
// requested API version (events.k8s.io conversion), a meta.k8s.io Table, or
// PartialObjectMetadata. Lists, single objects and watch events share this.
import { apiVersionOf, type ResourceType } from '../resources.ts';
import type { K8sObject } from '../types.ts';
import { hpaToV1 } from '../hpa-v1.ts';
import { coreToEventsV1, isEventsV1 } from './events-v1.ts';
import type { Rendering } from './negotiate.ts';
import { customTable } from '../apiextensions/index.ts';
import { toTable as builtinTable } from './tables.ts';

/** A Table of one type's objects: its printer, or the CRD's printer columns for custom resources. */
function toTable(type: ResourceType, stored: K8sObject[], now: number, includeObject: RenderOptions['includeObject']): Record<string, unknown> {
  const show = (o: K8sObject) => present(type, o);
  // Built-in cells come from the stored form (the real server prints its internal version, so HPA v1 and v2 print alike).
  return type.custom
    ? customTable(type.custom.columns, stored.map(show), now, includeObject)
    : builtinTable(type.storage, stored, now, includeObject, show);
}
import { isBuiltInGroup } from '../groups.ts';

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

/**
 * An item of a typed list: built-in types encode list items without kind and
 * apiVersion (custom resources, unstructured, keep theirs).
 */
export function listItem(type: ResourceType, obj: K8sObject): K8sObject {
  const shown = present(type, obj);
  if (!isBuiltInGroup(type.group)) return shown;
  const { apiVersion: _v, kind: _k, ...rest } = shown;
  return rest as K8sObject;
}

export const isHpaV1 = (type: ResourceType) => type.group === 'autoscaling' && type.version === 'v1' && type.plural === 'horizontalpodautoscalers';

export function partialMetadata(obj: K8sObject): K8sObject {
  return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: obj.metadata };
}

export function renderObject(type: ResourceType, obj: K8sObject, opts: RenderOptions): Record<string, unknown> {
  if (opts.rendering === 'table') {
    return toTable(type, [obj], opts.now, opts.includeObject);
  }
  const shown = present(type, obj);
  return opts.rendering === 'metadata' ? partialMetadata(shown) : shown;
}

export function renderList(type: ResourceType, items: K8sObject[], meta: ListMeta, opts: RenderOptions): Record<string, unknown> {
  const listMeta = cleanMeta(meta);
  if (opts.rendering === 'object') {
    return { kind: `${type.kind}List`, apiVersion: apiVersionOf(type), metadata: listMeta, items: items.map((o) => listItem(type, o)) };
  }
  if (opts.rendering === 'table') {
    const table = toTable(type, items, opts.now, opts.includeObject);
    return { ...table, metadata: { ...((table.metadata as object | undefined) ?? {}), ...listMeta } };
  }
  return { kind: 'PartialObjectMetadataList', apiVersion: 'meta.k8s.io/v1', metadata: listMeta, items: items.map((o) => partialMetadata(present(type, o))) };
}

function cleanMeta(meta: ListMeta): ListMeta {
  const out: ListMeta = { resourceVersion: meta.resourceVersion };
  if (meta.continue) out.continue = meta.continue;
  if (meta.remainingItemCount !== undefined) out.remainingItemCount = meta.remainingItemCount;
  return out;
}
