import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Errors } from '../../src/common/errors.ts';

test('docs/errors.md lists every error code with its fix, and nothing else', () => {
  const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
  const rows = new Map<string, string>();
  for (const line of doc.split('\n')) {
    const m = /^\| (KM-[A-Z]+-\d{3}) \| [^|]+ \| (.+) \|$/.exec(line);
    if (m) rows.set(m[1], m[2].trim());
  }
  const codes = Object.values(Errors).map((e) => e.code);
  assert.equal(new Set(codes).size, codes.length, 'codes are unique');
  assert.deepEqual([...rows.keys()].sort(), [...codes].sort());
  for (const e of Object.values(Errors)) assert.equal(rows.get(e.code), e.fix, `fix for ${e.code}`);
});
