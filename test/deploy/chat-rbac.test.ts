// Chat actions run as the chat user, through impersonation by kubemend's
// ServiceAccount, so the cluster's RBAC has the last word: a user whom
// kubemend's policy allows to scale in shop, but whom the cluster lets only
// view shop, sees the preview (a read), confirms, and is refused by the
// cluster — the reply names the missing permission, nothing changes, and the
// refusal is in the audit log. Bound to edit, the same user succeeds.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { KUBECTL } from '../conformance/harness.ts';
import { skipKubectl } from '../conformance/cluster.ts';
import { chatFixture, LINK, type ChatFixture } from '../chat/fixture.ts';
import { SA, overlay, tokenKubeconfig } from './fixture.ts';

const run = promisify(execFile);

describe('a chat action the policy allows and the cluster refuses', { skip: skipKubectl, timeout: 180_000 }, () => {
  let f: ChatFixture;
  let kubectl: (...args: string[]) => Promise<string>;
  before(async () => {
    f = await chatFixture({
      sandbox: { rbac: 'enforce' },
      kubeconfig: async (sandbox) => {
        const dir = mkdtempSync(join(tmpdir(), 'km-chat-rbac-'));
        const admin = join(dir, 'admin.kubeconfig');
        writeFileSync(admin, sandbox.kubeconfig());
        kubectl = async (...args) => (await run(KUBECTL, ['--kubeconfig', admin, '--cache-dir', join(dir, 'cache'), ...args])).stdout;
        await kubectl('apply', '-k', overlay('single'));
        await kubectl('scale', 'deployment', 'kubemend', '-n', 'kubemend', '--replicas=0');
        // The chat users of group shop may look at shop, no more.
        await kubectl('create', 'rolebinding', 'shop-view', '-n', 'shop', '--clusterrole=view', '--group=shop');
        const token = (await kubectl('create', 'token', 'kubemend', '-n', 'kubemend', '--duration=24h')).trim();
        return tokenKubeconfig(sandbox.url, token);
      },
    });
  });
  after(() => f?.close());

  it('the preview reads as alice; the scale is refused by the cluster, shown with the missing permission, and audited', async () => {
    const shown = await f.say('alice', `scale deployment/web -n shop --replicas 5 --reason "more capacity for the sale" --link ${LINK}`);
    const id = f.idOf(shown);
    assert.equal(shown[0].text.split('\n')[0], `${id} will scale deployment shop/web from 3 to 5 on cluster sandbox, then wait for the rollout.`, 'kubemend\'s policy allows it, and alice may read it');
    await f.say('alice', `confirm ${id}`);
    const failed = await f.waitAsync(new RegExp(`^${id} (done|failed)`));
    assert.match(failed.text, new RegExp(`^${id} failed: step scale: RBAC_DENIED: missing RBAC permission: "alice" may not patch deployments/scale \\(API group "apps"\\) in namespace "shop"`));
    assert.equal(f.sandbox.store.get('apps/deployments', 'shop', 'web')!.spec.replicas, 3, 'nothing changed');
    const refused = f.sandbox.api!.requestLog.filter((e) => e.code === 403);
    assert.deepEqual(refused.map((e) => [e.authenticated, e.user, e.groups, e.method, e.path]), [[SA, 'alice', ['shop'], 'PATCH', '/apis/apps/v1/namespaces/shop/deployments/web/scale']], 'the cluster refused alice, impersonated by kubemend');
    const audit = await f.store.audit.list({ action: 'chat.scale.*' });
    assert.deepEqual(audit.map((a) => a.action), ['chat.scale.requested', 'chat.scale.authorized', 'chat.scale.justified', 'chat.scale.confirmed', 'chat.scale.started', 'chat.scale.failed']);
    assert.match(JSON.stringify(audit.at(-1)), /RBAC_DENIED: missing RBAC permission: \\"alice\\" may not patch deployments\/scale/);
    const steps = await f.store.audit.list({ action: 'runbook.step.failed' });
    assert.deepEqual(steps.map((a) => [a.actor.name, a.outcome]), [['alice', 'failure']], 'the failed step is on record as alice\'s');
    assert.match(JSON.stringify(steps[0].data), /RBAC_DENIED/);
  });

  it('once the cluster grants alice edit in shop, the same request goes through', async () => {
    await kubectl('create', 'rolebinding', 'alice-edit', '-n', 'shop', '--clusterrole=edit', '--user=alice');
    const shown = await f.say('alice', `scale deployment/web -n shop --replicas 4 --reason "more capacity for the sale" --link ${LINK}`);
    const id = f.idOf(shown);
    await f.say('alice', `confirm ${id}`);
    const done = await f.waitAsync(new RegExp(`^${id} (done|failed)`));
    assert.match(done.text, new RegExp(`^${id} done: scale deployment shop/web from 3 to 4`));
  });
});
