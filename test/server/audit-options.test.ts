// The service config's audit settings reach the store: a file and a
// ConfigMap witness (on the sandbox's API server, found through the
// kubeconfig context) both receive the signed heads; a required key that is
// missing stops the store from opening.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../../src/common/clock.ts';
import { KubemendError } from '../../src/common/errors.ts';
import { Sandbox } from '../../src/sandbox/cluster.ts';
import { ConfigMapWitness, parseHeadLines } from '../../src/audit/index.ts';
import { openStore } from '../../src/store/index.ts';
import { auditStoreOptions } from '../../src/server/audit-options.ts';
import { loadServiceConfig } from '../../src/server/service-config.ts';

const DEFAULTS = { rules: '/r', runbooks: '/b', policy: '/p.csv' };
let sandbox: Sandbox;
let dir: string;
before(async () => {
  sandbox = new Sandbox({ speed: 1, nodes: [{ name: 'node-1' }] });
  await sandbox.listen();
  dir = mkdtempSync(join(tmpdir(), 'km-audit-options-'));
  writeFileSync(join(dir, 'kubeconfig'), sandbox.kubeconfig());
});
after(async () => {
  await sandbox.stop();
  rmSync(dir, { recursive: true, force: true });
});

function config(store: string[]): ReturnType<typeof loadServiceConfig> {
  const file = join(dir, `kubemend-${Math.random().toString(16).slice(2)}.yaml`);
  writeFileSync(file, ['apiVersion: kubemend.dev/v1alpha1', 'kind: Config', 'spec:', '  clusters: { kubeconfig: ./kubeconfig, contexts: [kubemend-sandbox] }', '  store:', ...store.map((l) => `    ${l}`), ''].join('\n'));
  return loadServiceConfig(file, DEFAULTS);
}

test('store.auditWitness: a file and a ConfigMap both get the signed heads', { timeout: 60_000 }, async () => {
  const c = config(['auditWitness: { file: ./heads.jsonl, configMap: default/kubemend-audit-witness }']);
  const opts = auditStoreOptions(c.store, c.clusters);
  assert.deepEqual(opts.witnesses?.map((w) => w.name), [`file ${join(dir, 'heads.jsonl')}`, 'configmap default/kubemend-audit-witness']);
  const store = await openStore({ dataDir: join(dir, 'data'), clock: new ManualClock(), ...opts });
  await store.audit.append({ actor: { type: 'system', name: 't' }, action: 'test.appended' });
  await store.close();
  const fromFile = parseHeadLines(readFileSync(join(dir, 'heads.jsonl'), 'utf8'), 'file');
  const fromCm = await (opts.witnesses![1] as ConfigMapWitness).heads();
  assert.deepEqual(fromFile.map((h) => h.seq), [1]);
  assert.deepEqual(fromCm, fromFile);
});

test('store.requireAuditKey with no key at store.auditKeyFile refuses to open (KM-AUDIT-002)', async () => {
  const c = config(['auditKeyFile: ./secret/audit-key.pem', 'requireAuditKey: true']);
  const opts = auditStoreOptions(c.store, c.clusters);
  assert.equal(opts.keyFile, join(dir, 'secret/audit-key.pem'));
  assert.equal(opts.witnesses, undefined, 'no witness configured: openStore falls back to $KUBEMEND_AUDIT_WITNESS');
  await assert.rejects(openStore({ dataDir: join(dir, 'data2'), ...opts }), (e: unknown) => e instanceof KubemendError && e.code === 'KM-AUDIT-002');
});
