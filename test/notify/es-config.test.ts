// Configuration, credentials and the index template of the audit shipper:
// the config refuses what cannot work, the key travels in the header and
// never in a log line, a refused login is KM-TRACE-001, and the template is
// put (or left alone) as configured.
import { after, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubemendError } from '../../src/common/errors.ts';
import { loadServiceConfig } from '../../src/server/index.ts';
import { bulkBody, elasticsearchTrace, ElasticsearchTraceSchema, indexTemplate, resolveEsConnection, toDocument } from '../../src/notify/index.ts';
import { FakeElasticsearch } from '../helpers/fake-elasticsearch.ts';
import { freePort } from '../helpers/alertmanager.ts';
import { forEachDialect } from '../audit/helpers.ts';
import { DS, inputs, KEY, shipper } from './es-helpers.ts';

const fakes: FakeElasticsearch[] = [];
after(async () => {
  for (const f of fakes) await f.stop();
});
async function fakeEs(auth?: string, echoAuth = false): Promise<FakeElasticsearch> {
  const f = await FakeElasticsearch.start({ auth, echoAuth });
  fakes.push(f);
  return f;
}

const problems = (input: unknown) => {
  const r = ElasticsearchTraceSchema.safeParse(input);
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
};

it('the config fills defaults and refuses what cannot work', () => {
  const c = elasticsearchTrace({ url: 'https://es.example:9200' });
  assert.equal(c.dataStream, 'logs-kubemend.audit-default');
  assert.equal(c.manageTemplate, true);
  assert.ok(c.templatePriority > 100);
  assert.deepEqual(problems({}), ['urls: name the cluster: url or urls']);
  assert.match(problems({ url: 'https://elastic:changeme@es:9200' }).join(), /no credentials in the URL/);
  assert.match(problems({ url: 'http://es:9200', apiKeyEnv: 'K', usernameEnv: 'U', passwordEnv: 'P' }).join(), /not both/);
  assert.match(problems({ url: 'http://es:9200', usernameEnv: 'U' }).join(), /passwordEnv: basic auth needs both/);
  assert.match(problems({ url: 'http://es:9200', dataStream: 'Logs-Upper' }).join(), /dataStream/);
  assert.match(problems({ url: 'http://es:9200', templatePriority: 100 }).join(), /templatePriority/);
  assert.match(problems({ url: 'http://es:9200', extra: 1 }).join(), /extra/);
});

it('the service config takes spec.trace.elasticsearch, resolves caFile against the file, and names a bad field with file:line', () => {
  const dir = mkdtempSync(join(tmpdir(), 'km-trace-config-'));
  const file = join(dir, 'kubemend.yaml');
  const defaults = { rules: dir, runbooks: dir, policy: join(dir, 'policy.csv') };
  writeFileSync(file, 'apiVersion: kubemend.dev/v1alpha1\nkind: Config\nspec:\n  trace:\n    elasticsearch:\n      url: https://es:9200\n      caFile: certs/ca.pem\n      flushInterval: 2s\n');
  const c = loadServiceConfig(file, defaults);
  assert.equal(c.trace.elasticsearch?.caFile, join(dir, 'certs/ca.pem'));
  assert.equal(c.trace.elasticsearch?.flushInterval, 2000);
  assert.equal(c.trace.elasticsearch?.dataStream, DS);
  assert.equal(loadServiceConfig(undefined, defaults).trace.elasticsearch, undefined, 'off unless configured');
  writeFileSync(file, 'apiVersion: kubemend.dev/v1alpha1\nkind: Config\nspec:\n  trace:\n    elasticsearch:\n      apiKeyEnv: K\n');
  assert.throws(() => loadServiceConfig(file, defaults), (e: KubemendError) => e.code === 'KM-CONFIG-001' && /kubemend\.yaml:\d+.*trace\.elasticsearch\.urls: name the cluster/.test(e.message));
});

it('credentials come from the environment: ApiKey or Basic, and a missing variable is KM-TRACE-005', () => {
  const api = resolveEsConnection(elasticsearchTrace({ urls: ['http://a:9200/', 'http://b:9200'], apiKeyEnv: 'K' }), { K: KEY });
  assert.equal(api.authorization, `ApiKey ${KEY}`);
  assert.deepEqual(api.urls, ['http://a:9200', 'http://b:9200']);
  const basic = resolveEsConnection(elasticsearchTrace({ url: 'http://a:9200', usernameEnv: 'U', passwordEnv: 'P' }), { U: 'kubemend', P: 's3cret-pass' });
  assert.equal(basic.authorization, `Basic ${Buffer.from('kubemend:s3cret-pass').toString('base64')}`);
  assert.equal(resolveEsConnection(elasticsearchTrace({ url: 'http://a:9200' }), {}).authorization, undefined);
  assert.throws(() => resolveEsConnection(elasticsearchTrace({ url: 'http://a:9200', usernameEnv: 'U', passwordEnv: 'P' }), { U: 'x' }), (e: KubemendError) => e.code === 'KM-TRACE-005' && /P is not set/.test(e.message));
  assert.throws(() => resolveEsConnection(elasticsearchTrace({ url: 'https://a:9200', caFile: '/nonexistent/ca.pem' }), {}), (e: KubemendError) => e.code === 'KM-TRACE-005');
});

it('a batch stays within its count and bytes, but always takes one record', () => {
  const entries = Array.from({ length: 5 }, (_, i) => ({ seq: i + 1, id: `id-${i}`, doc: { '@timestamp': 't', event: { id: `id-${i}`, sequence: i + 1 }, kubemend: { pad: 'x'.repeat(100) } } }));
  assert.equal(bulkBody(DS, entries, 2, 1e6).entries.length, 2);
  const one = bulkBody(DS, entries, 10, 1e6);
  const pairBytes = one.bytes / 5;
  assert.equal(bulkBody(DS, entries, 10, Math.floor(pairBytes * 3.5)).entries.length, 3);
  const tiny = bulkBody(DS, entries, 10, 1);
  assert.equal(tiny.entries.length, 1);
  assert.ok(tiny.body.endsWith('\n') && tiny.body.split('\n').length === 3);
});

it('the OpenSearch template maps the free-form data as flat_object and has no constant_keyword', () => {
  const es = JSON.stringify(indexTemplate({ dataStream: DS, priority: 200, flavor: 'elasticsearch' }));
  const os = JSON.stringify(indexTemplate({ dataStream: DS, priority: 200, flavor: 'opensearch' }));
  assert.match(es, /"data":\{"type":"flattened"\}/);
  assert.match(os, /"data":\{"type":"flat_object"\}/);
  assert.doesNotMatch(os, /constant_keyword|flattened/);
  const custom = toDocument({ seq: 1, id: 'a', time: 0, actor: { type: 'system', name: 's' }, action: 'x', prevHash: '0', hash: '1' }, 'kubemend-audit');
  assert.equal(custom.data_stream, undefined, 'a stream not named type-dataset-namespace gets no data_stream fields');
  assert.equal((custom.event as unknown as { dataset: string }).dataset, 'kubemend.audit');
});

forEachDialect((env) => {
  if (env.name !== 'sqlite') return;

  it('a refused key is KM-TRACE-001, logged with its code, and the key appears in no log line, even echoed back', { timeout: 60_000 }, async () => {
    const fake = await fakeEs(`ApiKey ${KEY}`, true);
    const { store, place } = await env.store();
    await store.audit.append(inputs(2));
    const wrong = 'd3Jvbmcta2V5LWlkOndyb25nLWtleS1zZWNyZXQ=';
    const logs: string[] = [];
    const s = shipper(store, place.clock, fake, { flushInterval: '1s' }, { logs, env: { ES_API_KEY: wrong } });
    await assert.rejects(s.shipOnce(), (e: KubemendError) => e.code === 'KM-TRACE-001' && /401/.test(e.message) && !e.message.includes(wrong));
    assert.equal(fake.requests[0].authorization, `ApiKey ${wrong}`);
    await s.start();
    await place.clock.advance(5_000);
    await new Promise((r) => setTimeout(r, 50));
    await s.stop();
    const line = logs.find((l) => l.includes('KM-TRACE-001'));
    assert.ok(line?.startsWith('error: audit shipping'), `logged: ${logs.join('\n')}`);
    for (const l of logs) assert.ok(!l.includes(wrong) && !l.includes(Buffer.from(wrong).toString('base64')), `the key leaked: ${l}`);
    assert.equal(await store.shipperCheckpoint('elasticsearch'), 0);
    assert.equal(fake.docs.size, 0);
  });

  it('a node that cannot be reached is skipped for the next URL', { timeout: 60_000 }, async () => {
    const fake = await fakeEs(`ApiKey ${KEY}`);
    const dead = await freePort();
    const { store, place } = await env.store();
    await store.audit.append(inputs(3));
    const s = shipper(store, place.clock, fake, { url: undefined, urls: [`http://127.0.0.1:${dead}`, fake.url] });
    assert.equal((await s.flush()).checkpoint, 3);
    await fake.down('refuse');
    await store.audit.append(inputs(1, 4));
    await assert.rejects(s.shipOnce(), (e: KubemendError) => e.code === 'KM-TRACE-002' && e.message.includes(`127.0.0.1:${dead}`) && /ECONNREFUSED/.test(e.message));
    await s.stop();
  });

  it('basic auth is sent as documented', { timeout: 60_000 }, async () => {
    const fake = await fakeEs(`Basic ${Buffer.from('kubemend:pa55-word!').toString('base64')}`);
    const { store, place } = await env.store();
    await store.audit.append(inputs(2));
    const s = shipper(store, place.clock, fake, { apiKeyEnv: undefined, usernameEnv: 'U', passwordEnv: 'P' }, { env: { U: 'kubemend', P: 'pa55-word!' } });
    assert.equal((await s.flush()).checkpoint, 2);
    assert.deepEqual(fake.problems, []);
  });

  it('manageTemplate: false puts no template; without one the records wait (404 items are retried, not dead-lettered)', { timeout: 60_000 }, async () => {
    const fake = await fakeEs(`ApiKey ${KEY}`);
    const { store, place } = await env.store();
    await store.audit.append(inputs(3));
    const s = shipper(store, place.clock, fake, { manageTemplate: false, dataStream: 'kubemend-audit' });
    const r = await s.shipOnce();
    assert.deepEqual({ retried: r.retried, rejected: r.rejected, checkpoint: r.checkpoint }, { retried: 3, rejected: 0, checkpoint: 0 });
    assert.ok(!fake.requests.some((q) => q.path.startsWith('/_index_template')));
    assert.equal((await store.audit.list({ action: 'trace.*' })).length, 0);
    // An administrator installs the template (kubemend's, as docs/trace.md shows it).
    const res = await fetch(`${fake.url}/_index_template/kubemend-audit`, { method: 'PUT', headers: { authorization: `ApiKey ${KEY}`, 'content-type': 'application/json' }, body: JSON.stringify(indexTemplate({ dataStream: 'kubemend-audit', priority: 200, flavor: 'elasticsearch' })) });
    assert.equal(res.status, 200);
    assert.equal((await s.flush()).checkpoint, 3);
    assert.equal(fake.docs.size, 3);
  });

  it('a template Elasticsearch refuses is KM-TRACE-004 and nothing is shipped without it', { timeout: 60_000 }, async () => {
    const fake = await fakeEs(`ApiKey ${KEY}`);
    const { store, place } = await env.store();
    await store.audit.append(inputs(1));
    // The built-in logs template has priority 100 and Elasticsearch refuses a tie on overlapping patterns.
    const s = shipper(store, place.clock, fake, {});
    (s as unknown as { c: { templatePriority: number } }).c.templatePriority = 100;
    await assert.rejects(s.shipOnce(), (e: KubemendError) => e.code === 'KM-TRACE-004' && /same priority/.test(e.message));
    assert.equal(fake.requests.filter((q) => q.path === '/_bulk').length, 0);
  });
});
