// Whole conversations on a non-production namespace, against the sandbox
// over HTTP with a SQLite store: justify → confirm → run → result. The
// deployment really changes, every request to the API server carries the
// chat user as Impersonate-User, every transition is stored and audited,
// and the audit chain verifies afterwards.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deployment } from '../runbooks/actions-fixture.ts';
import { chatFixture, LINK, until, rolledOut } from './fixture.ts';

test('scale: asks why, then shows exactly what will happen, then scales as the user and reports', async () => {
  const f = await chatFixture();
  try {
    const mark = f.sandbox.api!.requestLog.length;
    const asked = await f.say('alice', '@kubemend scale deployment/web -n shop --replicas 5');
    const id = f.idOf(asked);
    assert.match(asked[0].text, new RegExp(`^${id}: why scale deployment shop/web on cluster sandbox to 5\\? A justification is required`));
    assert.deepEqual(asked[0].buttons, [{ label: 'Cancel', value: `cancel ${id}`, style: 'danger' }]);
    assert.equal((await f.store.getChatRequest(id))!.status, 'awaiting-justification');

    const shown = await f.say('alice', `justify ${id} --reason "checkout p99 above 2s during the sale" --link ${LINK}`);
    assert.equal(shown[0].text.split('\n')[0], `${id} will scale deployment shop/web from 3 to 5 on cluster sandbox, then wait for the rollout.`);
    assert.match(shown[0].text, /Justification: checkout p99 above 2s during the sale — ticket CHG-100 \(Approved\)\./);
    assert.deepEqual(shown[0].buttons?.map((b) => b.value), [`confirm ${id}`, `cancel ${id}`]);
    assert.equal(f.sandbox.store.get('apps/deployments', 'shop', 'web')!.spec.replicas, 3, 'nothing changes before the confirmation');

    const other = await f.say('sam', `confirm ${id}`);
    assert.match(other[0].text, /^KM-CHAT-011 Only alice \(test:U-ALICE\), who asked, can confirm/);
    assert.equal(other[0].ephemeralTo, 'U-SAM');

    const started = await f.say('alice', `confirm ${id}`);
    assert.match(started[0].text, new RegExp(`^${id}: running — scale deployment shop/web from 3 to 5`));
    const again = await f.say('alice', `confirm ${id}`);
    assert.match(again[0].text, new RegExp(`${id} is approved; there is nothing to confirm`), 'a second press confirms nothing');

    const done = await f.waitAsync(new RegExp(`^${id} (done|failed)`));
    assert.match(done.text, new RegExp(`^${id} done: scale deployment shop/web from 3 to 5 on cluster sandbox; the rollout finished \\(run [0-9a-f]{8}, requested by alice\\)`));
    assert.ok(f.async.some((r) => r.text === `${id}: step scale succeeded`));
    assert.equal(f.sandbox.store.get('apps/deployments', 'shop', 'web')!.spec.replicas, 5);

    const calls = f.sandbox.api!.requestLog.slice(mark).filter((e) => e.namespace === 'shop');
    assert.ok(calls.some((e) => e.method === 'PATCH' && e.resource === 'apps/deployments/scale'));
    assert.deepEqual([...new Set(calls.map((e) => e.user))], ['alice'], 'every read and write was made as alice');

    const rec = (await f.store.getChatRequest(id))!;
    assert.equal(rec.status, 'executed');
    assert.equal(rec.user, 'alice');
    assert.equal(rec.room, 'ops');
    assert.equal(rec.justification, 'checkout p99 above 2s during the sale');
    assert.equal(rec.link, LINK);
    assert.deepEqual(rec.target, { cluster: 'sandbox', kind: 'Deployment', namespace: 'shop', name: 'web' });
    const run = (await f.store.getRun(rec.runId!))!;
    assert.equal(run.runbook, 'chat-scale');
    assert.deepEqual(run.startedBy, { type: 'user', name: 'alice' });
    assert.equal(run.status, 'succeeded');

    const audit = (await f.store.audit.list({ action: 'chat.*' })).filter((a) => a.data?.request === id);
    assert.deepEqual(audit.map((a) => `${a.action} ${a.actor.name}`), [
      'chat.scale.requested alice', 'chat.scale.authorized alice', 'chat.scale.justified alice', 'chat.scale.refused sam',
      'chat.scale.confirmed alice', 'chat.scale.started alice', 'chat.scale.executed alice',
    ]);
    const refused = audit[3];
    assert.deepEqual(refused.data?.user, { platform: 'test', id: 'U-SAM', displayName: 'sam', subject: 'sam', mapping: 'mapped', groups: ['sre', 'sre-leads'] });
    assert.equal(refused.data?.attempted, 'confirm');
    for (const a of audit) {
      assert.equal(a.actor.type, 'user');
      assert.deepEqual(a.data?.requester, { platform: 'test', id: 'U-ALICE', displayName: 'alice', subject: 'alice', mapping: 'mapped', groups: ['shop'] });
      assert.deepEqual(a.target, { cluster: 'sandbox', kind: 'Deployment', namespace: 'shop', name: 'web' });
      assert.equal(a.data?.room, 'ops');
    }
    assert.equal(audit.at(-1)!.justification, 'checkout p99 above 2s during the sale');
    assert.equal(audit.at(-1)!.link, LINK);
    assert.equal(audit.at(-1)!.runId, run.id);
    assert.equal(audit[4].data?.preview, 'scale deployment shop/web from 3 to 5 on cluster sandbox, then wait for the rollout');
    const steps = await f.store.audit.list({ runId: run.id });
    assert.ok(steps.some((a) => a.action === 'runbook.step.succeeded' && a.actor.name === 'alice'), 'the run is audited as alice too');
    assert.deepEqual(await f.store.audit.verify().then((v) => v.ok), true);
  } finally {
    await f.close();
  }
});

test('rollback: a justification given up front goes straight to the confirmation; the previous revision comes back', async () => {
  const f = await chatFixture();
  try {
    f.sandbox.store.mutate('apps/deployments', 'shop', 'web', (d) => {
      d.spec.template.spec.containers[0].image = 'shop/web:3';
    });
    await until(() => rolledOut(f.sandbox, 'shop', 'web') && f.sandbox.store.get('apps/deployments', 'shop', 'web')!.metadata.annotations?.['deployment.kubernetes.io/revision'] === '2', 'revision 2 rolled out');
    const shown = await f.say('alice', `rollback deployment/web -n shop --reason "web 3 breaks the cart page" --link ${LINK}`);
    const id = f.idOf(shown);
    assert.equal(shown[0].text.split('\n')[0], `${id} will roll back deployment shop/web from revision 2 to 1 (shop/web:1) on cluster sandbox, then wait for the rollout.`);
    await f.say('alice', `confirm ${id}`);
    const done = await f.waitAsync(new RegExp(`^${id} (done|failed)`));
    assert.match(done.text, new RegExp(`^${id} done: roll back deployment shop/web from revision 2 to 1`));
    assert.equal(f.sandbox.store.get('apps/deployments', 'shop', 'web')!.spec.template.spec.containers[0].image, 'shop/web:1');
    assert.ok(rolledOut(f.sandbox, 'shop', 'web'));
    const patches = f.sandbox.api!.requestLog.filter((e) => e.method === 'PATCH' && e.namespace === 'shop');
    assert.deepEqual(patches.map((e) => e.user), ['alice']);
    const audit = (await f.store.audit.list({ action: 'chat.rollback.*' })).map((a) => a.action);
    assert.deepEqual(audit, ['chat.rollback.requested', 'chat.rollback.authorized', 'chat.rollback.justified', 'chat.rollback.confirmed', 'chat.rollback.started', 'chat.rollback.executed']);
    assert.equal((await f.store.audit.verify()).ok, true);
  } finally {
    await f.close();
  }
});

test('promote rolls forward to the images of another namespace; restart rolls every pod', async () => {
  const f = await chatFixture();
  try {
    f.sandbox.apply([{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'staging' } }, deployment('web', 'shop/web:3', { namespace: 'staging', replicas: 1 })]);
    await until(() => rolledOut(f.sandbox, 'staging', 'web'), 'the source rolled out');
    const shown = await f.say('alice', `promote deployment/web -n shop --from staging --reason "web 3 passed staging soak" --link ${LINK}`);
    const id = f.idOf(shown);
    assert.deepEqual(shown[0].text.split('\n').slice(0, 2), [
      `${id} will set image of deployment shop/web: web=shop/web:3 on cluster sandbox, then wait for the rollout.`,
      'Checked: source deployment staging/web is healthy (1/1 available, 1 pod(s) of its current revision checked over the last 10m).',
    ]);
    await f.say('alice', `confirm ${id}`);
    assert.match((await f.waitAsync(new RegExp(`^${id} (done|failed)`))).text, new RegExp(`^${id} done`));
    assert.equal(f.sandbox.store.get('apps/deployments', 'shop', 'web')!.spec.template.spec.containers[0].image, 'shop/web:3');
    assert.equal((await f.store.getRun((await f.store.getChatRequest(id))!.runId!))!.runbook, 'chat-promote');

    const r = await f.say('alice', `restart deployment/web -n shop --reason "pods hold a stale config map" --link ${LINK}`);
    const rid = f.idOf(r);
    await f.say('alice', `confirm ${rid}`);
    assert.match((await f.waitAsync(new RegExp(`^${rid} (done|failed)`))).text, new RegExp(`^${rid} done: restart deployment shop/web \\(a rolling restart of every pod\\)`));
    assert.ok(f.sandbox.store.get('apps/deployments', 'shop', 'web')!.spec.template.metadata.annotations?.['kubectl.kubernetes.io/restartedAt']);
    const patches = f.sandbox.api!.requestLog.filter((e) => e.method === 'PATCH');
    assert.ok(patches.length > 0 && patches.every((e) => e.user === 'alice'), JSON.stringify(patches.map((e) => e.user)));
  } finally {
    await f.close();
  }
});

test('nothing to do, a failed preview, cancel, and expiry end the request without touching the cluster', async () => {
  const f = await chatFixture({ settings: { conversationTimeout: '2m' } });
  try {
    const writes = () => f.sandbox.api!.requestLog.filter((e) => e.method !== 'GET').length;
    const before = writes();
    const same = await f.say('alice', `scale deployment/web -n shop --replicas 3 --reason "make sure we have three" --link ${LINK}`);
    assert.match(same[0].text, /deployment shop\/web already has 3 replicas: nothing to do on cluster sandbox\./);
    assert.equal((await f.store.getChatRequest(f.idOf(same)))!.status, 'cancelled');

    const missing = await f.say('alice', `restart deployment/nope -n shop --reason "it is wedged again" --link ${LINK}`);
    assert.match(missing[0].text, /cannot restart deployment shop\/nope on cluster sandbox: .*not found.*Nothing was changed\./);
    assert.equal((await f.store.getChatRequest(f.idOf(missing)))!.status, 'failed');

    const r = await f.say('alice', `restart deployment/web -n shop --reason "pods hold stale config" --link ${LINK}`);
    const id = f.idOf(r);
    assert.match((await f.say('sam', `cancel ${id}`))[0].text, /^KM-CHAT-011 Only alice \(test:U-ALICE\), who asked, can cancel/);
    assert.match((await f.say('alice', `cancel ${id}`))[0].text, new RegExp(`${id} cancelled before anything ran; nothing was changed`));
    assert.match((await f.say('alice', `confirm ${id}`))[0].text, new RegExp(`${id} is cancelled; it cannot be confirmed now`));

    const late = await f.say('alice', 'restart deployment/web -n shop');
    const lateId = f.idOf(late);
    await f.waitAsync(new RegExp(`KM-CHAT-004 ${lateId} expired: it waited for a justification`), 'expiry after 2 virtual minutes');
    assert.equal((await f.store.getChatRequest(lateId))!.status, 'expired');
    assert.match((await f.say('alice', `justify ${lateId} --reason "too late now really" --link ${LINK}`))[0].text, new RegExp(`${lateId} is expired \\(KM-CHAT-004\\): ask again`));
    const expired = (await f.store.audit.list({ action: 'chat.restart.expired' }))[0];
    assert.deepEqual(expired.actor, { type: 'system', name: 'chat' });
    assert.equal(writes(), before, 'no request changed anything');
    assert.match((await f.say('alice', 'confirm zzzzzz'))[0].text, /There is no request zzzzzz/);
  } finally {
    await f.close();
  }
});

test('RBAC: a refused command says why, is stored as denied and audited; unknown clusters and bad commands never become requests', async () => {
  const f = await chatFixture();
  try {
    const r = await f.say('alice', `restart deployment/web -n prod --reason "alice is not allowed here" --link ${LINK}`);
    const id = f.idOf(r);
    assert.match(r[0].text, new RegExp(`^KM-CHAT-001 ${id}: not allowed — alice \\(groups: shop\\) may not restart in namespace prod on cluster sandbox \\(allowed namespaces: shop\\)\\.`));
    assert.equal((await f.store.getChatRequest(id))!.status, 'denied');
    const denied = (await f.store.audit.list({ action: 'chat.restart.denied' }))[0];
    assert.equal(denied.outcome, 'denied');
    assert.equal(denied.data?.dimension, 'namespace');
    assert.deepEqual(denied.actor, { type: 'user', name: 'alice' });

    const room = await f.say('alice', 'status deployment/web -n shop', 'random');
    assert.match(room[0].text, /may not status in namespace shop on cluster sandbox from room random; ask from ops/);

    const before = (await f.store.listChatRequests({})).length;
    const unknown = await f.say('alice', 'status deployment/web -n shop --cluster mars');
    assert.match(unknown[0].text, /KM-CHAT-005 unknown cluster "mars" \(known: sandbox\)/);
    const typo = await f.say('alice', 'scale deployment/web -n shop --replicas lots');
    assert.match(typo[0].text, /^KM-CHAT-006 --replicas takes a whole number, not "lots"\nusage: scale /);
    assert.equal(typo[0].ephemeralTo, 'U-ALICE');
    assert.equal((await f.store.listChatRequests({})).length, before);
  } finally {
    await f.close();
  }
});
