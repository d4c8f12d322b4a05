// The step graph: default edges, where each outcome leads, which steps can
// have run before another, and the structural problems that stop a runbook
// from loading (cycles named step by step, missing and unreachable steps).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RunbookSchema } from '../../src/runbooks/schema.ts';
import { buildGraph, closest } from '../../src/runbooks/graph.ts';

type StepIn = { id: string; action?: string; onSuccess?: string; onFailure?: string; onTimeout?: string };

function runbook(steps: StepIn[], start?: string) {
  return RunbookSchema.parse({
    apiVersion: 'kubemend.dev/v1alpha1',
    kind: 'Runbook',
    metadata: { name: 'rb' },
    spec: { ...(start ? { start } : {}), steps: steps.map((s) => ({ action: 'notify', ...s })) },
  });
}

function graphOf(steps: StepIn[], start?: string) {
  const { graph, problems } = buildGraph(runbook(steps, start));
  assert.deepEqual(problems, []);
  return graph;
}

test('default edges: success falls through to the next step (end after the last), failure escalates, timeout follows failure', () => {
  const g = graphOf([{ id: 'a' }, { id: 'b', onFailure: 'c' }, { id: 'c' }]);
  assert.equal(g.start, 'a');
  assert.deepEqual(g.edges('a'), { success: 'b', failure: 'escalate', timeout: 'escalate' });
  assert.deepEqual(g.edges('b'), { success: 'c', failure: 'c', timeout: 'c' });
  assert.deepEqual(g.edges('c'), { success: 'end', failure: 'escalate', timeout: 'escalate' });
  assert.equal(g.next('b', 'timeout'), 'c');
  assert.throws(() => g.next('zz', 'success'), /has no step "zz"/);
});

test('explicit edges, onTimeout apart from onFailure, and a start other than the first step', () => {
  const g = graphOf([
    { id: 'notify', onSuccess: 'end', onFailure: 'end' },
    { id: 'wait', onSuccess: 'notify', onFailure: 'escalate', onTimeout: 'notify' },
  ], 'wait');
  assert.equal(g.start, 'wait');
  assert.equal(g.next('wait', 'success'), 'notify');
  assert.equal(g.next('wait', 'failure'), 'escalate');
  assert.equal(g.next('wait', 'timeout'), 'notify');
  assert.equal(g.next('notify', 'failure'), 'end');
});

test('before(): every step on some path from start to the step, across success and failure edges', () => {
  // collect → (ok) rollback | (fail) notifyFail; rollback → wait → notify; notifyFail → notify
  const g = graphOf([
    { id: 'collect', onFailure: 'notifyFail' },
    { id: 'rollback' },
    { id: 'wait', onSuccess: 'notify' },
    { id: 'notifyFail', onSuccess: 'notify' },
    { id: 'notify' },
  ]);
  assert.deepEqual([...g.before('collect')], []);
  assert.deepEqual([...g.before('wait')].sort(), ['collect', 'rollback']);
  assert.deepEqual([...g.before('notify')].sort(), ['collect', 'notifyFail', 'rollback', 'wait']);
  assert.deepEqual([...g.before('notifyFail')], ['collect']);
});

test('steps keep file order in the map', () => {
  const g = graphOf([{ id: 'b', onSuccess: 'a' }, { id: 'a', onSuccess: 'end' }]);
  assert.deepEqual([...g.steps.keys()], ['b', 'a']);
});

test('each cycle is named once, at the edge that closes it', () => {
  const { problems } = buildGraph(runbook([
    { id: 'a', onFailure: 'c' },
    { id: 'b', onSuccess: 'a' },
    { id: 'c', onSuccess: 'd' },
    { id: 'd', onSuccess: 'c', onFailure: 'c' },
  ]));
  assert.deepEqual(problems, [
    { path: ['spec', 'steps', 1, 'onSuccess'], message: 'cycle: a → b → a; repeat work with retries, not edges back' },
    { path: ['spec', 'steps', 3, 'onSuccess'], message: 'cycle: c → d → c; repeat work with retries, not edges back' },
  ]);
});

test('a cycle closed by a default edge says so and points at the step', () => {
  const { problems } = buildGraph(runbook([{ id: 'a' }, { id: 'b', onFailure: 'a' }], 'b'));
  assert.deepEqual(problems, [{ path: ['spec', 'steps', 0], message: 'cycle: b → a → b (through the default onSuccess: the next step in the list); repeat work with retries, not edges back' }]);
});

test('a cycle through a defaulted onTimeout is reported at the onFailure that sets it', () => {
  const { problems } = buildGraph(runbook([{ id: 'a', onSuccess: 'end' }, { id: 'b', onSuccess: 'end', onFailure: 'b' }], 'b'));
  assert.equal(problems.length, 2, JSON.stringify(problems));
  assert.deepEqual(problems[0], { path: ['spec', 'steps', 1, 'onFailure'], message: 'cycle: b → b; repeat work with retries, not edges back' });
  assert.match(problems[1].message, /step "a" is unreachable/);
});

test('missing edge targets suggest the closest id or list the known ones, end and escalate included', () => {
  const { problems } = buildGraph(runbook([{ id: 'collect', onSuccess: 'rollbak', onFailure: 'escalte', onTimeout: 'xyzzy' }, { id: 'rollback' }]));
  assert.deepEqual(problems.map((p) => p.message), [
    'onSuccess names a missing step "rollbak" (did you mean "rollback"?)',
    'onFailure names a missing step "escalte" (did you mean "escalate"?)',
    'onTimeout names a missing step "xyzzy" (known: collect, rollback, end, escalate)',
  ]);
});

test('unreachable steps are errors, reported at their id', () => {
  const { problems } = buildGraph(runbook([{ id: 'a', onSuccess: 'end' }, { id: 'b' }, { id: 'c' }]));
  assert.deepEqual(problems, [
    { path: ['spec', 'steps', 1, 'id'], message: 'step "b" is unreachable from the start step "a": no edge leads to it' },
    { path: ['spec', 'steps', 2, 'id'], message: 'step "c" is unreachable from the start step "a": no edge leads to it' },
  ]);
});

test('a step reached only through a failure edge is reachable', () => {
  const g = graphOf([{ id: 'a', onSuccess: 'end', onFailure: 'cleanup' }, { id: 'cleanup' }]);
  assert.equal(g.next('a', 'failure'), 'cleanup');
});

test('closest(): near names by edit distance, case-insensitive', () => {
  assert.equal(closest('k8s.rolback', ['k8s.rollback', 'k8s.scale']), ' (did you mean "k8s.rollback"?)');
  assert.equal(closest('WaitRollout', ['waitRollout']), ' (did you mean "waitRollout"?)');
  assert.equal(closest('zzz', ['collect']), ' (known: collect)');
});
