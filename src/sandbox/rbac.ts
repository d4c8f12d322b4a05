// RBAC evaluation over the stored Roles, ClusterRoles and their bindings, as
// plugin/pkg/auth/authorizer/rbac does it: ClusterRoleBindings first, then the
// RoleBindings of the request's namespace; a rule allows when verb, API group,
// resource (with `*/subresource`), resource name or non-resource URL match.
// Members of system:masters are allowed everything before RBAC is asked, as
// the API server's privileged-group authorizer does. Aggregated ClusterRoles
// are evaluated by the rules they hold, not re-aggregated.
import { MASTERS, type UserInfo } from './authn.ts';
import type { ObjectStore } from './store.ts';
import type { K8sObject } from './types.ts';

export interface PolicyRule {
  verbs?: string[];
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}

export interface Subject {
  kind: string;
  apiGroup?: string;
  name: string;
  namespace?: string;
}

/** authorizer.Attributes: what a request (or an access review) asks to do. */
export interface Attributes {
  user: UserInfo;
  verb: string;
  resourceRequest: boolean;
  namespace?: string;
  apiGroup?: string;
  apiVersion?: string;
  resource?: string;
  subresource?: string;
  name?: string;
  path?: string;
}

export interface Decision {
  allowed: boolean;
  reason: string;
  /** Roles that bindings name but that do not exist. */
  evaluationError?: string;
}

const has = (list: string[] | undefined, v: string) => (list ?? []).some((x) => x === '*' || x === v);

function resourceMatches(rule: PolicyRule, combined: string, sub: string): boolean {
  for (const r of rule.resources ?? []) {
    if (r === '*' || r === combined) return true;
    if (sub && r.length === sub.length + 2 && r.startsWith('*/') && r.endsWith(sub)) return true;
  }
  return false;
}

function urlMatches(rule: PolicyRule, path: string): boolean {
  for (const u of rule.nonResourceURLs ?? []) {
    if (u === '*' || u === path) return true;
    if (u.endsWith('*') && path.startsWith(u.replace(/\*+$/, ''))) return true;
  }
  return false;
}

/** RuleAllows (rbac.go). */
export function ruleAllows(a: Attributes, rule: PolicyRule): boolean {
  if (!has(rule.verbs, a.verb)) return false;
  if (!a.resourceRequest) return urlMatches(rule, a.path ?? '');
  const sub = a.subresource ?? '';
  const combined = sub ? `${a.resource}/${sub}` : a.resource ?? '';
  const names = rule.resourceNames ?? [];
  return has(rule.apiGroups, a.apiGroup ?? '') && resourceMatches(rule, combined, sub) && (names.length === 0 || names.includes(a.name ?? ''));
}

function appliesTo(user: UserInfo, s: Subject, bindingNamespace: string): boolean {
  switch (s.kind) {
    case 'User': return user.username === s.name;
    case 'Group': return user.groups.includes(s.name);
    case 'ServiceAccount': {
      const ns = s.namespace || bindingNamespace;
      return Boolean(ns) && user.username === `system:serviceaccount:${ns}:${s.name}`;
    }
    default: return false;
  }
}

function describeSubject(s: Subject, bindingNamespace: string): string {
  if (s.kind === 'ServiceAccount') return `${s.kind} "${s.name}/${s.namespace || bindingNamespace}"`;
  return `${s.kind} "${s.name}"`;
}

type Visitor = (source: string, rule: PolicyRule) => boolean;

/**
 * Calls `visit` with every rule that applies to `user` in `namespace` (all
 * cluster-wide ones when it is empty) until it returns false; returns the
 * roles that could not be found.
 */
export function visitRules(store: ObjectStore, user: UserInfo, namespace: string | undefined, visit: Visitor): string[] {
  const errors: string[] = [];
  const roleRules = (kind: string, name: string, ns: string): PolicyRule[] | undefined => {
    const role = kind === 'ClusterRole' ? store.get('rbac.authorization.k8s.io/clusterroles', undefined, name) : store.get('rbac.authorization.k8s.io/roles', ns, name);
    if (!role) {
      errors.push(kind === 'ClusterRole' ? `clusterrole.rbac.authorization.k8s.io "${name}" not found` : `role.rbac.authorization.k8s.io "${name}" not found`);
      return undefined;
    }
    return role.rules ?? [];
  };
  const walk = (binding: K8sObject, describe: (s: Subject) => string, ns: string): boolean => {
    const subject = ((binding.subjects ?? []) as Subject[]).find((s) => appliesTo(user, s, ns));
    if (!subject) return true;
    const rules = roleRules(binding.roleRef?.kind, binding.roleRef?.name, ns);
    for (const rule of rules ?? []) if (!visit(describe(subject), rule)) return false;
    return true;
  };
  for (const b of store.list('rbac.authorization.k8s.io/clusterrolebindings').items) {
    const describe = (s: Subject) => `ClusterRoleBinding "${b.metadata.name}" of ${b.roleRef?.kind} "${b.roleRef?.name}" to ${describeSubject(s, '')}`;
    if (!walk(b, describe, '')) return errors;
  }
  if (namespace) {
    for (const b of store.list('rbac.authorization.k8s.io/rolebindings', namespace).items) {
      const describe = (s: Subject) => `RoleBinding "${b.metadata.name}/${namespace}" of ${b.roleRef?.kind} "${b.roleRef?.name}" to ${describeSubject(s, namespace)}`;
      if (!walk(b, describe, namespace)) return errors;
    }
  }
  return errors;
}

/** The authorizer chain's answer: system:masters, else RBAC. */
export function authorize(store: ObjectStore, a: Attributes): Decision {
  if (a.user.groups.includes(MASTERS)) return { allowed: true, reason: '' };
  let reason = '';
  const errors = visitRules(store, a.user, a.namespace, (source, rule) => {
    if (!ruleAllows(a, rule)) return true;
    reason = `RBAC: allowed by ${source}`;
    return false;
  });
  if (reason) return { allowed: true, reason };
  if (errors.length) {
    const why = `RBAC: ${errors.length === 1 ? errors[0] : `[${errors.join(', ')}]`}`;
    return { allowed: false, reason: why, evaluationError: why };
  }
  return { allowed: false, reason: '' };
}

export interface ResourceRule {
  verbs: string[];
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
}

export interface NonResourceRule {
  verbs: string[];
  nonResourceURLs?: string[];
}

/** What SelfSubjectRulesReview reports: every rule that applies in `namespace`. */
export function rulesFor(store: ObjectStore, user: UserInfo, namespace: string): { resourceRules: ResourceRule[]; nonResourceRules: NonResourceRule[]; incomplete: boolean; evaluationError?: string } {
  const resourceRules: ResourceRule[] = [];
  const nonResourceRules: NonResourceRule[] = [];
  const errors = visitRules(store, user, namespace, (_source, rule) => {
    if (rule.nonResourceURLs?.length) {
      nonResourceRules.push({ verbs: rule.verbs ?? [], nonResourceURLs: rule.nonResourceURLs });
    } else {
      const r: ResourceRule = { verbs: rule.verbs ?? [] };
      if (rule.apiGroups) r.apiGroups = rule.apiGroups;
      if (rule.resources) r.resources = rule.resources;
      if (rule.resourceNames) r.resourceNames = rule.resourceNames;
      resourceRules.push(r);
    }
    return true;
  });
  return errors.length
    ? { resourceRules, nonResourceRules, incomplete: true, evaluationError: errors.join(', ') }
    : { resourceRules, nonResourceRules, incomplete: false };
}

/** What responsewriters.Forbidden keeps from looking like HTML: `&`, `<` and `>` escaped, quotes kept. */
const sanitize = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** The Forbidden error the API server answers a denied request with (responsewriters.forbiddenMessage). */
export function forbiddenMessage(a: Attributes): string {
  const who = `User ${JSON.stringify(a.user.username)}`;
  if (!a.resourceRequest) return sanitize(`${who} cannot ${a.verb} path ${JSON.stringify(a.path ?? '')}`);
  const resource = a.subresource ? `${a.resource}/${a.subresource}` : a.resource ?? '';
  const where = a.namespace ? `in the namespace ${JSON.stringify(a.namespace)}` : 'at the cluster scope';
  return sanitize(`${who} cannot ${a.verb} resource ${JSON.stringify(resource)} in API group ${JSON.stringify(a.apiGroup ?? '')} ${where}`);
}
