// The Store contract — migrations, detections, silences, runs and step
// transitions, chat requests, incidents — run against SQLite and PostgreSQL.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { KubemendError } from '../../src/common/errors.ts';
import { openStore, MIGRATIONS } from '../../src/store/index.ts';
import type { ChatRequestRecord, IncidentRecord, RunRecord } from '../../src/store/index.ts';
import type { Detection, Silence } from '../../src/store/index.ts';
import { forEachDialect } from '../audit/helpers.ts';

const T0 = Date.UTC(2026, 0, 1);

function detection(over: Partial<Detection> = {}): Detection {
  return {
    id: 'd1',
    rule: 'crashloop',
    cluster: 'prod',
    subject: { cluster: 'prod', kind: 'Pod', namespace: 'shop', name: 'checkout-1' },
    fingerprint: 'fp1',
    severity: 'critical',
    summary: 'checkout-1 is crash-looping',
    labels: { namespace: 'shop' },
    firstSeen: T0,
    lastSeen: T0,
    count: 1,
    status: 'open',
    evidence: [{ time: T0, type: 'event', summary: 'Back-off restarting failed container', event: { reason: 'BackOff', message: 'Back-off', type: 'Warning', count: 3, involvedObject: 'Pod/shop/checkout-1' } }],
    notifications: 0,
    ...over,
  };
}

function run(over: Partial<RunRecord> = {}): RunRecord {
  return {
    id: 'r1',
    runbook: 'restart-deployment',
    detectionId: 'd1',
    cluster: 'prod',
    target: { namespace: 'shop', kind: 'Deployment', name: 'checkout' },
    status: 'pending',
    params: { reason: 'crashloop' },
    startedBy: { type: 'rule', name: 'crashloop' },
    dryRun: false,
    createdAt: T0,
    updatedAt: T0,
    currentStep: null,
    outputs: {},
    ...over,
  };
}

function chat(over: Partial<ChatRequestRecord> = {}): ChatRequestRecord {
  return {
    id: 'c1',
    user: 'alice',
    room: '#ops',
    adapter: 'slack',
    command: 'restart deployment/checkout -n shop',
    action: 'restart',
    cluster: 'prod',
    target: { namespace: 'shop', kind: 'Deployment', name: 'checkout' },
    status: 'awaiting-approval',
    approvals: [],
    createdAt: T0,
    updatedAt: T0,
    ...over,
  };
}

function incident(over: Partial<IncidentRecord> = {}): IncidentRecord {
  return { id: 'i1', title: 'checkout down', cluster: 'prod', status: 'open', severity: 'critical', openedAt: T0, detectionIds: ['d1'], data: {}, ...over };
}

forEachDialect((env) => {
  it('runs every migration once, records it, and is idempotent', async () => {
    const { store, place } = await env.store();
    assert.equal(store.kind, env.name);
    const rows = await store.sql.query<{ version: number; name: string }>('SELECT version, name FROM schema_migrations ORDER BY version');
    assert.deepEqual(rows.map((r) => Number(r.version)), MIGRATIONS.map((m) => m.version));
    assert.equal(await store.migrate(), 0);
    const again = await place.open();
    assert.equal(await again.migrate(), 0);
  });

  it('refuses a database migrated by a newer kubemend (KM-STORE-002)', async () => {
    const { store, place } = await env.store();
    await store.sql.exec('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)', [999, 'from the future', T0]);
    await assert.rejects(place.open(), (e: unknown) => e instanceof KubemendError && e.code === 'KM-STORE-002' && /999/.test(e.message));
  });

  it('stores detections whole, upserts by id, and filters lists', async () => {
    const { store } = await env.store();
    const d1 = detection();
    await store.putDetection(d1);
    assert.deepEqual(await store.getDetection('d1'), d1);
    assert.equal(await store.getDetection('nope'), undefined);
    await store.putDetection({ ...d1, count: 4, lastSeen: T0 + 60_000, status: 'resolved' });
    assert.equal((await store.getDetection('d1'))?.count, 4);
    await store.putDetection(detection({ id: 'd2', rule: 'oom', cluster: 'staging', lastSeen: T0 + 120_000 }));
    await store.putDetection(detection({ id: 'd3', rule: 'oom', status: 'silenced', silencedBy: 's1', lastSeen: T0 + 30_000 }));
    assert.deepEqual((await store.listDetections()).map((d) => d.id), ['d2', 'd1', 'd3'], 'newest lastSeen first');
    assert.deepEqual((await store.listDetections({ rule: 'oom' })).map((d) => d.id), ['d2', 'd3']);
    assert.deepEqual((await store.listDetections({ status: 'resolved' })).map((d) => d.id), ['d1']);
    assert.deepEqual((await store.listDetections({ cluster: 'staging' })).map((d) => d.id), ['d2']);
    assert.deepEqual((await store.listDetections({ since: T0 + 60_000 })).map((d) => d.id), ['d2', 'd1']);
    assert.deepEqual((await store.listDetections({ limit: 1 })).map((d) => d.id), ['d2']);
  });

  it('lists silences active at a time', async () => {
    const { store } = await env.store();
    const s = (id: string, startsAt: number, endsAt: number): Silence => ({ id, matchers: [{ name: 'namespace', op: '=', value: 'shop' }], startsAt, endsAt, createdBy: 'alice', comment: 'deploy' });
    await store.putSilence(s('past', T0 - 10, T0));
    await store.putSilence(s('now', T0 - 10, T0 + 10));
    await store.putSilence(s('later', T0 + 5, T0 + 10));
    assert.deepEqual((await store.listSilences()).map((x) => x.id), ['now', 'past', 'later'], 'by start, then id');
    assert.deepEqual((await store.listSilences({ activeAt: T0 })).map((x) => x.id), ['now'], 'endsAt is exclusive');
    await store.putSilence({ ...s('now', T0 - 10, T0 - 1), comment: 'expired early' });
    assert.deepEqual(await store.listSilences({ activeAt: T0 }), []);
  });

  it('creates and patches runs, keeps step transitions in order', async () => {
    const { store, place } = await env.store();
    await store.createRun(run());
    await assert.rejects(store.createRun(run()), 'a run id is created once');
    await place.clock.advance(5000);
    await store.updateRun('r1', { status: 'running', currentStep: 'scale-down' });
    const r = await store.getRun('r1');
    assert.equal(r?.status, 'running');
    assert.equal(r?.currentStep, 'scale-down');
    assert.equal(r?.updatedAt, T0 + 5000, 'updatedAt comes from the injected clock');
    assert.deepEqual(r?.params, { reason: 'crashloop' }, 'untouched fields survive a patch');
    await store.updateRun('r1', { status: 'succeeded', currentStep: null, outputs: { replicas: 3 }, updatedAt: T0 + 9000 });
    assert.deepEqual(await store.getRun('r1'), { ...run(), status: 'succeeded', currentStep: null, outputs: { replicas: 3 }, updatedAt: T0 + 9000 });
    await assert.rejects(store.updateRun('ghost', { status: 'failed' }), (e: unknown) => e instanceof KubemendError && e.code === 'KM-STORE-003');

    await store.createRun(run({ id: 'r2', runbook: 'rollback', status: 'waiting-approval', createdAt: T0 + 1 }));
    await store.createRun(run({ id: 'r3', status: 'failed', createdAt: T0 + 2 }));
    assert.deepEqual((await store.listRuns()).map((x) => x.id), ['r3', 'r2', 'r1']);
    assert.deepEqual((await store.listRuns({ status: ['failed', 'waiting-approval'] })).map((x) => x.id), ['r3', 'r2']);
    assert.deepEqual(await store.listRuns({ status: [] }), []);
    assert.deepEqual((await store.listRuns({ runbook: 'restart-deployment', limit: 1 })).map((x) => x.id), ['r3']);
    assert.deepEqual((await store.listRuns({ since: T0 + 1 })).map((x) => x.id), ['r3', 'r2']);

    const steps = [
      { runId: 'r1', stepId: 'scale-down', attempt: 1, status: 'started' as const, time: T0 + 1, operationKey: 'op-1' },
      { runId: 'r1', stepId: 'scale-down', attempt: 1, status: 'failed' as const, time: T0 + 2, error: 'conflict' },
      { runId: 'r1', stepId: 'scale-down', attempt: 2, status: 'succeeded' as const, time: T0 + 3, output: { replicas: 0 } },
      { runId: 'r2', stepId: 'approve', attempt: 1, status: 'pending' as const, time: T0 + 1 },
    ];
    for (const t of steps) await store.addTransition(t);
    assert.deepEqual(await store.transitions('r1'), steps.slice(0, 3));
    assert.deepEqual(await store.transitions('none'), []);
  });

  it('serialises concurrent patches of one run (no lost update)', async () => {
    const { store } = await env.store();
    await store.createRun(run());
    // Each patch rewrites the whole doc; the row lock makes every patch see the previous one.
    await Promise.all(Array.from({ length: 10 }, (_, i) => store.updateRun('r1', { status: 'running', currentStep: `s${i}` })));
    const r = await store.getRun('r1');
    assert.equal(r?.status, 'running');
    assert.match(String(r?.currentStep), /^s\d$/);
    assert.deepEqual(r?.params, { reason: 'crashloop' });
  });

  it('stores chat requests with their approvals', async () => {
    const { store } = await env.store();
    await store.putChatRequest(chat());
    await store.putChatRequest(chat({ id: 'c2', user: 'bob', status: 'executed', createdAt: T0 + 1, runId: 'r9' }));
    const approved = chat({ status: 'approved', approvals: [{ user: 'carol', decision: 'approve', time: T0 + 5, comment: 'ok' }], updatedAt: T0 + 5 });
    await store.putChatRequest(approved);
    assert.deepEqual(await store.getChatRequest('c1'), approved);
    assert.equal(await store.getChatRequest('c3'), undefined);
    assert.deepEqual((await store.listChatRequests()).map((c) => c.id), ['c2', 'c1']);
    assert.deepEqual((await store.listChatRequests({ user: 'alice' })).map((c) => c.id), ['c1']);
    assert.deepEqual((await store.listChatRequests({ status: ['executed'] })).map((c) => c.id), ['c2']);
    assert.deepEqual((await store.listChatRequests({ limit: 1 })).map((c) => c.id), ['c2']);
  });

  it('stores incidents', async () => {
    const { store } = await env.store();
    await store.putIncident(incident());
    await store.putIncident(incident({ id: 'i2', openedAt: T0 + 10, status: 'resolved', resolvedAt: T0 + 20, data: { postmortem: 'https://wiki/pm/2' } }));
    assert.deepEqual(await store.getIncident('i1'), incident());
    await store.putIncident(incident({ detectionIds: ['d1', 'd2'] }));
    assert.deepEqual((await store.getIncident('i1'))?.detectionIds, ['d1', 'd2']);
    assert.deepEqual((await store.listIncidents()).map((i) => i.id), ['i2', 'i1']);
    assert.deepEqual((await store.listIncidents({ status: 'open' })).map((i) => i.id), ['i1']);
    assert.deepEqual((await store.listIncidents({ since: T0 + 5 })).map((i) => i.id), ['i2']);
  });

  it('keeps data across close and reopen', async () => {
    const { store, place } = await env.store();
    await store.putDetection(detection());
    await store.audit.append({ actor: { type: 'system', name: 'test' }, action: 'detection.opened', detectionId: 'd1' });
    await store.close();
    const reopened = await openStore({ dataDir: place.dataDir, db: place.db, clock: place.clock });
    try {
      assert.deepEqual(await reopened.getDetection('d1'), detection());
      assert.equal((await reopened.audit.list({ detectionId: 'd1' })).length, 1);
      assert.equal((await reopened.audit.verify()).ok, true);
    } finally {
      await reopened.close();
    }
  });
});
