// meta.k8s.io/v1 Table rendering, which is what `kubectl get` asks for
// (Accept: application/json;as=Table;g=meta.k8s.io;v=v1). Column names,
// order and cell formats follow the API server's printers
// (pkg/printers/internalversion/printers.go, Kubernetes 1.32). Like the real
// server, every row carries the wide (priority 1) cells too; kubectl hides
// them unless `-o wide`, and upper-cases the names when printing.
import type { K8sObject } from '../types.ts';
import { AGE_DOC, NAME, col, type Printer } from './tables-format.ts';
import { CORE_PRINTERS } from './tables-core.ts';
import { WORKLOAD_PRINTERS } from './tables-workloads.ts';
import { NETWORK_STORAGE_PRINTERS } from './tables-network-storage.ts';
import { API_PRINTERS } from './tables-apis.ts';

const PRINTERS: Record<string, Printer> = { ...CORE_PRINTERS, ...WORKLOAD_PRINTERS, ...NETWORK_STORAGE_PRINTERS, ...API_PRINTERS };

/** The API server's default convertor for types without a printer (e.g. LimitRange). */
const defaultPrinter: Printer = {
  columns: [NAME, col('Created At', 'date', AGE_DOC)],
  cells(o) {
    const ms = o.metadata.creationTimestamp ? Date.parse(o.metadata.creationTimestamp) : NaN;
    return [o.metadata.name, Number.isFinite(ms) ? new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z') : '0001-01-01T00:00:00Z'];
  },
};

/**
 * Renders objects of one storage as a meta.k8s.io/v1 Table; the caller sets
 * metadata.resourceVersion. Cells come from the stored objects (the real
 * server prints its internal version, so autoscaling/v1 and v2 HPAs print
 * alike); `show` gives each row's object in the version asked for.
 */
export function toTable(
  storage: string,
  objects: K8sObject[],
  now: number,
  includeObject: 'None' | 'Metadata' | 'Object',
  show: (o: K8sObject) => K8sObject = (o) => o,
): Record<string, unknown> {
  const printer = PRINTERS[storage] ?? defaultPrinter;
  const rows = objects.map((o) => {
    const row: Record<string, unknown> = { cells: printer.cells(o, now) };
    const conditions = printer.conditions?.(o);
    if (conditions) row.conditions = conditions;
    if (includeObject === 'Object') row.object = show(o);
    else if (includeObject === 'Metadata') row.object = { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: show(o).metadata };
    return row;
  });
  return { kind: 'Table', apiVersion: 'meta.k8s.io/v1', metadata: {}, columnDefinitions: printer.columns.map((c) => ({ ...c })), rows };
}
