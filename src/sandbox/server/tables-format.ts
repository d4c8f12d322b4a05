// What every Table printer shares: the column and printer shapes, the Name
// and Age columns, and the cell formats of the API server's printers.
import type { K8sObject } from '../types.ts';
import { humanAge } from '../podstatus.ts';

export interface Column { name: string; type: string; format: string; description: string; priority: number }

export interface Printer {
  columns: Column[];
  cells(o: K8sObject, now: number): unknown[];
  conditions?(o: K8sObject): Record<string, string>[] | undefined;
}

const NAME_DOC =
  'Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names';
export const AGE_DOC =
  'CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata';

export function col(name: string, type: string, description: string, priority = 0, format = ''): Column {
  return { name, type, format, description, priority };
}

export const NAME = col('Name', 'string', NAME_DOC, 0, 'name');
export const AGE = col('Age', 'string', AGE_DOC);

/** translateTimestampSince: "<unknown>" for a missing timestamp. */
export function since(ts: string | undefined, now: number): string {
  const ms = ts ? Date.parse(ts) : NaN;
  return Number.isFinite(ms) ? humanAge(now - ms) : '<unknown>';
}

export const age = (o: K8sObject, now: number) => since(o.metadata.creationTimestamp, now);
export const int = (v: unknown) => (typeof v === 'number' ? v : 0);

/** labels.FormatLabels: sorted `k=v` pairs, "<none>" when empty. */
export function formatLabels(m: Record<string, string> | undefined): string {
  const keys = Object.keys(m ?? {}).sort();
  return keys.length ? keys.map((k) => `${k}=${m![k]}`).join(',') : '<none>';
}

export function simple(extra: { column: Column; cell: (o: K8sObject) => unknown }[]): Printer {
  return {
    columns: [NAME, ...extra.map((e) => e.column), AGE],
    cells: (o, now) => [o.metadata.name, ...extra.map((e) => e.cell(o)), age(o, now)],
  };
}
