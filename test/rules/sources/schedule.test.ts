import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../../src/common/clock.ts';
import { ScheduleSource, nextFireTime, parseSchedule, type ScheduleSignal } from '../../../src/rules/sources/schedule.ts';
import type { Signal } from '../../../src/rules/types.ts';

const T0 = Date.UTC(2026, 0, 1, 0, 0, 0);
const MIN = 60_000;

function collect(): { signals: ScheduleSignal[]; emit: (s: Signal) => void } {
  const signals: ScheduleSignal[] = [];
  return { signals, emit: (s) => signals.push(s as ScheduleSignal) };
}

const offsets = (signals: ScheduleSignal[], rule?: string) =>
  signals.filter((s) => !rule || s.scheduleRule === rule).map((s) => (s.time - T0) / 1000);

test('an interval fires every period from start, never at start', async () => {
  const clock = new ManualClock(T0);
  const { signals, emit } = collect();
  const src = new ScheduleSource([{ ruleName: 'cert-check', schedule: '5m' }], { clock, cluster: 'prod' });
  src.start(emit);
  await clock.advance(4 * MIN + 59_000);
  assert.equal(signals.length, 0);
  await clock.advance(1000);
  assert.deepEqual(offsets(signals), [300]);
  await clock.advance(20 * MIN);
  assert.deepEqual(offsets(signals), [300, 600, 900, 1200, 1500]);
  assert.deepEqual(signals[0], { source: 'schedule', cluster: 'prod', time: T0 + 5 * MIN, scheduleRule: 'cert-check' });
  assert.equal(signals[0].webhook, undefined);
});

test('a cron expression fires on its wall-clock marks, read in the configured zone', async () => {
  const start = T0 + 2 * MIN + 30_000; // 00:02:30
  const clock = new ManualClock(start);
  const { signals, emit } = collect();
  const src = new ScheduleSource([
    { ruleName: 'every-5', schedule: '*/5 * * * *' },
    { ruleName: 'berlin-0100', schedule: '0 1 * * *', cluster: 'staging' },
  ], { clock, cluster: 'prod', timezone: 'Europe/Berlin' });
  src.start(emit);
  await clock.advance(16 * MIN);
  assert.deepEqual(offsets(signals, 'every-5'), [300, 600, 900]);
  // 01:00 in Berlin (UTC+1 in January) is 00:00 UTC on the next day.
  assert.deepEqual(src.nextRuns().find((r) => r.rule === 'berlin-0100')?.at, T0 + 24 * 60 * MIN);
  await clock.advance(24 * 60 * MIN);
  const daily = signals.filter((s) => s.scheduleRule === 'berlin-0100');
  assert.deepEqual(daily.map((s) => [s.time, s.cluster]), [[T0 + 24 * 60 * MIN, 'staging']]);
  assert.equal(offsets(signals, 'every-5').length, 3 + 12 * 24);
});

test('long waits are taken in hops and still land exactly on the mark', async () => {
  const clock = new ManualClock(T0);
  const { signals, emit } = collect();
  // Next 1st of March 09:00 UTC is two months away, past Node's timer range.
  const src = new ScheduleSource([{ ruleName: 'quarterly', schedule: '0 9 1 3,6,9,12 *' }], { clock, cluster: 'c', timezone: 'UTC' });
  src.start(emit);
  const due = Date.UTC(2026, 2, 1, 9, 0, 0);
  await clock.advance(due - T0 - 1);
  assert.equal(signals.length, 0);
  await clock.advance(1);
  assert.deepEqual(signals.map((s) => s.time), [due]);
  assert.equal(clock.pending(), 1, 'one timer armed for the next mark');
});

test('stop cancels every timer and start can follow again', async () => {
  const clock = new ManualClock(T0);
  const { signals, emit } = collect();
  const src = new ScheduleSource([{ ruleName: 'a', schedule: '1m' }, { ruleName: 'b', schedule: '* * * * *' }], { clock, cluster: 'c', timezone: 'UTC' });
  src.start(emit);
  assert.throws(() => src.start(emit), /already started/);
  await clock.advance(2 * MIN);
  assert.equal(signals.length, 4);
  src.stop();
  assert.equal(clock.pending(), 0);
  await clock.advance(10 * MIN);
  assert.equal(signals.length, 4);
  assert.deepEqual(src.nextRuns(), [{ rule: 'a', at: null }, { rule: 'b', at: null }]);
  src.start(emit);
  await clock.advance(MIN);
  assert.equal(signals.length, 6);
});

test('a throwing consumer does not stop the schedule', async () => {
  const clock = new ManualClock(T0);
  let calls = 0;
  const src = new ScheduleSource([{ ruleName: 'x', schedule: '30s' }], { clock, cluster: 'c' });
  src.start(() => {
    calls++;
    if (calls === 1) throw new Error('consumer failed');
  });
  // ManualClock runs timers synchronously; the first tick's error surfaces here.
  await assert.rejects(clock.advance(30_000), /consumer failed/);
  await clock.advance(60_000);
  assert.equal(calls, 3);
});

test('parseSchedule tells intervals from cron and names what is wrong', () => {
  assert.deepEqual(parseSchedule('1h30m'), { kind: 'interval', ms: 90 * MIN });
  assert.deepEqual(parseSchedule(' 45s '), { kind: 'interval', ms: 45_000 });
  assert.equal(parseSchedule('*/5 * * * *').kind, 'cron');
  assert.equal(parseSchedule('@hourly').kind, 'cron');
  assert.equal(parseSchedule('*/10 * * * * *').kind, 'cron', 'six fields: with seconds');
  assert.throws(() => parseSchedule('5 minutes'), /not a valid cron expression/);
  assert.throws(() => parseSchedule('61 * * * *'), /not a valid cron expression.*minute/);
  assert.throws(() => parseSchedule('fortnightly'), /neither an interval .* nor a cron expression/);
  assert.throws(() => parseSchedule('0s'), /longer than 0/);
  assert.throws(
    () => new ScheduleSource([{ ruleName: 'nightly', schedule: '0 25 * * *' }], { clock: new ManualClock(), cluster: 'c' }),
    /rule "nightly": schedule "0 25 \* \* \*" is not a valid cron expression/,
  );
});

test('nextFireTime keeps intervals on their anchor and cron strictly after', () => {
  const every = parseSchedule('10m');
  assert.equal(nextFireTime(every, T0, T0), T0 + 10 * MIN);
  assert.equal(nextFireTime(every, T0 + 10 * MIN, T0), T0 + 20 * MIN);
  assert.equal(nextFireTime(every, T0 + 23 * MIN, T0), T0 + 30 * MIN, 'late ticks are skipped, not replayed');
  const cron = parseSchedule('0 * * * *', 'UTC');
  assert.equal(nextFireTime(cron, T0), T0 + 60 * MIN);
  assert.equal(nextFireTime(cron, T0 - 1), T0);
  assert.equal(nextFireTime(parseSchedule('0 0 0 1 1 * 2020', 'UTC'), T0), null, 'a past year never fires');
});
