// What the rollout watcher reads off cached objects: who made a change, what
// it changed (never an env value), and which annotation sets the window.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeTemplateChange, lastWriter, parseWindow, windowSetting, SMOKE_WINDOW_ANNOTATION } from '../../../src/rules/sources/rollout-state.ts';
import type { KubeObject } from '../../../src/kube/index.ts';

test('the author is the latest writer other than through /status', () => {
  const dep = (managedFields: unknown): KubeObject => ({ kind: 'Deployment', metadata: { name: 'web', namespace: 'shop', managedFields } as KubeObject['metadata'] });
  const entries = [
    { manager: 'helm', operation: 'Update', time: '2026-01-01T10:00:00Z' },
    { manager: 'kubectl-set', operation: 'Update', time: '2026-01-01T11:00:00Z' },
    { manager: 'kube-controller-manager', operation: 'Update', subresource: 'status', time: '2026-01-01T11:00:05Z' },
    { manager: 'kubectl-annotate', operation: 'Update', time: '2026-01-01T09:00:00Z' },
  ];
  assert.deepEqual(lastWriter(dep(entries)), { manager: 'kubectl-set', time: Date.parse('2026-01-01T11:00:00Z') });
  // A projection that dropped the field sets reads the same; no managedFields: no author (never a guess).
  assert.deepEqual(lastWriter(dep(entries.map(({ manager, time, subresource }) => ({ manager, time, ...(subresource ? { subresource } : {}) })))), { manager: 'kubectl-set', time: Date.parse('2026-01-01T11:00:00Z') });
  assert.equal(lastWriter(dep(undefined)), undefined);
  assert.deepEqual(lastWriter(dep([{ manager: 'argocd-controller' }])), { manager: 'argocd-controller' });
});

test('a template change is told by image old → new; other fields by path only, never their values', () => {
  const t = (image: string, env: string, restartedAt?: string) => ({
    metadata: { labels: { app: 'web' }, ...(restartedAt ? { annotations: { 'kubectl.kubernetes.io/restartedAt': restartedAt } } : {}) },
    spec: { containers: [{ name: 'web', image, env: [{ name: 'DB_PASSWORD', value: env }] }] },
  });
  assert.equal(describeTemplateChange(t('web:1', 's3cret'), t('web:2', 's3cret')), 'image web:1 → web:2 (container web)');
  const envOnly = describeTemplateChange(t('web:1', 's3cret'), t('web:1', 'hunter2'));
  assert.equal(envOnly, 'changed template.spec.containers[name=web].env[name=DB_PASSWORD].value');
  assert.doesNotMatch(envOnly, /s3cret|hunter2/);
  assert.equal(describeTemplateChange(t('web:1', 'x'), t('web:1', 'x', '2026-01-01T00:00:00Z')), 'rollout restart');
});

test('the window: the workload annotation, else the namespace annotation, else the default; off and 0 turn it off', () => {
  const w = (v?: string): KubeObject => ({ kind: 'Deployment', metadata: { name: 'web', namespace: 'shop', ...(v ? { annotations: { [SMOKE_WINDOW_ANNOTATION]: v } } : {}) } });
  const ns = (v?: string): KubeObject => ({ kind: 'Namespace', metadata: { name: 'shop', ...(v ? { annotations: { [SMOKE_WINDOW_ANNOTATION]: v } } : {}) } });
  assert.deepEqual(windowSetting(w(), ns(), 300_000), { ms: 300_000, setBy: 'the default', problems: [] });
  assert.deepEqual(windowSetting(w(), ns('10m'), 300_000), { ms: 600_000, setBy: 'annotation kubemend.dev/smoke-window on namespace shop', problems: [] });
  assert.deepEqual(windowSetting(w('90s'), ns('10m'), 300_000), { ms: 90_000, setBy: 'annotation kubemend.dev/smoke-window on deployment/shop/web', problems: [] });
  assert.equal(windowSetting(w('off'), ns('10m'), 300_000).ms, 0);
  assert.equal(windowSetting(w(), ns('0'), 300_000).ms, 0);
  const bad = windowSetting(w('five minutes'), ns('10m'), 300_000);
  assert.equal(bad.ms, 600_000, 'a value that is not a duration is ignored, the next level applies');
  assert.deepEqual(bad.problems, ['annotation kubemend.dev/smoke-window on deployment/shop/web: "five minutes" is neither a duration (5m, 90s) nor off; ignored']);
  assert.deepEqual(['off', 'OFF', '0', '0s', '2m', '1h30m', 'soon', '-1m'].map(parseWindow), [0, 0, 0, 0, 120_000, 5_400_000, undefined, undefined]);
});
