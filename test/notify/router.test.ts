// The route tree walked as Alertmanager walks it, plus kubemend's rules:
// incidents keep their receivers to the end, state changes are never
// suppressed, identical updates are, group_wait / group_interval timing,
// mute and active time intervals in a time zone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../src/common/clock.ts';
import { NotificationsSchema } from '../../src/notify/config.ts';
import { Router, type RouterMemory } from '../../src/notify/router.ts';
import { parseMatchers } from '../../src/notify/matchers.ts';
import type { NotifyEvent } from '../../src/notify/types.ts';

const T0 = Date.UTC(2026, 0, 5, 12, 0); // a Monday, 13:00 in Berlin

const receivers = ['chat', 'pager', 'mail', 'shop-hook', 'night'].map((name) =>
  name === 'pager' ? { name, pagerduty: { routingKeyEnv: 'PD' } } : name === 'mail' ? { name, email: { to: ['a@example.com'], from: 'k@example.com', smtp: { host: 'localhost' } } } : { name, webhook: { url: 'http://127.0.0.1:1/' } });

function config(route: unknown, extra: Record<string, unknown> = {}) {
  return NotificationsSchema.parse({ route, receivers, ...extra });
}

function event(over: Partial<NotifyEvent> = {}): NotifyEvent {
  return { kind: 'incident.opened', time: T0, labels: { cluster: 'prod', namespace: 'shop', severity: 'warning' }, title: 'checkout crash-looping', text: 'checkout-1 restarted 5 times', severity: 'warning', ...over };
}

const incident = (id: string, severity: 'warning' | 'critical' = 'warning') => ({ id, title: 't', status: 'open' as const, severity, cluster: 'prod', openedAt: T0 });
const names = (d: { deliveries: { receiver: string }[] }) => d.deliveries.map((x) => x.receiver).sort();

class Memory implements RouterMemory {
  readonly m = new Map<string, string>();
  async get(k: string) { return this.m.get(k); }
  async put(k: string, v: string) { this.m.set(k, v); }
}

test('matchers parse as Alertmanager parses them: quotes, escapes, lists, anchored regexes, missing labels as ""', () => {
  const [a, b] = parseMatchers('{severity="critical", team=~"pay.*"}');
  assert.deepEqual([a.name, a.op, a.value, b.op, b.value], ['severity', '=', 'critical', '=~', 'pay.*']);
  assert.equal(parseMatchers('msg="a, \\"b\\""')[0].value, 'a, "b"', 'a comma inside quotes does not split');
  assert.equal(parseMatchers('ns = shop')[0].value, 'shop');
  const re = parseMatchers('ns=~sho')[0];
  assert.equal(re.test({ ns: 'shop' }), false, 'anchored: sho does not match shop');
  assert.equal(parseMatchers('team!~".+"')[0].test({}), true, 'a missing label is the empty string');
  assert.throws(() => parseMatchers('severity'), /bad matcher format/);
  assert.throws(() => parseMatchers('a="b"c"'), /unescaped double quote/);
  assert.throws(() => parseMatchers('a=~"("'), /does not compile/);
});

test('the first matching child wins, continue goes on, no match falls back to the parent, children inherit', async () => {
  const r = new Router(config({
    receiver: 'chat',
    routes: [
      { matchers: ['severity="critical"'], receiver: 'pager', continue: true },
      { matchers: ['namespace=shop'], receiver: 'shop-hook', routes: [{ matchers: ['rule=oom'] }] },
      { matchers: ['namespace=~"shop|pay"'], receiver: 'mail' },
    ],
  }), { clock: new ManualClock(T0) });
  assert.deepEqual(names(await r.route(event())), ['shop-hook'], 'the second child matches; the third is never tried');
  assert.deepEqual(names(await r.route(event({ severity: 'critical', labels: { namespace: 'shop' } }))), ['pager', 'shop-hook'], 'continue: true goes on to the next child');
  assert.deepEqual(names(await r.route(event({ labels: { namespace: 'other' } }))), ['chat'], 'nothing matches: the root');
  assert.deepEqual(r.match({ namespace: 'shop', rule: 'oom' }, T0).map((m) => [m.node.id, m.node.receiver]), [['root.1.0', 'shop-hook']], 'a grandchild inherits its receiver');
});

test("an incident keeps every receiver it reached, across severity changes, restarts and mute windows", async () => {
  const memory = new Memory();
  const clock = new ManualClock(T0);
  const cfg = config({ receiver: 'chat', routes: [{ matchers: ['severity=critical'], receiver: 'pager', continue: true }] });
  let r = new Router(cfg, { clock, memory });
  const opened = await r.route(event({ incident: incident('i1') }));
  assert.deepEqual(names(opened), ['chat']);
  assert.deepEqual(opened.deliveries.map((d) => d.key), ['incident/i1'], 'keyed by the incident');
  assert.deepEqual(names(await r.route(event({ kind: 'incident.updated', severity: 'critical', labels: { severity: 'critical' }, incident: incident('i1', 'critical') }))), ['chat', 'pager'], 'the page joins when it turns critical');
  r = new Router(cfg, { clock, memory });
  const resolved = await r.route(event({ kind: 'incident.resolved', labels: { severity: 'warning' }, incident: incident('i1') }));
  assert.deepEqual(names(resolved), ['chat', 'pager'], 'after a restart, the resolve still reaches PagerDuty though its labels no longer match that route');
  assert.deepEqual(names(await r.route(event({ incident: incident('i2') }))), ['chat']);
  assert.deepEqual(names(await r.route(event({ kind: 'incident.resolved', severity: 'critical', labels: { severity: 'critical' }, incident: incident('i2', 'critical') }))), ['chat'], 'a receiver does not join an incident on its end');
  assert.deepEqual(names(await r.route(event({ kind: 'incident.resolved', severity: 'critical', labels: { severity: 'critical' }, incident: incident('i3', 'critical') }))), ['pager'], 'an incident first seen at its end is routed as usual');
});

test('mute and active time intervals, read in their time zone; muting never strands an incident', async () => {
  const clock = new ManualClock(T0);
  const cfg = config({
    receiver: 'chat',
    routes: [
      { matchers: ['severity=critical'], receiver: 'pager', mute_time_intervals: ['lunch'], continue: true },
      { receiver: 'night', active_time_intervals: ['office'] },
    ],
  }, {
    time_intervals: [
      { name: 'lunch', time_intervals: [{ times: [{ start_time: '12:30', end_time: '13:30' }], location: 'Europe/Berlin' }] },
      { name: 'office', time_intervals: [{ weekdays: ['monday:friday'], times: [{ start_time: '09:00', end_time: '17:00' }], location: 'America/New_York' }] },
    ],
  });
  const r = new Router(cfg, { clock });
  const crit = (id: string, kind: NotifyEvent['kind'] = 'incident.opened') => event({ kind, severity: 'critical', labels: { severity: 'critical' }, incident: incident(id, 'critical') });
  // 13:00 Berlin (lunch), 07:00 New York (before office hours).
  const d1 = await r.route(crit('a'));
  assert.deepEqual(names(d1), [], 'both routes muted');
  assert.deepEqual(d1.suppressed.map((s) => s.reason), ['muted', 'muted']);
  await clock.advance(3_600_000); // 14:00 Berlin, 08:00 New York
  assert.deepEqual(names(await r.route(crit('b'))), ['pager']);
  await clock.advance(3_600_000); // 09:00 New York: office
  assert.deepEqual(names(await r.route(crit('c'))), ['night', 'pager']);
  await clock.advance(22.5 * 3_600_000); // Tuesday 12:30 Berlin, 07:30 New York
  assert.deepEqual(names(await r.route(crit('c', 'incident.resolved'))), ['night', 'pager'], 'an incident is followed through a mute window');
  await clock.advance(4 * 86_400_000); // Saturday 09:30 New York
  assert.deepEqual(names(await r.route(crit('d'))).includes('night'), false, 'weekdays: not on a Saturday');
});

test('identical updates are suppressed for repeat_interval; state changes never are', async () => {
  const clock = new ManualClock(T0);
  const r = new Router(config({ receiver: 'chat', repeat_interval: '1h' }), { clock });
  const upd = event({ kind: 'incident.updated', incident: incident('i1') });
  assert.equal((await r.route(upd)).deliveries.length, 1);
  const again = await r.route(upd);
  assert.equal(again.deliveries.length, 0);
  assert.deepEqual(again.suppressed, [{ receiver: 'chat', reason: 'repeat' }]);
  assert.equal((await r.route({ ...upd, text: 'now 7 restarts' })).deliveries.length, 1, 'a different text is news');
  assert.equal((await r.route({ ...upd, incident: incident('i2') })).deliveries.length, 1, 'another incident is news');
  for (const kind of ['incident.acknowledged', 'incident.mitigated', 'incident.resolved', 'incident.resolved'] as const) {
    assert.equal((await r.route({ ...upd, kind })).deliveries.length, 1, `${kind} is never suppressed`);
  }
  await clock.advance(3_600_000);
  assert.equal((await r.route(upd)).deliveries.length, 1, 'after repeat_interval it goes out again');
  const n = event({ kind: 'notify', runId: 'r1' });
  assert.equal((await r.route(n)).deliveries.length, 1);
  assert.equal((await r.route(n)).deliveries.length, 0, 'a repeated runbook notify is suppressed too');
});

test('group_wait delays a new group, group_interval spaces its updates, nothing overtakes', async () => {
  const clock = new ManualClock(T0);
  const r = new Router(config({ receiver: 'chat', group_by: ['namespace'], group_wait: '30s', group_interval: '5m' }), { clock });
  const first = (await r.route(event({ incident: incident('i1') }))).deliveries[0];
  assert.equal(first.notBefore, T0 + 30_000);
  await clock.advance(10_000);
  const step = (await r.route(event({ kind: 'run.step', runId: 'r1', incident: incident('i1') }))).deliveries[0];
  assert.equal(step.notBefore, T0 + 30_000 + 300_000, 'an update waits group_interval after the last');
  const resolved = (await r.route(event({ kind: 'incident.resolved', incident: incident('i1') }))).deliveries[0];
  assert.equal(resolved.notBefore, T0 + 30_000, 'a state change only waits for the group to open');
  const other = (await r.route(event({ labels: { namespace: 'pay' }, incident: incident('i9') }))).deliveries[0];
  assert.equal(other.notBefore, clock.now() + 30_000, 'another namespace is another group');
});

test("receivers get only the event kinds they subscribe to (email's defaults leave out steps)", async () => {
  const r = new Router(config({ receiver: 'mail' }), { clock: new ManualClock(T0) });
  assert.equal((await r.route(event({ kind: 'run.step', runId: 'r1' }))).deliveries.length, 0);
  assert.deepEqual((await r.route(event({ kind: 'run.step', runId: 'r1' }))).suppressed, [{ receiver: 'mail', reason: 'not-subscribed' }]);
  assert.equal((await r.route(event({ kind: 'run.escalated', runId: 'r1' }))).deliveries[0].key, 'run/r1');
});

test('days of the month count from the end when negative; months and years by name or number', { timeout: 10_000 }, async () => {
  const { compileInterval, intervalContains } = await import('../../src/notify/time-intervals.ts');
  const lastDays = compileInterval({ days_of_month: ['-2:-1'], months: ['february'], years: ['2028'], location: 'Asia/Tokyo' });
  assert.equal(intervalContains(lastDays, Date.UTC(2028, 1, 28, 0)), true, '28 Feb 2028 09:00 in Tokyo: the second-to-last day of a leap February');
  assert.equal(intervalContains(lastDays, Date.UTC(2028, 1, 27, 12)), false, '27 Feb 21:00 in Tokyo');
  assert.equal(intervalContains(lastDays, Date.UTC(2028, 1, 29, 16)), false, '1 March in Tokyo already');
  assert.equal(intervalContains(lastDays, Date.UTC(2027, 1, 27, 0)), false, 'another year');
  const endOfDay = compileInterval({ times: [{ start_time: '23:00', end_time: '24:00' }], months: ['1:3'] });
  assert.equal(intervalContains(endOfDay, Date.UTC(2026, 2, 31, 23, 59)), true);
  assert.equal(intervalContains(endOfDay, Date.UTC(2026, 3, 1, 0, 0)), false, 'end exclusive, and April is out');
});
