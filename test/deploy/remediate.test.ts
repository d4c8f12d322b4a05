// kubemend running as the deployment runs it, under least privilege: deploy/
// applied with kubectl to a sandbox that enforces RBAC and replays the
// crashloop scenario, `kubemend serve` started (a child process) with the
// pod's configuration as its ConfigMaps mount it and a kubeconfig carrying
// only the token of `kubectl create token kubemend -n kubemend`. It rolls the
// bad deploy back without one refused request. With `patch` on deployments
// taken from the remediator's ClusterRole, the rollback fails with an error
// naming the missing permission, nothing changes, and the run escalates.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openStore, type SqlStore } from '../../src/store/index.ts';
import { resolveScenario, ScenarioRunner, sandboxOptionsFor } from '../../src/sandbox/scenarios/index.ts';
import type { RunRecord } from '../../src/store/types.ts';
import { type Cluster, skipKubectl, startCluster } from '../conformance/cluster.ts';
import { until } from '../helpers/serve-process.ts';
import { REMEDIATOR, ROOT, SA, materialize, overlay, render, tokenKubeconfig } from './fixture.ts';

const BIN = join(ROOT, 'bin/kubemend.js');

interface Serving {
  c: Cluster;
  runner: ScenarioRunner;
  store: SqlStore;
  child: ReturnType<typeof spawn>;
  output: () => string;
  stop(): Promise<void>;
}

/** The crashloop scenario on a sandbox enforcing RBAC, deploy/ applied, and `kubemend serve` as the ServiceAccount. */
async function serveAsServiceAccount(beforeServe?: (c: Cluster) => Promise<void>): Promise<Serving> {
  const { scenario } = resolveScenario('crashloop');
  const c = await startCluster({ ...sandboxOptionsFor(scenario, { speed: 30 }), rbac: 'enforce' });
  const runner = new ScenarioRunner(c.sandbox, scenario).start();
  await c.kubectl('apply', '-k', overlay('single'));
  // The sandbox runs no real containers: kubemend runs beside it, as a process with the ServiceAccount's token.
  await c.kubectl('scale', 'deployment', 'kubemend', '-n', 'kubemend', '--replicas=0');
  await beforeServe?.(c);
  // Virtual time runs 30 times faster: a day of it lasts the test.
  const token = (await c.kubectl('create', 'token', 'kubemend', '-n', 'kubemend', '--duration=24h')).trim();
  const kubeconfig = c.file('kubemend-sa.kubeconfig', tokenKubeconfig(c.url, token));
  const mounts = join(c.dir, 'etc-kubemend');
  const config = materialize(await render(overlay('single')), mounts);
  // The pod's files, but a smoke window of seconds: kubemend's clock is real time, the sandbox's runs 30x.
  // Every rule that starts bad-deploy gets it: crashloop-backoff or rollout-stuck may fire first (the
  // default 2m window would outlast endedRun's wait).
  assert.match(readFileSync(join(mounts, 'rules/crashloop-backoff.yaml'), 'utf8'), /^ {4}runbook: bad-deploy\n/m);
  for (const name of readdirSync(join(mounts, 'rules'))) {
    const rule = join(mounts, 'rules', name);
    const text = readFileSync(rule, 'utf8');
    if (/^ {4}runbook: bad-deploy\n/m.test(text)) writeFileSync(rule, text.replace(/^ {4}runbook: bad-deploy\n/m, '    runbook: bad-deploy\n    params: { smokeWindow: 5s }\n'));
  }
  const data = join(c.dir, 'data');
  mkdirSync(data);
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('KUBEMEND_')));
  const child = spawn(process.execPath, [BIN, 'serve', '--config', config, '--listen', '127.0.0.1:0', '--data-dir', data], { env: { ...env, KUBECONFIG: kubeconfig }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise((r) => child.on('exit', r));
  const store = await openStore({ dataDir: data });
  return {
    c, runner, store, child, output: () => out,
    async stop() {
      child.kill('SIGTERM');
      await exited;
      runner.stop();
      await store.close();
      await c.stop();
    },
  };
}

/** The bad-deploy run once it has ended. */
async function endedRun(s: Serving, timeoutMs = 120_000): Promise<RunRecord> {
  const t0 = Date.now();
  for (;;) {
    const run = (await s.store.listRuns({})).find((r) => r.runbook === 'bad-deploy' && r.status !== 'running');
    if (run) return run;
    if (s.child.exitCode !== null) throw new Error(`kubemend serve exited ${s.child.exitCode}:\n${s.output()}`);
    if (Date.now() - t0 > timeoutMs) throw new Error(`no bad-deploy run ended within ${timeoutMs / 1000}s:\n${s.output()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const image = (s: Serving) => s.c.sandbox.store.get('apps/deployments', 'shop', 'checkout')!.spec.template.spec.containers[0].image;

// The two run side by side: each has its own sandbox, directory and serve process, and most of their time is waiting.
describe('kubemend in the cluster, as its ServiceAccount', { skip: skipKubectl, timeout: 300_000, concurrency: true }, () => {
  it('remediates the crashloop scenario with the shipped manifests\' rights, and no request of its is refused', async (t) => {
    const s = await serveAsServiceAccount();
    t.after(() => s.stop());
    const run = await endedRun(s);
    assert.equal(run.status, 'succeeded', s.output());
    assert.equal(image(s), 'shop/checkout:1.4.2', 'rolled back');
    const log = s.c.sandbox.api!.requestLog;
    const ours = log.filter((e) => e.authenticated === SA);
    assert.ok(ours.some((e) => e.verb === 'watch' && e.resource === 'pods'), 'it watches as its ServiceAccount');
    const rollback = log.filter((e) => e.method === 'PATCH' && e.resource === 'apps/deployments' && e.name === 'checkout');
    assert.deepEqual(rollback.map((e) => [e.authenticated, e.user, e.code]), [[SA, REMEDIATOR, 200]], 'the rollback is the remediator\'s, impersonated by the ServiceAccount');
    const refused = ours.filter((e) => e.code === 401 || e.code === 403).map((e) => `${e.code} ${e.method} ${e.path} as ${e.user ?? SA}`);
    assert.deepEqual(refused, [], 'least privilege, but enough');
    assert.ok(log.every((e) => e.authenticated !== undefined), 'every request authenticated');
  });

  it('without patch on deployments the rollback fails naming the missing permission, nothing changes, and the run escalates', async (t) => {
    const s = await serveAsServiceAccount(async (c) => {
      const role = JSON.parse(await c.kubectl('get', 'clusterrole', 'kubemend-remediator', '-o', 'json'));
      // deployments keep get; patch stays for the other workloads and the scale subresources.
      role.rules = role.rules.flatMap((r: any) => (r.resources?.includes('deployments')
        ? [{ ...r, resources: r.resources.filter((x: string) => x !== 'deployments') }, { apiGroups: ['apps'], resources: ['deployments'], verbs: ['get'] }]
        : [r]));
      await c.kubectl('replace', '-f', c.file('remediator-without-patch.json', JSON.stringify(role)));
      assert.equal((await c.kubectlResult('auth', 'can-i', 'patch', 'deployments.apps', '-n', 'shop', `--as=${REMEDIATOR}`)).stdout.trim(), 'no');
    });
    t.after(() => s.stop());
    const run = await endedRun(s);
    assert.equal(run.status, 'escalated', s.output());
    const failed = (await s.store.transitions(run.id)).find((t) => t.stepId === 'rollback' && t.status === 'failed')!;
    assert.equal(failed.error, `RBAC_DENIED: missing RBAC permission: "${REMEDIATOR}" may not patch deployments (API group "apps") in namespace "shop" — `
      + 'PATCH /apis/apps/v1/namespaces/shop/deployments/checkout: deployments.apps "checkout" is forbidden: '
      + `User "${REMEDIATOR}" cannot patch resource "deployments" in API group "apps" in the namespace "shop"`);
    assert.equal(image(s), 'shop/checkout:1.5.0', 'nothing was rolled back');
    const escalated = await s.store.audit.list({ action: 'runbook.run.escalated' });
    assert.equal(escalated.length, 1);
    assert.match(String(escalated[0].data?.reason), /step rollback failed/);
    // The escalation goes out through the outbox after the run has ended.
    await until('the escalation to be sent', () => /Escalation: bad-deploy on/.test(s.output()), 30_000, s.output);
    assert.match(s.output(), /KM-ACTION-052|RBAC_DENIED/, 'and logged with its code');
  });
});
