import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock, type Clock } from '../../../src/common/clock.ts';
import { HoldTracker } from '../../../src/rules/stages/hold.ts';

const MIN = 60_000;

test('fires exactly at `for`, not before', async () => {
  const clock = new ManualClock();
  const t = new HoldTracker(clock);
  const due: number[] = [];
  const onDue = () => due.push(clock.now());
  const t0 = clock.now();
  assert.equal(t.observe('k', true, 5 * MIN, onDue), 'waiting');
  assert.equal(t.pending(), 1);
  await clock.advance(5 * MIN - 1);
  assert.equal(t.observe('k', true, 5 * MIN, onDue), 'waiting');
  assert.deepEqual(due, []);
  await clock.advance(1);
  assert.deepEqual(due, [t0 + 5 * MIN]);
  assert.equal(t.pending(), 0);
  assert.equal(t.since('k'), t0);
});

test('repeats after due return fire; onDue is called once', async () => {
  const clock = new ManualClock();
  const t = new HoldTracker(clock);
  let calls = 0;
  t.observe('k', true, MIN, () => calls++);
  await clock.advance(MIN);
  for (let i = 0; i < 10; i++) {
    assert.equal(t.observe('k', true, MIN, () => calls++), 'fire');
    await clock.advance(1000);
  }
  assert.equal(calls, 1);
  assert.equal(clock.pending(), 0);
});

test('an observation at the due time fires itself and disarms the timer', async () => {
  // A real clock's timer can run late: model one that has not run yet at the due instant.
  const clock = new ManualClock();
  let cancelled = false;
  const lateClock: Clock = {
    now: () => clock.now(),
    setTimeout: () => ({ cancel: () => { cancelled = true; } }),
    sleep: (ms) => clock.sleep(ms),
    speed: 1,
  };
  const t = new HoldTracker(lateClock);
  t.observe('k', true, MIN, () => assert.fail('the observation fired it'));
  await clock.advance(MIN);
  assert.equal(t.observe('k', true, MIN, () => {}), 'fire');
  assert.equal(cancelled, true);
});

test('for: 0 fires at once', () => {
  const t = new HoldTracker(new ManualClock());
  assert.equal(t.observe('k', true, 0, () => assert.fail('no timer for 0')), 'fire');
  assert.equal(t.observe('k', true, 0, () => {}), 'fire');
  assert.equal(t.observe('k', false, 0, () => {}), 'cleared');
});

test('flapping before `for` never fires', async () => {
  const clock = new ManualClock();
  const t = new HoldTracker(clock);
  let calls = 0;
  const states: string[] = [];
  // Holds for 4 minutes, clears, repeatedly, for an hour: each hold restarts the clock.
  for (let i = 0; i < 12; i++) {
    states.push(t.observe('k', true, 5 * MIN, () => calls++));
    await clock.advance(4 * MIN);
    states.push(t.observe('k', false, 5 * MIN, () => calls++));
    await clock.advance(MIN);
  }
  assert.equal(calls, 0);
  assert.ok(!states.includes('fire'));
  assert.equal(t.size(), 0);
  assert.equal(clock.pending(), 0, 'timers are cancelled on clear');
});

test('cleared vs idle; clear() and keys are independent', async () => {
  const clock = new ManualClock();
  const t = new HoldTracker(clock);
  assert.equal(t.observe('a', false, MIN, () => {}), 'idle');
  t.observe('a', true, MIN, () => {});
  t.observe('b', true, MIN, () => {});
  assert.equal(t.observe('a', false, MIN, () => {}), 'cleared');
  assert.equal(t.observe('a', false, MIN, () => {}), 'idle');
  let bDue = false;
  t.observe('c', true, MIN, () => assert.fail('cleared keys do not fire'));
  assert.equal(t.clear('c'), true);
  assert.equal(t.clear('c'), false);
  await clock.advance(MIN);
  assert.equal(t.observe('b', true, MIN, () => { bDue = true; }), 'fire');
  assert.equal(bDue, false);
  assert.equal(t.clearPrefix('b'), 1);
  assert.equal(t.size(), 0);
});

test('after clearing, a new hold starts from zero', async () => {
  const clock = new ManualClock();
  const t = new HoldTracker(clock);
  t.observe('k', true, MIN, () => {});
  await clock.advance(MIN);
  assert.equal(t.observe('k', true, MIN, () => {}), 'fire');
  assert.equal(t.observe('k', false, MIN, () => {}), 'cleared');
  assert.equal(t.observe('k', true, MIN, () => {}), 'waiting');
  await clock.advance(MIN - 1);
  assert.equal(t.observe('k', true, MIN, () => {}), 'waiting');
});

test('stopAll cancels every timer and forgets every key', async () => {
  const clock = new ManualClock();
  const t = new HoldTracker(clock);
  t.observe('a', true, MIN, () => assert.fail('stopped'));
  t.observe('b', true, 2 * MIN, () => assert.fail('stopped'));
  t.stopAll();
  assert.equal(clock.pending(), 0);
  assert.equal(t.size(), 0);
  await clock.advance(3 * MIN);
});

test('a thousand holds with different `for` fall due in time order, each at its own virtual time, on one armed timer', async () => {
  const clock = new ManualClock();
  const t = new HoldTracker(clock);
  const t0 = clock.now();
  const due: { key: string; at: number }[] = [];
  const want: { key: string; at: number }[] = [];
  for (let i = 0; i < 1000; i++) {
    const forMs = ((i * 7919) % 600) * 1000 + 1000;
    const key = `rule\u0000pod-${i}`;
    assert.equal(t.observe(key, true, forMs, () => due.push({ key, at: clock.now() })), 'waiting');
    want.push({ key, at: t0 + forMs });
  }
  assert.equal(t.scheduled(), 1000);
  assert.equal(clock.pending(), 1, 'one clock timer for every hold');
  // Half the conditions stop holding, a quarter of the subjects are deleted: neither may fire.
  for (let i = 0; i < 1000; i += 2) assert.equal(t.observe(`rule\u0000pod-${i}`, false, 0, () => {}), 'cleared');
  for (let i = 1; i < 1000; i += 4) assert.equal(t.clear(`rule\u0000pod-${i}`), true);
  assert.equal(t.scheduled(), 250);
  await clock.advance(10 * MIN);
  const kept = want.filter((_, i) => i % 4 === 3).sort((a, b) => a.at - b.at || Number(a.key.split('-')[1]) - Number(b.key.split('-')[1]));
  assert.deepEqual(due, kept);
  assert.equal(t.pending(), 0);
  assert.equal(t.scheduled(), 0);
  assert.equal(clock.pending(), 0);
  assert.equal(t.size(), 250, 'the due holds are tracked until they clear');
});

test('a hold that falls due while an earlier one is cleared still fires on time; a later hold does not move an earlier deadline', async () => {
  const clock = new ManualClock();
  const t = new HoldTracker(clock);
  const t0 = clock.now();
  const due: string[] = [];
  t.observe('early', true, MIN, () => due.push(`early@${clock.now() - t0}`));
  t.observe('late', true, 3 * MIN, () => due.push(`late@${clock.now() - t0}`));
  t.observe('middle', true, 2 * MIN, () => due.push(`middle@${clock.now() - t0}`));
  await clock.advance(30_000);
  t.clear('early');
  assert.equal(clock.pending(), 1);
  await clock.advance(3 * MIN);
  assert.deepEqual(due, [`middle@${2 * MIN}`, `late@${3 * MIN}`]);
});
