// Object diffs as readable leaf paths, and the path syntax rules use to read values.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { diffObjects, getPath, parsePath, formatPath } from '../../src/rules/diff.ts';

const deployment = (memory: string, opts: { image?: string; order?: 'app-first' | 'sidecar-first'; rv?: string; replicas?: number } = {}) => {
  const app = { name: 'app', image: opts.image ?? 'shop/web:1.0', resources: { limits: { memory } } };
  const sidecar = { name: 'proxy', image: 'envoy:1.30', args: ['--log', 'info'] };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'shop', resourceVersion: opts.rv ?? '1', generation: 1, labels: { 'app.kubernetes.io/name': 'web' } },
    spec: { replicas: opts.replicas ?? 3, template: { spec: { containers: opts.order === 'sidecar-first' ? [sidecar, app] : [app, sidecar] } } },
    status: { readyReplicas: 3 },
  };
};

test('a changed container field is reported by container name, with old and new values', () => {
  const d = diffObjects(deployment('256Mi'), deployment('512Mi', { rv: '2' }));
  assert.deepEqual(d, [{ path: 'spec.template.spec.containers[name=app].resources.limits.memory', old: '256Mi', new: '512Mi' }]);
});

test('reordering named containers is not a change', () => {
  assert.deepEqual(diffObjects(deployment('1Gi'), deployment('1Gi', { order: 'sidecar-first' })), []);
});

test('resourceVersion, generation and managedFields are never reported; status only unless asked to ignore it', () => {
  const a = deployment('1Gi');
  const b = { ...deployment('1Gi', { rv: '9' }), status: { readyReplicas: 1 } };
  b.metadata.generation = 4;
  (b.metadata as Record<string, unknown>).managedFields = [{ manager: 'kubectl' }];
  assert.deepEqual(diffObjects(a, b), [{ path: 'status.readyReplicas', old: 3, new: 1 }]);
  assert.deepEqual(diffObjects(a, b, { ignoreStatus: true }), []);
  assert.deepEqual(diffObjects(a, b, { ignore: ['status'] }), []);
});

test('ignore takes path prefixes with * for any one segment', () => {
  const a = deployment('1Gi');
  const b = deployment('2Gi', { image: 'shop/web:2.0' });
  const paths = (ignore: string[]) => diffObjects(a, b, { ignore }).map((c) => c.path);
  assert.deepEqual(paths(['spec.template.spec.containers[*].image']), ['spec.template.spec.containers[name=app].resources.limits.memory']);
  assert.deepEqual(paths(['spec.template']), []);
});

test('added and removed subtrees are one change each; lists of scalars are compared whole', () => {
  const a = deployment('1Gi');
  const b = deployment('1Gi');
  (b.spec.template.spec.containers[1] as Record<string, unknown>).args = ['--log', 'debug'];
  (b.spec as Record<string, unknown>).strategy = { type: 'Recreate' };
  delete (b.metadata.labels as Record<string, string>)['app.kubernetes.io/name'];
  assert.deepEqual(diffObjects(a, b), [
    { path: 'metadata.labels["app.kubernetes.io/name"]', old: 'web', new: undefined },
    { path: 'spec.template.spec.containers[name=proxy].args', old: ['--log', 'info'], new: ['--log', 'debug'] },
    { path: 'spec.strategy', old: undefined, new: { type: 'Recreate' } },
  ]);
});

test('an added or removed container is reported under its name', () => {
  const a = deployment('1Gi');
  const b = deployment('1Gi');
  b.spec.template.spec.containers.pop();
  assert.deepEqual(diffObjects(a, b).map((c) => [c.path, c.new]), [['spec.template.spec.containers[name=proxy]', undefined]]);
});

test('conditions are matched by type', () => {
  const a = { status: { conditions: [{ type: 'Ready', status: 'True' }, { type: 'MemoryPressure', status: 'False' }] } };
  const b = { status: { conditions: [{ type: 'MemoryPressure', status: 'True' }, { type: 'Ready', status: 'True' }] } };
  assert.deepEqual(diffObjects(a, b), [{ path: 'status.conditions[type=MemoryPressure].status', old: 'False', new: 'True' }]);
});

test('unnamed lists of objects of the same length are compared by index', () => {
  const a = { spec: { tolerations: [{ key: 'a', effect: 'NoSchedule' }] } };
  const b = { spec: { tolerations: [{ key: 'a', effect: 'NoExecute' }] } };
  assert.deepEqual(diffObjects(a, b), [{ path: 'spec.tolerations[0].effect', old: 'NoSchedule', new: 'NoExecute' }]);
});

test('getPath reads by key, index, selector and quoted key; missing steps give undefined', () => {
  const d = deployment('512Mi');
  assert.equal(getPath(d, 'spec.template.spec.containers[name=app].resources.limits.memory'), '512Mi');
  assert.equal(getPath(d, 'spec.template.spec.containers[1].image'), 'envoy:1.30');
  assert.equal(getPath(d, 'metadata.labels["app.kubernetes.io/name"]'), 'web');
  assert.equal(getPath(d, 'spec.template.spec.containers[name=nope].image'), undefined);
  assert.equal(getPath(d, 'spec.replicas.deeper'), undefined);
  assert.equal(getPath(d, 'spec.template.spec.containers[7]'), undefined);
});

test('paths round-trip through parse and format; malformed paths name the position', () => {
  for (const p of ['spec.template.spec.containers[name=app].image', 'a[0].b', 'metadata.labels["app.kubernetes.io/name"]']) {
    assert.equal(formatPath(parsePath(p)), p);
  }
  assert.throws(() => parsePath('spec..x'), /invalid path "spec..x" at character 6/);
  assert.throws(() => parsePath('a[x'), /missing \]/);
  assert.throws(() => parsePath('a[x]'), /expected \[number\]/);
});
