// The informer caches keep only the fields their readers read
// (pipeline/cache-fields.ts). The proof that nothing a reader needs is cut:
// every rule (the shipped ones and the 1,000-rule set) gives the same
// answers on projected objects as on whole ones — `when`, `subject`,
// `summary` and `action.when`, lookups included — on realistic pods in
// every state and on every object and transition of the sandbox scenarios;
// and the incident tracker's change feed, observations, guardrails and
// correlation read the same from projected signals and caches.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { objectProjector, stripBulk, type KubeObject } from '../../src/kube/index.ts';
import { KindFields, ROLLOUT_FIELDS, RolloutWatcher, addFieldTable, loadRules, ruleFields, type LoadedRule, type Signal } from '../../src/rules/index.ts';
import { activationOf, signalVars, type Activation } from '../../src/rules/cel.ts';
import { RuleIndex } from '../../src/rules/rule-index.ts';
import { SmokeCheck } from '../../src/rules/sources/smoke-check.ts';
import { ChangeFeed, INCIDENT_FIELDS, ObservationLog, PlacementIndex, checkGuardrails, scopeOf, touchOf, unionTouch } from '../../src/incidents/index.ts';
import { ScenarioSession, SANDBOX_CLUSTER, cacheFields } from '../../src/pipeline/index.ts';
import { diffObjects } from '../../src/rules/index.ts';
import { openStore } from '../../src/store/index.ts';
import { resolveScenario } from '../../src/sandbox/scenarios/index.ts';
import { realisticPod, ownerOf, type PodState } from '../../bench/fixtures/pods.ts';
import { writeRuleSet } from '../../bench/fixtures/rules.ts';

const RULES = fileURLToPath(new URL('../../rules', import.meta.url));
const STATES: PodState[] = ['running', 'crashloop', 'oom', 'pending', 'imagepull'];

/**
 * Projects objects through `fields` alone (plus identity metadata), one
 * projector per kind, each object once. Each reader is checked with its own
 * fields only — a rule with what its CEL reads, the tracker with
 * INCIDENT_FIELDS, the rollout watcher with ROLLOUT_FIELDS — so one reader's
 * needs cannot hide another's omission.
 */
function projection(fields: KindFields) {
  const byKind = new Map<string, ((o: KubeObject) => KubeObject) | undefined>();
  const done = new WeakMap<object, KubeObject>();
  const project = (o: KubeObject): KubeObject => {
    let p = done.get(o);
    if (p) return p;
    const kind = o.kind ?? '';
    if (!byKind.has(kind)) byKind.set(kind, objectProjector(fields.forKind(kind)));
    p = byKind.get(kind)?.(o) ?? o;
    done.set(o, p);
    return p;
  };
  const signal = (s: Signal): Signal => ({
    ...s,
    ...(s.object ? { object: project(s.object) } : {}),
    ...(s.oldObject ? { oldObject: project(s.oldObject) } : {}),
    ...(s.event ? { event: project(s.event) } : {}),
  });
  return { project, signal };
}

/** Everything a rule answers for a signal, errors as text. */
function answers(lr: LoadedRule, vars: Activation): Record<string, unknown> {
  const c = lr.compiled;
  const attempt = (f: () => unknown) => {
    try {
      return JSON.stringify(f());
    } catch (err) {
      return `error: ${(err as Error).message}`;
    }
  };
  return {
    when: c.when(vars),
    ...(c.subject ? { subject: attempt(() => c.subject!(vars)) } : {}),
    ...(c.summary ? { summary: attempt(() => c.summary!(vars)) } : {}),
    ...(c.actionWhen ? { actionWhen: c.actionWhen(vars) } : {}),
  };
}

/** Each rule's projection: only what its own expressions read. */
function perRule(rules: LoadedRule[]): Map<LoadedRule, ReturnType<typeof projection>> {
  return new Map(rules.map((lr) => [lr, projection(new KindFields().addAll(ruleFields(lr)))]));
}

function compare(index: RuleIndex, projections: Map<LoadedRule, ReturnType<typeof projection>>, signal: Signal, full: (kind: string, ns?: string) => KubeObject[], now: number, mismatches: string[], tally: { evaluations: number; held: number }) {
  // As the engine does: the signal's variables converted once and shared by every candidate rule (the projected ones differ per rule).
  const whole = activationOf(signalVars(signal, { now, lookup: full }), now);
  for (const lr of index.candidates(signal)) {
    const p = projections.get(lr)!;
    const projected = p.signal(signal);
    const lookupProjected = (kind: string, ns?: string) => full(kind, ns).map(p.project);
    const a = answers(lr, whole);
    const b = answers(lr, activationOf(signalVars(projected, { now, lookup: lookupProjected }), now));
    tally.evaluations++;
    if (a.when) tally.held++;
    if (JSON.stringify(a) !== JSON.stringify(b)) mismatches.push(`${lr.rule.metadata.name} on ${signal.object?.kind}/${signal.object?.metadata.namespace}/${signal.object?.metadata.name}: whole ${JSON.stringify(a)} projected ${JSON.stringify(b)}`);
  }
}

/** ReplicaSets of the pods' Deployments (two revisions for even apps, one for odd) and namespaces, half of them production. */
function neighbours(pods: KubeObject[]): KubeObject[] {
  const out = new Map<string, KubeObject>();
  for (const pod of pods) {
    const ns = pod.metadata.namespace!;
    out.set(`ns/${ns}`, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, uid: ns, resourceVersion: '1', labels: Number(ns.split('-')[1]) % 2 ? { env: 'production' } : {} }, status: { phase: 'Active' } });
    const ref = pod.metadata.ownerReferences?.[0];
    if (ref?.kind !== 'ReplicaSet') continue;
    const app = ref.name.slice(0, ref.name.lastIndexOf('-'));
    const revisions = [ref.name, ...(Number(app.split('-')[1]) % 2 ? [] : [`${app}-0ld0ld0ld0`])];
    for (const name of revisions) {
      out.set(`rs/${ns}/${name}`, {
        apiVersion: 'apps/v1', kind: 'ReplicaSet',
        metadata: { name, namespace: ns, uid: `${ns}-${name}`, resourceVersion: '1', labels: { app, 'pod-template-hash': name.slice(app.length + 1) }, annotations: { 'deployment.kubernetes.io/revision': '1' }, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: app, uid: app, controller: true }] },
        spec: { replicas: 2, template: { metadata: { labels: { app } }, spec: { containers: [{ name: 'app', image: 'x' }] } } },
      });
    }
  }
  return [...out.values()];
}

test('every rule answers the same on projected realistic pods as on whole ones, in every state and transition', { timeout: 300_000 }, () => {
  const shipped = loadRules(RULES);
  const many = loadRules(writeRuleSet(1000));
  const mismatches: string[] = [];
  for (const [label, rules] of [['shipped', shipped], ['1,000-rule set', many]] as const) {
    const projections = perRule(rules);
    const index = new RuleIndex(rules);
    const tally = { evaluations: 0, held: 0 };
    // Pods of every owner kind (ReplicaSet, StatefulSet, DaemonSet, Job), with and without sidecars and limits, in 100 namespaces.
    const indices = Array.from({ length: 120 }, (_, i) => i * 7 + (i % 5));
    const pods = indices.flatMap((i) => STATES.map((state, s) => stripBulk(realisticPod(i, 2000 + s, state) as never)));
    const cache = [...pods, ...neighbours(pods)];
    // What cache.filter by kind and namespace gives, in the same order, grouped once.
    const byKey = new Map<string, KubeObject[]>();
    for (const o of cache) {
      for (const key of [o.kind!, `${o.kind}/${o.metadata.namespace}`]) {
        if (!byKey.has(key)) byKey.set(key, []);
        byKey.get(key)!.push(o);
      }
    }
    const full = (kind: string, ns?: string) => byKey.get(ns ? `${kind}/${ns}` : kind) ?? [];
    const now = Date.parse('2026-11-02T08:00:00Z');
    for (const i of indices) {
      const before = stripBulk(realisticPod(i, 1000, 'running') as never);
      for (const [s, state] of STATES.entries()) {
        const object = stripBulk(realisticPod(i, 2000 + s, state) as never);
        for (const signal of [
          { source: 'object', cluster: 'c', time: now, operation: 'create', object },
          { source: 'object', cluster: 'c', time: now, operation: 'update', object, oldObject: before },
          { source: 'object', cluster: 'c', time: now, operation: 'update', object: before, oldObject: object },
          { source: 'schedule', cluster: 'c', time: now, object },
        ] as Signal[]) compare(index, projections, signal, full, now, mismatches, tally);
      }
    }
    assert.ok(tally.evaluations > 2000 && tally.held > 100, `${label}: only ${tally.evaluations} evaluations, ${tally.held} holding: the fixture no longer exercises the rules`);
  }
  assert.deepEqual(mismatches.slice(0, 10), []);
  // The fixture covers every owner kind.
  assert.deepEqual(new Set(Array.from({ length: 20 }, (_, i) => ownerOf(i).kind)), new Set(['ReplicaSet', 'StatefulSet', 'DaemonSet', 'Job']));
});

test('on every scenario, rules and the incident tracker read the same from projected objects as from whole ones', { timeout: 600_000 }, async () => {
  const rules = loadRules(RULES);
  const projections = perRule(rules);
  const ruleIndex = new RuleIndex(rules);
  const p = projection(addFieldTable(new KindFields(), INCIDENT_FIELDS));
  const forRollouts = projection(addFieldTable(new KindFields(), ROLLOUT_FIELDS));
  const mismatches: string[] = [];
  const tally = { evaluations: 0, held: 0 };
  for (const name of ['crashloop', 'memory-cascade', 'node-broken', 'config-change', 'image-pull', 'pending', 'event-storm']) {
    const store = await openStore({ dataDir: mkdtempSync(join(tmpdir(), 'km-cache-fields-')) });
    const feeds = [new ChangeFeed(), new ChangeFeed()];
    const logs = [new ObservationLog(), new ObservationLog()];
    let session: ScenarioSession | undefined;
    const full = (kind: string, ns?: string) => session?.pipeline.cached(SANDBOX_CLUSTER, kind, ns) ?? [];
    let signals = 0;
    // Two rollout watchers: one reading whole objects, one reading what ROLLOUT_FIELDS keeps.
    const reports: string[][] = [[], []];
    let watchers: RolloutWatcher[] = [];
    try {
      session = await ScenarioSession.start({
        scenario: resolveScenario(name).scenario,
        rules,
        store,
        incidents: {},
        cacheWholeObjects: true,
        sinks: [{
          name: 'compare',
          observe(signal) {
            signals++;
            compare(ruleIndex, projections, signal, full, session?.clock.now() ?? signal.time, mismatches, tally);
            watchers[0]?.observe(signal);
            watchers[1]?.observe(forRollouts.signal(signal));
            feeds[0]!.observe(signal);
            feeds[1]!.observe(p.signal(signal));
            logs[0]!.observe(signal);
            logs[1]!.observe(p.signal(signal));
          },
        }],
      });
      // Started with the caches synced, as the pipeline starts its own.
      watchers = [0, 1].map((w) => new RolloutWatcher({ clock: session!.clock, lookup: (_c, kind, ns) => (w === 0 ? full(kind, ns) : full(kind, ns).map(forRollouts.project)) }));
      watchers.forEach((w, i) => w.start((s) => reports[i]!.push(JSON.stringify(s.rollout)), [SANDBOX_CLUSTER]));
      await session.runToEnd(0);
      assert.deepEqual(reports[1], reports[0], `${name}: smoke windows`);
      if (name === 'crashloop') assert.ok(reports[0]!.some((r) => r.includes('"phase":"failed"')), 'the crashloop rollout fails its smoke window');
      const strip = (x: unknown) => JSON.stringify(x, (k, v) => (k === 'seq' ? undefined : v));
      assert.equal(strip(feeds[1]!.entries()), strip(feeds[0]!.entries()), `${name}: change feed`);
      assert.ok(feeds[0]!.size > 0 || name === 'event-storm' || name === 'pending', `${name}: the feed saw no change`);
      assert.equal(strip(logs[1]!.observations()), strip(logs[0]!.observations()), `${name}: observations`);
      assert.equal(strip(logs[1]!.placements(SANDBOX_CLUSTER)), strip(logs[0]!.placements(SANDBOX_CLUSTER)), `${name}: placements`);
      // Correlation and guardrails over the caches, for every detection the scenario made.
      const lookupFull = (c: string, kind: string, ns?: string) => (c === SANDBOX_CLUSTER ? session!.pipeline.cached(c, kind, ns) : undefined);
      const lookupProjected = (c: string, kind: string, ns?: string) => lookupFull(c, kind, ns)?.map(p.project);
      const placements = logs[0]!.placements(SANDBOX_CLUSTER);
      const index = new PlacementIndex(placements, 0);
      const detections = session.engine.detections();
      assert.ok(detections.length > 0, `${name}: no detection`);
      for (const d of detections) assert.equal(strip(touchOf(d.subject, index, lookupProjected)), strip(touchOf(d.subject, index, lookupFull)), `${name}: touch of ${d.rule}`);
      const scope = scopeOf(unionTouch(detections.map((d) => touchOf(d.subject, index, lookupFull))));
      const nodes = new Set(placements.map((x) => x.node).filter((n): n is string => Boolean(n)));
      const guard = (lookup: typeof lookupFull) => checkGuardrails({ cluster: SANDBOX_CLUSTER, scope, failingNodes: nodes, placements, since: 0, until: Number.MAX_SAFE_INTEGER, lookup });
      assert.deepEqual(guard(lookupProjected), guard(lookupFull), `${name}: guardrails`);
      assert.ok(signals > 20, `${name}: only ${signals} signals`);
    } finally {
      for (const w of watchers) w.stop();
      await session?.stop();
      await store.close();
    }
  }
  assert.deepEqual(mismatches.slice(0, 10), []);
  assert.ok(tally.held > 20, `only ${tally.held} holding evaluations over the scenarios`);
});

test('a smoke window judges projected pods as it judges whole ones: restarts, OOMKills, readiness, never ready', { timeout: 120_000 }, () => {
  const p = projection(addFieldTable(new KindFields(), ROLLOUT_FIELDS));
  const opensAt = Date.parse('2026-11-01T08:00:00Z');
  let found = 0;
  for (let i = 0; i < 200; i += 3) {
    for (const to of STATES) {
      // The window opens on a running pod, then sees it in another state (restarts grow with the resourceVersion).
      const seq = [realisticPod(i, 1000, 'running'), realisticPod(i, 1007, to), realisticPod(i, 1013, to)].map((o) => stripBulk(o as never));
      const checks = [new SmokeCheck(opensAt), new SmokeCheck(opensAt)];
      const judge = (c: SmokeCheck, pods: KubeObject[], n: number) => JSON.stringify([c.look(pods, opensAt + n * 1000), n === seq.length - 1 ? c.atEnd(pods, opensAt + 600_000, 300_000, 1, 'r1') : []]);
      for (const [n, pod] of seq.entries()) {
        const a = judge(checks[0]!, [pod], n);
        assert.equal(judge(checks[1]!, [p.project(pod)], n), a, `pod ${i} running → ${to}, look ${n}`);
        if (a !== '[[],[]]') found++;
      }
    }
  }
  assert.ok(found > 50, `only ${found} looks found a regression: the fixture no longer exercises the check`);
});

test('a change\'s evidence on projected pods still shows what happened: restarts, states, readiness, never env or volumes', { timeout: 60_000 }, () => {
  const project = objectProjector(cacheFields(loadRules(RULES)).forKind('Pod'))!;
  const before = stripBulk(realisticPod(8, 1000, 'running') as never);
  const after = stripBulk(realisticPod(8, 1007, 'crashloop') as never);
  const paths = diffObjects(project(before), project(after)).map((c) => c.path);
  for (const p of [
    'status.conditions[type=Ready].status',
    'status.containerStatuses[name=app].ready',
    'status.containerStatuses[name=app].restartCount',
    'status.containerStatuses[name=app].state.waiting',
    'status.containerStatuses[name=app].lastState.terminated',
  ]) assert.ok(paths.some((x) => x.startsWith(p)), `${p} in ${paths.join(', ')}`);
  // Every change the projected diff shows is one the whole diff shows, with the same values (an added or removed subtree as cached).
  const whole = new Map(diffObjects(before, after).map((c) => [c.path, c]));
  const scalar = (v: unknown) => v === null || typeof v !== 'object';
  for (const c of diffObjects(project(before), project(after))) {
    if (whole.has(c.path)) {
      const w = whole.get(c.path)!;
      if (scalar(w.old) && scalar(w.new)) assert.deepEqual(c, w);
    }
    else assert.ok([...whole.keys()].some((w) => w.startsWith(`${c.path}.`) || c.path.startsWith(`${w}.`)), `${c.path} is not a change of the whole pod`);
  }
  assert.ok(!paths.some((x) => /env|volume|probe/i.test(x)));
});
