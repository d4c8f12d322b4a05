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
