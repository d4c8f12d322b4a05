// Whatever an action returns or fails with is masked by the executor before
// it is kept: the run's outputs, every step transition and their audit
// records. http.request is the action that hands back foreign text as is (a
// token endpoint's answer, an error page quoting a credential). Parameters
// under secret-looking names are masked in what is recorded, and still used.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { openStore } from '../../src/store/index.ts';
import { realClock } from '../../src/common/clock.ts';
import { KubeHttp } from '../../src/kube/http.ts';
import { loadRunbooks } from '../../src/runbooks/loader.ts';
import { ACTIONS } from '../../src/runbooks/actions/index.ts';
import { buildRemediation } from '../../src/pipeline/index.ts';

const ACCESS = 'ya29.a0AfH6SMBx7Lm2Np9Rs4Tu6Vw8Xy0Zb1Cd3Ef5Gh7';
const LEAKED = 'hunter2-Correct-Horse';
const API_KEY = 'ak-Qx7Lm2Np9Rs4-Tu6Vw8';

const RUNBOOK = `apiVersion: kubemend.dev/v1alpha1
kind: Runbook
metadata: { name: token-dance }
spec:
  parameters:
    base: { type: string }
    apiKey: { type: string }
  steps:
    - id: token
      action: http.request
      with: { method: POST, url: "{{ params.base }}/token", headers: { X-Api-Key: "{{ params.apiKey }}" }, timeout: 5s }
    - id: refuse
      action: http.request
      with: { url: "{{ params.base }}/refuse", timeout: 5s }
`;

test('step outputs, errors and parameters are masked in the run, its transitions and the audit log', { timeout: 60_000 }, async () => {
  const seenKeys: string[] = [];
  const server = createServer((req, res) => {
    seenKeys.push(String(req.headers['x-api-key']));
    if (req.url === '/token') return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ access_token: ACCESS, token_type: 'Bearer', note: `rotated; old DB_PASSWORD=${LEAKED}` }));
    res.writeHead(403).end(`forbidden: config dump password=${LEAKED}`);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const dir = mkdtempSync(join(tmpdir(), 'km-exec-redact-'));
  writeFileSync(join(dir, 'token-dance.yaml'), RUNBOOK);
  const store = await openStore({ dataDir: dir });
  const kc = new KubeConfig();
  kc.loadFromOptions({ clusters: [{ name: 'c', server: 'http://127.0.0.1:1' }], users: [{ name: 'u' }], contexts: [{ name: 'c', cluster: 'c', user: 'u' }], currentContext: 'c' });
  const kube = new KubeHttp(kc);
  try {
    const rem = buildRemediation({ store, clock: realClock, runbooks: loadRunbooks(dir, { actions: ACTIONS }), kube: () => kube });
    const res = await rem.executor.trigger({ runbook: 'token-dance', params: { base, apiKey: API_KEY }, startedBy: { type: 'user', name: 'test' }, target: { cluster: 'c', kind: 'Deployment', namespace: 'shop', name: 'web' } });
    assert.ok('run' in res && res.run, JSON.stringify(res));
    await rem.executor.idle();
    assert.deepEqual(seenKeys[0], API_KEY, 'the parameter itself is used as given');
    const run = (await store.getRun(res.run.id))!;
    assert.equal(run.status, 'escalated');
    const ts = await store.transitions(run.id);
    assert.deepEqual(ts.map((t) => `${t.stepId} ${t.status}`), ['token started', 'token succeeded', 'refuse started', 'refuse failed']);
    assert.deepEqual((ts[1].output as any).outputs.body, { access_token: '[redacted]', token_type: 'Bearer', note: 'rotated; old DB_PASSWORD=[redacted]' });
    assert.equal((ts[0].output as any).params.headers['X-Api-Key'], '[redacted]');
    assert.match(ts[3].error!, /^HTTP_STATUS: GET .*\/refuse answered 403: forbidden: config dump password=\[redacted\]$/);
    assert.equal((run.outputs.refuse as any).error.includes(LEAKED), false);
    const kept = JSON.stringify([run.outputs, ts, await store.audit.list()]);
    for (const s of [ACCESS, LEAKED, API_KEY]) assert.ok(!kept.includes(s), `${s} is kept`);
  } finally {
    server.closeAllConnections();
    server.close();
    await store.close();
  }
});
