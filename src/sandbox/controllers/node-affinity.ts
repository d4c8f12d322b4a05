// Required node selection: nodeSelector and required node affinity, as
// kube-scheduler's NodeAffinity plugin filters and pre-filters nodes.
import type { K8sObject } from '../types.ts';

type Expr = { key: string; operator: string; values?: string[] };

function matchExpr(e: Expr, value: string | undefined): boolean {
  const vals = e.values ?? [];
  switch (e.operator) {
    case 'In': return value !== undefined && vals.includes(value);
    case 'NotIn': return value === undefined || !vals.includes(value);
    case 'Exists': return value !== undefined;
    case 'DoesNotExist': return value === undefined;
    case 'Gt': return value !== undefined && Number(value) > Number(vals[0]);
    case 'Lt': return value !== undefined && Number(value) < Number(vals[0]);
    default: return false;
  }
}

/** nodeSelector plus required node affinity (terms ORed, an empty term matches nothing). */
export function matchesNodeSelection(pod: K8sObject, node: K8sObject): boolean {
  const labels: Record<string, string> = node.metadata.labels ?? {};
  for (const [k, v] of Object.entries<string>(pod.spec?.nodeSelector ?? {})) if (labels[k] !== v) return false;
  const terms: any[] | undefined = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
  if (!terms) return true;
  return matchesNodeSelectorTerms(terms, node);
}

/** A NodeSelector's terms (ORed; an empty term matches nothing), as pods and PersistentVolumes use them. */
export function matchesNodeSelectorTerms(terms: any[], node: K8sObject): boolean {
  const labels: Record<string, string> = node.metadata.labels ?? {};
  return terms.some((t) => {
    const exprs: Expr[] = t.matchExpressions ?? [];
    const fields: Expr[] = t.matchFields ?? [];
    if (exprs.length === 0 && fields.length === 0) return false;
    return exprs.every((e) => matchExpr(e, Object.hasOwn(labels, e.key) ? labels[e.key] : undefined))
      && fields.every((e) => matchExpr(e, e.key === 'metadata.name' ? node.metadata.name : undefined));
  });
}

/**
 * NodeAffinity's PreFilter: when every required term pins `metadata.name In`,
 * only those nodes are evaluated (DaemonSet pods). Undefined means all nodes.
 */
export function pinnedNodeNames(pod: K8sObject): Set<string> | undefined {
  const terms: any[] | undefined = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
  if (!terms?.length) return undefined;
  const names = new Set<string>();
  for (const t of terms) {
    const f = (t.matchFields ?? []).find((e: Expr) => e.key === 'metadata.name' && e.operator === 'In');
    if (!f) return undefined;
    for (const v of f.values ?? []) names.add(v);
  }
  return names;
}
