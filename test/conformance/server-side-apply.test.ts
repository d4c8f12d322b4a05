// Server-side apply as kube-apiserver 1.32 does it, driven by kubectl, the
// Python client's DynamicClient and raw HTTP: field ownership in
// managedFields (FieldsV1), conflicts (409 with the field manager's message
// and causes) unless forced, fields a manager stops applying removed unless
// someone else owns them, updates taking ownership of what they change.
// Behaviour from https://kubernetes.io/docs/reference/using-api/server-side-apply/
// and k8s.io/apimachinery/pkg/util/managedfields.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { type Conformance, kubectlOk, needs, startConformance } from './harness.ts';

const deployment = (replicas: number, containers = [{ name: 'web', image: 'nginx:1.27' }]) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web' },
  spec: {
    replicas,
    selector: { matchLabels: { app: 'web' } },
    template: { metadata: { labels: { app: 'web' } }, spec: { containers: containers.map((c) => ({ ...c, ports: [{ containerPort: 80 }] })) } },
  },
});

const APPLY = { 'content-type': 'application/apply-patch+yaml' };

describe('server-side apply', { timeout: 120_000 }, () => {
  let c: Conformance;
  const kubectl = async (args: string[], stdin?: string) => {
    const r = await c.kubectl(args, { stdin });
    return r;
  };
  const ok = (args: string[], stdin?: string) => kubectlOk(c, args, stdin);
  const managed = async (resource: string, ns = 'default') =>
    JSON.parse(await ok(['get', resource, '-n', ns, '-o', 'json', '--show-managed-fields'])).metadata.managedFields as any[];

  before(async () => {
    c = await startConformance();
  });
  after(async () => {
    await c?.close();
  });

  it('kubectl: another manager conflicts over a field kubectl apply set; --force-conflicts takes it', { skip: needs('kubectl') }, async () => {
    assert.equal((await ok(['apply', '-f', '-'], JSON.stringify(deployment(2)))).trim(), 'deployment.apps/web created');
    const refused = await kubectl(['apply', '--server-side', '--field-manager=flux', '-f', '-'], JSON.stringify(deployment(3)));
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /^error: Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using apps\/v1: \.spec\.replicas\n/);
    assert.equal(await ok(['get', 'deploy', 'web', '-o', 'jsonpath={.spec.replicas}']), '2', 'a refused apply changes nothing');

    const forced = await ok(['apply', '--server-side', '--field-manager=flux', '--force-conflicts', '-f', '-'], JSON.stringify(deployment(3)));
    assert.equal(forced.trim(), 'deployment.apps/web serverside-applied');
    assert.equal(await ok(['get', 'deploy', 'web', '-o', 'jsonpath={.spec.replicas}']), '3');
    const entries = await managed('deploy/web');
    // After a server-side apply kubectl itself moves client-side apply's fields to the applier (csaupgrade).
    assert.deepEqual(entries.map((e) => [e.manager, e.operation]), [['flux', 'Apply']]);
    assert.deepEqual(entries[0].fieldsV1['f:spec']['f:replicas'], {});
    await ok(['delete', 'deploy', 'web']);
  });

  it('kubectl: managedFields hold the applied fields in FieldsV1, list items by their keys', { skip: needs('kubectl') }, async () => {
    await ok(['apply', '--server-side', '--field-manager=flux', '-f', '-'], JSON.stringify(deployment(3)));
    const flux = (await managed('deploy/web')).find((e) => e.manager === 'flux');
    assert.deepEqual(flux, {
      apiVersion: 'apps/v1',
      fieldsType: 'FieldsV1',
      fieldsV1: {
        'f:spec': {
          'f:replicas': {},
          'f:selector': {},
          'f:template': {
            'f:metadata': { 'f:labels': { 'f:app': {} } },
            'f:spec': {
              'f:containers': {
                'k:{"name":"web"}': {
                  '.': {},
                  'f:image': {},
                  'f:name': {},
                  'f:ports': { 'k:{"containerPort":80,"protocol":"TCP"}': { '.': {}, 'f:containerPort': {} } },
                },
              },
            },
          },
        },
      },
      manager: 'flux',
      operation: 'Apply',
      time: flux.time,
    });
    assert.match(flux.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    // Another applier of the same values co-owns them; an update owns what it changed.
    await ok(['apply', '--server-side', '--field-manager=argocd', '-f', '-'], JSON.stringify(deployment(3)));
    await ok(['label', 'deploy', 'web', 'release=blue']);
    const entries = await managed('deploy/web');
    // Sorted as the API server writes them: applies first, then updates.
    assert.deepEqual(entries.map((e) => e.operation), ['Apply', 'Apply', 'Update']);
    assert.deepEqual(entries.map((e) => e.manager).sort(), ['argocd', 'flux', 'kubectl-label']);
    assert.deepEqual(entries.find((e) => e.manager === 'argocd').fieldsV1, flux.fieldsV1);
    assert.deepEqual(entries.find((e) => e.manager === 'kubectl-label').fieldsV1, { 'f:metadata': { 'f:labels': { '.': {}, 'f:release': {} } } });
    await ok(['delete', 'deploy', 'web']);
  });

  it('kubectl: its own server-side apply takes over what its client-side apply set (last-applied upgrade)', { skip: needs('kubectl') }, async () => {
    await ok(['apply', '-f', '-'], JSON.stringify(deployment(2)));
    assert.equal((await ok(['apply', '--server-side', '-f', '-'], JSON.stringify(deployment(4)))).trim(), 'deployment.apps/web serverside-applied');
    const d = JSON.parse(await ok(['get', 'deploy', 'web', '-o', 'json']));
    assert.equal(d.spec.replicas, 4);
    assert.equal(JSON.parse(d.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration']).spec.replicas, 4, 'the annotation follows kubectl\'s server-side applies');
    await ok(['delete', 'deploy', 'web']);
  });

  it('kubectl: fields and list items a manager stops applying go, unless another manager owns them', { skip: needs('kubectl') }, async () => {
    const both = [{ name: 'web', image: 'nginx:1.27' }, { name: 'sidecar', image: 'busybox:1.36' }];
    await ok(['apply', '--server-side', '--field-manager=flux', '-f', '-'], JSON.stringify({ ...deployment(1, both), metadata: { name: 'web', labels: { team: 'a', tier: 'web' } } }));
    await ok(['apply', '--server-side', '--field-manager=argocd', '-f', '-'], JSON.stringify({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', labels: { tier: 'web' } } }));
    await ok(['apply', '--server-side', '--field-manager=flux', '-f', '-'], JSON.stringify(deployment(1)));
    const d = JSON.parse(await ok(['get', 'deploy', 'web', '-o', 'json']));
    assert.deepEqual(d.spec.template.spec.containers.map((x: any) => x.name), ['web'], 'the sidecar flux stopped applying is gone');
    assert.deepEqual(d.metadata.labels, { tier: 'web' }, 'team went; tier stays, argocd owns it too');
    const argocd = (await managed('deploy/web')).find((e) => e.manager === 'argocd');
    assert.deepEqual(argocd.fieldsV1, { 'f:metadata': { 'f:labels': { 'f:tier': {} } } });
    await ok(['delete', 'deploy', 'web']);
  });

  it('kubectl: updates take ownership of what they change — scale, set image, label', { skip: needs('kubectl') }, async () => {
    await ok(['apply', '--server-side', '--field-manager=flux', '-f', '-'], JSON.stringify(deployment(2)));
    await ok(['scale', 'deploy/web', '--replicas=5']);
    await ok(['set', 'image', 'deploy/web', 'web=nginx:1.27.3']);
    const refused = await kubectl(['apply', '--server-side', '--field-manager=flux', '-f', '-'], JSON.stringify(deployment(2)));
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, new RegExp([
      '^error: Apply failed with 2 conflicts: conflicts with "kubectl" with subresource "scale" using apps/v1:',
      '- \\.spec\\.replicas',
      'conflicts with "kubectl-set" using apps/v1:',
      '- \\.spec\\.template\\.spec\\.containers\\[name="web"\\]\\.image',
    ].join('\n')));
    const entries = await managed('deploy/web');
    assert.deepEqual(entries.find((e) => e.subresource === 'scale')?.fieldsV1, { 'f:spec': { 'f:replicas': {} } });
    assert.deepEqual(entries.find((e) => e.manager === 'kubectl-set')?.fieldsV1, { 'f:spec': { 'f:template': { 'f:spec': { 'f:containers': { 'k:{"name":"web"}': { 'f:image': {} } } } } } });
    assert.equal(entries.find((e) => e.manager === 'flux').fieldsV1['f:spec']['f:replicas'], undefined);
    await ok(['delete', 'deploy', 'web']);
  });

  it('raw HTTP: 409 Conflict with the causes, force=true transfers ownership, force on other patches is refused', async () => {
    const path = '/api/v1/namespaces/default/configmaps/settings';
    const put = (manager: string, data: Record<string, string>, query = '') =>
      c.http('PATCH', `${path}?fieldManager=${manager}${query}`, { headers: APPLY, body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings' }, data } });
    assert.equal((await put('team-a', { mode: 'fast', size: 'l' })).status, 201);
    const refused = await put('team-b', { mode: 'slow' });
    assert.equal(refused.status, 409);
    assert.deepEqual(refused.json(), {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'Apply failed with 1 conflict: conflict with "team-a": .data.mode',
      reason: 'Conflict',
      details: { causes: [{ reason: 'FieldManagerConflict', message: 'conflict with "team-a"', field: '.data.mode' }] },
      code: 409,
    });
    const forced = await put('team-b', { mode: 'slow' }, '&force=true');
    assert.equal(forced.status, 200);
    assert.deepEqual(forced.json().data, { mode: 'slow', size: 'l' });
    assert.deepEqual(forced.json().metadata.managedFields.map((e: any) => [e.manager, e.fieldsV1]), [
      ['team-a', { 'f:data': { 'f:size': {} } }],
      ['team-b', { 'f:data': { 'f:mode': {} } }],
    ]);
    // Applying what is already there changes nothing but makes a co-owner.
    const same = await put('team-c', { size: 'l' });
    assert.equal(same.json().metadata.resourceVersion !== forced.json().metadata.resourceVersion, true, 'ownership changed, so the object did');
    assert.equal(same.json().metadata.managedFields.find((e: any) => e.manager === 'team-c').time, undefined, 'an apply that changed no value stamps no time');

    const merge = await c.http('PATCH', `${path}?force=false`, { headers: { 'content-type': 'application/merge-patch+json' }, body: { data: { x: '1' } } });
    assert.equal(merge.status, 422);
    assert.equal(merge.json().message, 'PatchOptions.meta.k8s.io "" is invalid: force: Forbidden: may not be specified for non-apply patch');
  });

  it('raw HTTP: a PUT without managedFields keeps them; [{}] clears them, and the next apply meets "before-first-apply"', async () => {
    const path = '/api/v1/namespaces/default/configmaps/cleared';
    const apply = (data: Record<string, string>) => c.http('PATCH', `${path}?fieldManager=flux`, { headers: APPLY, body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cleared' }, data } });
    assert.equal((await apply({ a: '1' })).status, 201);
    // Clients that do not know managedFields send none, and drop nothing.
    const { managedFields: _m, ...meta } = (await c.http('GET', path)).json().metadata;
    const put = await c.http('PUT', path, { body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: meta, data: { a: '1', b: '3' } } });
    assert.deepEqual(put.json().metadata.managedFields.map((e: any) => [e.manager, e.operation, e.fieldsV1]), [
      ['flux', 'Apply', { 'f:data': { 'f:a': {} } }],
      ['node', 'Update', { 'f:data': { 'f:b': {} } }],
    ]);
    const cleared = await c.http('PATCH', path, { headers: { 'content-type': 'application/merge-patch+json' }, body: { metadata: { managedFields: [{}] } } });
    assert.equal(cleared.status, 200);
    assert.equal(cleared.json().metadata.managedFields, undefined);
    const refused = await apply({ a: '2' });
    assert.equal(refused.status, 409);
    assert.equal(refused.json().message, 'Apply failed with 1 conflict: conflict with "before-first-apply" using v1: .data.a');
  });

  it('raw HTTP: an apply in another version or carrying managedFields is a 400', async () => {
    const path = '/api/v1/namespaces/default/configmaps/strict?fieldManager=flux';
    const version = await c.http('PATCH', path, { headers: APPLY, body: { apiVersion: 'v2', kind: 'ConfigMap', metadata: { name: 'strict' } } });
    assert.equal(version.status, 400);
    assert.equal(version.json().message, 'Incorrect version specified in apply patch. Specified patch version: v2, expected: v1');
    const managedFields = await c.http('PATCH', path, { headers: APPLY, body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'strict', managedFields: [] } } });
    assert.equal(managedFields.status, 400);
    assert.equal(managedFields.json().message, 'metadata.managedFields must be nil');
  });

  it('kubectl: what `kubectl create --dry-run=client -o yaml` prints applies server-side (its nulls are dropped)', { skip: needs('kubectl') }, async () => {
    const manifest = await ok(['create', 'deployment', 'gen', '--image=nginx:1.27', '--dry-run=client', '-o', 'yaml']);
    assert.match(manifest, /creationTimestamp: null/);
    assert.equal((await ok(['apply', '--server-side', '-f', '-'], manifest)).trim(), 'deployment.apps/gen serverside-applied');
    const d = JSON.parse(await ok(['get', 'deploy', 'gen', '-o', 'json']));
    assert.match(d.metadata.creationTimestamp, /^\d{4}-/);
    assert.equal(d.spec.template.metadata.creationTimestamp, undefined);
    await ok(['delete', 'deploy', 'gen']);
  });

  it('raw HTTP: an object nobody applied belongs to "before-first-apply"', async () => {
    c.sandbox.store.create('configmaps', { metadata: { name: 'legacy', namespace: 'default' }, data: { level: 'info' } });
    const r = await c.http('PATCH', '/api/v1/namespaces/default/configmaps/legacy?fieldManager=flux', { headers: APPLY, body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'legacy' }, data: { level: 'debug' } } });
    assert.equal(r.status, 409);
    assert.equal(r.json().message, 'Apply failed with 1 conflict: conflict with "before-first-apply" using v1: .data.level');
  });

  it('Python DynamicClient: server_side_apply, a conflict as ConflictError 409, force_conflicts=True (sent as force=True)', { skip: needs('python3-kubernetes') }, async () => {
    // python3-kubernetes 22 sends an apply body only as a string (a dict is refused before it leaves: "Cannot prepare a request message").
    const r = await c.python(`
import json
from kubernetes import config, dynamic
from kubernetes.client import api_client
from kubernetes.dynamic.exceptions import ConflictError
client = dynamic.DynamicClient(api_client.ApiClient(configuration=config.load_kube_config()))
cms = client.resources.get(api_version='v1', kind='ConfigMap')
def apply(owner, manager, **kw):
    body = json.dumps({'apiVersion': 'v1', 'kind': 'ConfigMap', 'metadata': {'name': 'py'}, 'data': {'owner': owner}})
    return cms.server_side_apply(body=body, name='py', namespace='default', field_manager=manager, **kw)
apply('one', 'one')
try:
    apply('two', 'two')
    print('no conflict')
except ConflictError as e:
    print(e.status, json.loads(e.body)['details']['causes'][0]['field'])
out = apply('two', 'two', force_conflicts=True)
print(out.data.owner, [m.manager for m in out.metadata.managedFields])
`);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '409 .data.owner\ntwo [\'two\']\n');
  });
});
