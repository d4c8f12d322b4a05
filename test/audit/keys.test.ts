// The signing key in a cluster install: mounted read-only from a Secret and
// named by KUBEMEND_AUDIT_KEY, never generated beside the database when the
// install says it must be provided — a missing mount stops kubemend at start
// instead of quietly signing with a key anyone who reads that volume holds.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { generateKeyPairSync } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ManualClock } from '../../src/common/clock.ts';
import { KubemendError } from '../../src/common/errors.ts';
import { keyId } from '../../src/audit/index.ts';
import { openStore } from '../../src/store/index.ts';

const BIN = fileURLToPath(new URL('../../bin/kubemend.js', import.meta.url));
const dirs: string[] = [];
const tmp = (p: string) => {
  const d = mkdtempSync(join(tmpdir(), p));
  dirs.push(d);
  return d;
};
after(() => {
  for (const d of dirs) {
    chmodSync(d, 0o700);
    rmSync(d, { recursive: true, force: true });
  }
});

/** A Secret as the kubelet mounts it: a read-only directory holding the PEM. */
function mountedSecret(): { path: string; keyId: string } {
  const dir = join(tmp('km-secret-'), 'audit-key');
  mkdirSync(dir);
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const path = join(dir, 'audit-key.pem');
  writeFileSync(path, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o400 });
  chmodSync(dir, 0o555);
  return { path, keyId: keyId(publicKey) };
}

test('a required key that is missing stops the store from opening (KM-AUDIT-002), and none is generated', { timeout: 60_000 }, async () => {
  const dataDir = tmp('km-data-');
  await assert.rejects(
    openStore({ dataDir, requireKey: true, clock: new ManualClock() }),
    (e: unknown) => e instanceof KubemendError && e.code === 'KM-AUDIT-002' && /must be provided/.test(e.message) && e.message.includes(join(dataDir, 'audit-key.pem')),
  );
  assert.deepEqual(readdirSync(dataDir), [], 'no key, and no database either: it failed before touching them');
});

test('without requireKey the key is generated beside the database on first write, as before', { timeout: 60_000 }, async () => {
  const dataDir = tmp('km-data-');
  const store = await openStore({ dataDir, clock: new ManualClock() });
  await store.audit.append({ actor: { type: 'system', name: 't' }, action: 'test.appended' });
  await store.close();
  assert.ok(existsSync(join(dataDir, 'audit-key.pem')));
});

test('a key mounted read-only from a Secret signs the chain, and nothing is written beside the database', { timeout: 60_000 }, async () => {
  const secret = mountedSecret();
  const dataDir = tmp('km-data-');
  const store = await openStore({ dataDir, keyFile: secret.path, requireKey: true, clock: new ManualClock() });
  await store.audit.append({ actor: { type: 'system', name: 't' }, action: 'test.appended' });
  const [head] = await store.sql.query<{ key_id: string }>('SELECT key_id FROM audit_head');
  assert.equal(head.key_id, secret.keyId);
  assert.equal((await store.audit.verify()).ok, true);
  await store.close();
  assert.deepEqual(readdirSync(dataDir).filter((f) => f.includes('key')), []);
});

test('KUBEMEND_AUDIT_REQUIRE_KEY=1 makes every command refuse to start without the mounted key; with KUBEMEND_AUDIT_KEY it runs', { timeout: 60_000 }, async () => {
  const run = (env: Record<string, string>, dataDir: string) => new Promise<{ code: number; stderr: string }>((res) => {
    const base = { ...process.env };
    for (const k of ['KUBEMEND_DB', 'KUBEMEND_HOME', 'KUBEMEND_AUDIT_KEY', 'KUBEMEND_AUDIT_WITNESS', 'KUBEMEND_AUDIT_REQUIRE_KEY']) delete base[k];
    execFile(process.execPath, [BIN, 'audit', 'list', '--data-dir', dataDir], { env: { ...base, ...env } }, (err, _out, stderr) => res({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stderr }));
  });
  const dataDir = tmp('km-data-');
  const refused = await run({ KUBEMEND_AUDIT_REQUIRE_KEY: '1' }, dataDir);
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, /KM-AUDIT-002 there is no audit signing key at .*audit-key\.pem, and the key must be provided/);
  assert.ok(!existsSync(join(dataDir, 'audit-key.pem')));
  const secret = mountedSecret();
  const ok = await run({ KUBEMEND_AUDIT_REQUIRE_KEY: 'true', KUBEMEND_AUDIT_KEY: secret.path }, dataDir);
  assert.equal(ok.code, 0, ok.stderr);
});
