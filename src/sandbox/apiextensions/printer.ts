// meta.k8s.io Tables for custom resources (apiextensions' tableconvertor):
// Name, then the version's additionalPrinterColumns (Age by default), each
// cell read with its JSONPath and typed by the column: dates become ages,
// integers and numbers stay numbers, strings are printed.
import { humanAge } from '../podstatus.ts';
import type { PrinterColumn } from '../resources.ts';
import type { K8sObject } from '../types.ts';

const NAME_DESCRIPTION = 'Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names';

type Step = { field: string } | { index: number } | { all: true } | { filter: { path: string[]; op: '==' | '!='; value: unknown } };

/** Parses the simple JSONPath CRDs use: `.a.b`, `[0]`, `[*]`, `[?(@.type=="Ready")]`. */
export function parseJsonPath(path: string): Step[] {
  const steps: Step[] = [];
  let p = path.trim().replace(/^\{|\}$/g, '').replace(/^\$/, '');
  while (p.length) {
    let m: RegExpMatchArray | null;
    if ((m = p.match(/^\.([^.[]+)/))) steps.push({ field: m[1] });
    else if ((m = p.match(/^\[(\d+)\]/))) steps.push({ index: Number(m[1]) });
    else if ((m = p.match(/^\[\*\]/))) steps.push({ all: true });
    else if ((m = p.match(/^\[\?\(@((?:\.[\w-]+)+)\s*(==|!=)\s*(?:"([^"]*)"|'([^']*)'|([^)\s]+))\)\]/))) {
      const raw = m[3] ?? m[4] ?? (m[5] !== undefined ? JSON.parse(m[5]) : undefined);
      steps.push({ filter: { path: m[1].split('.').filter(Boolean), op: m[2] as '==' | '!=', value: raw } });
    } else if ((m = p.match(/^\['([^']+)'\]/)) || (m = p.match(/^\["([^"]+)"\]/))) steps.push({ field: m[1] });
    else return [];
    p = p.slice(m[0].length);
  }
  return steps;
}

/** Every value the path reaches, in order. */
export function evalJsonPath(obj: unknown, path: string): unknown[] {
  let cur: unknown[] = [obj];
  for (const step of parseJsonPath(path)) {
    const next: unknown[] = [];
    for (const v of cur) {
      if (v === null || typeof v !== 'object') continue;
      if ('field' in step) {
        const x = (v as Record<string, unknown>)[step.field];
        if (x !== undefined) next.push(x);
      } else if ('index' in step) {
        if (Array.isArray(v) && step.index < v.length) next.push(v[step.index]);
      } else if ('all' in step) {
        next.push(...(Array.isArray(v) ? v : Object.values(v)));
      } else if (Array.isArray(v)) {
        for (const item of v) {
          let x: unknown = item;
          for (const f of step.filter.path) x = x !== null && typeof x === 'object' ? (x as Record<string, unknown>)[f] : undefined;
          const eq = x === step.filter.value || String(x) === String(step.filter.value);
          if (step.filter.op === '==' ? eq : !eq) next.push(item);
        }
      }
    }
    cur = next;
  }
  return cur;
}

/** cellForJSONValue, with "string" columns printed as jsonpath prints a value. */
function cell(column: PrinterColumn, value: unknown, now: number): unknown {
  if (value === undefined || value === null) return null;
  switch (column.type) {
    case 'integer': return typeof value === 'number' ? Math.trunc(value) : null;
    case 'number': return typeof value === 'number' ? value : null;
    case 'boolean': return typeof value === 'boolean' ? value : null;
    case 'date': {
      if (typeof value !== 'string') return null;
      const ms = Date.parse(value);
      return Number.isFinite(ms) ? humanAge(now - ms) : '<invalid>';
    }
    default: return typeof value === 'object' ? JSON.stringify(value) : String(value);
  }
}

export function customTable(columns: PrinterColumn[], objects: K8sObject[], now: number, includeObject: 'None' | 'Metadata' | 'Object'): Record<string, unknown> {
  const columnDefinitions = [
    { name: 'Name', type: 'string', format: 'name', description: NAME_DESCRIPTION, priority: 0 },
    ...columns.map((c) => ({ name: c.name, type: c.type, format: c.format ?? '', description: c.description ?? '', priority: c.priority ?? 0 })),
  ];
  const rows = objects.map((o) => {
    const row: Record<string, unknown> = { cells: [o.metadata.name, ...columns.map((c) => cell(c, evalJsonPath(o, c.jsonPath)[0], now))] };
    if (includeObject === 'Object') row.object = o;
    else if (includeObject === 'Metadata') row.object = { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata };
    return row;
  });
  return { kind: 'Table', apiVersion: 'meta.k8s.io/v1', metadata: {}, columnDefinitions, rows };
}
