import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../../src/common/clock.ts';
import { DetectionBook, type DetectionSeed } from '../../../src/rules/stages/dedup.ts';
import type { Evidence } from '../../../src/rules/types.ts';

const seed = (): DetectionSeed => ({
  rule: 'crashloop',
  cluster: 'prod',
  subject: { cluster: 'prod', kind: 'Pod', namespace: 'shop', name: 'web-1' },
  severity: 'warning',
  summary: 'web-1 is crash-looping',
  labels: { rule: 'crashloop', cluster: 'prod', namespace: 'shop' },
});
const ev = (time: number, i: number): Evidence => ({ time, type: 'state', summary: `restart ${i}` });

test('600 repeats make one detection with count 600 and bounded evidence', async () => {
  const clock = new ManualClock();
  const book = new DetectionBook(clock);
  const t0 = clock.now();
  let created = 0;
  let news = 0;
  for (let i = 1; i <= 600; i++) {
    const r = book.upsert('fp1', () => { created++; return seed(); }, ev(clock.now(), i));
    if (r.isNew) news++;
    await clock.advance(1000);
  }
  assert.equal(created, 1);
  assert.equal(news, 1);
  const d = book.get('fp1')!;
  assert.equal(d.count, 600);
  assert.equal(d.status, 'open');
  assert.equal(d.fingerprint, 'fp1');
  assert.equal(d.firstSeen, t0);
  assert.equal(d.lastSeen, t0 + 599_000);
  assert.equal(d.notifications, 0);
  assert.equal(d.evidence.length, 25);
  assert.deepEqual(d.evidence.slice(0, 5).map((e) => e.summary), ['restart 1', 'restart 2', 'restart 3', 'restart 4', 'restart 5']);
  assert.deepEqual(d.evidence.slice(5).map((e) => e.summary), Array.from({ length: 20 }, (_, i) => `restart ${581 + i}`));
  assert.equal(book.droppedEvidence('fp1'), 575);
  assert.equal(book.size(), 1);
  assert.match(d.id, /^[0-9a-f-]{36}$/);
  assert.equal(book.byId(d.id), d);
});

test('evidence bounds are configurable; repeats without evidence still count', () => {
  const book = new DetectionBook(new ManualClock(), { evidenceHead: 1, evidenceTail: 2 });
  for (let i = 1; i <= 5; i++) book.upsert('fp', seed, ev(0, i));
  book.upsert('fp', seed);
  const d = book.get('fp')!;
  assert.equal(d.count, 6);
  assert.deepEqual(d.evidence.map((e) => e.summary), ['restart 1', 'restart 4', 'restart 5']);
  assert.equal(book.droppedEvidence('fp'), 2);
});

test('different fingerprints are different detections', () => {
  const book = new DetectionBook(new ManualClock());
  const a = book.upsert('a', seed).detection;
  const b = book.upsert('b', seed).detection;
  assert.notEqual(a.id, b.id);
  assert.equal(book.open().length, 2);
});

test('a repeat within reopenWithinMs of resolving re-opens the same detection', async () => {
  const clock = new ManualClock();
  const book = new DetectionBook(clock);
  const first = book.upsert('fp', seed).detection;
  first.status = 'silenced';
  first.silencedBy = 's1';
  first.suppressed = 'silenced';
  book.upsert('fp', seed);
  await clock.advance(60_000);
  assert.equal(book.resolve('fp'), first);
  assert.equal(book.resolve('fp'), undefined, 'already resolved');
  assert.equal(book.resolvedAt('fp'), clock.now());
  assert.deepEqual(book.open(), []);
  await clock.advance(4 * 60_000);
  const r = book.upsert('fp', () => assert.fail('no new detection'), undefined, { reopenWithinMs: 5 * 60_000 });
  assert.equal(r.isNew, false);
  assert.equal(r.reopened, true);
  assert.equal(r.detection, first);
  assert.equal(first.status, 'open');
  assert.equal(first.count, 3);
  assert.equal(first.silencedBy, undefined);
  assert.equal(first.suppressed, undefined);
  assert.equal(book.resolvedAt('fp'), undefined);
});

test('a repeat after the reopen window, or with none, starts a new detection', async () => {
  const clock = new ManualClock();
  const book = new DetectionBook(clock);
  const first = book.upsert('fp', seed).detection;
  book.resolve('fp');
  await clock.advance(5 * 60_000 + 1);
  const late = book.upsert('fp', seed, undefined, { reopenWithinMs: 5 * 60_000 });
  assert.equal(late.isNew, true);
  assert.equal(late.reopened, false);
  assert.notEqual(late.detection.id, first.id);
  assert.equal(late.detection.count, 1);
  assert.equal(book.byId(first.id), undefined);
  assert.equal(book.size(), 1);

  book.resolve('fp');
  const again = book.upsert('fp', seed);
  assert.equal(again.isNew, true, 'without reopenWithinMs a resolved detection never re-opens');
});

test('resolved detections expire after the retention; open ones stay', async () => {
  const clock = new ManualClock();
  const book = new DetectionBook(clock, { resolvedRetentionMs: 10 * 60_000 });
  book.upsert('old', seed);
  book.upsert('open', seed);
  book.resolve('old');
  await clock.advance(5 * 60_000);
  book.upsert('newer', seed);
  book.resolve('newer');
  await clock.advance(5 * 60_000);
  assert.deepEqual(book.all().map((d) => d.fingerprint).sort(), ['newer', 'open']);
  await clock.advance(5 * 60_000);
  assert.deepEqual(book.all().map((d) => d.fingerprint), ['open']);
  await clock.advance(24 * 3_600_000);
  assert.equal(book.get('open')?.status, 'open');
  assert.equal(book.resolve('missing'), undefined);
});
