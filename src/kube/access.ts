// What RBAC sees of a request kubemend makes, and what an identity needs to
// be granted for it. A request's verb, API group, resource and subresource
// are read from its method and path the way kube-apiserver's
// RequestInfoFactory reads them, so the permissions an action declares
// (runbooks/actions) are the very rules a ClusterRole must hold: the
// deployment's ClusterRoles are derived from them and checked against them
// (test/deploy), and every request an action makes is checked against its
// declaration while it runs.

/** One RBAC rule's worth of access: `resources` may name a subresource (`deployments/scale`). */
export interface ApiAccess {
  group: string;
  resources: readonly string[];
  verbs: readonly string[];
  /** Needed only when this boolean parameter of the action is true (k8s.collect's readSecrets). */
  when?: string;
}

/** authorizer.Attributes of one request, as RBAC matches them. */
export interface RequestInfo {
  verb: string;
  group: string;
  /** With the subresource, as RBAC compares it: `pods/eviction`. */
  resource: string;
  namespace?: string;
  name?: string;
}

const VERBS: Record<string, string> = { POST: 'create', GET: 'get', HEAD: 'get', PUT: 'update', PATCH: 'patch', DELETE: 'delete' };

/** The attributes of a request to `path` (no query string; `query` apart), or undefined for a non-resource path. */
export function requestInfo(method: string, path: string, query: Record<string, unknown> = {}): RequestInfo | undefined {
  let parts = path.split('?')[0].split('/').filter(Boolean).map(decodeURIComponent);
  if (parts[0] === 'api') parts = ['', ...parts.slice(1)];
  else if (parts[0] === 'apis') parts = parts.slice(1);
  else return undefined;
  const [group, , ...rest] = parts;
  if (!rest.length) return undefined;
  let verb = VERBS[method.toUpperCase()] ?? method.toLowerCase();
  let namespace: string | undefined;
  let tail = rest;
  if (tail[0] === 'watch') {
    verb = 'watch';
    tail = tail.slice(1);
  }
  // A namespace's own status and finalize are subresources of namespaces, not a collection inside it.
  if (tail[0] === 'namespaces' && tail.length > 2 && tail[2] !== 'status' && tail[2] !== 'finalize') {
    namespace = tail[1];
    tail = tail.slice(2);
  }
  const [resource, name, sub] = tail;
  if (tail[0] === 'namespaces' && name) namespace = name;
  if (!name && verb === 'get') verb = query.watch ? 'watch' : 'list';
  if (!name && verb === 'delete') verb = 'deletecollection';
  return { verb, group, resource: sub ? `${resource}/${sub}` : resource, ...(namespace ? { namespace } : {}), ...(name ? { name } : {}) };
}

/** Whether any of `rules` grants the request (names are not restricted here: declarations never use resourceNames). */
export function grants(rules: readonly ApiAccess[], r: Pick<RequestInfo, 'verb' | 'group' | 'resource'>): boolean {
  return rules.some((a) => a.group === r.group && a.resources.includes(r.resource) && a.verbs.includes(r.verb));
}

/** `patch deployments.apps`, `create pods/eviction`: how a permission is named in messages. */
export function describeAccess(r: Pick<RequestInfo, 'verb' | 'group' | 'resource'>): string {
  const [resource, sub] = r.resource.split('/');
  return `${r.verb} ${resource}${r.group ? `.${r.group}` : ''}${sub ? `/${sub}` : ''}`;
}

/**
 * The rules as a ClusterRole writes them: one rule per API group and verb
 * set, resources and verbs sorted, so two declarations that grant the same
 * compare equal.
 */
export function normalizeAccess(rules: Iterable<Pick<ApiAccess, 'group' | 'resources' | 'verbs'>>): ApiAccess[] {
  const byResource = new Map<string, Set<string>>();
  for (const a of rules) {
    for (const r of a.resources) {
      const k = `${a.group}\u0000${r}`;
      const verbs = byResource.get(k) ?? new Set<string>();
      for (const v of a.verbs) verbs.add(v);
      byResource.set(k, verbs);
    }
  }
  const grouped = new Map<string, ApiAccess & { resources: string[] }>();
  for (const [k, verbs] of byResource) {
    const [group, resource] = k.split('\u0000');
    const v = [...verbs].sort();
    const key = `${group}\u0000${v.join(',')}`;
    const entry = grouped.get(key) ?? { group, resources: [], verbs: v };
    entry.resources.push(resource);
    grouped.set(key, entry);
  }
  return [...grouped.values()]
    .map((a) => ({ group: a.group, resources: [...a.resources].sort(), verbs: a.verbs }))
    .sort((a, b) => (a.group === b.group ? (a.resources[0] < b.resources[0] ? -1 : 1) : a.group < b.group ? -1 : 1));
}

/** Every (group, resource, verb) a set of rules grants, as `verb group/resource` strings: what two sets are compared by. */
export function accessTriples(rules: Iterable<Pick<ApiAccess, 'group' | 'resources' | 'verbs'>>): string[] {
  const out = new Set<string>();
  for (const a of rules) for (const r of a.resources) for (const v of a.verbs) out.add(`${v} ${a.group || 'core'}/${r}`);
  return [...out].sort();
}
