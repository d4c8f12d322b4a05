// Label and field selectors with the grammar the API server accepts, so that
// kubectl's `-l` and `--field-selector` behave as on a real cluster.
import { ApiError } from './status.ts';

export type Labels = Record<string, string>;

type Requirement =
  | { key: string; op: '=' | '!='; values: [string] }
  | { key: string; op: 'in' | 'notin'; values: string[] }
  | { key: string; op: 'exists' | '!' };

export type LabelMatcher = (labels: Labels | undefined) => boolean;

/** Parses `a=b,c!=d,e in (x,y),!f,g` into a matcher. */
export function parseLabelSelector(input: string | undefined): LabelMatcher {
  if (!input || !input.trim()) return () => true;
  const reqs: Requirement[] = [];
  for (const part of splitTopLevel(input)) {
    const p = part.trim();
    if (!p) continue;
    let m: RegExpMatchArray | null;
    if ((m = p.match(/^([\w./-]+)\s+(in|notin)\s+\(([^)]*)\)$/))) {
      reqs.push({ key: m[1], op: m[2] as 'in' | 'notin', values: m[3].split(',').map((v) => v.trim()).filter(Boolean) });
    } else if ((m = p.match(/^([\w./-]+)\s*(==|=|!=)\s*([\w./-]*)$/))) {
      reqs.push({ key: m[1], op: m[2] === '!=' ? '!=' : '=', values: [m[3]] });
    } else if ((m = p.match(/^!\s*([\w./-]+)$/))) {
      reqs.push({ key: m[1], op: '!' });
    } else if ((m = p.match(/^([\w./-]+)$/))) {
      reqs.push({ key: m[1], op: 'exists' });
    } else {
      throw ApiError.badRequest(`unable to parse requirement: "${p}" in label selector "${input}"`);
    }
  }
  return (labels) => reqs.every((q) => matchReq(q, labels ?? {}));
}

function matchReq(q: Requirement, labels: Labels): boolean {
  const has = Object.hasOwn(labels, q.key);
  switch (q.op) {
    case '=': return has && labels[q.key] === q.values[0];
    case '!=': return !has || labels[q.key] !== q.values[0];
    case 'in': return has && q.values.includes(labels[q.key]);
    case 'notin': return !has || !q.values.includes(labels[q.key]);
    case 'exists': return has;
    case '!': return !has;
  }
}

function splitTopLevel(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of s) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out;
}

export interface LabelSelector {
  matchLabels?: Labels;
  matchExpressions?: { key: string; operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist'; values?: string[] }[];
}

/** metav1.LabelSelector semantics: an empty selector matches everything. */
export function matchesSelector(sel: LabelSelector | undefined | null, labels: Labels | undefined): boolean {
  if (!sel) return false;
  const l = labels ?? {};
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) if (l[k] !== v) return false;
  for (const e of sel.matchExpressions ?? []) {
    const has = Object.hasOwn(l, e.key);
    const vals = e.values ?? [];
    if (e.operator === 'In' && !(has && vals.includes(l[e.key]))) return false;
    if (e.operator === 'NotIn' && has && vals.includes(l[e.key])) return false;
    if (e.operator === 'Exists' && !has) return false;
    if (e.operator === 'DoesNotExist' && has) return false;
  }
  return true;
}

/** Renders a selector the way kubectl prints it (`app=web,tier in (a,b)`). */
export function selectorToString(sel: LabelSelector | undefined): string {
  if (!sel) return '';
  const parts = Object.entries(sel.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
  for (const e of sel.matchExpressions ?? []) {
    if (e.operator === 'In') parts.push(`${e.key} in (${(e.values ?? []).join(',')})`);
    if (e.operator === 'NotIn') parts.push(`${e.key} notin (${(e.values ?? []).join(',')})`);
    if (e.operator === 'Exists') parts.push(e.key);
    if (e.operator === 'DoesNotExist') parts.push(`!${e.key}`);
  }
  return parts.join(',');
}
