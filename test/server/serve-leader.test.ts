// serve refuses leader-election settings it cannot honour, before starting
// anything: an embedded sandbox (one cluster per process, so every replica
// would lead its own) and a Lease cluster that is not one of the clusters.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runServe } from '../../src/cli/serve.ts';

function config(dir: string, spec: string[]): string {
  const file = join(dir, 'kubemend.yaml');
  writeFileSync(file, ['apiVersion: kubemend.dev/v1alpha1', 'kind: Config', 'spec:', ...spec, ''].join('\n'));
  return file;
}

const KUBECONFIG = `apiVersion: v1
kind: Config
clusters: [{ name: prod, cluster: { server: "http://127.0.0.1:1" } }]
users: [{ name: u, user: { token: t } }]
contexts: [{ name: prod, context: { cluster: prod, user: u } }]
current-context: prod
`;

test('serve: leader election on the embedded sandbox, or on a cluster that is not configured, is refused (KM-CLI-001)', { timeout: 30_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'km-serve-leader-'));
  const sandboxed = config(dir, ['  leaderElection: { enabled: true }']);
  await assert.rejects(
    runServe({ config: sandboxed, listen: '127.0.0.1:0', sandbox: true, scenario: 'crashloop', context: [], dataDir: join(dir, 'data') }, () => {}, {}),
    (err: Error & { code?: string }) => err.code === 'KM-CLI-001' && /--sandbox embeds one per process: run `kubemend sandbox --kubeconfig-out PATH`/.test(err.message),
  );
  writeFileSync(join(dir, 'kubeconfig'), KUBECONFIG);
  const elsewhere = config(dir, ['  clusters: { kubeconfig: ./kubeconfig }', '  chat: { defaultCluster: prod }', '  leaderElection: { enabled: true, context: staging }']);
  await assert.rejects(
    runServe({ config: elsewhere, listen: '127.0.0.1:0', scenario: 'crashloop', context: [], dataDir: join(dir, 'data') }, () => {}, {}),
    (err: Error & { code?: string }) => err.code === 'KM-CLI-001' && /leaderElection\.context "staging" is not one of the clusters \(prod\)/.test(err.message),
  );
});
