// Every test is bounded in time: `npm test` passes a default, and a file
// whose tests start processes, servers, scenarios or databases gives each of
// its tests its own timeout, so a hang fails that test with its name instead
// of stalling the suite until the default (or CI's) ends it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { partition, plan, SHARED_DIRS } from '../../scripts/test.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

function testFiles(dir = join(ROOT, 'test')): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const p = join(dir, d.name);
    if (d.isDirectory()) return d.name === 'fixtures' ? [] : testFiles(p);
    return d.name.endsWith('.test.ts') ? [p] : [];
  });
}

/** What makes a test slow by construction: real processes, scenarios on the sandbox, kubectl, both databases. */
const SLOW = /node:child_process|helpers\/serve-process|helpers\/kubectl|resolveScenario|ScenarioRunner|playRules|ScenarioSession|forEachDialect|startConformance|startScenario|startEveryKind/;

/** A top-level `test('name', …` or `describe('name', …` call, with its options object when it has one. */
const CALL = /^(?:test|describe)\((?:'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|`(?:[^`\\]|\\.)*`), (\{[^}]*\})?/gm;

test('npm test passes a default timeout to every test', () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  assert.equal(pkg.scripts.test, 'node scripts/test.ts');
  for (const argv of [[], ['test/rules/engine.test.ts']]) {
    for (const g of plan(argv)) assert.ok(g.args.some((a) => /^--test-timeout=\d+$/.test(a)), `${g.label}: ${g.args.slice(0, 4).join(' ')}`);
  }
});

test('npm test runs every test file once: the unit-level folders in one shared process, the rest and marked files a process each', () => {
  const { shared, isolated } = partition();
  const all = testFiles().map((f) => relative(ROOT, f)).sort();
  assert.deepEqual([...shared, ...isolated].sort(), all);
  assert.ok(shared.every((f) => SHARED_DIRS.includes(f.split('/')[1])));
  for (const f of shared) assert.doesNotMatch(readFileSync(join(ROOT, f), 'utf8'), /\/\/ test-isolation: process/, f);
  // The files that start kubemend, kubectl, Python or Chromium keep their own processes.
  for (const dir of ['cli', 'server', 'e2e', 'conformance', 'deploy', 'image']) assert.ok(isolated.some((f) => f.startsWith(`test/${dir}/`)), dir);
});

test('a test file that starts processes, scenarios or databases gives each of its tests a timeout', () => {
  const self = fileURLToPath(import.meta.url);
  const slow = testFiles().filter((f) => f !== self && SLOW.test(readFileSync(f, 'utf8')));
  assert.ok(slow.length >= 20, `found ${slow.length} slow test files: is the pattern still right?`);
  const missing: string[] = [];
  for (const file of slow) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(CALL)) {
      if (m[1]?.includes('timeout')) continue;
      // A named options constant (`{ skip }` aside) is checked where it is defined.
      const after = text.slice(m.index + m[0].length, m.index + m[0].length + 40);
      const constant = /^([A-Z_]+),/.exec(after)?.[1];
      if (constant && new RegExp(`const ${constant} = \\{[^}]*timeout`).test(text)) continue;
      missing.push(`${relative(ROOT, file)}:${text.slice(0, m.index).split('\n').length}`);
    }
  }
  assert.deepEqual(missing, [], `give these tests { timeout }:\n${missing.join('\n')}`);
});
