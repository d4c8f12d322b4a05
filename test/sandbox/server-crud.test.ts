// The sandbox API server driven by @kubernetes/client-node 2.x, the client
// kubemend itself uses: discovery, CRUD, selectors, paging, every patch type,
// graceful deletes, Events conversion, Table rendering, errors, and the
// request accounting kubemend's tests rely on.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as k8s from '@kubernetes/client-node';
import type { ManualClock } from '../../src/common/clock.ts';
import type { ObjectStore } from '../../src/sandbox/store.ts';
import type { ApiServer } from '../../src/sandbox/server/index.ts';
import { NS, apiError, deployment, patchAs, pod, startTestServer } from './server-setup.ts';

describe('sandbox API server with @kubernetes/client-node: CRUD', () => {
  let clock: ManualClock;
  let store: ObjectStore;
  let server: ApiServer;
  let kc: k8s.KubeConfig;
  let core: k8s.CoreV1Api;
  let apps: k8s.AppsV1Api;

  before(async () => {
    ({ clock, store, server, kc, core, apps } = await startTestServer());
  });

  after(async () => {
    await server.close();
  });

  it('serves discovery and version', async () => {
    const version = await kc.makeApiClient(k8s.VersionApi).getCode();
    assert.equal(version.gitVersion, 'v1.32.0-kubemend');
    const res = await core.getAPIResources();
    const pods = res.resources.find((r) => r.name === 'pods');
    assert.deepEqual(pods?.shortNames, ['po']);
    assert.ok(res.resources.some((r) => r.name === 'pods/log'));
    const scale = (await apps.getAPIResources()).resources.find((r) => r.name === 'deployments/scale');
    assert.equal(scale?.kind, 'Scale');
    assert.equal(scale?.group, 'autoscaling');
  });

  it('creates, gets and lists with label and field selectors', async () => {
    await core.createNamespacedPod({ namespace: NS, body: pod('sel-a', { app: 'sel', tier: 'web' }, 'node-1') });
    await core.createNamespacedPod({ namespace: NS, body: pod('sel-b', { app: 'sel', tier: 'db' }) });
    await core.createNamespacedPod({ namespace: 'other', body: { ...pod('sel-c', { app: 'sel' }), metadata: { name: 'sel-c', labels: { app: 'sel' } } } });
    const got = await core.readNamespacedPod({ name: 'sel-a', namespace: NS });
    assert.equal(got.kind, 'Pod');
    assert.equal(got.spec?.restartPolicy, 'Always', 'defaults applied');

    const web = await core.listNamespacedPod({ namespace: NS, labelSelector: 'app=sel,tier in (web)' });
    assert.deepEqual(web.items.map((p) => p.metadata?.name), ['sel-a']);
    assert.equal(web.kind, 'PodList');
    // A typed list's items carry no kind or apiVersion (kube-apiserver encodes them so).
    assert.equal(web.items[0].kind, undefined, 'items carry no kind');
    const onNode = await core.listPodForAllNamespaces({ fieldSelector: 'spec.nodeName=node-1' });
    assert.deepEqual(onNode.items.map((p) => p.metadata?.name), ['sel-a']);
    const all = await core.listPodForAllNamespaces({ labelSelector: 'app=sel' });
    assert.deepEqual(all.items.map((p) => `${p.metadata?.namespace}/${p.metadata?.name}`), ['default/sel-a', 'default/sel-b', 'other/sel-c']);
    const bad = await apiError(core.listNamespacedPod({ namespace: NS, fieldSelector: 'spec.bogus=1' }));
    assert.equal(bad.code, 400);
  });

  it('pages with limit and continue, and expires continue tokens after compaction', async () => {
    for (let i = 0; i < 5; i++) await core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: `page-${i}`, labels: { page: 'yes' } } } });
    const first = await core.listNamespacedConfigMap({ namespace: NS, limit: 2 });
    assert.equal(first.items.length, 2);
    assert.ok(first.metadata?._continue);
    assert.equal(first.metadata?.remainingItemCount, 3);
    const names = first.items.map((c) => c.metadata?.name);
    let token: string | undefined = first.metadata?._continue;
    while (token) {
      const page = await core.listNamespacedConfigMap({ namespace: NS, limit: 2, _continue: token! });
      assert.equal(page.metadata?.resourceVersion, first.metadata?.resourceVersion, 'one snapshot across pages');
      names.push(...page.items.map((c) => c.metadata?.name));
      token = page.metadata?._continue;
    }
    assert.deepEqual(names, ['page-0', 'page-1', 'page-2', 'page-3', 'page-4']);

    const again = await core.listNamespacedConfigMap({ namespace: NS, limit: 2, labelSelector: 'page=yes' });
    assert.equal(again.metadata?.remainingItemCount, undefined, 'no count with a selector');
    await core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: 'page-late' } } });
    store.compact();
    const expired = await apiError(core.listNamespacedConfigMap({ namespace: NS, limit: 2, _continue: again.metadata?._continue }));
    assert.equal(expired.code, 410);
    const status = JSON.parse(String(expired.body));
    assert.equal(status.reason, 'Expired');
    assert.ok(status.metadata.continue, 'an inconsistent continue token is offered');
  });

  it('rejects a stale update with 409 Conflict', async () => {
    const cm = await core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: 'conflict' }, data: { v: '1' } } });
    await core.replaceNamespacedConfigMap({ name: 'conflict', namespace: NS, body: { ...cm, data: { v: '2' } } });
    const err = await apiError(core.replaceNamespacedConfigMap({ name: 'conflict', namespace: NS, body: { ...cm, data: { v: '3' } } }));
    assert.equal(err.code, 409);
    assert.match(JSON.parse(String(err.body)).message, /Operation cannot be fulfilled on configmaps "conflict": the object has been modified/);
    const noop = await core.readNamespacedConfigMap({ name: 'conflict', namespace: NS });
    const same = await core.replaceNamespacedConfigMap({ name: 'conflict', namespace: NS, body: noop });
    assert.equal(same.metadata?.resourceVersion, noop.metadata?.resourceVersion, 'a no-op update keeps its resourceVersion');
  });

  it('patches with JSON patch, merge patch, strategic merge patch and server-side apply', async () => {
    await apps.createNamespacedDeployment({ namespace: NS, body: deployment('patchy') });
    const json = await apps.patchNamespacedDeployment(
      { name: 'patchy', namespace: NS, body: [{ op: 'replace', path: '/spec/replicas', value: 3 }] },
      patchAs(k8s.PatchStrategy.JsonPatch),
    );
    assert.equal(json.spec?.replicas, 3);
    const merge = await apps.patchNamespacedDeployment({ name: 'patchy', namespace: NS, body: { metadata: { labels: { merged: 'yes' } } } }, patchAs(k8s.PatchStrategy.MergePatch));
    assert.equal(merge.metadata?.labels?.merged, 'yes');
    const smp = await apps.patchNamespacedDeployment(
      { name: 'patchy', namespace: NS, body: { spec: { template: { spec: { containers: [{ name: 'sidecar', image: 'busybox' }] } } } } },
      patchAs(k8s.PatchStrategy.StrategicMergePatch),
    );
    assert.deepEqual(smp.spec?.template.spec?.containers.map((c) => c.name).sort(), ['app', 'sidecar'], 'containers merge by name');
    assert.equal(smp.metadata?.generation, 3);

    const applied = { apiVersion: 'apps/v1', kind: 'Deployment', ...deployment('applied', 1) };
    const created = await apps.patchNamespacedDeployment({ name: 'applied', namespace: NS, body: applied, fieldManager: 'kubemend' }, patchAs(k8s.PatchStrategy.ServerSideApply));
    assert.equal(created.spec?.replicas, 1, 'apply creates a missing object');
    applied.spec!.replicas = 4;
    const updated = await apps.patchNamespacedDeployment({ name: 'applied', namespace: NS, body: applied, fieldManager: 'kubemend' }, patchAs(k8s.PatchStrategy.ServerSideApply));
    assert.equal(updated.spec?.replicas, 4);
    const apply = updated.metadata?.managedFields?.find((m) => m.manager === 'kubemend');
    assert.equal(apply?.operation, 'Apply');
    assert.equal(apply?.fieldsType, 'FieldsV1');
    const missingManager = await apiError(apps.patchNamespacedDeployment({ name: 'applied', namespace: NS, body: applied }, patchAs(k8s.PatchStrategy.ServerSideApply)));
    assert.equal(missingManager.code, 422);

    const managers = (await apps.readNamespacedDeployment({ name: 'patchy', namespace: NS })).metadata?.managedFields?.map((m) => m.operation);
    assert.ok(managers?.length && managers.every((op) => op === 'Update'));
    const unsupported = await apiError(apps.patchNamespacedDeployment({ name: 'patchy', namespace: NS, body: {} }, patchAs('text/plain')));
    assert.equal(unsupported.code, 415);
  });

  it('deletes gracefully: a bound pod keeps a deletionTimestamp, others go at once', async () => {
    await core.createNamespacedPod({ namespace: NS, body: pod('bound', {}, 'node-1') });
    const pending = await core.deleteNamespacedPod({ name: 'bound', namespace: NS, gracePeriodSeconds: 20 });
    assert.ok(pending.metadata?.deletionTimestamp);
    assert.equal(pending.metadata?.deletionGracePeriodSeconds, 20);
    const still = await core.readNamespacedPod({ name: 'bound', namespace: NS });
    assert.ok(still.metadata?.deletionTimestamp, 'the kubelet must finish it');
    await core.deleteNamespacedPod({ name: 'bound', namespace: NS, gracePeriodSeconds: 0 });
    assert.equal((await apiError(core.readNamespacedPod({ name: 'bound', namespace: NS }))).code, 404);

    await core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: 'gone' } } });
    const status = (await core.deleteNamespacedConfigMap({ name: 'gone', namespace: NS })) as unknown as Record<string, any>;
    assert.equal(status.kind, 'Status');
    assert.equal(status.status, 'Success');
    assert.equal(status.details.name, 'gone');

    await apps.createNamespacedDeployment({ namespace: NS, body: deployment('fg') });
    await apps.deleteNamespacedDeployment({ name: 'fg', namespace: NS, propagationPolicy: 'Foreground' });
    assert.deepEqual(store.get('apps/deployments', NS, 'fg')?.metadata.finalizers, ['foregroundDeletion'], 'the garbage collector finishes it');
    const dry = await core.deleteNamespacedPod({ name: 'sel-b', namespace: NS, dryRun: 'All' });
    assert.equal(dry.metadata?.name, 'sel-b');
    assert.ok(store.get('pods', NS, 'sel-b'), 'dry run deletes nothing');
  });

  it('deletes a collection by label selector', async () => {
    for (const n of ['dc-1', 'dc-2', 'dc-keep']) {
      await core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: n, labels: { dc: n === 'dc-keep' ? 'keep' : 'drop' } } } });
    }
    await core.deleteCollectionNamespacedConfigMap({ namespace: NS, labelSelector: 'dc=drop' });
    const left = await core.listNamespacedConfigMap({ namespace: NS, labelSelector: 'dc' });
    assert.deepEqual(left.items.map((c) => c.metadata?.name), ['dc-keep']);
  });

  it('serves events.k8s.io/v1 Events converted from the stored core Events', async () => {
    await core.createNamespacedEvent({
      namespace: NS,
      body: {
        metadata: { name: 'ev-1' },
        involvedObject: { kind: 'Pod', name: 'sel-a', namespace: NS },
        reason: 'BackOff',
        message: 'Back-off restarting failed container',
        type: 'Warning',
        count: 4,
        firstTimestamp: new Date(clock.now()),
        lastTimestamp: new Date(clock.now()),
        source: { component: 'kubelet' },
      },
    });
    const ev = await kc.makeApiClient(k8s.EventsV1Api).readNamespacedEvent({ name: 'ev-1', namespace: NS });
    assert.equal(ev.apiVersion, 'events.k8s.io/v1');
    assert.equal(ev.note, 'Back-off restarting failed container');
    assert.equal(ev.regarding?.name, 'sel-a');
    assert.equal(ev.deprecatedCount, 4);
    assert.equal(ev.series?.count, 4);
    assert.equal(ev.reportingController, 'kubelet');
    const warnings = await kc.makeApiClient(k8s.EventsV1Api).listNamespacedEvent({ namespace: NS, fieldSelector: 'type=Warning,regarding.name=sel-a' });
    assert.deepEqual(warnings.items.map((e) => e.metadata?.name), ['ev-1']);

    await kc.makeApiClient(k8s.EventsV1Api).createNamespacedEvent({
      namespace: NS,
      body: {
        metadata: { name: 'ev-2' },
        // MicroTime: a plain Date serializes with three digits, which kube-apiserver refuses.
        eventTime: new k8s.V1MicroTime(clock.now()),
        reportingController: 'kubemend.dev/remediator',
        reportingInstance: 'kubemend-0',
        action: 'Restart',
        reason: 'Remediated',
        note: 'restarted deployment web',
        type: 'Normal',
        regarding: { kind: 'Deployment', name: 'web', namespace: NS },
      },
    });
    const core2 = await core.readNamespacedEvent({ name: 'ev-2', namespace: NS });
    assert.equal(core2.message, 'restarted deployment web');
    assert.equal(core2.involvedObject.kind, 'Deployment');
    assert.equal(core2.reportingComponent, 'kubemend.dev/remediator');
    assert.equal(core2.source?.component, 'kubemend.dev/remediator');
  });

  it('renders Tables and PartialObjectMetadata for the Accept header', async () => {
    const res = await fetch(`${server.url}/api/v1/namespaces/${NS}/pods?limit=1`, {
      headers: { Accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json' },
    });
    const table: any = await res.json();
    assert.equal(table.kind, 'Table');
    assert.equal(table.rows.length, 1);
    assert.ok(table.metadata.continue, 'paging metadata survives');
    assert.equal(table.rows[0].object.kind, 'PartialObjectMetadata');
    const meta: any = await (await fetch(`${server.url}/api/v1/namespaces/${NS}/pods`, { headers: { Accept: 'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1' } })).json();
    assert.equal(meta.kind, 'PartialObjectMetadataList');
    assert.equal(meta.items[0].spec, undefined);
  });

  it('answers unknown paths and methods with Status errors', async () => {
    const missing = await fetch(`${server.url}/api/v1/namespaces/${NS}/widgets`);
    assert.equal(missing.status, 404);
    assert.equal(((await missing.json()) as any).message, 'the server could not find the requested resource');
    const bad = await fetch(`${server.url}/api/v1/namespaces/${NS}/configmaps`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{nope' });
    assert.equal(bad.status, 400);
    assert.equal(((await bad.json()) as any).kind, 'Status');
    const method = await fetch(`${server.url}/api/v1/namespaces/${NS}/configmaps/x`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' });
    assert.equal(method.status, 405);
    assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
  });

  it('exposes request counts at /metrics and logs impersonated identities', async () => {
    await fetch(`${server.url}/api/v1/namespaces/${NS}/configmaps`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'Impersonate-User': 'system:serviceaccount:kubemend:remediator', 'Impersonate-Group': 'kubemend:runbooks' },
      body: JSON.stringify({ metadata: { name: 'impersonated' } }),
    });
    const entry = server.requestLog.findLast((e) => e.verb === 'create' && e.resource === 'configmaps');
    assert.equal(entry?.user, 'system:serviceaccount:kubemend:remediator');
    assert.deepEqual(entry?.groups, ['kubemend:runbooks']);
    assert.equal(entry?.code, 201);
    const text = await (await fetch(`${server.url}/metrics`)).text();
    assert.match(text, /kubemend_sandbox_requests_total\{verb="list",resource="pods",code="200"\} \d+/);
    assert.match(text, /kubemend_sandbox_watches \d+/);
    const counts = server.requestCounts();
    assert.ok(counts['list pods'] >= 1);
    assert.ok(counts['create configmaps'] >= 1);
  });
});
