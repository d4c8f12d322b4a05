// Details clients notice, each as kube-apiserver 1.32 does it: Content-Type
// without a charset, Status bodies (no empty group, `details: {}` for unknown
// paths), errors.NewInvalid's wording, typed list items without kind, pod
// defaults from defaulting and admission (DefaultTolerationSeconds, Priority,
// enableServiceLinks), timestamps re-encoded as metav1.Time / MicroTime, and
// the NamespaceLifecycle plugin's immortal namespaces.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hasKubectl } from '../helpers/kubectl.ts';
import { pythonSkip, runPython } from '../helpers/python-client.ts';
import { events, readStream, startCluster, type ConformanceCluster } from './sandbox-clients.ts';

const pod = (name: string, spec: Record<string, unknown> = {}) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name },
  spec: { containers: [{ name: 'app', image: 'nginx:1.27' }], ...spec },
});

describe('details: raw HTTP', { timeout: 120_000 }, () => {
  let c: ConformanceCluster;
  before(async () => {
    c = await startCluster();
  });
  after(async () => c?.stop());

  it('JSON answers say Content-Type: application/json, without a charset', async () => {
    const got = [
      await c.http('GET', '/api/v1/namespaces/default'),
      await c.http('GET', '/api/v1/namespaces'),
      await c.http('GET', '/api/v1/namespaces/default/pods/nope'),
      await c.http('POST', '/api/v1/namespaces/default/configmaps', { metadata: {} }),
      await c.http('GET', '/apis'),
    ];
    for (const r of got) assert.equal(r.contentType, 'application/json', `${r.status} ${r.text.slice(0, 80)}`);
    const w = await readStream(`${c.url}/api/v1/namespaces?watch=1&timeoutSeconds=1`, 5000);
    assert.equal(w.contentType, 'application/json');
  });

  it('a 404 for a core type has no group in its details; one for apps has', async () => {
    const core = await c.http('GET', '/api/v1/namespaces/default/pods/nope');
    assert.deepEqual(core.json, {
      kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure',
      message: 'pods "nope" not found', reason: 'NotFound', details: { name: 'nope', kind: 'pods' }, code: 404,
    });
    const apps = await c.http('GET', '/apis/apps/v1/namespaces/default/deployments/nope');
    assert.deepEqual(apps.json.details, { name: 'nope', group: 'apps', kind: 'deployments' });
    assert.equal(apps.json.message, 'deployments.apps "nope" not found');
  });

  it('an unknown path is 404 with empty details', async () => {
    const r = await c.http('GET', '/api/v1/namespaces/default/widgets');
    assert.equal(r.status, 404);
    assert.deepEqual(r.json.details, {});
    assert.equal(r.json.message, 'the server could not find the requested resource');
  });

  it('a successful delete\'s Status has no group for a core type', async () => {
    await c.http('POST', '/api/v1/namespaces/default/configmaps', { metadata: { name: 'gone' } });
    const r = await c.http('DELETE', '/api/v1/namespaces/default/configmaps/gone');
    assert.equal(r.json.status, 'Success');
    assert.deepEqual(Object.keys(r.json.details).sort(), ['kind', 'name', 'uid']);
  });

  it('an invalid object with several causes: `Deployment.apps "d" is invalid: [a, b]`', async () => {
    const r = await c.http('POST', '/apis/apps/v1/namespaces/default/deployments', {
      metadata: { name: 'd' },
      spec: { selector: { matchLabels: { app: 'a' } }, template: { metadata: { labels: { app: 'b' } }, spec: { containers: [] } } },
    });
    assert.equal(r.status, 422);
    assert.equal(r.json.reason, 'Invalid');
    assert.ok(r.json.details.causes.length >= 2);
    const listed = r.json.details.causes.map((x: { field: string; message: string }) => `${x.field}: ${x.message}`).join(', ');
    assert.equal(r.json.message, `Deployment.apps "d" is invalid: [${listed}]`);
    assert.equal(r.json.details.kind, 'Deployment');
    assert.equal(r.json.details.group, 'apps');
  });

  it('an invalid object with one cause is not bracketed', async () => {
    const r = await c.http('POST', '/apis/apps/v1/namespaces/default/deployments', {
      metadata: { name: 'd1' },
      spec: { selector: { matchLabels: { app: 'a' } }, template: { metadata: { labels: { app: 'a' } }, spec: { containers: [] } } },
    });
    assert.equal(r.status, 422);
    assert.equal(r.json.details.causes.length, 1);
    const [x] = r.json.details.causes;
    assert.equal(r.json.message, `Deployment.apps "d1" is invalid: ${x.field}: ${x.message}`);
  });

  it('list items carry no kind or apiVersion; watch event objects do', async () => {
    const list = await c.http('GET', '/api/v1/namespaces');
    assert.equal(list.json.kind, 'NamespaceList');
    assert.equal(list.json.apiVersion, 'v1');
    for (const item of list.json.items) {
      assert.equal(item.kind, undefined);
      assert.equal(item.apiVersion, undefined);
    }
    const deps = await c.http('GET', '/apis/apps/v1/deployments');
    assert.equal(deps.json.kind, 'DeploymentList');
    const w = await readStream(`${c.url}/api/v1/namespaces?watch=true&timeoutSeconds=1`, 5000);
    for (const e of events(w.text)) assert.equal(e.object.kind, 'Namespace');
  });

  it('a new pod gets the default tolerations, enableServiceLinks, priority 0 and its preemption policy', async () => {
    const r = await c.http('POST', '/api/v1/namespaces/default/pods', pod('defaults'));
    assert.equal(r.status, 201);
    assert.deepEqual(r.json.spec.tolerations, [
      { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
      { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
    ]);
    assert.equal(r.json.spec.enableServiceLinks, true);
    assert.equal(r.json.spec.priority, 0);
    assert.equal(r.json.spec.preemptionPolicy, 'PreemptLowerPriority');
  });

  it('a pod that tolerates not-ready itself gets only the unreachable default; enableServiceLinks: false is kept', async () => {
    const own = { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 30 };
    const r = await c.http('POST', '/api/v1/namespaces/default/pods', pod('own-toleration', { tolerations: [own], enableServiceLinks: false }));
    assert.deepEqual(r.json.spec.tolerations, [own, { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 }]);
    assert.equal(r.json.spec.enableServiceLinks, false);
  });

  it('a pod template is not a pod: a Deployment\'s template gets neither', async () => {
    const r = await c.http('POST', '/apis/apps/v1/namespaces/default/deployments', {
      metadata: { name: 'tmpl' },
      spec: { selector: { matchLabels: { app: 't' } }, template: { metadata: { labels: { app: 't' } }, spec: { containers: [{ name: 'app', image: 'nginx:1.27' }] } } },
    });
    assert.equal(r.status, 201);
    assert.equal(r.json.spec.template.spec.tolerations, undefined);
    assert.equal(r.json.spec.template.spec.enableServiceLinks, undefined);
  });

  it('metav1.Time is stored in UTC with Z and whole seconds; MicroTime with six digits', async () => {
    const r = await c.http('POST', '/api/v1/namespaces/default/events', {
      metadata: { name: 'ts' },
      involvedObject: { kind: 'Pod', name: 'defaults', namespace: 'default' },
      reason: 'Test', message: 'm', type: 'Normal',
      firstTimestamp: '2024-03-01T12:00:00+02:00',
      lastTimestamp: '2024-03-01T10:00:05.987654Z',
      eventTime: '2024-03-01T12:00:00.123456+02:00',
      reportingComponent: 'conformance', reportingInstance: 'x', action: 'Test',
    });
    assert.equal(r.status, 201, r.text);
    assert.equal(r.json.firstTimestamp, '2024-03-01T10:00:00Z');
    assert.equal(r.json.lastTimestamp, '2024-03-01T10:00:05Z');
    assert.equal(r.json.eventTime, '2024-03-01T10:00:00.123456Z');
    const again = await c.http('GET', '/api/v1/namespaces/default/events/ts');
    assert.equal(again.json.firstTimestamp, '2024-03-01T10:00:00Z');
  });

  it('a MicroTime without six fractional digits, or a Time that does not parse, is 400 in the decoder\'s words', async () => {
    const micro = await c.http('POST', '/apis/events.k8s.io/v1/namespaces/default/events', {
      metadata: { name: 'ms' }, eventTime: '2024-03-01T10:00:00.123Z', reportingController: 'c', reportingInstance: 'i', action: 'A', reason: 'R', type: 'Normal',
      regarding: { kind: 'Pod', name: 'defaults', namespace: 'default' },
    });
    assert.equal(micro.status, 400);
    assert.equal(micro.json.message, 'Event in version "v1" cannot be handled as a Event: parsing time "2024-03-01T10:00:00.123Z" as "2006-01-02T15:04:05.000000Z07:00": cannot parse ".123Z" as ".000000"');
    const bad = await c.http('POST', '/api/v1/namespaces/default/events', {
      metadata: { name: 'bad' }, involvedObject: { kind: 'Pod', name: 'x' }, firstTimestamp: '2024-03-01 10:00:00',
    });
    assert.equal(bad.status, 400);
    assert.equal(bad.json.message, 'Event in version "v1" cannot be handled as a Event: parsing time "2024-03-01 10:00:00" as "2006-01-02T15:04:05Z07:00": cannot parse " 10:00:00" as "T"');
  });

  it('deleting default, kube-system or kube-public is 403 from NamespaceLifecycle', async () => {
    for (const ns of ['default', 'kube-system', 'kube-public']) {
      const r = await c.http('DELETE', `/api/v1/namespaces/${ns}`);
      assert.equal(r.status, 403);
      assert.deepEqual(r.json, {
        kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure',
        message: `namespaces "${ns}" is forbidden: this namespace may not be deleted`,
        reason: 'Forbidden', details: { name: ns, kind: 'namespaces' }, code: 403,
      });
      assert.equal((await c.http('GET', `/api/v1/namespaces/${ns}`)).json.status.phase, 'Active');
    }
  });

  it('other namespaces can be deleted', async () => {
    await c.http('POST', '/api/v1/namespaces', { metadata: { name: 'scratch' } });
    const r = await c.http('DELETE', '/api/v1/namespaces/scratch');
    assert.equal(r.status, 200);
  });
});

describe('details: kubectl', { skip: hasKubectl ? false : 'kubectl is not on PATH', timeout: 120_000 }, () => {
  let c: ConformanceCluster;
  before(async () => {
    c = await startCluster();
  });
  after(async () => c?.stop());

  it('kubectl delete ns default shows the real refusal', async () => {
    const r = await c.kubectl('delete', 'namespace', 'default');
    assert.notEqual(r.code, 0);
    assert.equal(r.stderr.trim(), 'Error from server (Forbidden): namespaces "default" is forbidden: this namespace may not be deleted');
  });

  it('kubectl create -f shows a multi-cause 422 cause by cause (from details.kind and causes)', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'km-manifest-')), 'bad.json');
    writeFileSync(file, JSON.stringify({
      apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'bad' },
      spec: { selector: { matchLabels: { app: 'a' } }, template: { metadata: { labels: { app: 'b' } }, spec: { containers: [] } } },
    }));
    const r = await c.kubectl('create', '-f', file);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /^The Deployment "bad" is invalid: \n\* .+\n\* .+/);
  });
});

describe('details: the Python client', { skip: pythonSkip, timeout: 120_000 }, () => {
  let c: ConformanceCluster;
  let py: Record<string, any>;
  before(async () => {
    c = await startCluster();
    py = await runPython(c.kubeconfig, `
p = v1.create_namespaced_pod('default', {'metadata': {'name': 'py'}, 'spec': {'containers': [{'name': 'app', 'image': 'nginx:1.27'}]}})
out['tolerations'] = [[t.key, t.effect, t.toleration_seconds] for t in p.spec.tolerations]
out['priority'] = p.spec.priority
out['links'] = p.spec.enable_service_links
try:
    v1.delete_namespace('kube-system')
except ApiException as e:
    out['delete_kube_system'] = api_error(e)
try:
    v1.read_namespaced_config_map('nope', 'default')
except ApiException as e:
    out['not_found'] = api_error(e)
`);
  });
  after(async () => c?.stop());

  it('reads back the admitted pod', () => {
    assert.deepEqual(py.tolerations, [['node.kubernetes.io/not-ready', 'NoExecute', 300], ['node.kubernetes.io/unreachable', 'NoExecute', 300]]);
    assert.equal(py.priority, 0);
    assert.equal(py.links, true);
  });

  it('delete_namespace("kube-system") raises 403 with the real message', () => {
    assert.equal(py.delete_kube_system.status, 403);
    assert.equal(py.delete_kube_system.body.message, 'namespaces "kube-system" is forbidden: this namespace may not be deleted');
  });

  it('a 404 Status has no group for a core type', () => {
    assert.deepEqual(py.not_found.body.details, { name: 'nope', kind: 'configmaps' });
  });
});
