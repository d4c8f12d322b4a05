// authentication.k8s.io (SelfSubjectReview, TokenReview, TokenRequest),
// authorization.k8s.io (the four access reviews) and rbac.authorization.k8s.io
// (Roles, ClusterRoles and their bindings, evaluated as the RBAC authorizer
// does), and RBAC enforcement when a sandbox is started with it. Driven by
// kubectl 1.32 (`auth whoami`, `auth can-i`, `create token`, `--as`),
// Debian's python3-kubernetes and raw HTTP with bearer tokens.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../src/common/clock.ts';
import { type Cluster, bearer, eventually, skipKubectl, skipPython, startCluster } from './cluster.ts';

const skip = skipKubectl;
const skipPy = skipPython();

const claims = (token: string) => JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8'));
const whoami = (c: Cluster, headers: Record<string, string> = {}) =>
  c.http('POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' }, headers);

describe('authentication.k8s.io: who a request is, and service account tokens', { skip, timeout: 120_000 }, () => {
  let c: Cluster;
  let clock: ManualClock;
  before(async () => {
    clock = new ManualClock(Date.UTC(2026, 0, 1));
    c = await startCluster({ clock });
    await clock.advance(1000); // the service account controller makes `default` in each namespace
  });
  after(() => c.stop());

  it('serves the review resources and serviceaccounts/token in discovery with the real verbs', async () => {
    const authn = (await c.http('GET', '/apis/authentication.k8s.io/v1')).body.resources;
    assert.deepEqual(authn.map((r: any) => [r.name, r.kind, r.namespaced, r.verbs]), [
      ['selfsubjectreviews', 'SelfSubjectReview', false, ['create']],
      ['tokenreviews', 'TokenReview', false, ['create']],
    ]);
    const core = (await c.http('GET', '/api/v1')).body.resources;
    const token = core.find((r: any) => r.name === 'serviceaccounts/token');
    assert.deepEqual([token.group, token.version, token.kind, token.verbs], ['authentication.k8s.io', 'v1', 'TokenRequest', ['create']]);
    assert.deepEqual(core.find((r: any) => r.name === 'serviceaccounts').shortNames, ['sa']);
    // Only POST: a review is answered, never stored.
    assert.equal((await c.http('GET', '/apis/authentication.k8s.io/v1/tokenreviews')).code, 405);
    const agg = (await c.http('GET', '/apis', undefined, { accept: 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList' })).body;
    const names = agg.items.map((g: any) => g.metadata.name);
    assert.ok(names.indexOf('events.k8s.io') < names.indexOf('authentication.k8s.io') && names.indexOf('authorization.k8s.io') < names.indexOf('autoscaling')
      && names.indexOf('rbac.authorization.k8s.io') < names.indexOf('scheduling.k8s.io'), `kube-apiserver's group order: ${names.join(' ')}`);
    const reviews = agg.items.find((g: any) => g.metadata.name === 'authentication.k8s.io').versions[0].resources;
    assert.deepEqual(reviews.map((r: any) => [r.resource, r.scope, r.verbs]), [['selfsubjectreviews', 'Cluster', ['create']], ['tokenreviews', 'Cluster', ['create']]]);
    const legacy = (await c.http('GET', '/api', undefined, { accept: 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList' })).body;
    const sas = legacy.items[0].versions[0].resources.find((r: any) => r.resource === 'serviceaccounts');
    assert.deepEqual(sas.subresources, [{ subresource: 'token', responseKind: { group: 'authentication.k8s.io', version: 'v1', kind: 'TokenRequest' }, verbs: ['create'] }]);
  });

  it('kubectl auth whoami: kubectl sends no credentials over plain HTTP, so it is system:unsecured; --as impersonates', async () => {
    assert.match(await c.kubectl('auth', 'whoami'), /Username\s+system:unsecured\nGroups\s+\[system:masters system:authenticated\]/);
    assert.match(await c.kubectl('auth', 'whoami', '--as=jane', '--as-group=devs'), /Username\s+jane\nGroups\s+\[devs system:authenticated\]/);
    assert.match(await c.kubectl('auth', 'whoami', '--as=system:serviceaccount:kube-system:default'),
      /Username\s+system:serviceaccount:kube-system:default\nGroups\s+\[system:serviceaccounts system:serviceaccounts:kube-system system:authenticated\]/);
  });

  it('a bearer token the sandbox did not issue is the user it names (the kubeconfig token is kubemend-sandbox-admin)', async () => {
    const r = await whoami(c, bearer('kubemend-sandbox-admin'));
    assert.equal(r.code, 201);
    assert.deepEqual(r.body, {
      kind: 'SelfSubjectReview', apiVersion: 'authentication.k8s.io/v1', metadata: { creationTimestamp: null },
      status: { userInfo: { username: 'kubemend-sandbox-admin', groups: ['system:masters', 'system:authenticated'] } },
    });
  });

  it('kubectl create token: a signed JWT for the service account, which authenticates as it until it expires', async () => {
    const token = (await c.kubectl('create', 'token', 'default', '--duration=15m')).trim();
    const sa = JSON.parse(await c.kubectl('get', 'sa', 'default', '-o', 'json'));
    const cl = claims(token);
    assert.deepEqual(Object.keys(cl), ['aud', 'exp', 'iat', 'iss', 'jti', 'kubernetes.io', 'nbf', 'sub']);
    assert.deepEqual(cl.aud, ['https://kubernetes.default.svc.cluster.local']);
    assert.equal(cl.iss, 'https://kubernetes.default.svc.cluster.local');
    assert.equal(cl.sub, 'system:serviceaccount:default:default');
    assert.deepEqual(cl['kubernetes.io'], { namespace: 'default', serviceaccount: { name: 'default', uid: sa.metadata.uid } });
    assert.equal(cl.exp - cl.iat, 900);
    assert.equal(JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString()).alg, 'RS256');
    const me = await whoami(c, bearer(token));
    assert.deepEqual(me.body.status.userInfo, {
      username: 'system:serviceaccount:default:default', uid: sa.metadata.uid,
      groups: ['system:serviceaccounts', 'system:serviceaccounts:default', 'system:authenticated'],
      extra: { 'authentication.kubernetes.io/credential-id': [`JTI=${cl.jti}`] },
    });
    await clock.advance(16 * 60_000);
    const late = await whoami(c, bearer(token));
    assert.equal(late.code, 401);
    assert.deepEqual(late.body, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'Unauthorized', reason: 'Unauthorized', code: 401 });
  });

  it('refuses a token shorter than ten minutes, for a missing account, or bound to a pod of another account', async () => {
    assert.match(await c.kubectlFails('create', 'token', 'default', '--duration=5m'), /spec.expirationSeconds: Invalid value: 300: may not specify a duration less than 10 minutes/);
    assert.match(await c.kubectlFails('create', 'token', 'nobody'), /serviceaccounts "nobody" not found/);
    await c.kubectl('create', 'serviceaccount', 'runner');
    await c.kubectl('run', 'p', '--image=nginx', '--overrides={"spec":{"serviceAccountName":"runner"}}');
    assert.match(await c.kubectlFails('create', 'token', 'default', '--bound-object-kind=Pod', '--bound-object-name=p'),
      /cannot bind token for serviceaccount "default" to pod running with different serviceaccount name/);
  });

  it('a token bound to a pod, or of a deleted account, stops authenticating; TokenReview says why', { skip: skipPy }, async () => {
    const bound = (await c.kubectl('create', 'token', 'runner', '--bound-object-kind=Pod', '--bound-object-name=p')).trim();
    const pod = JSON.parse(await c.kubectl('get', 'pod', 'p', '-o', 'json'));
    assert.deepEqual(claims(bound)['kubernetes.io'].pod, { name: 'p', uid: pod.metadata.uid });
    const review = (token: string) => c.python(`
r = client.AuthenticationV1Api().create_token_review(client.V1TokenReview(spec=client.V1TokenReviewSpec(token=${JSON.stringify(token)})))
s = r.status
print(json.dumps({'authenticated': s.authenticated, 'user': s.user.username if s.user else None, 'extra': s.user.extra if s.user else None, 'audiences': s.audiences, 'error': s.error}))
`);
    const ok = await review(bound);
    assert.equal(ok.authenticated, true);
    assert.equal(ok.user, 'system:serviceaccount:default:runner');
    assert.deepEqual(ok.extra['authentication.kubernetes.io/pod-name'], ['p']);
    assert.deepEqual(ok.audiences, ['https://kubernetes.default.svc.cluster.local']);
    await c.kubectl('delete', 'pod', 'p', '--grace-period=0', '--force');
    const gone = await review(bound);
    assert.equal(gone.authenticated, null);
    assert.match(gone.error, /^\[invalid bearer token, pods "p" not found\]$/);
    assert.equal((await whoami(c, bearer(bound))).code, 401);

    const plain = (await c.kubectl('create', 'token', 'runner')).trim();
    assert.equal((await whoami(c, bearer(plain))).code, 201);
    await c.kubectl('delete', 'sa', 'runner');
    assert.match((await review(plain)).error, /serviceaccounts "runner" not found/);
  });
});

describe('authorization.k8s.io: access reviews answered by RBAC', { skip, timeout: 120_000 }, () => {
  let c: Cluster;
  const canI = async (...args: string[]) => {
    const r = await c.kubectlResult('auth', 'can-i', ...args);
    return r.stdout.trim();
  };
  before(async () => {
    c = await startCluster();
    await c.kubectl('create', 'namespace', 'team');
  });
  after(() => c.stop());

  it('serves the four reviews and the RBAC types in discovery', async () => {
    const authz = (await c.http('GET', '/apis/authorization.k8s.io/v1')).body.resources;
    assert.deepEqual(authz.map((r: any) => [r.name, r.namespaced, r.verbs]), [
      ['localsubjectaccessreviews', true, ['create']],
      ['selfsubjectaccessreviews', false, ['create']],
      ['selfsubjectrulesreviews', false, ['create']],
      ['subjectaccessreviews', false, ['create']],
    ]);
    const rbac = (await c.http('GET', '/apis/rbac.authorization.k8s.io/v1')).body.resources;
    assert.deepEqual(rbac.map((r: any) => [r.name, r.namespaced, r.verbs.length]).sort(), [
      ['clusterrolebindings', false, 8], ['clusterroles', false, 8], ['rolebindings', true, 8], ['roles', true, 8],
    ]);
    assert.match(await c.kubectl('get', 'clusterroles'), /cluster-admin[\s\S]*system:basic-user[\s\S]*view/);
  });

  it('kubectl auth can-i: system:masters may; another user may what their bindings allow, no more', async () => {
    assert.equal(await canI('delete', 'nodes'), 'yes');
    assert.equal(await canI('list', 'pods', '-n', 'team', '--as=bob'), 'no');
    await c.kubectl('create', 'role', 'reader', '-n', 'team', '--verb=get,list,watch', '--resource=pods,pods/log');
    await c.kubectl('create', 'rolebinding', 'bob-reads', '-n', 'team', '--role=reader', '--user=bob');
    assert.equal(await canI('list', 'pods', '-n', 'team', '--as=bob'), 'yes');
    assert.equal(await canI('get', 'pods', '--subresource=log', '-n', 'team', '--as=bob'), 'yes');
    assert.equal(await canI('delete', 'pods', '-n', 'team', '--as=bob'), 'no');
    assert.equal(await canI('list', 'pods', '-n', 'default', '--as=bob'), 'no', 'a RoleBinding grants only in its namespace');
    assert.equal(await canI('get', 'pods', '--subresource=exec', '-n', 'team', '--as=bob'), 'no');
  });

  it('matches resource names, */subresource, groups, service accounts and non-resource URLs', async () => {
    await c.kubectl('create', 'role', 'one-config', '-n', 'team', '--verb=get', '--resource=configmaps', '--resource-name=app-config');
    await c.kubectl('create', 'rolebinding', 'one-config', '-n', 'team', '--role=one-config', '--group=devs');
    assert.equal(await canI('get', 'configmaps/app-config', '-n', 'team', '--as=carol', '--as-group=devs'), 'yes');
    assert.equal(await canI('get', 'configmaps/other', '-n', 'team', '--as=carol', '--as-group=devs'), 'no');
    const scaler = await c.http('POST', '/apis/rbac.authorization.k8s.io/v1/clusterroles', {
      apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'scaler' },
      rules: [{ apiGroups: ['*'], resources: ['*/scale'], verbs: ['update', 'patch'] }, { nonResourceURLs: ['/logs/*'], verbs: ['get'] }],
    });
    assert.equal(scaler.code, 201, scaler.text);
    await c.kubectl('create', 'clusterrolebinding', 'scaler', '--clusterrole=scaler', '--serviceaccount=team:autoscaler');
    const sa = '--as=system:serviceaccount:team:autoscaler';
    assert.equal(await canI('update', 'deployments.apps', '--subresource=scale', '-n', 'team', sa), 'yes');
    assert.equal(await canI('update', 'deployments.apps', '-n', 'team', sa), 'no');
    assert.equal(await canI('get', '/logs/kube-apiserver.log', sa), 'yes');
    assert.equal(await canI('get', '/metrics', sa), 'no');
    assert.equal(await canI('get', '/healthz', '--as=nobody'), 'yes', 'system:public-info-viewer is every authenticated user\'s');
    assert.equal(await canI('create', 'selfsubjectaccessreviews.authorization.k8s.io', '--as=nobody'), 'yes', 'system:basic-user');
  });

  it('kubectl auth can-i --list shows the rules that apply (SelfSubjectRulesReview)', async () => {
    const out = await c.kubectl('auth', 'can-i', '--list', '-n', 'team', '--as=bob');
    assert.match(out, /^Resources\s+Non-Resource URLs\s+Resource Names\s+Verbs/);
    assert.match(out, /pods\/log\s+\[\]\s+\[\]\s+\[get list watch\]/);
    assert.match(out, /selfsubjectaccessreviews.authorization.k8s.io\s+\[\]\s+\[\]\s+\[create\]/);
    assert.match(out, /\s+\[\/healthz\]\s+\[\]\s+\[get\]/);
    const none = await c.http('POST', '/apis/authorization.k8s.io/v1/selfsubjectrulesreviews', { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectRulesReview', spec: {} });
    assert.deepEqual([none.code, none.body.message], [400, 'no namespace on request']);
  });

  it('SubjectAccessReview and LocalSubjectAccessReview name the binding that allows, and are validated', { skip: skipPy }, async () => {
    const out = await c.python(`
api = client.AuthorizationV1Api()
spec = client.V1SubjectAccessReviewSpec(user='bob', resource_attributes=client.V1ResourceAttributes(namespace='team', verb='list', resource='pods'))
r = api.create_subject_access_review(client.V1SubjectAccessReview(spec=spec))
l = api.create_namespaced_local_subject_access_review('team', client.V1LocalSubjectAccessReview(metadata=client.V1ObjectMeta(namespace='team'), spec=client.V1SubjectAccessReviewSpec(user='bob', resource_attributes=client.V1ResourceAttributes(namespace='team', verb='delete', resource='pods'))))
try:
  api.create_subject_access_review(client.V1SubjectAccessReview(spec=client.V1SubjectAccessReviewSpec(resource_attributes=client.V1ResourceAttributes(verb='get', resource='pods'))))
  bad = None
except ApiException as e:
  bad = [e.status, json.loads(e.body)['details']['causes'][0]]
print(json.dumps({'allowed': r.status.allowed, 'reason': r.status.reason, 'local': l.status.allowed, 'bad': bad}))
`);
    assert.deepEqual(out, {
      allowed: true,
      reason: 'RBAC: allowed by RoleBinding "bob-reads/team" of Role "reader" to User "bob"',
      local: false,
      bad: [422, { reason: 'FieldValueInvalid', message: 'Invalid value: "": at least one of user or group must be specified', field: 'spec.user' }],
    });
    const mismatch = await c.http('POST', '/apis/authorization.k8s.io/v1/namespaces/team/localsubjectaccessreviews', {
      apiVersion: 'authorization.k8s.io/v1', kind: 'LocalSubjectAccessReview', spec: { user: 'bob', resourceAttributes: { namespace: 'default', verb: 'get', resource: 'pods' } },
    });
    assert.equal(mismatch.code, 422);
    assert.match(mismatch.body.message, /spec.resourceAttributes.namespace: Invalid value: "default": must match metadata.namespace/);
  });

  it('a binding to a missing role allows nothing and says so', async () => {
    await c.kubectl('create', 'rolebinding', 'dangling', '-n', 'team', '--clusterrole=does-not-exist', '--user=dave');
    const r = await c.http('POST', '/apis/authorization.k8s.io/v1/subjectaccessreviews', {
      apiVersion: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview', spec: { user: 'dave', resourceAttributes: { namespace: 'team', verb: 'get', resource: 'pods' } },
    });
    assert.deepEqual(r.body.status, {
      allowed: false,
      reason: 'RBAC: clusterrole.rbac.authorization.k8s.io "does-not-exist" not found',
      evaluationError: 'RBAC: clusterrole.rbac.authorization.k8s.io "does-not-exist" not found',
    });
  });

  it('validates RBAC objects as the API server does (422), and roleRef is immutable', async () => {
    const bad = await c.http('POST', '/apis/rbac.authorization.k8s.io/v1/namespaces/team/roles', {
      apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'bad' }, rules: [{ resources: ['pods'] }, { nonResourceURLs: ['/x'], verbs: ['get'] }],
    });
    assert.equal(bad.code, 422);
    assert.deepEqual(bad.body.details.causes.map((x: any) => `${x.field}: ${x.message}`), [
      'rules[0].verbs: Required value: verbs must contain at least one value',
      'rules[0].apiGroups: Required value: resource rules must supply at least one api group',
      'rules[1].nonResourceURLs: Invalid value: []string{"/x"}: namespaced rules cannot apply to non-resource URLs',
    ]);
    const rb = JSON.parse(await c.kubectl('get', 'rolebinding', 'bob-reads', '-n', 'team', '-o', 'json'));
    assert.deepEqual(rb.subjects, [{ kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: 'bob' }]);
    rb.roleRef.name = 'one-config';
    const put = await c.http('PUT', '/apis/rbac.authorization.k8s.io/v1/namespaces/team/rolebindings/bob-reads', rb);
    assert.equal(put.code, 422);
    assert.match(put.body.message, /roleRef: Invalid value: rbac.RoleRef\{APIGroup:"rbac.authorization.k8s.io", Kind:"Role", Name:"one-config"\}: cannot change roleRef/);
  });
});

describe('RBAC enforcement (new Sandbox({ rbac: "enforce" }))', { skip, timeout: 120_000 }, () => {
  let c: Cluster;
  let token = '';
  before(async () => {
    c = await startCluster({ rbac: 'enforce', users: [{ name: 'carol', token: 'carol-token', groups: ['shop'] }] });
    await c.kubectl('create', 'serviceaccount', 'reader');
    token = (await c.kubectl('create', 'token', 'reader')).trim();
  });
  after(() => c.stop());

  it('kubectl (system:masters) may do anything; impersonating a user is held to that user\'s RBAC', async () => {
    assert.match(await c.kubectl('get', 'pods'), /^$|No resources/);
    const err = await c.kubectlFails('get', 'pods', '--as=bob');
    assert.match(err, /Error from server \(Forbidden\): pods is forbidden: User "bob" cannot list resource "pods" in API group "" in the namespace "default"/);
  });

  it('a service account token is refused what no binding grants (403 as the real authorizer words it) and allowed once bound', async () => {
    const list = await c.http('GET', '/api/v1/namespaces/default/pods', undefined, bearer(token));
    assert.equal(list.code, 403);
    assert.deepEqual(list.body, {
      kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure',
      message: 'pods is forbidden: User "system:serviceaccount:default:reader" cannot list resource "pods" in API group "" in the namespace "default"',
      reason: 'Forbidden', details: { kind: 'pods' }, code: 403,
    });
    await c.kubectl('create', 'rolebinding', 'reader-view', '--clusterrole=view', '--serviceaccount=default:reader');
    assert.equal((await c.http('GET', '/api/v1/namespaces/default/pods', undefined, bearer(token))).code, 200);
    assert.equal((await c.http('GET', '/api/v1/namespaces/default', undefined, bearer(token))).code, 200, 'view grants its namespace through the RoleBinding there');
    const write = await c.http('POST', '/apis/apps/v1/namespaces/default/deployments', { metadata: { name: 'x' } }, bearer(token));
    assert.equal(write.code, 403);
    assert.equal(write.body.message, 'deployments.apps is forbidden: User "system:serviceaccount:default:reader" cannot create resource "deployments" in API group "apps" in the namespace "default"');
    const secret = await c.http('GET', '/api/v1/namespaces/default/secrets/s', undefined, bearer(token));
    assert.deepEqual([secret.code, secret.body.details], [403, { name: 's', kind: 'secrets' }]);
  });

  it('discovery is every authenticated user\'s; other paths and impersonation need a grant', async () => {
    assert.equal((await c.http('GET', '/apis', undefined, bearer(token))).code, 200);
    const metrics = await c.http('GET', '/metrics', undefined, bearer(token));
    assert.deepEqual([metrics.code, metrics.body.message], [403, 'forbidden: User "system:serviceaccount:default:reader" cannot get path "/metrics"']);
    const imp = await c.http('GET', '/api/v1/namespaces/default/pods', undefined, { ...bearer(token), 'Impersonate-User': 'alice' });
    assert.equal(imp.code, 403);
    assert.equal(imp.body.message, 'users "alice" is forbidden: User "system:serviceaccount:default:reader" cannot impersonate resource "users" in API group "" at the cluster scope');
    // Allowed to impersonate users but not groups: alice alone passes (and is then held to her own RBAC), alice in devs does not.
    await c.kubectl('create', 'clusterrole', 'impersonate-users', '--verb=impersonate', '--resource=users');
    await c.kubectl('create', 'clusterrolebinding', 'reader-impersonates', '--clusterrole=impersonate-users', '--serviceaccount=default:reader');
    const asAlice = await c.http('GET', '/api/v1/namespaces/default/pods', undefined, { ...bearer(token), 'Impersonate-User': 'alice' });
    assert.deepEqual([asAlice.code, asAlice.body.message], [403, 'pods is forbidden: User "alice" cannot list resource "pods" in API group "" in the namespace "default"']);
    const inDevs = await c.http('GET', '/api/v1/namespaces/default/pods', undefined, { ...bearer(token), 'Impersonate-User': 'alice', 'Impersonate-Group': 'devs' });
    assert.equal(inDevs.body.message, 'groups "devs" is forbidden: User "system:serviceaccount:default:reader" cannot impersonate resource "groups" in API group "" at the cluster scope');
  });

  it('a token nobody issued is 401 Unauthorized, as kube-apiserver answers; TokenReview says it authenticates nobody', async () => {
    const r = await c.http('GET', '/api/v1/namespaces/default/pods', undefined, bearer('made-up'));
    assert.equal(r.code, 401);
    assert.deepEqual(r.body, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'Unauthorized', reason: 'Unauthorized', code: 401 });
    const review = await c.http('POST', '/apis/authentication.k8s.io/v1/tokenreviews', { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token: 'made-up' } });
    assert.deepEqual(review.body.status, { user: {} });
    assert.equal((await c.http('GET', '/version', undefined, bearer('kubemend-sandbox-admin'))).code, 200, 'the kubeconfig\'s admin token still works');
  });

  it('a static user (token file) is its name and groups; RBAC holds it to what its groups are bound to', async () => {
    const me = await c.http('POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' }, bearer('carol-token'));
    assert.deepEqual(me.body.status.userInfo, { username: 'carol', groups: ['shop', 'system:authenticated'] });
    await c.kubectl('create', 'namespace', 'shop');
    const denied = await c.http('GET', '/apis/apps/v1/namespaces/shop/deployments', undefined, bearer('carol-token'));
    assert.deepEqual([denied.code, denied.body.message], [403, 'deployments.apps is forbidden: User "carol" cannot list resource "deployments" in API group "apps" in the namespace "shop"']);
    await c.kubectl('create', 'rolebinding', 'shop-view', '-n', 'shop', '--clusterrole=view', '--group=shop');
    assert.equal((await c.http('GET', '/apis/apps/v1/namespaces/shop/deployments', undefined, bearer('carol-token'))).code, 200);
    const scale = await c.http('PATCH', '/apis/apps/v1/namespaces/shop/deployments/web/scale', { spec: { replicas: 2 } }, { ...bearer('carol-token'), 'content-type': 'application/merge-patch+json' });
    assert.deepEqual([scale.code, scale.body.message, scale.body.details], [403,
      'deployments.apps "web" is forbidden: User "carol" cannot patch resource "deployments/scale" in API group "apps" in the namespace "shop"',
      { name: 'web', group: 'apps', kind: 'deployments' }]);
    assert.equal((await c.kubectlResult('auth', 'can-i', 'list', 'deployments.apps', '-n', 'shop', '--as=carol', '--as-group=shop')).stdout.trim(), 'yes');
    assert.equal((await c.kubectlResult('auth', 'can-i', 'patch', 'deployments.apps', '--subresource=scale', '-n', 'shop', '--as=carol', '--as-group=shop')).stdout.trim(), 'no');
  });

  it('a ClusterRole labelled aggregate-to-view is aggregated into view, so those bound to view may use it (the aggregation controller)', async () => {
    await c.kubectl('create', 'clusterrolebinding', 'dan-view', '--clusterrole=view', '--user=dan');
    assert.equal((await c.kubectlResult('auth', 'can-i', 'list', 'nodes', '--as=dan')).stdout.trim(), 'no');
    const role = c.file('nodes-view.yaml', [
      'apiVersion: rbac.authorization.k8s.io/v1', 'kind: ClusterRole',
      'metadata: { name: nodes-view, labels: { rbac.authorization.k8s.io/aggregate-to-view: "true" } }',
      'rules: [{ apiGroups: [""], resources: [nodes], verbs: [get, list, watch] }]', '',
    ].join('\n'));
    await c.kubectl('apply', '-f', role);
    await eventually(async () => (await c.kubectlResult('auth', 'can-i', 'list', 'nodes', '--as=dan')).stdout.trim() === 'yes', 'view to aggregate the nodes rule');
    assert.equal((await c.kubectlResult('auth', 'can-i', 'delete', 'nodes', '--as=dan')).stdout.trim(), 'no');
    await eventually(async () => JSON.parse(await c.kubectl('get', 'clusterrole', 'admin', '-o', 'json')).rules.some((r: any) => r.resources?.includes('nodes')), 'view → edit → admin');
    const admin = JSON.parse(await c.kubectl('get', 'clusterrole', 'admin', '-o', 'json'));
    assert.deepEqual(admin.aggregationRule, { clusterRoleSelectors: [{ matchLabels: { 'rbac.authorization.k8s.io/aggregate-to-admin': 'true' } }] });
    assert.match(await c.kubectl('auth', 'can-i', '--list', '--as=dan'), /^nodes\s+\[\]\s+\[\]\s+\[get list watch\]/m);
    await c.kubectl('label', 'clusterrole', 'nodes-view', 'rbac.authorization.k8s.io/aggregate-to-view-');
    await eventually(async () => (await c.kubectlResult('auth', 'can-i', 'list', 'nodes', '--as=dan')).stdout.trim() === 'no', 'the rule to leave view with the label');
  });

  it('the Python client with a service account token gets the 403 as an ApiException', { skip: skipPy }, async () => {
    const out = await c.python(`
cfg = client.Configuration.get_default_copy()
cfg.api_key = {'authorization': 'Bearer ' + ${JSON.stringify(token)}}
api = client.CoreV1Api(client.ApiClient(cfg))
pods = len(api.list_namespaced_pod('default').items)
try:
  api.list_node()
  nodes = 'allowed'
except ApiException as e:
  nodes = [e.status, json.loads(e.body)['message']]
print(json.dumps({'pods': pods, 'nodes': nodes}))
`);
    assert.deepEqual(out, { pods: 0, nodes: [403, 'nodes is forbidden: User "system:serviceaccount:default:reader" cannot list resource "nodes" in API group "" at the cluster scope'] });
  });
});

describe('RBAC is not enforced by default', { skip, timeout: 60_000 }, () => {
  it('an impersonated user without bindings is served (and recorded), while can-i answers from RBAC', async () => {
    const c = await startCluster();
    try {
      const r = await c.http('GET', '/api/v1/namespaces/default/pods', undefined, { 'Impersonate-User': 'bob' });
      assert.equal(r.code, 200);
      assert.equal(c.sandbox.api!.requestLog.at(-1)!.user, 'bob');
      assert.equal((await c.kubectlResult('auth', 'can-i', 'list', 'pods', '--as=bob')).stdout.trim(), 'no');
      const groupsOnly = await c.http('GET', '/api/v1/namespaces/default/pods', undefined, { 'Impersonate-Group': 'devs' });
      assert.equal(groupsOnly.code, 500, 'groups without a user: the impersonation filter\'s plain-text error');
      assert.match(groupsOnly.text, /^Internal Server Error: "\/api\/v1\/namespaces\/default\/pods": requested \[\{Group  devs\}\] without impersonating a user/);
    } finally {
      await c.stop();
    }
  });
});
