// A detection whose rule names a runbook and that gets no run leaves a
// record of why (runbook.run.skipped): a run still in flight, or a run that
// could not start at all. "Not acting" is a decision too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KubeConfig } from '@kubernetes/client-node';
import { openStore } from '../../src/store/index.ts';
import { KubeHttp } from '../../src/kube/index.ts';
import { Sandbox } from '../../src/sandbox/index.ts';
import { ACTIONS, loadRunbooks } from '../../src/runbooks/index.ts';
import type { Detection } from '../../src/rules/index.ts';
import { buildRemediation } from '../../src/pipeline/index.ts';

function detection(id: string, runbook: string, now: number): Detection {
  return {
    id, rule: 'crashloop-backoff', cluster: 'sandbox', subject: { cluster: 'sandbox', kind: 'Deployment', namespace: 'shop', name: 'checkout' },
    fingerprint: `fp-${id}`, severity: 'critical', summary: 'crash-looping', labels: {}, firstSeen: now, lastSeen: now, count: 1,
    status: 'open', evidence: [], notifications: 0, action: { runbook, params: {} },
  };
}

test('no run for a detection is audited with the reason: one in flight, or one that cannot start', { timeout: 60_000 }, async () => {
  const sandbox = new Sandbox({ speed: 60 });
  await sandbox.listen();
  const kc = new KubeConfig();
  kc.loadFromString(sandbox.kubeconfig());
  const kube = new KubeHttp(kc);
  const store = await openStore({ dataDir: mkdtempSync(join(tmpdir(), 'km-skip-')), clock: sandbox.clock });
  const runbooks = loadRunbooks(fileURLToPath(new URL('../../runbooks', import.meta.url)), { actions: ACTIONS });
  const rem = buildRemediation({ store, clock: sandbox.clock, runbooks, kube: () => kube, dryRun: true });
  try {
    const d = detection('d1', 'bad-deploy', sandbox.clock.now());
    rem.remediator.onDetection(d, 'opened');
    rem.remediator.onDetection(d, 'reopened');
    rem.remediator.onDetection(detection('d2', 'no-such-runbook', sandbox.clock.now()), 'opened');
    await rem.executor.idle();
    for (let i = 0; i < 40 && (await store.audit.list({ action: 'runbook.run.skipped' })).length < 2; i++) await new Promise((r) => setTimeout(r, 50));
    const skipped = await store.audit.list({ action: 'runbook.run.skipped' });
    const reasons = Object.fromEntries(skipped.map((a) => [a.detectionId, String(a.data?.reason)]));
    assert.match(reasons.d1, /still in flight/);
    assert.match(reasons.d2, /could not start: no runbook named "no-such-runbook"/);
    assert.equal((await store.listRuns({})).length, 1, 'one run, for the first detection');
  } finally {
    await rem.executor.idle();
    await store.close();
    await sandbox.stop();
  }
});

test('a withheld runbook is audited once as not acting, and starts on the first firing where action.when holds; an offered one never starts', { timeout: 60_000 }, async () => {
  const sandbox = new Sandbox({ speed: 60 });
  await sandbox.listen();
  const kc = new KubeConfig();
  kc.loadFromString(sandbox.kubeconfig());
  const kube = new KubeHttp(kc);
  const store = await openStore({ dataDir: mkdtempSync(join(tmpdir(), 'km-withheld-')), clock: sandbox.clock });
  const runbooks = loadRunbooks(fileURLToPath(new URL('../../runbooks', import.meta.url)), { actions: ACTIONS });
  const rem = buildRemediation({ store, clock: sandbox.clock, runbooks, kube: () => kube, dryRun: true });
  const flush = () => rem.sink.flush();
  try {
    const d = detection('w1', 'bad-deploy', sandbox.clock.now());
    d.action!.withheld = 'there is no previous revision to roll back to';
    rem.remediator.onDetection(d, 'opened');
    rem.remediator.onDetection(d, 'repeated');
    await flush();
    const skipped = await store.audit.list({ action: 'runbook.run.skipped' });
    assert.deepEqual(skipped.map((a) => String(a.data?.reason)), ['not acting, because there is no previous revision to roll back to'], 'once, not per repeat');
    assert.equal((await store.listRuns({})).length, 0);
    delete d.action!.withheld;
    rem.remediator.onDetection(d, 'repeated');
    await flush();
    assert.equal((await store.listRuns({})).length, 1, 'it holds now: the run starts');

    const o = detection('o1', 'bad-deploy', sandbox.clock.now());
    o.action!.mode = 'offer';
    rem.remediator.onDetection(o, 'opened');
    rem.remediator.onDetection(o, 'repeated');
    await flush();
    const offered = await store.audit.list({ action: 'runbook.run.offered' });
    assert.deepEqual(offered.map((a) => [a.detectionId, a.data?.runbook]), [['o1', 'bad-deploy']]);
    assert.ok(rem.notifications.sent.some((n) => n.title === 'Offered: runbook bad-deploy for deployment/shop/checkout' && n.detectionId === 'o1'));
    assert.equal((await store.listRuns({})).length, 1, 'no run for the offer');
  } finally {
    await rem.executor.idle();
    await store.close();
    await sandbox.stop();
  }
});
