// The copy in Elasticsearch verifies on its own with the public key, read
// back through _search; any edit, gap, forged head or appended record shows.
import { after, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { AuditKeys, canonicalJson, chainHash, publicKeyPath } from '../../src/audit/index.ts';
import { elasticsearchTrace, toDocument, verifyEsCopy, verifyEsDocuments, type EsCopyCheck } from '../../src/notify/index.ts';
import { FakeElasticsearch } from '../helpers/fake-elasticsearch.ts';
import { forEachDialect } from '../audit/helpers.ts';
import { DS, inputs, KEY, shipper } from './es-helpers.ts';

const fakes: FakeElasticsearch[] = [];
after(async () => {
  for (const f of fakes) await f.stop();
});

const clone = <T>(v: T): T => structuredClone(v);
const BIN = fileURLToPath(new URL('../../bin/kubemend.js', import.meta.url));

function cli(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  const base = { ...process.env };
  for (const k of ['KUBEMEND_DB', 'KUBEMEND_HOME', 'KUBEMEND_AUDIT_KEY']) delete base[k];
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env: { ...base, ...env } }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}
const bad = (r: EsCopyCheck) => (r.ok ? undefined : r.firstBad);

forEachDialect((env) => {
  if (env.name !== 'sqlite') return;

  async function shipped(n: number, batchSize = 3) {
    const fake = await FakeElasticsearch.start({ auth: `ApiKey ${KEY}` });
    fakes.push(fake);
    const { store, place } = await env.store();
    await store.audit.append(inputs(n));
    await shipper(store, place.clock, fake, { batchSize }).flush();
    // Only the public key, as an auditor has it.
    const keys = new AuditKeys({ keyFile: `${place.dataDir}/absent.pem`, trusted: [publicKeyPath(store.audit.keys.keyFile)] });
    return { fake, store, keys };
  }

  it('the shipped copy verifies through _search with only the public key, up to the newest signed head', { timeout: 60_000 }, async () => {
    const { fake, keys } = await shipped(8);
    const r = await verifyEsCopy({ config: elasticsearchTrace({ url: fake.url, apiKeyEnv: 'K' }), env: { K: KEY }, keys, pageSize: 3 });
    assert.deepEqual(r, { ok: true, records: 8, firstSeq: 1, lastSeq: 8, anchoredSeq: 8, unanchored: 0, duplicates: 0 });
    const searches = fake.requests.filter((q) => q.path === `/${DS}/_search`);
    assert.equal(searches.length, 3, 'paged with search_after');
    assert.deepEqual(fake.problems, []);
  });

  it('an edited hashed field, an edited derived field, a missing document and a forged head each fail, naming the document', { timeout: 60_000 }, async () => {
    const { fake, keys } = await shipped(8);
    const docs = fake.sources();
    assert.equal(verifyEsDocuments(docs, keys).ok, true);

    const data = clone(docs);
    (data[2].kubemend as Record<string, unknown>).data = { k: 99 };
    assert.deepEqual(bad(verifyEsDocuments(data, keys)), { seq: 3, id: (docs[2].event as { id: string }).id, reason: 'the document does not match its hash: a hashed field was edited' });

    const user = clone(docs);
    user[0].user = { name: 'mallory' };
    assert.match(bad(verifyEsDocuments(user, keys))!.reason, /derived from the record \(user\.name\) was edited/);

    const outcome = clone(docs);
    (outcome[1].event as Record<string, unknown>).outcome = 'success';
    assert.match(bad(verifyEsDocuments(outcome, keys))!.reason, /event\.outcome/);

    const gap = clone(docs).filter((_, i) => i !== 4);
    assert.equal(bad(verifyEsDocuments(gap, keys))?.seq, 5);

    const forged = clone(docs);
    const head = (forged[7].kubemend as { chain: { head: { signature: string } } }).chain.head;
    head.signature = Buffer.from('x'.repeat(64)).toString('base64');
    assert.match(bad(verifyEsDocuments(forged, keys))!.reason, /invalid signature/);

    const otherKey = new AuditKeys({ keyFile: `${keys.keyFile}.other` });
    assert.match(bad(verifyEsDocuments(docs, otherKey))!.reason, /not trusted/);
  });

  it('a record appended to the copy with a correct hash is linked but not anchored; duplicates of one record are counted', { timeout: 60_000 }, async () => {
    const { fake, store, keys } = await shipped(4);
    const docs = fake.sources();
    const last = (await store.audit.list()).at(-1)!;
    const body = { seq: 5, id: 'forged', time: last.time + 1, actor: { type: 'user' as const, name: 'mallory' }, action: 'chat.restart.requested' };
    const forgedRecord = { ...body, prevHash: last.hash, hash: chainHash(last.hash, canonicalJson(body)) };
    const r = verifyEsDocuments([...docs, toDocument(forgedRecord, DS), clone(docs[1])], keys);
    assert.equal(r.ok, true);
    assert.deepEqual(r.ok && { anchoredSeq: r.anchoredSeq, unanchored: r.unanchored, duplicates: r.duplicates }, { anchoredSeq: 4, unanchored: 1, duplicates: 1 });

    const twin = clone(docs[1]);
    (twin.event as Record<string, unknown>).id = 'other';
    assert.match(bad(verifyEsDocuments([...docs, twin], keys))!.reason, /two different documents hold seq 2/);
  });

  it('`kubemend audit verify-es` checks the copy with a public key and exits 1 naming a tampered document', { timeout: 60_000 }, async () => {
    const { fake, store } = await shipped(5);
    const args = ['audit', 'verify-es', '--url', fake.url, '--api-key-env', 'ES_KEY', '--public-key', publicKeyPath(store.audit.keys.keyFile), '--data-dir', '/nonexistent-kubemend'];
    const ok = await cli(args, { ES_KEY: KEY });
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, new RegExp(`copy in ${DS} ok: 5 records, seq 1–5, signed head verified up to seq 5`));
    ((fake.docs.get(fake.arrivals[2])!.source.kubemend) as Record<string, unknown>).justification = 'nothing to see';
    const broken = await cli(args, { ES_KEY: KEY });
    assert.equal(broken.code, 1);
    assert.match(broken.stdout, /BROKEN at seq 3/);
    assert.match(broken.stderr, /KM-TRACE-006/);
  });
});
