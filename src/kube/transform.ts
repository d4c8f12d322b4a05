// What the cache keeps of an object (client-go's TransformFunc). managedFields
// and kubectl's last-applied-configuration can be most of an object's bytes:
// the annotation is dropped, and managedFields shrink to who wrote the object
// and when — {manager, operation, time, subresource} without the field sets,
// newest first and at most MANAGED_FIELDS_KEPT — which is all the change feed
// needs to name a change's author, and still reads like the real field to a
// rule (`object.metadata.managedFields.exists(m, m.manager == 'kubectl-edit')`).
import type { KubeObject, ManagedFieldsEntry } from './types.ts';

const BULKY_ANNOTATIONS = ['kubectl.kubernetes.io/last-applied-configuration'];
/** Entries kept per object: an object written by many tools keeps its latest writers. */
export const MANAGED_FIELDS_KEPT = 8;

export function stripBulk(o: KubeObject): KubeObject {
  const meta = o.metadata ?? {};
  if (!meta.managedFields && !BULKY_ANNOTATIONS.some((a) => meta.annotations?.[a] !== undefined)) return o;
  const { managedFields, ...rest } = meta;
  let annotations = rest.annotations;
  if (annotations && BULKY_ANNOTATIONS.some((a) => a in annotations!)) {
    annotations = { ...annotations };
    for (const a of BULKY_ANNOTATIONS) delete annotations[a];
  }
  const managed = managedFields ? projectManagedFields(managedFields) : [];
  return { ...o, metadata: { ...rest, ...(annotations ? { annotations } : {}), ...(managed.length ? { managedFields: managed } : {}) } };
}

/** The compact form of metadata.managedFields: newest first, bounded, entries that are not well-formed left out. */
export function projectManagedFields(entries: unknown[]): ManagedFieldsEntry[] {
  const out: ManagedFieldsEntry[] = [];
  for (const e of entries) {
    if (!e || typeof e !== 'object') continue;
    const { manager, operation, time, subresource } = e as Record<string, unknown>;
    if (typeof manager !== 'string' || (operation !== 'Apply' && operation !== 'Update')) continue;
    out.push({
      manager: manager.slice(0, 128),
      operation,
      ...(typeof time === 'string' ? { time } : {}),
      ...(typeof subresource === 'string' && subresource ? { subresource } : {}),
    });
  }
  // RFC 3339 times of one format compare as strings; an entry without a time sorts last.
  out.sort((a, b) => (b.time ?? '').localeCompare(a.time ?? ''));
  return out.slice(0, MANAGED_FIELDS_KEPT);
}

/** An object's managedFields as the cache holds them (projected again when a caller hands an unprojected object). */
export function managedFieldsOf(o: KubeObject | undefined): ManagedFieldsEntry[] {
  const m = o?.metadata?.managedFields;
  return Array.isArray(m) ? projectManagedFields(m) : [];
}
