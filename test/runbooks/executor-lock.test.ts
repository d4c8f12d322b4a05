// The per-target lock: while a run acts on a target, another trigger on the
// same target is refused as `locked` (audited, counted), whether the first
// run is stored and in flight or still starting; other targets are not held
// up, and the lock goes with the run. A runbook that only reads, asks and
// notifies neither takes the lock nor counts against the concurrency
// limits: a warning must never keep a remediation from starting.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type ServerResponse } from 'node:http';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { openStore } from '../../src/store/index.ts';
import { realClock } from '../../src/common/clock.ts';
import { KubeHttp } from '../../src/kube/http.ts';
import { loadRunbooks } from '../../src/runbooks/loader.ts';
import { ACTIONS } from '../../src/runbooks/actions/index.ts';
import { buildRemediation } from '../../src/pipeline/index.ts';

const RUNBOOK = `apiVersion: kubemend.dev/v1alpha1
kind: Runbook
metadata: { name: call }
spec:
  parameters:
    url: { type: string }
  steps:
    - id: call
      action: http.request
      with: { url: "{{ params.url }}", timeout: 30s }
`;

// Only an approval (a read-only action) that nobody decides: a read-only run that stays in flight.
const ASK = `apiVersion: kubemend.dev/v1alpha1
kind: Runbook
metadata: { name: ask }
spec:
  steps:
    - id: ask
      action: approval
      with: { group: nobody, summary: wait }
`;

async function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'km-lock-'));
  writeFileSync(join(dir, 'call.yaml'), RUNBOOK);
  writeFileSync(join(dir, 'ask.yaml'), ASK);
  const store = await openStore({ dataDir: dir });
  // The endpoint holds every request until released: a run in flight.
  const held: ServerResponse[] = [];
  let hits = 0;
  let open = false;
  const answer = (res: ServerResponse) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
  const server = createServer((_req, res) => {
    hits++;
    if (open) answer(res);
    else held.push(res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/hold`;
  const kc = new KubeConfig();
  kc.loadFromOptions({ clusters: [{ name: 'c', server: 'http://127.0.0.1:1' }], users: [{ name: 'u' }], contexts: [{ name: 'c', cluster: 'c', user: 'u' }], currentContext: 'c' });
  const kube = new KubeHttp(kc);
  const rem = buildRemediation({ store, clock: realClock, runbooks: loadRunbooks(dir, { actions: ACTIONS }), kube: () => kube });
  const target = (name: string) => ({ cluster: 'c', kind: 'Deployment', namespace: 'shop', name });
  const trigger = (name: string, runbook = 'call') => rem.executor.trigger({ runbook, params: runbook === 'call' ? { url } : {}, startedBy: { type: 'user', name: 'test' }, target: target(name) });
  const release = () => {
    open = true;
    for (const res of held.splice(0)) answer(res);
  };
  const close = async () => {
    release();
    rem.executor.cancelAll();
    await rem.executor.idle();
    server.closeAllConnections();
    server.close();
    await store.close();
  };
  return { store, rem, trigger, release, close, hits: () => hits };
}

test('a second trigger on a target with a run in flight is refused as locked, audited; other targets proceed', { timeout: 60_000 }, async () => {
  const s = await setup();
  try {
    const first = await s.trigger('checkout');
    assert.ok('run' in first && first.run, JSON.stringify(first));
    while (s.hits() < 1) await new Promise((r) => setTimeout(r, 10));
    assert.equal((await s.store.getRun(first.run.id))!.status, 'running');

    const second = await s.trigger('checkout');
    assert.deepEqual(second, { refused: { kind: 'locked', runId: first.run.id } });
    const refusals = await s.store.audit.list({ action: 'runbook.run.refused' });
    assert.equal(refusals.length, 1);
    assert.equal(refusals[0].outcome, 'denied');
    assert.equal(refusals[0].target?.name, 'checkout');
    assert.match(String((refusals[0].data as { reason?: string }).reason), new RegExp(`another run \\(${first.run.id}\\) is already acting on this target`));
    assert.equal((await s.store.listRuns({})).length, 1, 'the refused trigger stored no run');

    const other = await s.trigger('cart');
    assert.ok('run' in other && other.run, `another target is not locked: ${JSON.stringify(other)}`);

    s.release();
    await s.rem.executor.idle();
    assert.equal((await s.store.getRun(first.run.id))!.status, 'succeeded');
    const third = await s.trigger('checkout');
    assert.ok('run' in third && third.run, `the lock goes with the run: ${JSON.stringify(third)}`);
  } finally {
    await s.close();
  }
});

test('two triggers racing on one target: one run, the other refused as locked', { timeout: 60_000 }, async () => {
  const s = await setup();
  try {
    const results = await Promise.all([s.trigger('checkout'), s.trigger('checkout')]);
    const started = results.filter((r) => 'run' in r && r.run);
    const locked = results.filter((r) => 'refused' in r && r.refused?.kind === 'locked');
    assert.equal(started.length, 1, JSON.stringify(results));
    assert.equal(locked.length, 1, JSON.stringify(results));
    assert.equal((await s.store.listRuns({})).length, 1);
  } finally {
    await s.close();
  }
});

test('a read-only run (reads, approvals, notifications) takes no lock and no concurrency slot, and waits for none', { timeout: 60_000 }, async () => {
  const s = await setup();
  try {
    const started = (r: Awaited<ReturnType<typeof s.trigger>>) => 'run' in r && r.run !== undefined && !('refused' in r);
    // Three read-only runs in flight in namespace shop, one on checkout.
    for (const name of ['checkout', 'cart', 'search']) assert.ok(started(await s.trigger(name, 'ask')), name);
    while (s.rem.approvals.list().length < 3) await new Promise((r) => setTimeout(r, 10));
    // A mutating run on checkout starts anyway: no lock held, no namespace slot used (the limit is 2).
    const call = await s.trigger('checkout');
    assert.ok(started(call), JSON.stringify(call));
    while (s.hits() < 1) await new Promise((r) => setTimeout(r, 10));
    // And a read-only run starts on the target the mutating run holds.
    assert.ok(started(await s.trigger('checkout', 'ask')));
    // Mutating runs still lock each other.
    const second = await s.trigger('checkout');
    assert.deepEqual(second, { refused: { kind: 'locked', runId: (call as { run: { id: string } }).run.id } });
  } finally {
    await s.close();
  }
});

test('a run stopped while its first step is being set up ends at once (a step-down right after a start must not leave it waiting)', { timeout: 60_000 }, async () => {
  const s = await setup();
  try {
    const first = await s.trigger('checkout', 'ask');
    assert.ok('run' in first && first.run);
    // Before the approval step has begun to wait: the abort comes while it reads the run's transitions.
    s.rem.executor.cancelAll();
    const ended = await Promise.race([s.rem.executor.idle().then(() => true), new Promise((r) => setTimeout(() => r(false), 5_000))]);
    assert.equal(ended, true, 'the run ended, instead of waiting for an approval nobody was asked for');
    assert.ok(!['pending', 'running', 'waiting-approval'].includes((await s.store.getRun(first.run.id))!.status));
    assert.equal(s.rem.approvals.list().length, 0, 'no approval was left pending for a run that is gone');
  } finally {
    await s.close();
  }
});
