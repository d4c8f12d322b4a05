import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../../src/common/clock.ts';
import { RateLimiter } from '../../../src/rules/stages/ratelimit.ts';

const MIN = 60_000;

test('allows max per period, then refuses, then recovers as calls age out', async () => {
  const clock = new ManualClock();
  const rl = new RateLimiter(clock);
  assert.equal(rl.remaining('k', 3, 10 * MIN), 3);
  assert.equal(rl.allow('k', 3, 10 * MIN), true);
  await clock.advance(MIN);
  assert.equal(rl.allow('k', 3, 10 * MIN), true);
  assert.equal(rl.allow('k', 3, 10 * MIN), true);
  assert.equal(rl.remaining('k', 3, 10 * MIN), 0);
  assert.equal(rl.allow('k', 3, 10 * MIN), false);
  assert.equal(rl.retryAfter('k', 3, 10 * MIN), 9 * MIN);
  await clock.advance(9 * MIN - 1);
  assert.equal(rl.allow('k', 3, 10 * MIN), false, 'sliding: the first call is still inside the window');
  await clock.advance(1);
  assert.equal(rl.remaining('k', 3, 10 * MIN), 1);
  assert.equal(rl.allow('k', 3, 10 * MIN), true);
  assert.equal(rl.allow('k', 3, 10 * MIN), false);
  await clock.advance(MIN);
  assert.equal(rl.remaining('k', 3, 10 * MIN), 2);
});

test('never more than max in any window during a storm', async () => {
  const clock = new ManualClock();
  const rl = new RateLimiter(clock);
  const allowed: number[] = [];
  for (let s = 0; s < 3600; s++) {
    if (rl.allow('storm', 5, 10 * MIN)) allowed.push(clock.now());
    await clock.advance(1000);
  }
  assert.equal(allowed.length, 30, '5 per 10 minutes over an hour');
  for (let i = 5; i < allowed.length; i++) assert.ok(allowed[i] - allowed[i - 5] >= 10 * MIN);
});

test('keys are independent', () => {
  const rl = new RateLimiter(new ManualClock());
  assert.equal(rl.allow('a', 1, MIN), true);
  assert.equal(rl.allow('a', 1, MIN), false);
  assert.equal(rl.allow('b', 1, MIN), true);
  assert.equal(rl.retryAfter('c', 1, MIN), 0);
});

test('idle keys are dropped, so memory stays bounded', async () => {
  const clock = new ManualClock();
  const rl = new RateLimiter(clock);
  for (let i = 0; i < 1000; i++) rl.allow(`k${i}`, 2, MIN);
  rl.remaining('never-allowed', 2, MIN);
  assert.equal(rl.size(), 1000);
  await clock.advance(2 * MIN);
  rl.allow('fresh', 2, MIN);
  assert.equal(rl.size(), 1);
});
