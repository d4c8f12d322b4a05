// One thread per incident in Slack and Mattermost, through the real posters
// against the fakes that check the platforms' payloads: the parent follows
// the incident's state in place, everything else is a reply under it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ChatThreadReceiver, type ReceiverState, type NotifyEvent, type Delivery, type IncidentState } from '../../src/notify/index.ts';
import { SlackPoster, MattermostAdapter, MattermostPoster } from '../../src/chat/index.ts';
import { FakeSlack } from '../chat/adapters/fake-slack.ts';
import { FakeMattermost, mmId } from '../chat/adapters/fake-mattermost.ts';

const TIMEOUT = { timeout: 60_000 };
const TOKEN = 'xoxb-thread-test';

function memoryState(): ReceiverState & { map: Map<string, string> } {
  const map = new Map<string, string>();
  return { map, async get(k) { return map.get(k); }, async put(k, v) { map.set(k, v); } };
}

const incident = (status: IncidentState['status'], owner?: string): IncidentState => ({ id: 'inc-20261205-190000-abc123', title: 'pod-crashloop on pod/shop/checkout-1', status, severity: 'critical', cluster: 'sandbox', openedAt: Date.UTC(2026, 11, 5, 19), ...(owner ? { owner } : {}) });

let seq = 0;
function delivery(kind: NotifyEvent['kind'], title: string, inc: IncidentState, extra: Partial<NotifyEvent> = {}): Delivery {
  return { id: `d${++seq}`, receiver: 'ops-slack', key: inc.id, attempts: 0, createdAt: 0, event: { kind, time: 0, labels: { namespace: 'shop' }, title, text: '', severity: 'critical', incident: inc, ...extra } };
}

test('slack: one parent per incident, updated in place; steps and approvals are replies with buttons', TIMEOUT, async (t) => {
  const slack = new FakeSlack(TOKEN);
  const url = await slack.listen();
  t.after(() => slack.close());
  const state = memoryState();
  const r = new ChatThreadReceiver({ name: 'ops-slack', type: 'slack', channel: 'ops', state, poster: new SlackPoster({ botToken: TOKEN, slackApiUrl: `${url}/api/`, rooms: { C0OPS: 'ops' } }) });

  assert.deepEqual((await r.deliver(delivery('incident.opened', 'Incident opened', incident('open')))).ok, true);
  assert.equal(slack.callsTo('chat.postMessage').length, 1, 'the opening event is the parent alone');
  const parent = state.map.get('thread/ops/inc-20261205-190000-abc123')!;
  assert.ok(parent);
  await r.deliver(delivery('run.step', 'Step restart: succeeded', incident('open')));
  await r.deliver(delivery('approval.requested', 'Approval needed from sre', incident('open'), { buttons: [{ label: 'Approve', value: 'approve k3x9pa', style: 'primary' }, { label: 'Deny', value: 'deny k3x9pa', style: 'danger' }] }));
  await r.deliver(delivery('incident.acknowledged', 'Incident acknowledged', incident('acknowledged', 'alice')));
  await r.deliver(delivery('incident.resolved', 'Incident resolved', incident('resolved', 'alice')));

  const posts = slack.callsTo('chat.postMessage');
  assert.equal(posts.length, 5);
  for (const p of posts.slice(1)) assert.equal(p.args.thread_ts, parent, 'every later message is a reply in the incident\'s thread');
  assert.ok(posts.every((p) => p.args.channel === 'C0OPS'));
  const approval = JSON.stringify(posts[2].args.blocks);
  assert.match(approval, /approve k3x9pa/);
  assert.match(approval, /deny k3x9pa/);
  const updates = slack.callsTo('chat.update');
  assert.equal(updates.length, 2, 'the parent is rewritten for each state change');
  const shown = slack.messages.get(`C0OPS/${parent}`)!;
  assert.match(String(shown.text), /RESOLVED: pod-crashloop on pod\/shop\/checkout-1/);
  assert.match(String(shown.text), /owner: alice/);
  assert.doesNotMatch(JSON.stringify(shown.blocks), /incident ack/, 'a resolved incident has no buttons left');
  assert.match(JSON.stringify(JSON.parse(String(posts[0].args.blocks))), /incident ack inc-20261205-190000-abc123/, 'an open incident can be acknowledged from its parent');
});

test('slack: failures are classified for the outbox (rate limit retried later, unknown channel dead)', TIMEOUT, async (t) => {
  const slack = new FakeSlack(TOKEN);
  const url = await slack.listen();
  t.after(() => slack.close());
  const poster = new SlackPoster({ botToken: TOKEN, slackApiUrl: `${url}/api/`, rooms: { C0OPS: 'ops' } });
  slack.rateLimitNext = 1;
  const limited = await new ChatThreadReceiver({ name: 's', type: 'slack', channel: 'ops', state: memoryState(), poster }).deliver(delivery('incident.opened', 'x', incident('open')));
  assert.deepEqual(limited, { ok: false, retryable: true, error: 'Slack rate-limited the call', retryAfterMs: 7000 });
  const unknown = await new ChatThreadReceiver({ name: 's', type: 'slack', channel: 'nowhere', state: memoryState(), poster }).deliver(delivery('incident.opened', 'x', incident('open')));
  assert.equal(unknown.ok, false);
  assert.equal(!unknown.ok && unknown.retryable, false, 'a channel that does not exist will not appear by trying again');
  const badToken = new SlackPoster({ botToken: 'xoxb-wrong', slackApiUrl: `${url}/api/` });
  const refused = await new ChatThreadReceiver({ name: 's', type: 'slack', channel: 'C0OPS', state: memoryState(), poster: badToken }).deliver(delivery('incident.opened', 'x', incident('open')));
  assert.deepEqual(refused, { ok: false, retryable: false, error: 'Slack answered invalid_auth' });
  slack.close();
  const down = await new ChatThreadReceiver({ name: 's', type: 'slack', channel: 'C0OPS', state: memoryState(), poster }).deliver(delivery('incident.opened', 'x', incident('open')));
  assert.equal(!down.ok && down.retryable, true, 'Slack out of reach is retried');
});

test('mattermost: the parent is patched in place and replies carry root_id and signed buttons', TIMEOUT, async (t) => {
  const mm = new FakeMattermost('mm-bot-token');
  const url = await mm.listen();
  t.after(() => mm.close());
  const channel = mmId();
  mm.channels.add(channel);
  const adapter = new MattermostAdapter({ serverUrl: url, botToken: 'mm-bot-token', commandTokens: ['c'], publicUrl: 'http://kubemend.example', rooms: { [channel]: 'ops' } });
  const state = memoryState();
  const r = new ChatThreadReceiver({ name: 'ops-mm', type: 'mattermost', channel: 'ops', state, poster: new MattermostPoster(adapter) });
  await r.deliver(delivery('incident.opened', 'Incident opened', incident('open')));
  await r.deliver(delivery('approval.requested', 'Approval needed', incident('open'), { buttons: [{ label: 'Approve', value: 'approve k3x9pa' }] }));
  const res = await r.deliver(delivery('incident.mitigated', 'Incident mitigated', incident('mitigated')));
  assert.equal(res.ok, true);
  const [parent, ...replies] = mm.posts;
  assert.equal(parent.root_id, '');
  assert.deepEqual(replies.map((p) => p.root_id), [parent.id, parent.id]);
  assert.equal(replies[0].props.attachments?.[0].actions?.[0].integration.context.value, 'approve k3x9pa');
  assert.ok(replies[0].props.attachments?.[0].actions?.[0].integration.context.sig, 'button presses come back signed');
  assert.equal(parent.edited, 1);
  assert.match(parent.message, /MITIGATED/);
  const gone = await new ChatThreadReceiver({ name: 'x', type: 'mattermost', channel: mmId(), state: memoryState(), poster: new MattermostPoster(adapter) }).deliver(delivery('incident.opened', 'x', incident('open')));
  assert.equal(!gone.ok && gone.retryable, false, 'a channel the bot is not in is not retried');
});
