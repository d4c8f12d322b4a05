// The CEL environment: every helper rules use, compiled rules, and how
// run-time errors become "does not match" while staying countable.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock, k8sTime } from '../../src/common/clock.ts';
import type { KubeObject } from '../../src/kube/types.ts';
import { RuleSchema } from '../../src/rules/schema.ts';
import { RuleEnvironment, RuleCompileError, signalVars, type Vars } from '../../src/rules/cel.ts';

const clock = new ManualClock(Date.UTC(2026, 0, 1, 12, 0, 0));

function rule(spec: Record<string, unknown>) {
  return RuleSchema.parse({ apiVersion: 'kubemend.dev/v1alpha1', kind: 'Rule', metadata: { name: 'r', description: 'a test rule' }, spec: { source: 'object', match: { kinds: ['Pod'] }, ...spec } });
}

function pod(over: { labels?: Record<string, string>; owner?: { kind: string; name: string }; createdAgoS?: number; conditions?: unknown[]; memory?: string } = {}): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: 'web-7d4b9c8f5-x2x9z',
      namespace: 'shop',
      uid: 'u1',
      creationTimestamp: k8sTime(clock.now() - (over.createdAgoS ?? 60) * 1000),
      labels: over.labels ?? { app: 'web', 'pod-template-hash': '7d4b9c8f5' },
      ...(over.owner !== null ? { ownerReferences: [{ apiVersion: 'apps/v1', kind: over.owner?.kind ?? 'ReplicaSet', name: over.owner?.name ?? 'web-7d4b9c8f5', uid: 'rs1', controller: true }] } : {}),
    },
    spec: { containers: [{ name: 'app', resources: { limits: { memory: over.memory ?? '512Mi' } } }, { name: 'proxy', resources: {} }] },
    status: { phase: 'Running', conditions: over.conditions ?? [] },
  };
}

/** Evaluates a bool expression against a pod (or other vars). */
function when(env: RuleEnvironment, expr: string, vars: Partial<Vars> = {}) {
  const c = env.compileRule(rule({ when: expr }));
  return { result: c.when({ cluster: 'prod', object: pod(), ...vars }), stats: c.stats() };
}

test('quantity() compares memory and CPU in base units', () => {
  const env = new RuleEnvironment({ clock });
  for (const expr of ["quantity('512Mi') < quantity('1Gi')", "quantity('250m') == 0.25", "quantity('1Gi') == 1073741824.0", "quantity(object.spec.containers[0].resources.limits.memory) >= quantity('512Mi')", 'quantity(2) == 2.0']) {
    assert.equal(when(env, expr).result, true, expr);
  }
});

test('quantity() of a missing or malformed value is an error: the rule does not match, and the error is counted', () => {
  const env = new RuleEnvironment({ clock });
  const missing = when(env, "quantity(value(object, 'spec.containers[name=proxy].resources.limits.memory')) > 0.0");
  assert.deepEqual([missing.result, missing.stats.errors], [false, 1]);
  assert.match(missing.stats.lastError!.message, /quantity\(\) needs a string/);
  const bad = when(env, "quantity('lots') > 0.0");
  assert.deepEqual([bad.result, bad.stats.errors], [false, 1]);
});

test('owner() of a Deployment\'s pod is the Deployment, found from the pod-template-hash without any lookup', () => {
  const env = new RuleEnvironment({ clock });
  const c = env.compileRule(rule({ when: 'true', subject: "{'kind': owner(object).kind, 'name': owner(object).name, 'namespace': object.metadata.namespace}" }));
  assert.deepEqual(c.subject!({ cluster: 'prod', object: pod() }), { kind: 'Deployment', name: 'web', namespace: 'shop' });
  assert.equal(when(env, "owner(object) == {'kind': 'Deployment', 'name': 'web'}").result, true);
});

test('owner() falls back to the direct controller, asks the cache one level up, and is the object itself when unowned', () => {
  const rs: KubeObject = { kind: 'ReplicaSet', metadata: { name: 'legacy-rs', namespace: 'shop', ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'legacy', uid: 'd', controller: true }] } };
  const env = new RuleEnvironment({ clock, lookup: (kind) => (kind === 'ReplicaSet' ? [rs] : []) });
  const own = (o: KubeObject) => env.compileRule(rule({ when: 'true', subject: 'owner(object)' })).subject!({ cluster: 'prod', object: o });
  assert.deepEqual(own(pod({ owner: { kind: 'StatefulSet', name: 'db' } })), { kind: 'StatefulSet', name: 'db' });
  assert.deepEqual(own(pod({ owner: { kind: 'ReplicaSet', name: 'legacy-rs' }, labels: {} })), { kind: 'Deployment', name: 'legacy' });
  const bare = pod();
  delete bare.metadata.ownerReferences;
  assert.deepEqual(own(bare), { kind: 'Pod', name: 'web-7d4b9c8f5-x2x9z' });
});

test('conditionAge() and ageSeconds() follow the injected clock; condition() returns the condition or null', async () => {
  const clk = new ManualClock(Date.UTC(2026, 0, 1));
  const env = new RuleEnvironment({ clock: clk });
  const p = pod({ conditions: [{ type: 'Ready', status: 'False', lastTransitionTime: k8sTime(clk.now()) }] });
  p.metadata.creationTimestamp = k8sTime(clk.now());
  const c = env.compileRule(rule({ when: "conditionAge(object, 'Ready') > 300.0 && condition(object, 'Ready').status == 'False'" }));
  assert.equal(c.when({ cluster: 'prod', object: p }), false);
  await clk.advance(299_000);
  assert.equal(c.when({ cluster: 'prod', object: p }), false);
  await clk.advance(2_000);
  assert.equal(c.when({ cluster: 'prod', object: p }), true);
  assert.equal(when(env, "conditionAge(object, 'Ready') == -1.0 && condition(object, 'Ready') == null").result, true);
  const age = env.compileRule(rule({ when: 'true', summary: 'string(ageSeconds(object))' }));
  assert.equal(age.summary!({ cluster: 'prod', object: p }), '301');
});

test('now is a timestamp from the clock (or the caller), so durations compare', () => {
  const env = new RuleEnvironment({ clock });
  const expr = "now - timestamp(object.metadata.creationTimestamp) > duration('5m')";
  assert.equal(when(env, expr, { object: pod({ createdAgoS: 600 }) }).result, true);
  assert.equal(when(env, expr, { object: pod({ createdAgoS: 60 }) }).result, false);
  assert.equal(when(env, expr, { object: pod({ createdAgoS: 60 }), now: clock.now() + 3_600_000 }).result, true);
});

test('objects() reads the cache of the signal\'s cluster: a namespace without a LimitRange', () => {
  const asked: string[] = [];
  const limitRange: KubeObject = { kind: 'LimitRange', metadata: { name: 'limits', namespace: 'shop' } };
  const env = new RuleEnvironment({ clock, lookup: (kind, ns, cluster) => (asked.push(`${cluster}/${kind}/${ns}`), kind === 'LimitRange' && (ns ?? 'shop') === 'shop' ? [limitRange] : []) });
  const c = env.compileRule(rule({ source: 'schedule', schedule: '5m', match: { kinds: ['Namespace'] }, when: "size(objects('LimitRange', object.metadata.name)) == 0" }));
  assert.deepEqual(c.kinds, ['LimitRange']);
  const ns = (name: string): KubeObject => ({ kind: 'Namespace', metadata: { name } });
  assert.equal(c.when({ cluster: 'prod', object: ns('shop') }), false);
  assert.equal(c.when({ cluster: 'prod', object: ns('ml') }), true);
  assert.deepEqual(asked, ['prod/LimitRange/shop', 'prod/LimitRange/ml']);
  assert.equal(when(env, "objects('LimitRange').exists(l, l.metadata.name == 'limits')").result, true);
  // A caller that loaded rules before its caches existed passes its own lookup.
  assert.equal(c.when({ cluster: 'prod', object: ns('shop'), lookup: () => [] }), true);
});

test('changed(), value() and oldValue() read paths, selecting containers by name', () => {
  const env = new RuleEnvironment({ clock });
  const before = pod({ memory: '256Mi' });
  const after = pod({ memory: '512Mi' });
  after.spec.containers.reverse(); // order is not stable; names are
  const path = 'spec.containers[name=app].resources.limits.memory';
  const vars = { oldObject: before, object: after };
  assert.equal(when(env, `changed(oldObject, object, '${path}')`, vars).result, true);
  assert.equal(when(env, "changed(oldObject, object, 'spec.containers[name=proxy].resources')", vars).result, false);
  assert.equal(when(env, `oldValue(oldObject, '${path}') == '256Mi' && value(object, '${path}') == '512Mi'`, vars).result, true);
  assert.equal(when(env, `quantity(value(object, '${path}')) > quantity(oldValue(oldObject, '${path}'))`, vars).result, true);
  assert.equal(when(env, "value(object, 'spec.nothing.here') == null", vars).result, true);
  // A create has no old version: nothing "changed".
  assert.equal(when(env, `changed(oldObject, object, '${path}')`, { object: after }).result, false);
});

test('changes() lists path, old and new', () => {
  const env = new RuleEnvironment({ clock });
  const vars = { oldObject: pod({ memory: '256Mi' }), object: pod({ memory: '1Gi' }) };
  const c = env.compileRule(rule({ when: 'true', summary: "changes(oldObject, object).map(c, c.path + ': ' + c.old + ' -> ' + c.new).join(', ')" }));
  assert.equal(c.summary!({ cluster: 'prod', ...vars }), 'spec.containers[name=app].resources.limits.memory: 256Mi -> 1Gi');
  assert.equal(when(env, 'size(changes(null, object)) == 0', vars).result, true);
});

test('whole JSON numbers are CEL ints, so arithmetic with int literals works', () => {
  const env = new RuleEnvironment({ clock });
  const d: KubeObject = { kind: 'Deployment', metadata: { name: 'web' }, spec: { replicas: 3 }, status: { readyReplicas: 1, ratio: 0.5 } };
  assert.equal(when(env, 'object.spec.replicas + 1 == 4 && object.status.readyReplicas * 2 < object.spec.replicas && object.status.ratio < 1.0', { object: d }).result, true);
  assert.equal(when(env, "string(object.spec.replicas) == '3'", { object: d }).result, true);
});

test('a missing field makes when false and is counted apart from other errors', () => {
  const env = new RuleEnvironment({ clock });
  const c = env.compileRule(rule({ when: "object.status.containerStatuses.exists(s, s.restartCount > 3)" }));
  assert.equal(c.when({ cluster: 'prod', object: pod() }), false);
  assert.equal(c.when({ cluster: 'prod', object: pod() }), false);
  const s = c.stats();
  assert.deepEqual([s.evaluations, s.errors, s.missingFields, s.lastError?.field], [2, 2, 2, 'spec.when']);
  assert.match(s.lastError!.message, /containerStatuses/);
  assert.equal(when(env, 'has(object.status.containerStatuses) && size(object.status.containerStatuses) > 0').stats.errors, 0);
});

test('subject and summary are present only when written; their errors throw for the caller\'s fallback and are counted', () => {
  const env = new RuleEnvironment({ clock });
  const plain = env.compileRule(rule({ when: 'true' }));
  assert.equal(plain.subject, undefined);
  assert.equal(plain.summary, undefined);
  const c = env.compileRule(rule({ when: 'true', subject: "{'kind': 'Deployment', 'name': object.metadata.labels.app}", summary: "'pod ' + object.metadata.name + ' restarts'" }));
  assert.deepEqual(c.subject!({ cluster: 'prod', object: pod() }), { kind: 'Deployment', name: 'web' });
  assert.equal(c.summary!({ cluster: 'prod', object: pod() }), 'pod web-7d4b9c8f5-x2x9z restarts');
  assert.throws(() => c.subject!({ cluster: 'prod', object: pod({ labels: {} }) }));
  assert.equal(c.stats().errors, 1);
  const noName = env.compileRule(rule({ when: 'true', subject: "{'kind': 'Pod'}" }));
  assert.throws(() => noName.subject!({ cluster: 'prod', object: pod() }), /kind and a name/);
});

test('compileRule reports every bad expression of a rule at once', () => {
  const env = new RuleEnvironment({ clock });
  const err = (() => {
    try {
      env.compileRule(rule({ when: 'object.a ==', subject: "'pod'", summary: '1 + true' }));
    } catch (e) {
      return e as RuleCompileError;
    }
    assert.fail('expected a RuleCompileError');
  })();
  assert.ok(err instanceof RuleCompileError);
  assert.deepEqual(err.problems.map((p) => p.path), ['spec.when', 'spec.subject', 'spec.summary']);
  assert.match(err.problems[0].message, /^CEL syntax error/);
  assert.match(err.problems[1].message, /must be a map/);
  assert.match(err.problems[2].message, /^CEL type error/);
});

test('signalVars: an Event signal gives the Event as both object and event; one activation serves many rules', () => {
  const env = new RuleEnvironment({ clock });
  const ev: KubeObject = { kind: 'Event', metadata: { name: 'e1', namespace: 'shop' }, reason: 'BackOff', type: 'Warning', count: 7, involvedObject: { kind: 'Pod', name: 'web-1', namespace: 'shop' } };
  const vars = signalVars({ source: 'event', cluster: 'prod', time: clock.now(), operation: 'create', object: ev, event: ev });
  const act = env.activation(vars);
  assert.equal(env.activation(act), act);
  const a = env.compileRule(rule({ source: 'event', when: "event.reason == 'BackOff' && object.involvedObject.kind == 'Pod' && event.count > 5" }));
  const b = env.compileRule(rule({ source: 'event', when: "operation == 'create' && cluster == 'prod' && oldObject == null && alert == null" }));
  assert.equal(a.when(act), true);
  assert.equal(b.when(act), true);
});

test('alert and webhook payloads are plain maps', () => {
  const env = new RuleEnvironment({ clock });
  const alert = { status: 'firing', labels: { alertname: 'HighLatency', service: 'checkout' }, annotations: {} };
  assert.equal(when(env, "alert.labels.alertname == 'HighLatency' && alert.status == 'firing'", { alert }).result, true);
  assert.equal(when(env, "webhook.name == 'deploys' && webhook.body.replicas == 2", { webhook: { name: 'deploys', body: { replicas: 2 } } }).result, true);
});

test('podsOn() lists the cached pods of one node; memoryLimited() is true only when every container has a memory limit', { timeout: 10_000 }, () => {
  const podOn = (name: string, node: string, limits: (string | undefined)[]) => ({
    kind: 'Pod', metadata: { name, namespace: 'shop' }, spec: { nodeName: node, containers: limits.map((m, i) => ({ name: `c${i}`, ...(m ? { resources: { limits: { memory: m } } } : {}) })) }, status: { phase: 'Running' },
  });
  const pods = [podOn('a', 'node-1', ['1Gi']), podOn('b', 'node-1', ['1Gi', undefined]), podOn('c', 'node-2', [undefined])];
  const env = new RuleEnvironment({ lookup: (kind) => (kind === 'Pod' ? pods : []) });
  const node = (name: string) => ({ kind: 'Node', metadata: { name } });
  const c = env.compile('podsOn(object.metadata.name).exists(p, !memoryLimited(p))', 'spec.when');
  assert.ok(!('path' in c));
  assert.equal(env.run(c.program, env.activation({ cluster: 'prod', object: node('node-1') })), true, 'b has a container without a limit');
  const sizes = env.compile("podsOn(object.metadata.name).map(p, p.metadata.name) == ['a', 'b']", 'spec.when');
  assert.ok(!('path' in sizes));
  assert.equal(env.run(sizes.program, env.activation({ cluster: 'prod', object: node('node-1') })), true);
  pods.splice(1, 1);
  assert.equal(env.run(c.program, env.activation({ cluster: 'prod', object: node('node-1') })), false, 'every pod on node-1 is limited');
  assert.equal(env.run(c.program, env.activation({ cluster: 'prod', object: node('node-3') })), false, 'no pods');
});
