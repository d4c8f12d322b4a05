// The bad-input fixture convention shared by every config format: each
// fixture file has an expectation (line, path, message of the first
// problem), and loading it fails with exactly that, code KM-CONFIG-001.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, formatProblem, type ConfigProblem } from '../../src/common/config.ts';

export type Expectation = [line: number, path: string, message: RegExp];

/** The problems loading `path` reports (fails the test if it loads). */
export function problemsOf(load: () => unknown, path: string): ConfigProblem[] {
  try {
    load();
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    assert.equal(err.code, 'KM-CONFIG-001');
    return err.problems;
  }
  assert.fail(`${path} loaded without problems`);
}

/**
 * One test that every fixture has an expectation, and one per fixture;
 * `extra` adds format-specific checks on the problems.
 */
export function fixtureTests(dir: string, expected: Record<string, Expectation>, load: (file: string) => unknown, extra?: (name: string, file: string, problems: ConfigProblem[]) => void): void {
  test('every bad-input fixture has an expectation', () => {
    const files = readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort();
    assert.deepEqual(files, Object.keys(expected).sort());
  });
  for (const [name, [line, path, message]] of Object.entries(expected)) {
    test(`fixture ${name}: ${path || 'file'} at line ${line}`, () => {
      const file = join(dir, name);
      const problems = problemsOf(() => load(file), file);
      const first = problems[0];
      assert.equal(first.file, file);
      assert.equal(first.line, line, formatProblem(first));
      assert.equal(first.path, path, formatProblem(first));
      assert.match(first.message, message);
      extra?.(name, file, problems);
    });
  }
}
