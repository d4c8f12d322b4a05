// The recorder stores and audits every detection change that matters, in
// the engine's order, retries a failing write, and when a write still fails
// says so (log line, counter) instead of dropping it silently.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../../src/common/clock.ts';
import { metricsRegistry } from '../../src/common/metrics.ts';
import { openStore } from '../../src/store/index.ts';
import type { Detection } from '../../src/rules/types.ts';
import { DetectionRecorder } from '../../src/pipeline/index.ts';

function detection(id: string, now: number): Detection {
  return {
    id, rule: 'crashloop-backoff', cluster: 'prod', subject: { cluster: 'prod', kind: 'Deployment', namespace: 'shop', name: 'checkout' },
    fingerprint: `fp-${id}`, severity: 'critical', summary: 'crash-looping', labels: {}, firstSeen: now, lastSeen: now, count: 1,
    status: 'open', evidence: [], notifications: 0,
  };
}

async function failures(): Promise<number> {
  const m = await metricsRegistry.getSingleMetric('kubemend_detection_record_failures_total')!.get();
  return m.values.reduce((a, v) => a + v.value, 0);
}

test('detections are stored and audited in order; repeats are not', { timeout: 30_000 }, async () => {
  const clock = new ManualClock(Date.UTC(2026, 0, 1));
  const store = await openStore({ dataDir: mkdtempSync(join(tmpdir(), 'km-rec-')), clock });
  try {
    const rec = new DetectionRecorder({ store, clock });
    const d = detection('d1', clock.now());
    rec.onDetection(d, 'opened');
    d.count = 2;
    rec.onDetection(d, 'repeated');
    d.status = 'resolved';
    rec.onDetection(d, 'resolved');
    await rec.flush();
    assert.deepEqual((await store.audit.list({})).map((a) => a.action), ['detection.opened', 'detection.resolved']);
    assert.equal((await store.getDetection('d1'))!.status, 'resolved');
  } finally {
    await store.close();
  }
});

test('a write that fails is retried, and one that keeps failing is logged and counted', { timeout: 30_000 }, async () => {
  const clock = new ManualClock(Date.UTC(2026, 0, 1));
  const store = await openStore({ dataDir: mkdtempSync(join(tmpdir(), 'km-rec-')), clock });
  const append = store.audit.append.bind(store.audit);
  let refuse = 2;
  // A database that refuses twice (a lock timeout, a dropped connection), then answers.
  store.audit.append = async (i) => {
    if (refuse-- > 0) throw Object.assign(new Error('database is locked'), { retryable: true });
    return append(i);
  };
  const lines: string[] = [];
  try {
    const rec = new DetectionRecorder({ store, clock, log: (l) => lines.push(l), minTimeoutMs: 1 });
    rec.onDetection(detection('d2', clock.now()), 'opened');
    await rec.flush();
    assert.equal((await store.audit.list({ action: 'detection.opened' })).length, 1, 'written on the third attempt');
    assert.equal(rec.failures, 0);

    const before = await failures();
    refuse = 100;
    rec.onDetection(detection('d3', clock.now()), 'opened');
    await rec.flush();
    assert.equal(rec.failures, 1);
    assert.equal(await failures(), before + 1, 'kubemend_detection_record_failures_total counts it');
    assert.match(lines.join('\n'), /could not audit detection\.opened d3: database is locked/);
    assert.ok(await store.getDetection('d3'), 'the store write did not depend on the audit write');
  } finally {
    store.audit.append = append;
    await store.close();
  }
});
