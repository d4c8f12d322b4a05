// What the identity runbook steps act as must be granted: the union of the
// declared access (Action.access) of every action the runbooks' steps use.
// An entry an action needs only for an opt-in parameter (k8s.collect's
// readSecrets) counts only where a step sets that parameter to true, so a
// shipped set that never reads Secrets is not granted them. The deployment's
// ClusterRole for kubemend's service identity is this, for the shipped
// runbooks (test/deploy keeps deploy/base in step with it).
import { normalizeAccess, type ApiAccess } from '../kube/index.ts';
import type { LoadedRunbook } from './loader.ts';
import type { Action } from './types.ts';

export function runbookAccess(runbooks: readonly LoadedRunbook[], actions: ReadonlyMap<string, Action>): ApiAccess[] {
  const out: ApiAccess[] = [];
  for (const lr of runbooks) {
    for (const step of lr.runbook.spec.steps) {
      const action = actions.get(step.action);
      if (!action) continue;
      const given = step.with as Record<string, unknown>;
      // A templated value may come out true at run time: only a literal false (or absence) leaves the entry out.
      for (const a of action.access) if (!a.when || (given[a.when] !== undefined && given[a.when] !== false)) out.push(a);
    }
  }
  return normalizeAccess(out);
}
