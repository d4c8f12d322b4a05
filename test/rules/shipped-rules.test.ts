// The shipped rules decide which runbook a failure goes to: a crash loop
// whose container was OOMKilled is a memory problem (oom-killed), not a bad
// release (crashloop-backoff → bad-deploy would roll back to no avail).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { loadRules } from '../../src/rules/index.ts';

const rules = loadRules(fileURLToPath(new URL('../../rules', import.meta.url)));
const rule = (name: string) => {
  const r = rules.find((x) => x.rule.metadata.name === name);
  assert.ok(r, name);
  return r;
};

function pod(lastReason: string | undefined, memoryLimit: string | null = '512Mi') {
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name: 'report-worker-abc', namespace: 'reports', ownerReferences: [{ kind: 'ReplicaSet', name: 'report-worker-5d9', controller: true }] },
    spec: { containers: [{ name: 'worker', image: 'reports/worker:3.2', ...(memoryLimit ? { resources: { limits: { memory: memoryLimit } } } : {}) }] },
    status: {
      phase: 'Running',
      containerStatuses: [{
        name: 'worker', restartCount: 3, ready: false,
        state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 40s restarting failed container' } },
        ...(lastReason ? { lastState: { terminated: { reason: lastReason, exitCode: lastReason === 'OOMKilled' ? 137 : 2 } } } : {}),
      }],
    },
  };
}

test('a crash loop after an OOMKill goes to oom-killed, not to the bad-deploy rollback', { timeout: 10_000 }, () => {
  const vars = { cluster: 'sandbox', object: pod('OOMKilled') };
  assert.equal(rule('crashloop-backoff').compiled.when(vars), false);
  assert.equal(rule('oom-killed').compiled.when(vars), true);
  assert.deepEqual(rule('oom-killed').rule.spec.action, { runbook: 'oom-killed', params: {} });
});

test('a container without a memory limit killed for memory is the node running out: not oom-killed (raising a limit it does not have), the node rules contain it', { timeout: 10_000 }, () => {
  const vars = { cluster: 'sandbox', object: pod('OOMKilled', null) };
  assert.equal(rule('oom-killed').compiled.when(vars), false);
  assert.equal(rule('crashloop-backoff').compiled.when(vars), false, 'nor a bad deploy: its last termination was OOMKilled');
});

test('a crash loop after a crash (or with no last state yet) is the bad-deploy path', { timeout: 10_000 }, () => {
  for (const last of ['Error', undefined]) {
    const vars = { cluster: 'sandbox', object: pod(last) };
    assert.equal(rule('crashloop-backoff').compiled.when(vars), true, String(last));
    assert.equal(rule('oom-killed').compiled.when(vars), false, String(last));
  }
});
