// Two pipelines on one store and one Lease (leader election): an alert that
// reaches the follower is relayed through the store and acted on by the
// leader, once; the follower's own sinks (recorder, remediation, incidents)
// stay quiet, so the detection is recorded once, by the leader; and when the
// follower takes over, it carries on with that record instead of a new one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { ManualClock, realClock } from '../../src/common/clock.ts';
import { openStore } from '../../src/store/index.ts';
import { Sandbox } from '../../src/sandbox/cluster.ts';
import { loadRules } from '../../src/rules/loader.ts';
import { Pipeline } from '../../src/pipeline/index.ts';

const RULE = `apiVersion: kubemend.dev/v1alpha1
kind: Rule
metadata: { name: alert-critical }
spec:
  source: alert
  when: "alert.labels.severity == 'critical' && alert.status == 'firing'"
  subject: "{'kind': 'Alert', 'name': alert.labels.alertname, 'namespace': alert.labels.namespace}"
  severity: critical
`;

const ALERT = {
  version: '4', groupKey: '{}:{alertname="PodDown"}', status: 'firing', receiver: 'kubemend',
  alerts: [{ status: 'firing', labels: { alertname: 'PodDown', severity: 'critical', namespace: 'shop' }, annotations: { summary: 'pod down' }, startsAt: '2026-01-01T00:00:00Z' }],
};

async function until<T>(what: string, fn: () => Promise<T | undefined | false> | T | undefined | false, ms = 20_000): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function advance(clock: ManualClock, ms: number): Promise<void> {
  for (let t = 0; t < ms; t += 500) {
    await clock.advance(500);
    await new Promise((r) => setTimeout(r, 40));
  }
}

test('an alert received by the follower is relayed to the leader, which records it once; the follower records nothing', { timeout: 60_000 }, async () => {
  const sandbox = new Sandbox({ speed: 1, nodes: [] });
  await sandbox.listen();
  const dir = mkdtempSync(join(tmpdir(), 'km-relay-'));
  writeFileSync(join(dir, 'alert.yaml'), RULE);
  // One store object for both: in-process SQLite connections would wait on each other's write lock (separate processes do not).
  const store = await openStore({ dataDir: dir });
  const kc = new KubeConfig();
  kc.loadFromString(sandbox.kubeconfig());
  const replica = (identity: string) => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    const pipeline = new Pipeline({
      clock: realClock,
      clusters: [{ name: 'sandbox', kubeconfig: kc }],
      rules: loadRules(dir),
      store,
      webhooks: {},
      leaderElection: { namespace: 'default', name: 'kubemend', identity, leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000, clock },
    });
    return { clock, pipeline };
  };
  const a = replica('a');
  const b = replica('b');
  try {
    await a.pipeline.start();
    await advance(a.clock, 500);
    await b.pipeline.start();
    await advance(b.clock, 500);
    assert.deepEqual([a.pipeline.leading, b.pipeline.leading], [true, false]);
    assert.deepEqual(b.pipeline.leaderInfo(), { enabled: true, leading: false, identity: 'b', holder: 'a', term: undefined, lease: 'default/kubemend' });

    // One relayed long ago, while no replica led: too late to act on.
    const old = Date.now() - 10 * 60_000;
    await store.relaySignal(old, { source: 'alert', cluster: 'sandbox', time: old, alert: { status: 'firing', labels: { alertname: 'LongGone', severity: 'critical', namespace: 'shop' }, annotations: {} } });
    assert.equal(await b.pipeline.webhooks!.receiveAlerts(ALERT as never), 1);
    await until('the relayed signal in the store', async () => (await store.relayedSignals(0)).length === 2);
    assert.equal(b.pipeline.engine.detections().length, 1, "the follower's engine saw it (warm for a takeover)");
    assert.equal((await store.listDetections({})).length, 0, 'the follower recorded nothing');

    await advance(a.clock, 2_000); // the leader's retry period: it ingests what followers relayed
    const [d] = await until('the leader to record the detection', async () => (await store.listDetections({})).length > 0 && store.listDetections({}));
    assert.equal(d.rule, 'alert-critical');
    assert.equal(d.subject.name, 'PodDown');
    await a.pipeline.flush();
    await b.pipeline.flush();
    assert.equal((await store.listDetections({})).length, 1, 'the stale alert was dropped, not acted on');
    assert.equal((await store.audit.list({ action: 'detection.opened' })).length, 1);
    assert.equal((await store.relayedSignals(0)).length, 0, 'taken and forgotten');

    // The leader stops (releasing the lease); the follower takes over and catches up on the open detection:
    // it keeps the recorded id (no second record) instead of recording its own as new.
    await a.pipeline.stop();
    await advance(b.clock, 2_000);
    await until('the follower to lead', () => b.pipeline.leading);
    await until('the takeover to be recorded', async () => (await store.audit.list({ action: 'leader.elected' })).length === 2);
    await b.pipeline.flush();
    assert.equal(b.pipeline.engine.detections()[0].id, d.id);
    assert.equal((await store.listDetections({})).length, 1);
    assert.equal((await store.audit.list({ action: 'detection.opened' })).length, 1);
  } finally {
    await b.pipeline.stop();
    await a.pipeline.stop();
    await store.close();
    await sandbox.stop();
  }
});
