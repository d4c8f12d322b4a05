import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { listScenarios, resolveScenario, loadScenarioFile } from '../../src/sandbox/scenarios/index.ts';
import { ConfigError } from '../../src/common/config.ts';
import { KubemendError } from '../../src/common/errors.ts';

const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/scenarios/${name}`, import.meta.url));

function problemsOf(file: string): string[] {
  try {
    loadScenarioFile(file);
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${err}`);
    assert.equal(err.code, 'KM-CONFIG-001');
    return err.problems.map((p) => `${p.line} ${p.path}: ${p.message}`);
  }
  assert.fail(`${file} loaded without error`);
}

test('every shipped scenario loads, and the seven the sandbox promises are there', { timeout: 60_000 }, () => {
  const names = listScenarios().map((s) => s.scenario.metadata.name);
  for (const n of ['crashloop', 'image-pull', 'memory-cascade', 'node-broken', 'pending', 'config-change', 'event-storm']) {
    assert.ok(names.includes(n), `scenario ${n} is shipped`);
  }
});

test('loaded scenarios are frozen, durations are milliseconds', { timeout: 60_000 }, () => {
  const { scenario } = resolveScenario('crashloop');
  assert.ok(Object.isFrozen(scenario.spec.steps[0]));
  assert.equal(scenario.spec.steps[1].at, 60_000);
});

test('an unknown scenario name is KM-SANDBOX-001 and lists the known ones', { timeout: 60_000 }, () => {
  assert.throws(() => resolveScenario('nope'), (e: unknown) => e instanceof KubemendError && e.code === 'KM-SANDBOX-001' && /crashloop/.test(e.message));
});

test('a bad duration names file, line and path', { timeout: 60_000 }, () => {
  const p = problemsOf(fixture('bad-duration.yaml'));
  assert.equal(p.length, 1);
  assert.match(p[0], /^6 spec\.duration: invalid duration "5 minutes"/);
});

test('a step with two actions is rejected', { timeout: 60_000 }, () => {
  const p = problemsOf(fixture('bad-two-actions.yaml'));
  assert.match(p[0], /^8 spec\.steps\[0\]: each step needs exactly one of/);
});

test('unknown kinds and CEL that does not parse are both reported', { timeout: 60_000 }, () => {
  const p = problemsOf(fixture('bad-kind.yaml'));
  assert.equal(p.length, 2);
  assert.match(p[0], /spec\.steps\[0\]\.apply\[0\]\.kind: the sandbox does not serve example\.com\/v1\/Widget/);
  assert.match(p[1], /spec\.milestones\[0\]\.where: CEL does not parse/);
});

test('YAML syntax errors give a line', { timeout: 60_000 }, () => {
  const p = problemsOf(fixture('bad-yaml.yaml'));
  assert.match(p[0], /^\d+ : YAML syntax/);
});

test('an unknown field is named', { timeout: 60_000 }, () => {
  const p = problemsOf(fixture('bad-unknown-field.yaml'));
  assert.match(p.join('\n'), /spec: Unrecognized key: "stepz"/);
});

test('steps out of time order are rejected', { timeout: 60_000 }, () => {
  const p = problemsOf(fixture('bad-order.yaml'));
  assert.match(p[0], /spec\.steps\[1\]\.at: steps must be in time order/);
});

test('a scenario may turn RBAC off or on and declare static users; left out, the fingerprint does not change', { timeout: 60_000 }, async () => {
  const { mkdtempSync, writeFileSync, readFileSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { tmpdir } = await import('node:os');
  const { sandboxOptionsFor } = await import('../../src/sandbox/scenarios/index.ts');
  const shipped = fileURLToPath(new URL('../../scenarios/crashloop.yaml', import.meta.url));
  const text = readFileSync(shipped, 'utf8');
  const dir = mkdtempSync(join(tmpdir(), 'km-scn-rbac-'));
  const file = join(dir, 'crashloop-users.yaml');
  writeFileSync(file, text.replace(/^spec:\n/m, 'spec:\n  rbac: off\n  users:\n    - { name: carol, token: carol-token, groups: [shop] }\n'));
  const o = sandboxOptionsFor(loadScenarioFile(file).scenario);
  assert.equal(o.rbac, 'off');
  assert.deepEqual(o.users, [{ name: 'carol', token: 'carol-token', groups: ['shop'] }]);
  const plain = sandboxOptionsFor(resolveScenario('crashloop').scenario);
  assert.equal('rbac' in plain || 'users' in plain, false, 'shipped scenarios leave both to the command');
  assert.equal(plain.scenario!.fingerprint, sandboxOptionsFor(loadScenarioFile(shipped).scenario).scenario!.fingerprint);
  const bad = join(dir, 'bad-users.yaml');
  writeFileSync(bad, text.replace(/^spec:\n/m, 'spec:\n  rbac: maybe\n  users:\n    - { name: carol, token: "carol token" }\n'));
  const p = problemsOf(bad);
  assert.ok(p.some((x) => /spec\.rbac: /.test(x)), p.join('\n'));
  assert.ok(p.some((x) => /spec\.users\[0\]\.token: a bearer token: no spaces/.test(x)), p.join('\n'));
});
