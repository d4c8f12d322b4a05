// What kubemend's own identity (the ServiceAccount it runs as) asks the API
// server for, besides impersonating: a list and a watch per kind the rules
// (and the incident tracker) need, a list per polled kind at each schedule
// tick, and a get of namespaces — kube-system's uid identifies the cluster
// for resumed runs, and chat reads a namespace's labels to tell production.
// Everything a run does is asked as the identity it impersonates
// (runbooks/access.ts). The deployment's ClusterRole for kubemend is this, for
// the shipped rules (test/deploy keeps deploy/base in step with it).
import { KINDS, normalizeAccess, type ApiAccess } from '../kube/index.ts';
import { kindsToWatch, type LoadedRule } from '../rules/index.ts';
import { contextRule } from '../incidents/index.ts';

/** Impersonation: runs act as the service identity or the chat user, in their groups. */
export const IMPERSONATE_ACCESS: ApiAccess = { group: '', resources: ['groups', 'users'], verbs: ['impersonate'] };

/** The kinds a pipeline over `rules` watches (the incident tracker's too, unless it is off). */
export function watchedKinds(rules: LoadedRule[], o: { incidents?: boolean } = {}): string[] {
  return kindsToWatch(o.incidents === false ? rules : [...rules, ...contextRule(rules)]);
}

export function serviceAccess(rules: LoadedRule[], o: { incidents?: boolean } = {}): ApiAccess[] {
  const out: ApiAccess[] = [{ group: '', resources: ['namespaces'], verbs: ['get'] }];
  for (const kind of watchedKinds(rules, o)) {
    const ref = KINDS.find((k) => k.kind === kind);
    if (!ref) continue;
    const group = ref.apiVersion.includes('/') ? ref.apiVersion.split('/')[0] : '';
    out.push({ group, resources: [ref.plural], verbs: ref.polled ? ['list'] : ['list', 'watch'] });
  }
  return normalizeAccess([...out, IMPERSONATE_ACCESS]);
}
