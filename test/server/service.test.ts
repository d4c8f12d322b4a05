// `kubemend serve` is the service: one process, real parts. A silence made
// while it runs suppresses the next remediation; a real Alertmanager starts
// a runbook; /metrics moves during a crash loop; a broken rule file is
// refused with file:line while the running rules keep working.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openStore } from '../../src/store/index.ts';
import { metric, scrape, startServe, until, type ServeProcess } from '../helpers/serve-process.ts';
import { findAlertmanager, freePort, NO_ALERTMANAGER } from '../helpers/alertmanager.ts';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const BIN = here('../../bin/kubemend.js');

/**
 * The crashloop scenario without its bad deploy: the test deploys 1.5.0 itself
 * (`deployBadVersion`) once what it must prove comes first has happened, so
 * the order holds by construction instead of by a real-time margin.
 */
function crashloopWithoutDeploy(dir: string): string {
  const file = join(dir, 'crashloop.yaml');
  const text = readFileSync(here('../../scenarios/crashloop.yaml'), 'utf8');
  const step = /\n {4}- at: 1m\n[\s\S]*?(?=\n {2}milestones:)/;
  assert.match(text, step, 'the crashloop scenario still has its bad deploy at 1m');
  // Long enough that the scenario outlives every test.
  writeFileSync(file, text.replace(step, '').replace('duration: 6m', 'duration: 20m'));
  return file;
}

/** What the scenario's 1m step does, as a user would: a patch to the Deployment through the sandbox's API. */
async function deployBadVersion(s: ServeProcess): Promise<void> {
  await s.waitFor(/scenario crashloop: checkout 1\.4\.2 runs with 3 replicas/, 'the healthy release');
  const sandboxUrl = /sandbox at (http:\/\/\S+)/.exec(s.output())![1];
  const res = await fetch(`${sandboxUrl}/apis/apps/v1/namespaces/shop/deployments/checkout`, {
    method: 'PATCH',
    headers: { authorization: 'Bearer deployer', 'content-type': 'application/strategic-merge-patch+json' },
    body: JSON.stringify({ spec: { template: { spec: { containers: [{ name: 'checkout', image: 'shop/checkout:1.5.0' }] } } } }),
  });
  assert.equal(res.status, 200, await res.text());
}

function config(dir: string, spec: string): string {
  const file = join(dir, 'kubemend.yaml');
  writeFileSync(file, `apiVersion: kubemend.dev/v1alpha1\nkind: Config\nspec:\n${spec}`);
  return file;
}

async function withServe(args: string[], env: NodeJS.ProcessEnv, fn: (s: ServeProcess) => Promise<void>): Promise<void> {
  const s = await startServe(args, env);
  try {
    await fn(s);
  } finally {
    const code = await s.stop();
    assert.equal(code, 0, `serve exited ${code}:\n${s.output().slice(-3000)}`);
  }
}

// These tests share nothing (each its own serve, data directory and ports) and
// mostly wait on virtual time, and none races a real-time window: they run
// side by side.
describe('kubemend serve', { concurrency: true, timeout: 180_000 }, () => {
  test('a silence created while serve runs suppresses the next matching remediation, and both are audited', { timeout: 180_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'km-svc-silence-'));
    const data = join(dir, 'data');
    const cfg = config(dir, '  silences: { syncInterval: 1s }\n');
    await withServe(['--config', cfg, '--sandbox', '--scenario', crashloopWithoutDeploy(dir), '--speed', '20', '--listen', '127.0.0.1:0', '--data-dir', data], {}, async (s) => {
      execFileSync(process.execPath, [BIN, 'silence', 'add', '--matcher', 'namespace=shop', '--matcher', 'rule=~"crash.*"', '--duration', '2h', '--comment', 'OPS-7 known bad build', '--author', 'alice', '--data-dir', data]);
      await s.waitFor(/silences: 1 active \(from the store\)/, 'the running service to pick the silence up');
      // The bad deploy comes only now, so the silence is in force before it on any machine.
      await deployBadVersion(s);
      await s.waitFor(/detection silenced: crashloop-backoff deployment\/shop\/checkout/, 'the crash loop detected as silenced', 90_000);
      assert.ok(metric(await scrape(s.base), 'kubemend_suppressed_total', { reason: 'silence' }) >= 1, 'counted as suppressed by a silence');
      // Another virtual minute for a remediation to start, if the silence had not held.
      await new Promise((r) => setTimeout(r, 3000));
      assert.doesNotMatch(s.output(), /run \w+ bad-deploy/, 'no bad-deploy run');
    });
    const store = await openStore({ dataDir: data });
    try {
      assert.deepEqual((await store.listRuns({})).map((r) => r.runbook), []);
      const created = await store.audit.list({ action: 'silence.created' });
      assert.equal(created.length, 1);
      assert.equal(created[0].actor.name, 'alice');
      const silenced = await store.audit.list({ action: 'detection.silenced' });
      assert.ok(silenced.some((a) => a.data?.silencedBy === created[0].data?.silenceId), 'the detection names the silence');
      assert.ok((await store.audit.verify()).ok);
    } finally {
      await store.close();
    }
  });

  test('serve remediates the crash loop, /metrics moves, /readyz and /healthz answer', { timeout: 120_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'km-svc-metrics-'));
    const data = join(dir, 'data');
    await withServe(['--sandbox', '--scenario', 'crashloop', '--speed', '30', '--listen', '127.0.0.1:0', '--data-dir', data], {}, async (s) => {
      assert.equal((await fetch(`${s.base}/healthz`)).status, 200);
      const ready = await until('ready', async () => ((await fetch(`${s.base}/readyz`)).status === 200 ? true : undefined), 10_000);
      assert.ok(ready);
      await s.waitFor(/run \w+ bad-deploy succeeded/, 'the rollback run to succeed', 90_000);
      const after = await scrape(s.base);
      // A fresh process: every counter started at 0.
      const grew = (name: string, labels: Record<string, string> = {}) => assert.ok(metric(after, name, labels) > 0, `${name} ${JSON.stringify(labels)} moved: ${metric(after, name, labels)}`);
      grew('kubemend_signals_total', { source: 'object', kind: 'Pod' });
      grew('kubemend_detections_total', { rule: 'crashloop-backoff', change: 'opened' });
      grew('kubemend_runs_total', { runbook: 'bad-deploy', outcome: 'succeeded' });
      grew('kubemend_step_duration_seconds_count', { action: 'k8s.rollback' });
      grew('kubemend_kube_requests_total', { verb: 'patch' });
      grew('kubemend_audit_append_seconds_count');
      assert.ok(metric(after, 'kubemend_informer_objects', { cluster: 'sandbox', kind: 'Pod' }) > 0);
      assert.equal(metric(after, 'kubemend_leader'), 1);
    });
  });

  test('hot reload: a broken rule file is refused with file:line and the running rules keep working; the fixed file is picked up', { timeout: 120_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'km-svc-reload-'));
    const rules = join(dir, 'rules');
    mkdirSync(rules);
    writeFileSync(join(rules, 'crashloop.yaml'), readFileSync(here('../../rules/crashloop-backoff.yaml'), 'utf8'));
    const cfg = config(dir, '  rules: ./rules\n  reload: { interval: 200ms }\n  remediation: { enabled: false }\n');
    const data = join(dir, 'data');
    await withServe(['--config', cfg, '--sandbox', '--scenario', crashloopWithoutDeploy(dir), '--speed', '20', '--listen', '127.0.0.1:0', '--data-dir', data], {}, async (s) => {
      await s.waitFor(/detection\s+1 rules/, 'the announced rules');
      const broken = join(rules, 'pending.yaml');
      writeFileSync(broken, 'apiVersion: kubemend.dev/v1alpha1\nkind: Rule\nmetadata: { name: pending-too-long }\nspec:\n  source: object\n  match: { kinds: [Pod] }\n  when: "object.status.phase == "\n  severity: warning\n');
      await s.waitFor(/refused the change to rules/, 'the refusal');
      assert.match(s.output(), new RegExp(`${broken.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:7 spec\\.when`), 'the refusal names file:line and the field');
      // The running rule still detects the crash loop of a deploy made after the refusal.
      await deployBadVersion(s);
      await s.waitFor(/detection opened: crashloop-backoff deployment\/shop\/checkout/, 'the old rules to keep working');
      writeFileSync(broken, readFileSync(here('../../rules/pending-too-long.yaml'), 'utf8'));
      await s.waitFor(/reloaded rules from .*: 2 rules/, 'the fixed file to be picked up');
    });
    const store = await openStore({ dataDir: data });
    try {
      const refused = await store.audit.list({ action: 'config.reload.refused' });
      assert.equal(refused.length, 1);
      assert.match(String(refused[0].data?.error), /pending\.yaml:7/);
      assert.equal((await store.audit.list({ action: 'config.reloaded' })).length, 1);
    } finally {
      await store.close();
    }
  });

  // ---- A real Alertmanager posting to serve ----

  const AM = findAlertmanager();

  test('an alert from a real Alertmanager starts a runbook in serve', { skip: AM ? false : NO_ALERTMANAGER, timeout: 120_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'km-svc-am-'));
    const rules = join(dir, 'rules');
    mkdirSync(rules);
    writeFileSync(join(rules, 'checkout-errors.yaml'), [
      'apiVersion: kubemend.dev/v1alpha1',
      'kind: Rule',
      'metadata: { name: checkout-error-budget }',
      'spec:',
      '  source: alert',
      '  match: { alertNames: [CheckoutErrorBudgetBurn] }',
      '  when: alert.status == "firing"',
      `  subject: "{'kind': 'Deployment', 'namespace': alert.labels.namespace, 'name': alert.labels.deployment}"`,
      '  severity: critical',
      '  action: { runbook: bad-deploy, params: { smokeWindow: 20s } }',
      '',
    ].join('\n'));
    const cfg = config(dir, '  rules: ./rules\n  webhooks:\n    alertmanager: { bearerTokenEnv: AM_TOKEN }\n');
    const data = join(dir, 'data');
    const token = 'alertmanager-to-kubemend';
    let am: ChildProcess | undefined;
    let amLog = '';
    await withServe(['--config', cfg, '--sandbox', '--scenario', crashloopWithoutDeploy(dir), '--speed', '10', '--listen', '127.0.0.1:0', '--data-dir', data], { AM_TOKEN: token }, async (s) => {
      // Without the token the receiver refuses.
      const anon = await fetch(`${s.base}/webhooks/alertmanager`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      assert.equal(anon.status, 401);
      writeFileSync(join(dir, 'am.yml'), [
        'route: { receiver: kubemend, group_by: [alertname], group_wait: 0s, group_interval: 1s, repeat_interval: 1h }',
        'receivers:',
        '  - name: kubemend',
        '    webhook_configs:',
        `      - url: ${s.base}/webhooks/alertmanager`,
        '        send_resolved: true',
        `        http_config: { authorization: { credentials: ${token} } }`,
        '',
      ].join('\n'));
      const amPort = await freePort();
      am = spawn(AM!, [`--config.file=${join(dir, 'am.yml')}`, `--storage.path=${join(dir, 'am-data')}`, `--web.listen-address=127.0.0.1:${amPort}`, '--cluster.listen-address='], { stdio: ['ignore', 'ignore', 'pipe'] });
      am.stderr!.on('data', (b) => (amLog += b));
      const amBase = `http://127.0.0.1:${amPort}`;
      await until('Alertmanager ready', async () => (await fetch(`${amBase}/-/ready`).catch(() => undefined))?.ok, 15_000, () => amLog);
      await deployBadVersion(s);
      const res = await fetch(`${amBase}/api/v2/alerts`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify([{ labels: { alertname: 'CheckoutErrorBudgetBurn', namespace: 'shop', deployment: 'checkout', severity: 'critical' }, annotations: { summary: '5xx above budget' } }]),
      });
      assert.equal(res.status, 200);
      await s.waitFor(/detection opened: checkout-error-budget deployment\/shop\/checkout/, 'the alert as a detection', 30_000);
      await s.waitFor(/run \w+ bad-deploy step rollback: succeeded/, 'the runbook to roll back', 60_000);
    }).finally(() => am?.kill('SIGTERM'));
    const store = await openStore({ dataDir: data });
    try {
      const [run] = await store.listRuns({ runbook: 'bad-deploy' });
      assert.equal(run.startedBy.name, 'checkout-error-budget');
      assert.ok((await store.audit.verify()).ok);
    } finally {
      await store.close();
    }
  });
});

// Alone, after the others: it must catch a run inside a smoke window of a few real seconds.
test('kill -9 of serve --sandbox mid-run: the restart resumes the run from its last completed step, nothing repeats, the chain verifies', { timeout: 180_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'km-svc-kill-'));
  const rules = join(dir, 'rules');
  mkdirSync(rules);
  // The shipped rule with a longer smoke window, so the run is mid-smoke-check for a couple of real seconds.
  writeFileSync(join(rules, 'crashloop.yaml'), readFileSync(here('../../rules/crashloop-backoff.yaml'), 'utf8').replace('action: { runbook: bad-deploy }', 'action: { runbook: bad-deploy, params: { smokeWindow: 90s } }'));
  const cfg = config(dir, '  rules: ./rules\n');
  const data = join(dir, 'data');
  const args = ['--config', cfg, '--sandbox', '--scenario', 'crashloop', '--speed', '30', '--state-file', join(dir, 'sandbox.state'), '--listen', '127.0.0.1:0', '--data-dir', data];
  const first = await startServe(args);
  const store = await openStore({ dataDir: data });
  try {
    const runId = await until('a smoke check in progress', async () => {
      const run = (await store.listRuns({})).find((r) => r.runbook === 'bad-deploy');
      const ts = run ? await store.transitions(run.id) : [];
      return ts.some((t) => t.stepId === 'smokeCheck' && t.status === 'started') ? run!.id : undefined;
    }, 60_000, first.output);
    await first.kill9();
    assert.equal((await store.getRun(runId))!.status, 'running', 'the run was in flight when serve died');

    const second = await startServe(args);
    try {
      await second.waitFor(/sandbox restored from .*sandbox\.state/, 'the sandbox restored');
      await second.waitFor(/resuming 1 run\(s\) that were in flight/, 'the resume');
      await second.waitFor(new RegExp(`run ${runId.slice(0, 8)} bad-deploy succeeded`), 'the resumed run to finish', 90_000);
      const sandboxUrl = /sandbox at (http:\/\/\S+)/.exec(second.output())![1];
      const dep = await (await fetch(`${sandboxUrl}/apis/apps/v1/namespaces/shop/deployments/checkout`, { headers: { authorization: 'Bearer x' } })).json() as { spec: { template: { spec: { containers: { image: string }[] } } } };
      assert.equal(dep.spec.template.spec.containers[0].image, 'shop/checkout:1.4.2', 'the rollback the first process made survived its death');
    } finally {
      assert.equal(await second.stop(), 0, second.output().slice(-3000));
    }
    const ts = await store.transitions(runId);
    for (const step of ['collect', 'rollback', 'waitRollout']) {
      assert.equal(ts.filter((t) => t.stepId === step && t.status === 'started').length, 1, `${step} ran once`);
    }
    assert.ok(ts.some((t) => t.stepId === 'notify' && t.status === 'succeeded'));
    assert.equal((await store.getRun(runId))!.status, 'succeeded');
    assert.equal((await store.audit.list({ action: 'runbook.run.resumed' })).length, 1);
    assert.equal((await store.listRuns({ runbook: 'bad-deploy' })).length, 1, 'the restart started no second run');
    assert.ok((await store.audit.verify()).ok);
  } finally {
    await first.kill9();
    await store.close();
  }
});
