// The clusterrole-aggregation controller: a ClusterRole labelled to aggregate
// into view/edit/admin (or matching any aggregationRule) lends its rules to
// the aggregating role, through view → edit → admin, and takes them back when
// the label or the role goes; RBAC then evaluates the aggregated rules.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../src/common/clock.ts';
import { Sandbox } from '../../src/sandbox/cluster.ts';
import { authorize } from '../../src/sandbox/rbac.ts';
import { aggregatedRules } from '../../src/sandbox/controllers/clusterrole-aggregation.ts';

const CR = 'rbac.authorization.k8s.io/clusterroles';
const settle = () => new Promise((r) => setImmediate(r)).then(() => new Promise((r) => setImmediate(r)));
const widgets = { apiGroups: ['example.com'], resources: ['widgets'], verbs: ['get', 'list', 'watch'] };
const hasWidgets = (s: Sandbox, role: string) => (s.store.get(CR, undefined, role)!.rules ?? []).some((r: any) => r.resources?.includes('widgets'));

test('a role labelled aggregate-to-view reaches view, edit and admin; unlabelled, it leaves them', { timeout: 30_000 }, async () => {
  const s = new Sandbox({ clock: new ManualClock(), nodes: [{ name: 'node-1' }] });
  s.start();
  try {
    const before = s.store.get(CR, undefined, 'admin')!.metadata.resourceVersion;
    await settle();
    assert.equal(s.store.get(CR, undefined, 'admin')!.metadata.resourceVersion, before, 'the bootstrap roles are already aggregated as the controller would write them');
    s.store.create(CR, { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'widgets-view', labels: { 'rbac.authorization.k8s.io/aggregate-to-view': 'true' } }, rules: [widgets] });
    for (let i = 0; i < 4; i++) await settle();
    for (const role of ['view', 'edit', 'admin']) assert.ok(hasWidgets(s, role), `${role} holds the widgets rule`);
    const view = s.store.get(CR, undefined, 'view')!;
    assert.deepEqual(view.rules.at(-1), widgets, 'system:aggregate-to-view sorts before widgets-view');
    const manager: any = (view.metadata.managedFields ?? []).find((m: any) => m.manager === 'clusterrole-aggregation-controller');
    assert.deepEqual([manager?.operation, Object.keys(manager?.fieldsV1 ?? {})], ['Apply', ['f:rules']]);
    const bob = { username: 'bob', groups: ['system:authenticated'] };
    s.store.create('rbac.authorization.k8s.io/clusterrolebindings', {
      metadata: { name: 'bob-edit' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'edit' }, subjects: [{ kind: 'User', name: 'bob' }],
    });
    assert.equal(authorize(s.store, { user: bob, verb: 'list', resourceRequest: true, apiGroup: 'example.com', resource: 'widgets', namespace: 'default' }).allowed, true);

    s.store.mutate(CR, undefined, 'widgets-view', (o) => void (o.metadata.labels = {}));
    for (let i = 0; i < 4; i++) await settle();
    for (const role of ['view', 'edit', 'admin']) assert.ok(!hasWidgets(s, role), `${role} no longer holds it`);
    assert.equal(authorize(s.store, { user: bob, verb: 'list', resourceRequest: true, apiGroup: 'example.com', resource: 'widgets', namespace: 'default' }).allowed, false);
  } finally {
    await s.stop();
  }
});

test('any aggregationRule: matchExpressions, rules in name order, each rule once, hand-written rules replaced', { timeout: 30_000 }, async () => {
  const s = new Sandbox({ clock: new ManualClock(), nodes: [{ name: 'node-1' }] });
  s.start();
  try {
    const pods = { apiGroups: [''], resources: ['pods'], verbs: ['get'] };
    s.store.create(CR, { metadata: { name: 'b-part', labels: { team: 'shop' } }, rules: [widgets, pods] });
    s.store.create(CR, { metadata: { name: 'a-part', labels: { team: 'web' } }, rules: [pods] });
    s.store.create(CR, { metadata: { name: 'c-other', labels: { team: 'ops' } }, rules: [{ apiGroups: [''], resources: ['nodes'], verbs: ['delete'] }] });
    s.store.create(CR, {
      metadata: { name: 'teams' },
      aggregationRule: { clusterRoleSelectors: [{ matchExpressions: [{ key: 'team', operator: 'In', values: ['shop', 'web'] }] }] },
      rules: [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }],
    });
    for (let i = 0; i < 4; i++) await settle();
    assert.deepEqual(s.store.get(CR, undefined, 'teams')!.rules, [pods, widgets], 'a-part then b-part; the repeated pods rule once; the hand-written rule gone');
    // An aggregating role never aggregates itself, even when it matches its own selector.
    const self = { metadata: { name: 'self', labels: { team: 'shop' } }, aggregationRule: { clusterRoleSelectors: [{ matchLabels: { team: 'shop' } }] } } as any;
    assert.deepEqual(aggregatedRules(self, [self, s.store.get(CR, undefined, 'b-part')!]), [widgets, pods]);
  } finally {
    await s.stop();
  }
});
