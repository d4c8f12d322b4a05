// Leader election on the sandbox's coordination.k8s.io/v1 Lease API over
// real HTTP, with injected clocks: a held lease is not taken before it
// expires as the candidate saw it (never by the holder's timestamps), the
// transition count moves only when the holder changes, optimistic
// concurrency lets one of two racing candidates win, a leader that cannot
// renew within renewDeadline steps down, and a released lease is taken at once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KubeConfig } from '@kubernetes/client-node';
import { Sandbox } from '../../src/sandbox/cluster.ts';
import { ManualClock } from '../../src/common/clock.ts';
import { KubeHttp, LeaderElector, type LeaderTerm, type LeaseSpec } from '../../src/kube/index.ts';

const T0 = Date.UTC(2026, 0, 1);
const TIMING = { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 };

async function setup() {
  const sandbox = new Sandbox({ speed: 1, nodes: [] });
  await sandbox.listen();
  const kc = new KubeConfig();
  kc.loadFromString(sandbox.kubeconfig());
  const http = new KubeHttp(kc);
  const events: string[] = [];
  const elector = (identity: string, clock = new ManualClock(T0)) => ({
    clock,
    e: new LeaderElector({
      kube: http,
      clock,
      namespace: 'default',
      name: 'kubemend',
      identity,
      ...TIMING,
      onStartedLeading: (t) => events.push(`${identity} leads term ${t.term}`),
      onStoppedLeading: (t, why) => events.push(`${identity} stops term ${t.term}: ${why}`),
    }),
  });
  const lease = async () => (await http.request<{ spec: LeaseSpec }>('GET', '/apis/coordination.k8s.io/v1/namespaces/default/leases/kubemend')).spec;
  return { sandbox, http, elector, lease, events };
}

/** Moves a manual clock in steps, letting real HTTP round trips finish in between. */
async function run(clock: ManualClock, ms: number, step = 500): Promise<void> {
  for (let t = 0; t < ms; t += step) {
    await clock.advance(Math.min(step, ms - t));
    await new Promise((r) => setTimeout(r, 30));
  }
}

test('a held lease is taken only once it has expired as the candidate saw it, with the next transition count', { timeout: 60_000 }, async () => {
  const { sandbox, elector, lease } = await setup();
  try {
    // A's clock is an hour behind: its renewTime looks long expired to B, which must not care.
    const a = elector('a', new ManualClock(T0 - 3_600_000));
    const b = elector('b');
    assert.equal(await a.e.tryAcquireOrRenew(), true, 'a creates the lease');
    const first = await lease();
    assert.equal(first.holderIdentity, 'a');
    assert.equal(first.leaseTransitions, 0);
    assert.equal(first.leaseDurationSeconds, 15);
    assert.equal(first.acquireTime, first.renewTime);
    assert.match(first.renewTime!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/, 'MicroTime');

    assert.equal(await b.e.tryAcquireOrRenew(), false, 'b sees it for the first time: held');
    await b.clock.advance(14_000);
    assert.equal(await b.e.tryAcquireOrRenew(), false, '14s after b saw it: still held');
    await a.clock.advance(2_000);
    assert.equal(await a.e.tryAcquireOrRenew(), true, 'a renews');
    const renewed = await lease();
    assert.equal(renewed.acquireTime, first.acquireTime, 'a renewal keeps acquireTime');
    assert.notEqual(renewed.renewTime, first.renewTime);
    assert.equal(renewed.leaseTransitions, 0, 'a renewal is not a transition');
    await b.clock.advance(2_000);
    assert.equal(await b.e.tryAcquireOrRenew(), false, 'b saw the record change 0s ago');
    await b.clock.advance(14_999);
    assert.equal(await b.e.tryAcquireOrRenew(), false);
    await b.clock.advance(1);
    assert.equal(await b.e.tryAcquireOrRenew(), true, 'expired 15s after b last saw it change: b takes it');
    const taken = await lease();
    assert.equal(taken.holderIdentity, 'b');
    assert.equal(taken.leaseTransitions, 1);
    assert.equal(taken.acquireTime, taken.renewTime);

    const aTerm: LeaderTerm = { holder: 'a', term: 0 };
    assert.equal(await a.e.tryAcquireOrRenew(), false, "a's renewal over the old resourceVersion conflicts, and b's record has not expired");
    assert.equal(await a.e.verify(aTerm), false);
    assert.equal(a.e.holder, 'b');
  } finally {
    await sandbox.stop();
  }
});

test('two candidates racing for an expired lease: optimistic concurrency lets exactly one win', { timeout: 60_000 }, async () => {
  const { sandbox, elector, lease } = await setup();
  try {
    const a = elector('a');
    assert.equal(await a.e.tryAcquireOrRenew(), true);
    for (let round = 0; round < 5; round++) {
      const b = elector(`b${round}`);
      const c = elector(`c${round}`);
      await Promise.all([b.e.tryAcquireOrRenew(), c.e.tryAcquireOrRenew()]);
      await Promise.all([b.clock.advance(16_000), c.clock.advance(16_000)]);
      const won = await Promise.all([b.e.tryAcquireOrRenew(), c.e.tryAcquireOrRenew()]);
      assert.equal(won.filter(Boolean).length, 1, `round ${round}: one winner, got ${won}`);
      assert.equal((await lease()).leaseTransitions, round + 1);
    }
  } finally {
    await sandbox.stop();
  }
});

test('a leader that cannot renew steps down within renewDeadline, before a follower may take over; its term no longer verifies', { timeout: 60_000 }, async () => {
  const { sandbox, elector, events, lease } = await setup();
  const clock = new ManualClock(T0);
  const a = elector('a', clock);
  const b = elector('b', clock);
  try {
    a.e.start();
    await run(clock, 1_000);
    assert.deepEqual(events, ['a leads term 0']);
    b.e.start();
    await run(clock, 20_000);
    assert.deepEqual(events, ['a leads term 0'], 'a renews every retryPeriod: b never takes over');
    assert.equal(await a.e.verify({ holder: 'a', term: 0 }), true);
    assert.equal(await a.e.verify({ holder: 'a', term: 1 }), false, 'another term of the same holder does not verify');

    // The API server refuses every write of the Lease from now on.
    sandbox.faults.add({ verb: 'update', resource: 'coordination.k8s.io/leases', code: 500 });
    const cut = clock.now();
    await run(clock, 10_000);
    assert.equal(events[1], `a stops term 0: could not renew Lease default/kubemend within renewDeadline (10000ms)`);
    assert.equal(a.e.leading, false);
    assert.equal(await a.e.verify({ holder: 'a', term: 0 }), false, 'a stepped down: its term is stale even though the Lease still names it');
    assert.ok(clock.now() - cut <= 10_000, 'stepped down within renewDeadline');
    assert.ok(!events.some((e) => e.startsWith('b leads')), 'b, which last saw a renewal at most 2s before the cut, must wait 15s from it');
    // Writes work again before the record expired: a's own record, so a renews it under the same term (no transition).
    sandbox.faults.clear();
    await run(clock, 2_500);
    assert.equal(events.at(-1), 'a leads term 0');
    assert.equal((await lease()).leaseTransitions, 0);
  } finally {
    await a.e.stop();
    await b.e.stop();
    await sandbox.stop();
  }
});

test('stop() releases the lease: the follower takes it at its next try, with the next transition count', { timeout: 60_000 }, async () => {
  const { sandbox, elector, events, lease } = await setup();
  const clock = new ManualClock(T0);
  const a = elector('a', clock);
  const b = elector('b', clock);
  try {
    a.e.start();
    await run(clock, 1_000);
    b.e.start();
    await run(clock, 4_000);
    await a.e.stop();
    assert.equal((await lease()).holderIdentity ?? '', '', 'released: no holder');
    assert.equal(events.at(-1), 'a stops term 0: this process is stopping');
    await run(clock, 2_500);
    assert.equal(events.at(-1), 'b leads term 1', 'taken within one retryPeriod, not after leaseDuration');
    assert.equal((await lease()).holderIdentity, 'b');
  } finally {
    await a.e.stop();
    await b.e.stop();
    await sandbox.stop();
  }
});

test('a Lease it may not read: KM-LEADER-001 naming the Lease, logged once while it keeps failing; the replica stays a follower', { timeout: 60_000 }, async () => {
  const { sandbox, http, events } = await setup();
  const clock = new ManualClock(T0);
  const logs: string[] = [];
  const e = new LeaderElector({ kube: http, clock, namespace: 'default', name: 'kubemend', identity: 'a', ...TIMING, log: (l) => logs.push(l), onStartedLeading: () => events.push('a leads') });
  try {
    sandbox.faults.add({ verb: 'get', resource: 'coordination.k8s.io/leases', code: 403, message: 'leases.coordination.k8s.io "kubemend" is forbidden: User "system:serviceaccount:kubemend:kubemend" cannot get resource "leases"' });
    await assert.rejects(e.tryAcquireOrRenew(), (err: unknown) => (err as { code?: string }).code === 'KM-LEADER-001' && /cannot read Lease default\/kubemend: .*cannot get resource "leases"/.test((err as Error).message));
    e.start();
    await run(clock, 6_000);
    assert.deepEqual(events, []);
    assert.equal(e.leading, false);
    assert.equal(logs.filter((l) => l.includes('KM-LEADER-001')).length, 1, logs.join('\n'));
    sandbox.faults.clear();
    await run(clock, 2_500);
    assert.deepEqual(events, ['a leads'], 'allowed again: it leads');
  } finally {
    await e.stop();
    await sandbox.stop();
  }
});
