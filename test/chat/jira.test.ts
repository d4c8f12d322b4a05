// JiraTicketChecker against a local HTTP server that answers like Jira's
// REST API v2 (GET /rest/api/2/issue/{key}: the issue with fields.status,
// 404 {"errorMessages":["Issue Does Not Exist"]}, 401 without valid
// credentials). A ticket justifies an action only when it exists and is in
// an allowed status; anything that prevents knowing refuses.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { JiraTicketChecker } from '../../src/chat/jira.ts';
import { fakeJira } from './fake-jira.ts';

const jira = await fakeJira({ 'OPS-1': 'Approved', 'OPS-2': 'In Review', 'OPS-3': 'in progress' }, { token: 'pat-123', moved: { 'OLD-9': 'OPS-1' }, context: '/jira' });
after(() => jira.close());

test('an approved ticket passes; the request is the documented GET with the token as Bearer', async () => {
  const c = new JiraTicketChecker({ url: `${jira.url}/`, allowedStatuses: ['Approved', 'In Progress'], token: 'pat-123' });
  assert.deepEqual(await c.check('OPS-1'), { ok: true, key: 'OPS-1', status: 'Approved', summary: 'Change OPS-1' });
  assert.deepEqual(await c.check('OPS-3'), { ok: true, key: 'OPS-3', status: 'in progress', summary: 'Change OPS-3' }, 'statuses compare case-insensitively');
  const last = jira.requests.at(-1)!;
  assert.equal(last.method, 'GET');
  assert.equal(last.url, '/jira/rest/api/2/issue/OPS-3?fields=status,summary');
  assert.equal(last.authorization, 'Bearer pat-123');
});

test('a ticket in another status, an unknown ticket and a moved ticket', async () => {
  const c = new JiraTicketChecker({ url: jira.url, allowedStatuses: ['Approved'], token: 'pat-123' });
  assert.deepEqual(await c.check('OPS-2'), { ok: false, reason: 'ticket OPS-2 is "In Review"; it must be Approved to justify an action' });
  assert.deepEqual(await c.check('OPS-404'), { ok: false, reason: "ticket OPS-404 does not exist (or kubemend's Jira user may not see it)" });
  const moved = await c.check('OLD-9');
  assert.ok(moved.ok && moved.key === 'OPS-1', 'a moved issue is named by its current key');
});

test('bad credentials, an unreachable Jira and a silent one refuse (fail closed)', async () => {
  const wrong = new JiraTicketChecker({ url: jira.url, allowedStatuses: ['Approved'], token: 'nope' });
  assert.deepEqual(await wrong.check('OPS-1'), { ok: false, reason: "Jira refused kubemend's credentials (HTTP 401) when checking OPS-1; an administrator must fix the Jira token" });

  const closed = createServer();
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
  const port = (closed.address() as AddressInfo).port;
  await new Promise<void>((r) => closed.close(() => r()));
  const down = await new JiraTicketChecker({ url: `http://127.0.0.1:${port}`, allowedStatuses: ['Approved'] }).check('OPS-1');
  assert.equal(down.ok, false);
  assert.match((down as { reason: string }).reason, new RegExp(`cannot reach Jira at 127\\.0\\.0\\.1:${port} to check OPS-1`));

  const silent = createServer(() => undefined);
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  try {
    const slow = await new JiraTicketChecker({ url: `http://127.0.0.1:${(silent.address() as AddressInfo).port}`, allowedStatuses: ['Approved'], timeoutMs: 200 }).check('OPS-1');
    assert.deepEqual(slow.ok, false);
    assert.match((slow as { reason: string }).reason, /no answer within 200ms/);
  } finally {
    silent.closeAllConnections();
    await new Promise<void>((r) => silent.close(() => r()));
  }
});

test('Jira Cloud: e-mail and API token as Basic auth', async () => {
  const cloud = await fakeJira({ 'WEB-7': 'Approved' }, { basic: ['bot@example.com', 'api-token'] });
  try {
    const c = new JiraTicketChecker({ url: cloud.url, allowedStatuses: ['Approved'], user: 'bot@example.com', token: 'api-token' });
    assert.equal((await c.check('WEB-7')).ok, true);
    assert.equal(cloud.requests[0].authorization, `Basic ${Buffer.from('bot@example.com:api-token').toString('base64')}`);
  } finally {
    await cloud.close();
  }
});
