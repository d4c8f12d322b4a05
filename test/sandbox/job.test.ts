import { test } from 'node:test';
import assert from 'node:assert/strict';
import { k8sTime } from '../../src/common/clock.ts';
import { harness, type Harness } from './harness.ts';
import { JobController, JOB_TRACKING_FINALIZER } from '../../src/sandbox/controllers/job.ts';
import type { K8sObject } from '../../src/sandbox/types.ts';

const JOBS = 'batch/jobs';

function job(spec: Record<string, unknown> = {}): K8sObject {
  return {
    metadata: { name: 'pi', namespace: 'default' },
    spec: { template: { spec: { containers: [{ name: 'pi', image: 'perl:5.40' }], restartPolicy: 'Never' } }, ...spec },
  };
}

const livePods = (h: Harness) => h.store.list('pods').items.filter((p) => !p.metadata.deletionTimestamp && !['Succeeded', 'Failed'].includes(p.status.phase));
const condition = (j: K8sObject, type: string) => j.status?.conditions?.find((c: any) => c.type === type);
const getJob = (h: Harness) => h.store.get(JOBS, 'default', 'pi')!;

/** Kubelet stand-in: binds and starts pending pods, finishes deletions. */
function kubelet(h: Harness): void {
  const now = k8sTime(h.clock.now());
  for (const p of h.store.list('pods').items) {
    if (p.metadata.deletionTimestamp) {
      h.store.remove('pods', p);
      continue;
    }
    if (p.status.phase !== 'Pending') continue;
    h.store.mutate('pods', 'default', p.metadata.name!, (o) => { o.spec.nodeName = 'node-1'; });
    h.store.mutate('pods', 'default', p.metadata.name!, (o) => {
      o.status = { ...o.status, phase: 'Running', startTime: now, conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: now }] };
    }, { subresource: 'status' });
  }
}

/** Every running pod's container exits with `exitCode`. */
function exitAll(h: Harness, exitCode: number): void {
  const now = k8sTime(h.clock.now());
  for (const p of livePods(h)) {
    h.store.mutate('pods', 'default', p.metadata.name!, (o) => {
      o.status = {
        ...o.status,
        phase: exitCode === 0 ? 'Succeeded' : 'Failed',
        conditions: [{ type: 'Ready', status: 'False', lastTransitionTime: now }],
        containerStatuses: [{ name: 'pi', ready: false, restartCount: 0, state: { terminated: { exitCode, reason: exitCode === 0 ? 'Completed' : 'Error', finishedAt: now } } }],
      };
    }, { subresource: 'status' });
  }
}

test('a job runs its pods to completion: SuccessCriteriaMet, then Complete', async () => {
  const h = harness();
  h.run(new JobController());
  h.store.create(JOBS, job({ completions: 2 }));
  await h.advance(1000);
  const pods = livePods(h);
  assert.equal(pods.length, 1);
  const pod = pods[0];
  assert.match(pod.metadata.name!, /^pi-[a-z0-9]{5}$/);
  assert.equal(pod.metadata.labels!['batch.kubernetes.io/job-name'], 'pi');
  assert.equal(pod.metadata.labels!['job-name'], 'pi');
  assert.equal(pod.metadata.labels!['controller-uid'], getJob(h).metadata.uid);
  assert.deepEqual(pod.metadata.finalizers, [JOB_TRACKING_FINALIZER]);
  assert.equal(getJob(h).status.active, 1);
  assert.ok(getJob(h).status.startTime);

  kubelet(h);
  await h.advance(1000);
  assert.equal(getJob(h).status.ready, 1);
  exitAll(h, 0);
  await h.advance(1000);
  assert.equal(getJob(h).status.succeeded, 1);
  assert.equal(h.store.get('pods', 'default', pod.metadata.name!)!.metadata.finalizers, undefined, 'counted pods lose the finalizer');
  assert.equal(livePods(h).length, 1, 'second completion started');

  kubelet(h);
  await h.advance(1000);
  exitAll(h, 0);
  await h.advance(1000);
  const j = getJob(h);
  assert.equal(j.status.succeeded, 2);
  assert.equal(j.status.active, undefined);
  assert.equal(condition(j, 'SuccessCriteriaMet')?.reason, 'CompletionsReached');
  assert.equal(condition(j, 'Complete')?.status, 'True');
  assert.equal(condition(j, 'Complete')?.message, 'Reached expected number of succeeded pods');
  assert.ok(j.status.completionTime);
  assert.deepEqual(j.status.uncountedTerminatedPods, {});
  assert.equal(h.events('Completed', 'pi')[0]?.message, 'Job completed');
  assert.match(h.events('SuccessfulCreate', 'pi')[0].message, /^Created pod: pi-/);
  h.stop();
});

test('failures back off 10s, 20s and fail the job past backoffLimit', async () => {
  const h = harness();
  h.run(new JobController());
  h.store.create(JOBS, job({ backoffLimit: 2 }));
  await h.advance(1000);
  kubelet(h);
  exitAll(h, 1);
  await h.advance(1000);
  assert.equal(getJob(h).status.failed, 1);
  assert.equal(livePods(h).length, 0, 'back-off holds the replacement');
  await h.advance(7000);
  assert.equal(livePods(h).length, 0);
  await h.advance(2000);
  assert.equal(livePods(h).length, 1, 'replacement 10s after the failure');

  kubelet(h);
  exitAll(h, 1);
  await h.advance(15_000);
  assert.equal(livePods(h).length, 0, 'second back-off is 20s');
  await h.advance(6000);
  assert.equal(livePods(h).length, 1);

  kubelet(h);
  exitAll(h, 1);
  await h.advance(1000);
  const j = getJob(h);
  assert.equal(j.status.failed, 3);
  assert.equal(condition(j, 'FailureTarget')?.reason, 'BackoffLimitExceeded');
  assert.equal(condition(j, 'Failed')?.reason, 'BackoffLimitExceeded');
  assert.equal(condition(j, 'Failed')?.message, 'Job has reached the specified backoff limit');
  assert.equal(j.status.completionTime, undefined);
  assert.equal(h.events('BackoffLimitExceeded', 'pi')[0]?.type, 'Warning');
  await h.advance(60_000);
  assert.equal(h.store.list('pods').items.length, 3, 'no pods after failure');
  h.stop();
});

test('parallelism runs pods side by side up to the remaining completions', async () => {
  const h = harness();
  h.run(new JobController());
  h.store.create(JOBS, job({ completions: 5, parallelism: 2 }));
  const seen: number[] = [];
  for (let i = 0; i < 3; i++) {
    await h.advance(1000);
    seen.push(livePods(h).length);
    kubelet(h);
    exitAll(h, 0);
  }
  await h.advance(1000);
  assert.deepEqual(seen, [2, 2, 1]);
  const j = getJob(h);
  assert.equal(j.status.succeeded, 5);
  assert.equal(condition(j, 'Complete')?.status, 'True');
  assert.equal(h.store.list('pods').items.length, 5);
  h.stop();
});

test('activeDeadlineSeconds kills running pods and fails with DeadlineExceeded once they are gone', async () => {
  const h = harness();
  h.run(new JobController());
  h.store.create(JOBS, job({ activeDeadlineSeconds: 30 }));
  await h.advance(1000);
  kubelet(h);
  await h.advance(28_000);
  assert.equal(condition(getJob(h), 'FailureTarget'), undefined);
  await h.advance(2000);
  let j = getJob(h);
  assert.equal(condition(j, 'FailureTarget')?.reason, 'DeadlineExceeded');
  assert.equal(condition(j, 'Failed'), undefined, 'Failed waits for the terminating pod');
  assert.equal(j.status.terminating, 1);
  assert.equal(j.status.failed, 1);
  kubelet(h);
  await h.advance(1000);
  j = getJob(h);
  assert.equal(condition(j, 'Failed')?.message, 'Job was active longer than specified deadline');
  assert.equal(j.status.terminating, 0);
  h.stop();
});

test('ttlSecondsAfterFinished deletes the finished job', async () => {
  const h = harness();
  h.run(new JobController());
  h.store.create(JOBS, job({ ttlSecondsAfterFinished: 60 }));
  await h.advance(1000);
  kubelet(h);
  exitAll(h, 0);
  await h.advance(1000);
  assert.equal(condition(getJob(h), 'Complete')?.status, 'True');
  await h.advance(50_000);
  assert.equal(getJob(h).metadata.deletionTimestamp, undefined);
  await h.advance(11_000);
  const j = h.store.get(JOBS, 'default', 'pi');
  assert.ok(!j || j.metadata.deletionTimestamp, 'deleted (foreground, so the garbage collector finishes it)');
  h.stop();
});
