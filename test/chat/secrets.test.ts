// Secrets never reach a chat room. A workload whose env comes from a Secret
// (and one literal credential), a warning event that quotes the password,
// and a user who pastes it into a reason: `status` and a whole conversation
// produce replies — sync and async — none of which contains the value, its
// base64 form or the token; the stored request and the audit log neither.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { k8sTime } from '../../src/common/clock.ts';
import { chatFixture, LINK, until, rolledOut } from './fixture.ts';

const PASSWORD = 'Hunter2-Sup3r-S3cret!';
const TOKEN = 'tok_4f9a8b7c6d5e4f3a2b1c0d9e';
const b64 = (s: string) => Buffer.from(s).toString('base64');

test('status and a whole conversation never echo a Secret\'s value', async () => {
  const f = await chatFixture();
  try {
    const now = k8sTime(f.sandbox.clock.now());
    f.sandbox.apply([
      { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db-creds', namespace: 'shop' }, type: 'Opaque', data: { password: b64(PASSWORD), token: b64(TOKEN) } },
    ]);
    f.sandbox.store.mutate('apps/deployments', 'shop', 'web', (d) => {
      d.spec.template.spec.containers[0].env = [
        { name: 'DB_PASSWORD', valueFrom: { secretKeyRef: { name: 'db-creds', key: 'password' } } },
        { name: 'API_TOKEN', value: TOKEN },
      ];
      d.spec.template.spec.containers[0].envFrom = [{ secretRef: { name: 'db-creds' } }];
    });
    await until(() => rolledOut(f.sandbox, 'shop', 'web') && f.sandbox.store.get('apps/deployments', 'shop', 'web')!.metadata.annotations?.['deployment.kubernetes.io/revision'] === '2', 'revision 2 rolled out');
    f.sandbox.apply([
      {
        apiVersion: 'v1', kind: 'Event', metadata: { name: 'web.leak', namespace: 'shop' },
        involvedObject: { kind: 'Deployment', namespace: 'shop', name: 'web', apiVersion: 'apps/v1' },
        type: 'Warning', reason: 'ConfigCheckFailed', count: 2, firstTimestamp: now, lastTimestamp: now,
        message: `db login failed: password=${PASSWORD} token: ${TOKEN} url=postgres://app:${PASSWORD}@db:5432/shop`,
        source: { component: 'config-checker' },
      },
    ]);

    const replies = [];
    const status = await f.say('alice', `status deployment/web -n shop --reason "checking after the alert" --link ${LINK}`);
    replies.push(...status);
    const text = status[0].text;
    assert.match(text, /^deployment shop\/web on cluster sandbox: 3\/3 ready/);
    assert.match(text, /images: web=shop\/web:1/);
    assert.match(text, /2× ConfigCheckFailed deployment\/web: db login failed: password=\[redacted\] token: \[redacted\] url=postgres:\/\/\[redacted\]@db:5432\/shop/);
    assert.doesNotMatch(text, /DB_PASSWORD|API_TOKEN|db-creds|env/i, 'status says nothing about env');

    const shown = await f.say('alice', `scale deployment/web -n shop --replicas 4 --reason "rotate after leak of password=${PASSWORD} blob ${b64(PASSWORD + PASSWORD)}" --link ${LINK}`);
    replies.push(...shown);
    replies.push(...(await f.say('alice', `confirm ${f.idOf(shown)}`)));
    await f.waitAsync(/ done: | failed: /);
    replies.push(...f.async);

    const everything = JSON.stringify(replies);
    for (const secret of [PASSWORD, b64(PASSWORD), TOKEN, b64(TOKEN), b64(PASSWORD + PASSWORD)]) {
      assert.ok(!everything.includes(secret), `a reply contains ${secret}`);
    }
    const stored = JSON.stringify([await f.store.listChatRequests({}), await f.store.audit.list({ action: 'chat.*' })]);
    for (const secret of [PASSWORD, b64(PASSWORD + PASSWORD)]) assert.ok(!stored.includes(secret), `the store keeps ${secret}`);
    assert.match(stored, /password=\[redacted\]/);
  } finally {
    await f.close();
  }
});
