// The incident commands through the real chat engine, on the sandbox, with
// the incident tracker wired as the pipeline wires it: list, show (with Ack
// and Resolve buttons), ack, assign, note (redacted), resolve; a user the
// policy does not allow is refused and audited, and nothing changes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Detection } from '../../src/rules/index.ts';
import { chatFixture, mapped, POLICY, type ChatFixture } from './fixture.ts';

// vic may look at incidents and runs, nothing more.
const POLICY_WITH_VIEWER = `${POLICY}
p, group:viewers, sandbox, *, ops, incidents
p, group:viewers, sandbox, *, ops, runs
`;
const vic = mapped('U-VIC', 'vic', ['viewers']);

let seq = 0;
function detect(f: ChatFixture, name: string): Detection {
  const now = f.sandbox.clock.now();
  const d: Detection = {
    id: `det-${++seq}`, rule: 'crashloop-backoff', cluster: 'sandbox', subject: { cluster: 'sandbox', kind: 'Deployment', namespace: 'shop', name },
    fingerprint: `fp-${seq}`, severity: 'critical', summary: `${name} crash-loops`, labels: {}, firstSeen: now, lastSeen: now, count: 1, status: 'open', evidence: [], notifications: 0,
  };
  f.incidents!.onDetection(d, 'opened');
  return d;
}

test('incidents, incident show|ack|assign|note|resolve from chat; refusals audited; a new detection after a resolve opens a new incident', { timeout: 120_000 }, async () => {
  const f = await chatFixture({ incidents: true, policy: POLICY_WITH_VIEWER });
  try {
    assert.match((await f.say('alice', 'incidents'))[0].text, /^No incidents under way\./);
    detect(f, 'web');
    await f.incidents!.flush();
    const [inc] = f.incidents!.tracker.openIncidents();
    const prefix = inc.id.slice(0, 22);

    const [list] = await f.say('alice', 'incidents');
    assert.match(list.text, new RegExp(`^1 incident under way \\(id, age, status, severity, title, owner\\):\\n${inc.id}  \\S+  open  critical  crashloop-backoff on deployment/shop/web \\(1 workload\\)\\n`));

    const [show] = await f.say('alice', `incident show ${prefix}`);
    assert.match(show.text, new RegExp(`^${inc.id}: crashloop-backoff on deployment/shop/web \\(1 workload\\)\\nstatus: open\\n`));
    assert.match(show.text, /detections \(1\): crashloop-backoff on deployment\/shop\/web/);
    assert.deepEqual(show.buttons?.map((b) => [b.label, b.value]), [['Ack', `incident ack ${inc.id}`], ['Resolve', `incident resolve ${inc.id}`]]);

    // vic may read, not act: refused, audited, nothing changed.
    assert.match((await f.say(vic, `incident show ${prefix}`))[0].text, /^inc-/);
    const [denied] = await f.say(vic, `incident ack ${prefix}`);
    assert.match(denied.text, /^KM-CHAT-001 not allowed — vic \(groups: viewers\) may not incident anywhere/);
    const [refusal] = await f.store.audit.list({ action: 'chat.incident.denied' });
    assert.deepEqual([refusal.actor.name, refusal.outcome, refusal.data?.incident, refusal.data?.verb, refusal.data?.code], ['vic', 'denied', inc.id, 'ack', 'KM-CHAT-001']);
    assert.equal((await f.store.getIncident(inc.id))!.status, 'open');
    // mallory may do nothing: even the list is refused.
    assert.match((await f.say('mallory', 'incidents'))[0].text, /^KM-CHAT-001 not allowed — mallory has no chat permissions/);
    assert.equal((await f.store.audit.list({ action: 'chat.incidents.denied' }))[0].actor.name, 'mallory');

    // The Ack button, pressed.
    const [acked] = await f.say('alice', show.buttons![0].value);
    assert.equal(acked.text, `${inc.id} acknowledged by alice.`);
    assert.equal((await f.store.getIncident(inc.id))!.status, 'acknowledged');
    assert.match((await f.say('sam', `incident ack ${prefix}`))[0].text, /^KM-INCIDENT-003 .* already acknowledged by alice/);
    assert.match((await f.say('alice', 'incident ack inc-nope'))[0].text, /^KM-INCIDENT-001 no incident inc-nope\.$/);

    assert.equal((await f.say('alice', `incident assign ${prefix} me`))[0].text, `${inc.id} assigned to alice by alice.`);
    await f.say('alice', `incident note ${prefix} "restarted by hand; token=ghp_abcdefghijklmnopqrstuvwxyzABCDEFGHIJ was in the env"`);
    const stored = (await f.store.getIncident(inc.id))!;
    assert.equal(stored.owner, 'alice');
    assert.equal(stored.notes?.[0].text, 'restarted by hand; token=[redacted] was in the env');
    const [again] = await f.say('sam', `incident show ${prefix}`);
    assert.match(again.text, /status: acknowledged, acknowledged by alice \S+ ago\n.* owner alice/);
    assert.match(again.text, /notes:\n {2}alice, \S+ ago: restarted by hand; token=\[redacted\] was in the env/);
    assert.match(again.text, /timeline:\n.* opened\n.* acknowledged by alice\n.* assigned by alice\n.* noted by alice/);
    assert.deepEqual(again.buttons?.map((b) => b.label), ['Resolve'], 'acknowledged: only Resolve is left');

    const [resolved] = await f.say('alice', `incident resolve ${prefix} --reason "rolled back to web:1"`);
    assert.equal(resolved.text, `${inc.id} resolved by alice — rolled back to web:1. A new detection opens a new incident.`);
    assert.match((await f.say('alice', `incident resolve ${prefix}`))[0].text, /^KM-INCIDENT-002 /);
    assert.match((await f.say('alice', 'incidents'))[0].text, /^No incidents under way/);
    assert.match((await f.say('alice', 'incidents --all'))[0].text, new RegExp(`${inc.id} .* resolved .* owner alice`));
    const people = (await f.store.audit.list({ incidentId: inc.id })).filter((a) => a.actor.type === 'user').map((a) => `${a.action} ${a.actor.name}`);
    assert.deepEqual(people, ['incident.acknowledged alice', 'incident.assigned alice', 'incident.noted alice', 'incident.resolved alice']);

    detect(f, 'web');
    await f.incidents!.flush();
    const [fresh] = f.incidents!.tracker.openIncidents();
    assert.notEqual(fresh.id, inc.id);
    assert.match((await f.say('alice', 'incidents'))[0].text, new RegExp(`^1 incident under way[^\\n]*\\n${fresh.id} `));
  } finally {
    await f.close();
  }
});

test('without an incident tracker the commands say so; bad commands get their usage', { timeout: 60_000 }, async () => {
  const f = await chatFixture();
  try {
    assert.match((await f.say('alice', 'incidents'))[0].text, /^Incident tracking is not on/);
    assert.match((await f.say('alice', 'incident poke inc-1'))[0].text, /^KM-CHAT-006 incident has no "poke".*\nusage: incident show ID; incident ack ID/);
    assert.match((await f.say('alice', 'incident assign inc-1'))[0].text, /needs the person: a user name, or me\nusage: incident assign ID USER\|me$/);
    assert.match((await f.say('alice', 'run abort abc123 because'))[0].text, /give a reason with --reason/);
  } finally {
    await f.close();
  }
});

test('the web console: incident show returns the Ack and Resolve buttons, and pressing Ack acknowledges', { timeout: 120_000 }, async () => {
  const { createApp } = await import('../../src/server/app.ts');
  const f = await chatFixture({ incidents: true, policy: `${POLICY}\np, group:sre, sandbox, *, console*, *\n` });
  const token = 'erin-console-token-0123456789';
  const server = await createApp({ engine: f.engine, console: { users: [{ name: 'erin', groups: ['sre'], token }] } });
  try {
    await server.app.listen({ host: '127.0.0.1', port: 0 });
    const base = `http://127.0.0.1:${(server.app.server!.address() as { port: number }).port}`;
    const say = async (text: string) => {
      const res = await fetch(`${base}/console/api/messages`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ text }) });
      assert.equal(res.status, 200);
      return ((await res.json()) as { replies: { text: string; buttons?: { label: string; value: string }[] }[] }).replies;
    };
    detect(f, 'web');
    await f.incidents!.flush();
    const [inc] = f.incidents!.tracker.openIncidents();
    const [show] = await say(`incident show ${inc.id.slice(0, 22)}`);
    assert.deepEqual(show.buttons?.map((b) => b.label), ['Ack', 'Resolve']);
    const [acked] = await say(show.buttons![0].value);
    assert.equal(acked.text, `${inc.id} acknowledged by erin.`);
    const [ack] = await f.store.audit.list({ action: 'incident.acknowledged', incidentId: inc.id });
    assert.deepEqual(ack.actor, { type: 'user', name: 'erin' });
    assert.deepEqual((await say(`incident show ${inc.id}`))[0].buttons?.map((b) => b.label), ['Resolve']);
  } finally {
    await server.app.close();
    await f.close();
  }
});
