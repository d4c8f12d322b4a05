// The Runs view's API over HTTP on real parts: a chat run's step graph (as
// the run recorded it) with the path it took; lists that show only what the
// policy lets the reader see and refuse (audited) a reader who may see none;
// a graph that cannot be drawn says so; abort goes through chat, with the
// policy's `abort` and CSRF on a cookie session.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LINK, until } from '../../chat/fixture.ts';
import { viewsFixture, refusals } from './views-fixture.ts';
import type { RunRecord } from '../../../src/store/index.ts';

test('runs: list, detail with the recorded graph and the path taken, visibility by the policy, refusals audited', { timeout: 120_000 }, async () => {
  const v = await viewsFixture();
  try {
    const id = v.f.idOf(await v.f.say('sam', `scale deployment/web -n shop --replicas 4 --reason "more traffic expected tonight" --link ${LINK}`));
    await v.f.say('sam', `confirm ${id}`);
    let run!: RunRecord;
    await until(async () => Boolean((run = (await v.f.store.listRuns({})).find((r) => r.status === 'succeeded')!)), 'the chat run to succeed', 60_000);

    const list = await v.get('sam', 'runs');
    assert.equal(list.status, 200);
    assert.deepEqual(list.body.items.map((r: { id: string }) => r.id), [run.id]);
    assert.equal(list.body.items[0].status, 'succeeded');
    assert.equal(list.body.items[0].target.namespace, 'shop');
    assert.ok(list.body.items[0].durationMs >= 0);
    assert.deepEqual((await v.get('sam', 'runs?status=failed')).body.items, [], 'filtered by status');
    assert.deepEqual((await v.get('sam', `runs?runbook=${run.runbook}`)).body.items.length, 1, 'and by runbook');

    const detail = await v.get('sam', `runs/${run.id}`);
    assert.equal(detail.status, 200);
    assert.equal(detail.body.graph.source, 'recorded');
    const layout = detail.body.graph.layout;
    assert.deepEqual(layout.nodes.filter((n: { kind: string }) => n.kind === 'step').map((n: { id: string }) => n.id), run.graph!.steps.map((s) => s.id));
    const taken = detail.body.path.edges as string[];
    assert.ok(taken.length >= 1 && taken[taken.length - 1].endsWith('>end'), `the path ends at end: ${taken}`);
    for (const e of taken) assert.ok(layout.edges.some((x: { from: string; to: string }) => `${x.from}>${x.to}` === e), `${e} is an edge of the graph`);
    assert.ok(detail.body.path.steps.every((s: { status: string; durationMs: number }) => ['succeeded', 'skipped'].includes(s.status) && s.durationMs >= 0));
    assert.equal(detail.body.mayAbort, false, 'a finished run cannot be aborted');

    // Carol works on shop: she sees the shop run. Ivy audits but may not read runs; mallory may do nothing.
    assert.equal((await v.get('carol', 'runs')).body.items.length, 1);
    for (const u of ['ivy', 'mallory'] as const) {
      assert.equal((await v.get(u, 'runs')).status, 403, `${u} may not list runs`);
      assert.equal((await v.get(u, `runs/${run.id}`)).status, 403, `${u} may not read the run`);
    }
    await until(async () => (await refusals(v.f, /^mallory: /)) >= 2, 'mallory\'s refusals in the audit log', 10_000);

    // A prod run carol may not read is left out of her list, not refused.
    const prod: RunRecord = { ...run, id: '00000000-0000-4000-8000-000000000001', target: { ...run.target, namespace: 'prod' }, createdAt: run.createdAt + 1, lockKey: undefined };
    await v.f.store.createRun(prod);
    const carol = await v.get('carol', 'runs');
    assert.deepEqual([carol.body.items.map((r: { id: string }) => r.id), carol.body.hidden], [[run.id], 1]);
    assert.equal((await v.get('carol', `runs/${prod.id}`)).status, 403);
    assert.equal((await v.get('sam', 'runs')).body.items.length, 2);

    // Pages: one run a page, the cursor continues after the last.
    const p1 = await v.get('sam', 'runs?limit=1');
    const p2 = await v.get('sam', `runs?limit=1&cursor=${p1.body.next}`);
    assert.deepEqual([p1.body.items[0].id, p2.body.items[0].id], [prod.id, run.id]);
    assert.equal((await v.get('sam', `runs?limit=1&cursor=${p2.body.next}`)).body.items.length, 0);
  } finally {
    await v.close();
  }
});

test('a run whose runbook is gone, or changed, without a recorded graph: not drawn, and said so; one still loaded is drawn with a note', { timeout: 60_000 }, async () => {
  const v = await viewsFixture();
  try {
    const base = { cluster: 'sandbox', target: { cluster: 'sandbox', kind: 'Deployment', namespace: 'shop', name: 'web' }, status: 'failed' as const, params: {}, startedBy: { type: 'rule' as const, name: 'r' }, dryRun: false, createdAt: 1, updatedAt: 2, outputs: {} };
    await v.f.store.createRun({ ...base, id: '00000000-0000-4000-8000-00000000000a', runbook: 'removed-runbook' });
    await v.f.store.addTransition({ runId: '00000000-0000-4000-8000-00000000000a', stepId: 'first', attempt: 1, status: 'failed', time: 2, error: 'boom' });
    const gone = await v.get('sam', 'runs/00000000-0000-4000-8000-00000000000a');
    assert.equal(gone.body.graph.source, 'none');
    assert.match(gone.body.graph.note, /runbook removed-runbook is no longer loaded, so it cannot be drawn/);
    assert.deepEqual(gone.body.path.steps.map((s: { id: string; error: string }) => [s.id, s.error]), [['first', 'boom']], 'the steps it took are still listed');

    await v.f.store.createRun({ ...base, id: '00000000-0000-4000-8000-00000000000b', runbook: 'gated-notify' });
    await v.f.store.addTransition({ runId: '00000000-0000-4000-8000-00000000000b', stepId: 'renamed', attempt: 1, status: 'failed', time: 2 });
    assert.match((await v.get('sam', 'runs/00000000-0000-4000-8000-00000000000b')).body.graph.note, /has no step renamed: it was changed since/);

    await v.f.store.createRun({ ...base, id: '00000000-0000-4000-8000-00000000000c', runbook: 'gated-notify' });
    await v.f.store.addTransition({ runId: '00000000-0000-4000-8000-00000000000c', stepId: 'approve', attempt: 1, status: 'failed', time: 2 });
    const loaded = await v.get('sam', 'runs/00000000-0000-4000-8000-00000000000c');
    assert.equal(loaded.body.graph.source, 'loaded');
    assert.match(loaded.body.graph.note, /as loaded now/);
    assert.deepEqual(loaded.body.path.edges, ['approve>escalate']);
  } finally {
    await v.close();
  }
});

test('abort: through chat\'s run abort, refused without the policy\'s abort (audited), and a cookie session needs its CSRF token', { timeout: 60_000 }, async () => {
  const v = await viewsFixture();
  try {
    const id = '00000000-0000-4000-8000-0000000000ab';
    // A run no process here drives (another replica's): chat records the stop for whichever drives it.
    await v.f.store.createRun({ id, runbook: 'gated-notify', cluster: 'sandbox', target: { cluster: 'sandbox', kind: 'Deployment', namespace: 'shop', name: 'web' }, status: 'running', params: {}, startedBy: { type: 'rule', name: 'r' }, dryRun: false, createdAt: 1, updatedAt: 1, currentStep: 'tell', outputs: {} });
    assert.equal((await v.get('carol', `runs/${id}`)).body.mayAbort, true);

    assert.equal((await v.post('mallory', `runs/${id}/abort`, { reason: 'x' })).status, 403);
    await until(async () => (await refusals(v.f, /^mallory: /)) >= 1, 'the refusal audited', 10_000);
    assert.equal((await v.f.store.getRun(id))!.stop, undefined);

    const s = await v.login('carol');
    const post = (headers: Record<string, string>) => fetch(`${v.base}/console/api/v1/runs/${id}/abort`, { method: 'POST', headers: { 'content-type': 'application/json', cookie: s.cookie, ...headers }, body: JSON.stringify({ reason: 'wrong target "quoted" --force\nsecond line' }) });
    const noToken = await post({});
    assert.equal(noToken.status, 403);
    assert.match(((await noToken.json()) as { error: string }).error, /CSRF token/);
    assert.equal((await v.f.store.getRun(id))!.stop, undefined, 'nothing happened without the token');

    const ok = await post({ 'x-kubemend-csrf': s.csrf });
    assert.equal(ok.status, 200);
    assert.match(((await ok.json()) as { replies: string[] }).replies[0], /stopping at its next step boundary/);
    const stop = (await v.f.store.getRun(id))!.stop!;
    assert.equal(stop.by.name, 'carol');
    assert.equal(stop.reason, 'aborted in chat by carol: wrong target `quoted` --force second line', 'the reason stays one argument');
    const rec = (await v.f.store.audit.list({ action: 'run.abort.requested', runId: id }))[0];
    assert.equal(rec.actor.name, 'carol');
    assert.equal(rec.data?.room, 'ops');
  } finally {
    await v.close();
  }
});
