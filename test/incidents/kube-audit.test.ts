// The API server's audit events in the change feed: only completed,
// successful writes are kept, bounded; a change gets the user of the write
// that matches it by object, verb and time, and one write names one change.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../src/common/clock.ts';
import { stripBulk } from '../../src/kube/transform.ts';
import type { KubeObject } from '../../src/kube/types.ts';
import { KubeAuditTrail, checkEventList } from '../../src/incidents/kube-audit.ts';
import { ChangeFeed } from '../../src/incidents/change-feed.ts';
import { auditEvent, eventList, setImageBatch } from '../helpers/kube-audit.ts';

const T0 = Date.UTC(2026, 0, 1);
const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');

function deployment(image: string, managers: [string, number][]): KubeObject {
  return stripBulk({
    apiVersion: 'apps/v1', kind: 'Deployment',
    metadata: { name: 'checkout', namespace: 'shop', creationTimestamp: iso(T0 - 3_600_000), managedFields: managers.map(([manager, at]) => ({ manager, operation: 'Update', time: iso(at), fieldsType: 'FieldsV1', fieldsV1: {} })) },
    spec: { template: { spec: { containers: [{ name: 'checkout', image }] } } },
  });
}

const setImage = (at: number, seen = at + 400) => ({
  source: 'object' as const, cluster: 'prod', time: seen, operation: 'update' as const,
  oldObject: deployment('shop/checkout:1.4.2', [['argocd-controller', T0]]),
  object: deployment('shop/checkout:1.5.0', [['argocd-controller', T0], ['kubectl-set', Math.floor(at / 1000) * 1000]]),
});

test('only completed, successful writes of an object are kept; a resent batch once', { timeout: 10_000 }, () => {
  const clock = new ManualClock(T0);
  const trail = new KubeAuditTrail({ clock });
  assert.deepEqual(trail.add('prod', setImageBatch(T0 + 60_250)), { kept: 2, ignored: 4 }, 'the patch and the pod creation; not RequestReceived, the get, the status write or the 409');
  assert.deepEqual(trail.add('prod', setImageBatch(T0 + 60_250)), { kept: 0, ignored: 6 });
  const received = auditEvent({ id: 'rr', at: T0, verb: 'patch', user: 'u', resource: 'deployments', apiGroup: 'apps', namespace: 'shop', name: 'cart', stage: 'RequestReceived' });
  assert.deepEqual(trail.add('prod', [null, 'x', { stage: 'ResponseComplete', verb: 'patch' }, auditEvent({ id: 'e', at: T0, verb: 'patch', user: '', resource: 'deployments' }), received]), { kept: 0, ignored: 5 }, 'a request only received may still fail');
  assert.equal(trail.size, 2);
});

test('a change gets the user of its write; an audit batch that arrives later fills it in', { timeout: 10_000 }, () => {
  const clock = new ManualClock(T0);
  const trail = new KubeAuditTrail({ clock });
  const feed = new ChangeFeed({ audit: trail });
  const change = feed.observe(setImage(T0 + 60_250))!;
  assert.equal(change.author?.user, undefined, 'the watch is faster than the audit batch');
  assert.equal(change.outsidePipeline, true);
  trail.add('prod', setImageBatch(T0 + 60_250));
  const [e] = feed.entries();
  assert.deepEqual(e.author, { manager: 'kubectl-set', operation: 'Update', time: T0 + 60_000, user: 'alice@example.com', from: 'managedFields' });
  // One write names one change: a second change of the same object in that second finds nothing left.
  const twin = feed.observe(setImage(T0 + 60_700))!;
  assert.equal(twin.author?.user, undefined);
});

test('matching: the same cluster, object and writer, a compatible verb, within the tolerance', { timeout: 10_000 }, () => {
  const clock = new ManualClock(T0);
  const trail = new KubeAuditTrail({ clock, toleranceMs: 2000 });
  const d = { resource: 'deployments', apiGroup: 'apps', namespace: 'shop', name: 'checkout' };
  trail.add('prod', [
    auditEvent({ id: 'far', at: T0 + 64_000, verb: 'patch', user: 'late@example.com', fieldManager: 'kubectl-set', ...d }),
    auditEvent({ id: 'del', at: T0 + 60_100, verb: 'delete', user: 'dave@example.com', ...d }),
    auditEvent({ id: 'ci', at: T0 + 60_050, verb: 'patch', user: 'system:serviceaccount:ci:deployer', fieldManager: 'helm', ...d }),
    auditEvent({ id: 'imp', at: T0 + 60_300, verb: 'update', user: 'erin@example.com', impersonate: 'system:serviceaccount:shop:admin', userAgent: 'kubectl/v1.32.0 (linux/amd64)', ...d }),
  ]);
  const q = { cluster: 'prod', kind: 'Deployment', namespace: 'shop', name: 'checkout', operation: 'update' as const, time: T0 + 60_400, writtenAt: T0 + 60_000 };
  assert.equal(trail.match({ ...q, cluster: 'staging' }), undefined, 'another cluster');
  assert.equal(trail.match({ ...q, name: 'cart' }), undefined, 'another object');
  assert.equal(trail.match({ ...q, operation: 'create', manager: 'kubectl-client-side-apply' }), undefined, 'writes by other tools a moment later are not the creation (kubectl apply, then kubectl set image)');
  assert.equal(trail.match({ ...q, manager: 'helm' })?.auditID, 'ci', 'the manager managedFields name wins over a closer write');
  const imp = trail.match(q);
  assert.deepEqual([imp?.auditID, imp?.user, imp?.impersonated, imp?.manager], ['imp', 'erin@example.com', 'system:serviceaccount:shop:admin', 'kubectl'], 'then the closest not claimed yet');
  assert.equal(trail.match(q), undefined, 'the write 4s later is outside the 2s tolerance');
  assert.equal(trail.match({ ...q, operation: 'delete', writtenAt: undefined })?.user, 'dave@example.com', 'a deletion matches a delete');
});

test('a deletion is attributed from the audit event alone, flagged by the tool it used', { timeout: 10_000 }, () => {
  const clock = new ManualClock(T0);
  const trail = new KubeAuditTrail({ clock });
  const feed = new ChangeFeed({ audit: trail });
  trail.add('prod', [auditEvent({ id: 'rm', at: T0 + 90_000, verb: 'delete', user: 'carol@example.com', resource: 'configmaps', namespace: 'shop', name: 'flags' })]);
  const gone = feed.observe({ source: 'object', cluster: 'prod', time: T0 + 90_200, operation: 'delete', object: { kind: 'ConfigMap', metadata: { name: 'flags', namespace: 'shop' }, data: { a: '1' } } })!;
  assert.deepEqual(gone.author, { manager: 'kubectl', time: T0 + 90_000, user: 'carol@example.com', from: 'audit' });
  assert.equal(gone.outsidePipeline, true);
  trail.add('prod', [auditEvent({ id: 'anon', at: T0 + 95_000, verb: 'delete', user: 'frank@example.com', userAgent: '', resource: 'configmaps', namespace: 'shop', name: 'flags2' })]);
  const who = feed.observe({ source: 'object', cluster: 'prod', time: T0 + 95_100, operation: 'delete', object: { kind: 'ConfigMap', metadata: { name: 'flags2', namespace: 'shop' }, data: {} } })!;
  assert.deepEqual([who.author?.manager, who.author?.user, who.outsidePipeline], ['unknown', 'frank@example.com', undefined], 'no tool named: who, but nothing to flag');
});

test('the trail is bounded by count and age', { timeout: 10_000 }, async () => {
  const clock = new ManualClock(T0);
  const trail = new KubeAuditTrail({ clock, capacity: 3, retentionMs: 60_000 });
  const ev = (i: number) => auditEvent({ id: `e${i}`, at: T0 + i * 10, verb: 'patch', user: 'u', resource: 'configmaps', namespace: 'ns', name: `c${i}` });
  trail.add('prod', [0, 1, 2, 3, 4].map(ev));
  assert.equal(trail.size, 3);
  const q = (i: number) => ({ cluster: 'prod', kind: 'ConfigMap', namespace: 'ns', name: `c${i}`, operation: 'update' as const, time: T0 + i * 10 });
  assert.equal(trail.match(q(0)), undefined, 'the oldest went first');
  assert.equal(trail.match(q(4))?.auditID, 'e4');
  await clock.advance(61_000);
  trail.add('prod', [ev(5)]);
  assert.equal(trail.size, 1, 'older than the retention');
});

test('the batch must be an audit.k8s.io/v1 EventList of at most maxEvents', { timeout: 10_000 }, () => {
  assert.deepEqual(checkEventList(eventList([]), 5), { ok: true, items: [] });
  for (const bad of [{ ...eventList([]), apiVersion: 'audit.k8s.io/v1beta1' }, auditEvent({ id: 'x', at: T0, verb: 'patch', user: 'u', resource: 'pods' }), { kind: 'EventList', apiVersion: 'audit.k8s.io/v1', items: {} }, null]) {
    const r = checkEventList(bad, 5);
    assert.ok(!r.ok && r.status === 400 && r.reason === 'invalid_payload', JSON.stringify(bad));
  }
  const big = checkEventList(eventList(Array.from({ length: 6 }, () => ({}))), 5);
  assert.ok(!big.ok && big.status === 413 && /--audit-webhook-batch-max-size to at most 5/.test(big.error));
});
