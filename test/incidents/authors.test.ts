// Who made a change: the cache keeps a small projection of managedFields,
// the writer whose entry moved is the author (a status write never is), and
// writers outside the expected managers are flagged.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MANAGED_FIELDS_KEPT, projectManagedFields, stripBulk } from '../../src/kube/transform.ts';
import type { KubeObject } from '../../src/kube/types.ts';
import { authorOf, changeAuthorText, expectedManagers } from '../../src/incidents/authors.ts';
import { ChangeFeed } from '../../src/incidents/change-feed.ts';
import { attribute } from '../../src/incidents/timeline.ts';
import type { ChangeEntry } from '../../src/incidents/types.ts';
import type { RunRecord, StepTransition } from '../../src/store/index.ts';

const T0 = Date.UTC(2026, 0, 1);
const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');
const entry = (manager: string, at: number, extra: Record<string, unknown> = {}) => ({
  manager, operation: 'Update', apiVersion: 'apps/v1', time: iso(at), fieldsType: 'FieldsV1', fieldsV1: { 'f:spec': { 'f:replicas': {} } }, ...extra,
});

function deployment(image: string, managedFields: unknown[]): KubeObject {
  return {
    apiVersion: 'apps/v1', kind: 'Deployment',
    metadata: { name: 'checkout', namespace: 'shop', creationTimestamp: iso(T0 - 3_600_000), managedFields, annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{"big":"x"}', team: 'shop' } },
    spec: { replicas: 2, template: { spec: { containers: [{ name: 'checkout', image }] } } },
  };
}

test('the cache keeps who wrote an object and when, not the field sets; newest first, bounded', { timeout: 10_000 }, () => {
  const many = Array.from({ length: 12 }, (_, i) => entry(`tool-${i}`, T0 + i * 1000));
  const o = stripBulk(deployment('a', [...many, { manager: 42 }, entry('kube-controller-manager', T0 + 60_000, { subresource: 'status' })]));
  const kept = o.metadata.managedFields as Record<string, unknown>[];
  assert.equal(kept.length, MANAGED_FIELDS_KEPT);
  assert.deepEqual(kept[0], { manager: 'kube-controller-manager', operation: 'Update', time: iso(T0 + 60_000), subresource: 'status' });
  assert.deepEqual(kept.slice(1).map((e) => e.manager), ['tool-11', 'tool-10', 'tool-9', 'tool-8', 'tool-7', 'tool-6', 'tool-5']);
  assert.ok(kept.every((e) => !('fieldsV1' in e) && !('apiVersion' in e)), 'no field sets');
  assert.deepEqual(o.metadata.annotations, { team: 'shop' }, 'last-applied-configuration dropped, the rest kept');
  assert.deepEqual(projectManagedFields([null, 'x', { manager: 'm', operation: 'Delete' }]), [], 'malformed entries are left out');
});

test('the author is the writer whose entry moved; a status write or an unmoved list names nobody', { timeout: 10_000 }, () => {
  const before = stripBulk(deployment('a', [entry('kubectl-client-side-apply', T0), entry('kube-controller-manager', T0 + 5000, { subresource: 'status' })]));
  const after = stripBulk(deployment('b', [entry('kubectl-client-side-apply', T0), entry('kubectl-set', T0 + 61_000), entry('kube-controller-manager', T0 + 62_000, { subresource: 'status' })]));
  assert.deepEqual(authorOf(before, after), { manager: 'kubectl-set', operation: 'Update', time: T0 + 61_000, from: 'managedFields' });

  const again = stripBulk(deployment('c', [entry('kubectl-client-side-apply', T0 + 120_000), entry('kubectl-set', T0 + 61_000)]));
  assert.equal(authorOf(after, again)?.manager, 'kubectl-client-side-apply', 'the entry whose time moved, not the latest overall');
  assert.equal(authorOf(again, again), undefined, 'nothing moved: no author (not the last writer by guess)');
  const scaled = stripBulk(deployment('c', [entry('kubectl-scale', T0 + 130_000, { subresource: 'scale' })]));
  assert.deepEqual(authorOf(again, scaled), { manager: 'kubectl-scale', operation: 'Update', time: T0 + 130_000, subresource: 'scale', from: 'managedFields' });
  assert.equal(authorOf(undefined, stripBulk(deployment('a', [entry('kube-controller-manager', T0, { subresource: 'status' })]))), undefined);
  assert.equal(authorOf(undefined, before)?.manager, 'kubectl-client-side-apply', 'a creation: its writer');
});

test('expected managers: the GitOps/CI list (globs allowed), always Kubernetes\' own components and kubemend', { timeout: 10_000 }, () => {
  const defaults = expectedManagers();
  for (const m of ['argocd-controller', 'helm', 'kustomize-controller', 'kube-controller-manager', 'deployment-controller', 'kube-scheduler', 'kubelet', 'kubemend']) assert.ok(defaults(m), m);
  for (const m of ['kubectl-edit', 'kubectl-set', 'kubectl-client-side-apply', 'kubectl', 'Mozilla']) assert.ok(!defaults(m), m);
  const mine = expectedManagers(['argocd-controller', 'ci-*']);
  assert.ok(mine('ci-deploy-42') && mine('argocd-controller') && mine('kube-controller-manager') && mine('kubemend'));
  assert.ok(!mine('helm'), 'the list replaces the default tools');
  assert.ok(!mine('xci-deploy') && !mine('ci'), 'a glob matches the whole name');
  assert.ok(!expectedManagers(['a.b'])('aXb'), 'a dot is a dot');
});

test('the feed names each change\'s author and flags writers outside the pipeline', { timeout: 10_000 }, () => {
  const feed = new ChangeFeed({ expectedManagers: ['argocd-controller'] });
  const v1 = stripBulk(deployment('shop/checkout:1.4.2', [entry('argocd-controller', T0)]));
  const v2 = stripBulk(deployment('shop/checkout:1.5.0', [entry('argocd-controller', T0), entry('kubectl-edit', T0 + 60_000)]));
  const v3 = stripBulk(deployment('shop/checkout:1.6.0', [entry('argocd-controller', T0 + 120_000), entry('kubectl-edit', T0 + 60_000)]));
  const edit = feed.observe({ source: 'object', cluster: 'c1', time: T0 + 60_400, operation: 'update', object: v2, oldObject: v1 })!;
  assert.deepEqual(edit.author, { manager: 'kubectl-edit', operation: 'Update', time: T0 + 60_000, from: 'managedFields' });
  assert.equal(edit.outsidePipeline, true);
  assert.equal(changeAuthorText(edit), 'kubectl-edit at 00:01:00');
  const sync = feed.observe({ source: 'object', cluster: 'c1', time: T0 + 120_300, operation: 'update', object: v3, oldObject: v2 })!;
  assert.equal(sync.author?.manager, 'argocd-controller');
  assert.equal(sync.outsidePipeline, undefined, 'an expected manager is not flagged');
  const unknown = feed.observe({ source: 'object', cluster: 'c1', time: T0 + 130_000, operation: 'update', object: { ...v3, spec: { ...v3.spec, replicas: 5 } }, oldObject: v3 })!;
  assert.equal(unknown.author, undefined, 'no entry moved');
  assert.equal(unknown.outsidePipeline, undefined, 'an unknown author is not flagged');
});

test('a change made during a kubemend step is kubemend\'s only when managedFields do not name another writer', { timeout: 10_000 }, () => {
  const run = { id: '11111111-2222-3333-4444-555555555555', runbook: 'restart', cluster: 'prod', target: { cluster: 'prod', kind: 'Deployment', namespace: 'shop', name: 'api' }, status: 'succeeded', params: {}, startedBy: { type: 'system', name: 'engine' }, dryRun: false, createdAt: T0, updatedAt: T0 + 5000, currentStep: null, outputs: {} } as unknown as RunRecord;
  const steps: StepTransition[] = [
    { runId: run.id, stepId: 'rollout', attempt: 1, status: 'started', time: T0 + 1000 },
    { runId: run.id, stepId: 'rollout', attempt: 1, status: 'succeeded', time: T0 + 3000, output: { mutated: true } },
  ] as StepTransition[];
  const change = (manager?: string): ChangeEntry => ({
    seq: 1, time: T0 + 2000, cluster: 'prod', object: { kind: 'Deployment', namespace: 'shop', name: 'api' }, operation: 'update', category: 'template', summary: 'rollout restart', changes: [],
    ...(manager ? { author: { manager, time: T0 + 2000, from: 'managedFields' as const } } : {}),
  });
  const by = (c: ChangeEntry) => attribute([c], [run], new Map([[run.id, steps]]), [])[0].by;
  assert.equal(by(change('kubemend')), 'kubemend (runbook restart run 11111111 step rollout)');
  assert.equal(by(change()), 'kubemend (runbook restart run 11111111 step rollout)', 'no managedFields: the step\'s window decides, as before');
  assert.equal(by(change('kubectl-edit')), undefined, 'someone\'s kubectl edit during the step is theirs');
});
