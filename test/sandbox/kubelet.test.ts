import { test } from 'node:test';
import assert from 'node:assert/strict';
import { harness, type Harness } from './harness.ts';
import { buildNode, type NodeSpec } from '../../src/sandbox/cluster.ts';
import { KubeletController } from '../../src/sandbox/controllers/kubelet.ts';
import { podDisplayStatus } from '../../src/sandbox/podstatus.ts';
import type { ImageBehaviour } from '../../src/sandbox/images.ts';
import type { K8sObject } from '../../src/sandbox/types.ts';

const MI = 1024 * 1024;

function setup(images: Record<string, ImageBehaviour> = {}, node: Partial<NodeSpec> = {}, tweak?: (h: Harness) => void): Harness {
  const h = harness({ images });
  h.store.create('nodes', buildNode({ name: 'node-1', ...node }, h.clock.now()));
  tweak?.(h);
  h.run(new KubeletController());
  return h;
}

function createPod(h: Harness, name: string, containers: any[], spec: any = {}): K8sObject {
  return h.store.create('pods', { metadata: { name, namespace: 'default' }, spec: { nodeName: 'node-1', containers, ...spec } });
}

const getPod = (h: Harness, name: string) => h.store.get('pods', 'default', name)!;
const status = (h: Harness, name: string, i = 0) => getPod(h, name).status.containerStatuses[i];
const condition = (p: K8sObject, type: string) => p.status.conditions.find((c: any) => c.type === type);

/** Every status the pod was written with, and when. */
function track(h: Harness, name: string): { t: number; pod: K8sObject }[] {
  const seen: { t: number; pod: K8sObject }[] = [];
  h.store.subscribe((ev) => {
    if (ev.storage === 'pods' && ev.type === 'MODIFIED' && ev.object.metadata.name === name) seen.push({ t: h.clock.now(), pod: ev.object });
  });
  return seen;
}

test('an nginx pod is pulled, created, started and becomes Running and Ready', async () => {
  const h = setup();
  const t0 = h.clock.now();
  createPod(h, 'web', [{ name: 'app', image: 'nginx:1.27' }]);
  await h.advance(1);
  assert.equal(status(h, 'web').state.waiting.reason, 'ContainerCreating');
  assert.equal(getPod(h, 'web').status.phase, 'Pending');
  assert.equal(h.events('Pulling')[0].message, 'Pulling image "nginx:1.27"');

  await h.advance(2_000);
  const pod = getPod(h, 'web');
  assert.match(h.events('Pulled')[0].message, /^Successfully pulled image "nginx:1\.27" in 2s \(2s including waiting\)\. Image size: \d+ bytes\.$/);
  assert.equal(h.events('Created')[0].message, 'Created container: app');
  assert.equal(h.events('Started')[0].message, 'Started container app');
  assert.equal(h.events('Started')[0].involvedObject.fieldPath, 'spec.containers{app}');
  assert.equal(h.events('Started')[0].source.host, 'node-1');
  assert.equal(pod.status.phase, 'Running');
  assert.match(pod.status.podIP, /^10\.244\.\d+\.\d+$/);
  assert.ok(pod.status.hostIP);
  assert.deepEqual(pod.status.podIPs, [{ ip: pod.status.podIP }]);
  assert.equal(pod.status.qosClass, 'BestEffort');
  assert.equal(Date.parse(pod.status.startTime), t0);
  assert.deepEqual(pod.status.conditions.map((c: any) => [c.type, c.status]), [
    ['PodReadyToStartContainers', 'True'], ['Initialized', 'True'], ['Ready', 'True'], ['ContainersReady', 'True'], ['PodScheduled', 'True'],
  ]);
  for (const c of pod.status.conditions) assert.ok(c.lastTransitionTime);
  const cs = pod.status.containerStatuses[0];
  assert.equal(cs.image, 'docker.io/library/nginx:1.27');
  assert.match(cs.imageID, /^docker\.io\/library\/nginx@sha256:[0-9a-f]{64}$/);
  assert.match(cs.containerID, /^containerd:\/\/[0-9a-f]{64}$/);
  assert.deepEqual([cs.ready, cs.started, cs.restartCount], [true, true, 0]);
  assert.equal(Date.parse(cs.state.running.startedAt), t0 + 2_000);
  assert.deepEqual(cs.lastState, {});
  assert.deepEqual(h.ctx.logs.read('default', 'web', 'app'), ['/docker-entrypoint.sh: Configuration complete; ready for start up']);
  assert.equal(h.ctx.usage.pod('default', 'web')!.containers.get('app')!.memoryBytes, 32 * MI);

  // IfNotPresent on the same node: no second pull.
  createPod(h, 'web2', [{ name: 'app', image: 'nginx:1.27' }]);
  await h.advance(1);
  assert.equal(h.events('Pulled', 'web2')[0].message, 'Container image "nginx:1.27" already present on machine');
  assert.equal(getPod(h, 'web2').status.phase, 'Running');
  assert.notEqual(getPod(h, 'web2').status.podIP, pod.status.podIP);
  h.stop();
});

test('an unknown image goes ErrImagePull then ImagePullBackOff, retried with a growing, capped back-off', async () => {
  const h = setup({}, {}, (h) => { h.ctx.config.kubelet.maxImagePullBackoffSeconds = 40; });
  const t0 = h.clock.now();
  createPod(h, 'bad', [{ name: 'app', image: 'nope:1' }]);
  await h.advance(1_000);
  // Docker Hub answers a repository that does not exist (or is private) with "pull access denied".
  const detail = 'rpc error: code = Unknown desc = failed to pull and unpack image "docker.io/library/nope:1": failed to resolve reference "docker.io/library/nope:1": pull access denied, repository does not exist or may require authorization: server message: insufficient_scope: authorization failed';
  assert.deepEqual(status(h, 'bad').state.waiting, { reason: 'ErrImagePull', message: detail });
  assert.deepEqual(h.events('Failed').map((e) => e.message), [`Failed to pull image "nope:1": ${detail}`, 'Error: ErrImagePull']);

  await h.advance(5_000);
  assert.deepEqual(status(h, 'bad').state.waiting, { reason: 'ImagePullBackOff', message: `Back-off pulling image "nope:1": ErrImagePull: ${detail}` });
  assert.equal(h.events('BackOff')[0].message, 'Back-off pulling image "nope:1"');
  assert.equal(h.events('BackOff')[0].type, 'Normal');
  assert.ok(h.events('Failed').some((e) => e.message === 'Error: ImagePullBackOff'));
  assert.equal(podDisplayStatus(getPod(h, 'bad')), 'ImagePullBackOff');

  // Attempts start 1s pull + back-off apart: 10s, 20s, 40s, then the 40s cap.
  const attempts: number[] = [0];
  let count = 1;
  for (let s = 0; s < 200; s++) {
    await h.advance(1_000);
    const n = h.events('Pulling')[0].count;
    if (n > count) {
      attempts.push(h.clock.now() - t0);
      count = n;
    }
  }
  const gaps = attempts.slice(1).map((t, i) => (t - attempts[i]) / 1000);
  assert.deepEqual(gaps.slice(0, 5), [11, 21, 41, 41, 41]);
  assert.equal(getPod(h, 'bad').status.containerStatuses[0].restartCount, 0);

  // The image is published: the next retry pulls it and the pod starts.
  h.ctx.images.set('nope:1', { pullSeconds: 3 });
  await h.advance(45_000);
  assert.equal(getPod(h, 'bad').status.phase, 'Running');
  assert.ok(status(h, 'bad').state.running);
  h.stop();
});

test('a crashing container goes into CrashLoopBackOff with back-off 10s, 20s, 40s … capped at 300s', async () => {
  const h = setup({ 'crash:1': { exitAfterSeconds: 1, exitCode: 2 } });
  const seen = track(h, 'crash');
  const created = createPod(h, 'crash', [{ name: 'app', image: 'crash:1' }]);
  await h.advance(4_000);
  const cs = status(h, 'crash');
  const uid = created.metadata.uid;
  assert.deepEqual(cs.state.waiting, { reason: 'CrashLoopBackOff', message: `back-off 10s restarting failed container=app pod=crash_default(${uid})` });
  assert.equal(cs.lastState.terminated.exitCode, 2);
  assert.equal(cs.lastState.terminated.reason, 'Error');
  assert.equal(cs.restartCount, 0);
  assert.equal(getPod(h, 'crash').status.phase, 'Running');
  assert.equal(podDisplayStatus(getPod(h, 'crash')), 'CrashLoopBackOff');
  const backoff = h.events('BackOff')[0];
  assert.equal(backoff.type, 'Warning');
  assert.equal(backoff.message, `Back-off restarting failed container app in pod crash_default(${uid})`);

  await h.advance(30 * 60_000);
  // Back-off = restart time − exit time, read from the written statuses.
  const exits: number[] = [];
  const restarts: number[] = [];
  let rc = 0;
  for (const { t, pod } of seen) {
    const s = pod.status.containerStatuses?.[0];
    if (!s) continue;
    if (s.state.waiting?.reason === 'CrashLoopBackOff' && exits.length === restarts.length) exits.push(t);
    if (s.restartCount > rc) {
      rc = s.restartCount;
      restarts.push(t);
    }
  }
  const delays = restarts.map((t, i) => (t - exits[i]) / 1000);
  assert.deepEqual(delays.slice(0, 8), [10, 20, 40, 80, 160, 300, 300, 300]);
  assert.match(status(h, 'crash').state.waiting?.message ?? '', /^back-off 5m0s restarting failed container=app/);
  assert.equal(h.events('BackOff').length, 1, 'BackOff events aggregate into one Event');
  assert.equal(h.events('BackOff')[0].count, restarts.length + 1);
  assert.equal(h.events('Started')[0].count, restarts.length + 1);
  h.stop();
});

test('a container that ran ten minutes restarts after the initial back-off again', async () => {
  const h = setup({ 'slow-crash:1': { exitAfterSeconds: 660 } });
  const seen = track(h, 'sc');
  createPod(h, 'sc', [{ name: 'app', image: 'slow-crash:1' }]);
  await h.advance(40 * 60_000);
  const starts = seen.filter(({ pod }, i) => i > 0 && pod.status.containerStatuses[0].restartCount > seen[i - 1].pod.status.containerStatuses[0].restartCount);
  const runs = starts.map(({ pod }) => Date.parse(pod.status.containerStatuses[0].state.running.startedAt) - Date.parse(pod.status.containerStatuses[0].lastState.terminated.finishedAt));
  assert.ok(runs.length >= 2);
  assert.deepEqual(runs, runs.map(() => 10_000));
  h.stop();
});

test('with maxContainerRestartPeriodSeconds 1 the pod restarts every couple of seconds with few writes per restart', async () => {
  const h = setup({ 'flap:1': { exitAfterSeconds: 1 } }, {}, (h) => { h.ctx.config.kubelet.maxContainerRestartPeriodSeconds = 1; });
  createPod(h, 'storm', [{ name: 'app', image: 'flap:1' }]);
  await h.advance(10 * 60_000);
  const restarts = status(h, 'storm').restartCount;
  assert.ok(restarts >= 280 && restarts <= 300, `restartCount ${restarts}`);
  const writes = h.store.writes.get('update pods') ?? 0;
  assert.ok(writes <= restarts * 3, `${writes} pod writes for ${restarts} restarts`);
  assert.equal(h.events('BackOff', 'storm').length, 1);
  assert.ok(h.events('BackOff', 'storm')[0].count >= 280);
  h.stop();
});

test('a leaking container is OOMKilled exactly when it crosses its memory limit', async () => {
  const h = setup({ 'leaky:1': { memoryMi: 100, leakMiPerMinute: 10 } });
  const t0 = h.clock.now();
  createPod(h, 'leak', [{ name: 'app', image: 'leaky:1', resources: { limits: { memory: '200Mi' } } }]);
  await h.advance(30_000);
  // Usage is reported at every resync and grows with the leak.
  const early = h.ctx.usage.pod('default', 'leak')!.containers.get('app')!.memoryBytes;
  assert.ok(early > 100 * MI && early < 106 * MI, `usage ${early / MI}Mi`);

  // Started at 2s; 100Mi of headroom at 10Mi/min runs out at 10m2s.
  await h.advance(602_000 - 30_000 - 1);
  assert.ok(status(h, 'leak').state.running);
  await h.advance(1);
  const cs = status(h, 'leak');
  assert.equal(cs.lastState.terminated.reason, 'OOMKilled');
  assert.equal(cs.lastState.terminated.exitCode, 137);
  assert.equal(Date.parse(cs.lastState.terminated.finishedAt), t0 + 602_000);
  assert.equal(cs.state.waiting.reason, 'CrashLoopBackOff');
  assert.equal(h.ctx.usage.pod('default', 'leak')!.containers.has('app'), false);
  assert.equal(h.events().filter((e) => /oom/i.test(e.reason)).length, 0, 'a cgroup OOM kill emits no event');
  await h.advance(10_000);
  assert.equal(status(h, 'leak').restartCount, 1);
  h.stop();
});

test('a node running out of memory OOM-kills the BestEffort hog and records SystemOOM on the node', async () => {
  const h = setup({ 'hog': { memoryMi: 200, leakMiPerMinute: 100 }, 'steady': { memoryMi: 100 } }, { memory: '1Gi' });
  createPod(h, 'steady', [{ name: 'web', image: 'steady', resources: { requests: { memory: '128Mi', cpu: '100m' }, limits: { memory: '128Mi', cpu: '100m' } } }]);
  createPod(h, 'hog', [{ name: 'hog', image: 'hog' }]);
  await h.advance(4 * 60_000);
  assert.equal(h.events('SystemOOM').length, 0);
  // 768Mi available to pods: the hog passes 668Mi at about 4m41s; the next resync notices.
  await h.advance(60_000);
  const ev = h.events('SystemOOM');
  assert.equal(ev.length, 1);
  assert.match(ev[0].message, /^System OOM encountered, victim process: hog, pid: \d+$/);
  assert.equal(ev[0].type, 'Warning');
  assert.deepEqual([ev[0].involvedObject.kind, ev[0].involvedObject.name], ['Node', 'node-1']);
  assert.equal(ev[0].involvedObject.uid, h.store.get('nodes', undefined, 'node-1')!.metadata.uid);
  assert.deepEqual(ev[0].source, { component: 'kubelet', host: 'node-1' });
  assert.equal(status(h, 'hog').lastState.terminated.reason, 'OOMKilled');
  assert.equal(status(h, 'hog').lastState.terminated.exitCode, 137);
  assert.ok(status(h, 'steady').state.running);
  assert.equal(status(h, 'steady').restartCount, 0);
  h.stop();
});

test('a deleted pod gets Killing, then is removed after the grace (at most 2s) with its usage and logs', async () => {
  const h = setup();
  createPod(h, 'web', [{ name: 'app', image: 'nginx:1.27' }]);
  await h.advance(3_000);
  h.store.delete('pods', 'default', 'web');
  await h.advance(1);
  assert.ok(getPod(h, 'web').metadata.deletionTimestamp);
  assert.equal(h.events('Killing')[0].message, 'Stopping container app');
  assert.equal(h.events('Killing')[0].involvedObject.fieldPath, 'spec.containers{app}');
  await h.advance(1_998);
  assert.ok(h.store.get('pods', 'default', 'web'));
  await h.advance(1);
  assert.equal(h.store.get('pods', 'default', 'web'), undefined);
  assert.equal(h.store.writes.get('delete pods'), 1);
  assert.equal(h.ctx.usage.pod('default', 'web'), undefined);
  assert.equal(h.ctx.logs.read('default', 'web', 'app'), undefined);

  createPod(h, 'quick', [{ name: 'app', image: 'nginx:1.27' }], { terminationGracePeriodSeconds: 1 });
  await h.advance(1_000);
  h.store.delete('pods', 'default', 'quick');
  await h.advance(1_000);
  assert.equal(h.store.get('pods', 'default', 'quick'), undefined);
  h.stop();
});

test('readiness: a probe gates Ready until readySeconds; neverReady keeps failing and aggregates Unhealthy', async () => {
  const h = setup({ 'warm': { readySeconds: 5 }, 'stuck': { neverReady: true } });
  const probe = { httpGet: { path: '/healthz', port: 8080 }, periodSeconds: 5 };
  createPod(h, 'warm', [{ name: 'app', image: 'warm', readinessProbe: probe }]);
  createPod(h, 'stuck', [{ name: 'app', image: 'stuck', readinessProbe: probe }]);
  await h.advance(4_000);
  assert.equal(status(h, 'warm').ready, false);
  assert.equal(condition(getPod(h, 'warm'), 'Ready').status, 'False');
  await h.advance(3_000);
  assert.equal(status(h, 'warm').ready, true);
  assert.equal(condition(getPod(h, 'warm'), 'Ready').status, 'True');

  await h.advance(60_000);
  const stuck = getPod(h, 'stuck');
  assert.equal(stuck.status.phase, 'Running');
  assert.equal(status(h, 'stuck').ready, false);
  assert.equal(status(h, 'stuck').started, true);
  const ready = condition(stuck, 'Ready');
  assert.deepEqual([ready.status, ready.reason, ready.message], ['False', 'ContainersNotReady', 'containers with unready status: [app]']);
  const unhealthy = h.events('Unhealthy', 'stuck');
  assert.equal(unhealthy.length, 1);
  assert.equal(unhealthy[0].message, 'Readiness probe failed: HTTP probe failed with statuscode: 503');
  assert.equal(unhealthy[0].type, 'Warning');
  assert.ok(unhealthy[0].count >= 12, `count ${unhealthy[0].count}`);
  h.stop();
});

test('restartPolicy Never ends in Succeeded or Failed; OnFailure completes after success', async () => {
  const h = setup({ 'job-ok': { exitAfterSeconds: 3, exitCode: 0 }, 'job-fail': { exitAfterSeconds: 3, exitCode: 3 } });
  createPod(h, 'ok', [{ name: 'main', image: 'job-ok' }], { restartPolicy: 'Never' });
  createPod(h, 'fail', [{ name: 'main', image: 'job-fail' }], { restartPolicy: 'Never' });
  createPod(h, 'retry', [{ name: 'main', image: 'job-ok' }], { restartPolicy: 'OnFailure' });
  await h.advance(10_000);
  const ok = getPod(h, 'ok');
  assert.equal(ok.status.phase, 'Succeeded');
  assert.deepEqual([status(h, 'ok').state.terminated.reason, status(h, 'ok').state.terminated.exitCode], ['Completed', 0]);
  assert.equal(condition(ok, 'Ready').reason, 'PodCompleted');
  assert.equal(condition(ok, 'PodReadyToStartContainers').status, 'False');
  assert.equal(getPod(h, 'fail').status.phase, 'Failed');
  assert.deepEqual([status(h, 'fail').state.terminated.reason, status(h, 'fail').state.terminated.exitCode], ['Error', 3]);
  assert.equal(getPod(h, 'retry').status.phase, 'Succeeded');
  assert.equal(h.ctx.usage.pod('default', 'ok'), undefined);
  const writes = h.store.writes.get('update pods');
  await h.advance(120_000);
  assert.equal(status(h, 'fail').restartCount, 0);
  assert.equal(h.store.writes.get('update pods'), writes, 'finished pods are left alone');
  h.stop();
});

test('init containers run first, in order, and must exit 0', async () => {
  const h = setup({ 'migrate': { exitAfterSeconds: 2, exitCode: 0 }, 'broken-init': { exitAfterSeconds: 1, exitCode: 1 } });
  createPod(h, 'app', [{ name: 'web', image: 'nginx:1.27' }], {
    initContainers: [{ name: 'migrate', image: 'migrate' }, { name: 'warm', image: 'migrate' }],
  });
  await h.advance(3_000);
  let pod = getPod(h, 'app');
  assert.equal(pod.status.phase, 'Pending');
  const init = condition(pod, 'Initialized');
  assert.deepEqual([init.status, init.reason, init.message], ['False', 'ContainersNotInitialized', 'containers with incomplete status: [migrate warm]']);
  assert.equal(pod.status.containerStatuses[0].state.waiting.reason, 'PodInitializing');
  assert.equal(podDisplayStatus(pod), 'Init:0/2');
  await h.advance(10_000);
  pod = getPod(h, 'app');
  assert.equal(pod.status.phase, 'Running');
  assert.equal(condition(pod, 'Initialized').status, 'True');
  assert.deepEqual(pod.status.initContainerStatuses.map((c: any) => [c.name, c.state.terminated.reason, c.ready]), [['migrate', 'Completed', true], ['warm', 'Completed', true]]);
  const started = h.events('Started').map((e) => e.involvedObject.fieldPath);
  assert.deepEqual(started, ['spec.initContainers{migrate}', 'spec.initContainers{warm}', 'spec.containers{web}']);

  createPod(h, 'never', [{ name: 'web', image: 'nginx:1.27' }], { restartPolicy: 'Never', initContainers: [{ name: 'init', image: 'broken-init' }] });
  createPod(h, 'loop', [{ name: 'web', image: 'nginx:1.27' }], { initContainers: [{ name: 'init', image: 'broken-init' }] });
  await h.advance(5_000);
  assert.equal(getPod(h, 'never').status.phase, 'Failed');
  assert.equal(getPod(h, 'loop').status.phase, 'Pending');
  assert.equal(podDisplayStatus(getPod(h, 'loop')), 'Init:CrashLoopBackOff');
  h.stop();
});

test('logs: start lines at each start, exit lines before an exit, previous instance after a restart', async () => {
  const h = setup({ 'talky': { exitAfterSeconds: 5, logs: ['starting {pod}/{container}'], exitLogs: ['panic: out of cheese'] } });
  createPod(h, 'talk', [{ name: 'app', image: 'talky' }]);
  await h.advance(3_000);
  assert.deepEqual(h.ctx.logs.read('default', 'talk', 'app'), ['starting talk/app']);
  assert.equal(h.ctx.logs.read('default', 'talk', 'app', { previous: true }), undefined);
  await h.advance(5_000);
  assert.deepEqual(h.ctx.logs.read('default', 'talk', 'app'), ['starting talk/app', 'panic: out of cheese']);
  await h.advance(10_000);
  assert.equal(status(h, 'talk').restartCount, 1);
  assert.deepEqual(h.ctx.logs.read('default', 'talk', 'app'), ['starting talk/app']);
  assert.deepEqual(h.ctx.logs.read('default', 'talk', 'app', { previous: true }), ['starting talk/app', 'panic: out of cheese']);
  h.stop();
});

test('an evicted pod has its containers stopped and usage cleared but stays Failed/Evicted', async () => {
  const h = setup();
  createPod(h, 'web', [{ name: 'app', image: 'nginx:1.27' }]);
  await h.advance(3_000);
  h.store.mutate('pods', 'default', 'web', (p) => {
    Object.assign(p.status, { phase: 'Failed', reason: 'Evicted', message: 'The node was low on resource: memory. ' });
  }, { subresource: 'status' });
  await h.advance(1);
  const pod = getPod(h, 'web');
  assert.deepEqual([pod.status.phase, pod.status.reason], ['Failed', 'Evicted']);
  assert.equal(pod.status.containerStatuses[0].state.terminated.exitCode, 137);
  assert.equal(pod.status.containerStatuses[0].ready, false);
  assert.equal(h.ctx.usage.pod('default', 'web'), undefined);
  await h.advance(60_000);
  assert.ok(h.store.get('pods', 'default', 'web'));
  h.stop();
});

test('nothing happens on a node whose kubelet is down; it catches up when the kubelet is back', async () => {
  const h = setup();
  h.ctx.nodeHealth.markDown('node-1', h.clock.now() + 30_000);
  createPod(h, 'web', [{ name: 'app', image: 'nginx:1.27' }]);
  await h.advance(20_000);
  assert.equal(getPod(h, 'web').status.containerStatuses, undefined);
  assert.equal(h.events('Pulling').length, 0);
  await h.advance(30_000);
  assert.equal(getPod(h, 'web').status.phase, 'Running');
  h.stop();
});

test('a sidecar starts in init order, keeps running, and is stopped when a Never pod completes', async () => {
  const h = setup({ 'task:1': { exitAfterSeconds: 5, exitCode: 0 } });
  createPod(h, 'job', [{ name: 'main', image: 'task:1' }], {
    restartPolicy: 'Never',
    initContainers: [{ name: 'proxy', image: 'nginx:1.27', restartPolicy: 'Always' }],
  });
  await h.advance(4_500);
  let pod = getPod(h, 'job');
  assert.equal(pod.status.phase, 'Running');
  assert.equal(condition(pod, 'Initialized').status, 'True');
  const proxy = pod.status.initContainerStatuses[0];
  assert.deepEqual([Boolean(proxy.state.running), proxy.ready, proxy.started], [true, true, true]);
  assert.ok(pod.status.containerStatuses[0].state.running);
  await h.advance(5_000);
  pod = getPod(h, 'job');
  assert.equal(pod.status.phase, 'Succeeded');
  assert.ok(pod.status.initContainerStatuses[0].state.terminated);
  assert.equal(h.ctx.usage.pod('default', 'job'), undefined);
  h.stop();
});
