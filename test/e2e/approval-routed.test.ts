// A runbook `approval` step under `kubemend serve` is posted to the routed
// Slack channel, in the incident's thread, with Approve and Deny buttons; a
// press by someone outside the approver group is refused privately and
// changes nothing; a press by an approver lets the run go on, and the
// decision is told in the thread.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServe, until } from '../helpers/serve-process.ts';
import { startFakes, serviceConfig, serviceEnv, SIGNING } from '../helpers/notify-fakes.ts';
import { slackHeaders, type SlackMessage } from '../chat/adapters/fake-slack.ts';
import { runbooksWithApproval } from '../helpers/approval-runbooks.ts';


function press(user: string, m: SlackMessage, value: string): string {
  const blocks = (typeof m.blocks === 'string' ? JSON.parse(m.blocks) : m.blocks) as { type: string; block_id?: string; elements?: { action_id: string; value: string; text: { text: string } }[] }[];
  const actions = blocks.find((b) => b.type === 'actions')!;
  const button = actions.elements!.find((e) => e.value === value)!;
  return new URLSearchParams({ payload: JSON.stringify({
    type: 'block_actions', user: { id: user }, channel: { id: 'C0OPS' },
    container: { type: 'message', message_ts: m.ts, channel_id: 'C0OPS', is_ephemeral: false },
    message: { ts: m.ts, text: m.text, blocks },
    actions: [{ type: 'button', action_id: button.action_id, block_id: actions.block_id, text: button.text, value: button.value, action_ts: `${Date.now() / 1000}` }],
  }) }).toString();
}

test('an approval step is asked in the incident\'s Slack thread and decided by a button press', { timeout: 240_000 }, async (t) => {
  const fakes = await startFakes(t);
  const dir = mkdtempSync(join(tmpdir(), 'km-approval-'));
  const runbooks = runbooksWithApproval(dir);
  const config = join(dir, 'kubemend.yaml');
  writeFileSync(config, serviceConfig(fakes).replace('spec:\n', `spec:\n  runbooks: ${runbooks}\n`));
  const s = await startServe(['--sandbox', '--scenario', 'crashloop', '--speed', '30', '--config', config, '--listen', '127.0.0.1:0', '--data-dir', join(dir, 'data')], serviceEnv(fakes));
  t.after(() => s.stop());
  const asking = await until('the approval request in Slack', () => [...fakes.slack.messages.values()].find((m) => /approve [a-z0-9]{6}/.test(JSON.stringify(m.blocks ?? ''))), 120_000, s.output);
  const call = fakes.slack.callsTo('chat.postMessage').find((c) => c.args.text === asking.text)!;
  const parent = fakes.slack.callsTo('chat.postMessage').find((c) => !c.args.thread_ts)!;
  assert.ok(call.args.thread_ts, 'the request is a reply in a thread');
  assert.match(String(parent.args.text), /Incident inc-/, 'the thread is the incident\'s');
  assert.match(String(asking.text), /Approval needed from sre-leads: roll back shop\/checkout/);
  const approve = /approve [a-z0-9]{6}/.exec(JSON.stringify(asking.blocks))![0];

  // Alice is not in sre-leads: refused, privately; the run still waits.
  const byAlice = press('U0ALICE', asking, approve);
  assert.equal((await fetch(`${s.base}/slack/interactions`, { method: 'POST', headers: slackHeaders(SIGNING, byAlice, 'application/x-www-form-urlencoded'), body: byAlice })).status, 200);
  const refused = await until('the private refusal to alice', () => fakes.slack.callsTo('chat.postEphemeral').find((c) => c.args.user === 'U0ALICE'), 30_000);
  assert.match(String(refused.args.text), /only members of sre-leads may decide/);
  assert.doesNotMatch(s.output(), /step rollback: started/);

  const byBob = press('U0BOB', asking, approve);
  assert.equal((await fetch(`${s.base}/slack/interactions`, { method: 'POST', headers: slackHeaders(SIGNING, byBob, 'application/x-www-form-urlencoded'), body: byBob })).status, 200);
  await s.waitFor(/run \w+ bad-deploy succeeded/, 'the run to finish after the approval', 120_000);
  await until('the decision in the thread', () => fakes.slack.callsTo('chat.postMessage').find((c) => /Approval approved by bob/.test(String(c.args.text)) && c.args.thread_ts === call.args.thread_ts), 30_000);
  const after = JSON.stringify(fakes.slack.messages.get(`C0OPS/${asking.ts}`)?.blocks);
  assert.doesNotMatch(after, /"type":"actions"/, 'the pressed buttons are gone');
  assert.match(after, /<@U0BOB> chose \*Approve\*/);
});
