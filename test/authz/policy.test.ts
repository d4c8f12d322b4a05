// Policy files: casbin CSV and the YAML form become the same rules; every
// mistake is reported as file:line with what is wrong; the shipped example
// policy loads and means what its comments say.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Authorizer, loadPolicyFile, parseCsvPolicy, type ChatAction } from '../../src/authz/index.ts';
import { ConfigError } from '../../src/common/config.ts';

const dir = mkdtempSync(join(tmpdir(), 'km-policy-'));
const write = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

test('CSV: comments, quoted fields, default effect allow, group prefix added, # dropped from rooms', () => {
  const p = parseCsvPolicy('p.csv', '# c\n\np, group:sre, *, *, "#ops", *\np, bob, prod, "a,b", ops, scale, deny\ng, alice, sre\n');
  assert.deepEqual(p.rules.map((r) => [r.sub, r.cluster, r.namespace, r.room, r.action, r.effect, r.source]), [
    ['group:sre', '*', '*', 'ops', '*', 'allow', 'p.csv:3'],
    ['bob', 'prod', 'a,b', 'ops', 'scale', 'deny', 'p.csv:4'],
  ]);
  assert.deepEqual(p.groups, [{ member: 'alice', group: 'group:sre', source: 'p.csv:5' }]);
});

test('CSV: every bad line is reported with its line number', () => {
  const file = write('bad.csv', 'p, a, b, c, d\np, a, *, *, ops, reboot\np, a, *, *, ops, scale, maybe\nx, a, b\ng, alice\np, "a, *, *, ops, *\np, , *, *, ops, *\n');
  assert.throws(() => loadPolicyFile(file), (err: ConfigError) => {
    assert.ok(err instanceof ConfigError);
    assert.deepEqual(err.problems.map((p) => [p.line, p.message]), [
      [1, 'a "p" line has 5 or 6 fields after p (sub, cluster, namespace, room, action[, effect]), got 4'],
      [2, 'unknown action "reboot"; use one of restart, rollback, promote, scale, status, approve, incidents, incident, runs, abort, audit, silence or *'],
      [3, 'effect is allow or deny, not "maybe"'],
      [4, 'a line starts with p (a permission) or g (a group membership), not "x"'],
      [5, 'a "g" line is g, member, group; got 1 fields after g'],
      [6, 'unterminated quote'],
      [7, 'sub is empty (write * for any)'],
    ]);
    assert.match(err.message, /bad\.csv:2: unknown action "reboot"/);
    assert.equal(err.code, 'KM-CONFIG-001');
    return true;
  });
});

test('YAML: rules expand to every combination; problems carry file:line and path', async () => {
  const file = write('policy.yaml', `apiVersion: kubemend.dev/v1alpha1
kind: ChatPolicy
metadata: { name: shop }
spec:
  groups:
    alice: [sre]
  rules:
    - subjects: [group:sre, carol]
      namespaces: [shop, "team-a-*"]
      rooms: ["#ops"]
      actions: [restart, scale]
    - subjects: ["*"]
      namespaces: [kube-system]
      actions: ["*"]
      effect: deny
`);
  const policy = loadPolicyFile(file);
  assert.equal(policy.rules.length, 2 * 2 * 2 + 1);
  assert.deepEqual(policy.groups.map((g) => [g.member, g.group]), [['alice', 'group:sre']]);
  const authz = await Authorizer.fromPolicy(policy);
  assert.equal((await authz.check({ user: 'alice', cluster: 'c', namespace: 'team-a-web', room: 'ops', action: 'scale' })).allowed, true);
  assert.equal((await authz.check({ user: 'carol', cluster: 'c', namespace: 'shop', room: 'ops', action: 'rollback' })).allowed, false);
  assert.equal((await authz.check({ user: 'alice', cluster: 'c', namespace: 'kube-system', room: 'ops', action: 'restart' })).allowed, false);

  const bad = write('bad.yaml', 'apiVersion: kubemend.dev/v1alpha1\nkind: ChatPolicy\nspec:\n  rules:\n    - subjects: [bob]\n      actions: [reboot]\n');
  assert.throws(() => loadPolicyFile(bad), /bad\.yaml:6 spec\.rules\[0\]\.actions\[0\]: use one of restart, rollback, promote, scale, status, approve, incidents, incident, runs, abort, audit, silence or \*/);
});

test('the shipped example policy loads and grants what its comments say', async () => {
  const authz = await Authorizer.fromFile(fileURLToPath(new URL('../../config/chat-policy.csv', import.meta.url)));
  const ask = (user: string, groups: string[], namespace: string, room: string, action: ChatAction) =>
    authz.check({ user, groups, cluster: 'sandbox', namespace, room, action }).then((d) => d.allowed);
  assert.equal(await ask('alice', [], 'shop', 'ops', 'restart'), true, 'alice is in sre (g line)');
  assert.equal(await ask('alice', [], 'kube-system', 'ops', 'restart'), false, 'kube-system is denied');
  assert.equal(await ask('anyone', [], 'shop', 'ops', 'status'), true, 'anyone may look from ops');
  assert.equal(await ask('anyone', [], 'shop', 'random', 'status'), false);
  assert.equal(await ask('tom', ['team-a'], 'team-a-web', 'team-a', 'scale'), true);
  assert.equal(await ask('tom', ['team-a'], 'team-a-web', 'ops', 'scale'), false);
  assert.equal(await ask('bob', [], 'prod', 'ops', 'approve'), true, 'bob is in sre-leads');
  assert.equal(await ask('carol', [], 'shop', 'anywhere', 'restart'), true, 'carol is in shop');
  assert.equal(await ask('carol', [], 'prod', 'ops', 'restart'), false);
  assert.equal(await ask('anyone', [], 'shop', 'ops', 'incidents'), true, 'anyone may look at incidents from ops');
  assert.equal(await ask('anyone', [], 'shop', 'incident-42', 'runs'), true, 'and at runs from an incident room');
  assert.equal(await ask('anyone', [], 'shop', 'ops', 'incident'), false, 'but not acknowledge or resolve them');
  assert.equal(await ask('anyone', [], 'shop', 'ops', 'abort'), false, 'nor abort a run');
  assert.equal(await ask('alice', [], 'shop', 'incident-42', 'abort'), true, 'SREs abort runs');
  assert.equal(await ask('alice', [], 'shop', 'ops', 'audit'), true, 'SREs read the audit log');
  assert.equal(await ask('bob', [], '', 'ops', 'audit'), true, 'so do approvers');
  assert.equal(await ask('carol', [], 'shop', 'ops', 'audit'), false, 'but not every team');
  assert.equal(await ask('anyone', [], '', 'ops', 'audit'), false, 'nor anyone');
  assert.equal(await ask('tom', ['team-a'], 'team-a-web', 'team-a', 'incident'), true, 'team a takes its own incidents');
  assert.equal(await ask('tom', ['team-a'], 'shop', 'team-a', 'incident'), false);
  assert.equal(await ask('alice', [], '*', 'ops', 'silence'), true, 'SREs silence, in every namespace too');
  assert.equal(await ask('tom', ['team-a'], 'team-a-web', 'team-a', 'silence'), true, 'team a silences its own namespaces');
  assert.equal(await ask('tom', ['team-a'], '*', 'team-a', 'silence'), false, 'but not every namespace');
  assert.equal(await ask('anyone', [], 'shop', 'ops', 'silence'), false, 'looking is not silencing');
});

test('a missing policy file is a config error naming it', () => {
  assert.throws(() => loadPolicyFile(join(dir, 'nope.csv')), /nope\.csv:0: cannot read policy file/);
});
