// Query parameters decoded as kube-apiserver 1.32's conversion does
// (runtime.Convert_Slice_string_To_bool / _int64, metav1 ListOptions,
// core/v1 PodLogOptions): the Python client's `watch=True`, `follow=True`,
// `timestamps=True`, `previous=True` take effect, a watch resumes from its last
// resourceVersion and survives one 410, and malformed integers are refused
// with strconv's words.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { hasKubectl } from '../helpers/kubectl.ts';
import { pythonSkip, runPython } from '../helpers/python-client.ts';
import { events, readStream, startCluster, type ConformanceCluster } from './sandbox-clients.ts';

const IMAGES = {
  // Logs two lines, then a third four seconds later as it exits (a pod with restartPolicy Never completes).
  'conformance/logger': { logs: ['first line', 'second line'], exitAfterSeconds: 4, exitCode: 0, exitLogs: ['last line'] },
};

const TS9 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z /;

// Each client has its own sandbox: the three run side by side.
describe('query parameters', { concurrency: true, timeout: 180_000 }, () => {
  // GETs only: the checks run side by side.
  describe('query parameters: raw HTTP', { concurrency: true, timeout: 120_000 }, () => {
    let c: ConformanceCluster;
    before(async () => {
      c = await startCluster({ images: IMAGES });
    });
    after(async () => c?.stop());

    for (const v of ['true', 'True', 'TRUE', '1', 'yes', '']) {
      it(`watch=${v} watches (only absent, "0" and "false" in any case are false)`, async () => {
        const r = await readStream(`${c.url}/api/v1/namespaces?watch=${v}&timeoutSeconds=1`, 5000);
        assert.equal(r.status, 200);
        assert.ok(r.ended, 'the watch ends at timeoutSeconds');
        const evs = events(r.text);
        assert.ok(evs.length >= 4, 'current namespaces arrive as events');
        assert.ok(evs.every((e) => e.type === 'ADDED' && e.object.kind === 'Namespace'), r.text.slice(0, 200));
      });
    }

    for (const v of ['false', 'False', 'FALSE', '0']) {
      it(`watch=${v} lists`, async () => {
        const r = await c.http('GET', `/api/v1/namespaces?watch=${v}`);
        assert.equal(r.status, 200);
        assert.equal(r.json.kind, 'NamespaceList');
      });
    }

    it('only the first value of a repeated parameter counts', async () => {
      const r = await c.http('GET', '/api/v1/namespaces?watch=false&watch=true');
      assert.equal(r.json.kind, 'NamespaceList');
    });

    for (const [param, value, why] of [
      ['limit', 'abc', 'invalid syntax'],
      ['limit', '1.5', 'invalid syntax'],
      ['limit', '', 'invalid syntax'],
      ['limit', '99999999999999999999', 'value out of range'],
      ['timeoutSeconds', '0.1s', 'invalid syntax'],
    ] as const) {
      it(`${param}=${value || '(empty)'} is a 400 with strconv's message`, async () => {
        const r = await c.http('GET', `/api/v1/namespaces/default/pods?${param}=${value}`);
        assert.equal(r.status, 400);
        assert.equal(r.json.reason, 'BadRequest');
        assert.equal(r.json.message, `strconv.ParseInt: parsing ${JSON.stringify(value)}: ${why}`);
      });
    }

    it('limit=%2B2 is an integer (ParseInt takes a sign); a bare + in a query is a space', async () => {
      const r = await c.http('GET', '/api/v1/namespaces?limit=%2B2');
      assert.equal(r.status, 200);
      assert.equal(r.json.items.length, 2);
      const space = await c.http('GET', '/api/v1/namespaces?limit=+2');
      assert.equal(space.json.message, 'strconv.ParseInt: parsing " 2": invalid syntax');
    });

    it('a bad integer on pod logs is a 400 too, before the pod is looked up', async () => {
      const r = await c.http('GET', '/api/v1/namespaces/default/pods/nope/log?tailLines=x');
      assert.equal(r.status, 400);
      assert.equal(r.json.message, 'strconv.ParseInt: parsing "x": invalid syntax');
    });

    it('a bad sinceTime is a 400 with Go\'s time parse error', async () => {
      const r = await c.http('GET', '/api/v1/namespaces/default/pods/nope/log?sinceTime=yesterday');
      assert.equal(r.status, 400);
      assert.equal(r.json.message, 'parsing time "yesterday" as "2006-01-02T15:04:05Z07:00": cannot parse "yesterday" as "2006"');
    });

    it('negative tailLines and sinceSeconds=0 are 422 PodLogOptions errors, with each cause', async () => {
      const r = await c.http('GET', '/api/v1/namespaces/default/pods/nope/log?tailLines=-1&sinceSeconds=0');
      assert.equal(r.status, 422);
      assert.equal(r.json.message, 'PodLogOptions "nope" is invalid: [tailLines: Invalid value: -1: must be greater than or equal to 0, sinceSeconds: Invalid value: 0: must be greater than 0]');
      assert.deepEqual(r.json.details, {
        name: 'nope',
        kind: 'PodLogOptions',
        causes: [
          { reason: 'FieldValueInvalid', message: 'Invalid value: -1: must be greater than or equal to 0', field: 'tailLines' },
          { reason: 'FieldValueInvalid', message: 'Invalid value: 0: must be greater than 0', field: 'sinceSeconds' },
        ],
      });
    });

    it('sinceSeconds with sinceTime is refused (Forbidden, no field)', async () => {
      const r = await c.http('GET', '/api/v1/namespaces/default/pods/nope/log?sinceSeconds=5&sinceTime=2024-01-01T00:00:00Z');
      assert.equal(r.status, 422);
      assert.equal(r.json.message, 'PodLogOptions "nope" is invalid: : Forbidden: at most one of `sinceTime` or `sinceSeconds` may be specified');
    });
  });

  describe('query parameters: the Python client', { concurrency: 1, skip: pythonSkip, timeout: 180_000 }, () => {
    let c: ConformanceCluster;
    let py: Record<string, any>;

    before(async () => {
      // --min-request-timeout 1: a watch without timeoutSeconds ends after 1–2 real seconds, so the client must resume.
      // A short history: a few hundred writes compact what came before, as etcd compaction does.
      c = await startCluster({ images: IMAGES, historyLimit: 300 }, { minRequestTimeoutSeconds: 1 });
      // Two clients at once: the watches (resume, 410) and the pod logs touch different objects, and the logs wait on the container's real seconds.
      const [watches, logs] = await Promise.all([runPython(c.kubeconfig, `
rv0 = v1.list_namespaced_config_map('default').metadata.resource_version
v1.create_namespaced_config_map('default', {'metadata': {'name': 'q-1', 'labels': {'t': 'q'}}})
v1.create_namespaced_config_map('default', {'metadata': {'name': 'q-2', 'labels': {'t': 'q'}}})
out['watch_from_rv'] = [e['type'] + ' ' + e['object'].metadata.name
                        for e in watch.Watch().stream(v1.list_namespaced_config_map, 'default', label_selector='t=q', resource_version=rv0, timeout_seconds=1)]

# Resume: the server ends each watch after 1-2s; the client reconnects from the last resourceVersion it saw.
# A write every 1.5s: a watch that ends just before the first write and lasts 2s still ends before the last,
# so a reconnect always follows an event.
start = v1.list_namespaced_config_map('default').metadata.resource_version
def writer():
    for i in range(3):
        time.sleep(1.5)
        v1.create_namespaced_config_map('default', {'metadata': {'name': 'resume-%d' % i, 'labels': {'t': 'resume'}}})
threading.Thread(target=writer).start()
w = watch.Watch()
seen = []
t0 = time.time()
for e in w.stream(v1.list_namespaced_config_map, 'default', label_selector='t=resume', resource_version=start):
    seen.append(e['type'] + ' ' + e['object'].metadata.name)
    if len(seen) == 3 or time.time() - t0 > 30:
        w.stop()
out['resumed'] = seen
out['resume_last_rv'] = w.resource_version

# 410: a resourceVersion compacted away. The client retries once, then raises.
old = v1.list_namespaced_config_map('default').metadata.resource_version
for i in range(320):
    v1.patch_namespaced_config_map('q-1', 'default', {'data': {'n': str(i)}})
try:
    for e in watch.Watch().stream(v1.list_namespaced_config_map, 'default', resource_version=old):
        out.setdefault('after_410', []).append(e['type'])
except ApiException as e:
    out['gone'] = {'status': e.status, 'reason': e.reason}
`), runPython(c.kubeconfig, `
# Pod logs: timestamps, previous, tail, follow.
v1.create_namespaced_pod('default', {'metadata': {'name': 'logger'}, 'spec': {'restartPolicy': 'Never', 'containers': [{'name': 'app', 'image': 'conformance/logger'}]}})
for _ in range(100):
    p = v1.read_namespaced_pod('logger', 'default')
    if p.status.phase == 'Running':
        break
    time.sleep(0.1)
out['logs_timestamps'] = v1.read_namespaced_pod_log('logger', 'default', timestamps=True)
out['logs_plain'] = v1.read_namespaced_pod_log('logger', 'default')
out['logs_tail'] = v1.read_namespaced_pod_log('logger', 'default', tail_lines=1)
try:
    v1.read_namespaced_pod_log('logger', 'default', previous=True)
except ApiException as e:
    out['logs_previous'] = api_error(e)
t0 = time.time()
out['logs_follow'] = list(watch.Watch().stream(v1.read_namespaced_pod_log, 'logger', 'default'))
out['logs_follow_seconds'] = time.time() - t0
try:
    v1.read_namespaced_pod_log('logger', 'default', tail_lines=-1)
except ApiException as e:
    out['logs_bad_tail'] = api_error(e)
`)]);
      py = { ...watches, ...logs };
    });
    after(async () => c?.stop());

    it('watch=True watches: events after resource_version, not a list that ends', () => {
      assert.deepEqual(py.watch_from_rv, ['ADDED q-1', 'ADDED q-2']);
    });

    it('a watch the server ends is resumed from the last resourceVersion, nothing missed or repeated', () => {
      assert.deepEqual(py.resumed, ['ADDED resume-0', 'ADDED resume-1', 'ADDED resume-2']);
      const watches = c.sandbox.api!.requestLog.filter((e) => e.verb === 'watch' && e.path.includes('t%3Dresume'));
      assert.ok(watches.length >= 2, `the client reconnected (${watches.length} watch requests)`);
      const rvs = watches.map((e) => Number(new URL(e.path, 'http://x').searchParams.get('resourceVersion')));
      assert.ok(rvs.every((rv) => rv > 0), 'every reconnect names a resourceVersion');
      assert.ok(rvs.every((rv, i) => i === 0 || rv >= rvs[i - 1]), `reconnects never go back (${rvs})`);
      assert.ok(rvs[rvs.length - 1] > rvs[0], 'a reconnect after an event starts after it');
    });

    it('a compacted resourceVersion: the client retries once on the 410 ERROR event, then raises 410', () => {
      assert.equal(py.after_410, undefined, 'no events');
      assert.equal(py.gone?.status, 410);
      assert.match(py.gone.reason, /^Expired: too old resource version: \d+ \(\d+\)$/);
    });

    it('timestamps=True prefixes each log line with an RFC 3339 time with nine fractional digits', () => {
      const lines = (py.logs_timestamps as string).trimEnd().split('\n');
      assert.equal(lines.length, 2);
      for (const l of lines) assert.match(l, TS9);
      assert.equal(py.logs_plain, 'first line\nsecond line\n');
      assert.equal(py.logs_tail, 'second line\n');
    });

    it('previous=True asks for the previous instance (none here: 400 from the kubelet)', () => {
      assert.equal(py.logs_previous.status, 400);
      assert.equal(py.logs_previous.body.message, 'previous terminated container "app" in pod "logger" not found');
    });

    it('follow=True streams until the container exits', () => {
      assert.deepEqual(py.logs_follow, ['first line', 'second line', 'last line']);
      assert.ok(py.logs_follow_seconds > 1, `the stream stayed open (${py.logs_follow_seconds}s)`);
    });

    it('tail_lines=-1 is a 422', () => {
      assert.equal(py.logs_bad_tail.status, 422);
      assert.equal(py.logs_bad_tail.body.reason, 'Invalid');
    });
  });

  // In order: the logs, then following them to the container's exit.
  describe('query parameters: kubectl', { concurrency: 1, skip: hasKubectl ? false : 'kubectl is not on PATH', timeout: 120_000 }, () => {
    let c: ConformanceCluster;
    before(async () => {
      c = await startCluster({ images: IMAGES });
      await c.kubectl('run', 'logger', '--image=conformance/logger', '--restart=Never');
    });
    after(async () => c?.stop());

    it('kubectl logs --timestamps shows nine fractional digits', async () => {
      let out = '';
      for (let i = 0; i < 50 && !out.includes('second line'); i++) {
        out = (await c.kubectl('logs', 'logger', '--timestamps')).stdout;
        if (!out.includes('second line')) await new Promise((r) => setTimeout(r, 200));
      }
      const lines = out.trimEnd().split('\n');
      assert.equal(lines.length, 2, out);
      for (const l of lines) assert.match(l, TS9);
    });

    it('kubectl logs -f follows until the container exits', async () => {
      const r = await c.kubectl('logs', '-f', 'logger');
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, 'first line\nsecond line\nlast line\n');
    });

    it('kubectl get --raw with a malformed limit shows the server\'s 400', async () => {
      const r = await c.kubectl('get', '--raw', '/api/v1/namespaces/default/pods?limit=abc');
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /Error from server \(BadRequest\): strconv\.ParseInt: parsing "abc": invalid syntax/);
    });
  });
});
