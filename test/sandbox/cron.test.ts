// CronJob schedules as robfig/cron's ParseStandard reads them, and the
// controller's mostRecentScheduleTime / nextScheduleTimeDuration arithmetic.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mostRecentScheduleTime, nextScheduleDelay, parseSchedule } from '../../src/sandbox/cron.ts';

const at = (iso: string) => Date.parse(iso);
const next = (spec: string, from: string, tz?: string) => {
  const t = parseSchedule(spec, tz).next(at(from));
  return t === null ? null : new Date(t).toISOString();
};

test('five fields, next activation strictly after the given time, in UTC unless a zone is given', () => {
  assert.equal(next('*/5 * * * *', '2026-01-01T00:05:00Z'), '2026-01-01T00:10:00.000Z');
  assert.equal(next('*/5 * * * *', '2026-01-01T00:04:59Z'), '2026-01-01T00:05:00.000Z');
  assert.equal(next('30 6-16/4 * * 1-5', '2026-01-01T07:00:00Z'), '2026-01-01T10:30:00.000Z');
  assert.equal(next('0 9 * * *', '2026-01-01T00:00:00Z', 'Europe/Berlin'), '2026-01-01T08:00:00.000Z');
  assert.equal(next('0 9 * * *', '2026-07-01T00:00:00Z', 'Europe/Berlin'), '2026-07-01T07:00:00.000Z', 'summer time');
  assert.equal(next('0 0 ? * MON', '2026-01-01T00:00:00Z'), '2026-01-05T00:00:00.000Z');
});

test('day of month and day of week restricted together: either matches, as cron does', () => {
  // 2026-01-02 is a Friday: "the 13th, or any Friday".
  assert.equal(next('0 0 13 * 5', '2026-01-01T00:00:00Z'), '2026-01-02T00:00:00.000Z');
});

test('descriptors, @every, and what ParseStandard refuses', () => {
  assert.equal(next('@hourly', '2026-01-01T00:00:30Z'), '2026-01-01T01:00:00.000Z');
  assert.equal(next('@midnight', '2026-01-01T00:00:30Z'), '2026-01-02T00:00:00.000Z');
  assert.equal(next('@weekly', '2026-01-01T00:00:00Z'), '2026-01-04T00:00:00.000Z');
  assert.equal(next('@every 90s', '2026-01-01T00:00:00.400Z'), '2026-01-01T00:01:30.000Z');
  assert.throws(() => parseSchedule('* * * * * *'), /^RangeError: expected exactly 5 fields, found 6: \[\* \* \* \* \* \*\]$/);
  assert.throws(() => parseSchedule('* * * *'), /expected exactly 5 fields, found 4/);
  assert.throws(() => parseSchedule('@fortnightly'), /unrecognized descriptor: @fortnightly/);
  assert.throws(() => parseSchedule('61 * * * *'), /minute/);
  assert.throws(() => parseSchedule('@every soon'), /failed to parse duration/);
});

const cj = (creation: string, last?: string, deadline?: number) => ({ creationMs: at(creation), lastScheduleMs: last ? at(last) : undefined, startingDeadlineSeconds: deadline });

test('mostRecentScheduleTime: the latest missed activation, how many were missed, bounded by the deadline', () => {
  const s = parseSchedule('*/5 * * * *');
  assert.deepEqual(mostRecentScheduleTime(cj('2026-01-01T00:00:00Z'), at('2026-01-01T00:04:00Z'), s, true).mostRecent, null);
  assert.equal(mostRecentScheduleTime(cj('2026-01-01T00:00:00Z'), at('2026-01-01T00:05:01Z'), s, true).mostRecent, at('2026-01-01T00:05:00Z'));
  const late = mostRecentScheduleTime(cj('2026-01-01T00:00:00Z', '2026-01-01T00:05:00Z'), at('2026-01-01T00:31:00Z'), s, true);
  assert.deepEqual([late.mostRecent, late.missed], [at('2026-01-01T00:30:00Z'), 'few']);
  // With a 90s deadline nothing from before 00:29:30 counts, so 00:30 is the one; with 30s, none is.
  assert.equal(mostRecentScheduleTime(cj('2026-01-01T00:00:00Z', '2026-01-01T00:05:00Z', 90), at('2026-01-01T00:31:00Z'), s, true).mostRecent, at('2026-01-01T00:30:00Z'));
  assert.equal(mostRecentScheduleTime(cj('2026-01-01T00:00:00Z', '2026-01-01T00:05:00Z', 30), at('2026-01-01T00:31:00Z'), s, true).mostRecent, null);
  const many = mostRecentScheduleTime(cj('2026-01-01T00:00:00Z'), at('2026-01-02T00:00:30Z'), parseSchedule('* * * * *'), true);
  assert.deepEqual([many.missed, many.mostRecent], ['many', at('2026-01-02T00:00:00Z')]);
  assert.match(mostRecentScheduleTime(cj('2026-01-01T00:00:00Z'), at('2026-03-01T00:00:00Z'), parseSchedule('59 23 31 2 *'), true).error ?? '', /less than 1 second/);
});

test('nextScheduleTimeDuration: until the next activation, plus 100ms', () => {
  const s = parseSchedule('*/5 * * * *');
  assert.equal(nextScheduleDelay(cj('2026-01-01T00:00:00Z'), at('2026-01-01T00:01:00Z'), s), 4 * 60_000 + 100);
  assert.equal(nextScheduleDelay(cj('2026-01-01T00:00:00Z', '2026-01-01T00:05:00Z'), at('2026-01-01T00:06:00Z'), s), 4 * 60_000 + 100);
});
