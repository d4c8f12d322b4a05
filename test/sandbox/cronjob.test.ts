// The CronJob controller on its own in virtual time: Jobs finished by hand
// (their conditions written here) so each rule of cronjob_controllerv2.go is
// seen alone — the active list, lastSuccessfulTime, history limits for
// failed Jobs, Jobs gone missing, Jobs it did not create.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { k8sTime } from '../../src/common/clock.ts';
import { CronJobController } from '../../src/sandbox/controllers/cronjob.ts';
import type { K8sObject } from '../../src/sandbox/types.ts';
import { harness, type Harness } from './harness.ts';

const MIN = 60_000;

function cronJob(h: Harness, name: string, spec: Record<string, unknown> = {}): K8sObject {
  return h.store.create('batch/cronjobs', {
    apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name, namespace: 'default' },
    spec: { schedule: '* * * * *', jobTemplate: { spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] } } } }, ...spec },
  });
}

const jobsOf = (h: Harness, cj: string) => h.store.list('batch/jobs', 'default').items.filter((j) => j.metadata.ownerReferences?.[0]?.name === cj);
const cj = (h: Harness, name: string) => h.store.get('batch/cronjobs', 'default', name)!;
const messages = (h: Harness, reason: string) => h.events(reason).map((e) => e.message);

function finish(h: Harness, job: K8sObject, type: 'Complete' | 'Failed'): void {
  const now = k8sTime(h.clock.now());
  h.store.mutate('batch/jobs', 'default', job.metadata.name!, (j) => {
    j.status = { startTime: j.metadata.creationTimestamp, conditions: [{ type, status: 'True', lastTransitionTime: now }], ...(type === 'Complete' ? { completionTime: now } : {}) };
  }, { subresource: 'status' });
}

test('each minute a Job joins status.active; a finished one leaves it, and a succeeded one sets lastSuccessfulTime', async () => {
  const h = harness();
  h.run(new CronJobController());
  cronJob(h, 'tick');
  await h.advance(MIN + 1000);
  const [first] = jobsOf(h, 'tick');
  assert.equal(first.metadata.name, `tick-${Math.floor((h.clock.now() - 1000) / MIN)}`);
  assert.deepEqual(cj(h, 'tick').status.active.map((r: any) => r.uid), [first.metadata.uid]);
  finish(h, first, 'Complete');
  await h.advance(0);
  assert.equal(cj(h, 'tick').status.active, undefined);
  assert.deepEqual(messages(h, 'SawCompletedJob'), [`Saw completed job: ${first.metadata.name}, status: Complete`]);
  await h.advance(MIN);
  assert.equal(cj(h, 'tick').status.lastSuccessfulTime, first.status?.completionTime ?? jobsOf(h, 'tick')[0].status.completionTime);
  assert.equal(jobsOf(h, 'tick').length, 2);
  h.stop();
});

test('failedJobsHistoryLimit keeps that many failed Jobs, deleting the oldest first', async () => {
  const h = harness();
  h.run(new CronJobController());
  cronJob(h, 'flaky', { failedJobsHistoryLimit: 1 });
  // Off the minute boundary, so each step below crosses one activation (each runs 100ms after its minute).
  await h.advance(1000);
  for (let i = 0; i < 3; i++) {
    await h.advance(MIN);
    for (const j of jobsOf(h, 'flaky')) if (!j.status?.conditions) finish(h, j, 'Failed');
  }
  await h.advance(1000);
  const left = jobsOf(h, 'flaky');
  const failed = left.filter((j) => j.status?.conditions?.[0]?.type === 'Failed');
  assert.equal(failed.length, 1);
  assert.equal(messages(h, 'SuccessfulDelete').length, 2);
  assert.ok(messages(h, 'SawCompletedJob').every((m) => m.endsWith('status: Failed')));
  h.stop();
});

test('an active Job deleted behind its back is MissingJob; a Job it did not create is UnexpectedJob', async () => {
  const h = harness();
  h.run(new CronJobController());
  const c = cronJob(h, 'watch', { schedule: '*/30 * * * *' });
  await h.advance(30 * MIN + 1000);
  const [job] = jobsOf(h, 'watch');
  h.store.remove('batch/jobs', job);
  await h.advance(0);
  assert.deepEqual(messages(h, 'MissingJob'), [`Active job went missing: ${job.metadata.name}`]);
  assert.equal(cj(h, 'watch').status.active, undefined);
  h.store.create('batch/jobs', {
    metadata: { name: 'adopted', namespace: 'default', ownerReferences: [{ apiVersion: 'batch/v1', kind: 'CronJob', name: 'watch', uid: c.metadata.uid!, controller: true }] },
    spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] } } },
  });
  await h.advance(0);
  assert.deepEqual(messages(h, 'UnexpectedJob'), ['Saw a job that the controller did not create or forgot: adopted']);
  h.stop();
});

test('a suspended CronJob creates nothing; resumed, it starts the missed activation once', async () => {
  const h = harness();
  h.run(new CronJobController());
  cronJob(h, 'paused', { schedule: '*/5 * * * *', suspend: true });
  await h.advance(12 * MIN);
  assert.equal(jobsOf(h, 'paused').length, 0);
  h.store.mutate('batch/cronjobs', 'default', 'paused', (o) => {
    o.spec.suspend = false;
  });
  await h.advance(1000);
  const jobs = jobsOf(h, 'paused');
  assert.equal(jobs.length, 1, 'only the latest missed activation (00:10), not 00:05 too');
  assert.equal(jobs[0].metadata.annotations!['batch.kubernetes.io/cronjob-scheduled-timestamp'], '2026-01-01T00:10:00Z');
  h.stop();
});
