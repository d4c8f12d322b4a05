// Group commit against SQLite and PostgreSQL: appends made while a
// transaction is in flight share the next one (one head lock, one signature),
// the chain keeps the order of the calls, a bad input fails alone, and a
// transaction the database refuses fails every caller in it and nothing else.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { headMessage, recomputeHash, type AuditInput, type AuditRecord } from '../../src/audit/index.ts';
import type { SqlStore } from '../../src/store/index.ts';
import { forEachDialect } from './helpers.ts';

const input = (i: number, over: Partial<AuditInput> = {}): AuditInput => ({
  actor: { type: 'system', name: 'test' },
  action: 'test.appended',
  data: { i },
  ...over,
});

const order = (records: AuditRecord[]) => records.map((r) => r.data?.i);

/** A database-side refusal of one action, as a full disk or a constraint would refuse a transaction. */
async function refuse(store: SqlStore, action: string): Promise<void> {
  if (store.kind === 'sqlite') {
    await store.sql.exec(`CREATE TRIGGER refuse_poison BEFORE INSERT ON audit_log WHEN NEW.action = '${action}' BEGIN SELECT RAISE(ABORT, 'poison refused'); END`);
  } else {
    await store.sql.exec(`CREATE FUNCTION refuse_poison() RETURNS trigger AS $$ BEGIN IF NEW.action = '${action}' THEN RAISE EXCEPTION 'poison refused'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql`);
    await store.sql.exec('CREATE TRIGGER refuse_poison BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION refuse_poison()');
  }
}

forEachDialect((env) => {
  it('appends made in one tick share one transaction and one head signature, in call order', async () => {
    const { store } = await env.store();
    await store.audit.append(input(-1));
    const before = { ...store.audit.commitStats };
    const calls = Array.from({ length: 120 }, (_, i) => (i % 10 === 9 ? store.audit.append([input(i * 100), input(i * 100 + 1)]) : store.audit.append(input(i * 100))));
    const returned = await Promise.all(calls);
    const after = store.audit.commitStats;
    assert.equal(after.groups - before.groups, 1, 'one transaction for all 120 callers');
    assert.equal(after.callers - before.callers, 120);
    assert.equal(after.items - before.items, 132);
    // Each caller gets its own records, with the seqs of its place in the call order.
    let seq = 2;
    returned.forEach((recs, i) => {
      const want = i % 10 === 9 ? [i * 100, i * 100 + 1] : [i * 100];
      assert.deepEqual(order(recs), want, `caller ${i} got its own records`);
      for (const r of recs) {
        assert.equal(r.seq, seq++);
        assert.equal(r.hash, recomputeHash(r));
      }
    });
    const all = await store.audit.list();
    assert.deepEqual(all.slice(1), returned.flat(), 'append returns what list reads back, in call order');
    // The one signature covers the group's last record: the head moved once, from record 1 to record 133.
    const head = await store.audit.head();
    assert.equal(head?.seq, 133);
    assert.equal(head?.hash, all[132].hash);
    assert.equal(store.audit.keys.check(headMessage(head!), head!), 'valid');
    assert.deepEqual(await store.audit.verify(), { ok: true, records: 133, head: all[132].hash });
  });

  it('keeps call order while appends keep arriving during commits, and groups them', async () => {
    const { store } = await env.store();
    const before = { ...store.audit.commitStats };
    let next = 0;
    // 12 tasks, each appending one record at a time, as sinks and runs do.
    const worker = async (w: number) => {
      for (let k = 0; k < 40; k++) {
        const i = next++;
        const [r] = await store.audit.append(input(i, { actor: { type: 'system', name: `w${w}` } }));
        assert.equal(r.data?.i, i);
      }
    };
    await Promise.all(Array.from({ length: 12 }, (_, w) => worker(w)));
    const all = await store.audit.list();
    assert.deepEqual(order(all), Array.from({ length: 480 }, (_, i) => i), 'the chain holds the records in the order append was called');
    let prev = all[0].prevHash;
    for (const r of all) {
      assert.equal(r.prevHash, prev);
      assert.equal(r.hash, recomputeHash(r));
      prev = r.hash;
    }
    const groups = store.audit.commitStats.groups - before.groups;
    assert.ok(groups < 480 / 4, `480 single appends from 12 tasks took ${groups} transactions`);
    assert.deepEqual(await store.audit.verify(), { ok: true, records: 480, head: all[479].hash });
  });

  it('fails a bad input alone: the others in its tick are committed', async () => {
    const { store } = await env.store();
    const results = await Promise.allSettled([
      store.audit.append(input(1)),
      store.audit.append({ ...input(2), data: { n: Number.NaN } }),
      store.audit.append([input(3), { actor: { type: 'robot' as 'user', name: 'x' }, action: 'a' }]),
      store.audit.append(input(4)),
    ]);
    assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'rejected', 'rejected', 'fulfilled']);
    assert.ok(results[1].status === 'rejected' && results[1].reason instanceof TypeError);
    assert.deepEqual(order(await store.audit.list()), [1, 4]);
    assert.equal((await store.audit.verify()).ok, true);
  });

  it('rejects every caller of a transaction the database refuses, leaves the chain intact, and goes on', async () => {
    const { store } = await env.store();
    await store.audit.append([input(1), input(2), input(3)]);
    const headBefore = await store.audit.head();
    await refuse(store, 'test.poison');
    const before = { ...store.audit.commitStats };
    const group = await Promise.allSettled([
      store.audit.append(input(10)),
      store.audit.append(input(11, { action: 'test.poison' })),
      store.audit.append([input(12), input(13)]),
      store.audit.append(input(14)),
    ]);
    assert.equal(store.audit.commitStats.groups - before.groups, 1, 'they were one transaction');
    for (const r of group) {
      assert.equal(r.status, 'rejected');
      assert.match(String((r as PromiseRejectedResult).reason?.message), /poison refused/);
    }
    assert.deepEqual(await store.audit.head(), headBefore, 'the head did not move');
    assert.deepEqual(order(await store.audit.list()), [1, 2, 3]);
    // The next group is a transaction of its own and commits.
    const [later] = await store.audit.append(input(20));
    assert.equal(later.seq, 4);
    assert.equal(later.prevHash, headBefore?.hash);
    const laterGroup = await Promise.all([store.audit.append(input(21)), store.audit.append(input(22))]);
    assert.deepEqual(laterGroup.map((r) => r[0].seq), [5, 6]);
    assert.deepEqual(await store.audit.verify(), { ok: true, records: 6, head: laterGroup[1][0].hash });
  });

  it('waits for appends in flight when the store closes', async () => {
    const { store, place } = await env.store();
    const pending = Array.from({ length: 50 }, (_, i) => store.audit.append(input(i)));
    await store.close();
    assert.equal((await Promise.all(pending)).length, 50);
    const reopened = await place.open();
    assert.deepEqual(await reopened.audit.verify().then((v) => v.ok && v.records), 50);
  });
});
