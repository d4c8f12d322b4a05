// job.run, http.request, notify and approval, and the registry.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ActionError, type ApprovalDecision } from '../../src/runbooks/types.ts';
import { ACTIONS, approval, httpRequest, jobRun, notify, OPERATION_ANNOTATION } from '../../src/runbooks/actions/index.ts';
import { cluster, SERVICE_USER } from './actions-fixture.ts';

const task = (image: string) => ({ spec: { backoffLimit: 0, template: { spec: { restartPolicy: 'Never', containers: [{ name: 'task', image }] } } } });

test('job.run creates one Job named from the operation key, waits for it, and adopts it on a retry', async () => {
  const f = await cluster({ images: { 'tools/fail:1': { exitAfterSeconds: 1, exitCode: 3, exitLogs: ['cannot reach db'] } } });
  try {
    const p = { namespace: 'default', template: task('busybox'), timeout: '2m' };
    assert.deepEqual(await f.check(jobRun, p), { state: 'not-done' });
    const mark = f.mark();
    const r = await f.run(jobRun, p);
    assert.equal(r.mutated, true);
    assert.equal(r.outputs.succeeded, 1);
    const jobs = f.sandbox.store.list('batch/jobs', 'default').items;
    assert.equal(jobs.length, 1);
    assert.equal(jobs[0].metadata.name, r.outputs.job);
    assert.equal(jobs[0].metadata.annotations?.[OPERATION_ANNOTATION], 'run-1/step-1');
    const muts = f.mutationsSince(mark);
    assert.ok(muts.length > 0 && muts.every((m) => m.user === SERVICE_USER), JSON.stringify(muts));
    assert.equal((await f.check(jobRun, p) as any).state, 'done');
    const again = await f.run(jobRun, p);
    assert.equal(again.mutated, false);
    assert.equal(f.sandbox.store.list('batch/jobs', 'default').items.length, 1);

    const failed = await f.run(jobRun, { namespace: 'default', template: task('tools/fail:1'), timeout: '2m' }, { operationKey: 'run-1/fail' }).catch((e) => e);
    assert.ok(failed instanceof ActionError);
    assert.equal(failed.reason, 'JOB_FAILED');
    assert.equal(failed.retryable, false);
    assert.match(failed.message, /cannot reach db/);
  } finally {
    await f.close();
  }
});

test('job.run takes its template from a ConfigMap or an existing Job; plan and dry-run create nothing', async () => {
  const f = await cluster();
  try {
    f.sandbox.store.create('configmaps', {
      metadata: { name: 'jobs', namespace: 'default' },
      data: { 'flush.yaml': 'apiVersion: batch/v1\nkind: Job\nmetadata:\n  labels: {task: flush}\nspec:\n  template:\n    spec:\n      restartPolicy: Never\n      containers: [{name: flush, image: busybox}]\n' },
    });
    const p = { namespace: 'default', name: 'flush', template: { configMap: { name: 'jobs', key: 'flush.yaml' } }, timeout: '2m' };
    const mark = f.mark();
    const plan = await f.plan(jobRun, p);
    assert.deepEqual(plan.map((c) => c.method), ['POST', 'WAIT']);
    const dry = await f.run(jobRun, p, { dryRun: true });
    assert.equal(dry.mutated, false);
    assert.deepEqual(f.mutationsSince(mark), []);
    assert.equal(f.sandbox.store.list('batch/jobs', 'default').items.length, 0);
    const r = await f.run(jobRun, p);
    assert.match(String(r.outputs.job), /^flush-[0-9a-f]{10}$/);
    const made = f.sandbox.store.get('batch/jobs', 'default', String(r.outputs.job))!;
    assert.equal(made.metadata.labels?.task, 'flush');
    const copy = await f.run(jobRun, { namespace: 'default', name: 'again', template: { job: { name: String(r.outputs.job) } }, timeout: '2m' }, { operationKey: 'run-1/copy' });
    assert.equal(copy.outputs.succeeded, 1);
  } finally {
    await f.close();
  }
});

async function server() {
  const seen: { url?: string; headers: IncomingHttpHeaders; body: string }[] = [];
  const srv = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      seen.push({ url: req.url, headers: req.headers, body });
      if (req.url === '/ok') res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ deployed: '1.4.2' }));
      else if (req.url === '/busy') res.writeHead(503).end('try later');
      else if (req.url === '/bad') res.writeHead(400).end('no such service');
      else if (req.url === '/slow') setTimeout(() => res.writeHead(200).end('late'), 2000);
      else res.writeHead(404).end();
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(srv.address() as AddressInfo).port}`;
  return { base, seen, close: () => new Promise<void>((r) => srv.close(() => r())) };
}

test('http.request: JSON answers become outputs, 5xx and time-outs are retryable, 4xx is final, secrets stay out of logs and plans', async () => {
  const f = await cluster();
  const s = await server();
  try {
    const headers = { Authorization: 'Bearer s3cr3t-token', 'X-Team': 'payments' };
    const ok = await f.run(httpRequest, { method: 'POST', url: `${s.base}/ok`, headers, body: { service: 'checkout' } });
    assert.equal(ok.outputs.status, 200);
    assert.deepEqual(ok.outputs.body, { deployed: '1.4.2' });
    assert.equal(s.seen[0].headers.authorization, 'Bearer s3cr3t-token');
    assert.equal(s.seen[0].headers['content-type'], 'application/json');
    assert.deepEqual(JSON.parse(s.seen[0].body), { service: 'checkout' });
    const everything = JSON.stringify([f.logs, ok.calls, ok.outputs, await f.plan(httpRequest, { url: `${s.base}/ok`, headers })]);
    assert.ok(!everything.includes('s3cr3t'), everything);

    const busy = await f.run(httpRequest, { url: `${s.base}/busy` }).catch((e) => e);
    assert.deepEqual([busy.reason, busy.retryable], ['HTTP_UNAVAILABLE', true]);
    const bad = await f.run(httpRequest, { url: `${s.base}/bad` }).catch((e) => e);
    assert.deepEqual([bad.reason, bad.retryable], ['HTTP_STATUS', false]);
    const expected = await f.run(httpRequest, { url: `${s.base}/bad`, expectStatus: [400, 404] });
    assert.equal(expected.outputs.status, 400);
    const slow = await f.run(httpRequest, { url: `${s.base}/slow`, timeout: '5s' }).catch((e) => e);
    assert.deepEqual([slow.reason, slow.retryable], ['HTTP_TIMEOUT', true]);
    const refused = await f.run(httpRequest, { url: 'http://127.0.0.1:1/' }).catch((e) => e);
    assert.deepEqual([refused.reason, refused.retryable], ['NETWORK', true]);
    const before = s.seen.length;
    const dry = await f.run(httpRequest, { method: 'POST', url: `${s.base}/ok` }, { dryRun: true });
    assert.equal(dry.calls[0].method, 'HTTP');
    assert.equal(s.seen.length, before, 'dry-run sends nothing');
  } finally {
    await s.close();
    await f.close();
  }
});

test('notify sends through the notifier with run and detection ids; approval maps decisions to outcomes', async () => {
  let decision: ApprovalDecision = { decision: 'approved', by: 'alice', comment: 'go' };
  const asked: unknown[] = [];
  const f = await cluster({ decide: async () => decision });
  try {
    const n = await f.run(notify, { channel: '#payments', title: 'rolled back checkout', text: 'to 1.4.2' });
    assert.equal(n.mutated, false);
    assert.deepEqual(f.notifications, [{ channel: '#payments', title: 'rolled back checkout', text: 'to 1.4.2', severity: undefined, runId: 'run-1', detectionId: undefined }]);
    await f.run(notify, { channel: '#payments', title: 'x' }, { dryRun: true });
    assert.equal(f.notifications.length, 1, 'dry-run notifies no one');

    const approvals = { request: async (req: any) => (asked.push(req), decision) };
    const ok = await f.run(approval, { group: 'sre', summary: 'drain node-3', timeout: '15m' }, { approvals });
    assert.deepEqual(ok.outputs, { approvedBy: 'alice', comment: 'go' });
    assert.equal((asked[0] as any).timeoutMs, 900_000);
    assert.equal((asked[0] as any).group, 'sre');
    decision = { decision: 'denied', by: 'bob' };
    const denied = await f.run(approval, { group: 'sre', summary: 'drain node-3' }, { approvals }).catch((e) => e);
    assert.deepEqual([denied.reason, denied.retryable], ['APPROVAL_DENIED', false]);
    decision = { decision: 'timeout' };
    const late = await f.run(approval, { group: 'sre', summary: 'drain node-3' }, { approvals }).catch((e) => e);
    assert.deepEqual([late.reason, late.retryable], ['APPROVAL_TIMEOUT', false]);
  } finally {
    await f.close();
  }
});

test('the registry names every action in the issue, and mutating actions can be re-checked', () => {
  const names = [
    'k8s.rolloutRestart', 'k8s.rollback', 'k8s.promote', 'k8s.scale', 'k8s.deletePod', 'k8s.cordon', 'k8s.uncordon', 'k8s.drain',
    'k8s.patchResources', 'k8s.annotate', 'k8s.waitRollout', 'k8s.smokeCheck', 'k8s.collect', 'k8s.findMemoryCulprit', 'job.run', 'http.request', 'notify', 'approval',
    // Issue 12: the warning's proposal and the LimitRange guardrail.
    'k8s.proposeMemoryLimits', 'k8s.proposeLimitRange', 'k8s.createLimitRange',
  ];
  assert.deepEqual([...ACTIONS.keys()].sort(), [...names].sort());
  for (const a of ACTIONS.values()) {
    assert.equal(a.name.length > 0 && a.description.length > 0, true);
    if (a.mutates) assert.equal(typeof a.check, 'function', `${a.name} has check()`);
  }
});
