// Every object the sandbox serves decodes with Debian's python3-kubernetes
// typed calls (list_node, list_pod_for_all_namespaces, AppsV1Api.list_*,
// BatchV1Api, PolicyV1Api, CoordinationV1Api, EventsV1Api, … and a read of
// each object, its status and scale), after each shipped scenario has played
// and after ten minutes of a cluster holding one of every kind. The client's
// models refuse a missing required field or a bad timestamp, so anything the
// sandbox writes unlike kube-apiserver is a decode error here. What is read
// and how: typed_clients.py.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { meaning, needs, scenarioMoments, startConformance, startEveryKind, startScenario, type Conformance } from './harness.ts';

const PROGRAM = readFileSync(new URL('./typed_clients.py', import.meta.url), 'utf8');
const ROUNDTRIP = readFileSync(new URL('./typed_roundtrip.py', import.meta.url), 'utf8');
const SKIP = needs('python3-kubernetes');

interface Check { check: string; count?: number; error?: string; expectedError?: string }

async function readAll(c: Conformance): Promise<{ checks: Check[]; untyped: string[] }> {
  const r = await c.python(PROGRAM, { timeoutMs: 120_000 });
  assert.equal(r.code, 0, `typed_clients.py failed:\n${r.stderr}`);
  return JSON.parse(r.stdout);
}

function assertDecoded({ checks, untyped }: { checks: Check[]; untyped: string[] }, mustHaveObjects: string[]): void {
  const errors = checks.filter((c) => c.error).map((c) => `${c.check}: ${c.error}`);
  assert.deepEqual(errors.slice(0, 40), [], `${errors.length} of ${checks.length} typed calls failed`);
  const count = (name: string) => checks.find((c) => c.check === name)?.count ?? 0;
  for (const name of mustHaveObjects) assert.ok(count(name) > 0, `${name} returned objects to check`);
  // metrics.k8s.io has no typed model in any client; everything else served must have one.
  assert.deepEqual(untyped.filter((g) => !g.startsWith('metrics.k8s.io/')), [], 'kinds this client has no model for');
}

for (const { name, untilMs, label } of scenarioMoments()) {
  test(`python3-kubernetes's typed calls read everything in scenario ${name} ${label}`, { skip: SKIP, timeout: 120_000 }, async () => {
    const c = await startScenario(name, { untilMs });
    try {
      assertDecoded(await readAll(c), ['CoreV1Api.list_node', 'CoreV1Api.list_pod_for_all_namespaces', 'CoreV1Api.list_event_for_all_namespaces',
        'AppsV1Api.list_replica_set_for_all_namespaces', 'CoordinationV1Api.list_lease_for_all_namespaces']);
    } finally {
      await c.close();
    }
  });
}

// One cluster of every kind (kubectl and ten virtual minutes to build) for the two tests that use it:
// the first only reads it, the second writes each object back unchanged and checks that nothing changed.
let everyKind: ReturnType<typeof startEveryKind> | undefined;
after(() => everyKind?.then((c) => c.close(), () => {}));

test('python3-kubernetes\'s typed calls read one of every kind after ten minutes of its controllers', { skip: SKIP || needs('kubectl'), timeout: 180_000 }, async () => {
  const c = await (everyKind ??= startEveryKind());
  const out = await readAll(c);
  const lists = out.checks.filter((k) => /^\w+Api\.list_|^autoscaling\/v2 horizontalpodautoscalers/.test(k.check) && k.count !== undefined);
  assert.deepEqual(lists.filter((k) => k.count === 0).map((k) => k.check), [], 'every kind has objects to check');
  assertDecoded(out, []);
});

test('python3-kubernetes: read, then replace unchanged with the typed calls, every kind: accepted, nothing changes, and without timestamps written back the resourceVersion stays', { skip: SKIP || needs('kubectl'), timeout: 180_000 }, async () => {
  const c = await (everyKind ??= startEveryKind());
  const r = await c.python(ROUNDTRIP, { timeoutMs: 120_000 });
  assert.equal(r.code, 0, `typed_roundtrip.py failed:\n${r.stderr}`);
  const out = JSON.parse(r.stdout) as { check: string; error?: string; before?: any; after?: any; rvKept?: boolean; timestamps: boolean }[];
  assert.ok(out.length >= 30, `${out.length} objects written back`);
  assert.deepEqual(out.filter((o) => o.error).map((o) => `${o.check}: ${o.error}`), [], 'every write accepted');
  for (const o of out) assert.deepEqual(meaning(o.after), meaning(o.before), `${o.check} reads back as it was`);
  assert.deepEqual(out.filter((o) => !o.timestamps && !o.rvKept).map((o) => o.check), [], 'a write that changes nothing is a no-op');
});

test('python3-kubernetes: a sandbox Node decodes; the same Node without bootID is the decode error this suite exists to catch', { skip: SKIP, timeout: 60_000 }, async () => {
  const c = await startConformance();
  try {
    const node = (await c.http('GET', '/api/v1/nodes/node-1')).json();
    const broken = structuredClone(node);
    delete broken.status.nodeInfo.bootID;
    // The sandbox cannot serve such a Node any more (every write gets the Go zero values), so the client decodes the JSON itself.
    const r = await c.python([
      'import json, sys',
      'from kubernetes import client, config',
      'config.load_kube_config()',
      'print(client.CoreV1Api().read_node("node-1").status.node_info.boot_id)',
      'class Response: data = sys.argv[1]',
      'try:',
      '    client.ApiClient().deserialize(Response(), "V1Node")',
      'except ValueError as e:',
      '    print(e)',
    ].join('\n'), { args: [JSON.stringify(broken)] });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split('\n'), [node.status.nodeInfo.bootID, 'Invalid value for `boot_id`, must not be `None`']);
  } finally {
    await c.close();
  }
});

test('a Node written without the kubelet\'s report has nodeInfo and daemonEndpoints anyway, zero-valued as kube-apiserver serializes them, so the Python client reads it', { skip: SKIP, timeout: 60_000 }, async () => {
  const c = await startConformance();
  try {
    const zeroInfo = { machineID: '', systemUUID: '', bootID: '', kernelVersion: '', osImage: '', containerRuntimeVersion: '', kubeletVersion: '', kubeProxyVersion: '', operatingSystem: '', architecture: '' };
    const created = await c.http('POST', '/api/v1/nodes', { body: { apiVersion: 'v1', kind: 'Node', metadata: { name: 'bare' } } });
    assert.equal(created.status, 201, created.text);
    assert.deepEqual(created.json().status, { daemonEndpoints: { kubeletEndpoint: { Port: 0 } }, nodeInfo: zeroInfo });
    // A status write naming one field of nodeInfo: the others are "" on the way out, as Go's decoder leaves them.
    const node = created.json();
    node.status = { nodeInfo: { kubeletVersion: 'v1.32.0' } };
    delete node.metadata.resourceVersion; // the node lifecycle controller may have written since
    const put = await c.http('PUT', '/api/v1/nodes/bare/status', { body: node });
    assert.equal(put.status, 200, put.text);
    assert.deepEqual(put.json().status, { daemonEndpoints: { kubeletEndpoint: { Port: 0 } }, nodeInfo: { ...zeroInfo, kubeletVersion: 'v1.32.0' } });
    const r = await c.python([
      'from kubernetes import client, config',
      'config.load_kube_config()',
      'core = client.CoreV1Api()',
      'print(len(core.list_node().items))',
      'info = core.read_node("bare").status.node_info',
      'print(repr(info.kubelet_version), repr(info.boot_id))',
    ].join('\n'));
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split('\n'), ['4', "'v1.32.0' ''"]);
  } finally {
    await c.close();
  }
});

test('python3-kubernetes: an Event created through events.k8s.io/v1 reads back; one recorded through core/v1 fails its EventsV1Event, as against kube-apiserver', { skip: SKIP, timeout: 60_000 }, async () => {
  const c = await startConformance();
  try {
    const r = await c.python([
      'import datetime',
      'from kubernetes import client, config',
      'config.load_kube_config()',
      'core, events = client.CoreV1Api(), client.EventsV1Api()',
      't = datetime.datetime(2026, 1, 1, 0, 0, 0, 123456, tzinfo=datetime.timezone.utc)',
      'events.create_namespaced_event("default", client.EventsV1Event(metadata=client.V1ObjectMeta(name="new-style"), event_time=t,',
      '    reason="Scheduled", note="assigned", type="Normal", action="Binding", reporting_controller="default-scheduler",',
      '    reporting_instance="default-scheduler-cp-1", regarding=client.V1ObjectReference(kind="Node", name="node-1")))',
      'core.create_namespaced_event("default", client.CoreV1Event(metadata=client.V1ObjectMeta(name="old-style"), reason="Starting",',
      '    message="kubelet", type="Normal", involved_object=client.V1ObjectReference(kind="Node", name="node-1"),',
      '    source=client.V1EventSource(component="kubelet", host="node-1"), first_timestamp=t, last_timestamp=t, count=1))',
      'print(events.read_namespaced_event("new-style", "default").event_time.isoformat())',
      'print(core.read_namespaced_event("old-style", "default").event_time)',
      'try:',
      '    events.read_namespaced_event("old-style", "default")',
      'except ValueError as e:',
      '    print(e)',
    ].join('\n'));
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split('\n'), ['2026-01-01T00:00:00.123456+00:00', 'None', 'Invalid value for `event_time`, must not be `None`']);
  } finally {
    await c.close();
  }
});
