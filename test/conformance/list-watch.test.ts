// List and watch semantics of kube-apiserver 1.32
// (https://kubernetes.io/docs/reference/using-api/api-concepts/): pages of a
// paginated list are one snapshot, resourceVersionMatch=Exact reads the past
// or answers 410, list options are validated as ValidateListOptions does (422),
// expired continue tokens come back as 410 with a token to go on with, pod
// field selectors, and watch bookmarks.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { hasKubectl } from '../helpers/kubectl.ts';
import { pythonSkip, runPython } from '../helpers/python-client.ts';
import { events, readStream, startCluster, type ConformanceCluster } from './sandbox-clients.ts';

describe('list semantics: the Python client', { skip: pythonSkip, timeout: 180_000 }, () => {
  let c: ConformanceCluster;
  let py: Record<string, any>;

  before(async () => {
    c = await startCluster({ historyLimit: 300 });
    py = await runPython(c.kubeconfig, `
def names(l):
    return [i.metadata.name for i in l.items]

# Pages are one snapshot: changes between pages do not show.
for i in range(5):
    v1.create_namespaced_config_map('default', {'metadata': {'name': 'page-%d' % i, 'labels': {'t': 'page'}}, 'data': {'v': 'old'}})
p1 = v1.list_namespaced_config_map('default', label_selector='t=page', limit=2)
v1.delete_namespaced_config_map('page-3', 'default')
v1.patch_namespaced_config_map('page-4', 'default', {'data': {'v': 'new'}})
v1.create_namespaced_config_map('default', {'metadata': {'name': 'page-5', 'labels': {'t': 'page'}}})
p2 = v1.list_namespaced_config_map('default', label_selector='t=page', limit=2, _continue=p1.metadata._continue)
p3 = v1.list_namespaced_config_map('default', label_selector='t=page', limit=2, _continue=p2.metadata._continue)
out['pages'] = [names(p1), names(p2), names(p3)]
out['page_rvs'] = [p.metadata.resource_version for p in (p1, p2, p3)]
out['page4_data'] = [i.data for i in p3.items if i.metadata.name == 'page-4']
out['page_continue'] = [bool(p.metadata._continue) for p in (p1, p2, p3)]
unpaged = v1.list_namespaced_config_map('default', limit=2)
out['remaining'] = unpaged.metadata.remaining_item_count
out['remaining_selective'] = p1.metadata.remaining_item_count

# Exact: the state at that resourceVersion.
v1.create_namespaced_config_map('default', {'metadata': {'name': 'ex-a', 'labels': {'t': 'ex'}}, 'data': {'v': '1'}})
rv = v1.list_namespaced_config_map('default', label_selector='t=ex').metadata.resource_version
v1.patch_namespaced_config_map('ex-a', 'default', {'data': {'v': '2'}})
v1.create_namespaced_config_map('default', {'metadata': {'name': 'ex-b', 'labels': {'t': 'ex'}}})
exact = v1.list_namespaced_config_map('default', label_selector='t=ex', resource_version=rv, resource_version_match='Exact')
out['exact'] = {'rv': exact.metadata.resource_version, 'want_rv': rv, 'items': [[i.metadata.name, i.data] for i in exact.items]}
newer = v1.list_namespaced_config_map('default', label_selector='t=ex', resource_version=rv, resource_version_match='NotOlderThan')
out['not_older'] = [[i.metadata.name, i.data] for i in newer.items]
legacy = v1.list_namespaced_config_map('default', label_selector='t=ex', resource_version=rv, limit=10)
out['legacy_exact'] = [[i.metadata.name, i.data] for i in legacy.items]

# Invalid list options: 422 Invalid.
for key, kwargs in [('match_without_rv', {'resource_version_match': 'Exact'}),
                    ('match_unsupported', {'resource_version_match': 'Newest', 'resource_version': rv}),
                    ('exact_zero', {'resource_version_match': 'Exact', 'resource_version': '0'}),
                    ('match_with_continue', {'resource_version_match': 'NotOlderThan', 'resource_version': rv, '_continue': p1.metadata._continue})]:
    try:
        v1.list_namespaced_config_map('default', **kwargs)
    except ApiException as e:
        out[key] = api_error(e)

# Compaction: old pages and old exact reads are gone.
p_old = v1.list_namespaced_config_map('default', label_selector='t=page', limit=1)
for i in range(320):
    v1.patch_namespaced_config_map('ex-a', 'default', {'data': {'v': str(i)}})
try:
    v1.list_namespaced_config_map('default', label_selector='t=page', limit=1, _continue=p_old.metadata._continue)
except ApiException as e:
    out['expired_continue'] = api_error(e)
if 'expired_continue' in out:
    tok = out['expired_continue']['body']['metadata']['continue']
    rest = v1.list_namespaced_config_map('default', label_selector='t=page', limit=10, _continue=tok)
    out['after_expired'] = names(rest)
try:
    v1.list_namespaced_config_map('default', resource_version=rv, resource_version_match='Exact')
except ApiException as e:
    out['exact_compacted'] = api_error(e)
try:
    v1.list_namespaced_config_map('default', _continue='not-a-token!')
except ApiException as e:
    out['bad_continue'] = api_error(e)
`);
  });
  after(async () => c?.stop());

  it('pages of a limit/continue list are one snapshot at the first page\'s resourceVersion', () => {
    assert.deepEqual(py.pages, [['page-0', 'page-1'], ['page-2', 'page-3'], ['page-4']]);
    assert.equal(new Set(py.page_rvs).size, 1, `one resourceVersion: ${py.page_rvs}`);
    assert.deepEqual(py.page4_data, [{ v: 'old' }], 'page-4 as it was');
    assert.deepEqual(py.page_continue, [true, true, false]);
  });

  it('remainingItemCount without selectors, none with them', () => {
    assert.ok(py.remaining > 0);
    assert.equal(py.remaining_selective, null);
  });

  it('resourceVersionMatch=Exact returns the state at that resourceVersion', () => {
    assert.equal(py.exact.rv, py.exact.want_rv);
    assert.deepEqual(py.exact.items, [['ex-a', { v: '1' }]]);
  });

  it('resourceVersionMatch=NotOlderThan returns the latest state', () => {
    assert.deepEqual(py.not_older, [['ex-a', { v: '2' }], ['ex-b', null]]);
  });

  it('resourceVersion with a limit and no match is Exact (the legacy rule)', () => {
    assert.deepEqual(py.legacy_exact, [['ex-a', { v: '1' }]]);
  });

  it('resourceVersionMatch without resourceVersion is 422 Invalid', () => {
    const e = py.match_without_rv;
    assert.equal(e.status, 422);
    assert.equal(e.body.reason, 'Invalid');
    assert.equal(e.body.message, 'ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided');
    assert.deepEqual(e.body.details, {
      group: 'meta.k8s.io',
      kind: 'ListOptions',
      causes: [{ reason: 'FieldValueForbidden', message: 'Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided', field: 'resourceVersionMatch' }],
    });
  });

  it('an unsupported resourceVersionMatch, Exact at "0", and a match with continue are 422s', () => {
    assert.equal(py.match_unsupported.status, 422);
    assert.equal(py.match_unsupported.body.message, 'ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: Unsupported value: "Newest": supported values: "Exact", "NotOlderThan", ""');
    assert.equal(py.exact_zero.body.message, 'ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: Forbidden: resourceVersionMatch "exact" is forbidden for resourceVersion "0"');
    assert.equal(py.match_with_continue.body.message, 'ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden when continue is provided');
  });

  it('a continue token older than the compacted history is 410 Expired with a token to go on at the latest state', () => {
    const e = py.expired_continue;
    assert.equal(e?.status, 410);
    assert.equal(e.body.reason, 'Expired');
    assert.match(e.body.message, /^The provided continue parameter is too old to display a consistent list result\./);
    assert.ok(e.body.metadata.continue);
    const token = JSON.parse(Buffer.from(e.body.metadata.continue, 'base64url').toString());
    assert.equal(token.rv, -1, 'the new token continues at the latest resourceVersion');
    assert.deepEqual(py.after_expired, ['page-1', 'page-2', 'page-4', 'page-5']);
  });

  it('Exact at a compacted resourceVersion is 410', () => {
    assert.equal(py.exact_compacted.status, 410);
    assert.equal(py.exact_compacted.body.message, 'The resourceVersion for the provided list is too old.');
  });

  it('a malformed continue token is 400', () => {
    assert.equal(py.bad_continue.status, 400);
    assert.equal(py.bad_continue.body.message, 'invalid continue token: continue key is not valid: illegal base64 data at input byte 11');
  });
});

describe('pod field selectors: the Python client', { skip: pythonSkip, timeout: 180_000 }, () => {
  let c: ConformanceCluster;
  let py: Record<string, any>;

  before(async () => {
    c = await startCluster();
    py = await runPython(c.kubeconfig, `
def pod(name, **spec):
    spec.setdefault('containers', [{'name': 'app', 'image': 'nginx:1.27'}])
    v1.create_namespaced_pod('default', {'metadata': {'name': name}, 'spec': spec})
v1.create_namespaced_service_account('default', {'metadata': {'name': 'builder'}})
pod('fs-plain')
pod('fs-host', hostNetwork=True, serviceAccountName='builder', schedulerName='default-scheduler')
pod('fs-never', restartPolicy='Never')
for _ in range(200):
    ps = v1.list_namespaced_pod('default').items
    if all(p.status.phase == 'Running' and p.status.pod_ip for p in ps):
        break
    time.sleep(0.1)
plain = v1.read_namespaced_pod('fs-plain', 'default')
out['node'] = plain.spec.node_name
out['ip'] = plain.status.pod_ip
def sel(s):
    try:
        return sorted(p.metadata.name for p in v1.list_namespaced_pod('default', field_selector=s).items)
    except ApiException as e:
        return api_error(e)
for s in ['spec.hostNetwork=true', 'spec.hostNetwork=false', 'spec.host=' + plain.spec.node_name, 'spec.nodeName=' + plain.spec.node_name,
          'spec.schedulerName=default-scheduler', 'spec.serviceAccountName=builder', 'spec.serviceAccountName!=builder',
          'status.podIP=' + plain.status.pod_ip, 'status.nominatedNodeName=', 'status.phase=Running', 'spec.restartPolicy=Never',
          'spec.restartPolicy==Always,status.phase=Running', 'spec.bogus=1', 'metadata.labels=x', 'status.phase']:
    out[s] = sel(s)
`);
  });
  after(async () => c?.stop());

  const check = (selector: string, want: string[]) => it(`fieldSelector ${selector}`, () => assert.deepEqual(py[selector], want));

  check('spec.hostNetwork=true', ['fs-host']);
  check('spec.hostNetwork=false', ['fs-never', 'fs-plain']);
  check('spec.schedulerName=default-scheduler', ['fs-host', 'fs-never', 'fs-plain']);
  check('spec.serviceAccountName=builder', ['fs-host']);
  check('spec.serviceAccountName!=builder', ['fs-never', 'fs-plain']);
  check('status.nominatedNodeName=', ['fs-host', 'fs-never', 'fs-plain']);
  check('status.phase=Running', ['fs-host', 'fs-never', 'fs-plain']);
  check('spec.restartPolicy=Never', ['fs-never']);
  check('spec.restartPolicy==Always,status.phase=Running', ['fs-host', 'fs-plain']);

  it('fieldSelector spec.host is spec.nodeName under its old name', () => {
    const onNode = py[`spec.nodeName=${py.node}`];
    assert.ok(onNode.includes('fs-plain'));
    assert.deepEqual(py[`spec.host=${py.node}`], onNode);
  });

  it('fieldSelector status.podIP', () => {
    assert.deepEqual(py[`status.podIP=${py.ip}`], ['fs-plain']);
  });

  it('an unknown pod field is 400 "field label not supported"', () => {
    assert.equal(py['spec.bogus=1'].status, 400);
    assert.equal(py['spec.bogus=1'].body.message, 'field label not supported: spec.bogus');
    assert.equal(py['metadata.labels=x'].body.message, 'field label not supported: metadata.labels');
  });

  it('a term without an operator is 400 "invalid selector"', () => {
    assert.equal(py['status.phase'].status, 400);
    assert.equal(py['status.phase'].body.message, "invalid selector: 'status.phase'; can't understand 'status.phase'");
  });
});

describe('field selectors of other kinds: raw HTTP', { timeout: 60_000 }, () => {
  let c: ConformanceCluster;
  before(async () => {
    c = await startCluster();
  });
  after(async () => c?.stop());

  it('nodes select on spec.unschedulable as "true"/"false" and refuse metadata.namespace', async () => {
    const r = await c.http('GET', '/api/v1/nodes?fieldSelector=spec.unschedulable%3Dfalse');
    assert.equal(r.json.items.length, 3);
    const bad = await c.http('GET', '/api/v1/nodes?fieldSelector=metadata.namespace%3Dx');
    assert.equal(bad.status, 400);
    assert.equal(bad.json.message, 'field label not supported: metadata.namespace');
  });

  it('kinds without their own conversion use metav1\'s default wording', async () => {
    const r = await c.http('GET', '/api/v1/configmaps?fieldSelector=data.x%3Dy');
    assert.equal(r.status, 400);
    assert.equal(r.json.message, '"data.x" is not a known field selector: only "metadata.name", "metadata.namespace"');
  });

  it('jobs have their own wording', async () => {
    const r = await c.http('GET', '/apis/batch/v1/jobs?fieldSelector=status.succeeded%3D1');
    assert.equal(r.json.message, 'field label "status.succeeded" not supported for batchv1.Job');
  });

  it('an unescaped "=" in a value is refused; an escaped one is a value', async () => {
    const bad = await c.http('GET', '/api/v1/namespaces?fieldSelector=metadata.name%3Da%3Db');
    assert.equal(bad.json.message, 'invalid field selector: unescaped character in value: 61');
    const ok = await c.http('GET', `/api/v1/namespaces?fieldSelector=${encodeURIComponent('metadata.name=a\\=b')}`);
    assert.equal(ok.status, 200);
    assert.deepEqual(ok.json.items, []);
  });
});

describe('watch semantics: raw HTTP', { timeout: 120_000 }, () => {
  let c: ConformanceCluster;
  before(async () => {
    // Bookmarks every second instead of every minute, so the period can be seen.
    c = await startCluster({}, { bookmarkEveryMs: 1000 });
  });
  after(async () => c?.stop());

  it('bookmarks come every period and 2s before the timeout, none after', async () => {
    const r = await readStream(`${c.url}/api/v1/namespaces/default/configmaps?watch=true&allowWatchBookmarks=true&resourceVersion=${c.sandbox.store.resourceVersion()}&timeoutSeconds=5`, 10_000);
    assert.ok(r.ended);
    const bms = events(r.text).filter((e) => e.type === 'BOOKMARK');
    // At 1s, 2s and 3s (3s is also timeout-2s); the next would be after the pre-timeout one.
    assert.equal(bms.length, 3, r.text);
    for (const b of bms) {
      assert.equal(b.object.kind, 'ConfigMap');
      assert.equal(b.object.apiVersion, 'v1');
      assert.deepEqual(Object.keys(b.object.metadata).sort(), ['creationTimestamp', 'resourceVersion']);
      assert.equal(b.object.metadata.creationTimestamp, null);
      assert.match(b.object.metadata.resourceVersion, /^\d+$/);
    }
  });

  it('no bookmarks unless allowWatchBookmarks', async () => {
    const r = await readStream(`${c.url}/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=${c.sandbox.store.resourceVersion()}&timeoutSeconds=3`, 6000);
    assert.equal(events(r.text).filter((e) => e.type === 'BOOKMARK').length, 0);
  });

  it('a watch from "now" with bookmarks allowed ends its initial events with an initial-events-end bookmark', async () => {
    const r = await readStream(`${c.url}/api/v1/namespaces?watch=true&allowWatchBookmarks=true&timeoutSeconds=1`, 5000);
    const evs = events(r.text);
    const i = evs.findIndex((e) => e.type === 'BOOKMARK');
    assert.ok(i >= 4, 'after the current namespaces');
    assert.ok(evs.slice(0, i).every((e) => e.type === 'ADDED'));
    assert.deepEqual(evs[i].object.metadata.annotations, { 'k8s.io/initial-events-end': 'true' });
  });

  it('resourceVersionMatch on a watch needs sendInitialEvents (422)', async () => {
    const r = await c.http('GET', '/api/v1/namespaces?watch=true&resourceVersion=1&resourceVersionMatch=NotOlderThan');
    assert.equal(r.status, 422);
    assert.equal(r.json.message, 'ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided');
  });

  it('a list not older than a resourceVersion the server has not reached waits, then 504 Too large resource version', async () => {
    const ahead = c.sandbox.store.resourceVersion() + 1_000_000;
    const t0 = Date.now();
    const r = await c.http('GET', `/api/v1/namespaces?resourceVersion=${ahead}`);
    assert.ok(Date.now() - t0 >= 2900, 'it waited for the cache');
    assert.equal(r.status, 504);
    assert.equal(r.json.reason, 'Timeout');
    assert.match(r.json.message, new RegExp(`^Timeout: Too large resource version: ${ahead}, current: \\d+$`));
    assert.deepEqual(r.json.details, { causes: [{ reason: 'ResourceVersionTooLarge', message: 'Too large resource version' }], retryAfterSeconds: 1 });
  });

  it('a non-numeric resourceVersion reaches the storage layer unconverted: 500 without a reason', async () => {
    const r = await c.http('GET', '/api/v1/namespaces?resourceVersion=abc');
    assert.equal(r.status, 500);
    assert.equal(r.json.reason, undefined);
    assert.equal(r.json.message, 'resourceVersion: Invalid value: "abc": strconv.ParseUint: parsing "abc": invalid syntax');
  });
});

describe('watch semantics: kubectl', { skip: hasKubectl ? false : 'kubectl is not on PATH', timeout: 120_000 }, () => {
  let c: ConformanceCluster;
  before(async () => {
    c = await startCluster();
  });
  after(async () => c?.stop());

  /**
   * Runs a long-lived kubectl: once its watch on configmaps is open (the
   * server's request log shows it), `during` acts; once the output shows
   * what `done` waits for, and a moment more for anything that should not be
   * there, kubectl is stopped. Resolves with what it printed.
   */
  async function watching(args: string[], during: () => Promise<void>, done: (out: string) => boolean): Promise<string> {
    const log = c.sandbox.api!.requestLog;
    const mark = log.at(-1);
    const child = spawn('kubectl', ['--kubeconfig', c.kubeconfig, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const until = async (what: string, ok: () => boolean) => {
      for (const t0 = Date.now(); !ok(); await new Promise((r) => setTimeout(r, 20))) {
        if (Date.now() - t0 > 30_000 || child.exitCode !== null) throw new Error(`kubectl ${args.join(' ')}: no ${what}; it printed:\n${out}`);
      }
    };
    try {
      await until('watch on configmaps', () => log.slice(mark ? log.lastIndexOf(mark) + 1 : 0).some((e) => e.verb === 'watch' && e.resource === 'configmaps'));
      await during();
      await until('expected output', () => done(out));
      await new Promise((r) => setTimeout(r, 300));
    } finally {
      child.kill('SIGTERM');
      if (child.exitCode === null) await new Promise((r) => child.once('exit', r));
    }
    return out;
  }

  it('kubectl get --watch lists, then prints each change from the list\'s resourceVersion on', async () => {
    await c.http('POST', '/api/v1/namespaces/default/configmaps', { metadata: { name: 'before' } });
    const out = await watching(['get', 'configmaps', '--watch', '-o', 'name'], async () => {
      await c.http('POST', '/api/v1/namespaces/default/configmaps', { metadata: { name: 'during' } });
      await c.http('PATCH', '/api/v1/namespaces/default/configmaps/before', { data: { x: '1' } }, 'application/merge-patch+json');
    }, (o) => o.split('\n').filter((l) => l.includes('before') || l.includes('during')).length >= 3);
    assert.deepEqual(out.trim().split('\n').filter((l) => l.includes('before') || l.includes('during')), [
      'configmap/before', 'configmap/during', 'configmap/before',
    ]);
  });

  it('kubectl get --watch-only --output-watch-events prints only the changes, typed', async () => {
    const out = await watching(['get', 'configmaps', '--watch-only', '--output-watch-events'], async () => {
      await c.http('DELETE', '/api/v1/namespaces/default/configmaps/during');
    }, (o) => /^DELETED\s+during/m.test(o));
    assert.match(out, /^EVENT\s+NAME\s+DATA\s+AGE$/m);
    assert.match(out, /^DELETED\s+during\s+0\s+\d+s$/m);
    assert.doesNotMatch(out, /ADDED/);
  });
});
