// k8s.collect and the values of Secrets: what the pod specs hold is always
// learnt (literal env values under secret-looking names); the Secrets the
// pods reference are read only with readSecrets (it needs RBAC get on
// secrets), and a refusal is reported, never a failed step.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { collect } from '../../src/runbooks/actions/index.ts';
import { cluster, deployment, until } from './actions-fixture.ts';

const b64 = (s: string) => Buffer.from(s).toString('base64');

async function leaky(mounted: string, literal: string) {
  const f = await cluster({
    images: { 'shop/leaky:1': { exitAfterSeconds: 1, exitCode: 1, logs: [`seed ${mounted} loaded`, `cache ${literal} warmed`, 'DB_PASSWORD=hunter2-Correct-Horse'] } },
  });
  const dep = deployment('leaky', 'shop/leaky:1', { replicas: 1 }) as any;
  const c = dep.spec.template.spec.containers[0];
  c.env = [{ name: 'SEED', valueFrom: { secretKeyRef: { name: 'seed', key: 'value' } } }, { name: 'CACHE_PASSWORD', value: literal }, { name: 'MODE', value: 'production-mode' }];
  c.envFrom = [{ secretRef: { name: 'extra' } }];
  dep.spec.template.spec.volumes = [{ name: 'certs', secret: { secretName: 'certs' } }];
  f.sandbox.apply([
    { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'seed', namespace: 'default' }, data: { value: b64(mounted) } },
    { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'extra', namespace: 'default' }, data: { other: b64('extra-Value-0042') } },
    { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'certs', namespace: 'default' }, data: { 'tls.key': b64('certs-Value-0043') } },
    dep,
  ]);
  await until(() => f.sandbox.store.list('pods', 'default').items.some((p) => (p.status?.containerStatuses ?? []).some((s: any) => s.restartCount >= 1)), 'leaky restarted');
  return f;
}

const secretGets = (f: Awaited<ReturnType<typeof cluster>>, mark: number) => f.sandbox.api!.requestLog.slice(mark).filter((e) => e.method === 'GET' && e.path.includes('/secrets/')).map((e) => e.path);

test('without readSecrets no Secret is read; literal secret env values are masked all the same', { timeout: 60_000 }, async () => {
  const f = await leaky('Seed-Value-Not-Read-9911', 'Literal-Env-Value-9912');
  try {
    const mark = f.mark();
    const r = await f.run(collect, { namespace: 'default', name: 'leaky', logTail: 10 });
    assert.deepEqual(secretGets(f, mark), []);
    const lines: string[] = (r.outputs.evidence as any).logs.flatMap((l: any) => l.lines);
    assert.ok(lines.includes('cache [redacted] warmed'), JSON.stringify(lines));
    assert.ok(lines.includes('DB_PASSWORD=[redacted]'));
    // Opt-in means what it says: the mounted value is not known to the redactor.
    assert.ok(lines.includes('seed Seed-Value-Not-Read-9911 loaded'), JSON.stringify(lines));
    assert.equal(r.outputs.secretsRead, undefined);
    assert.ok(!JSON.stringify(r.outputs).includes('production-mode'), 'env values are never copied');
  } finally {
    await f.close();
  }
});

test('with readSecrets every referenced Secret is read as the run\'s identity and its values masked', { timeout: 60_000 }, async () => {
  const f = await leaky('Seed-Value-Read-7721', 'Literal-Env-Value-7722');
  try {
    const mark = f.mark();
    const r = await f.run(collect, { namespace: 'default', name: 'leaky', logTail: 10, readSecrets: true });
    assert.deepEqual(secretGets(f, mark).sort(), ['/api/v1/namespaces/default/secrets/certs', '/api/v1/namespaces/default/secrets/extra', '/api/v1/namespaces/default/secrets/seed']);
    assert.deepEqual(r.outputs.secretsRead, ['certs', 'extra', 'seed']);
    assert.deepEqual(r.outputs.secretsUnread, []);
    const lines: string[] = (r.outputs.evidence as any).logs.flatMap((l: any) => l.lines);
    assert.ok(lines.includes('seed [redacted] loaded'), JSON.stringify(lines));
    assert.ok(!JSON.stringify(r.outputs).includes('Seed-Value-Read-7721'));
  } finally {
    await f.close();
  }
});

test('a Secret the identity may not read is reported; the evidence is still collected', { timeout: 60_000 }, async () => {
  const f = await leaky('Seed-Value-Forbidden-5531', 'Literal-Env-Value-5532');
  try {
    f.sandbox.faults.add({ verb: 'get', resource: 'secrets', name: 'seed', code: 403, message: 'secrets "seed" is forbidden: User "system:serviceaccount:kubemend:remediator" cannot get resource "secrets"' });
    const r = await f.run(collect, { namespace: 'default', name: 'leaky', logTail: 10, readSecrets: true });
    assert.deepEqual(r.outputs.secretsRead, ['certs', 'extra']);
    assert.deepEqual(r.outputs.secretsUnread, [{ name: 'seed', reason: 'FORBIDDEN' }]);
    assert.ok(((r.outputs.evidence as any).logs as unknown[]).length > 0);
  } finally {
    await f.close();
  }
});
