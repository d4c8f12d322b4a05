// The state file keeps the service account token signing key, so a token
// handed out before a restart still authenticates after it; a state file
// written before the sandbox made its bootstrap objects gets them at restore.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../../src/common/clock.ts';
import { Sandbox } from '../../src/sandbox/cluster.ts';
import type { SandboxState } from '../../src/sandbox/state.ts';

const T0 = Date.UTC(2026, 0, 1);

async function whoami(url: string, token: string): Promise<{ code: number; user?: string }> {
  const res = await fetch(`${url}/apis/authentication.k8s.io/v1/selfsubjectreviews`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' }),
  });
  const body = (await res.json()) as any;
  return { code: res.status, user: body.status?.userInfo?.username };
}

test('a token issued before a restart authenticates after it (the signing key is in the state file)', { timeout: 60_000 }, async () => {
  const file = join(mkdtempSync(join(tmpdir(), 'km-state-auth-')), 'state.json');
  const first = new Sandbox({ clock: new ManualClock(T0), stateFile: file });
  const { url } = await first.listen();
  await (first.clock as ManualClock).advance(1000);
  const res = await fetch(`${url}/api/v1/namespaces/default/serviceaccounts/default/token`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: {} }),
  });
  assert.equal(res.status, 201);
  const token = ((await res.json()) as any).status.token as string;
  await first.stop();

  const second = new Sandbox({ clock: new ManualClock(T0 + 5000), stateFile: file });
  try {
    const again = await second.listen();
    assert.deepEqual(await whoami(again.url, token), { code: 201, user: 'system:serviceaccount:default:default' });
  } finally {
    await second.stop();
  }
});

test('a state file without the API server\'s bootstrap objects gets them when restored', { timeout: 60_000 }, async () => {
  const file = join(mkdtempSync(join(tmpdir(), 'km-state-auth-')), 'state.json');
  const first = new Sandbox({ clock: new ManualClock(T0), stateFile: file });
  first.start();
  await first.stop();
  const state = JSON.parse(readFileSync(file, 'utf8')) as SandboxState;
  // As written before the sandbox had PriorityClasses, RBAC defaults and default/kubernetes.
  delete state.objects['scheduling.k8s.io/priorityclasses'];
  delete state.objects['rbac.authorization.k8s.io/clusterroles'];
  state.objects.services = (state.objects.services ?? []).filter((s) => s.metadata.name !== 'kubernetes');
  writeFileSync(file, JSON.stringify(state));
  const restored = new Sandbox({ clock: new ManualClock(T0 + 1000), stateFile: file });
  assert.deepEqual(restored.store.list('scheduling.k8s.io/priorityclasses').items.map((p) => p.metadata.name), ['system-cluster-critical', 'system-node-critical']);
  assert.ok(restored.store.get('rbac.authorization.k8s.io/clusterroles', undefined, 'cluster-admin'));
  assert.ok(restored.store.get('services', 'default', 'kubernetes'));
});
