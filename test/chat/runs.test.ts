// `runs`, `run show` and `run abort` through the real chat engine on the
// sandbox: an automatic run whose first step (a call the test holds) is
// under way is aborted; that step finishes untouched, the next (a scale)
// never starts, the run ends cancelled with the person in the audit log,
// and the end is posted. A user the policy does not allow to abort is
// refused and audited; a finished run is refused with a clear message.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type ServerResponse } from 'node:http';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadRunbooks } from '../../src/runbooks/loader.ts';
import { ACTIONS } from '../../src/runbooks/actions/index.ts';
import { chatFixture, mapped, POLICY, until } from './fixture.ts';
import { consoleLinks } from '../../src/common/index.ts';

const CALL_THEN_SCALE = `apiVersion: kubemend.dev/v1alpha1
kind: Runbook
metadata: { name: call-then-scale }
spec:
  parameters:
    url: { type: string }
  target: { cluster: sandbox, kind: Deployment, namespace: shop, name: web }
  steps:
    - id: call
      action: http.request
      with: { method: POST, url: "{{ params.url }}", timeout: 1h }
      timeout: 2h
    - id: scale
      action: k8s.scale
      with: { namespace: shop, name: web, replicas: 5 }
`;

const vic = mapped('U-VIC', 'vic', ['viewers']);

test('runs, run show, run abort: stops at the next step boundary, audited, refused for the wrong user and for a finished run', { timeout: 120_000 }, async () => {
  const held: ServerResponse[] = [];
  const server = createServer((_req, res) => void held.push(res));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/deploy`;
  const dir = mkdtempSync(join(tmpdir(), 'km-runs-'));
  writeFileSync(join(dir, 'call-then-scale.yaml'), CALL_THEN_SCALE);
  const f = await chatFixture({ runbooks: loadRunbooks(dir, { actions: ACTIONS }), policy: `${POLICY}\np, group:viewers, sandbox, *, ops, runs\n`, links: consoleLinks('https://kubemend.example.com') });
  try {
    assert.match((await f.say('alice', 'runs'))[0].text, /^No runs under way\./);
    const res = await f.remediation.executor.trigger({ runbook: 'call-then-scale', params: { url }, startedBy: { type: 'rule', name: 'Deploy' } });
    const runId = (res as { run: { id: string } }).run.id;
    const short = runId.slice(0, 8);
    await until(() => held.length === 1, 'the call under way');

    const [list] = await f.say(vic, 'runs');
    assert.match(list.text, new RegExp(`^1 run under way .*\\n${short}  call-then-scale  deployment shop/web  running at call  by rule Deploy  \\S+\\n`));
    const [show] = await f.say(vic, `run show ${short}`);
    assert.match(show.text, new RegExp(`^run ${runId}: call-then-scale on deployment shop/web \\(cluster sandbox\\)\\nstatus: running at step call · started by rule Deploy`));
    assert.match(show.text, new RegExp(`steps:\\n {2}call: started\\nconsole: https://kubemend\\.example\\.com/console/#/runs/${runId}$`), 'the run\'s console page');
    assert.deepEqual(show.buttons, [{ label: 'Abort', value: `run abort ${runId}`, style: 'danger' }]);

    // vic may look, not abort.
    const [denied] = await f.say(vic, `run abort ${short}`);
    assert.match(denied.text, /^KM-CHAT-001 not allowed — vic \(groups: viewers\) may not abort anywhere/);
    const [refusal] = await f.store.audit.list({ action: 'chat.abort.denied' });
    assert.deepEqual([refusal.actor.name, refusal.data?.run, refusal.outcome], ['vic', runId, 'denied']);
    assert.equal((await f.store.getRun(runId))!.stop, undefined, 'nothing was asked of the run');

    const [stopping] = await f.say('alice', `run abort ${short} --reason "wrong cluster"`);
    assert.equal(stopping.text, `run ${short} (call-then-scale on deployment shop/web): stopping at its next step boundary; step call is under way and is left to finish. Nothing that ran is undone; the end will be posted here.`);
    // The call finishes; the scale never starts.
    for (const r of held.splice(0)) r.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    const ended = await f.waitAsync(new RegExp(`^run ${short}`));
    assert.equal(ended.text, `run ${short} (call-then-scale) stopped at alice's request (cancelled). What ran stays as it is. See: run show ${short}`);
    assert.equal((await f.store.getRun(runId))!.status, 'cancelled');
    assert.deepEqual([...new Set((await f.store.transitions(runId)).map((t) => t.stepId))], ['call']);
    assert.equal(f.sandbox.store.get('apps/deployments', 'shop', 'web')!.spec.replicas, 3);

    const [asked] = await f.store.audit.list({ action: 'run.abort.requested', runId });
    assert.deepEqual([asked.actor, asked.data?.reason, asked.data?.step, asked.outcome], [{ type: 'user', name: 'alice' }, 'wrong cluster', 'call', 'info']);
    const [cancelled] = await f.store.audit.list({ action: 'runbook.run.cancelled', runId });
    assert.deepEqual([cancelled.actor, cancelled.data?.stoppedAt], [{ type: 'user', name: 'alice' }, 'scale']);
    assert.ok(asked.seq < cancelled.seq);

    assert.equal((await f.say('alice', `run abort ${short}`))[0].text, `run ${short} has already ended (cancelled); there is nothing to abort.`);
    assert.match((await f.say('alice', 'run show zzz999'))[0].text, /^There is no run zzz999/);
    assert.match((await f.say('alice', 'runs'))[0].text, /^No runs under way\./);
    assert.match((await f.say('alice', 'runs --all'))[0].text, new RegExp(`${short}  call-then-scale  deployment shop/web  cancelled`));
  } finally {
    for (const r of held.splice(0)) r.destroy();
    server.closeAllConnections();
    server.close();
    await f.close();
  }
});
