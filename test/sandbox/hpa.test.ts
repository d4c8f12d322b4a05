import { test } from 'node:test';
import assert from 'node:assert/strict';
import { k8sTime } from '../../src/common/clock.ts';
import { harness, type Harness } from './harness.ts';
import { HpaController, formatMilli } from '../../src/sandbox/controllers/hpa.ts';

const HPA = 'autoscaling/horizontalpodautoscalers';
const DEPLOY = 'apps/deployments';

function setup(hpaSpec: Record<string, unknown> = {}) {
  const h = harness();
  h.store.create(DEPLOY, {
    metadata: { name: 'web', namespace: 'default' },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: { containers: [{ name: 'app', image: 'web:1', resources: { requests: { cpu: '200m', memory: '128Mi' } } }] },
      },
    },
  });
  h.run(new HpaController());
  h.store.create(HPA, {
    metadata: { name: 'web', namespace: 'default' },
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' },
      minReplicas: 2,
      maxReplicas: 5,
      metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } }],
      ...hpaSpec,
    },
  });
  return h;
}

let seq = 0;
/**
 * Stands in for the Deployment controller, scheduler, kubelet and metrics:
 * keeps spec.replicas Running and Ready pods (started 10 minutes ago, so past
 * the CPU initialisation period) each using `cpuMilli`.
 */
function pods(h: Harness, cpuMilli: number): void {
  const want = h.store.get(DEPLOY, 'default', 'web')!.spec.replicas;
  let have = h.store.list('pods').items;
  for (const p of have.slice(want)) {
    h.store.remove('pods', p);
    h.ctx.usage.forgetPod('default', p.metadata.name!);
  }
  const started = k8sTime(h.clock.now() - 600_000);
  for (let i = have.length; i < want; i++) {
    const name = `web-${seq++}`;
    h.store.create('pods', {
      metadata: { name, namespace: 'default', labels: { app: 'web' } },
      spec: { nodeName: 'node-1', containers: [{ name: 'app', image: 'web:1', resources: { requests: { cpu: '200m', memory: '128Mi' } } }] },
    });
    h.store.mutate('pods', 'default', name, (o) => {
      o.status = { ...o.status, phase: 'Running', startTime: started, conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: started }] };
    }, { subresource: 'status' });
  }
  have = h.store.list('pods').items;
  for (const p of have) h.ctx.usage.set('default', p.metadata.name!, 'node-1', 'app', { cpuCores: cpuMilli / 1000, memoryBytes: 64 * 2 ** 20 });
}

/** One HPA sync period (10s in the sandbox config) with the given per-pod load. */
async function period(h: Harness, cpuMilli: number, n = 1): Promise<void> {
  for (let i = 0; i < n; i++) {
    pods(h, cpuMilli);
    await h.advance(h.ctx.config.resyncSeconds * 1000);
  }
  pods(h, cpuMilli);
}

const replicas = (h: Harness) => h.store.get(DEPLOY, 'default', 'web')!.spec.replicas;
const hpa = (h: Harness) => h.store.get(HPA, 'default', 'web')!;
const condition = (h: Harness, type: string) => hpa(h).status?.conditions?.find((c: any) => c.type === type);

test('scales up under CPU load, stops at maxReplicas with ScalingLimited TooManyReplicas, goes further once maxReplicas is raised', async () => {
  const h = setup();
  await period(h, 180); // 90% of request against a 50% target
  assert.equal(replicas(h), 4, 'ceil(2 * 90/50) = 4');
  const rescale = h.events('SuccessfulRescale', 'web')[0];
  assert.equal(rescale.message, 'New size: 4; reason: cpu resource utilization (percentage of request) above target');
  let s = hpa(h).status;
  assert.equal(s.currentReplicas, 2);
  assert.equal(s.desiredReplicas, 4);
  assert.ok(s.lastScaleTime);
  assert.deepEqual(s.currentMetrics, [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 90, averageValue: '180m' } } }]);
  assert.equal(condition(h, 'AbleToScale').reason, 'SucceededRescale');
  assert.equal(condition(h, 'ScalingActive').reason, 'ValidMetricFound');
  assert.equal(condition(h, 'ScalingActive').message, 'the HPA was able to successfully calculate a replica count from cpu resource utilization (percentage of request)');
  assert.equal(condition(h, 'ScalingLimited').status, 'False');
  assert.equal(condition(h, 'ScalingLimited').reason, 'DesiredWithinRange');

  await period(h, 180);
  assert.equal(replicas(h), 5, 'wants 8, capped at maxReplicas 5');
  assert.equal(condition(h, 'ScalingLimited').status, 'True');
  assert.equal(condition(h, 'ScalingLimited').reason, 'TooManyReplicas');
  assert.equal(condition(h, 'ScalingLimited').message, 'the desired replica count is more than the maximum replica count');

  await period(h, 180, 3);
  assert.equal(replicas(h), 5, 'stays at the maximum');
  s = hpa(h).status;
  assert.equal(s.currentReplicas, 5);
  assert.equal(s.desiredReplicas, 5);
  assert.equal(condition(h, 'ScalingLimited').reason, 'TooManyReplicas');

  h.store.mutate(HPA, 'default', 'web', (o) => { o.spec.maxReplicas = 10; });
  await period(h, 180);
  assert.equal(replicas(h), 9, 'ceil(5 * 1.8) = 9 once the cap is 10');
  assert.equal(condition(h, 'ScalingLimited').reason, 'DesiredWithinRange');
  assert.ok(h.events('SuccessfulRescale', 'web').some((e) => e.message === 'New size: 9; reason: cpu resource utilization (percentage of request) above target'));
  h.stop();
});

test('scale-down waits for the five-minute stabilisation window', async () => {
  const h = setup();
  await period(h, 180, 2);
  assert.equal(replicas(h), 5);
  await period(h, 20); // 10% of request: wants ceil(5 * 0.2) = 1, min 2
  assert.equal(replicas(h), 5);
  assert.equal(condition(h, 'AbleToScale').reason, 'ScaleDownStabilized');
  assert.equal(hpa(h).status.desiredReplicas, 5);
  await period(h, 20, 26); // 270s after the last high recommendation
  assert.equal(replicas(h), 5);
  await period(h, 20, 4);
  assert.equal(replicas(h), 2, 'min replicas once the high recommendations expire');
  assert.equal(h.events('SuccessfulRescale', 'web').at(-1)!.message, 'New size: 2; reason: All metrics below target');
  assert.equal(condition(h, 'ScalingLimited').reason, 'TooFewReplicas');
  h.stop();
});

test('load within the 10% tolerance does not rescale', async () => {
  const h = setup();
  await period(h, 108, 3); // 54% against 50%
  assert.equal(replicas(h), 2);
  assert.equal(h.events('SuccessfulRescale').length, 0);
  assert.equal(condition(h, 'AbleToScale').reason, 'ReadyForNewScale');
  h.stop();
});

test('spec.behavior scale-up policies limit the rate', async () => {
  const h = setup({
    maxReplicas: 20,
    behavior: { scaleUp: { policies: [{ type: 'Pods', value: 1, periodSeconds: 60 }] } },
  });
  await period(h, 200);
  assert.equal(replicas(h), 3, 'one pod per minute');
  assert.equal(condition(h, 'ScalingLimited').reason, 'ScaleUpLimit');
  await period(h, 200, 3);
  assert.equal(replicas(h), 3, 'still inside the 60s period');
  await period(h, 200, 3);
  assert.equal(replicas(h), 4);
  h.stop();
});

test('a missing target and missing metrics surface as conditions and events', async () => {
  const h = setup({ scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'nope' } });
  await period(h, 100);
  assert.equal(condition(h, 'AbleToScale').status, 'False');
  assert.equal(condition(h, 'AbleToScale').reason, 'FailedGetScale');
  assert.equal(h.events('FailedGetScale')[0].message, 'deployments.apps "nope" not found');
  h.stop();

  const h2 = setup();
  pods(h2, 100);
  for (const p of h2.store.list('pods').items) h2.ctx.usage.forgetPod('default', p.metadata.name!);
  await h2.advance(10_000);
  assert.equal(condition(h2, 'ScalingActive').status, 'False');
  assert.equal(condition(h2, 'ScalingActive').reason, 'FailedGetResourceMetric');
  assert.equal(condition(h2, 'ScalingActive').message, 'the HPA was unable to compute the replica count: failed to get cpu utilization: unable to get metrics for resource cpu: no metrics returned from resource metrics API');
  assert.deepEqual(hpa(h2).status.currentMetrics, [{ type: '' }]);
  assert.equal(h2.events('FailedComputeMetricsReplicas').length, 1);
  h2.stop();
});

test('formatMilli prints quantities like resource.Quantity', () => {
  assert.equal(formatMilli(250), '250m');
  assert.equal(formatMilli(1000), '1');
  assert.equal(formatMilli(67_108_864_000), '67108864');
  assert.equal(formatMilli(64_000_000_000), '64M');
});
