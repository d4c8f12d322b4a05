// Many deadlines on one clock timer: they run in time order (ties in the
// order scheduled), exactly at their time on a virtual clock, cancelled ones
// never, and only one timer is ever armed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock, type Clock } from '../../src/common/clock.ts';
import { TimerHeap } from '../../src/common/timer-heap.ts';

test('random schedules, replacements and cancels run in (time, order scheduled) order, at their times, with one armed timer', async () => {
  const clock = new ManualClock();
  const t0 = clock.now();
  const heap = new TimerHeap<number>(clock);
  let s = 42;
  const rand = () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const want = new Map<number, { at: number; seq: number }>();
  const ran: { key: number; at: number; now: number }[] = [];
  let seq = 0;
  for (let i = 0; i < 3000; i++) {
    const key = Math.floor(rand() * 800);
    if (rand() < 0.3) {
      assert.equal(heap.cancel(key), want.delete(key));
    } else {
      // Coarse times, so many deadlines tie.
      const at = t0 + 1000 * Math.floor(rand() * 200);
      heap.schedule(key, at, () => ran.push({ key, at, now: clock.now() }));
      want.set(key, { at, seq: seq++ });
    }
    assert.ok(clock.pending() <= 1, 'never more than one clock timer');
  }
  assert.equal(heap.size, want.size);
  assert.equal(clock.pending(), want.size ? 1 : 0);
  await clock.advance(200 * 1000);
  const expected = [...want].sort(([, a], [, b]) => a.at - b.at || a.seq - b.seq).map(([key]) => key);
  assert.deepEqual(ran.map((r) => r.key), expected);
  assert.ok(ran.every((r) => r.now === r.at), 'each ran at its own time of the virtual clock');
  assert.equal(heap.size, 0);
  assert.equal(clock.pending(), 0, 'nothing left, nothing armed');
});

test('callbacks may schedule and cancel; one that throws leaves the rest scheduled', async () => {
  const clock = new ManualClock();
  const heap = new TimerHeap<string>(clock);
  const ran: string[] = [];
  const at = (ms: number) => clock.now() + ms;
  heap.schedule('a', at(10), () => {
    ran.push('a');
    heap.cancel('c');
    heap.schedule('late', at(10), () => ran.push('late'));
    heap.schedule('d', at(5), () => ran.push('d'));
  });
  heap.schedule('b', at(10), () => {
    ran.push('b');
    throw new Error('boom');
  });
  heap.schedule('c', at(10), () => ran.push('c'));
  heap.schedule('e', at(30), () => ran.push('e'));
  await assert.rejects(clock.advance(10), /boom/);
  // 'late' and 'd' were scheduled during the pass, for 10 and 5 ms after it: the timer is re-armed for them.
  assert.deepEqual(ran, ['a', 'b']);
  await clock.advance(20);
  assert.deepEqual(ran, ['a', 'b', 'd', 'late', 'e'], "'c' was cancelled by 'a'");
  assert.equal(clock.pending(), 0);
});

test('a real timer that runs a moment early still runs the deadline it was armed for', () => {
  // Rounding on a scaled clock can leave now() a millisecond short of the deadline when its timer runs.
  let now = 1_000;
  const timers: { fn: () => void; ms: number; cancelled: boolean }[] = [];
  const clock: Clock = {
    now: () => now,
    setTimeout: (fn, ms) => {
      const t = { fn, ms, cancelled: false };
      timers.push(t);
      return { cancel: () => { t.cancelled = true; } };
    },
    sleep: () => Promise.resolve(),
    speed: 1,
  };
  const heap = new TimerHeap<string>(clock);
  const ran: string[] = [];
  heap.schedule('a', 2_000, () => ran.push('a'));
  heap.schedule('b', 2_001, () => ran.push('b'));
  assert.deepEqual(timers.map((t) => t.ms), [1_000]);
  now = 1_999;
  timers[0]!.fn();
  assert.deepEqual(ran, ['a']);
  assert.deepEqual(timers.filter((t) => !t.cancelled).map((t) => t.ms), [1_000, 2], 'armed again for b');
});

test('cancelling the earliest re-arms for the next; clear() disarms', async () => {
  const clock = new ManualClock();
  const heap = new TimerHeap<string>(clock);
  const ran: string[] = [];
  heap.schedule('a', clock.now() + 100, () => ran.push('a'));
  heap.schedule('b', clock.now() + 200, () => ran.push('b'));
  heap.cancel('a');
  assert.equal(clock.pending(), 1);
  assert.equal(heap.dueAt('b'), clock.now() + 200);
  await clock.advance(150);
  assert.equal(ran.join(), '');
  await clock.advance(50);
  assert.equal(ran.join(), 'b');
  heap.schedule('c', clock.now() + 100, () => ran.push('c'));
  heap.clear();
  assert.equal(clock.pending(), 0);
  await clock.advance(1000);
  assert.equal(ran.join(), 'b');
});
