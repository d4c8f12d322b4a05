// The timeline from the store alone: a chat-started run on an involved
// workload belongs to the incident, the change it made is attributed to the
// user through it, and the chat request has its own line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../../src/common/clock.ts';
import { openStore } from '../../src/store/index.ts';
import { IncidentTracker, buildTimeline, draftPostmortem, gatherIncident } from '../../src/incidents/index.ts';
import type { Detection } from '../../src/rules/types.ts';
import type { KubeObject } from '../../src/kube/types.ts';

const T0 = Date.UTC(2026, 0, 1);

test('chat requests and the runs they started join the timeline; their changes are attributed to the user', async () => {
  const clock = new ManualClock(T0);
  const store = await openStore({ dataDir: mkdtempSync(join(tmpdir(), 'km-inc-tl-')), clock });
  const tracker = new IncidentTracker({ store, clock, lookup: () => [] });
  try {
    const dep = (image: string): KubeObject => ({ kind: 'Deployment', metadata: { name: 'api', namespace: 'shop', creationTimestamp: new Date(T0 - 86_400_000).toISOString() }, spec: { replicas: 2, template: { spec: { containers: [{ name: 'api', image }] } } } });
    const d: Detection = {
      id: 'd1', rule: 'crashloop-backoff', cluster: 'prod', subject: { cluster: 'prod', kind: 'Deployment', namespace: 'shop', name: 'api' }, fingerprint: 'f1', severity: 'critical',
      summary: 'Deployment shop/api is crash-looping', labels: {}, firstSeen: T0, lastSeen: T0, count: 1, status: 'open', evidence: [], notifications: 0,
    };
    tracker.onDetection(d, 'opened');
    await clock.advance(60_000);
    const runId = '11111111-2222-3333-4444-555555555555';
    await store.createRun({ id: runId, runbook: 'restart', cluster: 'prod', target: { cluster: 'prod', kind: 'Deployment', namespace: 'shop', name: 'api' }, status: 'succeeded', params: {}, startedBy: { type: 'user', name: 'alice' }, dryRun: false, createdAt: T0 + 60_000, updatedAt: T0 + 62_000, currentStep: null, outputs: {} });
    await store.addTransition({ runId, stepId: 'rollout', attempt: 1, status: 'started', time: T0 + 60_000 });
    await store.addTransition({ runId, stepId: 'rollout', attempt: 1, status: 'succeeded', time: T0 + 61_000, output: { mutated: true, calls: ['PATCH /apis/apps/v1/namespaces/shop/deployments/api: set image'] } });
    await store.putChatRequest({ id: 'chat-1', user: 'alice', room: '#shop-oncall', adapter: 'slack', command: 'restart deployment/api -n shop', action: 'restart', cluster: 'prod', target: { namespace: 'shop', kind: 'Deployment', name: 'api' }, justification: 'INC-7', status: 'executed', approvals: [], createdAt: T0 + 59_000, updatedAt: T0 + 62_000, runId });
    await clock.advance(1000);
    tracker.observe({ source: 'object', cluster: 'prod', time: clock.now(), operation: 'update', oldObject: dep('api:1'), object: dep('api:2') });
    await tracker.flush();

    const ctx = await gatherIncident(store, tracker.openIncidents()[0].id);
    assert.deepEqual(ctx.runs.map((r) => r.id), [runId]);
    assert.deepEqual(ctx.chats.map((c) => c.id), ['chat-1']);
    assert.equal(ctx.changes[0].by, 'kubemend (alice via chat, runbook restart run 11111111 step rollout)');
    const lines = buildTimeline(ctx).map((e) => `${(e.time - T0) / 1000} ${e.source} ${e.text}`);
    assert.deepEqual(lines, [
      '0 detection crashloop-backoff [critical] on deployment/shop/api: Deployment shop/api is crash-looping',
      `0 incident incident.opened by system:incident-tracker: ${tracker.openIncidents()[0].title}`,
      '59 chat alice in #shop-oncall: restart deployment/api -n shop (executed; why: INC-7)',
      '60 run runbook restart started on deployment/shop/api by user:alice — run 11111111',
      '61 change deployment/shop/api image api:1 → api:2 (container api) — by kubemend (alice via chat, runbook restart run 11111111 step rollout)',
      '61 step restart/rollout: succeeded — PATCH /apis/apps/v1/namespaces/shop/deployments/api: set image',
      '62 run runbook restart succeeded — run 11111111',
    ]);
    const pm = draftPostmortem(ctx);
    assert.equal(pm.times.mitigatedAt, T0 + 61_000);
    assert.deepEqual(pm.appendix.chats, ['chat-1']);
  } finally {
    tracker.stop();
    await store.close();
  }
});
