// Who a request is, the way kube-apiserver's authentication and impersonation
// filters decide it. Tokens are tried as the API server's union authenticator
// tries them: the static users first (a token file: the sandbox's own admin,
// `kubemend-sandbox-admin` in system:masters, and those a scenario or
// `--user` declares), then service account tokens the sandbox issued
// (TokenRequest), which hold while their account (and bound pod or secret)
// still exists with the same uid. Any other token is refused (401) when RBAC
// is enforced, as on a real cluster; with RBAC off it stands for the user it
// names, in system:masters, so clients that invent a token keep working. The
// sandbox serves plain HTTP on loopback and kubectl sends no credentials over
// plain HTTP, so a request without any is what kube-apiserver's old insecure
// port made of it: system:unsecured, in system:masters. Impersonate-* headers
// then replace the user, as for a real cluster (`kubectl --as`).
import type { IncomingHttpHeaders } from 'node:http';
import { ApiError } from './status.ts';
import type { ObjectStore } from './store.ts';
import type { TokenIssuer, TokenClaims } from './tokens.ts';

export interface UserInfo {
  username: string;
  uid?: string;
  groups: string[];
  extra?: Record<string, string[]>;
}

export const ALL_AUTHENTICATED = 'system:authenticated';
export const ALL_UNAUTHENTICATED = 'system:unauthenticated';
export const ANONYMOUS: UserInfo = { username: 'system:anonymous', groups: [ALL_UNAUTHENTICATED] };
export const MASTERS = 'system:masters';
/** Who a request without credentials is (the insecure port's user). */
export const UNSECURED: UserInfo = { username: 'system:unsecured', groups: [MASTERS, ALL_AUTHENTICATED] };

const SA_PREFIX = 'system:serviceaccount:';

export const serviceAccountUser = (ns: string, name: string) => `${SA_PREFIX}${ns}:${name}`;
export const serviceAccountGroups = (ns: string) => ['system:serviceaccounts', `system:serviceaccounts:${ns}`];

/** A user of the static token file (kube-apiserver --token-auth-file): the token authenticates as `name` in `groups`. */
export interface StaticUser {
  name: string;
  token: string;
  groups?: string[];
  uid?: string;
}

/** The sandbox kubeconfig's user: an administrator, as the kubeconfig of a new cluster's creator is. */
export const ADMIN_TOKEN = 'kubemend-sandbox-admin';
export const ADMIN_USER: StaticUser = { name: ADMIN_TOKEN, token: ADMIN_TOKEN, groups: [MASTERS] };

/** How bearer tokens are checked: the static users, and whether a token nobody issued is refused. */
export interface TokenAuth {
  tokens: TokenIssuer;
  store: ObjectStore;
  users: readonly StaticUser[];
  /** Refuse tokens that are neither a static user's nor issued by the sandbox (RBAC enforced), as kube-apiserver does. */
  strict: boolean;
}

/** `system:serviceaccount:ns:name` → its parts, else undefined. */
export function splitServiceAccount(username: string): { namespace: string; name: string } | undefined {
  if (!username.startsWith(SA_PREFIX)) return undefined;
  const parts = username.slice(SA_PREFIX.length).split(':');
  return parts.length === 2 && parts[0] && parts[1] ? { namespace: parts[0], name: parts[1] } : undefined;
}

/**
 * The user a token authenticates as, or why it does not (as TokenReview
 * reports it: `error` for a token an authenticator claimed but refused, none
 * for a token no authenticator knows).
 */
export function userOfToken(token: string, auth: TokenAuth, audiences?: string[]): { user: UserInfo } | { error?: string } {
  // Tokens are compared whole, as the token file authenticator's map lookup does.
  const known = [ADMIN_USER, ...auth.users].find((u) => u.token === token);
  if (known) {
    // The authenticated group is added to every user by the API server, after its own groups.
    const user: UserInfo = { username: known.name, groups: [...(known.groups ?? []).filter((g) => g !== ALL_AUTHENTICATED), ALL_AUTHENTICATED] };
    if (known.uid) user.uid = known.uid;
    return { user };
  }
  const v = auth.tokens.verify(token, audiences);
  if (v === undefined) return auth.strict ? {} : { user: { username: token, groups: [MASTERS, ALL_AUTHENTICATED] } };
  if ('error' in v) return { error: `[invalid bearer token, ${v.error}]` };
  const stale = staleBinding(v.claims, auth.store);
  if (stale) return { error: `[invalid bearer token, ${stale}]` };
  return { user: serviceAccountUserInfo(v.claims) };
}

// The service account, and what the token is bound to, must still be the same objects.
function staleBinding(claims: TokenClaims, store: ObjectStore): string | undefined {
  const ki = claims['kubernetes.io'];
  const ns = ki.namespace;
  const sa = store.get('serviceaccounts', ns, ki.serviceaccount.name);
  if (!sa) return `serviceaccounts "${ki.serviceaccount.name}" not found`;
  if (sa.metadata.uid !== ki.serviceaccount.uid) return `service account UID (${sa.metadata.uid}) does not match claim (${ki.serviceaccount.uid})`;
  if (sa.metadata.deletionTimestamp) return 'service account has been deleted';
  for (const [kind, storage] of [['pod', 'pods'], ['secret', 'secrets']] as const) {
    const ref = ki[kind];
    if (!ref) continue;
    const o = store.get(storage, ns, ref.name);
    if (!o) return `${storage} "${ref.name}" not found`;
    if (o.metadata.uid !== ref.uid) return `${kind} UID (${o.metadata.uid}) does not match claim (${ref.uid})`;
    if (o.metadata.deletionTimestamp) return `${kind} has been deleted`;
  }
  return undefined;
}

function serviceAccountUserInfo(claims: TokenClaims): UserInfo {
  const ki = claims['kubernetes.io'];
  const extra: Record<string, string[]> = { 'authentication.kubernetes.io/credential-id': [`JTI=${claims.jti}`] };
  if (ki.node) {
    extra['authentication.kubernetes.io/node-name'] = [ki.node.name];
    extra['authentication.kubernetes.io/node-uid'] = [ki.node.uid];
  }
  if (ki.pod) {
    extra['authentication.kubernetes.io/pod-name'] = [ki.pod.name];
    extra['authentication.kubernetes.io/pod-uid'] = [ki.pod.uid];
  }
  return {
    username: serviceAccountUser(ki.namespace, ki.serviceaccount.name),
    uid: ki.serviceaccount.uid,
    groups: [...serviceAccountGroups(ki.namespace), ALL_AUTHENTICATED],
    extra,
  };
}

export const unauthorized = () => new ApiError(401, 'Unauthorized', 'Unauthorized');

/** The authenticated user of a request (before impersonation); 401 for a token that does not authenticate. */
export function authenticate(headers: IncomingHttpHeaders, auth: TokenAuth): UserInfo {
  const header = headers.authorization;
  const m = typeof header === 'string' ? header.match(/^\s*bearer\s+(\S+)\s*$/i) : null;
  if (!m) return UNSECURED;
  const r = userOfToken(m[1], auth);
  if (!('user' in r)) throw unauthorized();
  return r.user;
}

/** One thing a request asks to act as; each must be allowed (verb impersonate) before it is granted. */
export interface ImpersonationTarget {
  resource: 'users' | 'groups' | 'serviceaccounts' | 'uids' | 'userextras';
  group: '' | 'authentication.k8s.io';
  name: string;
  namespace?: string;
  subresource?: string;
}

export interface Impersonation {
  user: UserInfo;
  targets: ImpersonationTarget[];
}

function headerValues(headers: IncomingHttpHeaders, name: string): string[] {
  const v = headers[name];
  if (v === undefined) return [];
  return (Array.isArray(v) ? v : [v]).flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean);
}

/** Reads the Impersonate-* headers (impersonation.go); undefined when there are none. */
export function impersonation(headers: IncomingHttpHeaders): Impersonation | undefined {
  const userHeader = headers['impersonate-user'];
  const username = typeof userHeader === 'string' ? userHeader.trim() : Array.isArray(userHeader) ? userHeader[0]?.trim() ?? '' : '';
  const groups = headerValues(headers, 'impersonate-group');
  const uid = typeof headers['impersonate-uid'] === 'string' ? headers['impersonate-uid'].trim() : '';
  const extra: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(headers)) {
    if (!k.startsWith('impersonate-extra-') || v === undefined) continue;
    extra[decodeURIComponent(k.slice('impersonate-extra-'.length))] = (Array.isArray(v) ? v : [v]).flatMap((s) => s.split(',')).map((s) => s.trim());
  }
  if (!username && !groups.length && !uid && !Object.keys(extra).length) return undefined;
  if (!username) {
    const asked = [...groups.map((g) => `{Group  ${g}}`), ...(uid ? [`{UID ${uid}}`] : [])];
    throw new InternalPlainError(`requested [${asked.join(' ')}] without impersonating a user`);
  }
  const targets: ImpersonationTarget[] = [];
  const sa = splitServiceAccount(username);
  let finalGroups = [...groups];
  if (sa) {
    targets.push({ resource: 'serviceaccounts', group: '', name: sa.name, namespace: sa.namespace });
    // A service account's groups are a fixed mapping when none are asked for.
    if (!groups.length) finalGroups = serviceAccountGroups(sa.namespace);
  } else {
    targets.push({ resource: 'users', group: '', name: username });
  }
  for (const g of groups) targets.push({ resource: 'groups', group: '', name: g });
  if (uid) targets.push({ resource: 'uids', group: 'authentication.k8s.io', name: uid });
  for (const [k, vs] of Object.entries(extra)) for (const v of vs) targets.push({ resource: 'userextras', group: 'authentication.k8s.io', name: v, subresource: k });
  if (username !== ANONYMOUS.username && !finalGroups.includes(ALL_AUTHENTICATED) && !finalGroups.includes(ALL_UNAUTHENTICATED)) {
    finalGroups.push(ALL_AUTHENTICATED);
  }
  const user: UserInfo = { username, groups: finalGroups };
  if (uid) user.uid = uid;
  if (Object.keys(extra).length) user.extra = extra;
  return { user, targets };
}

/** What the API server answers with http.Error: a plain-text 500, not a Status. */
export class InternalPlainError extends Error {
  readonly code = 500;
}
