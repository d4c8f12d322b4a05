// kube-apiserver writes some fields whatever the client sent, because in its
// Go types they are structs or strings without omitempty: a struct is never
// omitted, and a zero metav1.Time or MicroTime is written as null. Clients
// (typed ones especially) see them on every object. Raw HTTP, checked against
// k8s.io/api 1.32's types.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startConformance } from './harness.ts';

test('a core/v1 Event written bare reads back with its struct and time fields: involvedObject, source {}, null times, empty reporting fields', { timeout: 30_000 }, async () => {
  const c = await startConformance();
  try {
    const created = await c.http('POST', '/api/v1/namespaces/default/events', { body: {
      apiVersion: 'v1', kind: 'Event', metadata: { name: 'bare' }, involvedObject: { kind: 'Node', name: 'node-1' }, reason: 'Test', message: 'hello',
    } });
    assert.equal(created.status, 201, created.text);
    const e = (await c.http('GET', '/api/v1/namespaces/default/events/bare')).json();
    assert.deepEqual(
      { source: e.source, firstTimestamp: e.firstTimestamp, lastTimestamp: e.lastTimestamp, eventTime: e.eventTime, reportingComponent: e.reportingComponent, reportingInstance: e.reportingInstance },
      { source: {}, firstTimestamp: null, lastTimestamp: null, eventTime: null, reportingComponent: '', reportingInstance: '' },
    );
    assert.equal('count' in e, false, 'count is an int32 with omitempty: absent when 0');
    const v1 = (await c.http('GET', '/apis/events.k8s.io/v1/namespaces/default/events/bare')).json();
    assert.deepEqual(
      { eventTime: v1.eventTime, regarding: v1.regarding, deprecatedSource: v1.deprecatedSource, deprecatedFirstTimestamp: v1.deprecatedFirstTimestamp, deprecatedLastTimestamp: v1.deprecatedLastTimestamp },
      { eventTime: null, regarding: { kind: 'Node', name: 'node-1' }, deprecatedSource: {}, deprecatedFirstTimestamp: null, deprecatedLastTimestamp: null },
    );
    assert.equal('reportingController' in v1, false, 'reportingController has omitempty in events/v1');
  } finally {
    await c.close();
  }
});

test('a Node written bare reads back with status.nodeInfo (ten empty strings) and daemonEndpoints.kubeletEndpoint.Port 0', { timeout: 30_000 }, async () => {
  const c = await startConformance();
  try {
    const created = await c.http('POST', '/api/v1/nodes', { body: { apiVersion: 'v1', kind: 'Node', metadata: { name: 'bare' } } });
    assert.equal(created.status, 201, created.text);
    const n = created.json();
    assert.deepEqual(n.spec, {});
    assert.deepEqual(n.status, {
      daemonEndpoints: { kubeletEndpoint: { Port: 0 } },
      nodeInfo: { machineID: '', systemUUID: '', bootID: '', kernelVersion: '', osImage: '', containerRuntimeVersion: '', kubeletVersion: '', kubeProxyVersion: '', operatingSystem: '', architecture: '' },
    });
  } finally {
    await c.close();
  }
});
