// Rule loading: every bad-input fixture fails with the `file:line path:
// message` a user needs, all problems are reported at once, and valid rules
// load compiled and frozen.
import { test } from 'node:test';
import { fixtureTests, problemsOf as sharedProblemsOf } from '../helpers/config-fixtures.ts';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatProblem } from '../../src/common/config.ts';
import { ManualClock } from '../../src/common/clock.ts';
import { loadRules } from '../../src/rules/loader.ts';
import { RuleEnvironment } from '../../src/rules/cel.ts';

const FIXTURES = fileURLToPath(new URL('../fixtures/rules', import.meta.url));

/** fixture → [line, path, message pattern] of its one problem. */
const EXPECTED: Record<string, [number, string, RegExp]> = {
  'bad-cel-syntax.yaml': [9, 'spec.when', /^CEL syntax error: Unexpected token/],
  'cel-type-error.yaml': [9, 'spec.when', /^CEL type error: no such overload: double > string/],
  'cel-multiline-error.yaml': [12, 'spec.when', /^CEL type error: .* in `quantity\(c\.resources\.limits\.memory\) > 'big'`/],
  'when-not-bool.yaml': [9, 'spec.when', /must be a bool, but is string/],
  'when-dyn.yaml': [10, 'spec.when', /^must be a bool, but is dyn \(.*compare it/],
  // Points at the innermost loop's line, inside the multi-line expression.
  'over-budget.yaml': [13, 'spec.when', /^CEL cost: estimated 340,146,006 is over the budget of 100,000: `objects\('Pod', object\.metadata\.namespace\)\.exists\(…\)` runs its body up to 1,000 × 20 × 1,000 = 20,000,000 times \(assumed objects\(\) ≤ 1000, containers ≤ 20\)/],
  'subject-not-map.yaml': [10, 'spec.subject', /must be a map/],
  'unknown-kind.yaml': [9, 'spec.match.kinds[1]', /unknown kind "Pods" \(did you mean Pod\?\)/],
  'objects-unknown-kind.yaml': [10, 'spec.when', /objects\(\): unknown kind "NetworkPolicy"/],
  'missing-schedule.yaml': [7, 'spec.schedule', /source: schedule needs spec.schedule/],
  'bad-cron.yaml': [8, 'spec.schedule', /invalid cron expression "61 \* \* \* \*": Invalid value for minute/],
  'bad-interval.yaml': [8, 'spec.schedule', /"hourly" is neither an interval .* nor a cron expression/],
  'bad-duration.yaml': [10, 'spec.for', /invalid duration "5 minutes"/],
  'unknown-field.yaml': [7, 'spec', /Unrecognized key: "wen"/],
  'reasons-on-object.yaml': [10, 'spec.match.reasons', /match.reasons does not apply to source: object \(only to event\)/],
  'object-without-kinds.yaml': [7, 'spec.match', /source: object needs match.kinds/],
  'polled-kind-on-object.yaml': [9, 'spec.match.kinds[0]', /NodeMetrics cannot be watched \(metrics.k8s.io serves no watch\): read it from a source: schedule rule/],
  'yaml-syntax.yaml': [8, '', /^YAML syntax: /],
  'rollout-kind.yaml': [8, 'spec.match.kinds[0]', /^source: rollout watches the rollouts of Deployment, StatefulSet, DaemonSet, not Pod$/],
  'action-when-not-bool.yaml': [10, 'spec.action.when', /must be a bool, but is string/],
  'skip-reason-without-when.yaml': [10, 'spec.action.skipReason', /explains an action\.when that does not hold: give action\.when too/],
};

const problemsOf = (path: string) => sharedProblemsOf(() => loadRules(path), path);

fixtureTests(FIXTURES, EXPECTED, (file) => loadRules(file), (name, file, problems) => {
  const first = problems[0];
  assert.ok(formatProblem(first).startsWith(`${file}:${first.line}${first.path ? ` ${first.path}` : ''}: `));
  if (name !== 'yaml-syntax.yaml') assert.equal(problems.length, 1, problems.map(formatProblem).join('\n'));
});

test('a rule name used in two files is reported at the second, naming the first', () => {
  const dir = join(FIXTURES, 'duplicate');
  const problems = problemsOf(dir);
  assert.deepEqual(problems.map(formatProblem), [
    `${join(dir, 'second.yaml')}:14 metadata.name: duplicate rule name "pod-failed" (first defined at ${join(dir, 'first.yaml')}:1)`,
  ]);
});

const VALID = `apiVersion: kubemend.dev/v1alpha1
kind: Rule
metadata: { name: crashloop, labels: { team: shop } }
spec:
  source: object
  match: { kinds: [Pod], namespaces: { exclude: [kube-*] } }
  when: >-
    object.status.containerStatuses.exists(c, has(c.state.waiting) && c.state.waiting.reason == 'CrashLoopBackOff')
  subject: "{'kind': owner(object).kind, 'name': owner(object).name, 'namespace': object.metadata.namespace}"
  for: 1m
---
apiVersion: kubemend.dev/v1alpha1
kind: Rule
metadata: { name: evicted }
spec:
  source: event
  match: { kinds: [Pod], reasons: [Evicted], eventTypes: [Warning] }
`;

const SCHEDULED = `apiVersion: kubemend.dev/v1alpha1
kind: Rule
metadata: { name: nightly }
spec:
  source: schedule
  schedule: "0 3 * * *"
  match: { kinds: [Namespace] }
  when: size(objects('LimitRange', object.metadata.name)) == 0
`;

function tempDir(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'kubemend-rules-'));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

test('a valid directory loads every document of every .yaml/.yml file, in name order, frozen', () => {
  const dir = tempDir({ 'b.yaml': VALID, 'nested/a.yml': SCHEDULED, 'README.md': '# not a rule' });
  const loaded = loadRules(dir);
  // A document after the first starts at its `---` line.
  assert.deepEqual(loaded.map((l) => [l.rule.metadata.name, l.file, l.line]), [
    ['crashloop', join(dir, 'b.yaml'), 1],
    ['evicted', join(dir, 'b.yaml'), 11],
    ['nightly', join(dir, 'nested/a.yml'), 1],
  ]);
  const [crash] = loaded;
  assert.equal(crash.rule.spec.for, 60_000);
  assert.equal(crash.rule.spec.severity, 'warning');
  assert.ok(Object.isFrozen(crash));
  assert.ok(Object.isFrozen(crash.rule.spec.match.kinds));
  assert.ok(Object.isFrozen(crash.compiled));
  assert.throws(() => { (crash as { line: number }).line = 2; });
  assert.deepEqual(loaded[2].compiled.kinds, ['LimitRange']);
});

test('rules compile against the environment given, so the helpers use its clock', () => {
  const clock = new ManualClock(Date.UTC(2026, 0, 1));
  const dir = tempDir({
    'age.yaml': VALID.split('---')[0].replace(/when: >-\n.*\n/, "when: ageSeconds(object) > 30.0\n"),
  });
  const [lr] = loadRules(dir, { env: new RuleEnvironment({ clock }) });
  const object = { kind: 'Pod', metadata: { name: 'p', creationTimestamp: '2026-01-01T00:00:00Z' } };
  assert.equal(lr.compiled.when({ cluster: 'c', object }), false);
  return clock.advance(31_000).then(() => assert.equal(lr.compiled.when({ cluster: 'c', object }), true));
});

test('problems in several files are all reported in one error, in file then line order', () => {
  const dir = tempDir({
    'a.yaml': VALID.replace("reasons: [Evicted]", 'reasons: [Evicted], operations: [create]').replace('kinds: [Pod], namespaces', 'kinds: [Pdo], namespaces'),
    'b.yaml': SCHEDULED.replace('"0 3 * * *"', '"0 3 * *"').replace('== 0', '== "none"'),
  });
  const lines = problemsOf(dir).map((p) => `${p.file.slice(dir.length + 1)}:${p.line} ${p.path}`);
  assert.deepEqual(lines, ['a.yaml:6 spec.match.kinds[0]', 'a.yaml:17 spec.match.operations', 'b.yaml:6 spec.schedule', 'b.yaml:8 spec.when']);
});

test('a missing path or a directory without rule files is an error, not zero rules', () => {
  assert.match(problemsOf('/nonexistent/rules')[0].message, /cannot read/);
  assert.match(problemsOf(tempDir({ 'notes.txt': '' }))[0].message, /no rule files/);
});

test('`rules check DIR` prints ok with the count, or every problem one per line and exit code 1', async () => {
  const { Command } = await import('commander');
  const { registerRulesCheck } = await import('../../src/cli/rules-check.ts');
  const run = async (dir: string) => {
    const program = new Command('kubemend').exitOverride();
    registerRulesCheck(program.command('rules'));
    const out: string[] = [];
    const write = process.stdout.write;
    const writeErr = process.stderr.write;
    const saved = process.exitCode;
    process.stdout.write = ((s: string) => (out.push(s), true)) as typeof process.stdout.write;
    process.stderr.write = (() => true) as typeof process.stderr.write;
    process.exitCode = undefined;
    try {
      await program.parseAsync(['node', 'kubemend', 'rules', 'check', dir]);
      return { out: out.join(''), code: process.exitCode };
    } finally {
      process.stdout.write = write;
      process.stderr.write = writeErr;
      process.exitCode = saved;
    }
  };
  const good = tempDir({ 'rules.yaml': VALID });
  assert.deepEqual(await run(good), { out: `ok: 2 rules in ${good}\n`, code: undefined });
  const bad = tempDir({ 'a.yaml': VALID.replace('kinds: [Pod], reasons', 'kinds: [Pods], reasons'), 'b.yaml': SCHEDULED.replace('"0 3 * * *"', 'nightly') });
  const res = await run(bad);
  assert.equal(res.code, 1);
  assert.deepEqual(res.out.trim().split('\n').map((l) => l.slice(bad.length + 1).replace(/: .*/, '')), ['a.yaml:17 spec.match.kinds[0]', 'b.yaml:6 spec.schedule']);
});
