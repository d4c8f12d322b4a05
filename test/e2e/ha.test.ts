// High availability with real processes: two `kubemend serve` replicas on
// one PostgreSQL database watch the sandbox (over HTTP) and elect a leader
// on its Lease API. The leader remediates the crash loop; killed with
// SIGKILL mid-run (during the smoke check, after the rollback), the follower
// takes the lease within leaseDuration + retryPeriod, adopts the run and
// finishes it. The sandbox's request log proves the rollback reached the
// API server once, and the store holds one run, resumed under the new term.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openStore } from '../../src/store/index.ts';
import { Sandbox } from '../../src/sandbox/cluster.ts';
import { SANDBOX_CONTEXT } from '../../src/sandbox/kubeconfig.ts';
import { resolveScenario, ScenarioRunner, sandboxOptionsFor } from '../../src/sandbox/scenarios/index.ts';
import { metric, scrape, startServe, until, type ServeProcess } from '../helpers/serve-process.ts';
import { createPgDatabase, pgSkip } from '../audit/helpers.ts';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
// Short lease settings keep the test fast; failover is asserted against them.
const LEASE_MS = 3_000;
const RENEW_MS = 2_000;
const RETRY_MS = 500;

interface LeaderView {
  enabled: boolean;
  leading: boolean;
  identity: string;
  holder?: string;
  term?: number;
}

const leader = async (s: ServeProcess): Promise<LeaderView> => (await fetch(`${s.base}/leader`)).json() as Promise<LeaderView>;

test('two serve replicas on one PostgreSQL: kill -9 the leader mid-run, the follower takes over in time and finishes the run; no step runs twice', { skip: pgSkip, timeout: 240_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'km-ha-'));
  const rules = join(dir, 'rules');
  mkdirSync(rules);
  // The shipped rule with a short smoke window: the run is mid-smoke-check for a few real seconds.
  const rule = readFileSync(here('../../rules/crashloop-backoff.yaml'), 'utf8');
  assert.ok(rule.includes('    runbook: bad-deploy\n'));
  writeFileSync(join(rules, 'crashloop.yaml'), rule.replace('    runbook: bad-deploy\n', '    runbook: bad-deploy\n    params: { smokeWindow: 6s }\n'));
  const { scenario } = resolveScenario('crashloop');
  const sandbox = new Sandbox(sandboxOptionsFor(scenario, { speed: 30 }));
  await sandbox.listen();
  // Started once both replicas serve: a slow start (a busy machine) must not let the leader finish before the kill.
  const runner = new ScenarioRunner(sandbox, scenario);
  const kc = join(dir, 'kubeconfig');
  writeFileSync(kc, sandbox.kubeconfig());
  const db = await createPgDatabase();
  const cfg = join(dir, 'kubemend.yaml');
  writeFileSync(cfg, [
    'apiVersion: kubemend.dev/v1alpha1',
    'kind: Config',
    'spec:',
    `  clusters: { kubeconfig: ${kc}, contexts: [${SANDBOX_CONTEXT}] }`,
    `  rules: ${rules}`,
    `  runbooks: ${here('../../runbooks')}`,
    `  chat: { defaultCluster: ${SANDBOX_CONTEXT} }`,
    '  server: { listen: "127.0.0.1:0" }',
    `  store: { db: "${db.url}" }`,
    `  leaderElection: { enabled: true, namespace: default, name: kubemend, leaseDuration: ${LEASE_MS}ms, renewDeadline: ${RENEW_MS}ms, retryPeriod: ${RETRY_MS}ms }`,
    '',
  ].join('\n'));
  // One data directory: one audit signing key for the chain both replicas append to.
  const args = ['--config', cfg, '--data-dir', join(dir, 'data')];
  const store = await openStore({ db: db.url, dataDir: join(dir, 'data') });
  const replicas: ServeProcess[] = [];
  try {
    const a = await startServe(args);
    replicas.push(a);
    await a.waitFor(/leader election: this replica leads \(Lease default\/kubemend, term 0\)/, 'the first replica to lead');
    const b = await startServe(args);
    replicas.push(b);
    const aView = await leader(a);
    await until('the follower to see the leader', async () => (await leader(b)).holder === aView.identity, 10_000);
    assert.equal((await leader(b)).leading, false);
    assert.match(b.output(), /leader:? +http:\/\/\S+\/leader/, 'the /leader endpoint is announced');
    const ready = await (await fetch(`${b.base}/readyz`)).json() as { leader?: LeaderView };
    assert.equal(ready.leader?.leading, false, '/readyz shows a follower (ready: it serves chat and webhooks)');
    assert.equal(metric(await scrape(b.base), 'kubemend_leader'), 0);
    runner.start();

    // The leader remediates: wait until the rollback has landed and the smoke check is under way.
    const run = await until('a bad-deploy run in its smoke check', async () => {
      const r = (await store.listRuns({})).find((x) => x.runbook === 'bad-deploy');
      return r && (await store.transitions(r.id)).some((t) => t.stepId === 'smokeCheck' && t.status === 'started') ? r : undefined;
    }, 90_000, () => a.output().slice(-3000));
    assert.equal(run.fence?.holder, aView.identity, 'the leader drives it');
    assert.equal(run.status, 'running');

    const killedAt = Date.now();
    await a.kill9();
    await until('the follower to lead', async () => (await leader(b)).leading, 20_000, () => b.output().slice(-3000));
    const lease = sandbox.store.get('coordination.k8s.io/leases', 'default', 'kubemend') as { spec: { holderIdentity: string; acquireTime: string; leaseTransitions: number } };
    const failoverMs = Date.parse(lease.spec.acquireTime) - killedAt;
    console.log(`failover: ${failoverMs} ms from kill -9 to the follower's acquireTime (bound: leaseDuration ${LEASE_MS} + retryPeriod ${RETRY_MS} = ${LEASE_MS + RETRY_MS} ms)`);
    assert.ok(failoverMs < LEASE_MS + RETRY_MS, `failover took ${failoverMs}ms`);
    assert.equal(lease.spec.holderIdentity, (await leader(b)).identity);
    assert.equal(lease.spec.leaseTransitions, 1);

    const done = await until('the follower to finish the run', async () => {
      const r = await store.getRun(run.id);
      return r && r.status !== 'running' ? r : undefined;
    }, 60_000, () => b.output().slice(-3000));
    assert.equal(done.status, 'succeeded', b.output().slice(-3000));
    assert.deepEqual(done.fence, { holder: lease.spec.holderIdentity, term: 1 });

    // No step ran twice: one rollback reached the API server, and the store agrees.
    const rollbacks = sandbox.api!.requestLog.filter((e) => e.method === 'PATCH' && e.resource === 'apps/deployments' && e.name === 'checkout');
    assert.equal(rollbacks.length, 1, 'one rollback PATCH reached the API server');
    const ts = await store.transitions(run.id);
    const count = (step: string, status: string) => ts.filter((t) => t.stepId === step && t.status === status).length;
    assert.equal(count('rollback', 'started'), 1);
    assert.equal(count('rollback', 'succeeded'), 1);
    assert.equal(count('notify', 'succeeded'), 1);
    assert.equal(count('smokeCheck', 'succeeded'), 1, 'the smoke check (a read) was taken again by the new leader and passed once');
    assert.deepEqual((await store.listRuns({})).map((r) => r.runbook), ['bad-deploy'], 'the follower never started a run of its own');
    assert.equal(sandbox.store.get('apps/deployments', 'shop', 'checkout')!.spec.template.spec.containers[0].image, 'shop/checkout:1.4.2');

    const resumed = await store.audit.list({ action: 'runbook.run.resumed' });
    assert.equal(resumed.length, 1);
    assert.equal(resumed[0].data?.from, `${aView.identity} (term 0)`);
    assert.deepEqual((await store.audit.list({ action: 'leader.elected' })).map((e) => e.data?.identity), [aView.identity, lease.spec.holderIdentity]);
    const m = await scrape(b.base);
    assert.equal(metric(m, 'kubemend_leader'), 1);
    assert.equal(metric(m, 'kubemend_leader_transitions_total', { to: 'leader' }), 1);
    assert.ok((await store.audit.verify()).ok);

    // A clean stop releases the lease on the record.
    assert.equal(await b.stop(), 0, b.output().slice(-3000));
    const released = sandbox.store.get('coordination.k8s.io/leases', 'default', 'kubemend') as { spec: { holderIdentity?: string } };
    assert.equal(released.spec.holderIdentity ?? '', '');
    assert.equal((await store.audit.list({ action: 'leader.lost' })).at(-1)?.data?.reason, 'this process is stopping');
  } finally {
    for (const r of replicas) await r.kill9();
    runner.stop();
    await store.close();
    await sandbox.stop();
    await db.drop();
  }
});
