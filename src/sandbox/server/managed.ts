// metadata.managedFields bookkeeping: one entry per (manager, operation,
// subresource), stamped on every write that changes the object. Field sets are
// not tracked (fieldsV1 stays empty); what matters to clients is that the
// entries exist and name who wrote last, as on a real cluster.
import { k8sTime } from '../../common/index.ts';
import { ApiError } from '../status.ts';
import type { Call } from './context.ts';

export interface ManagedFieldsEntry {
  manager: string;
  operation: 'Apply' | 'Update';
  apiVersion: string;
  time: string;
  fieldsType: 'FieldsV1';
  fieldsV1: Record<string, unknown>;
  subresource?: string;
}

/** `fieldManager` from the query, else the user agent up to its first '/' (kubectl, node-fetch …). */
export function fieldManager(call: Call, required = false): string {
  const given = call.query.get('fieldManager');
  if (given) {
    if (given.length > 128) {
      throw ApiError.invalid('PatchOptions', '', 'meta.k8s.io', [{ field: 'fieldManager', message: `Too long: may not be more than 128 bytes`, reason: 'FieldValueTooLong' }]);
    }
    return given;
  }
  if (required) {
    throw new ApiError(422, 'Invalid', 'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch', {
      group: 'meta.k8s.io', kind: 'PatchOptions', causes: [{ reason: 'FieldValueRequired', message: 'Required value: is required for apply patch', field: 'fieldManager' }],
    });
  }
  return (call.userAgent.split('/')[0] || 'unknown').slice(0, 128);
}

export function stampManagedFields(
  existing: unknown[] | undefined,
  who: { manager: string; operation: 'Apply' | 'Update'; apiVersion: string; subresource?: string },
  now: number,
): ManagedFieldsEntry[] {
  const entries = ((existing ?? []) as ManagedFieldsEntry[]).filter(
    (e) => e && !(e.manager === who.manager && e.operation === who.operation && (e.subresource ?? '') === (who.subresource ?? '')),
  );
  const entry: ManagedFieldsEntry = {
    manager: who.manager,
    operation: who.operation,
    apiVersion: who.apiVersion,
    time: k8sTime(now),
    fieldsType: 'FieldsV1',
    fieldsV1: {},
  };
  if (who.subresource) entry.subresource = who.subresource;
  entries.push(entry);
  return entries;
}
