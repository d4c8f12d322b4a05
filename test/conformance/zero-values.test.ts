// kube-apiserver writes some fields whatever the client sent, because in its
// Go types they are structs or strings without omitempty: a struct is never
// omitted, and a zero metav1.Time or MicroTime is written as null. Clients
// (typed ones especially) see them on every object. Raw HTTP, checked against
// k8s.io/api 1.32's types.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../src/common/clock.ts';
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

test('workloads, budgets, autoscalers and Services written bare come back with their status structs and the status counts that have no omitempty', { timeout: 30_000 }, async () => {
  const c = await startConformance({ options: { clock: new ManualClock() } });
  try {
    const template = { metadata: { labels: { app: 'a' } }, spec: { containers: [{ name: 'c', image: 'nginx:1.27' }] } };
    const selector = { matchLabels: { app: 'a' } };
    const cases: [string, unknown, unknown][] = [
      ['/api/v1/namespaces/default/services', { apiVersion: 'v1', kind: 'Service', metadata: { name: 's' }, spec: { ports: [{ port: 80 }] } }, { loadBalancer: {} }],
      ['/api/v1/namespaces/default/resourcequotas', { apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name: 'q' } }, {}],
      ['/apis/apps/v1/namespaces/default/deployments', { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd' }, spec: { selector, template } }, {}],
      ['/apis/apps/v1/namespaces/default/replicasets', { apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'r' }, spec: { selector, template } }, { replicas: 0 }],
      ['/apis/apps/v1/namespaces/default/statefulsets', { apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'st' }, spec: { selector, template, serviceName: 's' } }, { replicas: 0, availableReplicas: 0 }],
      ['/apis/apps/v1/namespaces/default/daemonsets', { apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: 'ds' }, spec: { selector, template } },
        { currentNumberScheduled: 0, numberMisscheduled: 0, desiredNumberScheduled: 0, numberReady: 0 }],
      ['/apis/batch/v1/namespaces/default/jobs', { apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'j' }, spec: { template: { spec: { ...template.spec, restartPolicy: 'Never' } } } }, {}],
      ['/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers', { apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: { name: 'h' },
        spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'd' }, maxReplicas: 3 } }, { desiredReplicas: 0, currentMetrics: null }],
      ['/apis/policy/v1/namespaces/default/poddisruptionbudgets', { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'p' }, spec: { selector, minAvailable: 1 } },
        { disruptionsAllowed: 0, currentHealthy: 0, desiredHealthy: 0, expectedPods: 0 }],
    ];
    for (const [path, body, status] of cases) {
      const r = await c.http('POST', path, { body });
      assert.equal(r.status, 201, `${path}: ${r.text}`);
      assert.deepEqual(r.json().status, status, `${path}: status as kube-apiserver writes it for a new object`);
    }
  } finally {
    await c.close();
  }
});
