// A new leader's remediator catching up on detections that were open before
// it led: the newest run another replica started for a detection counts as
// its own — ended, it starts the cool-down (no second run at once after a
// failover); escalated, it leaves the detection to humans — and a detection
// nobody acted on is new to remediation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KubeConfig } from '@kubernetes/client-node';
import { openStore, type RunRecord } from '../../src/store/index.ts';
import { KubeHttp } from '../../src/kube/index.ts';
import { Sandbox } from '../../src/sandbox/index.ts';
import { ACTIONS, loadRunbooks } from '../../src/runbooks/index.ts';
import type { Detection } from '../../src/rules/index.ts';
import { buildRemediation } from '../../src/pipeline/index.ts';

function detection(name: string, now: number): Detection {
  return {
    id: `d-${name}`, rule: 'crashloop-backoff', cluster: 'sandbox', subject: { cluster: 'sandbox', kind: 'Deployment', namespace: 'shop', name },
    fingerprint: `fp-${name}`, severity: 'critical', summary: 'crash-looping', labels: {}, firstSeen: now, lastSeen: now, count: 1,
    status: 'open', evidence: [], notifications: 0, action: { runbook: 'bad-deploy', params: {} },
  };
}

function priorRun(d: Detection, status: RunRecord['status'], at: number): RunRecord {
  return { id: `run-${d.id}`, runbook: 'bad-deploy', detectionId: d.id, cluster: 'sandbox', target: { cluster: 'sandbox', kind: 'Deployment', namespace: 'shop', name: d.subject.name }, status, params: {}, startedBy: { type: 'rule', name: d.rule }, dryRun: true, createdAt: at, updatedAt: at, currentStep: null, outputs: {} };
}

test("a new leader counts the last leader's run for an open detection as its own: cool-down, escalation and fresh detections as before", { timeout: 60_000 }, async () => {
  const sandbox = new Sandbox({ speed: 60 });
  await sandbox.listen();
  const kc = new KubeConfig();
  kc.loadFromString(sandbox.kubeconfig());
  const store = await openStore({ dataDir: mkdtempSync(join(tmpdir(), 'km-takeover-')), clock: sandbox.clock });
  const runbooks = loadRunbooks(fileURLToPath(new URL('../../runbooks', import.meta.url)), { actions: ACTIONS });
  const rem = buildRemediation({ store, clock: sandbox.clock, runbooks, kube: () => new KubeHttp(kc), dryRun: true, retriggerAfterMs: 60_000 });
  const runsOf = async (d: Detection) => (await store.listRuns({})).filter((r) => r.detectionId === d.id).length;
  try {
    const now = sandbox.clock.now();
    const succeeded = detection('checkout', now);
    const escalated = detection('cart', now);
    const fresh = detection('search', now);
    for (const [d, status] of [[succeeded, 'succeeded'], [escalated, 'escalated']] as const) {
      const r = priorRun(d, status, now);
      await store.createRun(r);
      rem.sink.adopt(d, r);
    }
    rem.sink.adopt(fresh, undefined);
    await rem.executor.idle();
    assert.equal(await runsOf(fresh), 1, 'nobody acted on it: it starts now');
    rem.remediator.onDetection(succeeded, 'repeated');
    rem.remediator.onDetection(escalated, 'repeated');
    await rem.executor.idle();
    assert.deepEqual([await runsOf(succeeded), await runsOf(escalated)], [1, 1], 'no second run right after a failover');

    await new Promise((r) => setTimeout(r, 61_000 / 60)); // past the cool-down, in cluster time
    rem.remediator.onDetection(succeeded, 'repeated');
    rem.remediator.onDetection(escalated, 'repeated');
    await new Promise((r) => setTimeout(r, 200));
    await rem.executor.idle();
    assert.equal(await runsOf(succeeded), 2, 'still firing after the cool-down: tried again, as the last leader would have');
    assert.equal(await runsOf(escalated), 1, 'escalated: left to humans');
  } finally {
    await rem.executor.idle();
    await store.close();
    await sandbox.stop();
  }
});
