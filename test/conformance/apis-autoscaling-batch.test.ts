// autoscaling/v1 HorizontalPodAutoscalers (what `kubectl autoscale` posts) as
// a second version of the stored autoscaling/v2 objects, converted as
// pkg/apis/autoscaling/v1/conversion.go does; and batch/v1 CronJobs, whose
// controller creates Jobs on schedule in cluster time (cronjob_controllerv2.go).
// Driven by kubectl 1.32, Debian's python3-kubernetes and raw HTTP.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../src/common/clock.ts';
import { type Cluster, skipKubectl, skipPython, startCluster } from './cluster.ts';

const skip = skipKubectl;
const skipPy = skipPython();

describe('autoscaling/v1 HorizontalPodAutoscalers', { skip, timeout: 120_000 }, () => {
  let c: Cluster;
  before(async () => {
    c = await startCluster();
    await c.kubectl('create', 'deployment', 'web', '--image=nginx');
  });
  after(() => c.stop());

  it('serves v2 (preferred) and v1 in discovery, both forms', async () => {
    const group = (await c.http('GET', '/apis/autoscaling')).body;
    assert.deepEqual(group.versions.map((v: any) => v.version), ['v2', 'v1']);
    assert.deepEqual(group.preferredVersion, { groupVersion: 'autoscaling/v2', version: 'v2' });
    const v1 = (await c.http('GET', '/apis/autoscaling/v1')).body;
    const hpa = v1.resources.find((r: any) => r.name === 'horizontalpodautoscalers');
    assert.deepEqual([hpa.kind, hpa.shortNames, hpa.categories, hpa.namespaced], ['HorizontalPodAutoscaler', ['hpa'], ['all'], true]);
    assert.ok(v1.resources.some((r: any) => r.name === 'horizontalpodautoscalers/status'));
    const agg = (await c.http('GET', '/apis', undefined, { accept: 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList' })).body;
    assert.deepEqual(agg.items.find((g: any) => g.metadata.name === 'autoscaling').versions.map((v: any) => v.version), ['v2', 'v1']);
  });

  it('kubectl autoscale posts autoscaling/v1; the object reads as v1 and as v2', async () => {
    const before = c.sandbox.api!.requestLog.length;
    assert.match(await c.kubectl('autoscale', 'deployment', 'web', '--min=2', '--max=5', '--cpu-percent=60'), /horizontalpodautoscaler.autoscaling\/web autoscaled/);
    assert.ok(c.sandbox.api!.requestLog.slice(before).some((e) => e.method === 'POST' && e.path.startsWith('/apis/autoscaling/v1/namespaces/default/horizontalpodautoscalers')));
    const v2 = JSON.parse(await c.kubectl('get', 'hpa', 'web', '-o', 'json'));
    assert.equal(v2.apiVersion, 'autoscaling/v2');
    assert.deepEqual(v2.spec.metrics, [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 60 } } }]);
    assert.equal(v2.spec.minReplicas, 2);
    const v1 = JSON.parse(await c.kubectl('get', 'horizontalpodautoscalers.v1.autoscaling', 'web', '-o', 'json'));
    assert.equal(v1.apiVersion, 'autoscaling/v1');
    assert.deepEqual(v1.spec, { scaleTargetRef: { kind: 'Deployment', name: 'web', apiVersion: 'apps/v1' }, minReplicas: 2, maxReplicas: 5, targetCPUUtilizationPercentage: 60 });
    assert.equal(v1.metadata.annotations, undefined, 'nothing v1 cannot hold, so no round-trip annotations');
    assert.match(await c.kubectl('get', 'horizontalpodautoscalers.v1.autoscaling'), /web\s+Deployment\/web\s+cpu: <unknown>\/60%\s+2\s+5/);
  });

  it('keeps what v1 cannot hold in the autoscaling.alpha.kubernetes.io annotations and takes it back on a v1 write', async () => {
    const patch = {
      spec: {
        metrics: [
          { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 60 } } },
          { type: 'Resource', resource: { name: 'memory', target: { type: 'AverageValue', averageValue: '300Mi' } } },
        ],
        behavior: { scaleDown: { stabilizationWindowSeconds: 120, policies: [{ type: 'Pods', value: 1, periodSeconds: 60 }] } },
      },
    };
    await c.kubectl('patch', 'hpa', 'web', '--type=merge', '-p', JSON.stringify(patch));
    const v1 = (await c.http('GET', '/apis/autoscaling/v1/namespaces/default/horizontalpodautoscalers/web')).body;
    const ann = v1.metadata.annotations;
    assert.equal(v1.spec.targetCPUUtilizationPercentage, 60);
    assert.equal(ann['autoscaling.alpha.kubernetes.io/metrics'], '[{"type":"Resource","resource":{"name":"memory","targetAverageValue":"300Mi"}}]');
    assert.equal(ann['autoscaling.alpha.kubernetes.io/behavior'], '{"ScaleUp":null,"ScaleDown":{"StabilizationWindowSeconds":120,"SelectPolicy":null,"Policies":[{"Type":"Pods","Value":1,"PeriodSeconds":60}]}}');
    // A v1 client that writes back what it read loses nothing (kubectl replace through v1).
    v1.spec.maxReplicas = 7;
    const put = await c.http('PUT', '/apis/autoscaling/v1/namespaces/default/horizontalpodautoscalers/web', v1);
    assert.equal(put.code, 200, put.text);
    const v2 = JSON.parse(await c.kubectl('get', 'hpa', 'web', '-o', 'json'));
    assert.equal(v2.spec.maxReplicas, 7);
    // The conversion puts the annotation's metrics before the CPU one, as the real one does.
    assert.deepEqual(v2.spec.metrics.map((m: any) => m.resource.name), ['memory', 'cpu']);
    assert.deepEqual(v2.spec.behavior.scaleDown, { stabilizationWindowSeconds: 120, policies: [{ type: 'Pods', value: 1, periodSeconds: 60 }] });
    assert.equal(v2.metadata.annotations, undefined, 'round-trip annotations are never stored');
  });

  it('shows the v2 status as v1: currentCPUUtilizationPercentage, current metrics and conditions in annotations', async () => {
    c.sandbox.store.mutate('autoscaling/horizontalpodautoscalers', 'default', 'web', (h) => {
      h.status = {
        currentReplicas: 2,
        desiredReplicas: 3,
        currentMetrics: [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 75, averageValue: '150m' } } }],
        conditions: [{ type: 'AbleToScale', status: 'True', lastTransitionTime: '2026-01-01T00:00:00Z', reason: 'SucceededRescale', message: 'the HPA controller was able to update the target scale to 3' }],
      };
    }, { subresource: 'status' });
    const v1 = (await c.http('GET', '/apis/autoscaling/v1/namespaces/default/horizontalpodautoscalers/web')).body;
    assert.deepEqual(v1.status, { currentReplicas: 2, desiredReplicas: 3, currentCPUUtilizationPercentage: 75 });
    assert.equal(v1.metadata.annotations['autoscaling.alpha.kubernetes.io/current-metrics'], '[{"type":"Resource","resource":{"name":"cpu","currentAverageUtilization":75,"currentAverageValue":"150m"}}]');
    assert.match(v1.metadata.annotations['autoscaling.alpha.kubernetes.io/conditions'], /^\[\{"type":"AbleToScale","status":"True","lastTransitionTime":"2026-01-01T00:00:00Z","reason":"SucceededRescale"/);
  });

  it('the Python client creates a v1 HPA without a target: v2 shows the default 80% CPU', { skip: skipPy }, async () => {
    const out = await c.python(`
api = client.AutoscalingV1Api()
h = client.V1HorizontalPodAutoscaler(metadata=client.V1ObjectMeta(name='py'), spec=client.V1HorizontalPodAutoscalerSpec(
  scale_target_ref=client.V1CrossVersionObjectReference(api_version='apps/v1', kind='Deployment', name='web'), max_replicas=3))
api.create_namespaced_horizontal_pod_autoscaler('default', h)
v1 = api.read_namespaced_horizontal_pod_autoscaler('py', 'default')
print(json.dumps({'v1': v1.spec.target_cpu_utilization_percentage, 'min': v1.spec.min_replicas}))
`);
    assert.deepEqual(out, { v1: 80, min: 1 });
    const v2 = JSON.parse(await c.kubectl('get', 'hpa', 'py', '-o', 'json'));
    assert.deepEqual(v2.spec.metrics, [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }]);
  });
});

const T0 = Date.UTC(2026, 0, 1);
const minute = 60_000;
const jobName = (cj: string, at: number) => `${cj}-${Math.floor(at / minute)}`;

describe('batch/v1 CronJobs', { skip, timeout: 180_000 }, () => {
  let c: Cluster;
  let clock: ManualClock;
  const jobs = async (selector = '') => JSON.parse(await c.kubectl('get', 'jobs', '-o', 'json', ...(selector ? ['-l', selector] : []))).items as any[];
  const events = async (name: string) =>
    JSON.parse(await c.kubectl('get', 'events', '-o', 'json', '--field-selector', `involvedObject.name=${name}`)).items.map((e: any) => `${e.reason}: ${e.message}`) as string[];
  const cronJob = (name: string, spec: Record<string, unknown>, image = 'busybox') => c.file(`${name}.yaml`, JSON.stringify({
    apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name },
    spec: { ...spec, jobTemplate: { metadata: { labels: { cron: name } }, spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image }] } } } } },
  }));

  before(async () => {
    clock = new ManualClock(T0);
    c = await startCluster({ clock });
  });
  after(() => c.stop());

  it('is in discovery with the short name cj and in the all category', async () => {
    const batch = (await c.http('GET', '/apis/batch/v1')).body;
    const cj = batch.resources.find((r: any) => r.name === 'cronjobs');
    assert.deepEqual([cj.kind, cj.shortNames, cj.categories, cj.verbs.length], ['CronJob', ['cj'], ['all'], 8]);
    assert.ok(batch.resources.some((r: any) => r.name === 'cronjobs/status'));
  });

  it('kubectl create cronjob: a Job on each activation, named for its minute, owned and annotated; status and Events follow', async () => {
    await c.kubectl('create', 'cronjob', 'hello', '--image=busybox', '--schedule=*/5 * * * *');
    assert.match(await c.kubectl('get', 'cj', 'hello'), /hello\s+\*\/5 \* \* \* \*\s+<none>\s+False\s+0\s+<none>/);
    await clock.advance(4 * minute);
    assert.equal((await jobs()).length, 0, 'nothing before 00:05');
    await clock.advance(minute + 1000);
    const [job] = await jobs();
    const first = T0 + 5 * minute;
    assert.equal(job.metadata.name, jobName('hello', first));
    assert.deepEqual(job.metadata.ownerReferences.map((r: any) => [r.kind, r.name, r.controller]), [['CronJob', 'hello', true]]);
    assert.equal(job.metadata.annotations['batch.kubernetes.io/cronjob-scheduled-timestamp'], '2026-01-01T00:05:00Z');
    const cj = JSON.parse(await c.kubectl('get', 'cronjob', 'hello', '-o', 'json'));
    assert.equal(cj.status.lastScheduleTime, '2026-01-01T00:05:00Z');
    assert.deepEqual(cj.status.active.map((r: any) => [r.kind, r.name]), [['Job', job.metadata.name]]);
    assert.ok((await events('hello')).includes(`SuccessfulCreate: Created job ${job.metadata.name}`));
    // busybox exits 0 after a second: the Job completes and the CronJob notices.
    await clock.advance(minute);
    const done = JSON.parse(await c.kubectl('get', 'cronjob', 'hello', '-o', 'json'));
    assert.equal(done.status.active, undefined);
    assert.ok(done.status.lastSuccessfulTime, 'lastSuccessfulTime set once the finished Job is seen');
    assert.ok((await events('hello')).includes(`SawCompletedJob: Saw completed job: ${job.metadata.name}, status: Complete`));
    await clock.advance(4 * minute);
    assert.deepEqual((await jobs('cron!=x')).map((j) => j.metadata.name).sort(), [jobName('hello', first), jobName('hello', first + 5 * minute)].sort());
  });

  it('keeps successfulJobsHistoryLimit finished Jobs and deletes the oldest', async () => {
    await c.kubectl('create', '-f', cronJob('hist', { schedule: '* * * * *', successfulJobsHistoryLimit: 2 }));
    for (let i = 0; i < 5; i++) await clock.advance(minute);
    await clock.advance(30_000);
    const left = (await jobs('cron=hist')).map((j) => j.metadata.name);
    assert.equal(left.length, 2, `kept ${left.join(', ')}`);
    assert.ok((await events('hist')).some((e) => e.startsWith('SuccessfulDelete: Deleted job hist-')));
  });

  it('Forbid skips an activation while a Job runs; Replace deletes the running Job for the new one', async () => {
    await c.kubectl('create', '-f', cronJob('forbid', { schedule: '* * * * *', concurrencyPolicy: 'Forbid' }, 'nginx'));
    await c.kubectl('create', '-f', cronJob('replace', { schedule: '* * * * *', concurrencyPolicy: 'Replace' }, 'nginx'));
    await clock.advance(minute + 1000);
    await clock.advance(minute);
    await clock.advance(minute);
    assert.equal((await jobs('cron=forbid')).length, 1, 'Forbid: still the first Job only');
    assert.ok((await events('forbid')).includes('JobAlreadyActive: Not starting job because prior execution is running and concurrency policy is Forbid'));
    const replaced = (await jobs('cron=replace')).filter((j) => !j.metadata.deletionTimestamp);
    assert.equal(replaced.length, 1, 'Replace: one live Job');
    assert.ok((await events('replace')).some((e) => e.startsWith('SuccessfulDelete: Deleted job replace-')));
    await c.kubectl('delete', 'cronjob', 'forbid', 'replace');
  });

  it('suspend stops new Jobs; startingDeadlineSeconds drops activations missed by longer than it', async () => {
    await c.kubectl('create', '-f', cronJob('late', { schedule: '*/10 * * * *', suspend: true, startingDeadlineSeconds: 30 }));
    await c.kubectl('create', '-f', cronJob('eager', { schedule: '*/10 * * * *', suspend: true }));
    await clock.advance(12 * minute);
    assert.equal((await jobs('cron in (late,eager)')).length, 0, 'suspended: no Jobs');
    await c.kubectl('patch', 'cronjob', 'late', 'eager', '--type=merge', '-p', '{"spec":{"suspend":false}}');
    await clock.advance(1000);
    assert.equal((await jobs('cron=late')).length, 0, 'the missed activation is beyond the 30s deadline');
    assert.equal((await jobs('cron=eager')).length, 1, 'without a deadline the missed activation starts at once');
  });

  it('runs a schedule in spec.timeZone, and the Python client reads the status', { skip: skipPy }, async () => {
    const start = clock.now();
    // Two minutes from now, written as Berlin's wall clock (UTC+1 in winter).
    const at = Math.ceil(start / minute) * minute + 2 * minute;
    const berlin = new Date(at + 3_600_000);
    await c.kubectl('create', '-f', cronJob('berlin', { schedule: `${berlin.getUTCMinutes()} ${berlin.getUTCHours()} * * *`, timeZone: 'Europe/Berlin' }));
    await clock.advance(at - start + 1000);
    const [job] = await jobs('cron=berlin');
    assert.equal(job.metadata.name, jobName('berlin', at));
    const wall = berlin.toISOString().slice(0, 19);
    assert.equal(job.metadata.annotations['batch.kubernetes.io/cronjob-scheduled-timestamp'], `${wall}+01:00`);
    const out = await c.python(`
cj = client.BatchV1Api().read_namespaced_cron_job('berlin', 'default')
print(json.dumps({'active': [r.name for r in (cj.status.active or [])], 'policy': cj.spec.concurrency_policy, 'limits': [cj.spec.successful_jobs_history_limit, cj.spec.failed_jobs_history_limit]}))
`);
    // python3-kubernetes 22 predates spec.timeZone: it reads the rest of the object.
    assert.deepEqual(out, { active: [job.metadata.name], policy: 'Allow', limits: [3, 1] });
  });

  it('refuses what kube-apiserver refuses (422 with the field)', async () => {
    const post = (name: string, spec: Record<string, unknown>, restartPolicy = 'OnFailure') => c.http('POST', '/apis/batch/v1/namespaces/default/cronjobs', {
      apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name },
      spec: { jobTemplate: { spec: { template: { spec: { restartPolicy, containers: [{ name: 'c', image: 'busybox' }] } } } }, ...spec },
    });
    const cases: [string, Record<string, unknown>, string, RegExp, string?][] = [
      ['bad-minute', { schedule: '61 * * * *' }, 'spec.schedule', /Invalid value: "61 \* \* \* \*"/],
      ['six-fields', { schedule: '* * * * * *' }, 'spec.schedule', /expected exactly 5 fields, found 6: \[\* \* \* \* \* \*\]/],
      ['tz-in-schedule', { schedule: 'TZ=UTC * * * * *' }, 'spec.schedule', /cannot use TZ or CRON_TZ in schedule, use timeZone field instead/],
      ['bad-zone', { schedule: '* * * * *', timeZone: 'Mars/Olympus' }, 'spec.timeZone', /unknown time zone Mars\/Olympus/],
      ['policy', { schedule: '* * * * *', concurrencyPolicy: 'Sometimes' }, 'spec.concurrencyPolicy', /Unsupported value: "Sometimes": supported values: "Allow", "Forbid", "Replace"/],
      ['always', { schedule: '* * * * *' }, 'spec.jobTemplate.spec.template.spec.restartPolicy', /^Required value: valid values: "OnFailure", "Never"$/, 'Always'],
      // validateJobSpec: Always is Required like an empty policy; only other values are NotSupported.
      ['sometimes', { schedule: '* * * * *' }, 'spec.jobTemplate.spec.template.spec.restartPolicy', /Unsupported value: "Sometimes": supported values: "OnFailure", "Never"/, 'Sometimes'],
      ['x'.repeat(53), { schedule: '* * * * *' }, 'metadata.name', /must be no more than 52 characters/],
    ];
    for (const [name, spec, field, message, rp] of cases) {
      const r = await post(name, spec, rp);
      assert.equal(r.code, 422, `${name}: ${r.text}`);
      // A field may have several causes: an unknown restartPolicy is refused by ValidatePodSpec and again by validateJobSpec.
      const causes = r.body.details.causes.filter((x: any) => x.field === field);
      assert.ok(causes.length, `${name}: a cause for ${field} in ${r.text}`);
      assert.ok(causes.some((x: any) => message.test(x.message)), `${name}: ${message} in ${r.text}`);
    }
    assert.equal((await post('descriptor', { schedule: '@hourly' })).code, 201);
  });
});
