// Authentication, impersonation and (with `rbac: 'enforce'`) authorization of
// each request, in the order of kube-apiserver's filter chain. The request's
// attributes are read from its path the way RequestInfoFactory does
// (apiserver/pkg/endpoints/request/requestinfo.go), so RBAC sees the same verb,
// resource, subresource, name and namespace a real server would give it.
import { authenticate, impersonation, type UserInfo } from '../authn.ts';
import { authorize, forbiddenMessage, type Attributes } from '../rbac.ts';
import { ApiError } from '../status.ts';
import { tokenAuth, type Call, type ServerContext } from './context.ts';
import { boolParam } from './negotiate.ts';

const NAMESPACE_SUBRESOURCES = new Set(['status', 'finalize']);

/** authorizer.Attributes of a request, for `user`. */
export function requestAttributes(call: Call, user: UserInfo): Attributes {
  const path = call.path;
  const nonResource = (): Attributes => ({ user, verb: call.method.toLowerCase(), resourceRequest: false, path });
  let parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  if (parts.length < 3 || (parts[0] !== 'api' && parts[0] !== 'apis')) return nonResource();
  const grouped = parts[0] === 'apis';
  parts = parts.slice(1);
  let apiGroup = '';
  if (grouped) {
    if (parts.length < 3) return nonResource();
    apiGroup = parts[0];
    parts = parts.slice(1);
  }
  const apiVersion = parts[0];
  parts = parts.slice(1);
  let verb: string;
  if (parts[0] === 'watch' || parts[0] === 'proxy') {
    if (parts.length < 2) return nonResource();
    verb = parts[0];
    parts = parts.slice(1);
  } else {
    verb = ({ POST: 'create', GET: 'get', HEAD: 'get', PUT: 'update', PATCH: 'patch', DELETE: 'delete' } as Record<string, string>)[call.method] ?? '';
  }
  let namespace: string | undefined;
  if (parts[0] === 'namespaces' && parts.length > 1) {
    namespace = parts[1];
    if (parts.length > 2 && !NAMESPACE_SUBRESOURCES.has(parts[2])) parts = parts.slice(2);
  }
  const [resource, name, subresource] = parts;
  const a: Attributes = { user, verb, resourceRequest: true, apiGroup, apiVersion, resource, namespace };
  if (name !== undefined) a.name = name;
  if (subresource !== undefined && verb !== 'proxy') a.subresource = subresource;
  if (!a.name && verb === 'get') {
    a.verb = boolParam(call.query, 'watch') ? 'watch' : 'list';
    const m = (call.query.get('fieldSelector') ?? '').match(/^\s*metadata\.name\s*==?\s*([^,\s]+)\s*$/);
    if (m) a.name = m[1];
  }
  if (!a.name && a.verb === 'delete') a.verb = 'deletecollection';
  return a;
}

/** `pods "x" is forbidden: User "u" cannot get resource …` (apierrors.NewForbidden). */
export function forbidden(a: Attributes, reason = ''): ApiError {
  const msg = forbiddenMessage(a) + (reason ? `: ${reason}` : '');
  if (!a.resourceRequest) return new ApiError(403, 'Forbidden', `forbidden: ${msg}`, {});
  const gr = a.apiGroup ? `${a.resource}.${a.apiGroup}` : `${a.resource}`;
  const message = a.name ? `${gr} "${a.name}" is forbidden: ${msg}` : `${gr} is forbidden: ${msg}`;
  const details: Record<string, string> = {};
  if (a.name) details.name = a.name;
  if (a.apiGroup) details.group = a.apiGroup;
  if (a.resource) details.kind = a.resource;
  return new ApiError(403, 'Forbidden', message, details);
}

/**
 * Who the request acts as: its credentials (401 when a token the sandbox
 * issued no longer holds), then its Impersonate-* headers. With RBAC
 * enforced, impersonating needs the `impersonate` verb and the request needs
 * its own verb, else 403 as from the real authorizer.
 */
export function admitRequest(ctx: ServerContext, call: Call, onAuthenticated?: (u: UserInfo) => void): UserInfo {
  const authenticated = authenticate(call.headers, tokenAuth(ctx));
  onAuthenticated?.(authenticated);
  const imp = impersonation(call.headers);
  const enforce = ctx.rbac === 'enforce';
  if (imp && enforce) {
    for (const t of imp.targets) {
      const a: Attributes = { user: authenticated, verb: 'impersonate', resourceRequest: true, apiGroup: t.group, apiVersion: 'v1', resource: t.resource, name: t.name };
      if (t.namespace) a.namespace = t.namespace;
      if (t.subresource) a.subresource = t.subresource;
      const d = authorize(ctx.store, a);
      if (!d.allowed) throw forbidden(a, d.reason);
    }
  }
  const user = imp?.user ?? authenticated;
  if (enforce) {
    const a = requestAttributes(call, user);
    const d = authorize(ctx.store, a);
    if (!d.allowed) throw forbidden(a, d.reason);
  }
  return user;
}
