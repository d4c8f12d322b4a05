import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyPatch } from '../../src/sandbox/server/patch.ts';
import type { K8sObject } from '../../src/sandbox/types.ts';

const SMP = 'application/strategic-merge-patch+json';
const MERGE = 'application/merge-patch+json';
const JSONP = 'application/json-patch+json';

function deployment(): K8sObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: 'web',
      namespace: 'default',
      uid: 'd-1',
      labels: { app: 'web' },
      annotations: { 'deployment.kubernetes.io/revision': '3' },
      finalizers: ['example.com/keep'],
    },
    spec: {
      replicas: 3,
      selector: { matchLabels: { app: 'web' } },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: {
          containers: [
            {
              name: 'web',
              image: 'nginx:1.25',
              ports: [{ containerPort: 80, protocol: 'TCP' }],
              env: [{ name: 'MODE', value: 'prod' }, { name: 'LOG', value: 'info' }],
              resources: { limits: { memory: '256Mi' }, requests: { cpu: '100m', memory: '128Mi' } },
            },
            { name: 'proxy', image: 'envoy:1.30' },
          ],
          tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'web', effect: 'NoSchedule' }],
          nodeSelector: { pool: 'general' },
        },
      },
    },
    status: { replicas: 3, readyReplicas: 3 },
  };
}

const containers = (o: K8sObject) => o.spec.template.spec.containers as { name: string; image: string; env?: unknown[] }[];

test('rollout restart: annotation on the pod template is added, nothing else changes, input untouched', () => {
  const d = deployment();
  const before = structuredClone(d);
  const out = applyPatch(SMP, d, { spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': '2025-03-01T10:00:00Z' } } } } });
  assert.deepEqual(out.spec.template.metadata.annotations, { 'kubectl.kubernetes.io/restartedAt': '2025-03-01T10:00:00Z' });
  assert.deepEqual(out.spec.template.metadata.labels, { app: 'web' });
  assert.deepEqual(containers(out), containers(before));
  assert.deepEqual(d, before, 'original must not be mutated');
});

test('set image: containers merged by name, $setElementOrder keeps order, directive not stored', () => {
  const out = applyPatch(SMP, deployment(), {
    spec: { template: { spec: { '$setElementOrder/containers': [{ name: 'web' }, { name: 'proxy' }], containers: [{ name: 'proxy', image: 'envoy:1.31' }] } } },
  });
  assert.deepEqual(containers(out).map((c) => `${c.name}=${c.image}`), ['web=nginx:1.25', 'proxy=envoy:1.31']);
  assert.equal(containers(out)[0].env?.length, 2);
  assert.ok(!('$setElementOrder/containers' in out.spec.template.spec));
});

test('rollout undo: JSON patch replacing the template and the annotations', () => {
  const template = structuredClone(deployment().spec.template);
  template.spec.containers[0].image = 'nginx:1.24';
  template.metadata.creationTimestamp = null; // how kubectl 1.32 marshals an empty metav1.Time
  const out = applyPatch(JSONP, deployment(), [
    { op: 'replace', path: '/spec/template', value: template },
    { op: 'replace', path: '/metadata/annotations', value: { 'deployment.kubernetes.io/revision': '3' } },
  ]);
  assert.equal(containers(out)[0].image, 'nginx:1.24');
  assert.deepEqual(out.spec.template.metadata, { labels: { app: 'web' } });
  assert.equal(out.spec.replicas, 3);
});

test('cordon and uncordon a node; taints are an atomic list', () => {
  const node: K8sObject = {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: 'node-1', labels: { 'kubernetes.io/hostname': 'node-1' } },
    spec: { podCIDR: '10.244.1.0/24', taints: [{ key: 'a', effect: 'NoSchedule' }, { key: 'b', effect: 'NoExecute' }] },
    status: { conditions: [{ type: 'Ready', status: 'True' }, { type: 'MemoryPressure', status: 'False' }] },
  };
  const cordoned = applyPatch(SMP, node, { spec: { unschedulable: true } });
  assert.equal(cordoned.spec.unschedulable, true);
  assert.equal(cordoned.spec.podCIDR, '10.244.1.0/24');
  const uncordoned = applyPatch(SMP, cordoned, { spec: { unschedulable: null } });
  assert.ok(!('unschedulable' in uncordoned.spec));
  const tainted = applyPatch(SMP, node, { spec: { taints: [{ key: 'c', effect: 'NoSchedule' }] } });
  assert.deepEqual(tainted.spec.taints, [{ key: 'c', effect: 'NoSchedule' }]);
  const status = applyPatch(SMP, node, { status: { conditions: [{ type: 'Ready', status: 'False', reason: 'KubeletNotReady' }] } });
  assert.deepEqual(status.status.conditions, [
    { type: 'Ready', status: 'False', reason: 'KubeletNotReady' },
    { type: 'MemoryPressure', status: 'False' },
  ]);
});

test('label and annotate send merge patches; null removes a key', () => {
  const out = applyPatch(MERGE, deployment(), { metadata: { labels: { tier: 'frontend', app: null }, annotations: { note: 'x' } } });
  assert.deepEqual(out.metadata.labels, { tier: 'frontend' });
  assert.equal(out.metadata.annotations!.note, 'x');
  assert.equal(out.metadata.annotations!['deployment.kubernetes.io/revision'], '3');
});

test('merge patch replaces lists whole and prunes nulls inside new objects', () => {
  const out = applyPatch(MERGE, deployment(), { spec: { template: { spec: { containers: [{ name: 'only', image: 'x' }] } }, paused: { a: 1, b: null } } });
  assert.deepEqual(containers(out), [{ name: 'only', image: 'x' }]);
  assert.deepEqual(out.spec.paused, { a: 1 });
  assert.throws(() => applyPatch(MERGE, deployment(), [1]), (e: any) => e.code === 400 && e.reason === 'BadRequest');
});

test('kubectl apply: $retainKeys drops rollingUpdate when switching to Recreate', () => {
  const out = applyPatch(SMP, deployment(), { spec: { strategy: { $retainKeys: ['type'], rollingUpdate: null, type: 'Recreate' } } });
  assert.deepEqual(out.spec.strategy, { type: 'Recreate' });
  assert.throws(
    () => applyPatch(SMP, deployment(), { spec: { strategy: { $retainKeys: ['type'], type: 'Recreate', extra: 1 } } }),
    (e: any) => e.code === 400 && e.message === 'invalid patch format of retainKeys',
  );
});

test('kubectl apply: deletes a container and an env var, adds one, keeps the declared order', () => {
  const out = applyPatch(SMP, deployment(), {
    metadata: { annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{}' } },
    spec: {
      replicas: 5,
      template: {
        spec: {
          '$setElementOrder/containers': [{ name: 'web' }, { name: 'metrics' }],
          containers: [
            { name: 'web', '$setElementOrder/env': [{ name: 'MODE' }, { name: 'DEBUG' }], env: [{ name: 'DEBUG', value: '1' }, { $patch: 'delete', name: 'LOG' }] },
            { name: 'metrics', image: 'exporter:2' },
            { $patch: 'delete', name: 'proxy' },
          ],
        },
      },
    },
  });
  assert.equal(out.spec.replicas, 5);
  assert.deepEqual(containers(out).map((c) => c.name), ['web', 'metrics']);
  assert.deepEqual(containers(out)[0].env, [{ name: 'MODE', value: 'prod' }, { name: 'DEBUG', value: '1' }]);
  assert.equal(out.metadata.annotations!['kubectl.kubernetes.io/last-applied-configuration'], '{}');
});

test('items added without $setElementOrder go before server-only items, like the real server', () => {
  const out = applyPatch(SMP, deployment(), {
    spec: { template: { spec: { containers: [{ name: 'web', env: [{ name: 'NEW', value: 'y' }] }] } } },
  });
  assert.deepEqual((containers(out)[0].env as { name: string }[]).map((e) => e.name), ['NEW', 'MODE', 'LOG']);
});

test('finalizers merge as a set; $deleteFromPrimitiveList removes entries', () => {
  const added = applyPatch(SMP, deployment(), { metadata: { finalizers: ['example.com/keep', 'example.com/other'] } });
  assert.deepEqual(added.metadata.finalizers, ['example.com/keep', 'example.com/other']);
  const removed = applyPatch(SMP, added, { metadata: { '$deleteFromPrimitiveList/finalizers': ['example.com/keep'] } });
  assert.deepEqual(removed.metadata.finalizers, ['example.com/other']);
  const untouched = applyPatch(SMP, deployment(), { metadata: { '$deleteFromPrimitiveList/missing': ['x'] } });
  assert.ok(!('missing' in untouched.metadata));
});

test('ownerReferences merge by uid, tolerations (no merge key) are replaced', () => {
  const pod: K8sObject = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web-1', namespace: 'default', ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-abc', uid: 'u1', controller: true }] },
    spec: { containers: [{ name: 'web', image: 'nginx' }], tolerations: [{ key: 'a', operator: 'Exists' }] },
    status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }, { type: 'PodScheduled', status: 'True' }] },
  };
  const orphaned = applyPatch(SMP, pod, { metadata: { ownerReferences: [{ $patch: 'delete', uid: 'u1' }] } });
  assert.deepEqual(orphaned.metadata.ownerReferences, []);
  const adopted = applyPatch(SMP, pod, { metadata: { ownerReferences: [{ apiVersion: 'v1', kind: 'X', name: 'x', uid: 'u2' }] } });
  assert.deepEqual(adopted.metadata.ownerReferences!.map((r) => r.uid), ['u2', 'u1']);
  const tol = applyPatch(SMP, pod, { spec: { tolerations: [{ key: 'b', operator: 'Exists' }] } });
  assert.deepEqual(tol.spec.tolerations, [{ key: 'b', operator: 'Exists' }]);
  const ready = applyPatch(SMP, pod, { status: { conditions: [{ type: 'Ready', status: 'False' }] } });
  assert.deepEqual(ready.status.conditions, [{ type: 'Ready', status: 'False' }, { type: 'PodScheduled', status: 'True' }]);
});

test('$patch: replace on a map and on a list', () => {
  const map = applyPatch(SMP, deployment(), { spec: { template: { spec: { nodeSelector: { $patch: 'replace', zone: 'b' } } } } });
  assert.deepEqual(map.spec.template.spec.nodeSelector, { zone: 'b' });
  const list = applyPatch(SMP, deployment(), { spec: { template: { spec: { containers: [{ $patch: 'replace' }, { name: 'solo', image: 's:1' }] } } } });
  assert.deepEqual(containers(list), [{ name: 'solo', image: 's:1' }]);
  const gone = applyPatch(SMP, deployment(), { spec: { template: { spec: { nodeSelector: { $patch: 'delete' } } } } });
  assert.deepEqual(gone.spec.template.spec.nodeSelector, {});
});

test('service ports merge by port', () => {
  const svc: K8sObject = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'web', namespace: 'default' },
    spec: { type: 'ClusterIP', ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }], selector: { app: 'web' } },
  };
  const out = applyPatch(SMP, svc, { spec: { ports: [{ port: 80, targetPort: 9090 }, { name: 'https', port: 443, protocol: 'TCP' }] } });
  assert.deepEqual(out.spec.ports, [
    { name: 'http', port: 80, targetPort: 9090, protocol: 'TCP' },
    { name: 'https', port: 443, protocol: 'TCP' },
  ]);
});

test('new fields are stored without nulls or directives', () => {
  const out = applyPatch(SMP, deployment(), {
    spec: { template: { spec: { affinity: { nodeAffinity: { x: null, y: 1 } }, volumes: [{ name: 'data', emptyDir: {} }, { $patch: 'delete', name: 'old' }] } } },
  });
  assert.deepEqual(out.spec.template.spec.affinity, { nodeAffinity: { y: 1 } });
  assert.deepEqual(out.spec.template.spec.volumes, [{ name: 'data', emptyDir: {} }]);
});

test('strategic merge patch errors match the server', () => {
  assert.throws(() => applyPatch(SMP, deployment(), { spec: { $patch: 'bogus' } }), (e: any) => e.code === 500 && /unknown patch type: bogus/.test(e.message));
  assert.throws(
    () => applyPatch(SMP, deployment(), { spec: { template: { spec: { containers: [{ image: 'no-name' }] } } } }),
    (e: any) => e.code === 500 && /does not contain declared merge key: name/.test(e.message),
  );
  assert.throws(
    () => applyPatch(SMP, deployment(), { spec: { template: { spec: { containers: [{ $patch: 'merge' }] } } } }),
    (e: any) => e.code === 500 && e.message === 'merging lists cannot yet be specified in the patch',
  );
  assert.throws(
    () => applyPatch(SMP, deployment(), { spec: { template: { spec: { '$setElementOrder/containers': [{ name: 'web' }], containers: [{ name: 'proxy', image: 'p' }] } } } }),
    (e: any) => e.code === 500 && /doesn't match \$setElementOrder list/.test(e.message),
  );
  assert.throws(() => applyPatch(SMP, deployment(), [] as unknown), (e: any) => e.code === 400 && e.message === 'invalid JSON document');
});

test('JSON patch: test failures and bad operations are 422 with the cause; non-arrays are 400', () => {
  const failure = (e: any, cause: RegExp) =>
    e.code === 422 &&
    e.reason === 'Invalid' &&
    e.message === 'the server rejected our request due to an error in our request' &&
    cause.test(e.details.causes[0].message);
  assert.throws(() => applyPatch(JSONP, deployment(), [{ op: 'test', path: '/spec/replicas', value: 1 }]), (e) => failure(e, /^testing value \/spec\/replicas failed: test failed$/));
  assert.throws(() => applyPatch(JSONP, deployment(), [{ op: 'frobnicate', path: '/spec' }]), (e) => failure(e, /^Unexpected kind: frobnicate$/));
  assert.throws(() => applyPatch(JSONP, deployment(), [{ op: 'replace', path: '/spec/paused', value: true }]), (e) => failure(e, /replace operation does not apply/));
  assert.throws(() => applyPatch(JSONP, deployment(), [{ op: 'add', path: '/spec/a/b', value: 1 }]), (e) => failure(e, /add operation does not apply/));
  assert.throws(() => applyPatch(JSONP, deployment(), { op: 'add' }), (e: any) => e.code === 400);
  const ok = applyPatch(JSONP, deployment(), [
    { op: 'test', path: '/spec/replicas', value: 3 },
    { op: 'add', path: '/metadata/labels/app.kubernetes.io~1part-of', value: 'shop' },
    { op: 'remove', path: '/metadata/finalizers/0' },
  ]);
  assert.equal(ok.metadata.labels!['app.kubernetes.io/part-of'], 'shop');
  assert.deepEqual(ok.metadata.finalizers, []);
});

test('unknown patch content types are 415; parameters on known ones are ignored', () => {
  assert.throws(() => applyPatch('application/json', deployment(), {}), (e: any) => e.code === 415 && e.reason === 'UnsupportedMediaType');
  const out = applyPatch('application/merge-patch+json; charset=utf-8', deployment(), { spec: { replicas: 1 } });
  assert.equal(out.spec.replicas, 1);
});
