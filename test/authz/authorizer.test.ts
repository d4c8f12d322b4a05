// The RBAC matrix: who × cluster × namespace × room × action, decided by
// casbin with the shipped model. Groups come from the chat platform or from
// g lines; patterns match every dimension; one deny overrides every allow;
// a refusal names the dimension that failed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Authorizer, parseCsvPolicy, wildcardMatch, type AuthzRequest } from '../../src/authz/index.ts';

const POLICY = `
# everyone may look from ops
p, *, *, *, ops, status
p, group:sre, *, *, ops, *
p, group:sre, *, *, incident-*, *
p, *, *, kube-system, *, *, deny
p, group:team-a, dev, team-a-*, team-a, restart
p, group:team-a, dev, team-a-*, team-a, scale
p, carol, prod, payments, "#payments", rollback
p, erin, *, *, *, *
p, erin, prod, *, *, scale, deny
p, group:leads, prod, *, ops, approve
g, alice, group:sre
g, group:sre, group:oncall
p, group:oncall, staging, *, war-room, restart
`;

const authz = await Authorizer.fromPolicy(parseCsvPolicy('policy.csv', POLICY));
const req = (user: string, groups: string[], cluster: string, namespace: string, room: string, action: AuthzRequest['action']): AuthzRequest => ({ user, groups, cluster, namespace, room, action });

test('the matrix: users, platform groups, policy groups, wildcards, rooms and actions', async () => {
  const rows: [AuthzRequest, boolean][] = [
    // alice is an SRE through a g line: everything from ops and incident rooms, nothing from elsewhere (but status from ops).
    [req('alice', [], 'prod', 'shop', 'ops', 'restart'), true],
    [req('alice', [], 'prod', 'shop', 'incident-42', 'rollback'), true],
    [req('alice', [], 'prod', 'shop', 'random', 'restart'), false],
    // Roles inherit: sre ⊂ oncall, so alice may restart on staging from war-room.
    [req('alice', [], 'staging', 'web', 'war-room', 'restart'), true],
    [req('alice', [], 'staging', 'web', 'war-room', 'scale'), false],
    // bob is an SRE only by what the chat platform says.
    [req('bob', ['sre'], 'dev', 'x', 'ops', 'scale'), true],
    [req('bob', [], 'dev', 'x', 'ops', 'scale'), false],
    [req('bob', [], 'dev', 'x', 'ops', 'status'), true],
    // team-a: its namespaces (glob) on dev, from its room, two actions.
    [req('tom', ['team-a'], 'dev', 'team-a-web', 'team-a', 'restart'), true],
    [req('tom', ['team-a'], 'dev', 'team-a-api', 'team-a', 'scale'), true],
    [req('tom', ['team-a'], 'dev', 'team-b-web', 'team-a', 'restart'), false],
    [req('tom', ['team-a'], 'prod', 'team-a-web', 'team-a', 'restart'), false],
    [req('tom', ['team-a'], 'dev', 'team-a-web', 'team-a', 'rollback'), false],
    [req('tom', ['team-a'], 'dev', 'team-a-web', 'ops', 'restart'), false],
    // A room written with # in the policy, asked without (and with).
    [req('carol', [], 'prod', 'payments', 'payments', 'rollback'), true],
    [req('carol', [], 'prod', 'payments', '#payments', 'rollback'), true],
    // Deny overrides allow: kube-system for everyone (even an SRE, even erin's *), erin's scale on prod.
    [req('alice', [], 'prod', 'kube-system', 'ops', 'restart'), false],
    [req('alice', [], 'prod', 'kube-system', 'ops', 'status'), false],
    [req('erin', [], 'dev', 'kube-system', 'ops', 'status'), false],
    [req('erin', [], 'prod', 'shop', 'anywhere', 'restart'), true],
    [req('erin', [], 'prod', 'shop', 'anywhere', 'scale'), false],
    [req('erin', [], 'dev', 'shop', 'anywhere', 'scale'), true],
    // A deny for one of the user's identities beats an allow for another (erin's deny applies whatever her groups).
    [req('erin', ['sre'], 'prod', 'shop', 'ops', 'scale'), false],
    // approve is its own action.
    [req('lee', ['leads'], 'prod', 'shop', 'ops', 'approve'), true],
    [req('lee', ['leads'], 'prod', 'shop', 'ops', 'restart'), false],
    [req('lee', ['leads'], 'dev', 'shop', 'ops', 'approve'), false],
    // Nobody else.
    [req('mallory', [], 'dev', 'shop', 'ops', 'restart'), false],
    [req('mallory', ['leads-not'], 'prod', 'shop', 'ops', 'approve'), false],
  ];
  for (const [r, want] of rows) {
    const d = await authz.check(r);
    assert.equal(d.allowed, want, `${JSON.stringify(r)} → ${JSON.stringify(d)}`);
  }
});

test('a refusal says which dimension failed', async () => {
  const cases: [AuthzRequest, string, RegExp][] = [
    [req('mallory', [], 'dev', 'shop', 'random', 'restart'), 'action', /mallory may not restart anywhere \(allowed: status\)/],
    [req('tom', ['team-a'], 'dev', 'team-a-web', 'team-a', 'rollback'), 'action', /tom \(groups: team-a\) may not rollback anywhere \(allowed: restart, scale, status\)/],
    [req('tom', ['team-a'], 'prod', 'team-a-web', 'team-a', 'restart'), 'cluster', /may not restart on cluster prod \(allowed clusters: dev, staging\)|may not restart on cluster prod \(allowed clusters: dev\)/],
    [req('tom', ['team-a'], 'dev', 'team-b-web', 'team-a', 'restart'), 'namespace', /may not restart in namespace team-b-web on cluster dev \(allowed namespaces: team-a-\*\)/],
    [req('tom', ['team-a'], 'dev', 'team-a-web', 'ops', 'restart'), 'room', /from room ops; ask from team-a/],
    [req('alice', [], 'prod', 'kube-system', 'ops', 'restart'), 'deny', /restart in namespace kube-system on cluster prod is explicitly denied for alice by the policy \(policy\.csv:6\)/],
    [req('erin', ['sre'], 'prod', 'shop', 'ops', 'scale'), 'deny', /explicitly denied for erin by the policy \(policy\.csv:11\)/],
  ];
  for (const [r, dim, re] of cases) {
    const d = await authz.check(r);
    assert.equal(d.allowed, false);
    if (d.allowed) continue;
    assert.equal(d.dimension, dim, `${JSON.stringify(r)}: ${d.reason}`);
    assert.match(d.reason, re);
  }
});

test('a user no rule mentions is told so', async () => {
  const strict = await Authorizer.fromPolicy(parseCsvPolicy('strict.csv', 'p, group:sre, *, *, ops, *\n'));
  const d = await strict.check(req('mallory', ['dev'], 'dev', 'shop', 'ops', 'status'));
  assert.equal(d.allowed, false);
  if (!d.allowed) {
    assert.equal(d.dimension, 'subject');
    assert.match(d.reason, /mallory \(groups: dev\) has no chat permissions in the policy/);
  }
});

test('an allow names the rule and the identity it matched', async () => {
  const d = await authz.check(req('bob', ['sre'], 'dev', 'x', 'ops', 'scale'));
  assert.ok(d.allowed);
  if (d.allowed) {
    assert.equal(d.subject, 'group:sre');
    assert.equal(d.rule.source, 'policy.csv:4');
  }
});

test('group membership: platform groups, g lines and inherited roles', async () => {
  assert.equal(await authz.memberOf('alice', [], 'sre'), true);
  assert.equal(await authz.memberOf('alice', [], 'oncall'), true);
  assert.equal(await authz.memberOf('bob', ['leads'], 'leads'), true);
  assert.equal(await authz.memberOf('bob', [], 'leads'), false);
  // A user named like a group is not the group.
  assert.equal(await authz.memberOf('sre', [], 'sre'), false);
});

test('wildcards: * is any run (slashes too), ? one character, everything else literal', () => {
  assert.ok(wildcardMatch('arn:aws:eks:eu-west-1:123:cluster/prod', 'arn:aws:eks:*:cluster/prod'));
  assert.ok(wildcardMatch('team-a-web', 'team-a-*'));
  assert.ok(!wildcardMatch('team-ab', 'team-a-*'));
  assert.ok(wildcardMatch('prod1', 'prod?'));
  assert.ok(!wildcardMatch('prod', 'pr.d'));
  assert.ok(wildcardMatch('a+b', 'a+b'));
});

test('a user allowed directly is denied when one of their groups is denied, whatever order the identities are checked in', async () => {
  // dave's own allow is found first (the user is checked before the groups);
  // the deny on a group checked after it must still win.
  const p = await Authorizer.fromPolicy(parseCsvPolicy('policy.csv', `
p, dave, prod, *, ops, *
p, group:contractors, prod, payments, *, *, deny
p, group:offboarded, *, *, *, *, deny
g, dave, group:offboarded-later
p, group:offboarded-later, prod, billing, *, restart, deny
`));
  assert.equal((await p.check(req('dave', [], 'prod', 'payments', 'ops', 'restart'))).allowed, true, 'allowed on his own');
  // Deny through a platform group, checked after the user.
  const viaPlatform = await p.check(req('dave', ['contractors'], 'prod', 'payments', 'ops', 'restart'));
  assert.equal(viaPlatform.allowed, false);
  assert.ok(!viaPlatform.allowed && viaPlatform.dimension === 'deny' && /dave \(as group:contractors\)/.test(viaPlatform.reason), JSON.stringify(viaPlatform));
  // …also when the denied group is not the first group reported.
  assert.equal((await p.check(req('dave', ['readers', 'offboarded'], 'prod', 'shop', 'ops', 'status'))).allowed, false);
  // Deny through a group granted by a g line.
  assert.equal((await p.check(req('dave', [], 'prod', 'billing', 'ops', 'restart'))).allowed, false);
  // Elsewhere the group's deny does not reach, and dave's allow stands.
  assert.equal((await p.check(req('dave', ['contractors'], 'prod', 'shop', 'ops', 'restart'))).allowed, true);
});
