// k8s.proposeMemoryLimits, k8s.proposeLimitRange and k8s.createLimitRange
// against the sandbox over HTTP: what the proposal says in each case (a
// LimitRange default, observed usage through a metrics-server in front of
// the sandbox, a stated default), that the patch it prints works when pasted
// into a shell with the real kubectl, and that creating a LimitRange plans
// without writing, creates once, and never lands beside another one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { KubeHttp } from '../../src/kube/http.ts';
import { ActionError } from '../../src/runbooks/types.ts';
import { createLimitRange, proposeLimitRange, proposeMemoryLimits, OPERATION_ANNOTATION } from '../../src/runbooks/actions/index.ts';
import { cluster, SERVICE_USER, until } from './actions-fixture.ts';
import { metricsProxy } from '../helpers/metrics-proxy.ts';
import { hasKubectl } from '../helpers/kubectl.ts';

const IMAGES = { 'pay/worker:1': { readySeconds: 1, memoryMi: 300 }, 'pay/api:1': { readySeconds: 1, memoryMi: 100 } };

function worker(namespace: string, replicas = 2) {
  return {
    apiVersion: 'apps/v1', kind: 'Deployment',
    metadata: { name: 'worker', namespace, labels: { app: 'worker', 'app.kubernetes.io/managed-by': 'helm' }, annotations: { 'example.com/owner': 'payments-oncall' } },
    spec: {
      replicas,
      selector: { matchLabels: { app: 'worker' } },
      template: {
        metadata: { labels: { app: 'worker' } },
        spec: {
          containers: [
            { name: 'worker', image: 'pay/worker:1', resources: { requests: { cpu: '100m' } } },
            { name: 'api', image: 'pay/api:1', resources: { requests: { memory: '128Mi' }, limits: { memory: '256Mi' } } },
          ],
        },
      },
    },
  };
}

const ns = (name: string, labels: Record<string, string> = {}) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } });
const limitRange = (namespace: string, name: string, def: string, req: string) => ({
  apiVersion: 'v1', kind: 'LimitRange', metadata: { name, namespace },
  spec: { limits: [{ type: 'Container', default: { memory: def }, defaultRequest: { memory: req } }] },
});

async function running(f: Awaited<ReturnType<typeof cluster>>, namespace: string, n: number) {
  await until(() => f.sandbox.store.list('pods', namespace).items.filter((p) => p.status?.phase === 'Running').length >= n, `${n} running pods in ${namespace}`);
}

test('without usage figures or a LimitRange: the stated default, the owner from labels and annotations, a LimitRange proposed, and a patch that works as printed', { timeout: 60_000 }, async () => {
  const f = await cluster({ images: IMAGES });
  // No metrics-server: the sandbox's metrics.k8s.io answers as an unregistered API does.
  for (const resource of ['metrics.k8s.io/nodes', 'metrics.k8s.io/pods']) f.sandbox.faults.add({ resource, code: 404, message: 'the server could not find the requested resource' });
  try {
    f.sandbox.apply([ns('payments', { team: 'payments' }), worker('payments')]);
    await running(f, 'payments', 2);
    const mark = f.mark();
    const r = await f.run(proposeMemoryLimits, { kind: 'Deployment', namespace: 'payments', name: 'worker' });
    assert.equal(r.mutated, false);
    assert.deepEqual(f.mutationsSince(mark), [], 'a proposal changes nothing');
    const o = r.outputs as any;
    assert.deepEqual(o.containers, [{ name: 'worker', memoryRequest: '512Mi', memoryLimit: '512Mi', basis: 'the stated default 512Mi (no LimitRange default, no usage figures)' }], 'only the container without a limit');
    assert.deepEqual(o.owner.marks, ['app.kubernetes.io/managed-by=helm (label on deployment)', 'example.com/owner=payments-oncall (annotation on deployment)', 'team=payments (label on namespace payments)']);
    assert.deepEqual(o.patch, { spec: { template: { spec: { containers: [{ name: 'worker', resources: { requests: { memory: '512Mi' }, limits: { memory: '512Mi' } } }] } } } });
    assert.equal(o.limitRange.spec.limits[0].default.memory, '512Mi');
    assert.equal(o.limitRange.spec.limits[0].defaultRequest.memory, '256Mi');
    assert.match(o.metrics, /metrics\.k8s\.io not served \(404/);
    for (const part of ['Deployment payments/worker has 1 container(s) without a memory limit', 'owner: app.kubernetes.io/managed-by=helm', o.kubectl, 'kind: LimitRange', 'Usage unknown']) assert.ok(o.message.includes(part), `${part} in:\n${o.message}`);
    if (hasKubectl) {
      const dir = mkdtempSync(join(tmpdir(), 'km-kc-'));
      writeFileSync(join(dir, 'kubeconfig'), f.sandbox.kubeconfig());
      // Asynchronously: the sandbox answers kubectl from this very process.
      await promisify(execFile)('/bin/sh', ['-c', `${o.kubectl} --kubeconfig ${join(dir, 'kubeconfig')}`], { encoding: 'utf8', timeout: 30_000 });
      const c = f.sandbox.store.get('apps/deployments', 'payments', 'worker')!.spec.template.spec.containers;
      assert.deepEqual(c.map((x: any) => [x.name, x.resources.limits?.memory, x.resources.requests?.memory, x.resources.requests?.cpu]), [['worker', '512Mi', '512Mi', '100m'], ['api', '256Mi', '128Mi', undefined]]);
      const again = await f.run(proposeMemoryLimits, { kind: 'Deployment', namespace: 'payments', name: 'worker' });
      assert.deepEqual((again.outputs as any).containers, []);
      assert.match((again.outputs as any).message, /every container has a memory limit now/);
    }
  } finally {
    await f.close();
  }
});

test("with a LimitRange: its default, unless the container already uses more than that with headroom; usage from metrics.k8s.io otherwise, capped", { timeout: 60_000 }, async () => {
  const f = await cluster({ images: IMAGES });
  const proxy = await metricsProxy(f.sandbox);
  try {
    const kc = new KubeConfig();
    kc.loadFromString(proxy.kubeconfig());
    const viaProxy = { kube: new KubeHttp(kc) };
    f.sandbox.apply([ns('payments'), worker('payments')]);
    await running(f, 'payments', 2);
    await until(() => f.sandbox.usage.pod('payments', f.sandbox.store.list('pods', 'payments').items[0].metadata.name!)?.containers.size === 2, 'usage reported');
    // Observed 300Mi × 1.5 → 450Mi → 512Mi (64Mi steps); the request is what it uses, 320Mi.
    const used = (await f.run(proposeMemoryLimits, { namespace: 'payments', name: 'worker' }, viaProxy)).outputs as any;
    assert.deepEqual(used.containers, [{ name: 'worker', memoryRequest: '320Mi', memoryLimit: '512Mi', basis: 'observed 300Mi × 1.5', usage: '300Mi' }]);
    assert.equal(used.usage, '800Mi', 'two pods of 300Mi + 100Mi');
    assert.equal(used.metrics, 'available');
    // The LimitRange proposed alongside covers the largest container without a limit.
    assert.equal(used.limitRange.spec.limits[0].default.memory, '512Mi');
    assert.equal(used.limitRange.spec.limits[0].defaultRequest.memory, '320Mi');
    const capped = (await f.run(proposeMemoryLimits, { namespace: 'payments', name: 'worker', maxMemory: '256Mi' }, viaProxy)).outputs as any;
    assert.equal(capped.containers[0].memoryLimit, '256Mi');
    assert.equal(capped.containers[0].overCap, true);
    assert.match(capped.containers[0].basis, /capped at 256Mi: it already uses more than the cap allows/);
    // A LimitRange default that covers the usage wins; one that does not is passed over, and said so.
    f.sandbox.apply([limitRange('payments', 'team-defaults', '768Mi', '384Mi')]);
    const lr = (await f.run(proposeMemoryLimits, { namespace: 'payments', name: 'worker' }, viaProxy)).outputs as any;
    assert.deepEqual(lr.containers[0], { name: 'worker', memoryRequest: '384Mi', memoryLimit: '768Mi', basis: 'the default of LimitRange team-defaults', usage: '300Mi' });
    assert.equal(lr.limitRange, null, 'the namespace has one: none proposed');
    f.sandbox.store.delete('limitranges', 'payments', 'team-defaults');
    f.sandbox.apply([limitRange('payments', 'small', '256Mi', '128Mi')]);
    const small = (await f.run(proposeMemoryLimits, { namespace: 'payments', name: 'worker' }, viaProxy)).outputs as any;
    assert.equal(small.containers[0].memoryLimit, '512Mi');
    assert.match(small.containers[0].basis, /^observed 300Mi × 1\.5 \(above LimitRange small's default 256Mi\)$/);
  } finally {
    await proxy.close();
    await f.close();
  }
});

test('for a node: its share of allocatable, and the workloads on it without a limit, heaviest first', { timeout: 60_000 }, async () => {
  const f = await cluster({ images: { ...IMAGES, 'big/cache:1': { readySeconds: 1, memoryMi: 2000 } }, nodes: [{ name: 'node-1' }] });
  const proxy = await metricsProxy(f.sandbox);
  try {
    const kc = new KubeConfig();
    kc.loadFromString(proxy.kubeconfig());
    const cache = worker('cache', 1);
    cache.metadata.name = 'cache';
    cache.spec.template.spec.containers = [{ name: 'cache', image: 'big/cache:1', resources: { requests: { cpu: '100m' } } }];
    f.sandbox.apply([ns('payments'), ns('cache'), worker('payments'), cache]);
    await running(f, 'payments', 2);
    await running(f, 'cache', 1);
    await until(() => f.sandbox.usage.node('node-1').memoryBytes >= (2000 + 800) * 2 ** 20, 'usage reported');
    const o = (await f.run(proposeMemoryLimits, { kind: 'Node', name: 'node-1' }, { kube: new KubeHttp(kc) })).outputs as any;
    assert.equal(o.node, 'node-1');
    assert.deepEqual(o.workloads.map((w: any) => `${w.owner.kind} ${w.owner.namespace}/${w.owner.name} ${w.usage}`), ['Deployment cache/cache 2000Mi', 'Deployment payments/worker 800Mi']);
    assert.equal(o.workloads[0].containers[0].memoryLimit, '3008Mi');
    assert.equal(o.limitRanges.length, 2, 'both namespaces lack a LimitRange');
    assert.match(o.message, /^Node node-1 — 2800Mi of \d+Mi allocatable \(3\d%\)\. Workloads on it without a memory limit, heaviest first:/);
  } finally {
    await proxy.close();
    await f.close();
  }
});

test('proposeLimitRange: the stated defaults without usage, nothing when the namespace has one', { timeout: 60_000 }, async () => {
  const f = await cluster({ images: IMAGES });
  try {
    f.sandbox.apply([ns('payments')]);
    const o = (await f.run(proposeLimitRange, { namespace: 'payments' })).outputs as any;
    assert.equal(o.exists, false);
    assert.deepEqual(o.limitRange, { apiVersion: 'v1', kind: 'LimitRange', metadata: { name: 'default-memory', namespace: 'payments', labels: { 'app.kubernetes.io/managed-by': 'kubemend' } }, spec: { limits: [{ type: 'Container', default: { memory: '512Mi' }, defaultRequest: { memory: '256Mi' } }] } });
    assert.match(o.summary, /^LimitRange default-memory in namespace payments: containers without memory settings get request 256Mi, limit 512Mi/);
    f.sandbox.apply([limitRange('payments', 'theirs', '1Gi', '512Mi')]);
    const exists = (await f.run(proposeLimitRange, { namespace: 'payments' })).outputs as any;
    assert.deepEqual([exists.exists, exists.existing, exists.limitRange], [true, ['theirs'], null]);
  } finally {
    await f.close();
  }
});

test('createLimitRange: a dry-run plan writes nothing; the run creates it once, as the service identity, and re-checks; it never adds a second one or another kind', { timeout: 60_000 }, async () => {
  const f = await cluster({ manual: true });
  try {
    f.sandbox.apply([ns('payments')]);
    const proposal = (await f.run(proposeLimitRange, { namespace: 'payments' })).outputs as any;
    const params = { namespace: 'payments', limitRange: proposal.limitRange };
    const before = f.writes();
    const mark = f.mark();
    const plan = await f.plan(createLimitRange, params);
    assert.deepEqual(plan.map((c) => `${c.method} ${c.path}`), ['POST /api/v1/namespaces/payments/limitranges']);
    assert.match(plan[0].description, /create LimitRange payments\/default-memory: containers default to memory request 256Mi, limit 512Mi/);
    // Without an approved object (a dry run's earlier steps have no outputs) it plans from a fresh proposal.
    assert.deepEqual((await f.plan(createLimitRange, { namespace: 'payments' })).map((c) => (c.body as any).spec), [proposal.limitRange.spec]);
    assert.deepEqual(f.mutationsSince(mark), []);
    assert.equal(f.writes(), before);
    assert.deepEqual(await f.check(createLimitRange, params), { state: 'not-done' });

    const r = await f.run(createLimitRange, params);
    assert.equal(r.mutated, true);
    const made = f.sandbox.store.get('limitranges', 'payments', 'default-memory')!;
    assert.deepEqual(made.spec, proposal.limitRange.spec);
    assert.equal(made.metadata.annotations?.[OPERATION_ANNOTATION], 'run-1/step-1');
    assert.deepEqual(f.mutationsSince(mark).map((m) => `${m.method} ${m.user} ${m.code}`), [`POST ${SERVICE_USER} 201`]);
    assert.equal(((await f.check(createLimitRange, params)) as any).state, 'done');
    const again = f.mark();
    assert.equal((await f.run(createLimitRange, params)).mutated, false, 'a retry after a crash finds its own');
    assert.deepEqual(f.mutationsSince(again), []);

    // Another step (another run) finds a LimitRange it did not make: refused, not stacked.
    const other = await f.run(createLimitRange, { namespace: 'payments', limitRange: { ...proposal.limitRange, metadata: { ...proposal.limitRange.metadata, name: 'second' } } }, { operationKey: 'run-2/apply' }).catch((e) => e);
    assert.ok(other instanceof ActionError);
    assert.equal(other.reason, 'LIMITRANGE_EXISTS');
    assert.equal(other.retryable, false);
    assert.match(other.message, /namespace payments has LimitRange default-memory now: not adding second/);
    assert.equal(f.sandbox.store.get('limitranges', 'payments', 'second'), undefined);
    // Only LimitRanges, and only for the step's namespace.
    assert.throws(() => createLimitRange.params.parse({ namespace: 'payments', limitRange: { ...proposal.limitRange, kind: 'ResourceQuota' } }), /creates LimitRanges only/);
    const elsewhere = await f.run(createLimitRange, { namespace: 'shop', limitRange: proposal.limitRange }, { operationKey: 'run-3/apply' }).catch((e) => e);
    assert.equal(elsewhere.reason, 'INVALID');
  } finally {
    await f.close();
  }
});
