// The terminal chat on clusters is who the kubeconfig says (SelfSubjectReview,
// else the context's user name; the sandbox answers SelfSubjectReview with the
// user its kubeconfig's token names): --user/--groups are refused, /user is for
// the sandbox trial only, and one terminal (one OS user at one host) can
// never make both halves of a four-eyes approval, whatever kubeconfig it uses.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo, hostname } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { KubeConfig } from '@kubernetes/client-node';
import { Sandbox } from '../../src/sandbox/cluster.ts';
import { kubeconfigYaml } from '../../src/sandbox/kubeconfig.ts';
import { openStore } from '../../src/store/index.ts';
import { runChat, terminalUser } from '../../src/cli/chat.ts';
import { deployment, IMAGES, rolledOut, until } from '../runbooks/actions-fixture.ts';
import { chatFixture, mapped, LINK } from './fixture.ts';

const SEAT = `${userInfo().username}@${hostname()}`;

test('kubemend chat on a cluster acts as the kubeconfig user: --user is refused, /user is sandbox-only, the audit names the terminal', { timeout: 120_000 }, async () => {
  const sandbox = new Sandbox({ speed: 50, images: IMAGES });
  await sandbox.listen();
  const dir = mkdtempSync(join(tmpdir(), 'km-chat-kc-'));
  try {
    sandbox.apply([{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } }, deployment('web', 'shop/web:1', { namespace: 'shop', replicas: 2 })]);
    await until(() => rolledOut(sandbox, 'shop', 'web'), 'web rolled out');
    const kubeconfig = join(dir, 'kubeconfig');
    writeFileSync(kubeconfig, sandbox.kubeconfig());
    writeFileSync(join(dir, 'policy.csv'), 'p, kubemend-sandbox-admin, *, *, ops, status\np, alice, *, *, ops, *\n');
    const config = join(dir, 'chat.yaml');
    writeFileSync(config, 'apiVersion: kubemend.dev/v1alpha1\nkind: ChatConfig\nspec:\n  defaultCluster: kubemend-sandbox\n  policy: policy.csv\n  justification: { tickets: { OPS-7: Approved } }\n');
    const flags = { kubeconfig, config, context: [], room: 'ops', production: [], dataDir: join(dir, 'data') };

    await assert.rejects(runChat({ ...flags, user: 'alice' }), /KM-CLI-001|--user and --groups work only with --sandbox/);
    await assert.rejects(runChat({ ...flags, groups: 'sre' }), /--user and --groups work only with --sandbox/);

    const input = new PassThrough();
    const output = new PassThrough();
    let out = '';
    output.on('data', (d) => (out += String(d)));
    input.end([
      '/user alice sre',
      'status deployment/web -n shop --reason "checking after the deploy" --link OPS-7',
      'restart deployment/web -n shop --reason "alice would be allowed this" --link OPS-7',
      '',
    ].join('\n'));
    await runChat(flags, { input, output, interactive: false });
    assert.match(out, /kubemend chat: you are kubemend-sandbox-admin \(groups: system:masters\) in #ops/);
    assert.match(out, new RegExp(`identity: kubemend-sandbox-admin from the API server's SelfSubjectReview, at terminal:${SEAT.replace(/[.]/g, '\\.')}`));
    assert.match(out, /\/user works only on the sandbox: here you are kubemend-sandbox-admin/);
    assert.match(out, /kubemend: deployment shop\/web on cluster kubemend-sandbox: 2\/2 ready/);
    assert.match(out, /KM-CHAT-001 [a-z2-9]{6}: not allowed — kubemend-sandbox-admin \(groups: system:masters\) may not restart anywhere/);

    const store = await openStore({ dataDir: join(dir, 'data') });
    try {
      const [asked] = await store.audit.list({ action: 'chat.status.requested' });
      assert.deepEqual(asked.actor, { type: 'user', name: 'kubemend-sandbox-admin' });
      assert.deepEqual(asked.data?.user, { platform: 'terminal', id: SEAT, displayName: SEAT, subject: 'kubemend-sandbox-admin', groups: ['system:masters'], mapping: 'mapped', session: `terminal:${SEAT}` });
    } finally {
      await store.close();
    }
  } finally {
    await sandbox.stop();
  }
});

test('one terminal cannot approve its own request, even through another kubeconfig user; someone else can', { timeout: 120_000 }, async () => {
  const f = await chatFixture({
    policy: 'p, sam-admin, sandbox, *, ops, *\np, group:sre-leads, sandbox, prod, approvals, approve\ng, dave-admin, group:sre-leads\n',
  });
  try {
    const as = async (name: string) => {
      const kc = new KubeConfig();
      kc.loadFromString(kubeconfigYaml(f.sandbox.url, name));
      return (await terminalUser(kc)).user;
    };
    const sam = await as('sam');
    const dave = await as('dave');
    assert.equal(sam.name, 'sam-admin');
    assert.equal(dave.name, 'dave-admin');
    const id = f.idOf(await f.say(sam, `scale deployment/web -n prod --replicas 3 --reason "more headroom for the launch" --link ${LINK}`));
    await f.say(sam, `confirm ${id}`);
    const same = await f.say(dave, `approve ${id}`, 'approvals');
    assert.match(same[0].text, new RegExp(`^KM-CHAT-003 ${id}: you asked for it, so someone else in sre-leads must approve it \\(four-eyes\\)`));
    assert.equal((await f.store.getChatRequest(id))!.status, 'awaiting-approval');
    const other = await f.say(mapped('U-DAVE', 'dave-admin'), `approve ${id}`, 'approvals');
    assert.match(other.map((r) => r.text).join('\n'), new RegExp(`${id}: approved by dave-admin; running`));
    await f.waitAsync(new RegExp(`^${id} (done|failed)`));
  } finally {
    await f.close();
  }
});
