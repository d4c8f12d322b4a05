// Every start resumes what was in flight; a run that cannot resume here is
// ended as `abandoned` with the reason audited, so it stops holding its
// target's lock and the next detection on that target may act.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KubeConfig } from '@kubernetes/client-node';
import { openStore } from '../../src/store/index.ts';
import type { RunRecord } from '../../src/store/index.ts';
import { KubeHttp } from '../../src/kube/http.ts';
import { Sandbox } from '../../src/sandbox/cluster.ts';
import { loadRunbooks } from '../../src/runbooks/loader.ts';
import { ACTIONS } from '../../src/runbooks/actions/index.ts';
import { buildRemediation } from '../../src/pipeline/index.ts';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const TARGET = { cluster: 'sandbox', kind: 'Deployment', namespace: 'shop', name: 'checkout' };

async function sandboxWithStore() {
  const sandbox = new Sandbox({ speed: 60 });
  await sandbox.listen();
  const kc = new KubeConfig();
  kc.loadFromString(sandbox.kubeconfig());
  const store = await openStore({ dataDir: mkdtempSync(join(tmpdir(), 'km-resume-')), clock: sandbox.clock });
  return { sandbox, kube: new KubeHttp(kc), store };
}

function run(id: string, over: Partial<RunRecord>, now: number): RunRecord {
  return { id, runbook: 'bad-deploy', cluster: 'sandbox', target: TARGET, status: 'running', params: { smokeWindow: '5s', rolloutTimeout: '1m', channel: 'default' }, startedBy: { type: 'rule', name: 'crashloop-backoff' }, dryRun: false, createdAt: now, updatedAt: now, currentStep: 'rollback', outputs: {}, ...over };
}

test('runs that cannot resume are abandoned with a reason, and release their target', { timeout: 60_000 }, async () => {
  const { sandbox, kube, store } = await sandboxWithStore();
  try {
    const now = sandbox.clock.now();
    await store.createRun(run('gone-runbook', { runbook: 'retired-runbook' }, now));
    await store.createRun(run('other-cluster', { clusterUid: 'uid-of-the-old-sandbox', target: { ...TARGET, name: 'cart' } }, now));
    await store.createRun(run('unknown-cluster', { cluster: 'eu-west', target: { ...TARGET, cluster: 'eu-west' } }, now));
    const runbooks = loadRunbooks(here('../../runbooks'), { actions: ACTIONS });
    const rem = buildRemediation({ store, clock: sandbox.clock, runbooks, kube: (c) => (c === 'sandbox' ? kube : undefined), clusterUid: () => 'uid-of-this-sandbox' });

    // Before the start, the orphan holds the lock on shop/checkout.
    assert.equal((await rem.executor.budgets.admit('bad-deploy', TARGET, now))?.kind, 'locked');
    assert.deepEqual(await rem.executor.resumeInFlight(), { resumed: 0, abandoned: 3 });
    for (const id of ['gone-runbook', 'other-cluster', 'unknown-cluster']) assert.equal((await store.getRun(id))!.status, 'abandoned', id);
    const audit = await store.audit.list({ action: 'runbook.run.abandoned' });
    const reasons = Object.fromEntries(audit.map((a) => [a.runId, String(a.data?.reason)]));
    assert.match(reasons['gone-runbook'], /runbook retired-runbook is no longer loaded/);
    assert.match(reasons['other-cluster'], /not the cluster this run acted on/);
    assert.match(reasons['unknown-cluster'], /cluster "eu-west" is not configured/);
    // The lock is free again: a new run on the same target is admitted.
    assert.equal(await rem.executor.budgets.admit('bad-deploy', TARGET, now), undefined);
    assert.ok((await store.audit.verify()).ok);
  } finally {
    await store.close();
    await sandbox.stop();
  }
});

test('a run started on a cluster records its identity, so a resume can tell', { timeout: 60_000 }, async () => {
  const { sandbox, kube, store } = await sandboxWithStore();
  try {
    const runbooks = loadRunbooks(here('../../runbooks'), { actions: ACTIONS });
    const rem = buildRemediation({ store, clock: sandbox.clock, runbooks, kube: () => kube, clusterUid: () => 'uid-1', dryRun: true });
    const res = await rem.executor.trigger({ runbook: 'bad-deploy', startedBy: { type: 'user', name: 'alice' }, target: TARGET });
    assert.ok('run' in res && res.run);
    assert.equal((await store.getRun(res.run.id))!.clusterUid, 'uid-1');
    await rem.executor.idle();
  } finally {
    await store.close();
    await sandbox.stop();
  }
});
