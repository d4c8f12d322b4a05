// Store-level guards of the new types: Priority admission on pod updates and
// PriorityClass updates, PriorityClass and RBAC binding validation, token
// request checks, and namespace defaults that stop when a namespace goes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../src/common/clock.ts';
import { ObjectStore } from '../../src/sandbox/store.ts';
import { ApiError } from '../../src/sandbox/status.ts';
import { NamespaceController } from '../../src/sandbox/controllers/namespace.ts';
import { NamespaceDefaultsController } from '../../src/sandbox/controllers/namespace-defaults.ts';
import { harness } from './harness.ts';
import { startApiServer } from '../../src/sandbox/server/index.ts';
import { LogBook } from '../../src/sandbox/logs.ts';

const PC = 'scheduling.k8s.io/priorityclasses';

function store(): ObjectStore {
  const s = new ObjectStore({ clock: new ManualClock() });
  s.create('namespaces', { metadata: { name: 'default' } });
  return s;
}

function refused(f: () => unknown, code: number, message: RegExp): void {
  try {
    f();
  } catch (err) {
    assert.ok(err instanceof ApiError, String(err));
    assert.equal(err.code, code);
    assert.match(err.message, message);
    return;
  }
  assert.fail('expected a refusal');
}

const pod = { metadata: { name: 'p', namespace: 'default' }, spec: { containers: [{ name: 'c', image: 'nginx' }] } };

test('a pod update that leaves out the priority keeps it; a class\'s preemptionPolicy must agree', () => {
  const s = store();
  s.create(PC, { metadata: { name: 'batch' }, value: 10, preemptionPolicy: 'Never' });
  const created = s.create('pods', { ...pod, spec: { ...pod.spec, priorityClassName: 'batch' } });
  assert.deepEqual([created.spec.priority, created.spec.preemptionPolicy], [10, 'Never']);
  const { priority: _p, preemptionPolicy: _pp, ...rest } = created.spec;
  const updated = s.update('pods', { ...created, spec: rest });
  assert.deepEqual([updated.spec.priority, updated.spec.preemptionPolicy], [10, 'Never']);
  refused(() => s.create('pods', { metadata: { name: 'q', namespace: 'default' }, spec: { ...pod.spec, priorityClassName: 'batch', preemptionPolicy: 'PreemptLowerPriority' } }), 403,
    /^pods "q" is forbidden: the string value of PreemptionPolicy \(PreemptLowerPriority\) must not be provided in pod spec; priority admission controller computed Never/);
  refused(() => s.create('pods', { metadata: { generateName: 'web-', namespace: 'default' }, spec: { ...pod.spec, priorityClassName: 'gone' } }), 403,
    /^pods "web-" is forbidden: no PriorityClass with name gone was found$/);
});

test('PriorityClasses: one global default, also by update; preemptionPolicy checked and immutable', () => {
  const s = store();
  s.create(PC, { metadata: { name: 'a' }, value: 1, globalDefault: true });
  const b = s.create(PC, { metadata: { name: 'b' }, value: 2 });
  refused(() => s.update(PC, { ...b, globalDefault: true }), 403, /^priorityclasses.scheduling.k8s.io "b" is forbidden: PriorityClass a is already marked as default/);
  const a = s.get(PC, undefined, 'a')!;
  assert.equal(s.update(PC, { ...a, description: 'still the default' }).description, 'still the default', 'the default itself may be updated');
  refused(() => s.create(PC, { metadata: { name: 'c' }, value: 3, preemptionPolicy: 'Sometimes' }), 422, /preemptionPolicy: Unsupported value: "Sometimes": supported values: "Never", "PreemptLowerPriority"/);
  refused(() => s.update(PC, { ...b, preemptionPolicy: 'Never' }), 422, /preemptionPolicy: Invalid value: "Never": field is immutable/);
  refused(() => s.create(PC, { metadata: { name: 'system-node-critical-2' }, value: 2000001000 }), 422, /is not a known system priority class/);
});

test('RBAC bindings: roleRef kinds and groups, subject kinds, a ClusterRoleBinding\'s service accounts need a namespace', () => {
  const s = store();
  const ref = { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' };
  refused(() => s.create('rbac.authorization.k8s.io/clusterrolebindings', { metadata: { name: 'x' }, roleRef: { ...ref, kind: 'Role' }, subjects: [] }), 422,
    /roleRef.kind: Unsupported value: "Role": supported values: "ClusterRole"/);
  refused(() => s.create('rbac.authorization.k8s.io/clusterrolebindings', { metadata: { name: 'x' }, roleRef: ref, subjects: [{ kind: 'ServiceAccount', name: 'bot' }] }), 422,
    /subjects\[0\].namespace: Required value/);
  refused(() => s.create('rbac.authorization.k8s.io/rolebindings', { metadata: { name: 'x', namespace: 'default' }, roleRef: ref, subjects: [{ kind: 'Robot', name: 'r2' }] }), 422,
    /subjects\[0\].kind: Unsupported value: "Robot": supported values: "ServiceAccount", "User", "Group"/);
  const ok = s.create('rbac.authorization.k8s.io/rolebindings', { metadata: { name: 'y', namespace: 'default' }, roleRef: { kind: 'ClusterRole', name: 'view' }, subjects: [{ kind: 'ServiceAccount', name: 'bot' }, { kind: 'Group', name: 'devs' }] });
  assert.deepEqual(ok.roleRef, ref, 'the roleRef API group is defaulted');
  assert.deepEqual(ok.subjects, [{ kind: 'ServiceAccount', name: 'bot' }, { kind: 'Group', name: 'devs', apiGroup: 'rbac.authorization.k8s.io' }]);
});

test('TokenRequest and review requests are checked as the real registries check them', { timeout: 30_000 }, async () => {
  const clock = new ManualClock();
  const s = store();
  s.create('serviceaccounts', { metadata: { name: 'bot', namespace: 'default' } });
  const p = s.create('pods', { metadata: { name: 'p', namespace: 'default' }, spec: { serviceAccountName: 'bot', containers: [{ name: 'c', image: 'nginx' }] } });
  const server = await startApiServer({ store: s, clock, logs: new LogBook(clock) });
  const post = async (path: string, body: unknown) => {
    const r = await fetch(server.url + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { code: r.status, body: (await r.json()) as any };
  };
  try {
    const token = (spec: unknown, meta: Record<string, string> = {}) => post('/api/v1/namespaces/default/serviceaccounts/bot/token', { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', metadata: meta, spec });
    assert.match((await token({ expirationSeconds: 2 ** 32 + 1 })).body.message, /spec.expirationSeconds: Invalid value: 4294967297: may not specify a duration larger than 2\^32 seconds/);
    assert.match((await token({}, { name: 'other' })).body.message, /metadata.name: Invalid value: "other": must match the service account name if specified/);
    const wrongUid = await token({ boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'p', uid: 'not-its-uid' } });
    assert.equal(wrongUid.code, 409);
    assert.match(wrongUid.body.message, /the UID in the bound object reference \(not-its-uid\) does not match the UID in record/);
    const bound = await token({ boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'p', uid: p.metadata.uid } });
    assert.deepEqual([bound.code, bound.body.spec.expirationSeconds, bound.body.spec.audiences], [201, 3600, ['https://kubernetes.default.svc.cluster.local']]);
    assert.match((await token({ boundObjectRef: { kind: 'ConfigMap', apiVersion: 'v1', name: 'x' } })).body.message, /cannot bind token to object of type/);
    const lsar = await post('/apis/authorization.k8s.io/v1/namespaces/default/localsubjectaccessreviews', {
      apiVersion: 'authorization.k8s.io/v1', kind: 'LocalSubjectAccessReview', spec: { user: 'bob', nonResourceAttributes: { path: '/x', verb: 'get' } },
    });
    assert.equal(lsar.code, 422);
    assert.match(lsar.body.message, /spec.nonResourceAttributes: Invalid value: .*: disallowed on this kind of request/);
    const both = await post('/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', {
      apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', spec: { resourceAttributes: { verb: 'get', resource: 'pods' }, nonResourceAttributes: { path: '/x', verb: 'get' } },
    });
    assert.match(both.body.message, /spec.nonResourceAttributes: Invalid value: .*: cannot be specified in combination with resourceAttributes/);
  } finally {
    await server.close();
  }
});

test('a terminating namespace gets no default ServiceAccount or CA again, and goes away', async () => {
  const h = harness({ namespaces: ['shop'] });
  h.run(new NamespaceController(), new NamespaceDefaultsController());
  await h.advance(0);
  assert.ok(h.store.get('serviceaccounts', 'shop', 'default'));
  assert.ok(h.store.get('configmaps', 'shop', 'kube-root-ca.crt'));
  h.store.delete('namespaces', undefined, 'shop');
  await h.advance(20_000);
  assert.equal(h.store.get('namespaces', undefined, 'shop'), undefined, 'the namespace is gone');
  assert.equal(h.store.list('serviceaccounts', 'shop').items.length, 0);
  assert.equal(h.store.list('configmaps', 'shop').items.length, 0);
  h.stop();
});
