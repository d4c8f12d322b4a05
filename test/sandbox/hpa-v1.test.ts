// autoscaling/v1 ↔ stored autoscaling/v2 conversion, field by field, as
// pkg/apis/autoscaling/v1/conversion.go does it: every metric source type in
// the v1 (v2beta1-shaped) annotation form, status, conditions and behavior.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hpaFromV1, hpaToV1 } from '../../src/sandbox/hpa-v1.ts';
import type { K8sObject } from '../../src/sandbox/types.ts';

const ref = { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' };
const sel = { matchLabels: { app: 'web' } };

const v2: K8sObject = {
  apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler',
  metadata: { name: 'web', namespace: 'default', annotations: { team: 'shop' } },
  spec: {
    scaleTargetRef: ref, minReplicas: 1, maxReplicas: 10,
    metrics: [
      { type: 'Pods', pods: { metric: { name: 'rps', selector: sel }, target: { type: 'AverageValue', averageValue: '10' } } },
      { type: 'Object', object: { describedObject: { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', name: 'main' }, metric: { name: 'hits' }, target: { type: 'Value', value: '2k' } } },
      { type: 'External', external: { metric: { name: 'queue', selector: sel }, target: { type: 'AverageValue', averageValue: '30' } } },
      { type: 'ContainerResource', containerResource: { name: 'memory', container: 'app', target: { type: 'Utilization', averageUtilization: 70 } } },
      { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } },
    ],
    behavior: { scaleUp: { stabilizationWindowSeconds: 0, selectPolicy: 'Max', policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }] } },
  },
  status: {
    observedGeneration: 3, currentReplicas: 2, desiredReplicas: 4,
    currentMetrics: [
      { type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 91, averageValue: '182m' } } },
      { type: 'Pods', pods: { metric: { name: 'rps' }, current: { averageValue: '12' } } },
    ],
    conditions: [{ type: 'ScalingActive', status: 'True', lastTransitionTime: '2026-01-01T00:00:00Z', reason: 'ValidMetricFound', message: 'ok' }],
  },
};

test('v2 → v1: the CPU utilization target is v1\'s own field; every other metric goes to the annotation in v1\'s form', () => {
  const v1 = hpaToV1(structuredClone(v2));
  assert.deepEqual(v1.spec, { scaleTargetRef: ref, minReplicas: 1, maxReplicas: 10, targetCPUUtilizationPercentage: 50 });
  assert.deepEqual(v1.status, { observedGeneration: 3, currentReplicas: 2, desiredReplicas: 4, currentCPUUtilizationPercentage: 91 });
  const a = v1.metadata.annotations!;
  assert.deepEqual(Object.keys(a), ['autoscaling.alpha.kubernetes.io/behavior', 'autoscaling.alpha.kubernetes.io/conditions', 'autoscaling.alpha.kubernetes.io/current-metrics', 'autoscaling.alpha.kubernetes.io/metrics', 'team'], 'sorted, as Go writes a map');
  assert.deepEqual(JSON.parse(a['autoscaling.alpha.kubernetes.io/metrics']), [
    { type: 'Pods', pods: { metricName: 'rps', targetAverageValue: '10', selector: sel } },
    { type: 'Object', object: { target: { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', name: 'main' }, metricName: 'hits', targetValue: '2k' } },
    { type: 'External', external: { metricName: 'queue', metricSelector: sel, targetAverageValue: '30' } },
    { type: 'ContainerResource', containerResource: { name: 'memory', targetAverageUtilization: 70, container: 'app' } },
  ]);
  assert.equal(a['autoscaling.alpha.kubernetes.io/current-metrics'], '[{"type":"Resource","resource":{"name":"cpu","currentAverageUtilization":91,"currentAverageValue":"182m"}},{"type":"Pods","pods":{"metricName":"rps","currentAverageValue":"12"}}]');
  assert.equal(a['autoscaling.alpha.kubernetes.io/behavior'], '{"ScaleUp":{"StabilizationWindowSeconds":0,"SelectPolicy":"Max","Policies":[{"Type":"Percent","Value":100,"PeriodSeconds":15}]},"ScaleDown":null}');
  assert.equal(v2.metadata.annotations!['autoscaling.alpha.kubernetes.io/metrics'], undefined, 'the stored object is not touched');
});

test('v1 → v2 and back: the annotations restore what v1 cannot hold, then are dropped', () => {
  const back = hpaFromV1(hpaToV1(structuredClone(v2)));
  assert.deepEqual(back.metadata.annotations, { team: 'shop' });
  // The CPU metric comes after the annotation's, as the real conversion orders them.
  assert.deepEqual(back.spec.metrics, [...v2.spec.metrics.slice(0, 4), v2.spec.metrics[4]]);
  assert.deepEqual(back.spec.behavior, v2.spec.behavior);
  assert.deepEqual(back.status.currentMetrics, v2.status.currentMetrics);
  assert.deepEqual(back.status.conditions, v2.status.conditions);
});

test('a v1 object with neither target nor annotation gets the 80% CPU default; a behavior annotation is read case-insensitively', () => {
  const plain = hpaFromV1({ apiVersion: 'autoscaling/v1', kind: 'HorizontalPodAutoscaler', metadata: { name: 'x' }, spec: { scaleTargetRef: ref, maxReplicas: 3 } });
  assert.deepEqual(plain.spec.metrics, [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }]);
  assert.equal(plain.metadata.annotations, undefined);
  const lower = hpaFromV1({
    apiVersion: 'autoscaling/v1', kind: 'HorizontalPodAutoscaler',
    metadata: { name: 'x', annotations: { 'autoscaling.alpha.kubernetes.io/behavior': '{"scaleDown":{"stabilizationWindowSeconds":60}}' } },
    spec: { scaleTargetRef: ref, maxReplicas: 3, targetCPUUtilizationPercentage: 40 },
  });
  assert.deepEqual(lower.spec.behavior, { scaleDown: { stabilizationWindowSeconds: 60 } });
  assert.deepEqual(lower.spec.metrics, [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 40 } } }]);
});
