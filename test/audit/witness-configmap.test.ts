// The in-cluster witness: a ConfigMap written through the Kubernetes API (the
// embedded sandbox's, over HTTP), merged by concurrent writers, trimmed to
// the newest heads, and checked by `kubemend audit verify --witness
// configmap:NS/NAME` as a user runs it.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KubeConfig } from '@kubernetes/client-node';
import { ManualClock } from '../../src/common/clock.ts';
import { KubemendError } from '../../src/common/errors.ts';
import { KubeHttp } from '../../src/kube/index.ts';
import { Sandbox } from '../../src/sandbox/cluster.ts';
import { ConfigMapWitness, WITNESS_KEY, openWitness, parseHeadLines, parseWitnessSpec } from '../../src/audit/index.ts';
import { openStore, type SqlStore } from '../../src/store/index.ts';

const BIN = fileURLToPath(new URL('../../bin/kubemend.js', import.meta.url));

describe('ConfigMap witness on the sandbox API server', { timeout: 120_000 }, () => {
  let sandbox: Sandbox;
  let http: KubeHttp;
  let kubeconfig: string;
  const dirs: string[] = [];
  const stores: SqlStore[] = [];
  before(async () => {
    sandbox = new Sandbox({ speed: 1, nodes: [{ name: 'node-1' }] });
    await sandbox.listen();
    const kc = new KubeConfig();
    kc.loadFromString(sandbox.kubeconfig());
    http = new KubeHttp(kc);
    const dir = mkdtempSync(join(tmpdir(), 'km-cm-witness-'));
    dirs.push(dir);
    kubeconfig = join(dir, 'kubeconfig');
    writeFileSync(kubeconfig, sandbox.kubeconfig());
  });
  after(async () => {
    for (const s of stores) await s.close().catch(() => {});
    await sandbox.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  async function store(witness: ConfigMapWitness): Promise<{ store: SqlStore; dataDir: string }> {
    const dataDir = mkdtempSync(join(tmpdir(), 'km-cm-store-'));
    dirs.push(dataDir);
    const s = await openStore({ dataDir, clock: new ManualClock(Date.UTC(2026, 0, 1)), witnesses: [witness] });
    stores.push(s);
    return { store: s, dataDir };
  }

  const cmHeads = async (name: string) => {
    const cm = await http.request<{ data: Record<string, string>; metadata: { labels: Record<string, string> } }>('GET', `/api/v1/namespaces/default/configmaps/${name}`);
    return { heads: parseHeadLines(cm.data[WITNESS_KEY], name), labels: cm.metadata.labels };
  };

  it('keeps the newest heads in a ConfigMap it creates, and verify catches a truncated tail with it', { timeout: 60_000 }, async () => {
    const witness = new ConfigMapWitness(http, 'default', 'audit-witness');
    const { store: s, dataDir } = await store(witness);
    const input = (i: number) => ({ actor: { type: 'system' as const, name: 't' }, action: 'test.appended', data: { i } });
    await s.audit.append([input(1), input(2)]);
    await s.audit.flush();
    const [saved] = await s.sql.query<Record<string, string | number>>('SELECT seq, hash, time, key_id, signature FROM audit_head WHERE id = 1');
    await s.audit.append([input(3), input(4)]);
    await s.audit.flush();
    const { heads, labels } = await cmHeads('audit-witness');
    assert.deepEqual(heads.map((h) => h.seq), [2, 4]);
    assert.equal(labels['app.kubernetes.io/managed-by'], 'kubemend');
    assert.equal((await s.audit.verify({ witnesses: [witness] })).ok, true);

    await s.sql.exec('DELETE FROM audit_log WHERE seq > 2');
    await s.sql.exec('UPDATE audit_head SET seq = ?, hash = ?, time = ?, key_id = ?, signature = ? WHERE id = 1', [saved.seq, saved.hash, saved.time, saved.key_id, saved.signature]);
    const r = await s.audit.verify({ witnesses: [openWitness('configmap:default/audit-witness', () => http)] });
    assert.equal(r.ok, false);
    assert.match(!r.ok ? r.firstBad.reason : '', /records 3–4 are missing: the witness \(configmap default\/audit-witness\) saw the chain reach seq 4/);

    // As an auditor runs it: exit 1 with the witness, exit 0 (and a note) without.
    const run = (args: string[]) => new Promise<{ code: number; stdout: string; stderr: string }>((res) => {
      const env = { ...process.env, KUBEMEND_AUDIT_WITNESS: '', KUBEMEND_DB: '', KUBEMEND_AUDIT_KEY: '' };
      execFile(process.execPath, [BIN, 'audit', 'verify', '--data-dir', dataDir, ...args], { env }, (err, stdout, stderr) => res({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }));
    });
    const [withCm, blind] = await Promise.all([run(['--witness', 'configmap:default/audit-witness', '--kubeconfig', kubeconfig]), run([])]);
    assert.equal(withCm.code, 1, withCm.stderr);
    assert.match(withCm.stdout, /BROKEN at seq 3: records 3–4 are missing: the witness \(configmap default\/audit-witness\)/);
    assert.match(withCm.stderr, /KM-AUDIT-001/);
    assert.equal(blind.code, 0, blind.stderr);
    assert.match(blind.stderr, /no witness checked/);
  });

  it('merges heads from two writers racing on one ConfigMap, and keeps only the newest', { timeout: 60_000 }, async () => {
    const a = new ConfigMapWitness(http, 'default', 'shared-witness', { keep: 5 });
    const b = new ConfigMapWitness(http, 'default', 'shared-witness', { keep: 5 });
    const head = (seq: number) => ({ seq, hash: seq.toString(16).padStart(64, '0'), time: seq, keyId: 'k', signature: 's' });
    // Each process's feed writes one head at a time; the two processes race each other.
    const writer = async (w: ConfigMapWitness, seqs: number[]) => {
      for (const n of seqs) await w.record(head(n));
    };
    await Promise.all([writer(a, [1, 3, 5, 7]), writer(b, [2, 4, 6, 8])]);
    assert.deepEqual((await a.heads()).map((h) => h.seq), [4, 5, 6, 7, 8]);
    await a.record(head(8));
    assert.deepEqual((await b.heads()).map((h) => h.seq), [4, 5, 6, 7, 8], 'a head it already holds is not written twice');
  });

  it('a ConfigMap witness that does not exist fails verification with KM-AUDIT-003; a bad spec is refused', async () => {
    await assert.rejects(new ConfigMapWitness(http, 'default', 'never-written').heads(), (e: unknown) => e instanceof KubemendError && e.code === 'KM-AUDIT-003' && /does not exist/.test(e.message));
    for (const bad of ['configmap:default', 'configmap:Default/x', 'configmap:a/b/c', 'file:']) {
      assert.throws(() => parseWitnessSpec(bad), (e: unknown) => e instanceof KubemendError && e.code === 'KM-AUDIT-003', bad);
    }
    assert.deepEqual(parseWitnessSpec('/var/lib/w.jsonl'), { kind: 'file', path: '/var/lib/w.jsonl' });
    assert.throws(() => openWitness('configmap:ns/name'), /needs a cluster/);
  });
});
