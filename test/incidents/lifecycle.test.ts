// The incident lifecycle on a virtual clock, over SQLite and PostgreSQL:
// open → acknowledged → mitigated (only once the detections settled) →
// reopened → resolved by a person → postmortem; notes redacted and bounded;
// people acting through another replica's tracker, level-based through the
// store, never lose to the tracker's own writes.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { KubemendError } from '../../src/common/errors.ts';
import type { ManualClock } from '../../src/common/clock.ts';
import { IncidentTracker, type IncidentChange } from '../../src/incidents/index.ts';
import type { Detection, Subject } from '../../src/rules/types.ts';
import type { SqlStore } from '../../src/store/index.ts';
import { forEachDialect } from '../audit/helpers.ts';

const MIN = 60_000;
let seq = 0;

function detection(clock: ManualClock, rule: string, subject: Omit<Subject, 'cluster'>, extra: Partial<Detection> = {}): Detection {
  const now = clock.now();
  return {
    id: `det-${++seq}`, rule, cluster: 'prod', subject: { cluster: 'prod', ...subject }, fingerprint: `fp-${seq}`, severity: 'critical', summary: `${rule} on ${subject.name}`,
    labels: {}, firstSeen: now, lastSeen: now, count: 1, status: 'open', evidence: [], notifications: 0, ...extra,
  };
}

const web = { kind: 'Deployment', namespace: 'shop', name: 'web' };
/** A pod of shop/web on node-1: what relates the web app's detections to the node's. */
const webPod = {
  kind: 'Pod',
  metadata: { name: 'web-abc12-x1', namespace: 'shop', labels: { 'pod-template-hash': 'abc12' }, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-abc12', uid: 'u', controller: true }] },
  spec: { nodeName: 'node-1' },
  status: { phase: 'Running' },
};
const node = { kind: 'Node', name: 'node-1' };

function tracker(store: SqlStore, clock: ManualClock, changes: [string, IncidentChange][] = []) {
  return new IncidentTracker({ store, clock, lookup: () => [], onIncident: (i, c) => changes.push([i.id, c]) });
}

async function rejects(p: Promise<unknown>, code: string): Promise<KubemendError> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  assert.ok(err instanceof KubemendError, `expected ${code}, got ${String(err)}`);
  assert.equal(err.code, code, err.message);
  return err;
}

forEachDialect((env) => {
  it('open → acknowledged → mitigated once the detection resolved → reopened (still acknowledged) → resolved by a person → postmortem', { timeout: 60_000 }, async () => {
    const { store, place } = await env.store();
    const clock = place.clock;
    const changes: [string, IncidentChange][] = [];
    const t = tracker(store, clock, changes);
    try {
      t.observe({ source: 'object', cluster: 'prod', time: clock.now(), operation: 'create', object: webPod });
      const down = detection(clock, 'node-not-ready', node);
      t.onDetection(down, 'opened');
      await t.flush();
      const [inc] = t.openIncidents();
      await rejects(t.ack('inc-nope', 'alice'), 'KM-INCIDENT-001');

      const acked = await t.ack(inc.id.slice(0, 12), 'alice');
      assert.deepEqual([acked.status, acked.acknowledgedBy, acked.acknowledgedAt], ['acknowledged', 'alice', clock.now()]);
      assert.equal(inc.status, 'acknowledged', 'the live incident took it');
      await rejects(t.ack(inc.id, 'bob'), 'KM-INCIDENT-003');
      assert.equal((await t.assign(inc.id, 'bob', 'alice')).owner, 'bob');
      assert.deepEqual((await store.listIncidents({ owner: 'bob' })).map((i) => i.id), [inc.id]);

      t.onRunEnd({ id: 'run-1', runbook: 'drain', status: 'succeeded', detectionId: down.id, changed: ['nodes//node-1-other'] });
      await t.flush();
      assert.equal((await store.getIncident(inc.id))!.status, 'acknowledged', 'a fix is not a mitigation while the node is still not ready');
      await clock.advance(MIN);
      t.onDetection(down, 'resolved');
      await t.flush();
      const mitigated = (await store.getIncident(inc.id))!;
      assert.deepEqual([mitigated.status, mitigated.mitigatedAt, mitigated.acknowledgedBy, mitigated.owner], ['mitigated', clock.now(), 'alice', 'bob']);

      await clock.advance(MIN);
      t.onDetection(detection(clock, 'crashloop-backoff', web), 'opened');
      await t.flush();
      assert.equal((await store.getIncident(inc.id))!.status, 'acknowledged', 'reopened, and alice still has it');

      const resolved = await t.resolve(inc.id, 'alice', 'rolled back by hand');
      assert.deepEqual([resolved.status, resolved.resolvedBy, resolved.resolveReason], ['resolved', 'alice', 'rolled back by hand']);
      assert.equal(t.openIncidents().length, 0);
      await rejects(t.resolve(inc.id, 'bob'), 'KM-INCIDENT-002');
      await rejects(t.ack(inc.id, 'bob'), 'KM-INCIDENT-002');

      // Resolved by a person: the next detection opens a new incident, not the old one again.
      await clock.advance(MIN);
      t.onDetection(detection(clock, 'crashloop-backoff', web), 'opened');
      await t.flush();
      const [next] = t.openIncidents();
      assert.notEqual(next.id, inc.id);
      assert.deepEqual((await store.listIncidents({ status: ['open', 'acknowledged', 'mitigated'] })).map((i) => i.id), [next.id]);

      const drafted = await t.postmortemDrafted(inc.id, { type: 'user', name: 'carol' });
      assert.deepEqual([drafted?.status, drafted?.postmortemBy], ['postmortem', 'carol']);
      assert.equal(await t.postmortemDrafted(inc.id, { type: 'user', name: 'carol' }), undefined, 'marked once');
      assert.equal(await t.postmortemDrafted(next.id, { type: 'user', name: 'carol' }), undefined, 'an incident under way is not marked');

      const audit = await store.audit.list({ incidentId: inc.id });
      const people = audit.filter((a) => a.actor.type === 'user').map((a) => `${a.action} ${a.actor.name}`);
      assert.deepEqual(people, ['incident.acknowledged alice', 'incident.assigned alice', 'incident.resolved alice', 'incident.postmortem.drafted carol']);
      assert.equal(audit.find((a) => a.action === 'incident.resolved')?.data?.reason, 'rolled back by hand');
      assert.deepEqual(changes.filter(([id]) => id === inc.id).map(([, c]) => c).filter((c) => c !== 'updated'), ['opened', 'acknowledged', 'assigned', 'mitigated', 'reopened', 'resolved', 'postmortem']);
      assert.ok((await store.audit.verify()).ok);
    } finally {
      t.stop();
    }
  });

  it('an Event detection settles when the run ends and reopens the incident when it fires again; quiet resolution says so', { timeout: 60_000 }, async () => {
    const { store, place } = await env.store();
    const clock = place.clock;
    const t = new IncidentTracker({ store, clock, lookup: () => [], resolveAfterMs: 30 * MIN });
    try {
      const oom = detection(clock, 'system-oom', node, { evidence: [{ time: clock.now(), type: 'event', summary: 'SystemOOM' }] });
      t.onDetection(oom, 'opened');
      await clock.advance(MIN);
      t.onDetection(oom, 'repeated');
      await clock.advance(MIN);
      t.onRunEnd({ id: 'run-1', runbook: 'limit', status: 'succeeded', detectionId: oom.id, changed: ['deployments/reports/worker'] });
      const [inc] = t.openIncidents();
      assert.equal(inc.status, 'mitigated', 'an occurrence is over once it happened: no OOM since the run ended');

      await clock.advance(MIN);
      t.onDetection(oom, 'repeated');
      assert.equal(inc.status, 'open', 'the node OOMs again after the fix: new harm');

      await clock.advance(31 * MIN);
      await t.flush();
      const quiet = (await store.getIncident(inc.id))!;
      assert.deepEqual([quiet.status, quiet.resolvedBy], ['resolved', 'quiet']);
      assert.deepEqual((await store.audit.list({ incidentId: inc.id })).map((a) => a.action).filter((a) => a !== 'incident.updated'), ['incident.opened', 'incident.mitigated', 'incident.reopened', 'incident.resolved']);
    } finally {
      t.stop();
    }
  });

  it('notes are redacted and bounded; people acting on another replica are kept by the tracker driving the incident', { timeout: 60_000 }, async () => {
    const { store, place } = await env.store();
    const clock = place.clock;
    const leader = tracker(store, clock);
    // Another replica: its tracker drives nothing, so its actions are read-modify-writes of the store.
    const followerChanges: [string, IncidentChange][] = [];
    const follower = tracker(store, clock, followerChanges);
    try {
      const d = detection(clock, 'crashloop-backoff', web);
      leader.onDetection(d, 'opened');
      await leader.flush();
      const [inc] = leader.openIncidents();

      const noted = await follower.note(inc.id, 'erin', 'rotated it: password=S3cr3tP4ssw0rd! was in the log');
      assert.equal(noted.notes![0].text, 'rotated it: password=[redacted] was in the log');
      await rejects(follower.note(inc.id, 'erin', '   '), 'KM-INCIDENT-004');
      await rejects(follower.note(inc.id, 'erin', 'x'.repeat(2001)), 'KM-INCIDENT-004');
      await follower.ack(inc.id, 'erin');
      assert.deepEqual(followerChanges.map(([, c]) => c), ['noted', 'acknowledged']);

      // The leader's next write (a repeat, batched) keeps what people did elsewhere.
      await clock.advance(MIN);
      leader.onDetection(d, 'repeated');
      await clock.advance(MIN);
      await leader.flush();
      const stored = (await store.getIncident(inc.id))!;
      assert.deepEqual([stored.status, stored.acknowledgedBy, stored.notes?.length], ['acknowledged', 'erin', 1]);
      assert.equal(inc.status, 'acknowledged', 'the live incident follows the store');
      const audit = await store.audit.list({ action: 'incident.noted' });
      assert.equal(audit[0].data?.text, 'rotated it: password=[redacted] was in the log');
      assert.ok(!JSON.stringify(await store.audit.list({})).includes('S3cr3tP4ssw0rd'));

      // Resolved on the other replica: the leader lets its live incident go rather than write it back open.
      await follower.resolve(inc.id, 'erin');
      await clock.advance(MIN);
      leader.onDetection(d, 'repeated');
      await clock.advance(MIN);
      await leader.flush();
      assert.equal(leader.openIncidents().length, 0);
      assert.deepEqual([(await store.getIncident(inc.id))!.status, (await store.getIncident(inc.id))!.resolvedBy], ['resolved', 'erin']);
    } finally {
      leader.stop();
      follower.stop();
    }
  });

  it('migration 6: owner is a column, the new statuses are listed and filtered', async () => {
    const { store } = await env.store();
    const rows = await store.sql.query<{ id: string; owner: string | null; status: string }>('SELECT id, owner, status FROM incidents');
    assert.deepEqual(rows, []);
    const base = { title: 't', cluster: 'prod', severity: 'critical' as const, openedAt: 1, detectionIds: [], data: {} };
    await store.putIncident({ ...base, id: 'a', status: 'acknowledged', owner: 'bob' });
    await store.putIncident({ ...base, id: 'b', status: 'postmortem' });
    await store.putIncident({ ...base, id: 'c', status: 'open' });
    assert.deepEqual((await store.sql.query<{ id: string; owner: string | null }>('SELECT id, owner FROM incidents ORDER BY id')).map((r) => [r.id, r.owner]), [['a', 'bob'], ['b', null], ['c', null]]);
    assert.deepEqual((await store.listIncidents({ status: 'postmortem' })).map((i) => i.id), ['b']);
    assert.deepEqual((await store.listIncidents({ status: ['open', 'acknowledged'] })).map((i) => i.id).sort(), ['a', 'c']);
  });

  it('an incident does not resolve quietly while a run on one of its detections is under way', { timeout: 60_000 }, async () => {
    const { store, place } = await env.store();
    const clock = place.clock;
    const working = new Set<string>();
    const t = new IncidentTracker({ store, clock, lookup: () => [], resolveAfterMs: 5 * MIN, busy: (ids) => ids.some((id) => working.has(id)) });
    try {
      const d = detection(clock, 'crashloop-backoff', web);
      t.onDetection(d, 'opened');
      await t.flush();
      const [inc] = t.openIncidents();
      working.add(d.id);
      await clock.advance(12 * MIN);
      await t.flush();
      assert.equal((await store.getIncident(inc.id))!.status, 'open', 'quiet, but its remediation is still at work');
      working.delete(d.id);
      await clock.advance(6 * MIN);
      await t.flush();
      assert.deepEqual([(await store.getIncident(inc.id))!.status, (await store.getIncident(inc.id))!.resolvedBy], ['resolved', 'quiet']);
    } finally {
      t.stop();
    }
  });
});
