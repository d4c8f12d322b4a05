// `kubemend serve` with webhooks.kubernetesAudit: the route is wired from
// the config to the incident tracker's audit trail, needs its token, and a
// refusal lands in the audit log; the audit webhook without incident
// tracking is refused at start.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runServe } from '../../src/cli/serve.ts';
import { openStore } from '../../src/store/index.ts';
import { metric, scrape, startServe } from '../helpers/serve-process.ts';
import { auditEvent, eventList } from '../helpers/kube-audit.ts';

const TOKEN = 'serve-apiserver-audit-token';

function config(dir: string, spec: string[]): string {
  const file = join(dir, 'kubemend.yaml');
  writeFileSync(file, ['apiVersion: kubemend.dev/v1alpha1', 'kind: Config', 'spec:', ...spec, ''].join('\n'));
  return file;
}

test('serve: the Kubernetes audit webhook needs incident tracking (KM-SERVE-002) and its token variable', { timeout: 30_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'km-serve-kaudit-'));
  const cfg = config(dir, ['  incidents: { enabled: false }', '  webhooks: { kubernetesAudit: { bearerTokenEnv: APISERVER_AUDIT_TOKEN } }']);
  const flags = { config: cfg, listen: '127.0.0.1:0', sandbox: true, scenario: 'crashloop', context: [], dataDir: join(dir, 'data') };
  await assert.rejects(runServe(flags, () => {}, { APISERVER_AUDIT_TOKEN: TOKEN }), (err: Error & { code?: string }) => err.code === 'KM-SERVE-002' && /incidents\.enabled is false/.test(err.message));
  const on = config(dir, ['  webhooks: { kubernetesAudit: { bearerTokenEnv: APISERVER_AUDIT_TOKEN } }']);
  await assert.rejects(runServe({ ...flags, config: on }, () => {}, {}), (err: Error & { code?: string }) => err.code === 'KM-SERVE-002' && /\$APISERVER_AUDIT_TOKEN is not set/.test(err.message));
});

test('serve --sandbox: POST /webhooks/kubernetes-audit keeps the API server\'s writes and refuses callers without the token', { timeout: 90_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'km-serve-kaudit-'));
  const data = join(dir, 'data');
  const cfg = config(dir, ['  changes: { expectedManagers: [argocd-controller] }', '  webhooks: { kubernetesAudit: { bearerTokenEnv: APISERVER_AUDIT_TOKEN, maxEvents: 50 } }']);
  const s = await startServe(['--config', cfg, '--sandbox', '--listen', '127.0.0.1:0', '--data-dir', data], { APISERVER_AUDIT_TOKEN: TOKEN });
  try {
    assert.match(s.output(), /\/webhooks\/kubernetes-audit \(the API server's audit log\)/);
    const batch = eventList([
      auditEvent({ id: 'serve-1', at: Date.now(), verb: 'patch', user: 'alice@example.com', fieldManager: 'kubectl-set', resource: 'deployments', apiGroup: 'apps', namespace: 'shop', name: 'checkout' }),
      auditEvent({ id: 'serve-2', at: Date.now(), verb: 'get', user: 'alice@example.com', resource: 'deployments', apiGroup: 'apps', namespace: 'shop', name: 'checkout' }),
    ]);
    const post = (headers: Record<string, string>, path = '/webhooks/kubernetes-audit') => fetch(`${s.base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(batch) });
    const refused = await post({});
    assert.equal(refused.status, 401);
    const ok = await post({ authorization: `Bearer ${TOKEN}` });
    assert.deepEqual(await ok.json(), { accepted: 2, kept: 1, ignored: 1 });
    assert.equal((await post({ authorization: `Bearer ${TOKEN}` }, '/webhooks/kubernetes-audit/sandbox')).status, 200, 'the cluster by name');
    const m = await scrape(s.base);
    assert.equal(metric(m, 'kubemend_webhook_requests_total', { route: 'kubernetes-audit', code: '401' }), 1);
    assert.ok(metric(m, 'kubemend_kube_audit_events_total', { result: 'kept' }) >= 1);
  } finally {
    assert.equal(await s.stop(), 0, s.output().slice(-2000));
  }
  const store = await openStore({ dataDir: data });
  try {
    const recs = await store.audit.list({ action: 'webhook.refused' });
    assert.deepEqual(recs.map((r) => [r.data?.route, r.data?.reason]), [['kubernetes-audit', 'missing_token']]);
    assert.ok(!JSON.stringify(recs).includes(TOKEN));
  } finally {
    await store.close();
  }
});
