// Shipper checkpoints (migration 5) and the signed head the shippers carry,
// on SQLite and PostgreSQL: per name, only forward, kept across a reopen.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { headMessage } from '../../src/audit/index.ts';
import { forEachDialect } from '../audit/helpers.ts';

forEachDialect((env) => {
  it('starts at 0, advances per shipper name, and survives a reopen', { timeout: 60_000 }, async () => {
    const place = await env.place();
    const store = await place.open();
    assert.equal(await store.shipperCheckpoint('elasticsearch'), 0);
    assert.equal(await store.advanceShipperCheckpoint('elasticsearch', 5), 5);
    assert.equal(await store.advanceShipperCheckpoint('other', 2), 2);
    assert.equal(await store.shipperCheckpoint('elasticsearch'), 5);
    await store.close();
    const again = await place.open();
    assert.equal(await again.shipperCheckpoint('elasticsearch'), 5);
    assert.equal(await again.shipperCheckpoint('other'), 2);
  });

  it('never moves backwards: a late writer of an older seq changes nothing', { timeout: 60_000 }, async () => {
    const { store, place } = await env.store();
    await store.advanceShipperCheckpoint('elasticsearch', 10);
    await place.clock.advance(1000);
    assert.equal(await store.advanceShipperCheckpoint('elasticsearch', 7), 10);
    assert.equal(await store.shipperCheckpoint('elasticsearch'), 10);
    const [row] = await store.sql.query<{ updated_at: unknown }>('SELECT updated_at FROM shipper_checkpoints WHERE name = ?', ['elasticsearch']);
    assert.equal(Number(row.updated_at), Date.UTC(2026, 0, 1), 'the refused write did not touch the row');
    assert.equal(await store.advanceShipperCheckpoint('elasticsearch', 11), 11);
    await assert.rejects(store.advanceShipperCheckpoint('elasticsearch', -1), RangeError);
  });

  it('hands out the signed chain head, and none before the first record', { timeout: 60_000 }, async () => {
    const { store } = await env.store();
    assert.equal(await store.audit.head(), undefined);
    const recs = await store.audit.append([{ actor: { type: 'system', name: 't' }, action: 'a.one' }, { actor: { type: 'system', name: 't' }, action: 'a.two' }]);
    const head = await store.audit.head();
    assert.ok(head);
    assert.equal(head.seq, 2);
    assert.equal(head.hash, recs[1].hash);
    assert.equal(store.audit.keys.check(headMessage(head), head), 'valid');
  });
});
