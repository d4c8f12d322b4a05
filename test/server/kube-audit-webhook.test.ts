// The Kubernetes audit webhook over real HTTP: kube-apiserver's EventList
// batches, with its bearer token, name the user behind a change in the
// change feed; everything else is refused, counted and audited like the
// other webhooks, never with the token.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../../src/common/clock.ts';
import { WebhookSource } from '../../src/rules/sources/webhook-source.ts';
import { createApp } from '../../src/server/app.ts';
import { auditRefusals } from '../../src/server/refusal-audit.ts';
import { openStore } from '../../src/store/index.ts';
import { stripBulk } from '../../src/kube/transform.ts';
import type { KubeObject } from '../../src/kube/types.ts';
import { ChangeFeed, KubeAuditTrail } from '../../src/incidents/index.ts';
import { auditEvent, eventList, setImageBatch } from '../helpers/kube-audit.ts';

const T0 = Date.UTC(2026, 0, 1);
const TOKEN = 'apiserver-audit-token';
const WRONG = 'WRONG-audit-token-never-in-the-audit';
const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');

function deployment(image: string, managers: [string, number][]): KubeObject {
  return stripBulk({
    apiVersion: 'apps/v1', kind: 'Deployment',
    metadata: { name: 'checkout', namespace: 'shop', creationTimestamp: iso(T0 - 3_600_000), managedFields: managers.map(([manager, at]) => ({ manager, operation: 'Update', apiVersion: 'apps/v1', time: iso(at), fieldsType: 'FieldsV1', fieldsV1: { 'f:spec': {} } })) },
    spec: { template: { spec: { containers: [{ name: 'checkout', image }] } } },
  });
}

async function setup() {
  const clock = new ManualClock(T0 + 61_000);
  const store = await openStore({ dataDir: mkdtempSync(join(tmpdir(), 'km-kaudit-')), clock });
  const refusals = auditRefusals(store.audit, { clock });
  const source = new WebhookSource({ clock, defaultCluster: 'prod' });
  source.start(() => {});
  const trail = new KubeAuditTrail({ clock });
  const feed = new ChangeFeed({ audit: trail, expectedManagers: ['argocd-controller'] });
  const { app } = await createApp({
    refusals,
    webhooks: { source, alertmanager: false, kubernetesAudit: { bearerToken: TOKEN, trail, clusters: ['prod', 'staging'], maxEvents: 10, bodyLimit: 16 * 1024 } },
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
  const post = async (path: string, body: unknown, headers: Record<string, string> = { authorization: `Bearer ${TOKEN}` }) => {
    const res = await fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', 'user-agent': 'kube-apiserver-admission', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });
    return { status: res.status, body: await res.json() as Record<string, unknown> };
  };
  const records = async () => {
    await refusals.idle();
    return store.audit.list({ action: 'webhook.refused' });
  };
  return { clock, store, trail, feed, post, records, close: async () => { await app.close(); await store.close(); } };
}

test('kubernetes-audit: a realistic EventList names the user behind a kubectl set image; a resent batch changes nothing', { timeout: 30_000 }, async () => {
  const t = await setup();
  try {
    const change = t.feed.observe({
      source: 'object', cluster: 'prod', time: T0 + 60_400, operation: 'update',
      oldObject: deployment('shop/checkout:1.4.2', [['argocd-controller', T0]]),
      object: deployment('shop/checkout:1.5.0', [['argocd-controller', T0], ['kubectl-set', T0 + 60_000]]),
    })!;
    assert.equal(change.author?.user, undefined);
    const batch = eventList(setImageBatch(T0 + 60_250));
    assert.deepEqual((await t.post('/webhooks/kubernetes-audit', batch)).body, { accepted: 6, kept: 2, ignored: 4 });
    const [e] = t.feed.entries();
    assert.deepEqual(e.author, { manager: 'kubectl-set', operation: 'Update', time: T0 + 60_000, user: 'alice@example.com', from: 'managedFields' });
    assert.equal(e.outsidePipeline, true);
    assert.deepEqual((await t.post('/webhooks/kubernetes-audit', batch)).body, { accepted: 6, kept: 0, ignored: 6 }, 'the API server resends a batch it could not confirm');

    // /webhooks/kubernetes-audit/<cluster>: another API server's events stay with its cluster.
    const staging = auditEvent({ id: 's-1', at: T0 + 60_300, verb: 'patch', user: 'sam@example.com', fieldManager: 'kubectl-edit', resource: 'deployments', apiGroup: 'apps', namespace: 'shop', name: 'checkout' });
    assert.equal((await t.post('/webhooks/kubernetes-audit/staging', eventList([staging]))).body.kept, 1);
    const q = { kind: 'Deployment', namespace: 'shop', name: 'checkout', operation: 'update' as const, time: T0 + 60_400 };
    assert.equal(t.trail.match({ ...q, cluster: 'prod' }), undefined, 'prod\'s only write already named its change');
    assert.equal(t.trail.match({ ...q, cluster: 'staging' })?.user, 'sam@example.com');
    assert.deepEqual(await t.records(), [], 'nothing refused');
  } finally {
    await t.close();
  }
});

test('kubernetes-audit: refusals are answered before anything is kept, and audited without the token', { timeout: 30_000 }, async () => {
  const t = await setup();
  try {
    const batch = eventList(setImageBatch(T0 + 60_250));
    const codes = [
      (await t.post('/webhooks/kubernetes-audit', batch, {})).status,
      (await t.post('/webhooks/kubernetes-audit', batch, { authorization: `Bearer ${WRONG}` })).status,
      (await t.post('/webhooks/kubernetes-audit/nowhere', batch, {})).status,
      (await t.post('/webhooks/kubernetes-audit/nowhere', batch)).status,
      (await t.post('/webhooks/kubernetes-audit', { ...batch, apiVersion: 'audit.k8s.io/v1beta1' })).status,
      (await t.post('/webhooks/kubernetes-audit', eventList(Array.from({ length: 11 }, () => ({}))))).status,
      (await t.post('/webhooks/kubernetes-audit', eventList(Array.from({ length: 9 }, (_, i) => auditEvent({ id: `big-${i}`, at: T0, verb: 'patch', user: 'x'.repeat(2000), resource: 'pods' }))))).status,
      (await t.post('/webhooks/kubernetes-audit', '{"kind": "EventList", "items": [')).status,
    ];
    assert.deepEqual(codes, [401, 401, 401, 404, 400, 413, 413, 400]);
    assert.equal(t.trail.size, 0, 'nothing refused was kept');
    const recs = await t.records();
    assert.deepEqual(recs.map((r) => [r.data?.route, r.data?.reason, r.data?.status]), [
      ['kubernetes-audit', 'missing_token', 401],
      ['kubernetes-audit', 'bad_token', 401],
      ['kubernetes-audit', 'missing_token', 401],
      ['kubernetes-audit', 'unknown_cluster', 404],
      ['kubernetes-audit', 'invalid_payload', 400],
      ['kubernetes-audit', 'too_many_events', 413],
      ['kubernetes-audit', 'too_large', 413],
      ['kubernetes-audit', 'invalid_payload', 400],
    ]);
    assert.match(String(recs[6].data?.detail), /body larger than 16384 bytes/, 'the route\'s own limit');
    for (const r of recs) assert.deepEqual([r.outcome, r.actor.name], ['denied', 'webhooks']);
    const all = JSON.stringify(recs);
    assert.ok(!all.includes(WRONG) && !all.includes(TOKEN) && !all.includes('alice@example.com'), 'no credential, no body');
    assert.ok((await t.store.audit.verify()).ok);
  } finally {
    await t.close();
  }
});
