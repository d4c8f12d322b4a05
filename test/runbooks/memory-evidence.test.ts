// The culprit of a node's memory trouble: only a container without a memory
// limit can take a node down, so only such a container is ever blamed, and
// the limit chosen for it comes from the namespace first and never exceeds the cap.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chooseLimit, containerEvidence, mibRate, oomVictims, pickCulprit, verdictOf } from '../../src/runbooks/actions/memory-evidence.ts';

const MI = 2 ** 20;
const GI = 2 ** 30;
/** Samples without measurement times: the growth is over the time between the requests. */
const samples = (entries: [string, number][]) => new Map(entries.map(([k, bytes]) => [k, { bytes }]));
const pod = (name: string, container: string, limit?: string, lastReason?: string) => ({
  metadata: { name, namespace: 'ns', ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: `${name}-rs`, uid: name, controller: true }] },
  spec: { containers: [{ name: container, image: `img/${container}:1`, ...(limit ? { resources: { limits: { memory: limit } } } : {}) }] },
  status: { phase: 'Running', containerStatuses: [{ name: container, ...(lastReason ? { lastState: { terminated: { reason: lastReason } } } : {}) }] },
});

test('the growing container without a limit is the culprit; a limited one never is', { timeout: 10_000 }, () => {
  const pods = [pod('leaker', 'worker'), pod('big', 'db', '6Gi'), pod('quiet', 'app')];
  const first = samples([['ns/leaker/worker', 1 * GI], ['ns/big/db', 5 * GI], ['ns/quiet/app', 50 * MI]]);
  const second = samples([['ns/leaker/worker', 2.5 * GI], ['ns/big/db', 5.9 * GI], ['ns/quiet/app', 50 * MI]]);
  const ev = containerEvidence(pods as any, first, second, 30_000, new Set());
  const picked = pickCulprit(ev, 8 * GI);
  assert.equal(picked?.c.pod, 'leaker');
  assert.ok(picked!.why.some((w) => /grows 3Gi\/min/.test(w)), picked!.why.join('; '));
  assert.equal(ev.find((e) => e.pod === 'big')!.hasLimit, true);
  assert.equal(pickCulprit(ev.filter((e) => e.pod !== 'leaker'), 8 * GI), undefined, 'a big container with a limit and a quiet one are not culprits');
});

test('the kernel\'s victim is found by process name; a restart between samples is not negative growth', { timeout: 10_000 }, () => {
  const victims = oomVictims([{ metadata: {}, message: 'System OOM encountered, victim process: worker, pid: 1236' } as any]);
  assert.deepEqual([...victims], ['worker']);
  const ev = containerEvidence([pod('leaker', 'worker'), pod('other', 'app')] as any, samples([['ns/leaker/worker', 7 * GI]]), samples([['ns/leaker/worker', 1 * GI]]), 30_000, victims);
  const w = ev.find((e) => e.pod === 'leaker')!;
  assert.equal(w.oomVictim, true);
  assert.equal(w.growthPerMinute, undefined);
  assert.equal(pickCulprit(ev, 8 * GI)?.c.pod, 'leaker');
  assert.equal(pickCulprit(containerEvidence([pod('x', 'worker', '1Gi', 'OOMKilled')] as any, new Map(), new Map(), 0, victims), 8 * GI), undefined, 'killed at its own limit: not the node\'s culprit');
});

test('growth is measured between the kubelet\'s reports, not between the requests', { timeout: 10_000 }, () => {
  // Requests 20 s apart that straddle reports 30 s apart: 1 GiB in 30 s is 2 GiB/min, not 3.
  const first = new Map([['ns/leaker/worker', { bytes: 1 * GI, at: 1_000_000 }]]);
  const second = new Map([['ns/leaker/worker', { bytes: 2 * GI, at: 1_030_000 }]]);
  assert.equal(containerEvidence([pod('leaker', 'worker')] as any, first, second, 20_000, new Set())[0].growthPerMinute, 2 * GI);
  const same = new Map([['ns/leaker/worker', { bytes: 2 * GI, at: 1_030_000 }]]);
  assert.equal(containerEvidence([pod('leaker', 'worker')] as any, same, second, 20_000, new Set())[0].growthPerMinute, undefined, 'one report seen twice: no rate');
});

test('a growth rate is shown to two significant digits: the samples are not more precise than that', { timeout: 10_000 }, () => {
  assert.equal(mibRate(1500.5 * MI), '1.5Gi');
  assert.equal(mibRate(1501 * MI), '1.5Gi');
  assert.equal(mibRate(1000 * MI), '1000Mi');
  assert.equal(mibRate(999.4 * MI), '1000Mi');
  assert.equal(mibRate(64.4 * MI), '64Mi');
  assert.equal(mibRate(3 * GI), '3Gi');
  assert.equal(mibRate(2.4 * MI), '2Mi');
});

test('verdicts: a culprit means the workload; none and NotReady means the node; none and Ready is unclear', { timeout: 10_000 }, () => {
  assert.equal(verdictOf({}, false), 'workload');
  assert.equal(verdictOf(undefined, false), 'node');
  assert.equal(verdictOf(undefined, true), 'unclear');
});

test('the limit: LimitRange default, then namespace policy, then usage with headroom; always within the cap', { timeout: 10_000 }, () => {
  const cap = 2 * GI;
  assert.deepEqual(chooseLimit({ limitRangeDefault: '512Mi', namespacePolicy: '1Gi', usageBytes: GI, headroom: 1.25, capBytes: cap }), { bytes: 512 * MI, source: "the namespace's LimitRange default 512Mi" });
  assert.equal(chooseLimit({ namespacePolicy: '1Gi', usageBytes: GI, headroom: 1.25, capBytes: cap })!.bytes, GI);
  assert.equal(chooseLimit({ usageBytes: GI, headroom: 1.25, capBytes: cap })!.bytes, 1.25 * GI);
  assert.equal(chooseLimit({ usageBytes: 7 * GI, headroom: 1.25, capBytes: cap })!.bytes, cap);
  assert.equal(chooseLimit({ limitRangeDefault: '4Gi', headroom: 1.25, capBytes: cap })!.bytes, cap, 'even a LimitRange default is capped');
  assert.equal(chooseLimit({ headroom: 1.25, capBytes: cap })!.bytes, cap);
});
