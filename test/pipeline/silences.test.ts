// Silences live in the store only: created and expired with an audit record,
// followed by every running pipeline on its sync interval, and a silence that
// runs out is audited once, however many processes notice.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../../src/common/clock.ts';
import { openStore } from '../../src/store/index.ts';
import { Silences } from '../../src/rules/stages/index.ts';
import { SilenceSync, createSilence, expireSilence } from '../../src/pipeline/index.ts';

const LABELS = { rule: 'crashloop-backoff', namespace: 'shop', cluster: 'prod' };

async function setup() {
  const clock = new ManualClock(Date.UTC(2026, 0, 1));
  const store = await openStore({ dataDir: mkdtempSync(join(tmpdir(), 'km-sil-')), clock });
  return { clock, store };
}

test('a silence written to the store reaches a running engine on the next sync, and its expiry too', { timeout: 30_000 }, async () => {
  const { clock, store } = await setup();
  const engineSilences = new Silences(clock);
  const sync = new SilenceSync({ store, clock, silences: engineSilences, intervalMs: 5000 });
  await sync.start();
  try {
    assert.equal(engineSilences.match(LABELS), undefined);
    const s = await createSilence(store, clock, { matchers: ['namespace=shop', 'rule=~"crash.*"'], duration: '1h', createdBy: 'alice', comment: 'OPS-1 known bad build' });
    assert.equal(engineSilences.match(LABELS), undefined, 'not before the sync');
    await clock.advance(5000);
    await sync.sync(); // the timer's sync is fire-and-forget; this waits for one
    assert.equal(engineSilences.match(LABELS)?.id, s.id);
    assert.ok(await expireSilence(store, clock, s.id, { type: 'user', name: 'bob' }));
    assert.equal(await expireSilence(store, clock, s.id, { type: 'user', name: 'bob' }), false, 'an expired silence cannot expire again');
    await sync.sync();
    assert.equal(engineSilences.match(LABELS), undefined, 'the expiry reaches the engine');
    const audit = await store.audit.list({});
    assert.deepEqual(audit.map((a) => [a.action, a.actor.name]), [['silence.created', 'alice'], ['silence.expired', 'bob']]);
    assert.equal(audit[0].justification, 'OPS-1 known bad build');
  } finally {
    sync.stop();
    await store.close();
  }
});

test('a silence whose end passes is audited as expired once, by the first sync that sees it', { timeout: 30_000 }, async () => {
  const { clock, store } = await setup();
  const a = new SilenceSync({ store, clock, silences: new Silences(clock) });
  const b = new SilenceSync({ store, clock, silences: new Silences(clock) });
  try {
    await createSilence(store, clock, { matchers: ['namespace=shop'], duration: '10m', createdBy: 'alice', comment: 'maintenance window' });
    await a.sync();
    await clock.advance(11 * 60_000);
    await a.sync();
    await b.sync();
    await a.sync();
    const expired = await store.audit.list({ action: 'silence.expired' });
    assert.equal(expired.length, 1, JSON.stringify(expired.map((e) => e.actor)));
    assert.equal(expired[0].data?.reason, 'its end time passed');
  } finally {
    a.stop();
    b.stop();
    await store.close();
  }
});

test('an invalid silence is refused before anything is stored or audited', { timeout: 30_000 }, async () => {
  const { clock, store } = await setup();
  try {
    await assert.rejects(createSilence(store, clock, { matchers: ['namespace=~".*"'], duration: '1h', createdBy: 'alice', comment: 'everything' }), /would match every detection/);
    assert.deepEqual(await store.listSilences(), []);
    assert.deepEqual(await store.audit.list({}), []);
  } finally {
    await store.close();
  }
});
