// A runbook's `approval` step decided in chat: posted to the approvals room
// with buttons, refused for non-members, settled by a member, audited.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadRunbooks } from '../../src/runbooks/loader.ts';
import { ACTIONS } from '../../src/runbooks/actions/index.ts';
import { chatFixture, until } from './fixture.ts';

function guardedScale() {
  const dir = mkdtempSync(join(tmpdir(), 'km-rb-approval-'));
  writeFileSync(join(dir, 'guarded-scale.yaml'), `apiVersion: kubemend.dev/v1alpha1
kind: Runbook
metadata: { name: guarded-scale }
spec:
  steps:
    - id: ask
      action: approval
      with: { group: sre-leads, summary: "scale {{ target.namespace }}/{{ target.name }} to 4", timeout: 10m }
    - id: scale
      action: k8s.scale
      with: { namespace: "{{ target.namespace }}", name: "{{ target.name }}", replicas: 4 }
`);
  return loadRunbooks(dir, { actions: ACTIONS });
}

test('a runbook approval step is asked in the approvals room and settled by a member of its group', async () => {
  const f = await chatFixture({ runbooks: guardedScale() });
  try {
    const res = await f.remediation.executor.trigger({ runbook: 'guarded-scale', startedBy: { type: 'rule', name: 'capacity' }, target: { cluster: 'sandbox', kind: 'Deployment', namespace: 'prod', name: 'web' } });
    assert.ok('run' in res && res.run);
    const asked = await f.waitAsync(/runbook approval needed from sre-leads/);
    assert.equal(asked.room, 'approvals');
    assert.deepEqual(asked.buttons?.map((b) => b.label), ['Approve', 'Deny']);
    const id = /^([a-z0-9]{6}):/.exec(asked.text)![1];

    const refused = await f.say('alice', `approve ${id}`, 'approvals');
    assert.match(refused[0].text, /only members of sre-leads may decide/);
    const ok = await f.say('sam', `approve ${id} capacity for the sale`, 'approvals');
    assert.match(ok[0].text, new RegExp(`${id}: approved by sam`));
    await until(() => f.sandbox.store.get('apps/deployments', 'prod', 'web')?.spec.replicas === 4, 'scaled to 4');
    await f.remediation.executor.idle();
    const run = await f.store.getRun(res.run!.id);
    assert.equal(run?.status, 'succeeded');
    const audit = await f.store.audit.list({ action: 'runbook.approval.approved' });
    assert.equal(audit.length, 1);
    assert.equal(audit[0].actor.name, 'sam');
    assert.equal(audit[0].justification, 'capacity for the sale');
  } finally {
    await f.close();
  }
});

test('runbook approvals: membership counts the policy\'s g lines too; refusals (guests, non-members) are audited with the platform identity', async () => {
  const f = await chatFixture({ runbooks: guardedScale() });
  try {
    const res = await f.remediation.executor.trigger({ runbook: 'guarded-scale', startedBy: { type: 'rule', name: 'capacity' }, target: { cluster: 'sandbox', kind: 'Deployment', namespace: 'prod', name: 'web' } });
    assert.ok('run' in res && res.run);
    const asked = await f.waitAsync(/runbook approval needed from sre-leads/);
    const id = /^([a-z0-9]{6}):/.exec(asked.text)![1];

    const guest = { platform: 'slack', id: 'U0GUEST', displayName: 'sam', name: 'slack:U0GUEST', groups: ['sre-leads'], mapping: 'guest' as const };
    assert.match((await f.say(guest, `approve ${id}`, 'approvals'))[0].text, new RegExp(`^KM-CHAT-003 ${id}: slack:U0GUEST \\(shown as sam\\) is a guest`));
    assert.match((await f.say('alice', `approve ${id}`, 'approvals'))[0].text, new RegExp(`^KM-CHAT-003 ${id}: only members of sre-leads may decide this approval`));
    const refused = await f.store.audit.list({ action: 'runbook.approval.refused' });
    assert.deepEqual(refused.map((a) => [a.actor.name, (a.data?.user as { platform: string; id: string }).id, a.outcome]), [['slack:U0GUEST', 'U0GUEST', 'denied'], ['alice', 'U-ALICE', 'denied']]);
    assert.equal(refused[1].runId, res.run!.id);

    // dave's chat platform reports only `sre`; the policy's `g, dave, group:sre-leads` makes him an approver.
    const ok = await f.say('dave', `deny ${id} not during the freeze`, 'approvals');
    assert.match(ok[0].text, new RegExp(`${id}: denied by dave`));
    await f.remediation.executor.idle();
    assert.equal(f.sandbox.store.get('apps/deployments', 'prod', 'web')?.spec.replicas, 2);
    const denied = (await f.store.audit.list({ action: 'runbook.approval.denied' }))[0];
    assert.deepEqual(denied.data?.user, { platform: 'test', id: 'U-DAVE', displayName: 'dave', subject: 'dave', mapping: 'mapped', groups: ['sre'] });
  } finally {
    await f.close();
  }
});
