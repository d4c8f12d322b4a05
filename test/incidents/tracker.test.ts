// The incident tracker on its own: which detections open, join, merge and
// resolve incidents, in virtual time, persisted to a real SQLite store with
// every incident change in the hash-chained audit log.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../../src/common/clock.ts';
import { openStore } from '../../src/store/index.ts';
import { IncidentTracker, type IncidentData } from '../../src/incidents/index.ts';
import type { Detection, Subject } from '../../src/rules/types.ts';
import type { KubeObject } from '../../src/kube/types.ts';

const T0 = Date.UTC(2026, 0, 1);
const MIN = 60_000;

let seq = 0;
function detection(clock: ManualClock, rule: string, subject: Omit<Subject, 'cluster'>, severity: Detection['severity'] = 'critical', extra: Partial<Detection> = {}): Detection {
  const now = clock.now();
  return {
    id: `det-${++seq}`, rule, cluster: 'prod', subject: { cluster: 'prod', ...subject }, fingerprint: `fp-${seq}`, severity, summary: `${rule} on ${subject.name}`,
    labels: {}, firstSeen: now, lastSeen: now, count: 1, status: 'open', evidence: [], notifications: 0, ...extra,
  };
}

function pod(ns: string, name: string, deployment: string, node: string): KubeObject {
  const hash = 'abc12';
  return { kind: 'Pod', metadata: { name, namespace: ns, labels: { 'pod-template-hash': hash }, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: `${deployment}-${hash}`, uid: 'u', controller: true }] }, spec: { nodeName: node }, status: { phase: 'Running' } };
}

async function setup() {
  const clock = new ManualClock(T0);
  const store = await openStore({ dataDir: mkdtempSync(join(tmpdir(), 'km-inc-')), clock });
  const tracker = new IncidentTracker({ store, clock, lookup: () => [] });
  const place = (p: KubeObject) => tracker.observe({ source: 'object', cluster: 'prod', time: clock.now(), operation: 'create', object: p });
  return { clock, store, tracker, place };
}

test('related detections within the window form one incident; another namespace, or two hours later, another', async () => {
  const { clock, store, tracker, place } = await setup();
  try {
    place(pod('reports', 'worker-abc12-x1', 'worker', 'node-1'));
    const noLimit = detection(clock, 'pod-without-memory-limit', { kind: 'Deployment', namespace: 'reports', name: 'worker' }, 'info');
    tracker.onDetection(noLimit, 'opened');
    assert.equal(tracker.openIncidents().length, 0, 'an info detection opens nothing');

    await clock.advance(2 * MIN);
    const oom = detection(clock, 'system-oom', { kind: 'Node', name: 'node-1' });
    tracker.onDetection(oom, 'opened');
    await clock.advance(MIN);
    const billing = detection(clock, 'crashloop-backoff', { kind: 'Deployment', namespace: 'billing', name: 'invoicer' }, 'warning');
    tracker.onDetection(billing, 'opened');
    const [first, other] = tracker.openIncidents();
    assert.deepEqual(first.detectionIds, [oom.id, noLimit.id], 'the waiting info detection joined through node-1');
    assert.deepEqual(other.detectionIds, [billing.id]);

    await clock.advance(3 * 60 * MIN);
    const again = detection(clock, 'crashloop-backoff', { kind: 'Deployment', namespace: 'reports', name: 'worker' });
    tracker.onDetection(again, 'opened');
    await tracker.flush();

    const all = (await store.listIncidents({})).sort((a, b) => a.openedAt - b.openedAt);
    assert.equal(all.length, 3);
    assert.deepEqual(all.map((i) => i.status), ['resolved', 'resolved', 'open']);
    assert.deepEqual(all[2].detectionIds, [again.id], 'the earlier incident had resolved: a new one');
    assert.equal(all[0].resolvedAt, T0 + 2 * MIN + 30 * MIN, 'resolved after 30 quiet minutes');
    assert.equal(all[0].id, 'inc-20260101-000200-' + all[0].id.slice(-6));
    const data = all[0].data as unknown as IncidentData;
    assert.equal(data.detections.find((d) => d.id === noLimit.id)?.joinedVia, 'its pods ran on node:node-1');
    assert.deepEqual(data.entities, ['node:node-1', 'ns:reports', 'workload:Deployment/reports/worker']);
    assert.equal(data.resolvedBecause, 'no new detection for 30m');

    const audit = await store.audit.list({ action: 'incident.*' });
    assert.deepEqual(audit.map((a) => [a.action, a.incidentId]), [
      ['incident.opened', all[0].id], ['incident.opened', all[1].id], ['incident.resolved', all[0].id], ['incident.resolved', all[1].id], ['incident.opened', all[2].id],
    ]);
    assert.deepEqual(audit[0].target, { cluster: 'prod', kind: 'Node', name: 'node-1' });
    assert.equal(audit[0].detectionId, oom.id);
    assert.ok((await store.audit.verify()).ok);
  } finally {
    tracker.stop();
    await store.close();
  }
});

test('a detection related to two open incidents joins the older and merges the other; silenced ones never open', async () => {
  const { clock, store, tracker, place } = await setup();
  try {
    place(pod('shop', 'web-abc12-a', 'web', 'node-1'));
    const node = detection(clock, 'node-not-ready', { kind: 'Node', name: 'node-2' });
    tracker.onDetection(node, 'opened');
    await clock.advance(MIN);
    const web = detection(clock, 'crashloop-backoff', { kind: 'Deployment', namespace: 'shop', name: 'web' });
    tracker.onDetection(web, 'opened');
    const quiet = detection(clock, 'crashloop-backoff', { kind: 'Deployment', namespace: 'ops', name: 'batch' }, 'critical', { status: 'silenced' });
    tracker.onDetection(quiet, 'silenced');
    assert.equal(tracker.openIncidents().length, 2);

    // The web pod is rescheduled onto node-2 and evicted there: it links both.
    await clock.advance(MIN);
    place(pod('shop', 'web-abc12-b', 'web', 'node-2'));
    const evicted = detection(clock, 'pod-evicted', { kind: 'Pod', namespace: 'shop', name: 'web-abc12-b' }, 'warning');
    tracker.onDetection(evicted, 'opened');
    await tracker.flush();
    const open = tracker.openIncidents();
    assert.equal(open.length, 1);
    assert.deepEqual(open[0].detectionIds, [node.id, evicted.id, web.id]);
    const merged = (await store.listIncidents({ status: 'resolved' }))[0];
    assert.equal((merged.data as unknown as IncidentData).mergedInto, open[0].id);
    const data = (await store.getIncident(open[0].id))!.data as unknown as IncidentData;
    assert.match(data.detections.find((d) => d.id === web.id)!.joinedVia, /^merged from inc-/);
    assert.ok(!open[0].detectionIds.includes(quiet.id));

    // Repeats keep it open and are persisted in batches.
    web.count = 7;
    web.lastSeen = clock.now();
    tracker.onDetection(web, 'repeated');
    await clock.advance(20_000);
    await tracker.flush();
    const stored = (await store.getIncident(open[0].id))!.data as unknown as IncidentData;
    assert.equal(stored.detections.find((d) => d.id === web.id)!.count, 7);
    assert.equal(stored.lastActivityAt, T0 + 2 * MIN);
  } finally {
    tracker.stop();
    await store.close();
  }
});

test('a succeeded run that changed the cluster mitigates; harm from what it contained does not reopen, new harm elsewhere does', { timeout: 30_000 }, async () => {
  const { clock, store, tracker, place } = await setup();
  try {
    place(pod('reports', 'worker-abc12-x1', 'worker', 'node-1'));
    place(pod('shop', 'web-abc12-y1', 'web', 'node-1'));
    const oom = detection(clock, 'system-oom', { kind: 'Node', name: 'node-1' });
    tracker.onDetection(oom, 'opened');
    tracker.onRunEnd({ id: 'run-failed', runbook: 'node-unhealthy', status: 'escalated', detectionId: oom.id, changed: ['deployments/reports/worker'] });
    tracker.onRunEnd({ id: 'run-read-only', runbook: 'node-unhealthy', status: 'succeeded', detectionId: oom.id, changed: [] });
    assert.equal(tracker.openIncidents()[0].status, 'open', 'neither a failed run nor one that changed nothing mitigates');

    tracker.onRunEnd({ id: 'run-1', runbook: 'node-unhealthy', status: 'succeeded', detectionId: oom.id, changed: ['deployments/reports/worker'] });
    const [inc] = tracker.openIncidents();
    assert.equal(inc.status, 'open', 'the node detection has not resolved yet');
    await clock.advance(MIN);
    tracker.onDetection(oom, 'resolved');
    assert.equal(inc.status, 'mitigated');
    assert.equal(inc.mitigatedAt, clock.now());

    await clock.advance(MIN);
    tracker.onDetection(detection(clock, 'oom-killed', { kind: 'Deployment', namespace: 'reports', name: 'worker' }, 'warning'), 'opened');
    assert.equal(tracker.openIncidents()[0].status, 'mitigated', 'the contained worker OOM-killed at its new limit is the containment working');

    await clock.advance(MIN);
    tracker.onDetection(detection(clock, 'crashloop-backoff', { kind: 'Deployment', namespace: 'shop', name: 'web' }, 'warning'), 'opened');
    assert.equal(tracker.openIncidents()[0].status, 'open', 'the web app on the same node breaking is new harm');
    await tracker.flush();
    const actions = (await store.audit.list({ incidentId: inc.id })).map((a) => a.action);
    assert.deepEqual(actions.filter((a) => a === 'incident.mitigated' || a === 'incident.reopened'), ['incident.mitigated', 'incident.reopened']);
    assert.equal((await store.getIncident(inc.id))?.status, 'open');
  } finally {
    tracker.stop();
    await store.close();
  }
});
