// Shared evaluation (issue 16): a rule set of copies evaluates each distinct
// expression and each top-level `&&` operand once per event. These tests hold
// it to the answers of evaluating every rule on its own, and to CEL's `&&`:
// errors beside a false are absorbed, the run-time cost limit bounds the sum.
import { test } from 'node:test';
import { Environment } from '@marcbachmann/cel-js';
import assert from 'node:assert/strict';
import { ManualClock } from '../../src/common/clock.ts';
import { RuleEnvironment } from '../../src/rules/cel.ts';
import { conjunctTexts, normalise } from '../../src/rules/cel-conjuncts.ts';
import { DetectionEngine, type DetectionChange } from '../../src/rules/engine.ts';
import { loadRules } from '../../src/rules/loader.ts';
import { RuleSchema } from '../../src/rules/schema.ts';
import type { Signal } from '../../src/rules/types.ts';
import type { KubeObject } from '../../src/kube/types.ts';
import { realisticPod } from '../../bench/fixtures/pods.ts';
import { writeRuleSet } from '../../bench/fixtures/rules.ts';

const T = { timeout: 120_000 };

function compiled(env: RuleEnvironment, when: string) {
  const r = RuleSchema.parse({ apiVersion: 'kubemend.dev/v1alpha1', kind: 'Rule', metadata: { name: 'r' }, spec: { source: 'object', match: { kinds: ['Pod'] }, when } });
  return env.compileRule(r);
}

test('conjuncts are the top-level && operands, whitespace-normalised outside string literals', T, () => {
  const expr = "(object.a == 1 &&\n   object.b == 'x  y') && object.c.exists(c, c == 2 || c == 3) && (object.d || object.e)";
  assert.deepEqual(normalise("object.b == 'x  y'\n  && a"), "object.b == 'x  y' && a");
  const texts = conjunctTexts(expr, parseWith(expr));
  assert.deepEqual(texts, ['object.a == 1', "object.b == 'x  y'", 'object.c.exists(c, c == 2 || c == 3)', 'object.d || object.e']);
  assert.equal(conjunctTexts('object.a == 1 || object.b == 2', parseWith('object.a == 1 || object.b == 2')), undefined);
});

test("&& over conjuncts keeps CEL's meaning: an error beside a false is no error; beside trues it is", T, () => {
  const env = new RuleEnvironment();
  const rule = compiled(env, 'object.missing.field == 1 && object.spec.x == 2');
  const pod = (x: number) => ({ object: { kind: 'Pod', metadata: { name: 'p', resourceVersion: String(x) }, spec: { x } }, cluster: 'c', now: 0 });
  assert.equal(rule.when(pod(3)), false);
  assert.equal(rule.stats().errors, 0, 'the false operand decides: the missing field is not an error');
  assert.equal(rule.when(pod(2)), false);
  assert.equal(rule.stats().errors, 1, 'with the other operand true, the missing field is the answer: counted');
  assert.equal(rule.stats().missingFields, 1);
  const ok = compiled(env, 'object.spec.x == 2 && object.metadata.name == "p"');
  assert.equal(ok.when(pod(2)), true);
  assert.equal(ok.when(pod(1)), false);
});

test('the run-time cost limit bounds the sum of the conjuncts, as it bounded the whole expression', T, () => {
  const env = new RuleEnvironment({ cost: { runtimeLimit: 3000 } });
  const rule = compiled(env, 'object.spec.xs.all(x, x >= 0) && object.spec.ys.all(y, y >= 0)');
  const big = (n: number) => ({ object: { kind: 'Pod', metadata: { name: 'p', resourceVersion: String(n) }, spec: { xs: Array.from({ length: n }, (_, i) => i), ys: Array.from({ length: n }, (_, i) => i) } }, cluster: 'c', now: 0 });
  assert.equal(rule.when(big(300)), true);
  // Each list alone fits the limit (4 × 600 = 2,400 of 3,000); both together do not.
  assert.equal(rule.when(big(600)), false);
  assert.equal(rule.stats().costExceeded, 1);
  assert.match(rule.stats().lastError?.message ?? '', /of 3,000/);
});

test('a rule set of copies (300) gives the same detections shared as evaluated rule by rule', T, () => {
  const dir = writeRuleSet(300, 10);
  const run = (share: boolean) => {
    const clock = new ManualClock(Date.parse('2026-11-02T00:00:00Z'));
    const rules = loadRules(dir, { env: new RuleEnvironment({ clock, shareEvaluations: share }) });
    const seen: string[] = [];
    const cache = new Map<string, KubeObject>();
    const engine = new DetectionEngine({
      clock,
      rules,
      lookup: (_c, kind, ns) => (kind === 'Pod' ? [...cache.values()].filter((o) => !ns || o.metadata.namespace === ns) : []),
      hooks: { onDetection: (d, c: DetectionChange) => seen.push(`${c} ${d.rule} ${d.subject.kind}/${d.subject.namespace}/${d.subject.name} ${d.summary} ${d.action?.withheld ?? ''}`) },
    });
    const states = ['running', 'crashloop', 'oom', 'pending', 'imagepull', 'running'] as const;
    for (let n = 0; n < 600; n++) {
      const i = (n * 37) % 120;
      const object = realisticPod(i, 1000 + n, states[(n + i) % states.length], { namespaces: 10 }) as KubeObject;
      const key = `${object.metadata.namespace}/${object.metadata.name}`;
      const signal: Signal = { source: 'object', cluster: 'c', time: clock.now(), operation: cache.has(key) ? 'update' : 'create', object, oldObject: cache.get(key) };
      cache.set(key, object);
      engine.ingest(signal);
      clock.advance(2_000);
    }
    engine.stop();
    return seen;
  };
  const shared = run(true);
  assert.ok(shared.length > 50, `the stream should open detections (got ${shared.length})`);
  assert.deepEqual(shared, run(false));
});

const plain = new Environment({ homogeneousAggregateLiterals: false, enableOptionalTypes: true, unlistedVariablesAreDyn: true });
/** A parser like the rules' environment (offsets are the same): conjunctTexts only reads the AST's shape and spans. */
function parseWith(expr: string) {
  return plain.parse(expr).ast;
}
