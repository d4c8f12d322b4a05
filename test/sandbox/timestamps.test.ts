// Timestamps decoded as Go's time.Parse does for metav1.Time (RFC 3339) and
// metav1.MicroTime (six fractional digits), with Go's error messages, and
// re-encoded in written objects only where the API types have time fields.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RFC3339, RFC3339_MICRO, formatMicroTime, formatTime, parseGoTime } from '../../src/sandbox/gotime.ts';
import { normalizeTimestamps } from '../../src/sandbox/timestamps.ts';
import { ApiError } from '../../src/sandbox/status.ts';
import type { K8sObject } from '../../src/sandbox/types.ts';

const time = (v: string) => formatTime(parseGoTime(v, RFC3339));
const micro = (v: string) => formatMicroTime(parseGoTime(v, RFC3339_MICRO));
const error = (v: string, layout: typeof RFC3339 | typeof RFC3339_MICRO = RFC3339) => {
  try {
    parseGoTime(v, layout);
  } catch (err) {
    return (err as Error).message;
  }
  assert.fail(`${v} parsed`);
};

describe('Go time parsing', () => {
  it('converts offsets to UTC and drops fractions for Time', () => {
    assert.equal(time('2024-03-01T00:30:00+01:00'), '2024-02-29T23:30:00Z');
    assert.equal(time('2024-03-01T10:00:00-05:30'), '2024-03-01T15:30:00Z');
    assert.equal(time('2024-03-01T10:00:00.999999999Z'), '2024-03-01T10:00:00Z');
    assert.equal(time('2024-03-01T10:00:00,5Z'), '2024-03-01T10:00:00Z', 'a comma is a decimal separator too');
    assert.equal(time('2024-03-01T9:00:00Z'), '2024-03-01T09:00:00Z', 'the hour may have one digit');
    assert.equal(time('0001-01-01T00:00:00Z'), '0001-01-01T00:00:00Z');
  });

  it('keeps microseconds for MicroTime', () => {
    assert.equal(micro('2024-03-01T10:00:00.000001Z'), '2024-03-01T10:00:00.000001Z');
    assert.equal(micro('2024-03-01T12:00:00.123456+02:00'), '2024-03-01T10:00:00.123456Z');
  });

  it('words errors as Go does', () => {
    assert.equal(error('2024-03-01'), 'parsing time "2024-03-01" as "2006-01-02T15:04:05Z07:00": cannot parse "" as "T"');
    assert.equal(error('24-03-01T10:00:00Z'), 'parsing time "24-03-01T10:00:00Z" as "2006-01-02T15:04:05Z07:00": cannot parse "24-03-01T10:00:00Z" as "2006"');
    assert.equal(error('2024-3-01T10:00:00Z'), 'parsing time "2024-3-01T10:00:00Z" as "2006-01-02T15:04:05Z07:00": cannot parse "3-01T10:00:00Z" as "01"');
    assert.equal(error('2024-13-01T10:00:00Z'), 'parsing time "2024-13-01T10:00:00Z": month out of range');
    assert.equal(error('2023-02-29T10:00:00Z'), 'parsing time "2023-02-29T10:00:00Z": day out of range');
    assert.equal(error('2024-03-01T24:00:00Z'), 'parsing time "2024-03-01T24:00:00Z": hour out of range');
    assert.equal(error('2024-03-01T10:00:00'), 'parsing time "2024-03-01T10:00:00" as "2006-01-02T15:04:05Z07:00": cannot parse "" as "Z07:00"');
    assert.equal(error('2024-03-01T10:00:00+0100'), 'parsing time "2024-03-01T10:00:00+0100" as "2006-01-02T15:04:05Z07:00": cannot parse "+0100" as "Z07:00"');
    assert.equal(error('2024-03-01T10:00:00Z trailing'), 'parsing time "2024-03-01T10:00:00Z trailing": extra text: " trailing"');
    assert.equal(error('2024-03-01T10:00:00Z', RFC3339_MICRO), 'parsing time "2024-03-01T10:00:00Z" as "2006-01-02T15:04:05.000000Z07:00": cannot parse "Z" as ".000000"');
    assert.equal(error('2024-03-01T10:00:00.1234567Z', RFC3339_MICRO), 'parsing time "2024-03-01T10:00:00.1234567Z" as "2006-01-02T15:04:05.000000Z07:00": cannot parse "7Z" as "Z07:00"');
  });
});

describe('timestamps in written objects', () => {
  const target = { kind: 'Pod', version: 'v1', group: '' };

  it('re-encodes the time fields of built-in types, nested ones included', () => {
    const pod: K8sObject = {
      metadata: { name: 'p', creationTimestamp: '2024-03-01T12:00:00+02:00', managedFields: [{ manager: 'm', time: '2024-03-01T10:00:00.5Z' }] },
      status: {
        startTime: '2024-03-01T12:00:01+02:00',
        conditions: [{ type: 'Ready', lastTransitionTime: '2024-03-01T10:00:02.25Z', lastProbeTime: null }],
        containerStatuses: [{ state: { terminated: { startedAt: '2024-03-01T11:00:00+01:00', finishedAt: '2024-03-01T10:00:09Z' } } }],
      },
    };
    normalizeTimestamps(pod, target);
    assert.equal(pod.metadata.creationTimestamp, '2024-03-01T10:00:00Z');
    assert.equal((pod.metadata.managedFields as any)[0].time, '2024-03-01T10:00:00Z');
    assert.equal(pod.status.startTime, '2024-03-01T10:00:01Z');
    assert.deepEqual(pod.status.conditions[0], { type: 'Ready', lastTransitionTime: '2024-03-01T10:00:02Z', lastProbeTime: null });
    assert.equal(pod.status.containerStatuses[0].state.terminated.startedAt, '2024-03-01T10:00:00Z');
  });

  it('MicroTime fields keep six digits; a PDB\'s disruptedPods map holds Times', () => {
    const lease: K8sObject = { metadata: { name: 'l' }, spec: { renewTime: '2024-03-01T10:00:00.000001+00:00', acquireTime: '2024-03-01T10:00:00.100000Z' } };
    normalizeTimestamps(lease, { kind: 'Lease', version: 'v1', group: 'coordination.k8s.io' });
    assert.deepEqual(lease.spec, { renewTime: '2024-03-01T10:00:00.000001Z', acquireTime: '2024-03-01T10:00:00.100000Z' });
    const pdb: K8sObject = { metadata: { name: 'b' }, status: { disruptedPods: { 'web-1': '2024-03-01T12:00:00+02:00' } } };
    normalizeTimestamps(pdb, { kind: 'PodDisruptionBudget', version: 'v1', group: 'policy' });
    assert.deepEqual(pdb.status.disruptedPods, { 'web-1': '2024-03-01T10:00:00Z' });
  });

  it('leaves the user\'s maps alone: ConfigMap data, labels, annotations', () => {
    const cm: K8sObject = {
      metadata: { name: 'c', labels: { startTime: 'soon' }, annotations: { lastTransitionTime: 'never' } },
      data: { startTime: 'not a time', eventTime: 'nor this' },
    };
    normalizeTimestamps(cm, { kind: 'ConfigMap', version: 'v1', group: '' });
    assert.deepEqual(cm.data, { startTime: 'not a time', eventTime: 'nor this' });
    assert.deepEqual(cm.metadata.labels, { startTime: 'soon' });
    assert.deepEqual(cm.metadata.annotations, { lastTransitionTime: 'never' });
  });

  it('a custom resource only has its metadata decoded', () => {
    const cr: K8sObject = { metadata: { name: 'x', creationTimestamp: '2024-03-01T12:00:00+02:00' }, spec: { startTime: 'whenever' } };
    normalizeTimestamps(cr, { kind: 'Widget', version: 'v1', group: 'example.com' });
    assert.equal(cr.metadata.creationTimestamp, '2024-03-01T10:00:00Z');
    assert.equal(cr.spec.startTime, 'whenever');
  });

  it('Go\'s zero time encodes as null', () => {
    const job: K8sObject = { metadata: { name: 'j' }, status: { startTime: '0001-01-01T00:00:00Z' } };
    normalizeTimestamps(job, { kind: 'Job', version: 'v1', group: 'batch' });
    assert.equal(job.status.startTime, null);
  });

  it('an unparseable time is a 400 naming the kind and version', () => {
    const pod: K8sObject = { metadata: { name: 'p' }, status: { startTime: 'now' } };
    assert.throws(() => normalizeTimestamps(pod, target), (err: unknown) => {
      assert.ok(err instanceof ApiError);
      assert.equal(err.code, 400);
      assert.equal(err.message, 'Pod in version "v1" cannot be handled as a Pod: parsing time "now" as "2006-01-02T15:04:05Z07:00": cannot parse "now" as "2006"');
      return true;
    });
  });
});
