// The audit shipper against the fake Elasticsearch: order, ECS documents,
// bounded NDJSON batches, restarts from the checkpoint, outages, partial
// failures and dead letters.
import { after, it } from 'node:test';
import assert from 'node:assert/strict';
import { metricsRegistry } from '../../src/common/index.ts';
import { REJECTED_ACTION } from '../../src/notify/index.ts';
import { FakeElasticsearch } from '../helpers/fake-elasticsearch.ts';
import { forEachDialect } from '../audit/helpers.ts';
import { bulkRequests, DS, inputs, KEY, runUntil, shipper } from './es-helpers.ts';

const fakes: FakeElasticsearch[] = [];
after(async () => {
  for (const f of fakes) await f.stop();
});
async function fakeEs(): Promise<FakeElasticsearch> {
  const f = await FakeElasticsearch.start({ auth: `ApiKey ${KEY}` });
  fakes.push(f);
  return f;
}

async function metric(name: string, labels: Record<string, string>): Promise<number> {
  const m = await metricsRegistry.getSingleMetric(name)!.get();
  return m.values.filter((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x)).reduce((a, v) => a + v.value, 0);
}

forEachDialect((env) => {
  it('restarts from the same store continue from the checkpoint: nothing lost, nothing twice', { timeout: 60_000 }, async () => {
    const fake = await fakeEs();
    const place = await env.place();
    const store = await place.open();
    const first = await store.audit.append(inputs(4));
    await shipper(store, place.clock, fake).flush();
    assert.equal(await store.shipperCheckpoint('elasticsearch'), 4);
    await store.close();

    const again = await place.open();
    const more = await again.audit.append(inputs(3, 5));
    const before = bulkRequests(fake).length;
    const r = await shipper(again, place.clock, fake).flush();
    assert.equal(r?.checkpoint, 7);
    const sentNow = bulkRequests(fake).slice(before).flatMap((b) => b.ids);
    assert.deepEqual(sentNow, more.map((x) => x.id), 'the restarted shipper sends only what follows the checkpoint');
    assert.deepEqual(fake.arrivals, [...first, ...more].map((x) => x.id));

    // A crash after Elasticsearch stored a batch but before the checkpoint moved: the re-send is 409s, not copies.
    await again.sql.exec('UPDATE shipper_checkpoints SET seq = 2');
    const redo = await shipper(again, place.clock, fake).flush();
    assert.equal(redo?.checkpoint, 7);
    assert.equal(redo?.duplicates, 5);
    assert.equal(fake.docs.size, 7);
    assert.deepEqual(fake.problems, []);
  });
});

forEachDialect((env) => {
  if (env.name !== 'sqlite') return;

  it('ships every record in order as ECS documents, in bounded NDJSON batches, after the index template', { timeout: 60_000 }, async () => {
    const fake = await fakeEs();
    const { store, place } = await env.store();
    const recs = await store.audit.append(inputs(7));
    const r = await shipper(store, place.clock, fake, { batchSize: 3 }).flush();
    assert.equal(r?.checkpoint, 7);
    assert.deepEqual(fake.problems, []);
    assert.equal(fake.requests[0].method, 'PUT');
    assert.equal(fake.requests[0].path, `/_index_template/${DS}`);
    assert.equal(fake.streams.get(DS), DS, 'the data stream was made from our template, not the built-in logs-*-*');
    assert.deepEqual(fake.arrivals, recs.map((x) => x.id));
    const bulks = bulkRequests(fake);
    assert.deepEqual(bulks.map((b) => b.ids.length), [3, 3, 1]);
    for (const req of fake.requests) assert.equal(req.authorization, `ApiKey ${KEY}`);
    for (const b of bulks) {
      assert.ok(b.body.endsWith('\n'));
      const lines = b.body.slice(0, -1).split('\n');
      assert.equal(lines.length % 2, 0);
      lines.forEach((l, i) => {
        if (i % 2 === 0) assert.equal(l, JSON.stringify({ create: { _index: DS, _id: b.ids[i / 2] } }));
      });
    }
    assert.ok(fake.requests.filter((q) => q.path === '/_bulk').every((q) => q.contentType === 'application/x-ndjson'));

    const [d1, d2, d3, d4] = fake.sources();
    const ev = d1.event as Record<string, unknown>;
    assert.deepEqual(ev, { kind: 'event', action: 'runbook.step.succeeded', outcome: 'failure', id: recs[0].id, sequence: 1, dataset: 'kubemend.audit', provider: 'kubemend' });
    assert.equal(d1['@timestamp'], new Date(recs[0].time).toISOString());
    assert.deepEqual(d1.user, { name: 'alice1' });
    assert.equal(d2.user, undefined, 'a rule is not a user');
    assert.deepEqual(d1.data_stream, { type: 'logs', dataset: 'kubemend.audit', namespace: 'default' });
    assert.deepEqual(d1.orchestrator, { type: 'kubernetes', cluster: { name: 'prod' }, namespace: 'shop', resource: { type: 'Deployment', name: 'web-1' } });
    assert.deepEqual(d1.kubernetes, { namespace: 'shop', deployment: { name: 'web-1' } });
    assert.deepEqual(d4.kubernetes, { node: { name: 'node-1' } }, 'a cluster-scoped Node: no namespace, its name where Beats puts it');
    assert.deepEqual(d4.orchestrator, { type: 'kubernetes', cluster: { name: 'prod' }, resource: { type: 'Node', name: 'node-1' } });
    const km1 = d1.kubemend as Record<string, unknown>;
    assert.equal(km1.outcome, 'failure');
    assert.equal((d2.kubemend as Record<string, unknown>).outcome, 'denied');
    assert.equal((d2.event as Record<string, unknown>).outcome, 'failure', 'a refusal is a failure in ECS');
    assert.equal((d3.event as Record<string, unknown>).outcome, 'unknown', 'pending is unknown in ECS');
    assert.equal(km1.hash, recs[0].hash);
    assert.equal(km1.prevHash, recs[0].prevHash);
    assert.equal(km1.runId, 'run-1');
    assert.deepEqual(km1.data, { k: 1, nested: { list: [1, 'two', { three: 3 }] } });
    const last = fake.sources().at(-1)!.kubemend as { chain?: { head?: { seq: number } } };
    assert.equal(last.chain?.head?.seq, 7, 'the last document carries the signed head');
    assert.equal(await metric('kubemend_trace_lag_records', { shipper: 'elasticsearch' }), 0);
  });

  it('a cluster down for a minute (refused, then 503) loses nothing and duplicates nothing; retries back off', { timeout: 60_000 }, async () => {
    const fake = await fakeEs();
    const { store, place } = await env.store();
    const logs: string[] = [];
    const s = shipper(store, place.clock, fake, { flushInterval: '1s', maxBackoff: '16s', batchSize: 4 }, { logs });
    await store.audit.append(inputs(5));
    await s.start();
    assert.ok(await runUntil(place.clock, async () => (await store.shipperCheckpoint('elasticsearch')) === 5));
    await fake.down('refuse');
    await store.audit.append(inputs(6, 6));
    await runUntil(place.clock, () => false, { budgetMs: 30_000 });
    await fake.up();
    await fake.down('503');
    const before = fake.requests.length;
    await store.audit.append(inputs(3, 12));
    await runUntil(place.clock, () => false, { budgetMs: 30_000 });
    const attempts = fake.requests.length - before;
    assert.ok(attempts >= 1 && attempts <= 4, `503 answered ${attempts} times in 30s: back-off (up to 16s) keeps retries few`);
    assert.ok(s.failing > 0);
    await fake.up();
    assert.ok(await runUntil(place.clock, async () => (await store.shipperCheckpoint('elasticsearch')) === 14, { budgetMs: 60_000 }));
    await s.stop();
    const all = await store.audit.list();
    assert.deepEqual(fake.arrivals, all.map((r) => r.id), 'in order, each once');
    assert.equal(fake.docs.size, 14);
    assert.equal(logs.filter((l) => l.includes('KM-TRACE-002') && l.includes('ECONNREFUSED')).length, 1, 'the outage is logged once, not per retry');
    assert.ok(logs.some((l) => l.includes('resumed after')));
    assert.deepEqual(fake.problems, []);
  });

  it('partial failure: only the 429 items are sent again, and the checkpoint stops before the first', { timeout: 60_000 }, async () => {
    const fake = await fakeEs();
    const { store, place } = await env.store();
    const recs = await store.audit.append(inputs(6));
    const busy = new Set([recs[2].id, recs[4].id]);
    fake.failItem = (id, _s, attempt) => (busy.has(id) && attempt === 1 ? { status: 429, type: 'es_rejected_execution_exception', reason: 'rejected execution of coordinating operation' } : undefined);
    const s = shipper(store, place.clock, fake);
    const r1 = await s.shipOnce();
    assert.deepEqual({ created: r1.created, retried: r1.retried, checkpoint: r1.checkpoint }, { created: 4, retried: 2, checkpoint: 2 });
    assert.equal(await store.shipperCheckpoint('elasticsearch'), 2, 'never past a record not yet stored');
    const r2 = await s.shipOnce();
    assert.deepEqual(bulkRequests(fake).at(-1)!.ids, [recs[2].id, recs[4].id], 'only the refused ones are sent again');
    assert.equal(r2.checkpoint, 6);
    assert.equal(fake.docs.size, 6);
    assert.ok(await metric('kubemend_trace_request_failures_total', { reason: 'item-429' }) >= 2);
  });

  it('a mapping error is dead-lettered, audited once and never retried; a refused dead letter is not audited again', { timeout: 60_000 }, async () => {
    const fake = await fakeEs();
    const { store, place } = await env.store();
    const recs = await store.audit.append(inputs(4));
    const rejectedBefore = await metric('kubemend_trace_records_rejected_total', { type: 'document_parsing_exception' });
    fake.failItem = (id, source) => (id === recs[1].id || (source.event as { action: string }).action === REJECTED_ACTION
      ? { status: 400, type: 'document_parsing_exception', reason: "[1:412] failed to parse field [kubemend.data.k] of type [long] in document with id 'x'" }
      : undefined);
    const logs: string[] = [];
    const r = await shipper(store, place.clock, fake, {}, { logs }).flush();
    const dead = await store.audit.list({ action: REJECTED_ACTION });
    assert.equal(dead.length, 1, 'one dead letter, and no dead letter for the dead letter');
    assert.deepEqual({ seq: dead[0].data?.seq, id: dead[0].data?.id, status: dead[0].data?.status, type: dead[0].data?.type }, { seq: 2, id: recs[1].id, status: 400, type: 'document_parsing_exception' });
    assert.equal(dead[0].outcome, 'failure');
    assert.equal(r?.checkpoint, 5, 'the trace moves on past both refused records');
    assert.equal(bulkRequests(fake).flatMap((b) => b.ids).filter((id) => id === recs[1].id).length, 1, 'sent once, not retried');
    assert.equal(fake.docs.size, 3);
    assert.equal(await metric('kubemend_trace_records_rejected_total', { type: 'document_parsing_exception' }) - rejectedBefore, 2);
    assert.ok(logs.some((l) => l.startsWith('error: KM-TRACE-003') && l.includes(`record 2 (id ${recs[1].id})`)));
  });

  it('records pruned before they were shipped leave a logged gap (KM-TRACE-007), and the trace goes on after it', { timeout: 60_000 }, async () => {
    const fake = await fakeEs();
    const { store, place } = await env.store();
    const t0 = place.clock.now();
    await store.audit.append(inputs(3).map((i) => ({ ...i, time: t0 - 60_000 })));
    const kept = await store.audit.append(inputs(2, 4));
    assert.equal((await store.audit.prune(t0 - 1)).removed, 3);
    const logs: string[] = [];
    const r = await shipper(store, place.clock, fake, {}, { logs }).flush();
    assert.equal(r.gap, 3);
    assert.equal(r.checkpoint, 5);
    assert.deepEqual(fake.arrivals, kept.map((x) => x.id));
    assert.ok(logs.some((l) => l.startsWith('warning: KM-TRACE-007') && l.includes('records 1–3')));
  });

  it('ships only while canShip says this replica leads', { timeout: 60_000 }, async () => {
    const fake = await fakeEs();
    const { store, place } = await env.store();
    let leading = false;
    const s = shipper(store, place.clock, fake, { flushInterval: '1s' }, { canShip: () => leading });
    await store.audit.append(inputs(3));
    await s.start();
    await runUntil(place.clock, () => false, { budgetMs: 5_000 });
    assert.equal(fake.requests.length, 0, 'a follower sends nothing');
    leading = true;
    assert.ok(await runUntil(place.clock, () => fake.docs.size === 3));
    await s.stop();
  });
});
