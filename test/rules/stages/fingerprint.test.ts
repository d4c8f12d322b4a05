import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fingerprint, detectionLabels } from '../../../src/rules/stages/fingerprint.ts';
import type { Subject } from '../../../src/rules/types.ts';

const web: Subject = { cluster: 'prod', kind: 'Deployment', namespace: 'shop', name: 'web' };

test('fingerprint is short hex and stable under key order', () => {
  const a = fingerprint('crashloop', web, { container: 'app', reason: 'OOMKilled' });
  const reordered: Subject = { name: 'web', namespace: 'shop', kind: 'Deployment', cluster: 'prod' };
  const b = fingerprint('crashloop', reordered, { reason: 'OOMKilled', container: 'app' });
  assert.match(a, /^[0-9a-f]{16}$/);
  assert.equal(a, b);
});

test('fingerprint ignores the uid: a recreated object is the same failure', () => {
  assert.equal(fingerprint('r', web), fingerprint('r', { ...web, uid: 'u-1' }));
});

test('fingerprint differs by rule, cluster, subject and extra', () => {
  const base = fingerprint('crashloop', web);
  const others = [
    fingerprint('oom', web),
    fingerprint('crashloop', { ...web, cluster: 'staging' }),
    fingerprint('crashloop', { ...web, namespace: 'default' }),
    fingerprint('crashloop', { ...web, kind: 'StatefulSet' }),
    fingerprint('crashloop', { ...web, name: 'api' }),
    fingerprint('crashloop', web, { container: 'app' }),
    fingerprint('crashloop', { ...web, namespace: undefined }),
  ];
  assert.equal(new Set([base, ...others]).size, others.length + 1);
});

test('fingerprint cannot be confused by values that look like separators', () => {
  const a = fingerprint('r', { cluster: 'a/b', kind: 'Pod', name: 'c' });
  const b = fingerprint('r', { cluster: 'a', kind: 'b/Pod', name: 'c' });
  assert.notEqual(a, b);
  assert.notEqual(fingerprint('r', web, { a: 'b,c' }), fingerprint('r', web, { a: 'b', c: '' }));
});

test('detectionLabels: identity labels plus rule labels, identity wins', () => {
  const labels = detectionLabels(
    { name: 'crashloop', severity: 'critical', labels: { team: 'payments', name: 'spoof', namespace: 'x' } },
    web,
  );
  assert.deepEqual(labels, {
    team: 'payments', rule: 'crashloop', cluster: 'prod', namespace: 'shop', kind: 'Deployment', name: 'web', severity: 'critical',
  });
});

test('detectionLabels: a cluster-scoped subject has no namespace label', () => {
  const labels = detectionLabels({ name: 'node-down', severity: 'warning', labels: { namespace: 'x' } }, { cluster: 'prod', kind: 'Node', name: 'n1' });
  assert.equal('namespace' in labels, false);
  assert.equal(labels.kind, 'Node');
});
