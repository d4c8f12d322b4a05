// Alert links are verified against a real Alertmanager (Debian's): the link
// must be on a configured Alertmanager and name an alert its API v2 says is
// firing (or ended within the window). A made-up alert on the right host, an
// unfiltered list, a silence, and — with none configured — an attacker's own
// Alertmanager with a real firing alert are all refused.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { checkJustification } from '../../src/chat/justification.ts';
import { chatSettings } from '../../src/chat/settings.ts';
import { AlertmanagerChecker, alertOfLink, parseMatchers } from '../../src/chat/alerts.ts';
import { ManualClock } from '../../src/common/clock.ts';
import { findAlertmanager, startAlertmanager, NO_ALERTMANAGER, type RunningAlertmanager } from '../helpers/alertmanager.ts';
import { chatFixture } from './fixture.ts';

const BIN = findAlertmanager();
const SKIP = BIN ? false : NO_ALERTMANAGER;
const REASON = 'checkout pods crash since the deploy';
let am: RunningAlertmanager;
const iso = (ms: number) => new Date(ms).toISOString();
const ui = (filter: string) => `${am.url}/#/alerts?silenced=false&inhibited=false&active=true&filter=${encodeURIComponent(filter)}`;

before(async () => {
  if (!BIN) return;
  am = await startAlertmanager(BIN);
  await am.post([
    { labels: { alertname: 'CheckoutDown', namespace: 'shop', severity: 'critical' }, startsAt: iso(Date.now() - 5 * 60_000) },
    // Still active in Alertmanager for two minutes, as Prometheus leaves it after its last evaluation.
    { labels: { alertname: 'CheckoutSlow', namespace: 'shop' }, startsAt: iso(Date.now() - 30 * 60_000), endsAt: iso(Date.now() + 2 * 60_000) },
  ]);
});
after(() => am?.stop());

test('with no Alertmanager configured, no https:// link justifies — not even a real firing alert on an Alertmanager someone else runs', { skip: SKIP }, async () => {
  const res = await checkJustification({ reason: REASON, link: ui('{alertname="CheckoutDown"}') }, { settings: chatSettings(), store: undefined as never });
  assert.equal(res.ok, false);
  assert.match((res as { problem: string }).problem, new RegExp(`^${am.url.replace(/[.:/]/g, '\\$&')} is not a configured Alertmanager \\(none are configured\\)`));
  const any = await checkJustification({ reason: REASON, link: 'https://grafana.example.com/d/abc/web?orgId=1' }, { settings: chatSettings(), store: undefined as never });
  assert.equal(any.ok, false);
});

test('a firing alert on a configured Alertmanager justifies; a made-up one on the same host does not', { skip: SKIP, timeout: 60_000 }, async () => {
  const settings = chatSettings({ justification: { alertmanagers: [{ url: am.url }] } });
  const check = (link: string) => checkJustification({ reason: REASON, link }, { settings, store: undefined as never });

  const ok = await check(ui('{alertname="CheckoutDown",namespace="shop"}'));
  assert.ok(ok.ok, JSON.stringify(ok));
  assert.match(ok.justification.detail, new RegExp(`^alert CheckoutDown [0-9a-f]{16} on 127\\.0\\.0\\.1:\\d+, firing since `));
  assert.equal(ok.justification.kind, 'alert');
  const api = await check(`${am.url}/api/v2/alerts?filter=${encodeURIComponent('alertname="CheckoutDown"')}`);
  assert.ok(api.ok, JSON.stringify(api));

  const refusals: [string, RegExp][] = [
    [ui('{alertname="CheckoutDowm"}'), /no alert \{alertname="CheckoutDowm"\} on 127\.0\.0\.1:\d+ is firing or ended within the last 60m/],
    [ui('{alertname="CheckoutDown",namespace="prod"}'), /no alert \{alertname="CheckoutDown",namespace="prod"\}/],
    [`${am.url}/#/alerts?receiver=default`, /the link must name the alert: filter it by alertname="…"/],
    [ui('{namespace="shop"}'), /the link must name the alert/],
    [`${am.url}/#/silences/6e8d1c4a-0000-4000-8000-000000000000`, /a silence is not an alert/],
    [`${am.url}/made/up/path`, /is not an Alertmanager alert link; use the alert list filtered to the alert/],
    [ui('{alertname="CheckoutDown" or 1=1}'), /is not a matcher/],
  ];
  for (const [link, re] of refusals) {
    const r = await check(link);
    assert.equal(r.ok, false, link);
    assert.match((r as { problem: string }).problem, re, link);
  }
});

test('an alert that ended within recentWindow still justifies; one that ended earlier does not', { skip: SKIP }, async () => {
  // Ten minutes from now CheckoutSlow has ended by Alertmanager's endsAt, eight minutes before.
  const later = new ManualClock(Date.now() + 10 * 60_000);
  const link = new URL(ui('{alertname="CheckoutSlow"}'));
  const wide = await new AlertmanagerChecker([{ url: am.url }], { windowMs: 60 * 60_000, clock: later }).check(link);
  assert.ok(wide?.ok, JSON.stringify(wide));
  assert.match(wide.detail, /^alert CheckoutSlow [0-9a-f]{16} on .*, ended /);
  const narrow = await new AlertmanagerChecker([{ url: am.url }], { windowMs: 5 * 60_000, clock: later }).check(link);
  assert.equal(narrow?.ok, false);
});

test('an unreachable Alertmanager refuses the link rather than letting it through', async () => {
  const r = await new AlertmanagerChecker([{ url: 'http://127.0.0.1:9', timeoutMs: 500 }], { windowMs: 60_000 }).check(new URL('http://127.0.0.1:9/#/alerts?filter={alertname="X"}'));
  assert.equal(r?.ok, false);
  assert.match((r as { problem: string }).problem, /cannot ask Alertmanager at 127\.0\.0\.1:9 about \{alertname="X"\}/);
});

test('link forms: UI filters and API filters parse to matchers; links must sit under the configured path', () => {
  assert.deepEqual(parseMatchers('{alertname="A,B",namespace=~"shop|prod", job!=x}'), ['alertname="A,B"', 'namespace=~"shop|prod"', 'job!="x"']);
  const base = new URL('https://example.com/alertmanager');
  assert.deepEqual(alertOfLink(new URL('https://example.com/alertmanager/#/alerts?filter=%7Balertname%3D%22X%22%7D&receiver=ops'), base), { matchers: ['alertname="X"'], receiver: 'ops' });
  const c = new AlertmanagerChecker([{ url: 'https://example.com/alertmanager' }], { windowMs: 1 });
  assert.ok(c.siteOf(new URL('https://example.com/alertmanager/#/alerts')));
  assert.equal(c.siteOf(new URL('https://example.com/alertmanager-evil/#/alerts')), undefined);
  assert.equal(c.siteOf(new URL('https://example.com.evil.org/alertmanager/#/alerts')), undefined);
  assert.equal(c.siteOf(new URL('http://example.com/alertmanager/#/alerts')), undefined, 'another scheme is another origin');
});

test('through the chat: a firing alert justifies and the audit keeps what was verified', { skip: SKIP, timeout: 120_000 }, async () => {
  const f = await chatFixture({ settings: { justification: { alertmanagers: [{ url: am.url }] } } });
  try {
    const link = ui('{alertname="CheckoutDown"}');
    const r = await f.say('alice', `restart deployment/web -n shop --reason "${REASON}" --link ${link}`);
    assert.match(r[0].text, /Justification: checkout pods crash since the deploy — alert CheckoutDown [0-9a-f]{16} on 127\.0\.0\.1:\d+, firing since /);
    const justified = (await f.store.audit.list({ action: 'chat.restart.justified' }))[0];
    assert.equal(justified.link, link);
    assert.match(String(justified.data?.linkDetail), /^alert CheckoutDown [0-9a-f]{16}/);
    const made = await f.say('alice', `restart deployment/web -n shop --reason "${REASON}" --link ${ui('{alertname="Invented"}')}`);
    assert.match(made[0].text, /KM-CHAT-002 [a-z2-9]{6}: justification refused — no alert \{alertname="Invented"\}/);
  } finally {
    await f.close();
  }
});
