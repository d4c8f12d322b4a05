// The engine's chain on synthetic signals in virtual time: alerts open and
// resolve, silences record, rate limits withhold runbooks, holds re-check
// the cache before firing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../../src/common/clock.ts';
import { loadRules } from '../../src/rules/loader.ts';
import { DetectionEngine, type DetectionChange } from '../../src/rules/engine.ts';
import type { Detection, Signal } from '../../src/rules/types.ts';
import type { KubeObject } from '../../src/kube/types.ts';

function rulesFrom(yaml: string) {
  const dir = mkdtempSync(join(tmpdir(), 'km-rules-'));
  writeFileSync(join(dir, 'r.yaml'), yaml);
  return loadRules(dir);
}

function engine(yaml: string, lookup?: (c: string, k: string, ns?: string) => KubeObject[]) {
  const clock = new ManualClock();
  const changes: [DetectionChange, Detection][] = [];
  const actions: Detection[] = [];
  const e = new DetectionEngine({
    clock,
    rules: rulesFrom(yaml),
    lookup,
    hooks: { onDetection: (d, c) => changes.push([c, { ...d }]), onAction: (d) => actions.push(d) },
  });
  return { clock, e, changes, actions };
}

const alert = (status: 'firing' | 'resolved', pod: string): Signal => ({
  source: 'alert',
  cluster: 'prod',
  time: 0,
  alert: { status, labels: { alertname: 'HighErrorRate', namespace: 'shop', pod, severity: 'critical' }, annotations: { summary: 'errors' } },
});

test('an Alertmanager alert opens a detection about the pod it names, and resolves with it', () => {
  const { e, changes } = engine(`apiVersion: kubemend.dev/v1alpha1
kind: Rule
metadata: { name: high-error-rate }
spec:
  source: alert
  match: { alertNames: [HighErrorRate] }
  when: alert.status == 'firing'
  severity: critical
`);
  e.ingest(alert('firing', 'web-1'));
  e.ingest(alert('firing', 'web-1'));
  e.ingest(alert('resolved', 'web-1'));
  assert.deepEqual(changes.map(([c]) => c), ['opened', 'repeated', 'resolved']);
  const d = changes[0][1];
  assert.deepEqual([d.subject.kind, d.subject.namespace, d.subject.name, d.cluster], ['Pod', 'shop', 'web-1', 'prod']);
  assert.equal(changes[1][1].count, 2);
});

test('a silenced detection is recorded as silenced and starts no runbook', () => {
  const { e, changes, actions } = engine(`apiVersion: kubemend.dev/v1alpha1
kind: Rule
metadata: { name: deploy-failed }
spec:
  source: webhook
  match: { webhooks: [ci] }
  when: webhook.body.status == 'failed'
  subject: "{'kind': 'Deployment', 'namespace': webhook.body.namespace, 'name': webhook.body.app}"
  action: { runbook: bad-deploy }
`);
  e.silences.add({ matchers: ['namespace=shop'], duration: '1h', createdBy: 'bob', comment: 'migration' });
  e.ingest({ source: 'webhook', cluster: 'prod', time: 0, webhook: { name: 'ci', body: { status: 'failed', namespace: 'shop', app: 'cart' } } });
  e.ingest({ source: 'webhook', cluster: 'prod', time: 0, webhook: { name: 'ci', body: { status: 'failed', namespace: 'blog', app: 'web' } } });
  e.ingest({ source: 'webhook', cluster: 'prod', time: 0, webhook: { name: 'ci', body: { status: 'passed', namespace: 'blog', app: 'api' } } });
  assert.deepEqual(changes.map(([c, d]) => `${c} ${d.subject.name}`), ['silenced cart', 'opened web']);
  assert.equal(e.detections().find((d) => d.subject.name === 'cart')?.status, 'silenced');
  assert.deepEqual(actions.map((d) => d.subject.name), ['web']);
});

test('a rate limit withholds runbooks beyond max per period but records every detection', async () => {
  const { e, clock, actions, changes } = engine(`apiVersion: kubemend.dev/v1alpha1
kind: Rule
metadata: { name: node-down }
spec:
  source: object
  match: { kinds: [Node] }
  when: object.status.conditions.exists(c, c.type == 'Ready' && c.status != 'True')
  rateLimit: { max: 2, per: 1h }
  action: { runbook: node-unhealthy }
`);
  const node = (name: string): KubeObject => ({ kind: 'Node', metadata: { name }, status: { conditions: [{ type: 'Ready', status: 'Unknown' }] } });
  for (const n of ['a', 'b', 'c', 'd']) e.ingest({ source: 'object', cluster: 'prod', time: 0, operation: 'update', object: node(n) });
  assert.equal(e.detections().length, 4);
  assert.deepEqual(actions.map((d) => d.subject.name), ['a', 'b']);
  assert.deepEqual(e.detections().filter((d) => d.suppressed === 'rate-limit').map((d) => d.subject.name), ['c', 'd']);
  // Already marked when the sinks hear of it: remediation starts runbooks from onDetection, and reads this.
  assert.deepEqual(changes.filter(([c, d]) => c === 'opened' && d.suppressed === 'rate-limit').map(([, d]) => d.subject.name), ['c', 'd']);
  await clock.advance(3_600_000);
  e.ingest({ source: 'object', cluster: 'prod', time: 0, operation: 'update', object: node('e') });
  assert.deepEqual(actions.map((d) => d.subject.name), ['a', 'b', 'e']);
});

test('a for-hold re-checks the cached object when it falls due', async () => {
  const cache = new Map<string, KubeObject>();
  const pod = (name: string, phase: string): KubeObject => ({ kind: 'Pod', metadata: { name, namespace: 'ml', creationTimestamp: '2026-01-01T00:00:00Z' }, status: { phase } });
  const { e, clock, changes } = engine(`apiVersion: kubemend.dev/v1alpha1
kind: Rule
metadata: { name: pending-too-long }
spec:
  source: object
  match: { kinds: [Pod] }
  when: object.status.phase == 'Pending'
  for: 5m
`, (_c, kind) => (kind === 'Pod' ? [...cache.values()] : []));
  for (const n of ['stuck', 'brief']) {
    cache.set(n, pod(n, 'Pending'));
    e.ingest({ source: 'object', cluster: 'c', time: 0, operation: 'create', object: pod(n, 'Pending') });
  }
  await clock.advance(60_000);
  cache.set('brief', pod('brief', 'Running'));
  e.ingest({ source: 'object', cluster: 'c', time: 0, operation: 'update', object: pod('brief', 'Running'), oldObject: pod('brief', 'Pending') });
  await clock.advance(239_999);
  assert.equal(changes.length, 0);
  await clock.advance(1);
  assert.deepEqual(changes.map(([c, d]) => `${c} ${d.subject.name}`), ['opened stuck']);
});

test('a detection that fires again within resolveAfter of resolving, on a new resourceVersion, is reopened with the same id', async () => {
  const pod = (rv: string, phase: string): KubeObject => ({ kind: 'Pod', metadata: { name: 'job-1', namespace: 'batch', uid: 'u1', resourceVersion: rv, creationTimestamp: '2026-01-01T00:00:00Z' }, status: { phase } });
  const { e, clock, changes } = engine(`apiVersion: kubemend.dev/v1alpha1
kind: Rule
metadata: { name: pod-failed }
spec:
  source: object
  match: { kinds: [Pod] }
  when: object.status.phase == 'Failed'
  resolveAfter: 2m
`);
  const update = (rv: string, phase: string, old: KubeObject) => e.ingest({ source: 'object', cluster: 'c', time: clock.now(), operation: 'update', object: pod(rv, phase), oldObject: old });
  e.ingest({ source: 'object', cluster: 'c', time: clock.now(), operation: 'create', object: pod('1', 'Failed') });
  update('2', 'Running', pod('1', 'Failed'));
  await clock.advance(2 * 60_000);
  await clock.advance(60_000);
  update('3', 'Failed', pod('2', 'Running'));
  assert.deepEqual(changes.map(([c]) => c), ['opened', 'resolved', 'reopened']);
  const [opened, , reopened] = changes.map(([, d]) => d);
  assert.equal(reopened.id, opened.id, 'the same detection, not a new one');
  assert.equal(reopened.count, 2);
  assert.equal(reopened.status, 'open');
  assert.equal(e.detections().length, 1);
  // Past the window it is a new problem, with a new id.
  update('4', 'Running', pod('3', 'Failed'));
  await clock.advance(2 * 60_000);
  await clock.advance(2 * 60_000 + 1);
  update('5', 'Failed', pod('4', 'Running'));
  assert.deepEqual(changes.map(([c]) => c).slice(3), ['resolved', 'opened']);
  assert.notEqual(changes[4][1].id, opened.id);
  e.stop();
});

const rolloutRule = (action: string) => `apiVersion: kubemend.dev/v1alpha1
kind: Rule
metadata: { name: rollout-regression }
spec:
  source: rollout
  match: { kinds: [Deployment] }
  when: rollout.phase == 'failed'
  resolveAfter: 1m
  action: ${action}
`;

function rolloutSignal(phase: string, healthy: boolean): Signal {
  const workload = { kind: 'Deployment', namespace: 'shop', name: 'web' };
  return {
    source: 'rollout', cluster: 'prod', time: 0,
    object: { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'shop', uid: 'u1' } },
    rollout: {
      id: `w@${phase}`, cluster: 'prod', phase: phase as never, regressions: [], pods: 1, readyPods: 0, time: 0,
      window: { ms: 60_000, opensAt: 0, closesAt: 60_000, setBy: 'the default' },
      change: { workload, images: {}, summary: 'image a → b (container a)', at: 0, observedAt: 0, previous: { images: {}, healthy, readyReplicas: 1 } },
    },
  };
}

test('rollout signals: rules judge a window\'s outcome; an offered runbook is not an action; a passing window resolves the detection', async () => {
  const { e, clock, changes, actions } = engine(rolloutRule('{ runbook: bad-deploy, mode: offer }'));
  e.ingest(rolloutSignal('started', true));
  assert.equal(changes.length, 0, 'a window that only started is not judged');
  e.ingest(rolloutSignal('failed', true));
  assert.deepEqual(changes.map(([c, d]) => `${c} ${d.subject.kind}/${d.subject.name} ${d.evidence[0].type}`), ['opened Deployment/web rollout']);
  assert.equal(changes[0][1].action?.mode, 'offer');
  assert.deepEqual(actions, [], 'offered: no action hook');
  e.ingest(rolloutSignal('passed', false));
  await clock.advance(60_000);
  assert.deepEqual(changes.map(([c]) => c), ['opened', 'resolved']);
});

test('a rollout detection resolves at once when its workload is deleted during a later window', () => {
  const { e, changes } = engine(rolloutRule('{ runbook: bad-deploy, mode: offer }'));
  e.ingest(rolloutSignal('failed', true));
  e.ingest(rolloutSignal('cancelled', true));
  assert.deepEqual(changes.map(([c]) => c), ['opened', 'resolved']);
});

test('action.when decides at each firing whether the runbook is withheld, and why', () => {
  const { e, changes, actions } = engine(rolloutRule(`
    runbook: bad-deploy
    when: rollout.change.previous.healthy == true
    skipReason: no healthy revision to go back to`));
  e.ingest(rolloutSignal('failed', false));
  assert.equal(changes[0][1].action?.withheld, 'no healthy revision to go back to');
  assert.equal(changes[0][1].action?.mode, undefined, 'auto is the default and not written');
  assert.deepEqual(actions, []);
  e.ingest(rolloutSignal('failed', true));
  assert.deepEqual(changes.map(([c]) => c), ['opened', 'repeated']);
  assert.equal(changes[1][1].action?.withheld, undefined, 'it holds now: no longer withheld');
});

test('each rule remembers which objects hold it on its own: two rules on one pod, and two pods of one subject', async () => {
  const pod = (name: string, rv: string, phase: string, restarts: number): KubeObject => ({
    kind: 'Pod',
    metadata: { name, namespace: 'shop', uid: name, resourceVersion: rv, creationTimestamp: '2026-01-01T00:00:00Z', labels: { 'pod-template-hash': 'abc' }, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-abc', uid: 'rs', controller: true }] },
    status: { phase, containerStatuses: [{ name: 'app', restartCount: restarts }] },
  });
  const { e, clock, changes } = engine(`apiVersion: kubemend.dev/v1alpha1
kind: Rule
metadata: { name: failed }
spec:
  source: object
  match: { kinds: [Pod] }
  when: object.status.phase == 'Failed'
  subject: "{'kind': owner(object).kind, 'name': owner(object).name, 'namespace': object.metadata.namespace}"
  resolveAfter: 1m
---
apiVersion: kubemend.dev/v1alpha1
kind: Rule
metadata: { name: restarting }
spec:
  source: object
  match: { kinds: [Pod] }
  when: object.status.containerStatuses.exists(c, c.restartCount > 3)
  resolveAfter: 1m
`);
  const at = () => clock.now();
  const prev: Record<string, KubeObject> = {};
  const put = (o: KubeObject) => {
    const old = prev[o.metadata.name!];
    prev[o.metadata.name!] = o;
    e.ingest({ source: 'object', cluster: 'c', time: at(), operation: old ? 'update' : 'create', object: o, oldObject: old });
  };
  put(pod('a', '1', 'Failed', 5));
  put(pod('b', '1', 'Failed', 0));
  assert.deepEqual(changes.map(([c, d]) => `${c} ${d.rule} ${d.subject.name}`), ['opened failed web', 'opened restarting a', 'repeated failed web']);
  changes.length = 0;
  // a stops failing but still restarts: its `failed` hold ends, `restarting` holds on; the Deployment still fails through b.
  put(pod('a', '2', 'Running', 5));
  await clock.advance(2 * 60_000);
  assert.equal(changes.length, 0, 'b still holds the subject; a still restarts');
  // b recovers too: the subject resolves; a's restarting detection stays open.
  put(pod('b', '2', 'Running', 0));
  await clock.advance(2 * 60_000);
  assert.deepEqual(changes.map(([c, d]) => `${c} ${d.rule} ${d.subject.name}`), ['resolved failed web']);
  assert.deepEqual(e.detections().filter((d) => d.status === 'open').map((d) => `${d.rule} ${d.subject.name}`), ['restarting a']);
  e.stop();
});

test("rules firing on one change share its masked diff; the next change gets its own", () => {
  const pod = (rv: string, phase: string, image: string, name = 'p'): KubeObject => ({ kind: 'Pod', metadata: { name, namespace: 'shop', uid: 'u', resourceVersion: rv }, spec: { containers: [{ name: 'app', image }] }, status: { phase } });
  const rule = (name: string) => `apiVersion: kubemend.dev/v1alpha1
kind: Rule
metadata: { name: ${name} }
spec:
  source: object
  match: { kinds: [Pod] }
  when: object.status.phase == 'Failed'
`;
  const { e, changes } = engine([rule('a'), rule('b')].join('---\n'));
  const evidence = () => changes.map(([, d]) => d.evidence.at(-1)!.diff);
  e.ingest({ source: 'object', cluster: 'c', time: 0, operation: 'update', object: pod('2', 'Failed', 'app:2'), oldObject: pod('1', 'Running', 'app:1') });
  const [a, b] = evidence();
  assert.equal(a, b, 'one diff for both rules');
  assert.deepEqual(a!.map((c) => c.path).sort(), ['spec.containers[name=app].image', 'status.phase']);
  assert.ok(a!.some((c) => c.path.includes('image') && c.new === 'app:2'));
  changes.length = 0;
  e.ingest({ source: 'object', cluster: 'c', time: 0, operation: 'update', object: pod('3', 'Failed', 'app:3', 'q'), oldObject: pod('2', 'Running', 'app:2', 'q') });
  const [a2] = evidence();
  assert.notEqual(a2, a);
  assert.ok(a2!.some((c) => c.path.includes('image') && c.old === 'app:2' && c.new === 'app:3'));
  e.stop();
});

test("a rule's lookups read the caches of the signal's own cluster, signal after signal", () => {
  const caches: Record<string, KubeObject[]> = {
    east: [{ kind: 'ConfigMap', metadata: { name: 'flag', namespace: 'shop' } }],
    west: [],
  };
  const { e, changes } = engine(`apiVersion: kubemend.dev/v1alpha1
kind: Rule
metadata: { name: flagged }
spec:
  source: object
  match: { kinds: [Pod] }
  when: objects('ConfigMap', object.metadata.namespace).exists(c, c.metadata.name == 'flag')
`, (cluster, kind) => (kind === 'ConfigMap' ? caches[cluster] ?? [] : []));
  const pod = (name: string): KubeObject => ({ kind: 'Pod', metadata: { name, namespace: 'shop', uid: name } });
  for (const cluster of ['west', 'east', 'west', 'east']) e.ingest({ source: 'object', cluster, time: 0, operation: 'create', object: pod(`${cluster}-${changes.length}`) });
  assert.deepEqual(changes.map(([c, d]) => `${c} ${d.cluster}`), ['opened east', 'opened east']);
  e.stop();
});
