// Runbook loading: every bad-input fixture fails with the `file:line path:
// message` a user needs, all problems are reported at once, the shipped
// runbooks load against the real action registry and match the shipped
// rules, and `kubemend runbooks check` prints what editors and CI read.
import { test } from 'node:test';
import { fixtureTests, problemsOf as sharedProblemsOf } from '../helpers/config-fixtures.ts';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { z } from 'zod';
import { formatProblem } from '../../src/common/config.ts';
import { loadRules } from '../../src/rules/loader.ts';
import { checkRuleRunbooks, loadRunbooks } from '../../src/runbooks/loader.ts';
import { resolveParams } from '../../src/runbooks/schema.ts';
import type { Action } from '../../src/runbooks/types.ts';
import { registerRunbooksCheck } from '../../src/cli/runbooks-check.ts';
import { ACTIONS as REGISTRY } from '../../src/runbooks/actions/index.ts';
import { evaluateWhen, renderWith, type TemplateVars } from '../../src/runbooks/template.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const FIXTURES = join(ROOT, 'test/fixtures/runbooks');

/** The loader only reads names and parameter schemas: these stand in for the registry in fixture tests. */
function action(name: string, params: z.ZodType): Action {
  const never = () => Promise.reject(new Error('not run in loader tests'));
  return { name, description: name, params, access: [], mutates: false, plan: never, run: never };
}
const Ref = { kind: z.string().default('Deployment'), namespace: z.string().optional(), name: z.string().optional() };
const ACTIONS = new Map<string, Action>([
  action('k8s.collect', z.object({ ...Ref, logTail: z.number().int().min(0).default(50) })),
  action('k8s.rollback', z.object({ ...Ref, toRevision: z.number().int().optional() })),
  action('k8s.waitRollout', z.object({ ...Ref, timeout: z.string().default('5m') })),
  action('notify', z.object({ channel: z.string().default('default'), title: z.string().optional(), text: z.string().optional() })),
].map((a) => [a.name, a]));

/** fixture → [line, path, message pattern] of its first problem. */
const EXPECTED: Record<string, [number, string, RegExp]> = {
  'cycle.yaml': [12, 'spec.steps[1].onFailure', /^cycle: collect → rollback → collect; repeat work with retries/],
  'missing-edge.yaml': [8, 'spec.steps[0].onFailure', /^onFailure names a missing step "rolback" \(did you mean "rollback"\?\)$/],
  'duplicate-step.yaml': [8, 'spec.steps[1].id', /^duplicate step id "collect" \(first used by spec.steps\[0\]\)$/],
  'unreachable-step.yaml': [9, 'spec.steps[1].id', /^step "notify" is unreachable from the start step "collect"/],
  'missing-start.yaml': [5, 'spec.start', /^start names a missing step "colect" \(did you mean "collect"\?\)$/],
  'unknown-action.yaml': [7, 'spec.steps[0].action', /^unknown action "k8s.rolback" \(did you mean "k8s.rollback"\?\)$/],
  'ill-typed-with.yaml': [10, 'spec.steps[0].with.logTail', /^k8s.collect: Invalid input: expected number, received string$/],
  'unknown-with-key.yaml': [10, 'spec.steps[0].with.logTial', /^k8s.collect has no parameter "logTial" \(did you mean "logTail"\?\)$/],
  'undeclared-param.yaml': [10, 'spec.steps[0].with.timeout', /^params.smokeWindo: the runbook declares no parameter "smokeWindo" \(did you mean "smokeWindow"\?\)$/],
  'bad-param-default.yaml': [6, 'spec.parameters.maxMemory.default', /invalid quantity "2 gigabytes"/],
  'unknown-param-type.yaml': [6, 'spec.parameters.window.type', /expected one of "string"\|"number"/],
  'bad-duration.yaml': [8, 'spec.steps[0].timeout', /^invalid duration "5 minutes"/],
  'bad-retries.yaml': [8, 'spec.steps[0].retries.backoff', /^invalid duration "soon"/],
  'bad-step-id.yaml': [6, 'spec.steps[0].id', /use letters, digits and underscores/],
  'template-syntax.yaml': [8, 'spec.steps[0].with.name', /^template \{\{ target.name \+ \}\}: CEL syntax error: Unexpected token/],
  'template-unknown-variable.yaml': [8, 'spec.steps[0].with.name', /CEL type error: Unknown variable: taget .*\(variables: detection, target, params, steps, object, run\)$/],
  'template-unclosed.yaml': [8, 'spec.steps[0].with.name', /^template \{\{ target.name: unclosed \{\{/],
  'when-syntax.yaml': [10, 'spec.steps[1].when', /^CEL syntax error: /],
  'when-not-bool.yaml': [10, 'spec.steps[1].when', /^must be a bool, but is string$/],
  'when-dyn.yaml': [10, 'spec.steps[1].when', /^must be a bool, but is dyn \(.*compare it/],
  'over-budget.yaml': [11, 'spec.steps[0].with.name', /: CEL cost: estimated 48,170,086 is over the budget of 100,000: `b\.env\.exists\(…\)` runs its body up to 20 × 100 × 20 × 100 = 4,000,000 times \(assumed containers ≤ 20, env ≤ 100\)/],
  'step-ref-later.yaml': [10, 'spec.steps[1].with.text', /^steps.rollback: step "rollback" cannot have run before step "notify" on any path$/],
  'step-ref-missing.yaml': [10, 'spec.steps[1].when', /^steps.colect: no step "colect" \(did you mean "collect"\?\)$/],
  'target-reads-steps.yaml': [5, 'spec.target', /cannot read steps$/],
  'unknown-field.yaml': [6, 'spec.steps[0]', /Unrecognized key: "onFailre"/],
  'no-steps.yaml': [5, 'spec.steps', /a runbook needs at least one step/],
  'yaml-syntax.yaml': [9, '', /^YAML syntax: /],
};

const problemsOf = (path: string, actions: ReadonlyMap<string, Action> = ACTIONS) => sharedProblemsOf(() => loadRunbooks(path, { actions }), path);

fixtureTests(FIXTURES, EXPECTED, (file) => loadRunbooks(file, { actions: ACTIONS }));

test('a duplicate step id is reported alone, not as a phantom cycle', () => {
  assert.equal(problemsOf(join(FIXTURES, 'duplicate-step.yaml')).length, 1);
});

test('duplicate runbook names across files name the first definition', () => {
  const dir = join(FIXTURES, 'duplicate');
  const problems = problemsOf(dir);
  assert.equal(problems.length, 1);
  assert.equal(problems[0].file, join(dir, 'b.yaml'));
  assert.equal(problems[0].path, 'metadata.name');
  assert.equal(problems[0].message, `duplicate runbook name "shared" (first defined at ${join(dir, 'a.yaml')}:1)`);
});

test('action names and static parameters are only checked when a registry is given', () => {
  assert.equal(loadRunbooks(join(FIXTURES, 'unknown-action.yaml')).length, 1);
  assert.equal(loadRunbooks(join(FIXTURES, 'ill-typed-with.yaml')).length, 1);
});

test('every problem in every file is reported in one error, in file and line order', () => {
  const dir = mkdtempSync(join(tmpdir(), 'km-runbooks-'));
  for (const f of ['cycle.yaml', 'missing-edge.yaml', 'template-syntax.yaml']) writeFileSync(join(dir, f), readFileSync(join(FIXTURES, f)));
  writeFileSync(join(dir, 'z-two-problems.yaml'), [
    'apiVersion: kubemend.dev/v1alpha1', 'kind: Runbook', 'metadata: { name: two }', 'spec:', '  steps:',
    '    - id: a', '      action: k8s.collect', '      with: { logTail: "{{ params.n }}" }', '      onSuccess: bb',
  ].join('\n'));
  const problems = problemsOf(dir);
  assert.deepEqual(problems.map((p) => `${p.file.slice(dir.length + 1)}:${p.line}`), [
    'cycle.yaml:12', 'missing-edge.yaml:8', 'template-syntax.yaml:8', 'z-two-problems.yaml:8', 'z-two-problems.yaml:9',
  ]);
});

test('a template in a with value defers its check to run time; the rest of the value is still checked', () => {
  const dir = mkdtempSync(join(tmpdir(), 'km-runbooks-'));
  writeFileSync(join(dir, 'rb.yaml'), [
    'apiVersion: kubemend.dev/v1alpha1', 'kind: Runbook', 'metadata: { name: rb }', 'spec:',
    '  parameters: { tail: { type: integer, default: 20 } }', '  steps:',
    '    - id: a', '      action: k8s.collect', '      with: { name: "{{ target.name }}", logTail: "{{ params.tail }}" }',
  ].join('\n'));
  const [rb] = loadRunbooks(dir, { actions: ACTIONS });
  const rendered = rb.templates.with.get('a')!({ target: { kind: 'Pod', namespace: 'x', name: 'p' }, params: { tail: 20 } });
  assert.deepEqual(rendered, { name: 'p', logTail: 20 });
});

test('loaded runbooks are frozen, with defaults filled and the graph built', () => {
  const loaded = loadRunbooks(join(ROOT, 'runbooks'));
  assert.ok(Object.isFrozen(loaded));
  const bad = loaded.find((l) => l.runbook.metadata.name === 'bad-deploy')!;
  assert.ok(Object.isFrozen(bad) && Object.isFrozen(bad.runbook.spec.steps[0]));
  assert.equal(bad.graph.start, 'collect');
  assert.deepEqual([...bad.graph.steps.keys()], ['collect', 'rollback', 'waitRollout', 'smokeCheck', 'notify']);
  assert.equal(bad.graph.next('rollback', 'failure'), 'escalate');
  assert.equal(bad.graph.next('smokeCheck', 'success'), 'notify');
  assert.equal(bad.graph.next('notify', 'success'), 'end');
  assert.equal(bad.runbook.spec.steps[1].timeout, 60_000);
  assert.deepEqual(bad.runbook.spec.steps[1].retries, { max: 2, backoff: 5_000, factor: 2, maxBackoff: 60_000 });
  assert.equal(bad.runbook.spec.escalation.channel, 'default');
});

test('the target defaults to the detection subject, and a templated target renders to a map', () => {
  const [bad] = loadRunbooks(join(ROOT, 'runbooks/bad-deploy.yaml'));
  const detection = { cluster: 'prod', subject: { cluster: 'prod', kind: 'Deployment', namespace: 'shop', name: 'checkout' } };
  assert.deepEqual(bad.templates.target({ detection }), { cluster: 'prod', kind: 'Deployment', namespace: 'shop', name: 'checkout' });
  assert.throws(() => bad.templates.target({}), /the target needs a kind and a name/);

  const dir = mkdtempSync(join(tmpdir(), 'km-runbooks-'));
  writeFileSync(join(dir, 'rb.yaml'), [
    'apiVersion: kubemend.dev/v1alpha1', 'kind: Runbook', 'metadata: { name: rb }', 'spec:',
    `  target: "{{ {'kind': 'Deployment', 'namespace': object.metadata.namespace, 'name': owner(object).name} }}"`,
    '  steps: [{ id: a, action: k8s.collect }]',
  ].join('\n'));
  const [rb] = loadRunbooks(dir);
  const pod = { kind: 'Pod', metadata: { name: 'web-7d9f-abc', namespace: 'shop', labels: { 'pod-template-hash': '7d9f' }, ownerReferences: [{ kind: 'ReplicaSet', name: 'web-7d9f', controller: true }] } };
  assert.deepEqual(rb.templates.target({ object: pod, detection: { cluster: 'c1' } }), { cluster: 'c1', kind: 'Deployment', namespace: 'shop', name: 'web' });
});

test('resolveParams fills defaults and rejects unknown, missing and ill-typed parameters', () => {
  const [oom] = loadRunbooks(join(ROOT, 'runbooks/oom-killed.yaml'));
  const ok = resolveParams(oom.runbook, { factor: 2 });
  assert.ok(ok.ok);
  assert.equal(ok.params.factor, 2);
  assert.equal(ok.params.maxMemory, '2Gi');
  const bad = resolveParams(oom.runbook, { factor: 'double', maxMemry: '4Gi', maxMemory: 'lots' });
  assert.ok(!bad.ok);
  assert.deepEqual(bad.problems, [
    'parameter factor (number): expected a number, got string "double"',
    'runbook oom-killed has no parameter "maxMemry" (declared: factor, maxMemory, container, smokeWindow, rolloutTimeout, channel)',
    'parameter maxMemory (quantity): invalid quantity "lots": expected forms like 512Mi, 1Gi, 250m or 2',
  ]);
});

test('the shipped runbooks load against the real action registry, and every shipped rule names one with fitting params', () => {
  const loaded = loadRunbooks(join(ROOT, 'runbooks'), { actions: REGISTRY });
  assert.deepEqual(loaded.map((l) => l.runbook.metadata.name).sort(), ['bad-deploy', 'image-pull', 'limitrange-guardrail', 'memory-limit-warning', 'node-memory-warning', 'node-unhealthy', 'oom-killed', 'stuck-pending']);
  assert.deepEqual(checkRuleRunbooks(loadRules(join(ROOT, 'rules')), loaded), []);
});

/** Outputs shaped like the real actions' (see src/runbooks/actions/), for rendering later steps. */
const OUTPUTS: Record<string, Record<string, unknown>> = {
  collect: { images: { checkout: 'shop/checkout:1.5.0' }, failingPods: ['checkout-5d8f-x'], previousRevisionHealthy: true, schedulingReasons: ['0/3 nodes are available: 3 Insufficient cpu.'] },
  rollback: { fromRevision: 2, toRevision: 1, images: { checkout: 'shop/checkout:1.4.2' }, image: 'shop/checkout:1.4.2' },
  raiseMemory: { container: 'app', old: { memoryLimit: '256Mi' }, new: { memoryLimit: '384Mi' } },
  drain: { node: 'node-2', pods: ['shop/a', 'shop/b'], skipped: [] },
  // k8s.proposeMemoryLimits' message and k8s.proposeLimitRange's proposal (the step is called propose in each runbook).
  propose: {
    message: 'Deployment shop/checkout has 1 container(s) without a memory limit …',
    exists: false,
    summary: 'LimitRange default-memory in namespace shop: …',
    limitRange: { apiVersion: 'v1', kind: 'LimitRange', metadata: { name: 'default-memory', namespace: 'shop' }, spec: { limits: [{ type: 'Container', default: { memory: '512Mi' }, defaultRequest: { memory: '256Mi' } }] } },
  },
  approve: { approvedBy: 'alice' },
};

/** k8s.findMemoryCulprit's verdicts: each walk of node-unhealthy takes one branch. */
const culprit = { kind: 'Deployment', namespace: 'reports', name: 'report-worker', container: 'worker', limit: '6556Mi', limitSource: 'observed usage', why: ['it has no memory limit'] };
const DIAGNOSES: Record<string, unknown>[] = [
  { verdict: 'node', reason: 'node node-2 is not ready and no pod on it explains it' },
  { verdict: 'workload', reason: 'Deployment reports/report-worker drives node node-2 out of memory', culprit: { ...culprit, safeToLimit: true, scalable: true } },
  { verdict: 'workload', reason: 'Deployment reports/report-worker drives node node-2 out of memory', culprit: { ...culprit, safeToLimit: false, scalable: true } },
];

test('every step of every shipped runbook renders to parameters its action accepts', () => {
  const subjects: Record<string, { kind: string; namespace?: string; name: string }> = {
    'node-unhealthy': { kind: 'Node', name: 'node-2' },
    'node-memory-warning': { kind: 'Node', name: 'node-2' },
    'stuck-pending': { kind: 'Pod', namespace: 'shop', name: 'checkout-5d8f-x' },
    'limitrange-guardrail': { kind: 'Namespace', name: 'shop' },
  };
  // Runbooks whose target is not the detection's subject.
  const targets: Record<string, { kind: string; namespace?: string; name: string }> = {
    'limitrange-guardrail': { kind: 'LimitRange', namespace: 'shop', name: 'default-memory' },
  };
  for (const rb of loadRunbooks(join(ROOT, 'runbooks'), { actions: REGISTRY })) {
   const rendered = new Set<string>();
   const visited = new Set<string>();
   for (const diagnose of DIAGNOSES) {
    const name = rb.runbook.metadata.name;
    const subject = { cluster: 'sandbox', ...(subjects[name] ?? { kind: 'Deployment', namespace: 'shop', name: 'checkout' }) };
    const params = resolveParams(rb.runbook);
    assert.ok(params.ok, name);
    const steps: NonNullable<TemplateVars['steps']> = {};
    const vars: TemplateVars = { detection: { id: 'd1', cluster: 'sandbox', summary: `${subject.name} is unwell`, subject }, params: params.params, steps, run: { id: 'r1', dryRun: false } };
    vars.target = rb.templates.target(vars);
    assert.deepEqual(vars.target, targets[name] ? { cluster: 'sandbox', ...targets[name] } : subject);
    // Walk the success path, as a run would.
    for (let id = rb.graph.start; id !== 'end' && id !== 'escalate'; id = rb.graph.next(id, 'success')) {
      const step = rb.graph.steps.get(id)!;
      visited.add(id);
      // A step whose `when` is false on this branch is skipped, as a run would; every step must render on some branch.
      if (!evaluateWhen(step, vars)) {
        steps[id] = { status: 'skipped', outputs: {} };
        continue;
      }
      const out = renderWith(step, vars);
      const res = REGISTRY.get(step.action)!.params.safeParse(out);
      assert.ok(res.success, `${name}.${id}: ${JSON.stringify(out)} → ${res.error?.message}`);
      assert.ok(!JSON.stringify(out).includes('{{'), `${name}.${id} left a template unrendered`);
      rendered.add(id);
      steps[id] = { status: 'succeeded', outputs: id === 'diagnose' ? diagnose : (OUTPUTS[id] ?? {}) };
    }
   }
   const name = rb.runbook.metadata.name;
   // Steps on the success path that no branch runs: a `when` that is never true. (Failure-edge steps are not walked here.)
   const never = [...visited].filter((id) => !rendered.has(id));
   assert.deepEqual(never, [], `${name}: steps no branch reaches with renderable parameters`);
  }
});

test('image-pull skips the rollback (and the wait) when the previous revision never ran', () => {
  const [rb] = loadRunbooks(join(ROOT, 'runbooks/image-pull.yaml'));
  const steps: NonNullable<TemplateVars['steps']> = { collect: { status: 'succeeded', outputs: { ...OUTPUTS.collect, previousRevisionHealthy: false } }, notifyOwner: { status: 'succeeded', outputs: {} } };
  const vars: TemplateVars = { target: { kind: 'Deployment', namespace: 'shop', name: 'checkout' }, steps };
  assert.equal(evaluateWhen(rb.graph.steps.get('rollback')!, vars), false);
  steps.rollback = { status: 'skipped', outputs: {} };
  assert.equal(evaluateWhen(rb.graph.steps.get('waitRollout')!, vars), false);
  // A failed collect tells the owner anyway, and never rolls back blindly.
  const failed: TemplateVars = { ...vars, params: { channel: 'default' }, steps: { collect: { status: 'failed' } } };
  assert.match(String(renderWith(rb.graph.steps.get('notifyOwner')!, failed).text), /No healthy previous revision/);
  assert.equal(evaluateWhen(rb.graph.steps.get('rollback')!, failed), false);
});

test('checkRuleRunbooks reports a rule naming a missing runbook or passing a bad parameter', () => {
  const loaded = loadRunbooks(join(ROOT, 'runbooks'));
  const rules = [
    { file: 'r.yaml', line: 1, rule: { metadata: { name: 'a' }, spec: { action: { runbook: 'bad-deploi', params: {} } } } },
    { file: 'r.yaml', line: 9, rule: { metadata: { name: 'b' }, spec: { action: { runbook: 'oom-killed', params: { factor: 'x' } } } } },
    { file: 'r.yaml', line: 20, rule: { metadata: { name: 'c' }, spec: { action: { notify: { channel: 'default' } } } } },
  ];
  assert.deepEqual(checkRuleRunbooks(rules, loaded).map(formatProblem), [
    'r.yaml:1 spec.action.runbook: rule a starts runbook "bad-deploi", which is not loaded (did you mean "bad-deploy"?)',
    'r.yaml:9 spec.action.params: parameter factor (number): expected a number, got string "x"',
  ]);
});

async function check(dir: string): Promise<{ out: string; err: string; code: number | undefined }> {
  const program = new Command('kubemend').exitOverride();
  registerRunbooksCheck(program);
  let out = '';
  let err = '';
  const w = process.stdout.write;
  const e = process.stderr.write;
  const prev = process.exitCode;
  process.exitCode = undefined;
  process.stdout.write = ((s: string) => ((out += s), true)) as typeof process.stdout.write;
  process.stderr.write = ((s: string) => ((err += s), true)) as typeof process.stderr.write;
  try {
    await program.parseAsync(['node', 'kubemend', 'runbooks', 'check', dir]);
  } finally {
    process.stdout.write = w;
    process.stderr.write = e;
  }
  const code = process.exitCode === undefined ? undefined : Number(process.exitCode);
  process.exitCode = prev;
  return { out, err, code };
}

test('kubemend runbooks check: ok for the shipped runbooks, every problem and exit 1 otherwise', async () => {
  const ok = await check(join(ROOT, 'runbooks'));
  assert.equal(ok.out, `ok: 8 runbooks in ${join(ROOT, 'runbooks')}\n`);
  assert.equal(ok.code, undefined);
  const dir = mkdtempSync(join(tmpdir(), 'km-runbooks-'));
  const file = join(dir, 'rb.yaml');
  writeFileSync(file, [
    'apiVersion: kubemend.dev/v1alpha1', 'kind: Runbook', 'metadata: { name: rb }', 'spec:', '  steps:',
    '    - id: scale', '      action: k8s.scale', '      with: { namespace: shop, replicas: 3 }', '      onFailure: escalte',
  ].join('\n'));
  const bad = await check(dir);
  assert.equal(bad.code, 1);
  assert.equal(bad.out, [
    `${file}:8 spec.steps[0].with.name: k8s.scale needs parameter "name"`,
    `${file}:9 spec.steps[0].onFailure: onFailure names a missing step "escalte" (did you mean "escalate"?)`,
    '',
  ].join('\n'));
  assert.match(bad.err, /^2 problems in .* \(KM-CONFIG-001\)\n$/);
});
