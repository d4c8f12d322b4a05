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
  assert.deepEqual(rule('oom-killed').rule.spec.action, { runbook: 'oom-killed', params: {}, mode: 'auto' });
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

function replicaSet(name: string, deployment: string, hash: string) {
  return { apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name, namespace: 'reports', labels: { 'pod-template-hash': hash }, ownerReferences: [{ kind: 'Deployment', name: deployment, controller: true }] } };
}

test('crashloop-backoff rolls back only a Deployment with a previous revision: on its first one the rollback is withheld', { timeout: 10_000 }, () => {
  const cl = rule('crashloop-backoff');
  const withRs = (...rss: object[]) => ({ cluster: 'sandbox', object: pod('Error'), lookup: (kind: string) => (kind === 'ReplicaSet' ? rss : []) as never });
  const own = replicaSet('report-worker-5d9', 'report-worker', '5d9');
  assert.equal(cl.compiled.actionWhen!(withRs(own)), false, 'only its own ReplicaSet: nothing to roll back to');
  assert.equal(cl.compiled.actionWhen!(withRs(own, replicaSet('report-worker-api-77f', 'report-worker-api', '77f'))), false, "another Deployment's ReplicaSet is not a previous revision");
  assert.equal(cl.compiled.actionWhen!(withRs(own, replicaSet('report-worker-41c', 'report-worker', '41c'))), true, 'an earlier ReplicaSet of the same Deployment');
  assert.match(String((cl.rule.spec.action as { skipReason?: string }).skipReason), /no previous revision/);
});

test('rollout-regression offers the rollback (never starts it) and only where a previous healthy Deployment revision exists', { timeout: 10_000 }, () => {
  const rr = rule('rollout-regression');
  const action = rr.rule.spec.action as { runbook: string; mode: string };
  assert.equal(action.runbook, 'bad-deploy');
  assert.equal(action.mode, 'offer');
  const report = (kind: string, previous?: { healthy: boolean }) => ({
    cluster: 'sandbox',
    rollout: {
      phase: 'failed',
      change: { workload: { kind, namespace: 'shop', name: 'checkout' }, summary: 'image a:1 → a:2 (container a)', images: {}, at: 0, observedAt: 0, ...(previous ? { previous: { ...previous, images: {}, readyReplicas: 3 } } : {}) },
      regressions: [{ type: 'restart', pod: 'p', message: 'pod p container a exited (Error, exit 2)', time: 0 }],
    },
  });
  assert.equal(rr.compiled.when(report('Deployment', { healthy: true })), true);
  assert.equal(rr.compiled.actionWhen!(report('Deployment', { healthy: true })), true);
  assert.equal(rr.compiled.actionWhen!(report('Deployment', { healthy: false })), false, 'the previous revision was not serving');
  assert.equal(rr.compiled.actionWhen!(report('Deployment')), false, 'a new Deployment has no previous revision');
  assert.equal(rr.compiled.actionWhen!(report('StatefulSet', { healthy: true })), false, 'k8s.rollback rolls back Deployments only');
  assert.match(rr.compiled.summary!(report('Deployment', { healthy: true })), /^Deployment shop\/checkout regressed after its rollout \(image a:1 → a:2 \(container a\)\): pod p container a exited/);
});
