// The conformance suite must not pass quietly where its clients are missing:
// CI installs them, and a missing one fails the tests that need it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { gate, NO_PYTHON_KUBERNETES, PYTHON } from './harness.ts';

test('a missing client fails the test naming its package; KUBEMEND_SKIP_MISSING_TOOLS=1 turns that into a skip', () => {
  assert.equal(gate(true, NO_PYTHON_KUBERNETES, {}), false);
  assert.throws(() => gate(false, NO_PYTHON_KUBERNETES, {}), { message: /python3-kubernetes.*apt-get install -y --no-install-recommends python3-kubernetes/ });
  assert.throws(() => gate(false, NO_PYTHON_KUBERNETES, { KUBEMEND_SKIP_MISSING_TOOLS: '0' }));
  assert.equal(gate(false, NO_PYTHON_KUBERNETES, { KUBEMEND_SKIP_MISSING_TOOLS: '1' }), NO_PYTHON_KUBERNETES);
});

test('.ci/run installs Debian\'s python3-kubernetes where the tests look for it (/usr/bin/python3), before the tests run', () => {
  const run = readFileSync(new URL('../../.ci/run', import.meta.url), 'utf8');
  const install = run.search(/apt-get install -y (?:-qq )?--no-install-recommends python3-kubernetes/);
  assert.ok(install > 0, '.ci/run installs python3-kubernetes with apt-get');
  assert.ok(run.includes(`${PYTHON} -c 'import kubernetes'`), `.ci/run checks with ${PYTHON}, the interpreter the tests use`);
  assert.ok(install < run.indexOf('npm test'), 'before npm test');
});
