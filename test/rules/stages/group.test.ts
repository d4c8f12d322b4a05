import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../../src/common/clock.ts';
import { Grouper } from '../../../src/rules/stages/group.ts';
import type { Detection } from '../../../src/rules/types.ts';

const MIN = 60_000;

let seq = 0;
function det(name: string, namespace = 'shop'): Detection {
  const id = `d${++seq}`;
  return {
    id, rule: 'crashloop', cluster: 'prod', fingerprint: id, severity: 'warning', summary: name,
    subject: { cluster: 'prod', kind: 'Pod', namespace, name },
    labels: { rule: 'crashloop', cluster: 'prod', namespace, kind: 'Pod', name },
    firstSeen: 0, lastSeen: 0, count: 1, status: 'open', evidence: [], notifications: 0,
  };
}

function setup() {
  const clock = new ManualClock();
  const flushes: { key: string; at: number; names: string[] }[] = [];
  const g = new Grouper(clock, (key, ds) => flushes.push({ key, at: clock.now(), names: ds.map((d) => d.summary) }));
  return { clock, g, flushes };
}

test('groupKey is readable, sorted and fills missing labels with empty', () => {
  const { g } = setup();
  const labels = { rule: 'crashloop', cluster: 'prod', namespace: 'shop', name: 'web-1' };
  assert.equal(g.groupKey(labels, ['rule', 'cluster', 'namespace']), '{cluster="prod",namespace="shop",rule="crashloop"}');
  assert.equal(g.groupKey(labels, ['namespace', 'cluster', 'rule', 'rule']), g.groupKey(labels, ['rule', 'cluster', 'namespace']));
  assert.equal(g.groupKey(labels, ['team']), '{team=""}');
  assert.equal(g.groupKey(labels, []), '{}');
  assert.equal(g.groupKey(labels, ['...']), '{cluster="prod",name="web-1",namespace="shop",rule="crashloop"}');
});

test('a 10-minute storm with a 5-minute window gives at most 3 notifications', async () => {
  const { clock, g, flushes } = setup();
  const key = '{namespace="shop"}';
  const t0 = clock.now();
  const immediate: string[] = [];
  let offered = 0;
  // One new failing pod every 2 seconds for 10 minutes: 300 detections.
  for (let s = 0; s < 600; s += 2) {
    const d = det(`pod-${s}`);
    offered++;
    if (g.offer(key, 5 * MIN, d) === 'notify') immediate.push(d.summary);
    await clock.advance(2000);
  }
  await clock.advance(20 * MIN);
  assert.deepEqual(immediate, ['pod-0']);
  assert.deepEqual(flushes.map((f) => f.at - t0), [5 * MIN, 10 * MIN]);
  assert.ok(immediate.length + flushes.length <= 3);
  assert.equal(1 + flushes.reduce((n, f) => n + f.names.length, 0), offered, 'every detection is notified exactly once');
  assert.equal(g.size(), 0, 'the group ends after an empty window');
});

test('a detection repeated within a window is flushed once', async () => {
  const { clock, g, flushes } = setup();
  const first = det('a');
  const again = det('b');
  assert.equal(g.offer('k', MIN, first), 'notify');
  assert.equal(g.offer('k', MIN, again), 'batched');
  assert.equal(g.offer('k', MIN, again), 'batched');
  assert.equal(g.batched('k'), 1);
  await clock.advance(MIN);
  assert.deepEqual(flushes.map((f) => f.names), [['b']]);
});

test('different groups are independent', async () => {
  const { clock, g, flushes } = setup();
  assert.equal(g.offer('shop', 5 * MIN, det('a')), 'notify');
  await clock.advance(MIN);
  assert.equal(g.offer('billing', 5 * MIN, det('b', 'billing')), 'notify');
  assert.equal(g.offer('shop', 5 * MIN, det('c')), 'batched');
  assert.equal(g.offer('billing', 5 * MIN, det('d', 'billing')), 'batched');
  await clock.advance(4 * MIN);
  assert.deepEqual(flushes.map((f) => [f.key, f.names]), [['shop', ['c']]]);
  await clock.advance(MIN);
  assert.deepEqual(flushes.map((f) => [f.key, f.names]), [['shop', ['c']], ['billing', ['d']]]);
});

test('a quiet group starts over: the next detection notifies at once', async () => {
  const { clock, g, flushes } = setup();
  assert.equal(g.offer('k', MIN, det('a')), 'notify');
  await clock.advance(MIN);
  assert.equal(g.size(), 0);
  assert.equal(g.offer('k', MIN, det('b')), 'notify');
  assert.deepEqual(flushes, []);
});

test('window 0 means no grouping; close() flushes pending batches', async () => {
  const { clock, g, flushes } = setup();
  assert.equal(g.offer('k', 0, det('a')), 'notify');
  assert.equal(g.offer('k', 0, det('b')), 'notify');
  assert.equal(g.offer('w', MIN, det('c')), 'notify');
  assert.equal(g.offer('w', MIN, det('d')), 'batched');
  g.close();
  assert.deepEqual(flushes.map((f) => f.names), [['d']]);
  assert.equal(clock.pending(), 0);
  await clock.advance(MIN);
  assert.equal(flushes.length, 1);
});

test('a throwing flush handler does not break the group window', async () => {
  const clock = new ManualClock();
  let calls = 0;
  const g = new Grouper(clock, () => { calls++; throw new Error('notifier down'); });
  g.offer('k', MIN, det('a'));
  g.offer('k', MIN, det('b'));
  await assert.rejects(clock.advance(MIN), /notifier down/);
  assert.equal(g.offer('k', MIN, det('c')), 'batched', 'the next window is open');
  await clock.advance(MIN).catch(() => {});
  assert.equal(calls, 2);
});
