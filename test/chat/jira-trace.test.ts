// The trace written back to the ticket: a chat restart on the sandbox,
// justified by Jira ticket OPS-1, leaves exactly one comment on OPS-1 (REST
// v2 wiki markup with a personal access token; v3 ADF with Cloud's basic
// auth) naming the user, the action, the target, the reason, the outcome,
// the run and the audit record of the end; a successful one may move the
// ticket on. A Jira that is down never holds up or fails the action: the
// comment is retried with back-off and then audited as failed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { consoleLinks } from '../../src/common/index.ts';
import { chatFixture, type ChatFixture } from './fixture.ts';
import { fakeJira, adfProblem, type FakeJira } from './fake-jira.ts';
import { adf, wiki, JiraWriter, JiraRequestError } from '../../src/chat/jira-write.ts';
import { redactor } from '../../src/common/redact.ts';

const PAT = 'jira-pat-Vb7Qm3Xz9Lk2';
const REASON = 'rollout wedged after the 10:02 deploy';

async function restart(f: ChatFixture, link = 'OPS-1'): Promise<string> {
  const asked = await f.say('alice', `restart deployment/web -n shop --reason "${REASON}" --link ${link}`);
  const id = f.idOf(asked);
  assert.match(asked[0].text, new RegExp(`^${id} will restart deployment shop/web`), asked[0].text);
  await f.say('alice', `confirm ${id}`);
  return id;
}

async function setup(jira: FakeJira, jiraSettings: Record<string, unknown>, env: NodeJS.ProcessEnv) {
  return chatFixture({ settings: { justification: { jira: { url: jira.url, allowedStatuses: ['Approved'], ...jiraSettings } as never } }, env, links: consoleLinks('https://kubemend.example.com') });
}

test('jira v2: one comment on the ticket with who, what, target, why, outcome, run and audit record; then the transition', { timeout: 120_000 }, async () => {
  const jira = await fakeJira({ 'OPS-1': 'Approved' }, { token: PAT });
  const f = await setup(jira, { tokenEnv: 'JIRA_PAT', transitionOnSuccess: 'Done' }, { JIRA_PAT: PAT });
  try {
    // The end reported twice (a double delivery, a retried report) must still make one comment.
    const book = f.engine.book;
    const once = book.onEnd!;
    book.onEnd = (e) => { once(e); once(e); };
    const id = await restart(f);
    await f.waitAsync(new RegExp(`^${id} done:`), 'the restart to finish');
    await f.engine.idle();
    const run = (await f.store.getChatRequest(id))!.runId!;
    const [end] = await f.store.audit.list({ action: 'chat.restart.executed' });
    assert.equal(jira.comments.length, 1, 'exactly one comment');
    const [c] = jira.comments;
    assert.equal(c.key, 'OPS-1');
    assert.equal(c.apiVersion, 2);
    assert.equal(c.authorization, `Bearer ${PAT}`, 'a Data Center personal access token as Bearer');
    const body = c.body as string;
    assert.equal(typeof body, 'string', 'v2: wiki markup');
    assert.match(body, /^\*kubemend: \*restart Deployment shop\/web on cluster sandbox succeeded$/m);
    assert.match(body, /^\*Who: \*alice \(test:U-ALICE\), in chat room ops \(test\)$/m);
    assert.match(body, /^\*What: \*restart: restart deployment shop\/web \(a rolling restart of every pod\) on cluster sandbox/m);
    assert.match(body, /^\*Target: \*cluster sandbox, namespace shop, Deployment web$/m);
    assert.match(body, new RegExp(`^\\*Why: \\*${REASON}$`, 'm'));
    assert.match(body, /^\*Outcome: \*succeeded$/m);
    assert.ok(body.includes(`{{${id}}}`) && body.includes(`{{${run}}}`) && body.includes(`{{${end.id} (#${end.seq})}}`), body);
    assert.match(body, new RegExp(`^\\*In the kubemend console: \\*https://kubemend\\.example\\.com/console/#/audit/${end.id} · run https://kubemend\\.example\\.com/console/#/runs/${run}$`, 'm'), 'links to the audit record and the run');

    const [posted] = await f.store.audit.list({ action: 'jira.comment.posted' });
    assert.deepEqual(posted.data, { ticket: 'OPS-1', request: id, auditRecord: end.id, apiVersion: 2, commentId: c.id });
    assert.equal(posted.runId, run);
    assert.deepEqual(posted.actor, { type: 'system', name: 'jira' });
    assert.deepEqual(jira.transitions, [{ key: 'OPS-1', id: '31', to: 'Done' }], 'moved on through the transition leading to Done');
    assert.equal((await f.store.audit.list({ action: 'jira.transition.done' })).length, 1);

    // A request cancelled before it ran: its own comment says so, with no run.
    jira.issues['OPS-1'] = 'Approved';
    const asked = await f.say('alice', `restart deployment/web -n shop --reason "${REASON}" --link OPS-1`);
    const id2 = f.idOf(asked);
    await f.say('alice', `cancel ${id2}`);
    await f.engine.idle();
    assert.equal(jira.comments.length, 2);
    assert.match(jira.comments[1].body as string, /^\*Outcome: \*cancelled — cancelled by alice$/m);
    assert.match(jira.comments[1].body as string, /run \*none \(nothing ran\)/);
    assert.equal(jira.transitions.length, 1, 'only a success moves the ticket');
  } finally {
    await f.close();
    await jira.close();
  }
});

test('jira v3 (Cloud): the comment is a valid ADF document, sent with e-mail and API token as Basic; secrets are masked', { timeout: 120_000 }, async () => {
  const jira = await fakeJira({ 'OPS-1': 'Approved' }, { basic: ['bot@example.com', 'cloud-api-token-Hq4Rt8'] });
  const f = await setup(jira, { tokenEnv: 'JIRA_TOKEN', userEnv: 'JIRA_USER' }, { JIRA_TOKEN: 'cloud-api-token-Hq4Rt8', JIRA_USER: 'bot@example.com' });
  try {
    redactor.addSecret('s3cr3t-Wd8Kp2Lm9');
    const asked = await f.say('alice', 'restart deployment/web -n shop --reason "wedged, see https://grafana.example.com/d/1 key s3cr3t-Wd8Kp2Lm9" --link OPS-1');
    const id = f.idOf(asked);
    await f.say('alice', `confirm ${id}`);
    await f.waitAsync(new RegExp(`^${id} done:`));
    await f.engine.idle();
    assert.equal(jira.comments.length, 1);
    const [c] = jira.comments;
    assert.equal(c.apiVersion, 3, 'Basic auth (Cloud) defaults to REST v3');
    assert.equal(adfProblem(c.body), undefined);
    const text = JSON.stringify(c.body);
    assert.ok(!text.includes('s3cr3t-Wd8Kp2Lm9'), 'the secret is masked');
    const nodes = (c.body as { content: { content: { text: string; marks?: { type: string; attrs?: { href: string } }[] }[] }[] }).content.flatMap((p) => p.content);
    const run = (await f.store.getChatRequest(id))!.runId!;
    assert.deepEqual(nodes.find((n) => n.text === run)?.marks, [{ type: 'code' }], 'ids are code');
    assert.deepEqual(nodes.find((n) => n.text === 'https://grafana.example.com/d/1')?.marks, [{ type: 'link', attrs: { href: 'https://grafana.example.com/d/1' } }]);
    assert.ok(nodes.some((n) => n.text === 'Outcome: ' && n.marks?.[0].type === 'strong'));
  } finally {
    await f.close();
    await jira.close();
  }
});

test('jira down: the action succeeds at once; the comment is retried with back-off, then audited as failed', { timeout: 120_000 }, async () => {
  const jira = await fakeJira({ 'OPS-1': 'Approved' }, { token: PAT });
  const f = await setup(jira, { tokenEnv: 'JIRA_PAT', retries: 3, minBackoff: '300ms', maxBackoff: '2s' }, { JIRA_PAT: PAT });
  try {
    const id = await restart(f);
    for (let i = 0; i < 4; i++) jira.faults.push({ status: 503 });
    await f.waitAsync(new RegExp(`^${id} done:`));
    // The end is recorded and announced before Jira has answered even twice: nothing waits for the comment.
    assert.equal((await f.store.getChatRequest(id))!.status, 'executed');
    assert.equal((await f.store.audit.list({ action: 'jira.comment.failed' })).length, 0, 'the action did not wait for the comment');
    await f.engine.idle();
    const posts = jira.requests.filter((r) => r.method === 'POST');
    assert.equal(posts.length, 4, 'the first try and three retries');
    assert.equal(jira.comments.length, 0);
    const [failed] = await f.store.audit.list({ action: 'jira.comment.failed' });
    assert.equal(failed.data?.code, 'KM-JIRA-002');
    assert.equal(failed.data?.status, 503);
    assert.match(String(failed.data?.reason), /comment on OPS-1: HTTP 503 \(Internal server error\)/);
    assert.match(String(failed.data?.comment), /Outcome: succeeded/, 'the comment that could not be posted is kept in the audit log');
    assert.equal(failed.outcome, 'failure');

    // 429 waits for Retry-After, then posts; a 4xx is not retried.
    const second = await restart(f);
    jira.faults.push({ status: 429, retryAfter: '1' });
    await f.waitAsync(new RegExp(`^${second} done:`));
    await f.engine.idle();
    const [limited, retried] = jira.requests.filter((r) => r.method === 'POST').slice(-2);
    assert.equal(jira.comments.length, 1);
    assert.ok(retried.at - limited.at >= 950, `waited ${retried.at - limited.at} ms; Retry-After said 1 s`);
    assert.equal((await f.store.audit.list({ action: 'jira.comment.posted' })).length, 1);

    const third = await restart(f);
    jira.faults.push({ status: 403 });
    await f.waitAsync(new RegExp(`^${third} done:`));
    await f.engine.idle();
    const refused = (await f.store.audit.list({ action: 'jira.comment.failed' })).find((r) => r.data?.request === third)!;
    assert.equal(refused.data?.code, 'KM-JIRA-001', 'a 4xx is final');
    assert.equal(jira.requests.filter((r) => r.method === 'POST').length, 4 + 2 + 1, 'not retried');
  } finally {
    await f.close();
    await jira.close();
  }
});

test('jira: wiki markup cannot be injected; ADF never has an empty text node', () => {
  assert.equal(wiki([[{ text: 'a {code} [x|http://evil] b' }]]), 'a \\{code\\} \\[x\\|http://evil\\] b');
  assert.equal(wiki([[{ text: 'see https://grafana.example.com/d/1?a=b_c' }]]), 'see https://grafana.example.com/d/1?a=b_c');
  const doc = adf([[{ text: 'Why: ', strong: true }, { text: '' }, { text: 'x' }]]);
  assert.equal(adfProblem(doc), undefined);
  assert.deepEqual(doc.content[0].content, [{ type: 'text', text: 'Why: ', marks: [{ type: 'strong' }] }, { type: 'text', text: 'x' }]);
});

test('JiraWriter against the fake: an unknown issue (404) and a body Jira refuses (400) are final, with Jira\'s words', { timeout: 30_000 }, async () => {
  const jira = await fakeJira({ 'OPS-1': 'Approved' }, { token: PAT });
  try {
    const writer = new JiraWriter({ url: jira.url, token: PAT, retries: 3, minTimeoutMs: 10 });
    await assert.rejects(writer.comment('OPS-404', [[{ text: 'x' }]]), (e: JiraRequestError) => e.code === 'KM-JIRA-001' && e.status === 404 && /Issue does not exist/.test(e.message));
    await assert.rejects(writer.comment('OPS-1', [[{ text: '' }]]), (e: JiraRequestError) => e.status === 400 && /comment: Comment body can not be empty!/.test(e.message));
    await assert.rejects(writer.transition('OPS-1', 'Reopen'), /offers no such transition now \(available: Start Progress, Resolve\)/);
    assert.equal(jira.requests.filter((r) => r.method === 'POST').length, 2, 'no retries of a 4xx');
    // What the fake refuses, as Jira Cloud does: a v3 body that is not ADF.
    const res = await fetch(`${jira.url}/rest/api/3/issue/OPS-1/comment`, { method: 'POST', headers: { authorization: `Bearer ${PAT}`, 'content-type': 'application/json' }, body: JSON.stringify({ body: 'plain text' }) });
    assert.equal(res.status, 400);
    assert.deepEqual(await res.json(), { errorMessages: ['INVALID_INPUT'], errors: { comment: 'Comment body is not valid! the body is not an ADF document (type doc)' } });
    assert.match(String(adfProblem({ type: 'doc', version: 1, content: [{ type: 'paragraph', content: [{ type: 'text', text: 'x', marks: [{ type: 'code' }, { type: 'strong' }] }] }] })), /code mark combines only with link/);
  } finally {
    await jira.close();
  }
});
