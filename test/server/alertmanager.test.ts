import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import { ManualClock } from '../../src/common/clock.ts';
import { WebhookSource } from '../../src/rules/sources/webhook-source.ts';
import type { Signal } from '../../src/rules/types.ts';
import { describeProblems, parseAlertmanagerPayload } from '../../src/rules/sources/alertmanager.ts';
import { webhooksPlugin } from '../../src/server/webhooks.ts';
import { findAlertmanager, freePort, NO_ALERTMANAGER } from '../helpers/alertmanager.ts';

// A payload as Alertmanager 0.25 sends it (nanosecond timestamps, Go zero time for endsAt).
const SAMPLE = {
  receiver: 'kubemend',
  status: 'firing',
  alerts: [{
    status: 'firing',
    labels: { alertname: 'KubeDeploymentReplicasMismatch', cluster: 'prod', namespace: 'shop', severity: 'warning' },
    annotations: { summary: 'shop/checkout has 1 of 3 replicas' },
    startsAt: '2026-01-01T10:15:03.739266876+02:00',
    endsAt: '0001-01-01T00:00:00Z',
    generatorURL: 'http://prometheus:9090/graph?g0.expr=kube_deployment_status_replicas_available',
    fingerprint: '1a30ba71cca2921f',
  }],
  groupLabels: { alertname: 'KubeDeploymentReplicasMismatch' },
  commonLabels: { alertname: 'KubeDeploymentReplicasMismatch', cluster: 'prod', namespace: 'shop', severity: 'warning' },
  commonAnnotations: { summary: 'shop/checkout has 1 of 3 replicas' },
  externalURL: 'http://alertmanager:9093',
  version: '4',
  groupKey: '{}:{alertname="KubeDeploymentReplicasMismatch"}',
  truncatedAlerts: 0,
};

test('parses a version 4 payload, filling optional maps and dropping unknown fields', { timeout: 60_000 }, () => {
  const res = parseAlertmanagerPayload(SAMPLE);
  assert.ok(res.ok);
  assert.deepEqual(res.payload, SAMPLE);

  const { truncatedAlerts: _t, commonAnnotations: _c, ...older } = SAMPLE;
  const alert = { status: 'resolved', labels: { alertname: 'X' }, extra: 1 };
  const res2 = parseAlertmanagerPayload({ ...older, orgId: 7, alerts: [alert] });
  assert.ok(res2.ok);
  assert.equal(res2.payload.truncatedAlerts, 0);
  assert.deepEqual(res2.payload.commonAnnotations, {});
  assert.deepEqual(res2.payload.alerts, [{ status: 'resolved', labels: { alertname: 'X' }, annotations: {} }]);
  assert.equal('orgId' in res2.payload, false);
});

test('reports every problem with the path of its field', { timeout: 60_000 }, () => {
  const res = parseAlertmanagerPayload({ ...SAMPLE, version: 4, status: 'ok', alerts: [{ labels: [], status: 'firing' }], truncatedAlerts: -1 });
  assert.equal(res.ok, false);
  if (res.ok) return;
  const fields = res.problems.map((p) => p.field).sort();
  assert.deepEqual(fields, ['alerts[0].labels', 'status', 'truncatedAlerts', 'version']);
  assert.match(describeProblems(res.problems), /version: must be "4"/);
  assert.match(describeProblems(res.problems), /status: must be "firing" or "resolved"/);

  for (const bad of [null, 'text', [SAMPLE], 42]) {
    const r = parseAlertmanagerPayload(bad);
    assert.equal(r.ok, false);
    if (!r.ok) assert.deepEqual(r.problems.map((p) => p.field), ['']);
  }
  const noAlerts = parseAlertmanagerPayload({ ...SAMPLE, alerts: undefined });
  assert.ok(!noAlerts.ok && noAlerts.problems[0].field === 'alerts' && /is required/.test(noAlerts.problems[0].message));
});

// ---- A real Alertmanager delivering to our receiver ----

async function until<T>(what: string, fn: () => T | undefined | Promise<T | undefined>, ms: number, diag: () => string): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms}ms waiting for ${what}\n${diag()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const BIN = findAlertmanager();
const SKIP = BIN ? false : NO_ALERTMANAGER;

test('a real Alertmanager delivers a firing then a resolved alert as Signals', { skip: SKIP, timeout: 20_000 }, async (t) => {
  const clock = new ManualClock(Date.UTC(2026, 0, 1));
  const source = new WebhookSource({ clock, defaultCluster: 'default' });
  const signals: Signal[] = [];
  source.start((s) => signals.push(s));
  const token = 'am-to-kubemend-token';
  const app = Fastify({ logger: false });
  await app.register(webhooksPlugin, { source, alertmanager: { bearerToken: token } });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const receiverPort = (app.server.address() as AddressInfo).port;
  t.after(() => app.close());

  const dir = mkdtempSync(join(tmpdir(), 'kubemend-am-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const config = join(dir, 'alertmanager.yml');
  writeFileSync(config, [
    'route:',
    '  receiver: kubemend',
    '  group_by: [alertname]',
    '  group_wait: 0s',
    '  group_interval: 1s',
    '  repeat_interval: 1h',
    'receivers:',
    '  - name: kubemend',
    '    webhook_configs:',
    `      - url: http://127.0.0.1:${receiverPort}/webhooks/alertmanager`,
    '        send_resolved: true',
    '        http_config:',
    '          authorization:',
    `            credentials: ${token}`,
    '',
  ].join('\n'));

  const amPort = await freePort();
  const am: ChildProcess = spawn(BIN!, [
    `--config.file=${config}`,
    `--storage.path=${join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${amPort}`,
    '--cluster.listen-address=',
    '--log.level=info',
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  am.stderr!.on('data', (b: Buffer) => { log += b.toString(); });
  let exited: number | null = null;
  am.on('exit', (code) => { exited = code ?? -1; });
  t.after(async () => {
    if (exited !== null) return;
    const gone = new Promise((r) => am.once('exit', r));
    am.kill('SIGTERM');
    await gone;
  });
  const diag = () => `alertmanager${exited !== null ? ` exited with ${exited}` : ''}; its log:\n${log.slice(-4000)}`;
  const base = `http://127.0.0.1:${amPort}`;

  await until('Alertmanager to be ready', async () => {
    if (exited !== null) throw new Error(diag());
    const res = await fetch(`${base}/-/ready`).catch(() => undefined);
    return res?.ok ? true : undefined;
  }, 10_000, diag);

  const labels = { alertname: 'KubemendIntegration', cluster: 'prod-eu', namespace: 'shop', severity: 'critical' };
  const annotations = { summary: 'checkout is crash looping' };
  // Alertmanager keeps real time; these timestamps are for it, not for kubemend's logic.
  const startsAt = new Date(Date.now() - 60_000).toISOString();
  const postAlert = async (extra: Record<string, string>) => {
    const res = await fetch(`${base}/api/v2/alerts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([{ labels, annotations, startsAt, generatorURL: 'http://prometheus:9090/graph', ...extra }]),
    });
    assert.equal(res.status, 200, await res.text());
  };

  await postAlert({});
  const fired = await until('the firing alert', () => signals.find((s) => s.alert?.status === 'firing'), 8000, diag);
  assert.equal(fired.source, 'alert');
  assert.equal(fired.cluster, 'prod-eu');
  assert.equal(fired.time, clock.now());
  assert.deepEqual(fired.alert?.labels, labels);
  assert.deepEqual(fired.alert?.annotations, annotations);
  assert.equal(fired.alert?.generatorURL, 'http://prometheus:9090/graph');
  assert.equal(Date.parse(fired.alert!.startsAt!), Date.parse(startsAt));
  assert.match(fired.alert?.fingerprint ?? '', /^[0-9a-f]{16}$/);

  await postAlert({ endsAt: new Date(Date.now() - 1000).toISOString() });
  const resolved = await until('the resolved alert', () => signals.find((s) => s.alert?.status === 'resolved'), 8000, diag);
  assert.deepEqual(resolved.alert?.labels, labels);
  assert.equal(resolved.alert?.fingerprint, fired.alert?.fingerprint);
  assert.ok(Date.parse(resolved.alert!.endsAt!) > Date.parse(startsAt));
  assert.equal(signals.filter((s) => s.alert?.status === 'firing').length, 1, 'no repeats within repeat_interval');
});
