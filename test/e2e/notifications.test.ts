// Issue 15's acceptance: the crashloop scenario under `kubemend serve
// --sandbox` (a real process) with routes to a Slack channel (the fake
// checks the Web API payloads), PagerDuty (the fake checks the Events v2
// schema) and email (a real local SMTP server): one thread with the steps,
// one PagerDuty incident triggered then resolved with one dedup_key, one
// email; the Jira ticket a chat action cites gets one comment; the audit
// records reach Elasticsearch in order, and an outage of Elasticsearch long enough for the shipper to fail at
// least four times in a row (counted, not timed: its back-off is capped at 1 s here) loses and duplicates nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServe, until, scrape, metric } from '../helpers/serve-process.ts';
import { startFakes, serviceConfig, serviceEnv } from '../helpers/notify-fakes.ts';
import { openStore } from '../../src/store/index.ts';

test('the crashloop under serve: one Slack thread, one PagerDuty incident triggered then resolved, one email, one Jira comment, the audit log in Elasticsearch through an outage', { timeout: 300_000 }, async (t) => {
  const fakes = await startFakes(t);
  const dir = mkdtempSync(join(tmpdir(), 'km-notify-e2e-'));
  const config = join(dir, 'kubemend.yaml');
  writeFileSync(config, serviceConfig(fakes));
  const s = await startServe(['--sandbox', '--scenario', 'crashloop', '--speed', '30', '--config', config, '--listen', '127.0.0.1:0', '--data-dir', join(dir, 'data')], serviceEnv(fakes));
  t.after(() => s.stop());
  await s.waitFor(/notify\s+ops-slack, oncall-pagerduty, oncall-mail/, 'the notifications announced');
  // The rollback, the smoke window, the mitigation and two quiet minutes: a few virtual minutes at 30x (the runbook's
  // shortest step timeout, 1m, is still 2 s of real time).
  await s.waitFor(/incident resolved: (inc-\S+)/, 'the incident to resolve', 180_000);
  const posted = () => fakes.slack.callsTo('chat.postMessage');
  const pdResolved = () => fakes.pd.alerts.find((a) => a.status === 'resolved');
  await until('PagerDuty to hear of the resolution', () => pdResolved(), 30_000, () => JSON.stringify(fakes.pd.requests.map((r) => r.body), null, 1));
  await until('the resolution in the Slack thread', () => posted().some((c) => /resolved/.test(String(c.args.text)) && c.args.thread_ts), 30_000, () => JSON.stringify(posted().map((c) => c.args.text)));

  // Slack: one parent (no thread_ts) for the incident, every other message a reply under it.
  const parents = posted().filter((c) => !c.args.thread_ts);
  assert.equal(parents.length, 1, `one thread: ${JSON.stringify(parents.map((c) => c.args.text))}`);
  const threads = new Set(posted().filter((c) => c.args.thread_ts).map((c) => String(c.args.thread_ts)));
  assert.equal(threads.size, 1, 'every reply is under one parent');
  const [parentTs] = threads;
  assert.ok(fakes.slack.messages.has(`C0OPS/${parentTs}`), 'the parent is the message kubemend posted');
  const replies = posted().filter((c) => c.args.thread_ts === parentTs).map((c) => String(c.args.text));
  assert.equal(replies.length, posted().length - 1, 'every other message is in that thread');
  for (const step of ['rollback', 'waitRollout', 'smokeCheck']) assert.ok(replies.some((r) => new RegExp(`Step ${step}: succeeded`).test(r)), `the thread shows step ${step}: ${replies.join(' | ')}`);
  assert.ok(replies.some((r) => /Run \w+ succeeded: bad-deploy/.test(r)), 'and the run\'s end');
  assert.match(String(fakes.slack.messages.get(`C0OPS/${parentTs}`)?.text), /RESOLVED/, 'the parent shows the incident as it is now');

  // PagerDuty: one alert, triggered then resolved under one dedup_key; every request valid (the fake answers 400 otherwise).
  assert.equal(fakes.pd.alerts.length, 1, JSON.stringify(fakes.pd.alerts.map((a) => [a.dedupKey, a.log])));
  const alert = fakes.pd.alerts[0];
  assert.equal(alert.status, 'resolved');
  assert.equal(alert.log[0], 'trigger');
  assert.equal(alert.log.at(-1), 'resolve');
  assert.ok(fakes.pd.requests.every((r) => r.status === 202), JSON.stringify(fakes.pd.requests.filter((r) => r.status !== 202)));
  assert.ok(fakes.pd.requests.every((r) => (r.body as { dedup_key?: string }).dedup_key === alert.dedupKey), 'one dedup_key for the incident');

  // Email: one message for the opening, threaded on the incident.
  assert.equal(fakes.mail.mails.length, 1);
  assert.deepEqual(fakes.mail.mails[0].to, ['oncall@example.com']);
  assert.match(fakes.mail.mails[0].headers.subject, /critical/i);

  // The audit log so far is in Elasticsearch. Then Elasticsearch is gone until the shipper has failed at least four times, while alice scales
  // checkout from the console citing OPS-1: the ticket gets its comment, and the trace catches up once it is back.
  const lag = async () => metric(await scrape(s.base), 'kubemend_trace_lag_records');
  const refused = async () => metric(await scrape(s.base), 'kubemend_trace_request_failures_total', { shipper: 'elasticsearch', reason: 'network' });
  await until('the audit log in Elasticsearch', async () => (await lag()) === 0 && fakes.es.arrivals.length > 0, 30_000);
  await fakes.es.down('refuse');
  const refusedBefore = await refused();
  const outputAtDown = s.output().length;
  const auth = { authorization: 'Bearer alice-acceptance-token', 'content-type': 'application/json' };
  const say = async (text: string) => ((await (await fetch(`${s.base}/console/api/messages`, { method: 'POST', headers: auth, body: JSON.stringify({ text }) })).json()) as { replies: { text: string; buttons?: { value: string }[] }[] }).replies;
  const asked = await say('scale deployment/checkout -n shop --replicas 4 --reason "more room for the sale" --link OPS-1');
  const confirm = asked.flatMap((r) => r.buttons ?? []).find((b) => b.value.startsWith('confirm '))?.value;
  assert.ok(confirm, JSON.stringify(asked));
  await say(confirm);
  await until('the comment on OPS-1', () => fakes.jira.comments.length > 0, 60_000, () => JSON.stringify(fakes.jira.requests));
  await until('four failed attempts to ship', async () => (await refused()) - refusedBefore >= 4, 60_000, s.output);
  assert.ok((await lag()) > 0, 'records waited while Elasticsearch was away');
  await fakes.es.up();
  await until('Elasticsearch to catch up', async () => (await lag()) === 0, 60_000);
  // One unbroken run of failures, ended by the shipper itself once Elasticsearch answered.
  const [, resumed] = await until('the shipper to say it resumed', () => /audit shipping to \S+ resumed after (\d+) failed attempts/.exec(s.output().slice(outputAtDown)) ?? undefined, 30_000, s.output);
  assert.ok(Number(resumed) >= 4, `the shipper retried at least four times before it resumed: ${resumed}`);

  // Nothing failed or waits; every delivery is on record.
  const m = await scrape(s.base);
  assert.equal(metric(m, 'kubemend_notify_queue_pending'), 0);
  assert.equal(await s.stop(), 0);
  const store = await openStore({ dataDir: join(dir, 'data') });
  try {
    const delivered = await store.audit.list({ action: 'notify.delivered', limit: 1000 });
    const receivers = new Set(delivered.map((r) => (r.data as { receiver?: string }).receiver));
    assert.deepEqual([...receivers].sort(), ['oncall-mail', 'oncall-pagerduty', 'ops-slack']);
    assert.equal((await store.audit.list({ action: 'notify.delivery.dead', limit: 10 })).length, 0);
    assert.equal((await store.audit.verify()).ok, true);
    // Jira: one comment on the cited ticket, saying who did what, why, how it ended and where the record is.
    const comments = fakes.jira.comments.filter((c) => c.key === 'OPS-1');
    assert.equal(comments.length, 1);
    const ended = (await store.audit.list({ action: 'chat.scale.executed', limit: 10 }))[0] ?? (await store.audit.list({ limit: 10_000 })).filter((r) => /^chat\.scale\./.test(r.action)).at(-1)!;
    for (const want of ['alice', 'scale', 'shop', 'checkout', 'more room for the sale', ended.id]) assert.ok(JSON.stringify(comments[0].body).includes(want), `the comment names ${want}: ${JSON.stringify(comments[0].body)}`);
    // Elasticsearch: every record, in the log's order, once — the time away lost and repeated nothing.
    const records = await store.audit.list({ limit: 100_000 });
    assert.deepEqual(fakes.es.arrivals, records.map((r) => r.id));
    assert.deepEqual(fakes.es.problems, []);
  } finally {
    await store.close();
  }
});
