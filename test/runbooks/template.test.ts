// `{{ CEL }}` templates: typed single templates, interpolation, the values
// CEL hands back converted to JSON, load-time analysis (variables, step and
// parameter references, templated paths) and run-time errors that name the
// field and expression at fault; `when` conditions of steps.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyzeTemplates, compileTemplates, evaluateWhen, renderWith, TemplateError, type TemplateVars } from '../../src/runbooks/template.ts';
import { StepSchema } from '../../src/runbooks/schema.ts';
import { costLimits } from '../../src/rules/cel-cost.ts';
import { metricsRegistry } from '../../src/common/metrics.ts';

const vars: TemplateVars = {
  detection: { id: 'd1', summary: 'checkout is crash-looping', subject: { kind: 'Deployment', namespace: 'shop', name: 'checkout' }, count: 3 },
  target: { cluster: 'prod', kind: 'Deployment', namespace: 'shop', name: 'checkout' },
  params: { factor: 1.5, maxMemory: '2Gi', replicas: 3, window: '2m' },
  steps: { collect: { status: 'succeeded', outputs: { restarts: 7, images: ['shop/checkout:1.5.0'], previousRevisionHealthy: true } } },
  object: { kind: 'Pod', metadata: { name: 'checkout-5d8f-x', namespace: 'shop', labels: { 'pod-template-hash': '5d8f' }, ownerReferences: [{ kind: 'ReplicaSet', name: 'checkout-5d8f', controller: true }] } },
  run: { id: 'run-1', dryRun: false },
};

test('a value that is exactly one template keeps the expression type', () => {
  const render = compileTemplates({
    replicas: '{{ params.replicas + 1 }}',
    factor: '{{ params.factor }}',
    healthy: '{{ steps.collect.outputs.previousRevisionHealthy }}',
    images: '{{ steps.collect.outputs.images }}',
    ref: "{{ {'kind': target.kind, 'name': target.name} }}",
    spaced: '  {{ target.name }}',
  });
  assert.deepEqual(render(vars), {
    replicas: 4,
    factor: 1.5,
    healthy: true,
    images: ['shop/checkout:1.5.0'],
    ref: { kind: 'Deployment', name: 'checkout' },
    spaced: '  checkout',
  });
});

test('other strings interpolate: numbers as digits, null as empty, maps and lists as JSON', () => {
  const render = compileTemplates([
    '{{ target.namespace }}/{{ target.name }} restarted {{ steps.collect.outputs.restarts }} times',
    'ns={{ object.metadata.?missing.orValue(null) }}.',
    'images: {{ steps.collect.outputs.images }}',
    "{{ '{{' }} is written like this",
  ]);
  assert.deepEqual(render(vars), ['shop/checkout restarted 7 times', 'ns=.', 'images: ["shop/checkout:1.5.0"]', '{{ is written like this']);
});

test('values without templates are returned untouched, nested ones are rendered in place', () => {
  const value = { static: { deep: [1, 'two', { three: true }] }, mixed: [{ name: '{{ target.name }}', n: 1 }, 'plain'] };
  const out = compileTemplates(value)(vars) as typeof value;
  assert.equal(out.static, value.static);
  assert.deepEqual(out.mixed, [{ name: 'checkout', n: 1 }, 'plain']);
  assert.equal(compileTemplates('no templates here')(vars), 'no templates here');
});

test('CEL values come back as JSON: ints as numbers, timestamps as RFC 3339, durations as seconds', () => {
  const render = compileTemplates({
    int: '{{ 40 + 2 }}',
    uint: '{{ 7u }}',
    ts: "{{ timestamp('2024-05-01T10:00:00Z') + duration('90s') }}",
    dur: "{{ duration('5m') }}",
    mapOfInts: "{{ {'a': 1, 'b': [2, 3]} }}",
  });
  assert.deepEqual(render({}), { int: 42, uint: 7, ts: '2024-05-01T10:01:30.000Z', dur: '300s', mapOfInts: { a: 1, b: [2, 3] } });
});

test('helpers: quantity(), owner(), value(), condition()', () => {
  const render = compileTemplates({
    bytes: '{{ quantity(params.maxMemory) }}',
    owner: '{{ owner(object).name }}',
    hash: "{{ value(object, 'metadata.labels.pod-template-hash') }}",
    cond: "{{ condition(object, 'Ready') == null }}",
  });
  assert.deepEqual(render(vars), { bytes: 2 * 2 ** 30, owner: 'checkout', hash: '5d8f', cond: true });
});

test('absent variables are null, so a manual run without a detection can still render', () => {
  const render = compileTemplates("{{ detection == null ? 'manual run' : detection.summary }}");
  assert.equal(render({}), 'manual run');
  assert.equal(render(vars), 'checkout is crash-looping');
});

test('a map literal ending in }} inside a template is not cut short', () => {
  assert.deepEqual(compileTemplates("{{ {'a': {'b': target.name}} }}")(vars), { a: { b: 'checkout' } });
});

test('compile errors throw a TemplateError naming the field and the expression', () => {
  assert.throws(() => compileTemplates({ with: { name: '{{ target.name + }}' } }), (err: unknown) => {
    assert.ok(err instanceof TemplateError);
    assert.equal(err.path, 'with.name');
    assert.equal(err.expression, ' target.name + ');
    assert.match(err.message, /^with\.name: \{\{ target\.name \+ \}\}: CEL syntax error/);
    return true;
  });
  assert.throws(() => compileTemplates('{{ }}'), /empty template/);
  assert.throws(() => compileTemplates('a {{ b'), /unclosed \{\{/);
  assert.throws(() => compileTemplates('{{ nope }}'), /Unknown variable: nope/);
});

test('run-time errors throw a TemplateError; reading what is not there is marked missing', () => {
  const render = compileTemplates({ image: '{{ steps.rollback.outputs.image }}', sum: '{{ target.name + 1 }}' });
  try {
    render(vars);
    assert.fail('rendered');
  } catch (err) {
    assert.ok(err instanceof TemplateError);
    assert.equal(err.path, 'image');
    assert.equal(err.missing, true);
    assert.equal(err.retryable, false);
    assert.match(err.message, /No such key: rollback/);
  }
  const sum = compileTemplates({ sum: '{{ target.name + 1 }}' });
  assert.throws(() => sum(vars), (err: unknown) => err instanceof TemplateError && !err.missing && /no such overload/.test(err.message));
});

test('analyzeTemplates reports variables, step and parameter references, templated paths and every problem', () => {
  const a = analyzeTemplates({
    name: '{{ target.name }}',
    text: "{{ steps.collect.outputs.summary }} / {{ steps['rollback'].status }} / {{ params.window }}",
    list: ['x', '{{ steps.?wait.orValue(null) }}'],
    bad: '{{ ) }}',
    n: 3,
  }, ['with']);
  assert.deepEqual([...a.variables].sort(), ['params', 'steps', 'target']);
  assert.deepEqual(a.stepRefs, [
    { id: 'collect', path: ['with', 'text'] },
    { id: 'rollback', path: ['with', 'text'] },
    { id: 'wait', path: ['with', 'list', 1] },
  ]);
  assert.deepEqual(a.paramRefs, [{ name: 'window', path: ['with', 'text'] }]);
  assert.deepEqual(a.templated, [['with', 'name'], ['with', 'text'], ['with', 'list', 1]]);
  assert.equal(a.problems.length, 1);
  assert.deepEqual(a.problems[0].path, ['with', 'bad']);
  assert.equal(a.problems[0].template, '{{ ) }}');
});

function step(fields: Record<string, unknown>) {
  return StepSchema.parse({ id: 's', action: 'notify', ...fields });
}

test('renderWith renders a step, compiling it once', () => {
  const s = step({ with: { title: 'Rolled back {{ target.name }}', channel: 'ops' } });
  assert.deepEqual(renderWith(s, vars), { title: 'Rolled back checkout', channel: 'ops' });
  assert.deepEqual(renderWith(s, { ...vars, target: { name: 'web' } }), { title: 'Rolled back web', channel: 'ops' });
});

test('evaluateWhen: true without a condition, the condition otherwise, false when it reads what is not there', () => {
  assert.equal(evaluateWhen(step({}), vars), true);
  assert.equal(evaluateWhen(step({ when: 'steps.collect.outputs.previousRevisionHealthy == true' }), vars), true);
  assert.equal(evaluateWhen(step({ when: 'steps.collect.outputs.restarts > 10' }), vars), false);
  assert.equal(evaluateWhen(step({ when: "steps.rollback.status == 'succeeded'" }), vars), false);
  // A field read is dyn: whether it is a bool is only known at run time, so it is refused before.
  assert.throws(() => evaluateWhen(step({ when: 'steps.collect.outputs.restarts' }), vars), /must be a bool, but is dyn/);
  assert.throws(() => evaluateWhen(step({ when: "target.name > 3" }), vars), (err: unknown) => err instanceof TemplateError && err.path === 'when');
});

test('in a map, a template rendering null leaves the key out; static nulls and list items stay', () => {
  const render = compileTemplates({ container: "{{ params.container == '' ? null : params.container }}", keep: null, list: ['{{ null }}'] });
  assert.deepEqual(render({ params: { container: '' } }), { keep: null, list: [null] });
  assert.deepEqual(render({ params: { container: 'app' } }), { container: 'app', keep: null, list: [null] });
});

test('templates are costed at load: an over-budget one is refused, naming the loop nest', () => {
  const nested = "{{ object.spec.containers.exists(a, a.env.exists(e, object.spec.containers.exists(b, b.env.exists(f, e.name == f.name)))) }}";
  assert.throws(() => compileTemplates({ dup: nested }), (err: unknown) => err instanceof TemplateError && err.path === 'dup' && /CEL cost: estimated [\d,]+ is over the budget of 100,000: `b\.env\.exists\(…\)` runs its body up to 20 × 100 × 20 × 100/.test(err.message));
  assert.doesNotThrow(() => compileTemplates({ dup: nested }, costLimits({ listSizes: { containers: 2, env: 5 } })), 'fits when the lists are assumed short');
  assert.throws(() => evaluateWhen(step({ when: 'steps.collect.outputs.images.all(a, steps.collect.outputs.images.all(b, steps.collect.outputs.images.all(c, a != c)))' }), vars), /CEL cost: estimated/);
});

test('a template over data larger than its cost allows fails fast, counted in /metrics', { timeout: 60_000 }, async () => {
  const render = compileTemplates({ pairs: '{{ steps.collect.outputs.images.map(a, steps.collect.outputs.images.filter(b, b != a).size()).size() }}' }, costLimits({ listSizes: { images: 100 } }));
  const sized = (n: number): TemplateVars => ({ ...vars, steps: { collect: { status: 'succeeded', outputs: { images: Array.from({ length: n }, (_, i) => `img${i}`) } } } });
  assert.deepEqual(render(sized(100)), { pairs: 100 });
  const counted = async () => (await metricsRegistry.getSingleMetric('kubemend_cel_cost_exceeded_total')!.get()).values.find((v) => v.labels.kind === 'template' && v.labels.name === 'pairs')?.value ?? 0;
  const before = await counted();
  const t0 = performance.now();
  // 20,000 × 20,000 filter steps unmetered; the limit stops it after about a million.
  assert.throws(() => render(sized(20_000)), (err: unknown) => err instanceof TemplateError && err.path === 'pairs' && /CEL cost limit exceeded/.test(err.message) && !err.missing);
  assert.ok(performance.now() - t0 < 5000);
  assert.equal(await counted(), before + 1);
  // A step's when over such data fails the step (it is not "reads what is not there").
  const s = step({ when: "steps.collect.outputs.images.exists(a, steps.collect.outputs.images.exists(b, b == a + 'x'))" });
  assert.equal(evaluateWhen(s, sized(50)), false);
  assert.throws(() => evaluateWhen(s, sized(20_000)), (err: unknown) => err instanceof TemplateError && /CEL cost limit exceeded/.test(err.message));
});
