// The Approvals and Audit views' API over HTTP on real parts. Four-eyes is
// chat's: the requester's own approve from the console is refused (and
// audited), another approver's is accepted and lands in the audit log.
// The audit log reads need the policy's `audit`; records about namespaces a
// reader may not see are left out, counted, and refused one by one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkJsonl } from '../../../src/audit/index.ts';
import { LINK, until } from '../../chat/fixture.ts';
import { viewsFixture, refusals } from './views-fixture.ts';

test('approvals: a production request with its plan and justification; the requester cannot approve it from the console, another approver can; CSRF on a cookie session', { timeout: 120_000 }, async () => {
  const v = await viewsFixture();
  try {
    const id = /\b([a-z2-9]{6})\b/.exec((await v.say('sam', `scale deployment/web -n prod --replicas 4 --reason "black friday traffic is ramping up" --link ${LINK}`))[0])![1];
    assert.match((await v.say('sam', `confirm ${id}`)).join('\n'), /needs approval/);
    const list = await v.get('sam', 'approvals');
    assert.equal(list.status, 200);
    const r = list.body.requests.find((x: { id: string }) => x.id === id);
    assert.equal(r.requester, 'sam');
    assert.equal(r.justification, 'black friday traffic is ramping up');
    assert.match(r.plan, /scale deployment prod\/web from 2 to 4/);
    assert.equal(r.mine, true);
    assert.equal((await v.get('mallory', 'approvals')).status, 403);
    assert.equal((await v.get('carol', 'approvals')).status, 403, 'carol may not approve in prod, nor anywhere but shop');

    const own = await v.post('sam', `approvals/${id}`, { decision: 'approve', reason: 'looks fine to me' });
    assert.equal(own.status, 403);
    assert.match(own.body.error, new RegExp(`^KM-CHAT-003 ${id}: you asked for it, so someone else in sre-leads must approve it \\(four-eyes\\)`));
    assert.equal((await v.f.store.getChatRequest(id))!.status, 'awaiting-approval');
    assert.equal((await v.post('dave', `approvals/${id}`, { decision: 'approve', reason: '' })).status, 400, 'a reason is required');
    assert.equal((await v.post('dave', 'approvals/zzzzzz', { decision: 'approve', reason: 'x' })).status, 404);

    const s = await v.login('dave');
    const post = (headers: Record<string, string>) => fetch(`${v.base}/console/api/v1/approvals/${id}`, { method: 'POST', headers: { 'content-type': 'application/json', cookie: s.cookie, ...headers }, body: JSON.stringify({ decision: 'approve', reason: 'traffic graph agrees' }) });
    assert.equal((await post({})).status, 403, 'no CSRF token');
    assert.equal((await v.f.store.getChatRequest(id))!.status, 'awaiting-approval');
    const ok = await post({ 'x-kubemend-csrf': s.csrf });
    assert.equal(ok.status, 200);
    assert.match(((await ok.json()) as { replies: string[] }).replies.join('\n'), new RegExp(`${id}: approved by dave`));
    await until(async () => (await v.f.store.getChatRequest(id))!.status === 'executed', 'the approved request to run', 60_000);

    const audit = (await v.f.store.audit.list({ action: 'chat.scale.*' })).filter((a) => a.data?.request === id).map((a) => `${a.action} ${a.actor.name}`);
    assert.ok(audit.includes('chat.scale.approval-refused sam') && audit.includes('chat.scale.approved dave'), audit.join(', '));
    // …and the Audit view shows it.
    const shown = await v.get('ivy', 'audit?action=chat.scale.approved');
    assert.deepEqual(shown.body.items, [], 'ivy may not read prod\'s records');
    assert.equal(shown.body.hidden, 1);
    const seen = await v.get('sam', 'audit?action=chat.scale.approved');
    assert.equal(seen.body.items[0].actor.name, 'dave');
    assert.equal((await v.get('sam', 'approvals')).body.requests.length, 0, 'nothing waits any more');
  } finally {
    await v.close();
  }
});

test('approvals: a runbook approval step, decided in the console as in chat (not by whoever started the run)', { timeout: 120_000 }, async () => {
  const v = await viewsFixture();
  try {
    void v.f.remediation.executor.trigger({ runbook: 'gated-notify', startedBy: { type: 'user', name: 'sam' } });
    await until(async () => (await v.get('dave', 'approvals')).body.steps?.length === 1, 'the approval step to wait', 30_000);
    const step = (await v.get('dave', 'approvals')).body.steps[0];
    assert.equal(step.plan, 'tell the owners about prod/web');
    assert.equal(step.group, 'sre-leads');
    assert.equal(step.requester, 'sam');
    const own = await v.post('sam', `approvals/${step.id}`, { decision: 'approve', reason: 'mine' });
    assert.equal(own.status, 403);
    assert.match(own.body.error, /you started this run; someone else in sre-leads must decide/);
    const ok = await v.post('dave', `approvals/${step.id}`, { decision: 'approve', reason: 'go' });
    assert.equal(ok.status, 200);
    await until(async () => (await v.f.store.getRun(step.runId))!.status === 'succeeded', 'the run to go on', 30_000);
    const rec = (await v.f.store.audit.list({ action: 'runbook.approval.approved', runId: step.runId }))[0];
    assert.equal(rec.actor.name, 'dave');
    assert.equal(rec.justification, 'go');
  } finally {
    await v.close();
  }
});

test('audit: pages by seq, filters, a record by id, the verification cached and refreshed on demand, the signed head, JSONL export; audit needed, hidden records counted', { timeout: 60_000 }, async () => {
  const v = await viewsFixture();
  try {
    const a = v.f.store.audit;
    await a.append([
      { actor: { type: 'user', name: 'sam' }, action: 'test.shop', target: { cluster: 'sandbox', namespace: 'shop', kind: 'Deployment', name: 'web' } },
      { actor: { type: 'user', name: 'sam' }, action: 'test.prod', target: { cluster: 'sandbox', namespace: 'prod', kind: 'Deployment', name: 'web' }, runId: 'run-1' },
      { actor: { type: 'system', name: 'kubemend' }, action: 'test.none' },
    ]);
    const all = await v.get('sam', 'audit?limit=2');
    assert.equal(all.status, 200);
    assert.deepEqual(all.body.items.map((r: { action: string }) => r.action), ['test.none', 'test.prod'], 'newest first');
    const next = await v.get('sam', `audit?limit=2&before=${all.body.next}`);
    assert.equal(next.body.items[0].action, 'test.shop');
    assert.deepEqual((await v.get('sam', 'audit?runId=run-1')).body.items.map((r: { action: string }) => r.action), ['test.prod']);
    assert.deepEqual((await v.get('sam', 'audit?action=test.*&actor=user:sam')).body.items.map((r: { action: string }) => r.action), ['test.prod', 'test.shop']);

    const ivy = await v.get('ivy', 'audit?action=test.*');
    assert.deepEqual([ivy.body.items.map((r: { action: string }) => r.action), ivy.body.hidden], [['test.none', 'test.shop'], 1]);
    const prodId = all.body.items[1].id;
    assert.equal((await v.get('sam', `audit/${prodId}`)).body.record.hash.length, 64);
    assert.equal((await v.get('ivy', `audit/${prodId}`)).status, 403);
    assert.equal((await v.get('sam', 'audit/00000000-0000-0000-0000-000000000000')).status, 404);
    for (const path of ['audit', 'audit/status', 'audit/export', `audit/${prodId}`]) assert.equal((await v.get('carol', path)).status, 403, `carol: ${path}`);
    await until(async () => (await refusals(v.f, /^carol: /)) >= 4 && (await refusals(v.f, /^ivy: .*prod/)) >= 1, 'refusals audited', 10_000);

    const s1 = await v.get('sam', 'audit/status');
    assert.equal(s1.body.verification.result.ok, true);
    assert.equal(s1.body.head.seq > 0 && s1.body.head.signature.length > 0, true);
    const s2 = await v.get('sam', 'audit/status');
    assert.equal(s2.body.verification.checkedAt, s1.body.verification.checkedAt, 'cached, not verified per view');
    await new Promise((r) => setTimeout(r, 5));
    const s3 = await v.get('sam', 'audit/status?verify=1');
    assert.ok(s3.body.verification.checkedAt > s1.body.verification.checkedAt, 'verified again on demand');

    const exp = await v.get('sam', 'audit/export');
    assert.equal(exp.status, 200);
    assert.match(exp.headers.get('content-disposition')!, /attachment; filename="kubemend-audit-.*\.jsonl"/);
    const lines = exp.text.trim().split('\n');
    assert.equal(checkJsonl(lines).ok, true, 'the whole export checks against its chain');
    assert.ok(lines.length >= 3);
    const ivyExport = (await v.get('ivy', 'audit/export?action=test.*')).text.trim().split('\n').map((l) => JSON.parse(l).action);
    assert.deepEqual(ivyExport, ['test.shop', 'test.none']);
  } finally {
    await v.close();
  }
});
