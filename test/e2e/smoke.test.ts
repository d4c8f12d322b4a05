// Smoke windows after rollouts that someone else makes: the real kubectl
// changes images on the sandbox, kubemend watches (the one pipeline, over
// HTTP, in virtual time) and judges each rollout's window. A regression
// opens one rollout-regression detection linked to the change; the rollback
// is offered, and only started where the rule says so and a healthy
// previous revision exists.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { openStore, type Store } from '../../src/store/index.ts';
import { loadRules, type Detection, type SmokeReport } from '../../src/rules/index.ts';
import { ACTIONS, loadRunbooks } from '../../src/runbooks/index.ts';
import { ScenarioSession } from '../../src/pipeline/index.ts';
import { resolveScenario } from '../../src/sandbox/index.ts';
import { hasKubectl } from '../helpers/kubectl.ts';

const run = promisify(execFile);
const skip = hasKubectl ? false : 'kubectl is not on PATH; these tests drive the sandbox with the real kubectl';
const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const runbooks = loadRunbooks(here('../../runbooks'), { actions: ACTIONS });
const KUBEMEND = 'system:serviceaccount:kubemend:remediator';
const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

const deployment = (name: string, namespace: string, annotations: Record<string, string> = {}) => `
        - apiVersion: apps/v1
          kind: Deployment
          metadata: { name: ${name}, namespace: ${namespace}, annotations: ${JSON.stringify(annotations)} }
          spec:
            replicas: 2
            selector: { matchLabels: { app: ${name} } }
            template:
              metadata: { labels: { app: ${name} } }
              spec:
                containers:
                  - name: web
                    image: shop/web:1
                    readinessProbe: { httpGet: { path: /healthz, port: 8080 } }
                    resources: { requests: { memory: 64Mi }, limits: { memory: 256Mi } }`;

const podSpec = `
              metadata: { labels: { app: NAME } }
              spec:
                containers:
                  - name: web
                    image: shop/web:1
                    resources: { requests: { memory: 64Mi }, limits: { memory: 256Mi } }`;

const others = `
        - apiVersion: apps/v1
          kind: StatefulSet
          metadata: { name: db, namespace: shop }
          spec:
            replicas: 2
            serviceName: db
            selector: { matchLabels: { app: db } }
            template:${podSpec.replace('NAME', 'db')}
        - apiVersion: apps/v1
          kind: DaemonSet
          metadata: { name: agent, namespace: shop }
          spec:
            selector: { matchLabels: { app: agent } }
            template:${podSpec.replace('NAME', 'agent')}`;

/** shop/web:1 and :2 are healthy; :crash exits at once; :oom needs more than its 256Mi limit; :unready never passes its probe. */
const SCENARIO = `
apiVersion: kubemend.dev/v1alpha1
kind: Scenario
metadata: { name: rollouts }
spec:
  duration: 1h
  images:
    shop/web:1: { readySeconds: 2 }
    shop/web:2: { readySeconds: 2 }
    shop/web:crash: { exitAfterSeconds: 2, exitCode: 1, exitLogs: ["panic: config missing"] }
    shop/web:oom: { memoryMi: 512 }
    shop/web:unready: { neverReady: true }
  steps:
    - at: 0s
      apply:
        - apiVersion: v1
          kind: Namespace
          metadata: { name: shop }
        - apiVersion: v1
          kind: Namespace
          metadata: { name: slow, annotations: { kubemend.dev/smoke-window: 10m } }${deployment('web', 'shop')}${deployment('quiet', 'shop', { 'kubemend.dev/smoke-window': 'off' })}${deployment('api', 'slow')}${others}
`;

const dir = mkdtempSync(join(tmpdir(), 'km-smoke-'));
const scenarioFile = join(dir, 'rollouts.yaml');
writeFileSync(scenarioFile, SCENARIO);

/** The shipped rollout-regression rule, or a copy of it in `mode: auto`. */
function rolloutRule(mode: 'offer' | 'auto') {
  const text = readFileSync(here('../../rules/rollout-regression.yaml'), 'utf8');
  const copy = mode === 'offer' ? text : text.replace('mode: offer', 'mode: auto');
  assert.ok(mode === 'offer' || copy !== text, 'the shipped rule offers its runbook');
  const file = join(mkdtempSync(join(tmpdir(), 'km-smoke-rule-')), 'rule.yaml');
  writeFileSync(file, copy);
  return loadRules(file);
}

interface Env {
  s: ScenarioSession;
  store: Store;
  kubectl: (...args: string[]) => Promise<string>;
  /** Ticks virtual seconds until `cond` holds (or `max` seconds pass); returns whether it held. */
  until: (cond: () => boolean | Promise<boolean>, max: number) => Promise<boolean>;
  opened: (rule?: string) => Detection[];
  smoke: (phase: string, name?: string) => Promise<SmokeReport[]>;
  kubemendMutations: () => string[];
}

async function withSession(rules: ReturnType<typeof loadRules>, fn: (e: Env) => Promise<void>): Promise<void> {
  const store = await openStore({ dataDir: mkdtempSync(join(tmpdir(), 'km-smoke-db-')) });
  // A 1m default window keeps the tests short; the namespace `slow` says 10m.
  const s = await ScenarioSession.start({ scenario: resolveScenario(scenarioFile).scenario, rules, runbooks, store, smoke: { windowMs: 60_000 } });
  const kc = join(mkdtempSync(join(tmpdir(), 'km-smoke-kc-')), 'kubeconfig');
  writeFileSync(kc, s.sandbox.kubeconfig());
  const env: Env = {
    s,
    store,
    kubectl: async (...args) => {
      const out = (await run('kubectl', ['--kubeconfig', kc, ...args], { encoding: 'utf8' })).stdout;
      await s.settle();
      return out;
    },
    async until(cond, max) {
      for (let i = 0; i < max; i++) {
        if (await cond()) return true;
        await s.tick();
      }
      return cond();
    },
    opened: (rule) => s.engine.detections().filter((d) => !rule || d.rule === rule),
    async smoke(phase, name) {
      // The recorder alone: a pipeline flush also waits for runs, which need virtual time to pass.
      await s.pipeline.recorder!.flush();
      return (await store.audit.list({ action: `smoke.${phase}` })).map((a) => a.data as unknown as SmokeReport).filter((r) => !name || r.change.workload.name === name);
    },
    kubemendMutations: () => s.sandbox.api!.requestLog.filter((e) => MUTATING.has(e.method) && e.user === KUBEMEND).map((e) => `${e.method} ${e.path}`),
  };
  try {
    // The Deployments created at the start are rollouts of their first revision: their windows pass first.
    assert.ok(await env.until(async () => (await env.smoke('passed', 'web')).length === 1, 120), 'the first revision of web passes its 1m window');
    await fn(env);
  } finally {
    await s.stop();
    await store.close();
  }
}

test('kubectl set image to a crash-looping image: one rollout-regression detection linked to the change, the rollback offered, not started', { skip, timeout: 180_000 }, async () => {
  await withSession(rolloutRule('offer'), async ({ s, store, kubectl, until, opened, smoke, kubemendMutations }) => {
    const before = s.clock.now();
    await kubectl('set', 'image', 'deployment/web', 'web=shop/web:crash', '-n', 'shop');
    assert.ok(await until(() => opened('rollout-regression').length > 0, 60), 'a regression is detected within the window');
    // Well past the window: the crash loop goes on, and still only one detection of it, with one occurrence.
    await until(() => false, 120);
    // Offered: nothing started, nothing changed by kubemend (checked before a flush, which would wait for a run).
    assert.deepEqual(await store.listRuns({}), []);
    assert.deepEqual(kubemendMutations(), []);
    await s.pipeline.flush();
    const ds = opened('rollout-regression');
    assert.equal(ds.length, 1);
    const d = ds[0];
    assert.equal(d.count, 1);
    assert.deepEqual(d.subject, { cluster: 'sandbox', kind: 'Deployment', namespace: 'shop', name: 'web', uid: d.subject.uid });
    const r = d.evidence[0].rollout!;
    assert.equal(d.evidence[0].type, 'rollout');
    assert.equal(r.phase, 'failed');
    assert.deepEqual(r.change.workload, { kind: 'Deployment', namespace: 'shop', name: 'web', uid: d.subject.uid });
    assert.equal(r.change.revision, '2');
    assert.deepEqual(r.change.previous, { revision: '1', images: { web: 'shop/web:1' }, healthy: true, readyReplicas: 2 });
    assert.deepEqual(r.change.images, { web: 'shop/web:crash' });
    assert.equal(r.change.summary, 'image shop/web:1 → shop/web:crash (container web)');
    assert.ok(r.change.at >= before && r.change.at <= r.window.opensAt, 'when the change was made');
    assert.equal(r.window.ms, 60_000);
    assert.equal(r.window.setBy, 'the default');
    assert.equal(r.regressions[0].type, 'restart');
    assert.match(r.regressions[0].message, /^pod web-[a-z0-9]+-[a-z0-9]+ container web exited \(Error, exit 1\)$/);
    assert.match(d.summary, /^Deployment shop\/web regressed after its rollout to revision 2 \(image shop\/web:1 → shop\/web:crash \(container web\), by kubectl-set\): pod web-/);
    assert.deepEqual(d.action, { runbook: 'bad-deploy', params: {}, mode: 'offer' });
    // Recorded and announced.
    const offered = await store.audit.list({ action: 'runbook.run.offered' });
    assert.equal(offered.length, 1);
    assert.equal(offered[0].detectionId, d.id);
    assert.ok(s.remediation.notifications.sent.some((n) => n.title === 'Offered: runbook bad-deploy for deployment/shop/web' && n.detectionId === d.id));
    // The window is on record: started, then failed with what regressed (before the detection it opened).
    const started = await smoke('started', 'web');
    const failed = await smoke('failed', 'web');
    assert.equal(failed.length, 1);
    assert.equal(started.filter((x) => x.id === failed[0].id).length, 1);
    assert.equal(failed[0].regressions[0].type, 'restart');
    const seqs = await store.audit.list({});
    const at = (action: string) => seqs.findIndex((a) => a.action === action && (a.detectionId === d.id || (a.data as { id?: string })?.id === failed[0].id));
    assert.ok(at('smoke.failed') >= 0 && at('smoke.failed') < at('detection.opened') && at('detection.opened') < at('runbook.run.offered'));
    assert.ok((await store.audit.verify()).ok);
  });
});

test('mode: auto in the rule: the same regression starts the rollback, which rolls back and passes its own window', { skip, timeout: 180_000 }, async () => {
  await withSession(rolloutRule('auto'), async ({ s, store, kubectl, until, opened, smoke }) => {
    await kubectl('set', 'image', 'deployment/web', 'web=shop/web:crash', '-n', 'shop');
    assert.ok(await until(() => opened('rollout-regression').length > 0, 60));
    assert.ok(await until(async () => (await store.listRuns({})).some((r) => r.status === 'succeeded'), 600), 'the rollback run succeeds');
    const runs = await store.listRuns({});
    assert.deepEqual(runs.map((r) => `${r.runbook} ${r.status}`), ['bad-deploy succeeded']);
    assert.equal(s.sandbox.store.get('apps/deployments', 'shop', 'web')!.spec.template.spec.containers[0].image, 'shop/web:1');
    // The rollback is a rollout too: its window passed, and the regression detection resolves after it.
    assert.ok(await until(async () => (await smoke('passed', 'web')).some((p) => p.change.summary === 'image shop/web:crash → shop/web:1 (container web)'), 120));
    const rollback = (await smoke('passed', 'web')).find((p) => p.change.previous?.revision === '2')!;
    assert.equal(rollback.change.previous!.healthy, false, 'the revision rolled back from had failed its window');
    assert.ok(await until(() => opened('rollout-regression')[0].status === 'resolved', 600));
  });
});

test('kubectl set image to an image that needs more memory than its limit: the regression is the OOMKill', { skip, timeout: 180_000 }, async () => {
  await withSession(rolloutRule('offer'), async ({ kubectl, until, opened }) => {
    await kubectl('set', 'image', 'deployment/web', 'web=shop/web:oom', '-n', 'shop');
    assert.ok(await until(() => opened('rollout-regression').length > 0, 60));
    const r = opened('rollout-regression')[0].evidence[0].rollout!;
    assert.equal(r.regressions[0].type, 'oom-killed');
    assert.equal(r.regressions[0].reason, 'OOMKilled');
    assert.match(r.regressions[0].message, /container web was OOMKilled/);
  });
});

test('a rollout whose pods never become ready fails at the end of its window', { skip, timeout: 180_000 }, async () => {
  await withSession(rolloutRule('offer'), async ({ kubectl, until, opened, smoke }) => {
    await kubectl('set', 'image', 'deployment/web', 'web=shop/web:unready', '-n', 'shop');
    assert.ok(!(await until(() => opened('rollout-regression').length > 0, 50)), 'not before the window ends');
    assert.ok(await until(() => opened('rollout-regression').length > 0, 20));
    const [failed] = await smoke('failed', 'web');
    assert.equal(failed.regressions[0].type, 'never-ready');
    assert.ok(failed.time >= failed.window.closesAt);
  });
});

test('a healthy rollout passes its window: recorded, no detection', { skip, timeout: 180_000 }, async () => {
  await withSession(rolloutRule('offer'), async ({ s, kubectl, until, opened, smoke }) => {
    await kubectl('set', 'image', 'deployment/web', 'web=shop/web:2', '-n', 'shop');
    assert.ok(await until(async () => (await smoke('passed', 'web')).length === 2, 90));
    const passed = (await smoke('passed', 'web'))[1];
    assert.equal(passed.change.summary, 'image shop/web:1 → shop/web:2 (container web)');
    assert.equal(passed.change.revision, '2');
    assert.deepEqual(passed.regressions, []);
    assert.equal(passed.readyPods, 2);
    assert.deepEqual(await smoke('failed'), []);
    assert.deepEqual(opened('rollout-regression'), []);
    assert.deepEqual(s.pipeline.rollouts.open().map((r) => r.change.workload.name), ['api'], "only api's first window (10m) is still open");
    assert.equal(s.pipeline.rollouts.history({ namespace: 'shop', name: 'web' }).map((h) => h.phase).join(' '), 'passed passed');
  });
});

test('the annotation kubemend.dev/smoke-window=off: no window, recorded as skipped, no detection however it crashes', { skip, timeout: 180_000 }, async () => {
  await withSession(rolloutRule('offer'), async ({ kubectl, until, opened, smoke }) => {
    await kubectl('set', 'image', 'deployment/quiet', 'web=shop/web:crash', '-n', 'shop');
    await until(() => false, 90);
    assert.deepEqual(opened('rollout-regression'), []);
    const skipped = await smoke('skipped', 'quiet');
    assert.equal(skipped.length, 2, 'its creation and the crash rollout');
    assert.match(skipped[1].reason!, /^no smoke window: annotation kubemend\.dev\/smoke-window on deployment\/shop\/quiet turns it off$/);
    assert.deepEqual(await smoke('failed', 'quiet'), []);
    // Turned back on by annotation, the next rollout has a window again.
    await kubectl('annotate', '--overwrite', 'deployment/quiet', '-n', 'shop', 'kubemend.dev/smoke-window=30s');
    await kubectl('set', 'image', 'deployment/quiet', 'web=shop/web:oom', '-n', 'shop');
    assert.ok(await until(() => opened('rollout-regression').length > 0, 40));
    assert.equal(opened('rollout-regression')[0].evidence[0].rollout!.window.ms, 30_000);
  });
});

test("a namespace's annotation sets the window of its workloads' rollouts", { skip, timeout: 180_000 }, async () => {
  await withSession(rolloutRule('offer'), async ({ s, kubectl, until, smoke }) => {
    await kubectl('set', 'image', 'deployment/api', 'web=shop/web:2', '-n', 'slow');
    await until(() => false, 90);
    const open = s.pipeline.rollouts.open().filter((r) => r.change.workload.name === 'api');
    assert.equal(open.length, 1, 'still open after the default window');
    assert.equal(open[0].window.ms, 600_000);
    assert.equal(open[0].window.setBy, 'annotation kubemend.dev/smoke-window on namespace slow');
    assert.equal((await smoke('superseded', 'api')).length, 1, "the window of api's first revision (10m too) gave way to the new rollout");
    assert.ok(await until(async () => (await smoke('passed', 'api')).length === 1, 600));
    const [passed] = await smoke('passed', 'api');
    assert.equal(passed.change.summary, 'image shop/web:1 → shop/web:2 (container web)');
    assert.equal(passed.time - passed.window.opensAt, 600_000);
  });
});

test('a new Deployment crash-looping on its first revision: the detection opens, the rollback is withheld and the reason audited', { skip, timeout: 180_000 }, async () => {
  const rules = [...rolloutRule('auto'), ...loadRules(here('../../rules/crashloop-backoff.yaml'))];
  await withSession(rules, async ({ s, store, kubectl, until, opened, kubemendMutations }) => {
    await kubectl('create', 'deployment', 'fresh', '-n', 'shop', '--image=shop/web:crash', '--replicas=1');
    assert.ok(await until(() => opened('rollout-regression').length > 0 && opened('crashloop-backoff').length > 0, 120));
    await until(() => false, 120);
    assert.deepEqual(await store.listRuns({}), []);
    assert.deepEqual(kubemendMutations(), []);
    await s.pipeline.flush();
    const [regression] = opened('rollout-regression');
    assert.equal(regression.evidence[0].rollout!.change.summary, 'created');
    assert.equal(regression.evidence[0].rollout!.change.previous, undefined);
    assert.match(regression.action!.withheld!, /no previous healthy revision/);
    const [crashloop] = opened('crashloop-backoff');
    assert.match(crashloop.action!.withheld!, /no previous revision/);
    // Not acting is a decision: recorded once per detection, with the reason; no run, no rollback attempted.
    const skipped = await store.audit.list({ action: 'runbook.run.skipped' });
    assert.deepEqual(skipped.map((a) => `${a.actor.name}: ${String(a.data?.reason).split(' (')[0]}`).sort(), [
      'crashloop-backoff: not acting, because the workload has no previous revision to roll back to',
      'rollout-regression: not acting, because the workload has no previous healthy revision to roll back to',
    ]);
  });
});

test('a StatefulSet rollout that crash-loops is a regression of its updateRevision; k8s.rollback cannot roll it back, so nothing is offered', { skip, timeout: 180_000 }, async () => {
  await withSession(rolloutRule('offer'), async ({ s, store, kubectl, until, opened }) => {
    await kubectl('set', 'image', 'statefulset/db', 'web=shop/web:crash', '-n', 'shop');
    assert.ok(await until(() => opened('rollout-regression').length > 0, 60));
    const d = opened('rollout-regression')[0];
    const r = d.evidence[0].rollout!;
    const sts = s.sandbox.store.get('apps/statefulsets', 'shop', 'db')!;
    assert.equal(r.change.workload.kind, 'StatefulSet');
    assert.equal(r.change.revision, sts.status.updateRevision);
    assert.notEqual(r.change.previous!.revision, r.change.revision);
    assert.match(r.regressions[0].message, /^pod db-1 container web exited \(Error, exit 1\)$/, 'the highest ordinal is updated first');
    assert.match(d.action!.withheld!, /no previous healthy revision/);
    assert.deepEqual(await store.listRuns({}), []);
    await s.pipeline.flush();
    assert.deepEqual(await store.audit.list({ action: 'runbook.run.offered' }), []);
    assert.equal((await store.audit.list({ action: 'runbook.run.skipped' })).length, 1);
  });
});

test('a DaemonSet rollout is judged on the pods of its new template generation, and passes', { skip, timeout: 180_000 }, async () => {
  await withSession(rolloutRule('offer'), async ({ kubectl, until, smoke }) => {
    assert.ok(await until(async () => (await smoke('passed', 'agent')).length === 1, 60), 'its first revision passed');
    await kubectl('set', 'image', 'daemonset/agent', 'web=shop/web:2', '-n', 'shop');
    assert.ok(await until(async () => (await smoke('passed', 'agent')).length === 2, 90));
    const passed = (await smoke('passed', 'agent'))[1];
    assert.equal(passed.change.revision, '2');
    assert.equal(passed.change.summary, 'image shop/web:1 → shop/web:2 (container web)');
    assert.deepEqual([passed.pods, passed.readyPods], [3, 3], 'one pod per node, all of the new generation');
  });
});
