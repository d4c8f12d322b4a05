// What the loop tells the routes: the bridge's events for incidents, runs,
// offers and approvals — labels, the incident each belongs to (even when it
// is filed after the event was made, or closed before the run ended), and
// which changes are a person's (queued on any replica).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../src/common/clock.ts';
import { consoleLinks, type ConsoleLinks } from '../../src/common/index.ts';
import { NotifyBridge } from '../../src/pipeline/notify-bridge.ts';
import type { NotifyEvent } from '../../src/notify/index.ts';
import type { IncidentRecord, RunRecord } from '../../src/store/index.ts';
import type { Detection } from '../../src/rules/index.ts';

const T0 = Date.UTC(2026, 11, 5, 12);

function setup(links?: ConsoleLinks) {
  const clock = new ManualClock(T0);
  const open: IncidentRecord[] = [];
  const got: { e: NotifyEvent; personal: boolean }[] = [];
  const annotations: Record<string, Record<string, string>> = { 'Namespace//shop': { 'kubemend.dev/team': 'payments' } };
  const bridge = new NotifyBridge({
    clock,
    emit: (e, personal) => { got.push({ e, personal }); },
    openIncidents: () => open,
    links,
    annotations: (_c, kind, ns, name) => annotations[`${kind}/${ns}/${name}`],
  });
  return { clock, open, got, bridge };
}

const detection = { id: 'd1', rule: 'crashloop-backoff', cluster: 'sandbox', severity: 'critical', subject: { kind: 'Deployment', namespace: 'shop', name: 'checkout', cluster: 'sandbox' } } as unknown as Detection;
const incident = (over: Partial<IncidentRecord> = {}): IncidentRecord => ({ id: 'inc-1', title: 'crashloop-backoff on deployment/shop/checkout', cluster: 'sandbox', status: 'open', severity: 'critical', openedAt: T0, detectionIds: ['d1'], data: {}, ...over });
const run = { id: 'r1234567-run', runbook: 'bad-deploy', detectionId: 'd1', cluster: 'sandbox', target: { cluster: 'sandbox', kind: 'Deployment', namespace: 'shop', name: 'checkout' }, status: 'running', startedBy: { type: 'rule', name: 'crashloop-backoff' }, dryRun: false } as unknown as RunRecord;

test('an offer made before the incident is filed, and a run that outlives it, both land in the incident', { timeout: 10_000 }, async () => {
  const { open, got, bridge } = setup();
  bridge.onDetection(detection, 'opened');
  // Remediation sees the detection first: its offer is made before the tracker files the incident, in the same turn…
  void bridge.send({ channel: 'default', kind: 'offer', title: 'Offered: runbook bad-deploy', text: '…', severity: 'critical', detectionId: 'd1' });
  open.push(incident());
  bridge.incidentChanged(open[0], 'opened');
  await bridge.flush();
  assert.equal(got[0].e.incident?.id, 'inc-1', '…and is queued once it is');
  assert.deepEqual(got[0].e.labels, { cluster: 'sandbox', namespace: 'shop', severity: 'critical', rule: 'crashloop-backoff', team: 'payments', channel: 'default', offer: 'true', kind: 'notify' });

  const resolved = incident({ status: 'resolved', resolvedBy: 'quiet' });
  open.pop();
  bridge.incidentChanged(resolved, 'resolved');
  bridge.onTransition(run, { runId: run.id, stepId: 'smokeCheck', attempt: 1, status: 'succeeded', time: T0 });
  await bridge.flush();
  const late = got.at(-1)!.e;
  assert.equal(late.kind, 'run.step');
  assert.deepEqual([late.incident?.id, late.incident?.status], ['inc-1', 'resolved'], 'the run\'s last step still reaches its incident\'s thread');
});

test('people\'s changes are queued on any replica; the loop\'s own only where it leads', { timeout: 10_000 }, async () => {
  const { got, bridge } = setup();
  bridge.onDetection(detection, 'opened');
  bridge.incidentChanged(incident(), 'opened');
  bridge.incidentChanged(incident({ status: 'acknowledged', acknowledgedBy: 'alice' }), 'acknowledged');
  bridge.incidentChanged(incident({ status: 'acknowledged', owner: 'alice' }), 'assigned');
  bridge.incidentChanged(incident({ status: 'acknowledged' }), 'noted');
  bridge.incidentChanged(incident({ status: 'resolved', resolvedBy: 'alice' }), 'resolved');
  bridge.incidentChanged(incident({ id: 'inc-2', status: 'resolved', resolvedBy: 'quiet' }), 'resolved');
  await bridge.flush();
  assert.deepEqual(got.map(({ e, personal }) => [e.kind, personal]), [
    ['incident.opened', false], ['incident.acknowledged', true], ['incident.assigned', true], ['incident.noted', true], ['incident.resolved', true], ['incident.resolved', false],
  ]);
  assert.equal(got[2].e.incident?.owner, 'alice');
});

test('a repeat is not news; a new member or a worse severity is', { timeout: 10_000 }, async () => {
  const { got, bridge } = setup();
  bridge.incidentChanged(incident({ severity: 'warning' }), 'opened');
  bridge.incidentChanged(incident({ severity: 'warning' }), 'updated');
  bridge.incidentChanged(incident({ severity: 'critical' }), 'updated');
  bridge.incidentChanged(incident({ detectionIds: ['d1', 'd2'] }), 'updated');
  await bridge.flush();
  assert.deepEqual(got.map(({ e }) => [e.kind, e.severity]), [['incident.opened', 'warning'], ['incident.updated', 'critical'], ['incident.updated', 'critical']]);
});

test('an approval asked for carries its buttons and the run\'s labels; an escalation is run.escalated', { timeout: 10_000 }, async () => {
  const { open, got, bridge } = setup();
  bridge.onDetection(detection, 'opened');
  open.push(incident());
  bridge.approvalRequested({ id: 'p1', runId: run.id, stepId: 'approve', group: 'sre-leads', summary: 'roll back shop/checkout', requestedAt: T0, expiresAt: T0 + 1_800_000 }, 'k3x9pa', run);
  await bridge.send({ channel: 'default', kind: 'escalation', title: 'Escalation: bad-deploy on deployment/shop/checkout', text: 'the smoke check failed', severity: 'critical', runId: run.id, detectionId: 'd1' });
  await bridge.flush();
  const [asked, escalated] = got.map((g) => g.e);
  assert.deepEqual(asked.buttons?.map((b) => b.value), ['approve k3x9pa', 'deny k3x9pa']);
  assert.deepEqual([asked.kind, asked.labels.runbook, asked.labels.group, asked.incident?.id], ['approval.requested', 'bad-deploy', 'sre-leads', 'inc-1']);
  assert.deepEqual([escalated.kind, escalated.runId, escalated.incident?.id], ['run.escalated', run.id, 'inc-1']);
});

test('with the public URL, every event about an incident or a run links to its console page; without it, none', { timeout: 10_000 }, async () => {
  const linked = setup(consoleLinks('https://kubemend.example.com/ops/'));
  linked.bridge.onDetection(detection, 'opened');
  linked.open.push(incident());
  linked.bridge.incidentChanged(incident(), 'opened');
  linked.bridge.onTransition(run, { runId: run.id, stepId: 'rollback', attempt: 1, status: 'succeeded', time: T0 });
  void linked.bridge.send({ channel: 'default', kind: 'offer', title: 'Offered', text: '…', severity: 'critical' });
  await linked.bridge.flush();
  const href = 'https://kubemend.example.com/ops/console/#/incidents/inc-1';
  assert.deepEqual(linked.got.map(({ e }) => [e.kind, e.links]), [
    ['incident.opened', [{ href, text: 'Incident in the kubemend console' }]],
    ['run.step', [{ href, text: 'Incident in the kubemend console' }, { href: `https://kubemend.example.com/ops/console/#/runs/${run.id}`, text: 'Run in the kubemend console' }]],
    ['notify', undefined],
  ], 'an event about no incident and no run has no link');

  const plain = setup();
  plain.bridge.incidentChanged(incident(), 'opened');
  await plain.bridge.flush();
  assert.equal(plain.got[0].e.links, undefined);
});
