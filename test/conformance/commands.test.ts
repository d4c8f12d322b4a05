// A container's command decides what it does, as on a node: `sleep` runs for
// that long, `exit N` fails with N, `true` completes, `sh -c` scripts write
// their output to the log; restartPolicy decides what happens next, with the
// kubelet's reasons (Completed, Error, StartError, CrashLoopBackOff) and exit
// codes. Driven by kubectl, the Python client and raw HTTP; virtual time on a
// manual clock. Behaviour from
// https://kubernetes.io/docs/concepts/workloads/pods/pod-lifecycle/ and
// https://kubernetes.io/docs/tasks/inject-data-application/define-command-argument-container/.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../src/common/clock.ts';
import { advanceBy, type Conformance, kubectlOk, needs, startConformance } from './harness.ts';

describe('container commands', { timeout: 180_000 }, () => {
  let c: Conformance;
  const clock = new ManualClock();
  const advance = (ms: number) => advanceBy(clock, ms);
  const ok = (args: string[], stdin?: string) => kubectlOk(c, args, stdin);
  const pod = async (name: string) => JSON.parse(await ok(['get', 'pod', name, '-o', 'json']));
  const status = async (name: string) => (await ok(['get', 'pod', name, '--no-headers'])).trim().split(/\s+/)[2];

  before(async () => {
    c = await startConformance({ options: { clock } });
  });
  after(async () => {
    await c?.close();
  });

  it('kubectl run --restart=Never -- sh -c "exit 3": the pod fails with exit code 3, reason Error', { skip: needs('kubectl') }, async () => {
    await ok(['run', 'fail', '--restart=Never', '--image=busybox', '--', 'sh', '-c', 'exit 3']);
    await advance(5_000);
    const p = await pod('fail');
    assert.equal(p.status.phase, 'Failed');
    const t = p.status.containerStatuses[0].state.terminated;
    assert.deepEqual([t.exitCode, t.reason], [3, 'Error']);
    assert.equal(await status('fail'), 'Error');
  });

  it('a script\'s output is the container log, written when it runs; it completes with 0 (Completed)', { skip: needs('kubectl') }, async () => {
    await ok(['run', 'talk', '--restart=Never', '--image=busybox:1.36', '--', 'sh', '-c', 'echo hello; sleep 5; echo bye']);
    await advance(3_000);
    assert.equal((await pod('talk')).status.phase, 'Running');
    assert.equal(await ok(['logs', 'talk']), 'hello\n');
    await advance(5_000);
    const p = await pod('talk');
    assert.equal(p.status.phase, 'Succeeded');
    assert.deepEqual([p.status.containerStatuses[0].state.terminated.exitCode, p.status.containerStatuses[0].state.terminated.reason], [0, 'Completed']);
    assert.equal(await ok(['logs', 'talk']), 'hello\nbye\n');
    assert.equal(await status('talk'), 'Completed');
  });

  it('sleep 3600 keeps a container running for an hour of virtual time', { skip: needs('kubectl') }, async () => {
    await ok(['run', 'sleeper', '--restart=Never', '--image=busybox', '--', 'sleep', '3600']);
    await advance(30 * 60_000);
    assert.equal(await status('sleeper'), 'Running');
    await advance(31 * 60_000);
    const p = await pod('sleeper');
    assert.equal(p.status.phase, 'Succeeded');
    const t = p.status.containerStatuses[0].state.terminated;
    assert.equal(Date.parse(t.finishedAt) - Date.parse(t.startedAt), 3_600_000);
  });

  it('restartPolicy Always restarts a failing command with back-off (CrashLoopBackOff); OnFailure keeps the previous log', { skip: needs('kubectl') }, async () => {
    await ok(['run', 'loop', '--image=busybox', '--', 'sh', '-c', 'echo starting; exit 1']);
    await ok(['apply', '-f', '-'], JSON.stringify({
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'retry' },
      spec: { restartPolicy: 'OnFailure', containers: [{ name: 'task', image: 'alpine:3.20', command: ['sh', '-c', 'echo attempt; exit 2'] }] },
    }));
    await advance(60_000);
    const loop = (await pod('loop')).status.containerStatuses[0];
    assert.equal(loop.state.waiting.reason, 'CrashLoopBackOff');
    assert.deepEqual([loop.lastState.terminated.exitCode, loop.lastState.terminated.reason], [1, 'Error']);
    assert.ok(loop.restartCount >= 2, `restarted ${loop.restartCount} times`);
    assert.equal(await status('loop'), 'CrashLoopBackOff');
    const retry = (await pod('retry')).status;
    assert.equal(retry.phase, 'Running');
    assert.equal(retry.containerStatuses[0].lastState.terminated.exitCode, 2);
    assert.equal(await ok(['logs', 'retry', '--previous']), 'attempt\n');
  });

  it('Jobs: `true` completes the Job; `false` fails it after its back-off limit', { skip: needs('kubectl') }, async () => {
    await ok(['create', 'job', 'done', '--image=busybox', '--', 'true']);
    await ok(['apply', '-f', '-'], JSON.stringify({
      apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'doomed' },
      spec: { backoffLimit: 1, template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox', command: ['false'] }] } } },
    }));
    await advance(120_000);
    const job = async (name: string) => JSON.parse(await ok(['get', 'job', name, '-o', 'json']));
    const done = await job('done');
    assert.equal(done.status.succeeded, 1);
    assert.ok(done.status.conditions.some((x: any) => x.type === 'Complete' && x.status === 'True'));
    const doomed = await job('doomed');
    assert.equal(doomed.status.failed, 2);
    assert.ok(doomed.status.conditions.some((x: any) => x.type === 'Failed' && x.reason === 'BackoffLimitExceeded'));
  });

  it('a shell builtin as the command cannot start: StartError, exit code 128, the runtime\'s message', { skip: needs('kubectl') }, async () => {
    await ok(['run', 'builtin', '--restart=Never', '--image=busybox', '--command', '--', 'exit', '1']);
    await advance(5_000);
    const t = (await pod('builtin')).status.containerStatuses[0].state.terminated;
    assert.deepEqual([t.exitCode, t.reason], [128, 'StartError']);
    assert.match(t.message, /exec: "exit": executable file not found in \$PATH/);
    const events = JSON.parse(await ok(['get', 'events', '--field-selector', 'involvedObject.name=builtin,reason=Failed', '-o', 'json'])).items;
    assert.match(events[0].message, /^Error: failed to create containerd task: .*exec: "exit": executable file not found in \$PATH: unknown$/);
  });

  it('a command outside the model keeps the image\'s behaviour (nginx stays up)', { skip: needs('kubectl') }, async () => {
    await ok(['run', 'web', '--image=nginx:1.27', '--command', '--', 'nginx', '-g', 'daemon off;']);
    await advance(10_000);
    assert.equal(await status('web'), 'Running');
    assert.match(await ok(['logs', 'web']), /Configuration complete; ready for start up/);
  });

  it('Python client: the log of a loop, with $(VAR) and $HOSTNAME expanded', { skip: needs('python3-kubernetes') }, async () => {
    const created = await c.http('POST', '/api/v1/namespaces/default/pods', {
      body: {
        apiVersion: 'v1', kind: 'Pod', metadata: { name: 'ticker' },
        spec: { containers: [{ name: 'tick', image: 'busybox', env: [{ name: 'WHO', value: 'world' }], args: ['sh', '-c', 'for i in 1 2 3; do echo "$i $(WHO) $HOSTNAME"; sleep 10; done'] }] },
      },
    });
    assert.equal(created.status, 201);
    await advance(25_000);
    const r = await c.python(`
from kubernetes import client, config
config.load_kube_config()
print(client.CoreV1Api().read_namespaced_pod_log('ticker', 'default'), end='')
`);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '1 world ticker\n2 world ticker\n3 world ticker\n');
  });

  it('raw HTTP: a finished container\'s state as the kubelet reports it', async () => {
    const p = (await c.http('GET', '/api/v1/namespaces/default/pods/fail')).json();
    const t = p.status.containerStatuses[0].state.terminated;
    assert.equal(t.exitCode, 3);
    assert.equal(t.reason, 'Error');
    assert.match(t.containerID, /^containerd:\/\/[0-9a-f]{64}$/);
    assert.ok(Date.parse(t.finishedAt) >= Date.parse(t.startedAt));
  });
});
