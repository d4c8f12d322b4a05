// The executor retries a failed step only when the failure's registry entry
// is retryable: a 503 and a request time-out are tried again, a 400 is not,
// whatever the messages say.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
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

const RUNBOOK = `apiVersion: kubemend.dev/v1alpha1
kind: Runbook
metadata: { name: call }
spec:
  parameters:
    url: { type: string }
  steps:
    - id: call
      action: http.request
      with: { url: "{{ params.url }}", timeout: 1s }
      retries: { max: 2, backoff: 20ms }
`;

/** /flaky answers 503 once, /slow hangs once; both answer 200 afterwards. /bad always answers 400. */
async function endpoint(): Promise<{ server: Server; base: string; hits: Map<string, number> }> {
  const hits = new Map<string, number>();
  const server = createServer((req, res) => {
    const n = (hits.get(req.url!) ?? 0) + 1;
    hits.set(req.url!, n);
    if (req.url === '/bad') return void res.writeHead(400).end('no such thing');
    if (req.url === '/flaky' && n === 1) return void res.writeHead(503).end('busy, the server is overloaded');
    if (req.url === '/slow' && n === 1) return; // never answers; the step's request times out
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  return { server, base: `http://127.0.0.1:${port}`, hits };
}

test('a step is retried when its failure is registered retryable, and only then', { timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'km-retry-'));
  writeFileSync(join(dir, 'call.yaml'), RUNBOOK);
  const store = await openStore({ dataDir: dir });
  const { server, base, hits } = await endpoint();
  const kc = new KubeConfig();
  kc.loadFromOptions({ clusters: [{ name: 'c', server: 'http://127.0.0.1:1' }], users: [{ name: 'u' }], contexts: [{ name: 'c', cluster: 'c', user: 'u' }], currentContext: 'c' });
  const kube = new KubeHttp(kc);
  try {
    const rem = buildRemediation({ store, clock: realClock, runbooks: loadRunbooks(dir, { actions: ACTIONS }), kube: () => kube });
    const outcome = async (path: string, name: string) => {
      const res = await rem.executor.trigger({ runbook: 'call', params: { url: `${base}${path}` }, startedBy: { type: 'user', name: 'test' }, target: { cluster: 'c', kind: 'Deployment', namespace: 'shop', name } });
      assert.ok('run' in res && res.run && !('refused' in res), JSON.stringify(res));
      await rem.executor.idle();
      const ts = await store.transitions(res.run!.id);
      return { status: (await store.getRun(res.run!.id))!.status, steps: ts.map((t) => `${t.status}${t.error ? ` ${t.error.split(':')[0]}${/will retry/.test(t.error) ? ' (will retry)' : ''}` : ''}`) };
    };

    const flaky = await outcome('/flaky', 'flaky');
    assert.deepEqual(flaky.steps, ['started', 'failed HTTP_UNAVAILABLE (will retry)', 'started', 'succeeded']);
    assert.equal(flaky.status, 'succeeded');

    const slow = await outcome('/slow', 'slow');
    assert.deepEqual(slow.steps, ['started', 'failed HTTP_TIMEOUT (will retry)', 'started', 'succeeded'], 'a request time-out is not the step timing out');

    const bad = await outcome('/bad', 'bad');
    assert.deepEqual(bad.steps, ['started', 'failed HTTP_STATUS']);
    assert.equal(hits.get('/bad'), 1, 'a final failure is sent once');
  } finally {
    server.closeAllConnections();
    server.close();
    await store.close();
  }
});
