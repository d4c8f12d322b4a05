// RBAC rule matching and subject resolution (rbac.go, evaluation_helpers.go),
// service account tokens, and the request attributes RBAC is asked about.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../src/common/clock.ts';
import { authorize, ruleAllows, type Attributes } from '../../src/sandbox/rbac.ts';
import { authenticate, impersonation, userOfToken, type TokenAuth, type UserInfo } from '../../src/sandbox/authn.ts';
import { ObjectStore } from '../../src/sandbox/store.ts';
import { TokenIssuer } from '../../src/sandbox/tokens.ts';
import { requestAttributes } from '../../src/sandbox/server/authz.ts';
import type { Call } from '../../src/sandbox/server/context.ts';

const bob: UserInfo = { username: 'bob', groups: ['system:authenticated'] };
const res = (verb: string, resource: string, extra: Partial<Attributes> = {}): Attributes => ({ user: bob, verb, resourceRequest: true, apiGroup: '', resource, ...extra });

test('a rule matches verb, group, resource (and */subresource), resource name; non-resource URLs with a trailing *', () => {
  const r = { verbs: ['get'], apiGroups: [''], resources: ['pods', 'pods/log'], resourceNames: ['web'] };
  assert.equal(ruleAllows(res('get', 'pods', { name: 'web' }), r), true);
  assert.equal(ruleAllows(res('get', 'pods', { name: 'db' }), r), false, 'another name');
  assert.equal(ruleAllows(res('list', 'pods'), r), false, 'another verb');
  assert.equal(ruleAllows(res('get', 'pods', { name: 'web', subresource: 'log' }), r), true);
  assert.equal(ruleAllows(res('get', 'pods', { name: 'web', subresource: 'exec' }), r), false);
  assert.equal(ruleAllows(res('get', 'pods', { name: 'web', apiGroup: 'apps' }), r), false, 'another group');
  const scale = { verbs: ['*'], apiGroups: ['*'], resources: ['*/scale'] };
  assert.equal(ruleAllows(res('update', 'deployments', { apiGroup: 'apps', subresource: 'scale' }), scale), true);
  assert.equal(ruleAllows(res('update', 'deployments', { apiGroup: 'apps' }), scale), false);
  assert.equal(ruleAllows(res('update', 'deployments', { apiGroup: 'apps', subresource: 'status' }), scale), false);
  const urls = { verbs: ['get'], nonResourceURLs: ['/healthz', '/logs/*'] };
  const path = (p: string): Attributes => ({ user: bob, verb: 'get', resourceRequest: false, path: p });
  assert.equal(ruleAllows(path('/healthz'), urls), true);
  assert.equal(ruleAllows(path('/healthz/etcd'), urls), false);
  assert.equal(ruleAllows(path('/logs/a/b'), urls), true);
  assert.equal(ruleAllows(path('/logsx'), urls), false);
  assert.equal(ruleAllows(res('get', 'healthz'), urls), false, 'URL rules never allow resources');
});

test('bindings: users, groups and service accounts (namespace from the binding), cluster-wide and per namespace', () => {
  const store = new ObjectStore({ clock: new ManualClock() });
  for (const ns of ['a', 'b']) store.create('namespaces', { metadata: { name: ns } });
  store.create('rbac.authorization.k8s.io/clusterroles', { metadata: { name: 'reader' }, rules: [{ verbs: ['get'], apiGroups: [''], resources: ['pods'] }] });
  store.create('rbac.authorization.k8s.io/rolebindings', {
    metadata: { name: 'rb', namespace: 'a' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'reader' },
    subjects: [{ kind: 'ServiceAccount', name: 'bot' }, { kind: 'Group', name: 'devs', apiGroup: 'rbac.authorization.k8s.io' }],
  });
  const sa: UserInfo = { username: 'system:serviceaccount:a:bot', groups: [] };
  const otherSa: UserInfo = { username: 'system:serviceaccount:b:bot', groups: [] };
  const get = (user: UserInfo, namespace: string) => authorize(store, { ...res('get', 'pods', { namespace }), user });
  assert.deepEqual(get(sa, 'a'), { allowed: true, reason: 'RBAC: allowed by RoleBinding "rb/a" of ClusterRole "reader" to ServiceAccount "bot/a"' });
  assert.equal(get(sa, 'b').allowed, false, 'a RoleBinding grants in its namespace only');
  assert.equal(get(otherSa, 'a').allowed, false, 'the subject\'s namespace defaults to the binding\'s');
  assert.equal(get({ username: 'carol', groups: ['devs'] }, 'a').allowed, true);
  assert.equal(get({ username: 'carol', groups: ['ops'] }, 'a').allowed, false);
  assert.deepEqual(get({ username: 'root', groups: ['system:masters'] }, 'b'), { allowed: true, reason: '' }, 'system:masters before RBAC');
});

test('service account tokens: forged or altered ones are refused, a valid one is the account', () => {
  const clock = new ManualClock();
  const store = new ObjectStore({ clock });
  store.create('namespaces', { metadata: { name: 'default' } });
  const sa = store.create('serviceaccounts', { metadata: { name: 'bot', namespace: 'default' } });
  const issuer = new TokenIssuer(clock);
  const auth = (strict = false): TokenAuth => ({ tokens: issuer, store, users: [{ name: 'carol', token: 'carol-token', groups: ['devs'], uid: 'c-1' }], strict });
  const { token } = issuer.issue({ namespace: 'default', serviceAccount: { name: 'bot', uid: sa.metadata.uid! }, audiences: ['https://kubernetes.default.svc.cluster.local'], expirationSeconds: 600 });
  const ok = userOfToken(token, auth());
  assert.ok('user' in ok && ok.user.username === 'system:serviceaccount:default:bot');
  const [h, p, s] = token.split('.');
  const claims = JSON.parse(Buffer.from(p, 'base64url').toString());
  const forged = [h, Buffer.from(JSON.stringify({ ...claims, sub: 'system:serviceaccount:kube-system:admin', 'kubernetes.io': { ...claims['kubernetes.io'], namespace: 'kube-system' } })).toString('base64url'), s].join('.');
  assert.deepEqual(userOfToken(forged, auth()), { error: '[invalid bearer token, square/go-jose: error in cryptographic primitive]' });
  const otherIssuer = new TokenIssuer(clock);
  const foreign = otherIssuer.issue({ namespace: 'default', serviceAccount: { name: 'bot', uid: sa.metadata.uid! }, audiences: ['https://kubernetes.default.svc.cluster.local'], expirationSeconds: 600 }).token;
  assert.ok('error' in userOfToken(foreign, auth()), 'a token signed by another key');
  assert.deepEqual(userOfToken(token, auth(), ['vault']), { error: '[invalid bearer token, token audiences ["https://kubernetes.default.svc.cluster.local"] is invalid for the target audiences ["vault"]]' });
  // With RBAC off, a token nobody issued names a system:masters user; enforced, it authenticates nobody (401), as on a real cluster.
  assert.deepEqual(userOfToken('alice-token', auth()), { user: { username: 'alice-token', groups: ['system:masters', 'system:authenticated'] } });
  assert.deepEqual(userOfToken('alice-token', auth(true)), {});
  assert.deepEqual(userOfToken(token, auth(true)), ok, 'issued tokens hold either way');
});

test('static users: their token is their name, groups (system:authenticated last) and uid; the admin token is system:masters', () => {
  const clock = new ManualClock();
  const store = new ObjectStore({ clock });
  const auth: TokenAuth = { tokens: new TokenIssuer(clock), store, users: [{ name: 'carol', token: 'carol-token', groups: ['devs', 'system:authenticated'], uid: 'c-1' }], strict: true };
  assert.deepEqual(userOfToken('carol-token', auth), { user: { username: 'carol', uid: 'c-1', groups: ['devs', 'system:authenticated'] } });
  assert.deepEqual(userOfToken('kubemend-sandbox-admin', auth), { user: { username: 'kubemend-sandbox-admin', groups: ['system:masters', 'system:authenticated'] } });
  assert.deepEqual(userOfToken('carol-token ', auth), {}, 'tokens are compared whole');
  assert.deepEqual(authenticate({ authorization: 'Bearer carol-token' }, auth).username, 'carol');
  assert.throws(() => authenticate({ authorization: 'Bearer guess' }, auth), (e: any) => e.code === 401 && e.message === 'Unauthorized');
  assert.equal(authenticate({}, auth).username, 'system:unsecured', 'no credentials: the insecure port\'s user, as kubectl over plain HTTP');
});

test('impersonation headers: a service account\'s fixed groups, system:authenticated added, the targets to authorize', () => {
  const sa = impersonation({ 'impersonate-user': 'system:serviceaccount:ns:bot' })!;
  assert.deepEqual(sa.user, { username: 'system:serviceaccount:ns:bot', groups: ['system:serviceaccounts', 'system:serviceaccounts:ns', 'system:authenticated'] });
  assert.deepEqual(sa.targets, [{ resource: 'serviceaccounts', group: '', name: 'bot', namespace: 'ns' }]);
  const user = impersonation({ 'impersonate-user': 'jane', 'impersonate-group': ['devs', 'ops'], 'impersonate-extra-scopes': 'read' })!;
  assert.deepEqual(user.user, { username: 'jane', groups: ['devs', 'ops', 'system:authenticated'], extra: { scopes: ['read'] } });
  assert.deepEqual(user.targets.map((t) => `${t.resource}/${t.name}`), ['users/jane', 'groups/devs', 'groups/ops', 'userextras/read']);
  assert.deepEqual(impersonation({ 'impersonate-user': 'system:anonymous' })!.user.groups, [], 'anonymous gets no system:authenticated');
  assert.equal(impersonation({}), undefined);
});

test('request attributes as RequestInfoFactory reads them', () => {
  const call = (method: string, url: string): Call => {
    const u = new URL(url, 'http://x');
    return { method, path: u.pathname, query: u.searchParams, headers: {}, body: undefined, rawBody: undefined, contentType: '', userAgent: '', user: bob, hijack: () => { throw new Error('internal: no'); } };
  };
  const a = (method: string, url: string) => {
    const { user: _u, ...rest } = requestAttributes(call(method, url), bob);
    return rest;
  };
  assert.deepEqual(a('GET', '/api/v1/namespaces/d/pods'), { verb: 'list', resourceRequest: true, apiGroup: '', apiVersion: 'v1', resource: 'pods', namespace: 'd' });
  assert.deepEqual(a('GET', '/api/v1/namespaces/d/pods?watch=1&fieldSelector=metadata.name%3Dweb'), { verb: 'watch', resourceRequest: true, apiGroup: '', apiVersion: 'v1', resource: 'pods', namespace: 'd', name: 'web' });
  assert.deepEqual(a('DELETE', '/apis/apps/v1/namespaces/d/deployments'), { verb: 'deletecollection', resourceRequest: true, apiGroup: 'apps', apiVersion: 'v1', resource: 'deployments', namespace: 'd' });
  assert.deepEqual(a('PUT', '/apis/apps/v1/namespaces/d/deployments/web/scale'), { verb: 'update', resourceRequest: true, apiGroup: 'apps', apiVersion: 'v1', resource: 'deployments', namespace: 'd', name: 'web', subresource: 'scale' });
  assert.deepEqual(a('GET', '/api/v1/namespaces/d'), { verb: 'get', resourceRequest: true, apiGroup: '', apiVersion: 'v1', resource: 'namespaces', namespace: 'd', name: 'd' });
  assert.deepEqual(a('PUT', '/api/v1/namespaces/d/finalize'), { verb: 'update', resourceRequest: true, apiGroup: '', apiVersion: 'v1', resource: 'namespaces', namespace: 'd', name: 'd', subresource: 'finalize' });
  assert.deepEqual(a('GET', '/api/v1/watch/namespaces/d/pods'), { verb: 'watch', resourceRequest: true, apiGroup: '', apiVersion: 'v1', resource: 'pods', namespace: 'd' });
  assert.deepEqual(a('GET', '/apis/apps/v1'), { verb: 'get', resourceRequest: false, path: '/apis/apps/v1' });
  assert.deepEqual(a('GET', '/healthz'), { verb: 'get', resourceRequest: false, path: '/healthz' });
});
