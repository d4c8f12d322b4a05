// CEL cost: the load-time estimate (the model docs/rules.md "Cost" states,
// pinned to exact numbers), the metered rewrite (same answers as plain
// CEL), and the run-time limit: an evaluation over data larger than assumed
// is abandoned, cannot be rescued by `||`, and cannot stall the engine.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Environment } from '@marcbachmann/cel-js';
import { ManualClock } from '../../src/common/clock.ts';
import { metricsRegistry } from '../../src/common/metrics.ts';
import type { KubeObject } from '../../src/kube/types.ts';
import { RuleSchema } from '../../src/rules/schema.ts';
import { RuleEnvironment } from '../../src/rules/cel.ts';
import { toCel } from '../../src/rules/cel-helpers.ts';
import { DEFAULT_COST_LIMITS, costLimits, estimateCost, type CostLimits } from '../../src/rules/cel-cost.ts';
import { CelCostError, Metering, meteredSource } from '../../src/rules/cel-meter.ts';
import { loadRules } from '../../src/rules/loader.ts';
import { DetectionEngine } from '../../src/rules/engine.ts';

const plain = new Environment({ homogeneousAggregateLiterals: false, enableOptionalTypes: true }).registerVariable('object', 'dyn');

function cost(expr: string, limits: CostLimits = DEFAULT_COST_LIMITS) {
  return estimateCost(expr, plain.parse(expr).ast, limits).cost;
}

function rule(when: string, name = 'r') {
  return RuleSchema.parse({ apiVersion: 'kubemend.dev/v1alpha1', kind: 'Rule', metadata: { name }, spec: { source: 'object', match: { kinds: ['Pod'] }, when } });
}

function pod(containers: number, name = 'web-1'): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'shop', labels: { app: 'web', tier: 'front' }, resourceVersion: '1' },
    spec: { containers: Array.from({ length: containers }, (_, i) => ({ name: i ? `c${i}` : 'app', resources: i ? {} : { limits: { memory: '1Gi' } } })) },
    status: { phase: 'Running' },
  } as KubeObject;
}

async function counted(name: string, kind = 'rule'): Promise<number> {
  const m = await metricsRegistry.getSingleMetric('kubemend_cel_cost_exceeded_total')!.get();
  return m.values.find((v) => v.labels.name === name && v.labels.kind === kind)?.value ?? 0;
}

test('the estimate: every node 1, a loop its receiver plus n × (1 + body), nested loops multiply', () => {
  // receiver 3 (object, .spec, .containers) + 20 containers × (1 + `c.name != ''` 4) + 1
  assert.equal(cost("object.spec.containers.all(c, c.name != '')"), 104);
  // inner: 1 + 3 + 20 × (1 + 5) = 124; outer: 1 + 3 + 20 × (1 + 124)
  assert.equal(cost('object.spec.containers.all(a, object.spec.containers.all(b, a.name != b.name))'), 2504);
  // `in` walks its list: default size 100 for a field with no assumption of its own
  assert.equal(cost("'x' in object.spec.names"), 105);
  // cel.bind carries the size to the name it binds
  assert.equal(cost('cel.bind(cs, object.spec.containers, cs.all(c, true))'), 46);
  // assumptions are configurable, field by field
  assert.equal(cost("object.spec.containers.all(c, c.name != '')", costLimits({ listSizes: { containers: 50 } })), 254);
  assert.equal(cost("'x' in object.spec.names", costLimits({ defaultListSize: 10 })), 15);
});

test('the budget refuses what is just over it, and is configurable', () => {
  const triple = "object.spec.containers.all(a, object.spec.containers.all(b, object.spec.containers.all(c, a.name != b.name || b.name != c.name || true)))";
  const over = new RuleEnvironment().compile(triple, 'spec.when');
  assert.ok('path' in over);
  assert.match(over.message, /^CEL cost: estimated 114,104 is over the budget of 100,000: `object\.spec\.containers\.all\(…\)` runs its body up to 20 × 20 × 20 = 8,000 times \(assumed containers ≤ 20\)/);
  assert.ok(!('path' in new RuleEnvironment({ cost: { budget: 120_000 } }).compile(triple, 'spec.when')));
});

test('objects() costs the objects it converts, and a loop over it multiplies by the assumed cache size', () => {
  const env = new RuleEnvironment();
  const c = env.compile("size(objects('Pod')) > 0", 'spec.when');
  assert.ok(!('path' in c));
  assert.equal(c.cost, 1005);
  const small = new RuleEnvironment({ cost: { objects: 10 } }).compile("objects('Pod').all(p, objects('Pod').exists(q, q.metadata.name == p.metadata.name))", 'spec.when');
  assert.ok(!('path' in small), 'fits with 10 objects assumed');
  const refused = env.compile("objects('Pod').all(p, objects('Pod').exists(q, q.metadata.name == p.metadata.name))", 'spec.when');
  assert.ok('path' in refused);
  assert.match(refused.message, /^CEL cost: estimated [\d,]+ is over the budget of 100,000: `objects\('Pod'\)\.exists\(…\)` runs its body up to 1,000 × 1,000 = 1,000,000 times \(assumed objects\(\) ≤ 1000\)/);
});

test('the metered rewrite gives the same answers as plain CEL', () => {
  const env = new RuleEnvironment();
  const object = pod(2);
  const exprs = [
    "object.spec.containers.all(c, c.name != '')",
    "object.spec.containers.exists(c, c.name == 'c1')",
    "object.spec.containers.exists_one(c, c.name == 'c1')",
    "object.spec.containers.map(c, c.name) == ['app', 'c1']",
    "object.spec.containers.map(c, c.name != 'app', c.name) == ['c1']",
    "object.spec.containers.filter(c, 'memory' in c.resources.?limits.orValue({})).size() == 1",
    "'app' in object.spec.containers.map(c, c.name)",
    "'c9' in ['c8', 'c9'] && !('c9' in object.spec.containers.map(c, c.name))",
    'cel.bind(cs, object.spec.containers, cs.all(a, cs.exists(b, a.name == b.name)))',
    "object.metadata.labels.all(k, object.metadata.labels[k] != '')",
    '(object.spec.containers + object.spec.containers).size() == 4',
    'object.spec.containers.all(a, object.spec.containers.exists(b, a.name == b.name) || false)',
    '[1, 2, 3].map(x, x * 2).filter(y, y > 2) == [4, 6]',
    "object.spec.containers.exists(c, c.name == 'nope') || object.metadata.name.startsWith('web')",
    "object.spec.containers.map(c, object.spec.containers.filter(d, d.name != c.name)).all(l, size(l) == 1)",
    // A predicate whose first operand is parenthesized: the parser's span starts inside the parentheses.
    "object.spec.containers.exists(c, ((c.name == 'app') || (c.name == ')(')) && object.spec.containers.exists(s, s.name == c.name))",
    "object.spec.containers.all(c, (c.name != 'x') && ((c.name != 'y')))",
  ];
  for (const expr of exprs) {
    const want = plain.parse(expr)({ object: toCel(object) });
    const c = env.compile(expr, 'spec.when');
    assert.ok(!('path' in c), `${expr}: ${'path' in c ? c.message : ''}`);
    assert.equal(env.run(c.program, env.activation({ cluster: 'prod', object })), want, expr);
  }
  // What is metered: loop receivers and `in` lists, literals excepted (their size is known).
  const e = "'app' in object.spec.containers.map(c, c.name) && [1].all(x, x in [1])";
  assert.equal(meteredSource(e, estimateCost(e, plain.parse(e).ast, DEFAULT_COST_LIMITS).guards),
    "'app' in __kubemend_cost(__kubemend_cost(object.spec.containers, 3).map(c, c.name), 1) && [1].all(x, x in [1])");
});

test('rules cannot call the metering functions', () => {
  const c = new RuleEnvironment().compile('__kubemend_cost(object.spec.containers, 0) == []', 'spec.when');
  assert.ok('path' in c);
  assert.match(c.message, /CEL type error/);
});

test('over the run-time limit an evaluation is abandoned: no match, counted, and visible in /metrics', async () => {
  const env = new RuleEnvironment({ cost: { runtimeLimit: 10_000 } });
  const c = env.compileRule(rule("object.spec.containers.all(a, object.spec.containers.all(b, a.name != b.name || a.name == b.name))", 'nested-within-budget'));
  assert.equal(c.when({ cluster: 'prod', object: pod(20) }), true, '20 containers cost 20 × (1 + 20 × 12) < 10,000');
  const before = await counted('nested-within-budget');
  assert.equal(c.when({ cluster: 'prod', object: pod(60) }), false);
  const s = c.stats();
  assert.equal(s.costExceeded, 1);
  assert.equal(s.errors, 1);
  assert.match(s.lastError!.message, /^CEL cost limit exceeded: the evaluation would spend at least [\d,]+ of 10,000/);
  assert.equal(await counted('nested-within-budget'), before + 1);
});

test('CEL cannot absorb the cost error: `over-limit || true` is still abandoned', () => {
  const env = new RuleEnvironment({ cost: { runtimeLimit: 10_000 } });
  const c = env.compileRule(rule("object.spec.containers.exists(a, object.spec.containers.exists(b, a.name == b.name + 'x')) || true"));
  assert.equal(c.when({ cluster: 'prod', object: pod(60) }), false);
  assert.equal(c.stats().costExceeded, 1);
  assert.throws(() => {
    const p = env.compile("true && (object.spec.containers.all(a, object.spec.containers.all(b, a.name != b.name + 'x')) || true)", 'spec.when');
    assert.ok(!('path' in p));
    env.run(p.program, env.activation({ cluster: 'prod', object: pod(60) }));
  }, CelCostError);
});

test('once spent, a running all/exists stops at its next element instead of erring through the rest', () => {
  const metering = new Metering(plain);
  const expr = "object.items.all(a, object.items.all(b, b != ''))";
  const m = metering.compile(expr, plain.parse(expr).ast, DEFAULT_COST_LIMITS, {});
  assert.ok('program' in m);
  // The outer loop fits (150 × 5 = 750); the first inner one (750 more) goes over 1,000.
  const object = { items: Array.from({ length: 150 }, (_, i) => `i${i}`) };
  assert.throws(() => metering.run(m.program, { object }, 1000), CelCostError);
  assert.ok(metering.last!.afterLimit <= 1, `${metering.last!.afterLimit} refused steps after the limit`);
  const exists = "object.items.exists(a, object.items.exists(b, b == 'none'))";
  const e = metering.compile(exists, plain.parse(exists).ast, DEFAULT_COST_LIMITS, {});
  assert.ok('program' in e);
  assert.throws(() => metering.run(e.program, { object }, 1000), CelCostError);
  assert.ok(metering.last!.afterLimit <= 1);
});

test('objects() over a cache far larger than assumed is refused before it is converted', () => {
  const many: KubeObject[] = new Array(2_000_000).fill(pod(1));
  const env = new RuleEnvironment();
  const c = env.compileRule(rule("size(objects('Pod')) > 0"));
  assert.equal(c.when({ cluster: 'prod', object: pod(1), lookup: () => many }), false);
  assert.equal(c.stats().costExceeded, 1);
  assert.equal(c.when({ cluster: 'prod', object: pod(1), lookup: () => many.slice(0, 5000) }), true, 'ten times the assumed 1000 is fine');
});

test('an oversized object cannot stall the engine beyond the run-time bound', { timeout: 60_000 }, () => {
  // Within the budget for 20 containers (42,104), a billion steps for 1,000: minutes of synchronous work unmetered.
  const dir = mkdtempSync(join(tmpdir(), 'km-cost-'));
  writeFileSync(join(dir, 'r.yaml'), `apiVersion: kubemend.dev/v1alpha1
kind: Rule
metadata: { name: triple-loop }
spec:
  source: object
  match: { kinds: [Pod] }
  when: object.spec.containers.all(a, object.spec.containers.all(b, object.spec.containers.all(c, a.name != '')))
`);
  const rules = loadRules(dir);
  const opened: string[] = [];
  const engine = new DetectionEngine({ clock: new ManualClock(), rules, hooks: { onDetection: (d) => opened.push(d.rule) } });
  const t0 = performance.now();
  engine.ingest({ source: 'object', cluster: 'prod', time: 0, operation: 'update', object: pod(1000) });
  const ms = performance.now() - t0;
  // The limit is ~20–100 ms of work; generous for a loaded CI host, far below the unmetered minutes.
  assert.ok(ms < 5000, `the evaluation took ${Math.round(ms)} ms`);
  assert.deepEqual(opened, []);
  assert.equal(rules[0].compiled.stats().costExceeded, 1);
  engine.ingest({ source: 'object', cluster: 'prod', time: 0, operation: 'update', object: pod(3) });
  assert.deepEqual(opened, ['triple-loop'], 'the rule still works on data of the assumed size');
  engine.stop();
});
