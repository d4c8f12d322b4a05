// The per-target lock between processes: two executors on one database
// (two connections, as two replicas have), triggered for the same target at
// the same moment, start one run; the other is refused as `locked`. The
// budgets' read of the store alone would let both through (both read "no
// holder" before either inserts): the database's unique lock column decides.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { realClock } from '../../src/common/clock.ts';
import { KubeHttp } from '../../src/kube/http.ts';
import { loadRunbooks } from '../../src/runbooks/loader.ts';
import { ACTIONS } from '../../src/runbooks/actions/index.ts';
import { buildRemediation } from '../../src/pipeline/index.ts';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { openStore } from '../../src/store/index.ts';
import { createPgDatabase, pgSkip } from '../audit/helpers.ts';

// An approval nobody decides, then a change: a run that holds its target and stays in flight.
const HOLD = `apiVersion: kubemend.dev/v1alpha1
kind: Runbook
metadata: { name: hold }
spec:
  steps:
    - id: ask
      action: approval
      with: { group: nobody, summary: wait, timeout: 10m }
    - id: touch
      action: k8s.annotate
      with: { kind: ConfigMap, namespace: default, name: x, annotations: { a: b } }
`;

// PostgreSQL: replicas share it. (Two SQLite connections in one process would block its event loop on each other's write lock; run-locks.test.ts races SQLite at the store.)
it('two executors on one PostgreSQL database, racing for one target, start exactly one run', { skip: pgSkip, timeout: 120_000 }, async () => {
  const db = await createPgDatabase();
  const dir = mkdtempSync(join(tmpdir(), 'km-lock-race-'));
  const open = () => openStore({ db: db.url, dataDir: dir });
  writeFileSync(join(dir, 'hold.yaml'), HOLD);
  const runbooks = loadRunbooks(join(dir, 'hold.yaml'), { actions: ACTIONS });
  const kc = new KubeConfig();
  kc.loadFromOptions({ clusters: [{ name: 'c', server: 'http://127.0.0.1:1' }], users: [{ name: 'u' }], contexts: [{ name: 'c', cluster: 'c', user: 'u' }], currentContext: 'c' });
  const kube = new KubeHttp(kc);
  const stores = [await open(), await open()];
  const replicas = stores.map((store) => buildRemediation({ store, clock: realClock, runbooks, kube: () => kube, budgets: { concurrentPerNamespace: 100, concurrentPerCluster: 100 } }));
  try {
    for (let round = 0; round < 10; round++) {
      const target = { cluster: 'c', kind: 'Deployment', namespace: 'shop', name: `web-${round}` };
      const results = await Promise.all(replicas.map((r) => r.executor.trigger({ runbook: 'hold', startedBy: { type: 'rule', name: 'test' }, target })));
      const started = results.filter((r) => !('refused' in r));
      const refused = results.filter((r) => 'refused' in r);
      assert.equal(started.length, 1, `round ${round}: ${JSON.stringify(results.map((r) => ('refused' in r ? r.refused : 'started')))}`);
      assert.equal(refused.length === 1 && 'refused' in refused[0] && refused[0].refused.kind, 'locked');
    }
    const store = stores[0];
    assert.equal((await store.listRuns({ status: ['running'] })).length, 10);
    assert.equal((await store.audit.list({ action: 'runbook.run.refused' })).length, 10);
  } finally {
    for (const r of replicas) {
      r.executor.cancelAll();
      await r.executor.idle();
    }
    for (const s of stores) await s.close();
    await db.drop();
  }
});
