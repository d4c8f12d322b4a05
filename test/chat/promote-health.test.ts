// `promote` from chat checks the source before anything is asked of anyone:
// a crash-looping source is refused at the preview with the evidence.
// `--force` shows the verdict, and once confirmed the run asks the approver
// groups; the requester cannot approve their own override, another member
// can, and the audit keeps the evidence the approver saw.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deployment } from '../runbooks/actions-fixture.ts';
import { chatFixture, LINK, until, type ChatFixture } from './fixture.ts';

async function crashingSource(f: ChatFixture): Promise<void> {
  f.sandbox.apply([{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'staging' } }, deployment('web', 'shop/web:2', { namespace: 'staging', replicas: 1 })]);
  await until(() => f.sandbox.store.list('pods', 'staging').items.some((p) => (p.status?.containerStatuses ?? []).some((s: any) => (s.restartCount ?? 0) > 0)), 'the source crash-looping');
}

const image = (f: ChatFixture) => f.sandbox.store.get('apps/deployments', 'shop', 'web')!.spec.template.spec.containers[0].image;

test('promote from a crash-looping source is refused at the preview, with the evidence', { timeout: 60_000 }, async () => {
  const f = await chatFixture();
  try {
    await crashingSource(f);
    const writes = f.sandbox.api!.requestLog.filter((e) => e.method !== 'GET').length;
    const r = await f.say('alice', `promote deployment/web -n shop --from staging --reason "web 2 fixes the checkout" --link ${LINK}`);
    const id = f.idOf(r);
    assert.match(r[0].text, new RegExp(`^${id}: cannot promote deployment shop/web on cluster sandbox: KM-ACTION-044 not promoting deployment shop/web: source deployment staging/web is not healthy \\(0/1 available`));
    assert.match(r[0].text, /pod web-[a-z0-9-]+ container web: .*exit code 2/);
    assert.match(r[0].text, /--force/);
    assert.match(r[0].text, /Nothing was changed\.$/);
    assert.equal((await f.store.getChatRequest(id))!.status, 'failed');
    const [failed] = await f.store.audit.list({ action: 'chat.promote.failed' });
    assert.equal(failed.data?.code, 'KM-ACTION-044');
    assert.match(String(failed.data?.reason), /not healthy/);
    assert.equal(f.sandbox.api!.requestLog.filter((e) => e.method !== 'GET').length, writes, 'nothing was written');
  } finally {
    await f.close();
  }
});

test('promote --force: the run asks the approvers; the requester cannot approve it, another member can', { timeout: 120_000 }, async () => {
  const f = await chatFixture();
  try {
    await crashingSource(f);
    const shown = await f.say('alice', `promote deployment/web -n shop --from staging --force --reason "web 2 has the hotfix, staging is broken by its config" --link ${LINK}`);
    const id = f.idOf(shown);
    const [first, checked] = shown[0].text.split('\n');
    assert.equal(first, `${id} will ask sre-leads to approve overriding the failed health check of the source (someone other than alice); set image of deployment shop/web: web=shop/web:2 on cluster sandbox, then wait for the rollout.`);
    assert.match(checked, /^Checked: source deployment staging\/web is not healthy \(0\/1 available.*pod web-/);

    await f.say('alice', `confirm ${id}`);
    const ask = await f.waitAsync(/runbook approval needed from sre-leads — override the health check and promote deployment shop\/web from the unhealthy deployment staging\/web is not healthy/);
    assert.equal(ask.room, 'approvals');
    const short = /^([a-z2-9]{6}):/.exec(ask.text)![1];
    assert.equal(image(f), 'shop/web:1', 'nothing changes before the approval');

    // The same person (same platform id) with the approver group: four-eyes still refuses her.
    const aliceLead = { platform: 'test', id: 'U-ALICE', displayName: 'alice', name: 'alice', groups: ['shop', 'sre', 'sre-leads'], mapping: 'mapped' as const };
    const self = await f.say(aliceLead, `approve ${short}`);
    assert.match(self[0].text, new RegExp(`^KM-CHAT-003 ${short}: you started this run; someone else in sre-leads must decide`));
    const outsider = await f.say('erin', `approve ${short}`);
    assert.match(outsider[0].text, /only members of sre-leads may decide this approval/);
    assert.equal(image(f), 'shop/web:1');

    const ok = await f.say('dave', `approve ${short}`);
    assert.match(ok[0].text, new RegExp(`^${short}: approved by dave`));
    assert.match((await f.waitAsync(new RegExp(`^${id} (done|failed)`))).text, new RegExp(`^${id} (done|failed)`));
    assert.equal(image(f), 'shop/web:2');

    const [approved] = await f.store.audit.list({ action: 'runbook.approval.approved' });
    assert.equal(approved.actor.name, 'dave');
    assert.match(String(approved.data?.summary), /not healthy .*pod web-/, 'the evidence the approver saw is audited');
    const refused = await f.store.audit.list({ action: 'runbook.approval.refused' });
    assert.deepEqual(refused.map((a) => a.actor.name), ['alice', 'erin']);
    const runId = (await f.store.getChatRequest(id))!.runId!;
    const step = (await f.store.audit.list({ action: 'runbook.step.succeeded', runId })).find((a) => a.data?.step === 'promote')!;
    const outputs = (step.data?.output as { outputs: { override: { approvedBy: string; evidence: unknown[] }; sourceHealth: { healthy: boolean } } }).outputs;
    assert.equal(outputs.override.approvedBy, 'dave');
    assert.ok(outputs.override.evidence.length > 0);
    assert.equal(outputs.sourceHealth.healthy, false);
  } finally {
    await f.close();
  }
});
