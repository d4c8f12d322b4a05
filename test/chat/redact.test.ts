// The reply redactor: credentials programs print are masked; the text an
// engineer needs (paths, pod names, image digests, condition reasons) is not.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Redactor, redact } from '../../src/chat/redact.ts';

test('credentials are masked', () => {
  const cases: [string, string][] = [
    ['Authorization: Bearer abcdefghijkl123', 'Authorization: [redacted]'],
    ['curl -H "authorization: Basic dXNlcjpwYXNzd29yZA=="', 'curl -H "authorization: [redacted]"'],
    ['got bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJib2IifQ.c2lnbmF0dXJlLXNpZw', 'got bearer [redacted]'],
    ['password=hunter2 user=bob', 'password=[redacted] user=bob'],
    ['DB_PASSWORD: "s3cr3t value"', 'DB_PASSWORD: [redacted]'],
    ['{"apiKey": "xyz12345", "name": "web"}', '{"apiKey": [redacted], "name": "web"}'],
    ['client_secret=abc&x=1', 'client_secret=[redacted]&x=1'],
    ['postgres://app:pw@db:5432/shop', 'postgres://[redacted]@db:5432/shop'],
    ['slack xoxb-123456789012-abcdefghijkl', 'slack [redacted]'],
    ['gh ghp_abcdefghijklmnopqrstuvwxyz1234', 'gh [redacted]'],
    ['aws AKIAIOSFODNN7EXAMPLE', 'aws [redacted]'],
    ['secret data: aHVudGVyMi1zM2NyM3QtdmFsdWU=', 'secret data: [redacted]'],
    ['blob c2VjcmV0LXZhbHVlLWxvbmctZW5vdWdoLWZvci10ZXN0', 'blob [redacted]'],
    ['-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY----- done', '[redacted] done'],
  ];
  for (const [input, want] of cases) assert.equal(redact(input), want, input);
});

test('what an engineer needs to read is kept', () => {
  for (const text of [
    'GET /apis/apps/v1/namespaces/shop/deployments/web: 404',
    'image shop/web@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef',
    'conditions: Available=True (MinimumReplicasAvailable), Progressing=True (NewReplicaSetAvailable)',
    'web-7d9f8b6c5d-x2x9z Running ready, restarts 0',
    'https://grafana.example.com/d/f3a1b2c3d4/checkout-errors?orgId=1',
    'scale deployment shop/web from 3 to 5 on cluster prod',
    'ticket OPS-123 (Approved)',
  ]) assert.equal(redact(text), text);
});

test('values the engine knows are secret are masked, with their base64 forms', () => {
  const r = new Redactor();
  r.addSecret('plain words here');
  r.addSecret('ab');
  assert.equal(r.redact('the plain words here leaked'), 'the [redacted] leaked');
  assert.equal(r.redact(`b64 ${Buffer.from('plain words here').toString('base64')}`), 'b64 [redacted]');
  assert.equal(r.redact('ab cd'), 'ab cd', 'values under 4 characters are not masked');
});
