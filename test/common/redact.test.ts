// The process's redactor: every kind of credential in the corpus is masked,
// each in its own case, with the text around it kept; values kubemend was
// told about are masked in any context; ordinary values (paths, digests,
// UIDs, resourceVersions, image names) are left alone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Redactor, REDACTED, redactor } from '../../src/common/redact.ts';
import { SECRETLINT_RULE_IDS } from '../../src/common/secretlint.ts';
import { CONFIGURED_TOKEN, KNOWN_VALUE_CASES, MOUNTED_SECRET, ORDINARY, SECRET_CASES } from '../helpers/secret-corpus.ts';

for (const c of SECRET_CASES) {
  test(`pattern: ${c.id}`, () => {
    const out = new Redactor().redact(c.line);
    assert.ok(c.secrets.length > 0);
    for (const s of c.secrets) assert.ok(!out.includes(s), `${c.id}: "${s}" survives in ${out}`);
    assert.ok(out.includes(REDACTED), out);
    if (c.keeps) assert.ok(out.includes(c.keeps), `${c.id}: "${c.keeps}" was masked too: ${out}`);
  });
}

test('values kubemend was told about are masked wherever they appear, with their base64 forms', () => {
  const r = new Redactor();
  for (const c of KNOWN_VALUE_CASES) assert.equal(r.redact(c.line), c.line, `${c.id}: no pattern knows this value`);
  r.addSecret(MOUNTED_SECRET);
  r.addSecret(CONFIGURED_TOKEN);
  assert.ok(KNOWN_VALUE_CASES.length > 0);
  for (const c of KNOWN_VALUE_CASES) {
    const out = r.redact(c.line);
    for (const s of c.secrets) assert.ok(!out.includes(s), `${c.id}: ${out}`);
    assert.ok(out.includes(c.keeps!), out);
  }
});

test('short values and placeholders are not learnt; a multi-line value is also learnt by its long lines', () => {
  const r = new Redactor();
  r.addSecret('admin');
  r.addSecret('true');
  r.addSecret(undefined);
  assert.equal(r.knownCount, 0);
  assert.equal(r.redact('admin logged in: true'), 'admin logged in: true');
  r.addSecret('-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAE\nZq8LmN2pR7tV4xW9Zq8LmN2p\n-----END OPENSSH PRIVATE KEY-----\n');
  r.addSecret('user = shop\nserver = https://db.internal:5432\n');
  assert.equal(r.redact('key line Zq8LmN2pR7tV4xW9Zq8LmN2p printed'), 'key line [redacted] printed');
  assert.equal(r.redact('connecting: server = https://db.internal:5432'), 'connecting: server = https://db.internal:5432', 'a config line with spaces is not learnt by itself');
});

test('the password of a database URL is learnt, decoded and as written', () => {
  const r = new Redactor();
  r.addUrlPassword('postgres://shop:p%40ss-W0rd-99@db:5432/shop');
  r.addUrlPassword('/var/lib/kubemend/kubemend.db');
  assert.equal(r.redact('auth failed for p@ss-W0rd-99'), 'auth failed for [redacted]');
  assert.equal(r.redact('dsn=p%40ss-W0rd-99'), 'dsn=[redacted]');
});

test('ordinary values are kept', () => {
  const r = new Redactor();
  r.addSecret(MOUNTED_SECRET);
  assert.ok(ORDINARY.length > 10);
  for (const text of ORDINARY) assert.equal(r.redact(text), text);
});

test('redactDeep masks strings everywhere and whole values under secret-looking keys, and keeps the rest', () => {
  const r = new Redactor();
  const input = {
    url: 'https://hooks.example.com/x',
    headers: { Authorization: 'Bearer abc', 'X-Api-Key': 'k-123456', Accept: 'application/json' },
    env: [{ name: 'DB_PASSWORD', value: 'x' }, { name: 'MODE', value: 'prod' }],
    password: 'hunter2hunter2',
    clientSecret: 42,
    secretName: 'db-creds',
    tokenCount: 5,
    token: null,
    lines: ['ok', 'DB_PASSWORD=hunter2-Correct-Horse'],
    nested: { deeper: { note: 'uses ghp_R8f2kLm9QzX4vB7nT1yW6cJ3hD5sA0pE2uGi' } },
  };
  const out = r.redactDeep(input);
  assert.deepEqual(out, {
    url: 'https://hooks.example.com/x',
    headers: { Authorization: REDACTED, 'X-Api-Key': REDACTED, Accept: 'application/json' },
    env: [{ name: 'DB_PASSWORD', value: 'x' }, { name: 'MODE', value: 'prod' }],
    password: REDACTED,
    clientSecret: REDACTED,
    secretName: 'db-creds',
    tokenCount: 5,
    token: null,
    lines: ['ok', 'DB_PASSWORD=[redacted]'],
    nested: { deeper: { note: 'uses [redacted]' } },
  });
  assert.equal(input.password, 'hunter2hunter2', 'the input is not changed');
});

test('a log line cannot switch redaction off with a secretlint-disable comment', () => {
  assert.ok(!SECRETLINT_RULE_IDS.includes('@secretlint/secretlint-rule-filter-comments'));
  assert.ok(SECRETLINT_RULE_IDS.length >= 20, SECRETLINT_RULE_IDS.join(' '));
  const out = new Redactor().redact('// secretlint-disable\nnpm token npm_' + 'a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8');
  assert.ok(!out.includes('a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8'), out);
});

test('secretlint finds provider tokens kubemend has no pattern of its own for', () => {
  // An OpenAI key and an npm token: only the secretlint preset knows their shapes.
  for (const key of ['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', 'npm_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8']) {
    const out = new Redactor().redact(`bot uses ${key} today`);
    assert.equal(out, 'bot uses [redacted] today');
  }
});

test('the process redactor is one object shared by every importer', async () => {
  const chat = await import('../../src/chat/redact.ts');
  assert.equal(chat.redactor, redactor);
});

test('a hostile log tail is redacted in bounded time', () => {
  const r = new Redactor();
  for (const text of [
    'password='.repeat(6000),
    'xoxb-' + 'a-'.repeat(25_000),
    'Ab1'.repeat(17_000),
    '-----BEGIN PRIVATE KEY-----\n'.repeat(2000),
    'http://' + 'a:'.repeat(25_000),
    'api_key_'.repeat(6000),
    'eyJaaaaaaaaaa.'.repeat(4000),
    '"password":"'.repeat(4000),
  ]) {
    const t0 = performance.now();
    r.redact(text);
    assert.ok(performance.now() - t0 < 500, `${text.slice(0, 20)}… took ${performance.now() - t0}ms`);
  }
});
