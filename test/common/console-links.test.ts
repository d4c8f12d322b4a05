// Console deep links: built from the public URL people reach kubemend at;
// anything but an http(s) base (a query, a fragment, credentials) is refused
// at start-up rather than sent in every notification.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { consoleLinks } from '../../src/common/index.ts';

test('console links: base URL + /console/#/view/id, the id encoded; none without a base', () => {
  assert.equal(consoleLinks('https://kubemend.example.com')('incidents', 'inc-1'), 'https://kubemend.example.com/console/#/incidents/inc-1');
  assert.equal(consoleLinks('http://10.0.0.5:8080/kubemend//')('runs', 'a b/c'), 'http://10.0.0.5:8080/kubemend/console/#/runs/a%20b%2Fc');
  assert.equal(consoleLinks(undefined)('incidents', 'inc-1'), undefined);
  assert.equal(consoleLinks('')('incidents', 'inc-1'), undefined);
  for (const bad of ['kubemend.example.com', 'ftp://x.example', 'https://x.example/?a=1', 'https://x.example/#/x', 'https://u:p@x.example', 'javascript:alert(1)']) {
    assert.throws(() => consoleLinks(bad), (e: Error & { code?: string }) => e.code === 'KM-CLI-001', bad);
  }
});
