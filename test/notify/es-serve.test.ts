// `kubemend serve --sandbox` with spec.trace.elasticsearch: the service
// ships its audit log to the fake Elasticsearch while it runs, and on a
// clean stop drains the rest — every record in the store, in order, once.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../../src/store/index.ts';
import { runServe } from '../../src/cli/serve.ts';
import { verifyEsDocuments } from '../../src/notify/index.ts';
import { FakeElasticsearch } from '../helpers/fake-elasticsearch.ts';
import { metric, scrape, startServe, until } from '../helpers/serve-process.ts';
import { DS, KEY } from './es-helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'kubemend-serve-es-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('serve ships the audit log to Elasticsearch while it runs and drains it on stop', { timeout: 120_000 }, async () => {
  const fake = await FakeElasticsearch.start({ auth: `ApiKey ${KEY}` });
  const config = join(dir, 'kubemend.yaml');
  writeFileSync(config, [
    'apiVersion: kubemend.dev/v1alpha1',
    'kind: Config',
    'spec:',
    '  trace:',
    '    elasticsearch:',
    `      url: ${fake.url}`,
    '      apiKeyEnv: ES_API_KEY',
    '      flushInterval: 1s',
    '',
  ].join('\n'));
  const data = join(dir, 'data');
  const serve = await startServe(['--sandbox', '--speed', '20', '--listen', '127.0.0.1:0', '--config', config, '--data-dir', data], { ES_API_KEY: KEY });
  try {
    await serve.waitFor(/trace\s+audit records to logs-kubemend\.audit-default at http:\/\/127\.0\.0\.1:\d+/, 'the trace line of the announcement');
    await until('audit records in Elasticsearch', () => fake.docs.size >= 3, 60_000, () => serve.output());
    const m = await scrape(serve.base);
    assert.ok(metric(m, 'kubemend_trace_records_shipped_total', { shipper: 'elasticsearch', result: 'created' }) >= 3);
    assert.ok(m.has('kubemend_trace_lag_records{shipper="elasticsearch"}'));
  } finally {
    assert.equal(await serve.stop(), 0, serve.output());
    await fake.stop();
  }
  assert.doesNotMatch(serve.output(), new RegExp(KEY.slice(0, 20)), 'the key is never printed');
  const store = await openStore({ dataDir: data });
  try {
    const records = await store.audit.list();
    assert.ok(records.length >= 3);
    assert.deepEqual(fake.arrivals, records.map((r) => r.id), 'every record, in order, once');
    assert.equal(await store.shipperCheckpoint('elasticsearch'), records.at(-1)!.seq);
    const check = verifyEsDocuments(fake.sources(), store.audit.keys);
    assert.ok(check.ok && check.anchoredSeq === records.at(-1)!.seq, JSON.stringify(check));
    assert.equal(fake.streams.get(DS), DS);
    assert.deepEqual(fake.problems, []);
  } finally {
    await store.close();
  }
});

test('serve refuses to start when the trace\'s key variable is unset (KM-TRACE-005), before opening anything', { timeout: 60_000 }, async () => {
  const config = join(dir, 'missing-key.yaml');
  writeFileSync(config, 'apiVersion: kubemend.dev/v1alpha1\nkind: Config\nspec:\n  trace:\n    elasticsearch:\n      url: http://127.0.0.1:9\n      apiKeyEnv: ES_KEY_NOT_SET\n');
  const data = join(dir, 'never');
  await assert.rejects(
    runServe({ config, sandbox: true, scenario: 'crashloop', context: [], listen: '127.0.0.1:0', dataDir: data }, () => {}, {}),
    (e: Error & { code?: string }) => e.code === 'KM-TRACE-005' && /ES_KEY_NOT_SET/.test(e.message),
  );
  assert.equal(existsSync(data), false, 'nothing was created in the data directory');
});
