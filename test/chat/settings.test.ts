// Chat settings files: defaults, production matching, and problems reported
// as file:line path: message.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chatSettings, isProduction, loadChatConfig } from '../../src/chat/settings.ts';
import { ticketChecker } from '../../src/chat/wiring.ts';
import { JiraTicketChecker } from '../../src/chat/jira.ts';
import { StaticTicketChecker } from '../../src/chat/justification.ts';

const dir = mkdtempSync(join(tmpdir(), 'km-chat-settings-'));

test('a chat config loads with defaults filled and the policy path resolved next to it', () => {
  const file = join(dir, 'chat.yaml');
  writeFileSync(file, `apiVersion: kubemend.dev/v1alpha1
kind: ChatConfig
spec:
  defaultCluster: prod-eu
  production:
    - cluster: "prod-*"
    - cluster: shared
      namespaces: [payments, "checkout-*"]
  approval: { groups: [sre-leads, cto-office], timeout: 15m, room: approvals }
  justification:
    alertmanagers:
      - url: https://alertmanager.example.com
        apiUrl: http://alertmanager.monitoring:9093
        bearerTokenEnv: AM_TOKEN
    recentWindow: 2h
    jira: { url: "https://jira.example.com", allowedStatuses: [Approved, "Ready to deploy"], tokenEnv: JIRA_TOKEN }
  policy: chat-policy.csv
`);
  const s = loadChatConfig(file);
  assert.equal(s.defaultCluster, 'prod-eu');
  assert.equal(s.approval.timeout, 15 * 60_000);
  assert.equal(s.conversationTimeout, 10 * 60_000);
  assert.equal(s.justification.ticketPattern, '^[A-Z][A-Z0-9]+-\\d+$');
  assert.equal(s.policy, join(dir, 'chat-policy.csv'));
  assert.ok(isProduction(s, 'prod-eu', 'anything'));
  assert.ok(isProduction(s, 'shared', 'checkout-api'));
  assert.ok(!isProduction(s, 'shared', 'sandbox'));
  assert.ok(!isProduction(s, 'staging', 'payments'));
  const jira = ticketChecker(s, { JIRA_TOKEN: 'pat' });
  assert.ok(jira instanceof JiraTicketChecker);
  assert.deepEqual(s.justification.alertmanagers, [{ url: 'https://alertmanager.example.com', apiUrl: 'http://alertmanager.monitoring:9093', bearerTokenEnv: 'AM_TOKEN', timeout: 5_000 }]);
  assert.equal(s.justification.recentWindow, 2 * 3_600_000);
  assert.equal(chatSettings().justification.recentWindow, 3_600_000);
  assert.deepEqual(chatSettings().justification.alertmanagers, [], 'no Alertmanager unless configured: then no URL justifies');
});

test('problems name the file, line and field', () => {
  const file = join(dir, 'bad.yaml');
  writeFileSync(file, `apiVersion: kubemend.dev/v1alpha1
kind: ChatConfig
spec:
  approval: { groups: [] }
  justification:
    alertHosts: [alertmanager.example.com]
    ticketPattern: "([A-Z]+"
    alertmanagers: [{ url: "https://am.example.com/#/alerts" }]
  conversationTimeout: soon
`);
  assert.throws(() => loadChatConfig(file), (err: Error) => {
    assert.match(err.message, /bad\.yaml:4 spec\.approval\.groups: .*>=1|bad\.yaml:4 spec\.approval\.groups: Too small/);
    assert.match(err.message, /bad\.yaml:6 spec\.justification\.alertHosts: alertHosts was replaced by alertmanagers: \[\{ url: https:\/\/HOST \}\]: alert links are now checked through the Alertmanager API/);
    assert.match(err.message, /bad\.yaml:7 spec\.justification\.ticketPattern: not a valid regular expression/);
    assert.match(err.message, /bad\.yaml:8 spec\.justification\.alertmanagers\[0\]\.url: the base URL only/);
    assert.match(err.message, /bad\.yaml:9 spec\.conversationTimeout: /);
    return true;
  });
});

test('defaults: nothing is production until configured; static tickets only when listed', () => {
  const s = chatSettings();
  assert.equal(isProduction(s, 'prod', 'prod'), false);
  assert.equal(ticketChecker(s, {}), undefined);
  assert.ok(ticketChecker(chatSettings({ justification: { tickets: { 'DEMO-1': 'Approved' } } }), {}) instanceof StaticTicketChecker);
});
