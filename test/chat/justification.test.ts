// Justifications: a reason plus a link that can be checked — an alert a
// configured Alertmanager says is firing (a real one, from Debian), a
// detection in the store that is open or recent, or a ticket Jira says is
// approved (checked over HTTP against a server that answers like Jira). A
// missing one is asked for; an invalid one blocks, is audited, and can be
// corrected with `justify`.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { JiraTicketChecker } from '../../src/chat/jira.ts';
import { checkJustification, splitJustification } from '../../src/chat/justification.ts';
import { chatSettings } from '../../src/chat/settings.ts';
import type { Detection } from '../../src/rules/types.ts';
import { chatFixture } from './fixture.ts';
import { fakeJira } from './fake-jira.ts';

const jira = await fakeJira({ 'OPS-1': 'Approved', 'OPS-2': 'In Review' }, { token: 'pat' });
after(() => jira.close());
const tickets = new JiraTicketChecker({ url: jira.url, allowedStatuses: ['Approved'], token: 'pat' });

function detection(id: string): Detection {
  return {
    id, rule: 'crashloop-backoff', cluster: 'sandbox', subject: { kind: 'Deployment', namespace: 'shop', name: 'web' } as Detection['subject'],
    fingerprint: 'fp', severity: 'critical', summary: 'web crash-loops', labels: {}, firstSeen: 0, lastSeen: 0, count: 1, status: 'open', evidence: [], notifications: 0,
  } as Detection;
}

test('invalid justifications block, say why, are audited, and can be corrected; nothing runs until one holds', async () => {
  const f = await chatFixture({ tickets });
  try {
    const asked = await f.say('alice', 'restart deployment/web -n shop');
    const id = f.idOf(asked);
    assert.match(asked[0].text, /A justification is required: a reason and a link to the alert, detection or approved ticket behind it\.\nReply: justify/);
    const attempts: [string, RegExp][] = [
      ['--reason "rollout wedged after deploy" --link OPS-404', /ticket OPS-404 does not exist/],
      ['--reason "rollout wedged after deploy" --link OPS-2', /ticket OPS-2 is "In Review"; it must be Approved to justify an action/],
      ['--reason "rollout wedged after deploy" --link https://alerts.evil.example.org/#/alerts', /https:\/\/alerts\.evil\.example\.org is not a configured Alertmanager \(none are configured\)/],
      ['--reason "rollout wedged after deploy" --link https://user:pw@alertmanager.example.com/', /alert links must not carry credentials/],
      ['--reason "rollout wedged after deploy" --link det:0badc0de-0000-4000-8000-000000000000', /no detection det:0badc0de-0000-4000-8000-000000000000 in kubemend's store/],
      ['--reason "rollout wedged after deploy" --link www.example.com', /"www\.example\.com" is neither an alert URL, a detection \(det:ID\) nor a ticket key/],
      ['--reason "pls" --link OPS-1', /say why in at least 8 characters/],
      ['--reason "rollout wedged after deploy"', /a reason needs a link/],
    ];
    for (const [args, re] of attempts) {
      const r = await f.say('alice', `justify ${id} ${args}`);
      assert.match(r[0].text, new RegExp(`^KM-CHAT-002 ${id}: justification refused — `), args);
      assert.match(r[0].text, re, args);
      assert.equal((await f.store.getChatRequest(id))!.status, 'awaiting-justification');
    }
    assert.equal((await f.store.audit.list({ action: 'chat.restart.unjustified' })).length, attempts.length);
    assert.ok(jira.requests.some((q) => q.url.startsWith('/rest/api/2/issue/OPS-404')), 'the tracker was asked');
    assert.match((await f.say('sam', `justify ${id} --reason "someone else explains" --link OPS-1`))[0].text, /^KM-CHAT-011 Only alice \(test:U-ALICE\), who asked, can justify/);

    const ok = await f.say('alice', `justify ${id} OPS-1 rollout wedged after the 10:02 deploy`);
    assert.match(ok[0].text, new RegExp(`^${id} will restart deployment shop/web \\(a rolling restart of every pod\\) on cluster sandbox, then wait for the rollout\\.`));
    assert.match(ok[0].text, /Justification: OPS-1 rollout wedged after the 10:02 deploy — ticket OPS-1 \(Approved\)\./);
    const rec = (await f.store.getChatRequest(id))!;
    assert.equal(rec.link, 'OPS-1');
    const justified = (await f.store.audit.list({ action: 'chat.restart.justified' }))[0];
    assert.equal(justified.link, 'OPS-1');
    assert.equal(justified.data?.linkKind, 'ticket');
    assert.equal(justified.data?.linkDetail, 'ticket OPS-1 (Approved)');
    assert.equal(f.sandbox.api!.requestLog.filter((e) => e.method !== 'GET').length, 0, 'nothing was changed');
  } finally {
    await f.close();
  }
});

test('detections justify by full id or an unambiguous 8-character prefix while open, or resolved within recentWindow', async () => {
  const f = await chatFixture({ tickets, settings: { justification: { recentWindow: '30m' } } });
  try {
    const now = f.sandbox.clock.now();
    await f.store.putDetection(detection('5e1f0a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b'));
    await f.store.putDetection({ ...detection('6a000000-3c4d-4e5f-8a9b-0c1d2e3f4a5b'), status: 'resolved', lastSeen: now - 10 * 60_000 });
    await f.store.putDetection({ ...detection('7b000000-3c4d-4e5f-8a9b-0c1d2e3f4a5b'), status: 'resolved', lastSeen: now - 45 * 60_000 });
    const r = await f.say('alice', 'restart deployment/web -n shop --reason "crash loop detected by kubemend" --link det:5e1f0a2b');
    assert.match(r[0].text, /— detection crashloop-backoff on deployment shop\/web \(open\)\./);
    const recent = await f.say('alice', 'restart deployment/web -n shop --reason "crash loop detected by kubemend" --link det:6a000000');
    assert.match(recent[0].text, /— detection crashloop-backoff on deployment shop\/web \(resolved\)\./);
    const old = await f.say('alice', 'restart deployment/web -n shop --reason "crash loop detected by kubemend" --link det:7b000000');
    assert.match(old[0].text, /KM-CHAT-002 [a-z2-9]{6}: justification refused — detection det:7b000000 resolved 4\d+m[\d\s]*s? ago; only open detections, or ones resolved within 30m, justify an action/);
  } finally {
    await f.close();
  }
});

test('without a tracker a ticket cannot be checked, so it is refused; status needs no justification unless configured', async () => {
  const f = await chatFixture({ settings: { justification: { forStatus: true } } });
  try {
    const r = await f.say('alice', 'restart deployment/web -n shop --reason "rollout wedged after deploy" --link OPS-1');
    assert.match(r[0].text, /no ticket tracker is configured to check OPS-1; link an alert or a detection instead/);
    const s = await f.say('alice', 'status deployment/web -n shop');
    assert.match(s[0].text, /why status deployment shop\/web on cluster sandbox\?/);
    await f.store.putDetection(detection('8c000000-3c4d-4e5f-8a9b-0c1d2e3f4a5b'));
    const shown = await f.say('alice', `justify ${f.idOf(s)} --reason "looking into the checkout alert" --link det:8c000000`);
    assert.match(shown[0].text, /^deployment shop\/web on cluster sandbox: 3\/3 ready/);
  } finally {
    await f.close();
  }
});

test('the link may sit inside the reason; trailing punctuation is not part of it', () => {
  const s = chatSettings();
  assert.deepEqual(splitJustification({ reason: 'see OPS-12, the deploy broke login' }, s), { reason: 'see OPS-12, the deploy broke login', link: 'OPS-12' });
  assert.deepEqual(splitJustification({ reason: 'deploy broke login', link: 'OPS-3' }, s), { reason: 'deploy broke login', link: 'OPS-3' });
  assert.deepEqual(splitJustification({}, s), { reason: '', link: undefined });
});

test('a tracker that is down refuses the ticket rather than letting it through', async () => {
  const down = new JiraTicketChecker({ url: 'http://127.0.0.1:9', allowedStatuses: ['Approved'], timeoutMs: 500 });
  const res = await checkJustification({ reason: 'rollout wedged after deploy', link: 'OPS-1' }, { settings: chatSettings(), store: undefined as never, tickets: down });
  assert.equal(res.ok, false);
  assert.match((res as { problem: string }).problem, /cannot reach Jira at 127\.0\.0\.1:9 to check OPS-1/);
});
