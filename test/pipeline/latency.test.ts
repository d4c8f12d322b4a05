// The latency histograms on a real run: the crashloop scenario on the
// sandbox over HTTP, the shipped rules and runbooks, a SQLite store. What is
// checked is that each histogram is observed where its marks say (and that
// the marks add up), never how fast anything was.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ManualClock } from '../../src/common/clock.ts';
import { metricsRegistry } from '../../src/common/metrics.ts';
import { onLatency } from '../../src/common/latency.ts';
import { openStore } from '../../src/store/index.ts';
import { loadRules } from '../../src/rules/loader.ts';
import { DetectionEngine } from '../../src/rules/engine.ts';
import type { Signal } from '../../src/rules/types.ts';
import type { KubeObject } from '../../src/kube/types.ts';
import { loadRunbooks } from '../../src/runbooks/loader.ts';
import { ACTIONS } from '../../src/runbooks/actions/index.ts';
import { ScenarioSession } from '../../src/pipeline/index.ts';
import { resolveScenario } from '../../src/sandbox/scenarios/index.ts';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

const NAMES = ['kubemend_watch_to_detection_seconds', 'kubemend_detection_to_run_seconds', 'kubemend_run_to_first_request_seconds', 'kubemend_detection_to_first_request_seconds'] as const;
type Name = (typeof NAMES)[number];

/** count and sum of each latency histogram, as /metrics shows them. */
async function snapshot(): Promise<Record<Name, { count: number; sum: number }>> {
  const out = {} as Record<Name, { count: number; sum: number }>;
  for (const name of NAMES) {
    const m = await metricsRegistry.getSingleMetric(name)!.get();
    const value = (suffix: string) => (m.values as { metricName?: string; value: number }[]).find((v) => v.metricName === `${name}${suffix}`)?.value ?? 0;
    out[name] = { count: value('_count'), sum: value('_sum') };
  }
  return out;
}

test('crashloop on the sandbox: every latency histogram is observed, once per run, and the marks add up', { timeout: 120_000 }, async () => {
  const store = await openStore({ dataDir: mkdtempSync(join(tmpdir(), 'km-latency-')) });
  const s = await ScenarioSession.start({
    scenario: resolveScenario('crashloop').scenario,
    rules: loadRules(here('../../rules')),
    runbooks: loadRunbooks(here('../../runbooks'), { actions: ACTIONS }),
    store,
  });
  const heard: Record<string, number[]> = {};
  const unsubscribe = onLatency((metric, seconds) => (heard[metric] ??= []).push(seconds));
  try {
    const before = await snapshot();
    await s.runToEnd();
    const after = await snapshot();
    unsubscribe();
    const delta = (n: Name) => ({ count: after[n].count - before[n].count, sum: after[n].sum - before[n].sum });
    const runs = (await store.listRuns({})).filter((r) => r.detectionId);
    assert.equal(runs.length, 1, 'the crashloop starts one run');
    // Detections opened from watch events (the crash loop starts after the first LIST).
    assert.ok(delta('kubemend_watch_to_detection_seconds').count >= 1, JSON.stringify(delta('kubemend_watch_to_detection_seconds')));
    // One observation per run started from a detection, and the run's first request only.
    for (const n of ['kubemend_detection_to_run_seconds', 'kubemend_run_to_first_request_seconds', 'kubemend_detection_to_first_request_seconds'] as const) {
      assert.equal(delta(n).count, runs.length, `${n}: ${JSON.stringify(delta(n))}`);
      assert.ok(delta(n).sum > 0, `${n} measured some time`);
    }
    // A listener hears every observation, unrounded (the benchmark's percentiles).
    for (const n of NAMES) {
      assert.equal(heard[n]?.length ?? 0, delta(n).count, n);
      assert.ok(Math.abs((heard[n] ?? []).reduce((a, b) => a + b, 0) - delta(n).sum) < 1e-6, n);
    }
    // The same three marks: detection→first request is detection→run plus run→first request.
    const whole = delta('kubemend_detection_to_first_request_seconds').sum;
    const parts = delta('kubemend_detection_to_run_seconds').sum + delta('kubemend_run_to_first_request_seconds').sum;
    assert.ok(Math.abs(whole - parts) < 1e-6, `${whole} = ${parts}`);
    // Exported as histograms with the 1 ms – 10 s buckets.
    const text = await metricsRegistry.metrics();
    for (const n of NAMES) {
      assert.match(text, new RegExp(`# TYPE ${n} histogram`));
      assert.match(text, new RegExp(`${n}_bucket\\{le="0.001"\\}`));
      assert.match(text, new RegExp(`${n}_bucket\\{le="10"\\}`));
    }
  } finally {
    unsubscribe();
    await s.stop();
    await store.close();
  }
});

test('a detection held by `for:` is not counted as watch latency: the hold is the rule, not kubemend', { timeout: 30_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'km-rules-'));
  writeFileSync(join(dir, 'r.yaml'), `apiVersion: kubemend.dev/v1alpha1
kind: Rule
metadata: { name: pending-too-long }
spec:
  source: object
  match: { kinds: [Pod] }
  when: object.status.phase == 'Pending'
  for: 5m
---
apiVersion: kubemend.dev/v1alpha1
kind: Rule
metadata: { name: pod-failed }
spec:
  source: object
  match: { kinds: [Pod] }
  when: object.status.phase == 'Failed'
`);
  const clock = new ManualClock();
  const pod = (name: string, phase: string): KubeObject => ({ kind: 'Pod', metadata: { name, namespace: 'shop', uid: name, resourceVersion: '1', creationTimestamp: '2026-01-01T00:00:00Z' }, status: { phase } });
  const cache = [pod('stuck', 'Pending'), pod('broken', 'Failed')];
  const seen: [string, Signal | undefined][] = [];
  const e = new DetectionEngine({ clock, rules: loadRules(dir), lookup: (_c, kind) => (kind === 'Pod' ? cache : []), hooks: { onDetection: (d, _c, signal) => seen.push([d.rule, signal]) } });
  for (const o of cache) e.ingest({ source: 'object', cluster: 'c', time: 0, operation: 'create', object: o, seenAt: 1234.5 });
  await clock.advance(5 * 60_000);
  e.stop();
  assert.deepEqual(seen.map(([rule, sig]) => [rule, sig?.seenAt]), [['pod-failed', 1234.5], ['pending-too-long', undefined]]);
});
