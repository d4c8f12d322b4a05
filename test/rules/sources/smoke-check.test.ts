// A smoke window's judgement, look by look, on pods as the API serves them:
// what counts as a regression, and what a pod brought with it into the
// window does not.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SmokeCheck } from '../../../src/rules/sources/smoke-check.ts';
import type { KubeObject } from '../../../src/kube/index.ts';

const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

interface PodOpts {
  created?: number;
  restarts?: number;
  ready?: boolean;
  waiting?: string;
  last?: { reason: string; exitCode: number; finishedAt: number };
}

function pod(name: string, o: PodOpts = {}): KubeObject {
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name, namespace: 'shop', uid: `uid-${name}`, creationTimestamp: iso(o.created ?? T0) },
    status: {
      conditions: [{ type: 'Ready', status: o.ready ? 'True' : 'False', ...(o.ready ? {} : { reason: 'ContainersNotReady' }) }],
      containerStatuses: [{
        name: 'web', restartCount: o.restarts ?? 0, ready: o.ready ?? false,
        state: o.waiting ? { waiting: { reason: o.waiting } } : { running: { startedAt: iso(T0) } },
        ...(o.last ? { lastState: { terminated: { reason: o.last.reason, exitCode: o.last.exitCode, finishedAt: iso(o.last.finishedAt) } } } : {}),
      }],
    },
  };
}

test('a healthy new pod: nothing during the window, nothing at its end', () => {
  const c = new SmokeCheck(T0);
  assert.deepEqual(c.look([pod('a', { created: T0 + 1000 })], T0 + 2000), []);
  assert.deepEqual(c.look([pod('a', { created: T0 + 1000, ready: true })], T0 + 5000), []);
  assert.deepEqual(c.atEnd([pod('a', { created: T0 + 1000, ready: true })], T0 + 60_000, 60_000, 1, '2'), []);
});

test('a crash of a pod born in the window is a regression at once, before its restart is counted', () => {
  const c = new SmokeCheck(T0);
  const crashed = pod('a', { created: T0 + 1000, waiting: 'CrashLoopBackOff', last: { reason: 'Error', exitCode: 2, finishedAt: T0 + 3000 } });
  const [r] = c.look([crashed], T0 + 3000);
  assert.deepEqual([r.type, r.pod, r.container, r.reason, r.exitCode, r.message], ['restart', 'a', 'web', 'Error', 2, 'pod a container web exited (Error, exit 2)']);
});

test('restarts count from the first look: a pod the revision already ran keeps its old restarts out of the window', () => {
  const c = new SmokeCheck(T0);
  // A rollback to a ReplicaSet that kept serving: its pod crashed twice last week.
  const old = (restarts: number, finishedAt: number) => pod('old', { created: T0 - 7 * 86_400_000, restarts, ready: true, last: { reason: 'Error', exitCode: 1, finishedAt } });
  assert.deepEqual(c.look([old(2, T0 - 86_400_000)], T0 + 1000), []);
  assert.deepEqual(c.look([old(2, T0 - 86_400_000)], T0 + 30_000), []);
  const [r] = c.look([old(3, T0 + 40_000)], T0 + 41_000);
  assert.equal(r.message, 'pod old container web restarted 1 time(s) (last Error, exit 1)');
});

test('an OOMKill is its own kind of regression', () => {
  const c = new SmokeCheck(T0);
  const [r] = c.look([pod('a', { created: T0, restarts: 1, last: { reason: 'OOMKilled', exitCode: 137, finishedAt: T0 + 4000 } })], T0 + 5000);
  assert.deepEqual([r.type, r.reason, r.message], ['oom-killed', 'OOMKilled', 'pod a container web was OOMKilled and restarted 1 time(s) (last OOMKilled, exit 137)']);
});

test('a pod that was ready and is not any more regresses; one that is not ready yet does not', () => {
  const c = new SmokeCheck(T0);
  assert.deepEqual(c.look([pod('a', { created: T0 }), pod('b', { created: T0 })], T0 + 1000), [], 'starting up');
  assert.deepEqual(c.look([pod('a', { created: T0, ready: true }), pod('b', { created: T0 })], T0 + 5000), []);
  const found = c.look([pod('a', { created: T0 }), pod('b', { created: T0 })], T0 + 9000);
  assert.deepEqual(found.map((r) => `${r.type} ${r.pod}`), ['unready a']);
  assert.equal(found[0].message, 'pod a was ready and is not ready any more (ContainersNotReady)');
});

test('at the end: a pod never ready after half the window regresses, a young one is still starting', () => {
  const c = new SmokeCheck(T0);
  const pods = [pod('early', { created: T0, waiting: 'ImagePullBackOff' }), pod('late', { created: T0 + 50_000 }), pod('ok', { created: T0, ready: true })];
  c.look(pods, T0 + 55_000);
  const found = c.atEnd(pods, T0 + 60_000, 60_000, 3, '4');
  assert.deepEqual(found.map((r) => `${r.type} ${r.pod} ${r.reason}`), ['never-ready early ImagePullBackOff']);
  assert.equal(found[0].message, 'pod early never became ready in the window (ImagePullBackOff)');
});

test('at the end: a revision with no ready pod fails while the workload wants pods, and passes at zero replicas', () => {
  const c = new SmokeCheck(T0);
  const young = [pod('late', { created: T0 + 45_000 })];
  assert.deepEqual(c.atEnd(young, T0 + 60_000, 60_000, 2, '4').map((r) => r.message), ['no pod of revision 4 became ready in the window (1 pod(s))']);
  assert.deepEqual(c.atEnd([], T0 + 60_000, 60_000, 2, undefined).map((r) => r.message), ['the new revision has no pods at the end of the window']);
  assert.deepEqual(c.atEnd([], T0 + 60_000, 60_000, 0, '4'), [], 'scaled to zero: nothing to be ready');
});
