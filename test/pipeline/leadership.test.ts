// Replicas sharing one PostgreSQL database and one Lease on the sandbox,
// each with its own executor and an injected clock for its lease: the
// fencing check refuses a stale term before a mutation is sent; a new
// leader adopts the run and the deposed one's late step is refused by the
// store, so the change is made once; a chat action taken on a follower is
// run once, by the leader, and the follower reports it; a cancel asked on a
// follower stops the run the leader drives.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { ManualClock, realClock } from '../../src/common/clock.ts';
import { KubeHttp, LeaderElector } from '../../src/kube/index.ts';
import { openStore, type RunRecord, type StepTransition } from '../../src/store/index.ts';
import { Sandbox } from '../../src/sandbox/cluster.ts';
import { loadRunbooks } from '../../src/runbooks/loader.ts';
import { ACTIONS } from '../../src/runbooks/actions/index.ts';
import { buildRemediation, Leadership } from '../../src/pipeline/index.ts';
import { createPgSchemaUrl, pgSkip } from '../audit/helpers.ts';

const T0 = Date.UTC(2026, 0, 1);
const LEASE = { namespace: 'default', name: 'kubemend', leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 };
// An approval (a read that waits) before a change: the run is in flight while the lease moves.
const TOUCH = `apiVersion: kubemend.dev/v1alpha1
kind: Runbook
metadata: { name: touch }
spec:
  parameters:
    name: { type: string }
  steps:
    - id: ask
      action: approval
      with: { group: ops, summary: "touch {{ params.name }}", timeout: 10m }
    - id: touch
      action: k8s.annotate
      with: { kind: ConfigMap, namespace: default, name: "{{ params.name }}", annotations: { kubemend.dev/touched: "{{ run.id }}" } }
`;

async function until<T>(what: string, fn: () => Promise<T | undefined | false> | T | undefined | false, ms = 20_000): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Moves a lease clock in steps, letting the real HTTP and database round trips finish in between. */
async function advance(clock: ManualClock, ms: number, step = 500): Promise<void> {
  for (let t = 0; t < ms; t += step) {
    await clock.advance(Math.min(step, ms - t));
    await new Promise((r) => setTimeout(r, 40));
  }
}

describe('replicas on one database and one Lease', { skip: pgSkip, timeout: 120_000 }, () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  after(async () => {
    for (const c of cleanups.reverse()) await c().catch(() => {});
  });

  async function world() {
    const sandbox = new Sandbox({ speed: 1, nodes: [] });
    await sandbox.listen();
    cleanups.push(() => sandbox.stop());
    const kc = new KubeConfig();
    kc.loadFromString(sandbox.kubeconfig());
    const kube = new KubeHttp(kc);
    for (const name of ['cm-1', 'cm-2', 'cm-3']) await kube.request('POST', '/api/v1/namespaces/default/configmaps', { body: { metadata: { name, namespace: 'default' }, data: {} } });
    // One database for the replicas of this world: a schema of its own in the file's database.
    const db = { url: await createPgSchemaUrl() };
    const dir = mkdtempSync(join(tmpdir(), 'km-ha-'));
    writeFileSync(join(dir, 'touch.yaml'), TOUCH);
    const runbooks = loadRunbooks(dir, { actions: ACTIONS });
    const logs: string[] = [];
    // Each replica: its own connection pool, executor and lease clock; one data directory, so one audit key.
    async function replica(identity: string) {
      const clock = new ManualClock(T0);
      const store = await openStore({ db: db.url, dataDir: dir });
      cleanups.push(() => store.close());
      let rem: ReturnType<typeof buildRemediation> | undefined;
      const log = (l: string) => void logs.push(`${identity}: ${l}`);
      const leadership = new Leadership({ ...LEASE, identity, clock }, kube, { store, clock, executor: () => rem?.executor, ingest: () => {}, takeOver: async () => {}, log });
      rem = buildRemediation({ store, clock: realClock, runbooks, kube: () => kube, approvers: () => true, fencing: leadership, log, budgets: { concurrentPerNamespace: 100, concurrentPerCluster: 100 } });
      const r = rem;
      cleanups.push(async () => {
        await leadership.stop();
        r.executor.cancelAll();
        await r.executor.idle();
      });
      const approve = async () => {
        const [p] = await until(`${identity}'s approval request`, () => r.approvals.list().length > 0 && r.approvals.list());
        assert.deepEqual(r.approvals.decide(p.id, 'alice', 'approved'), { ok: true });
      };
      return { identity, clock, store, leadership, rem: r, approve };
    }
    const patches = (name: string) => sandbox.api!.requestLog.filter((e) => e.method === 'PATCH' && e.resource === 'configmaps' && e.name === name);
    const transitions = (store: Awaited<ReturnType<typeof replica>>['store'], id: string) => store.transitions(id);
    return { sandbox, kube, replica, patches, transitions, logs };
  }

  const touch = (name: string, startedBy: RunRecord['startedBy'] = { type: 'rule', name: 'test' }, as?: { user: string; groups?: string[] }) => ({
    runbook: 'touch',
    params: { name },
    startedBy,
    ...(as ? { as } : {}),
    target: { cluster: 'sandbox', kind: 'ConfigMap', namespace: 'default', name },
  });

  it('the fencing check refuses a stale term: a leader whose lease was taken abandons its mutating step, and nothing is sent', async () => {
    const w = await world();
    const a = await w.replica('a');
    a.leadership.start();
    await advance(a.clock, 500);
    assert.equal(a.leadership.leading, true);
    const started = await a.rem.executor.trigger(touch('cm-1'));
    assert.ok('run' in started && !('refused' in started));
    const run = started.run;
    assert.deepEqual(run.fence, { holder: 'a', term: 0 });
    // Another replica takes the lease while a, paused, has not noticed (its clock does not move): a still believes it leads.
    const thief = new LeaderElector({ ...LEASE, identity: 'b', kube: w.kube, clock: new ManualClock(T0) });
    assert.equal(await thief.tryAcquireOrRenew(), false);
    await (thief.o.clock as ManualClock).advance(16_000);
    assert.equal(await thief.tryAcquireOrRenew(), true);
    assert.equal(a.leadership.leading, true, 'a has not noticed');

    await a.approve();
    const abandoned = await until('the abandoned step', async () => (await w.transitions(a.store, run.id)).find((t) => t.stepId === 'touch'));
    assert.equal(abandoned.status, 'abandoned');
    assert.match(abandoned.error!, /^DEPOSED: this replica is no longer the leader \(term 0\)/);
    assert.deepEqual(abandoned.output, { landed: 'no' });
    await until('a to stop driving the run', () => !a.rem.executor.isActive(run.id));
    assert.equal(w.patches('cm-1').length, 0, 'the annotation was never sent');
    const stored = (await a.store.getRun(run.id))!;
    assert.equal(stored.status, 'running', 'left active for the new leader');
    assert.deepEqual(stored.fence, { holder: 'a', term: 0 });
  });

  it('a new leader adopts the run and takes the change once; the deposed leader\'s late step is refused by the store', async () => {
    const w = await world();
    const a = await w.replica('a');
    const b = await w.replica('b');
    a.leadership.start();
    await advance(a.clock, 500);
    b.leadership.start();
    await advance(b.clock, 500);
    assert.equal(a.leadership.leading, true);
    assert.equal(b.leadership.leading, false);
    const started = await a.rem.executor.trigger(touch('cm-2'));
    assert.ok('run' in started && !('refused' in started));
    const run = started.run;
    await until('a waits for approval', () => a.rem.approvals.list().length === 1);

    // a is paused (its lease clock stands still); b sees no renewal for 15s and takes over.
    await advance(b.clock, 16_000);
    assert.equal(b.leadership.leading, true);
    await until('b adopts the run', async () => b.rem.executor.isActive(run.id) && (await b.store.getRun(run.id))?.fence?.holder === 'b');
    assert.deepEqual((await b.store.getRun(run.id))!.fence, { holder: 'b', term: 1 });
    const resumed = await b.store.audit.list({ action: 'runbook.run.resumed' });
    assert.equal(resumed.length, 1);
    assert.deepEqual({ term: resumed[0].data?.term, from: resumed[0].data?.from }, { term: 1, from: 'a (term 0)' });
    assert.equal((await b.store.audit.list({ action: 'leader.elected' })).map((e) => e.data?.identity).join(), 'a,b');

    await b.approve();
    await until('b finishes the run', async () => (await b.store.getRun(run.id))?.status === 'succeeded');
    assert.equal(w.patches('cm-2').length, 1);

    // a wakes up and its approval comes: the store refuses to record a's step under its old term, so a stops there.
    const before = (await b.store.transitions(run.id)).length;
    await a.approve();
    await until('a gives the run up', () => !a.rem.executor.isActive(run.id));
    assert.equal(w.patches('cm-2').length, 1, 'the change was made once');
    const ts = await w.transitions(b.store, run.id);
    assert.equal(ts.length, before, 'the deposed leader wrote nothing into the run');
    assert.deepEqual(ts.filter((t) => t.stepId === 'touch').map((t) => t.status), ['started', 'succeeded']);
    const lateAbandon = await until('the audit record of a leaving the run', async () => (await b.store.audit.list({ action: 'runbook.step.abandoned' }))[0]);
    assert.equal(lateAbandon.data?.step, 'ask');
    assert.match(String(lateAbandon.data?.error), /^DEPOSED: /);
    assert.match(String(lateAbandon.data?.adoptedBy), /driven by b \(term 1\), not by a \(term 0\)/);
    const cm = await w.kube.request('GET', '/api/v1/namespaces/default/configmaps/cm-2');
    assert.equal(cm.metadata.annotations['kubemend.dev/touched'], run.id);

    // a's renewal finds b's record: it steps down, on the record.
    await advance(a.clock, 2_500);
    assert.equal(a.leadership.leading, false);
    await until('a records losing the lease', async () => (await a.store.audit.list({ action: 'leader.lost' })).length === 1);
    assert.ok((await a.store.audit.verify()).ok);
  });

  it('a chat action taken on a follower runs once, on the leader, as the chat user; the follower reports it, and a cancel asked there stops the run', async () => {
    const w = await world();
    const a = await w.replica('a');
    const b = await w.replica('b');
    a.leadership.start();
    await advance(a.clock, 500);
    b.leadership.start();
    await advance(b.clock, 500);
    const seen: string[] = [];
    const ends: RunRecord[] = [];
    b.rem.executor.on({ onTransition: (_r, t: StepTransition) => void seen.push(`${t.stepId} ${t.status}`), onRunEnd: (r) => void ends.push(r) });

    const started = await b.rem.executor.trigger(touch('cm-2', { type: 'user', name: 'alice' }, { user: 'alice', groups: ['sre'] }));
    assert.ok('run' in started && !('refused' in started));
    assert.equal(started.run.status, 'pending', 'queued for the leader');
    assert.equal(started.run.fence, undefined);
    assert.equal(b.rem.executor.isActive(started.run.id), false);
    const refused = await b.rem.executor.trigger(touch('cm-2', { type: 'user', name: 'bob' }));
    assert.equal('refused' in refused && refused.refused.kind, 'locked', 'the queued run holds its target');

    await advance(a.clock, 2_000); // the leader's retry period: it picks queued runs up
    await until('a drives it', () => a.rem.executor.isActive(started.run.id));
    await a.approve();
    await until('the follower hears the end', () => ends.length === 1, 30_000);
    assert.equal(ends[0].status, 'succeeded');
    assert.deepEqual(seen, ['ask started', 'ask succeeded', 'touch started', 'touch succeeded']);
    const p = w.patches('cm-2');
    assert.equal(p.length, 1, 'run once');
    assert.equal(p[0].user, 'alice', 'as the chat user');
    assert.deepEqual(p[0].groups, ['sre']);

    const second = await b.rem.executor.trigger(touch('cm-3', { type: 'user', name: 'alice' }));
    assert.ok('run' in second && !('refused' in second));
    assert.equal(await b.rem.executor.requestStop(second.run.id, { type: 'user', name: 'alice' }, { reason: 'changed my mind' }), true);
    await advance(a.clock, 2_000);
    await until('the follower hears the cancel', () => ends.length === 2, 30_000).catch((e: Error) => assert.fail(`${e.message}\n${w.logs.join('\n')}`));
    assert.equal(ends[1].status, 'cancelled');
    assert.equal(w.patches('cm-3').length, 0);
    const cancelled = await a.store.audit.list({ action: 'runbook.run.cancelled' });
    assert.equal(cancelled[0]?.actor.name, 'alice');
  });

  it("the leader's periodic adoption never takes a run its own trigger is still starting (one drive per run)", async () => {
    const w = await world();
    const a = await w.replica('a');
    a.leadership.start();
    await advance(a.clock, 500);
    const names = Array.from({ length: 12 }, (_, i) => `race-${i}`);
    for (const name of names) await w.kube.request('POST', '/api/v1/namespaces/default/configmaps', { body: { metadata: { name, namespace: 'default' }, data: {} } });
    let adopting = true;
    // The adoption a retry period runs, as often as it can, while the triggers store and launch their runs.
    const adoption = (async () => {
      while (adopting) await a.rem.executor.resumeInFlight();
    })();
    const runs = await Promise.all(names.map((n) => a.rem.executor.trigger(touch(n))));
    adopting = false;
    await adoption;
    await until('every run to ask once', () => a.rem.approvals.list().length >= names.length);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(a.rem.approvals.list().length, names.length, 'one approval request per run: no run is driven twice');
    for (const r of runs) {
      assert.ok('run' in r && !('refused' in r));
      const ts = await a.store.transitions(r.run.id);
      assert.equal(ts.filter((t) => t.stepId === 'ask' && t.status === 'started').length, 1);
    }
    assert.equal((await a.store.audit.list({ action: 'runbook.run.resumed' })).length, 0);
  });

  it("a person's confirmed action on a follower pre-empts the leader's automatic run on the same target, through the store", async () => {
    const w = await world();
    const a = await w.replica('a');
    const b = await w.replica('b');
    a.leadership.start();
    await advance(a.clock, 500);
    b.leadership.start();
    await advance(b.clock, 500);
    const auto = await a.rem.executor.trigger(touch('cm-1'));
    assert.ok('run' in auto && !('refused' in auto));
    await until('the automatic run waits for approval', () => a.rem.approvals.list().length === 1);

    let waitingFor: string | undefined;
    const mine = b.rem.executor.trigger({ ...touch('cm-1', { type: 'user', name: 'alice' }), preempt: { timeoutMs: 60_000, reason: "pre-empted by alice's chat touch", onWaiting: (holder, o) => void (waitingFor = `${holder.id} ${o.step} ${o.interrupting}`) } });
    await until('the stop request to be stored', async () => (await b.store.getRun(auto.run.id))?.stop?.status === 'preempted');
    assert.equal(waitingFor, `${auto.run.id} ask true`, 'its step only waits: it is interrupted');
    await advance(a.clock, 2_000); // the leader applies the stored request
    const res = await mine;
    assert.ok('run' in res && !('refused' in res), JSON.stringify(res));
    assert.equal((await a.store.getRun(auto.run.id))?.status, 'preempted');
    assert.equal((await a.store.audit.list({ action: 'runbook.run.preempted' }))[0]?.actor.name, 'alice');
    await advance(a.clock, 2_000); // and picks the queued run up
    await a.approve();
    await until("alice's run to finish", async () => (await a.store.getRun(res.run.id))?.status === 'succeeded');
    assert.equal(w.patches('cm-1').length, 1, "only alice's run changed it");
  });
});
