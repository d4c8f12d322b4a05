// The service config: defaults filled, paths resolved against the file,
// frozen; every bad input names file:line path and the problem.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadServiceConfig } from '../../src/server/service-config.ts';
import { resolveWebhooks } from '../../src/server/webhook-config.ts';
import { leaseNamespace } from '../../src/server/leader-config.ts';
import { fixtureTests } from '../helpers/config-fixtures.ts';

const DEFAULTS = { rules: '/shipped/rules', runbooks: '/shipped/runbooks', policy: '/shipped/policy.csv' };
const FIXTURES = fileURLToPath(new URL('../fixtures/config', import.meta.url));

fixtureTests(FIXTURES, {
  'wrong-kind.yaml': [2, 'kind', /kind must be Config/],
  'unknown-field.yaml': [4, 'spec', /Unrecognized key: "remediaton"/],
  'bad-listen.yaml': [5, 'spec.server.listen', /HOST:PORT/],
  'bad-duration.yaml': [6, 'spec.budgets.coolDown', /duration/],
  'negative-budget.yaml': [5, 'spec.budgets.actionsPerTargetPerHour', /expected number to be >=0/],
  'webhook-without-credential.yaml': [7, 'spec.webhooks.generic.ci', /every webhook needs a credential/],
  'secret-in-file.yaml': [6, 'spec.webhooks.alertmanager.bearerTokenEnv', /expected string/],
  'db-and-dbenv.yaml': [5, 'spec.store', /give db or dbEnv, not both/],
  'bad-chat.yaml': [7, 'spec.chat.production[0].namespaces', /expected array to have >=1 items/],
  'yaml-syntax.yaml': [5, '', /YAML syntax/],
  'mattermost-user-by-name.yaml': [7, 'spec.server.mattermost.users.bob', /a Mattermost user id .*not a username/],
  'reserved-subject.yaml': [7, 'spec.server.slack.users.U0ALICE.name', /slack:, mattermost:, console:, terminal: are reserved for unmapped and guest users/],
  'bad-guest.yaml': [6, 'spec.server.slack.guest', /Unrecognized key: "group"/],
  'two-documents.yaml': [1, '', /holds one Config document, found 2/],
  'witness-without-target.yaml': [6, 'spec.store.auditWitness', /name a file, a configMap, or both/],
  'witness-bad-configmap.yaml': [6, 'spec.store.auditWitness.configMap', /NAMESPACE\/NAME/],
  'bad-expected-manager.yaml': [7, 'spec.changes.expectedManagers[1]', /a field manager name: printable, no spaces/],
  'audit-webhook-reserved-name.yaml': [7, 'spec.webhooks.generic.kubernetes-audit', /"kubernetes-audit" is a built-in receiver/],
  'leader-renew-too-long.yaml': [7, 'spec.leaderElection.renewDeadline', /must be shorter than leaseDuration \(15000ms\): a leader must step down before a follower may take over/],
  'leader-retry-too-long.yaml': [7, 'spec.leaderElection.retryPeriod', /1\.2 × retryPeriod shorter than renewDeadline \(2000ms\)/],
  'leader-lease-fraction.yaml': [6, 'spec.leaderElection.leaseDuration', /whole seconds, at least 1s/],
  'notify-unknown-receiver.yaml': [9, 'spec.notifications.route.routes[0].receiver', /no receiver named "pager" \(receivers: oncall\)/],
  'notify-bad-matcher.yaml': [8, 'spec.notifications.route.routes[0].matchers[1]', /bad matcher format: team/],
  'notify-two-types.yaml': [7, 'spec.notifications.receivers[0]', /give exactly one of pagerduty, email, webhook, slack, mattermost \(found webhook, slack\)/],
  'notify-bad-time.yaml': [12, 'spec.notifications.time_intervals[0].time_intervals[0].times[0].end_time', /"25:00" is not a time of day/],
  'notify-bad-timezone.yaml': [13, 'spec.notifications.time_intervals[0].time_intervals[0].location', /"Europe\/Atlantis" is not an IANA time zone/],
  'notify-bad-weekday.yaml': [12, 'spec.notifications.time_intervals[0].time_intervals[0].weekdays[0]', /the start day is after the end day/],
  'notify-secret-header.yaml': [11, 'spec.notifications.receivers[0].webhook.headers.Authorization', /carries a credential: put it in an environment variable/],
  'notify-unknown-interval.yaml': [9, 'spec.notifications.route.routes[0].mute_time_intervals[0]', /no time interval named "weekend"/],
  'notify-pagerduty-key-in-file.yaml': [9, 'spec.notifications.receivers[0].pagerduty.routingKeyEnv', /expected string/],
}, (file) => loadServiceConfig(file, DEFAULTS));

/** A Config file with these spec lines, in a fresh directory. */
function configFile(spec: string[]): { dir: string; file: string } {
  const dir = mkdtempSync(join(tmpdir(), 'km-cfg-'));
  const file = join(dir, 'kubemend.yaml');
  writeFileSync(file, ['apiVersion: kubemend.dev/v1alpha1', 'kind: Config', 'spec:', ...spec, ''].join('\n'));
  return { dir, file };
}

test('no file: every default, the shipped rules, runbooks and policy', () => {
  const c = loadServiceConfig(undefined, DEFAULTS);
  assert.equal(c.rules, '/shipped/rules');
  assert.equal(c.policy, '/shipped/policy.csv');
  assert.equal(c.chatSettings.policy, '/shipped/policy.csv');
  assert.equal(c.server.listen, '127.0.0.1:8080');
  assert.deepEqual(c.budgets, { actionsPerTargetPerHour: 5, concurrentPerNamespace: 2, concurrentPerCluster: 5, failuresBeforeEscalate: 3, failureWindow: 86_400_000, coolDown: 60_000 });
  assert.equal(c.remediation.enabled, true);
  assert.ok(Object.isFrozen(c) && Object.isFrozen(c.budgets), 'frozen');
});

test('paths are resolved against the file; durations are read; secrets are named, not kept', () => {
  const { dir, file } = configFile([
    '  clusters: { kubeconfig: ./kube/config, contexts: [prod-eu, prod-us] }',
    '  rules: ./rules',
    '  policy: ./policy.csv',
    '  budgets: { actionsPerTargetPerHour: 2, coolDown: 5m }',
    '  webhooks:',
    '    alertmanager: { bearerTokenEnv: AM_TOKEN, maxAlerts: 5000 }',
    '    generic: { ci: { secretEnv: CI_SECRET, cluster: prod-eu } }',
  ]);
  const c = loadServiceConfig(file, DEFAULTS);
  assert.equal(c.clusters.kubeconfig, join(dir, 'kube/config'));
  assert.deepEqual(c.clusters.contexts, ['prod-eu', 'prod-us']);
  assert.equal(c.rules, join(dir, 'rules'));
  assert.equal(c.runbooks, '/shipped/runbooks');
  assert.equal(c.policy, join(dir, 'policy.csv'));
  assert.equal(c.budgets.coolDown, 300_000);
  const missing = resolveWebhooks(c.webhooks, {});
  assert.deepEqual(missing.problems, ['webhooks.alertmanager.bearerTokenEnv: $AM_TOKEN is not set', 'webhooks.generic.ci.secretEnv: $CI_SECRET is not set']);
  assert.equal(missing.options, undefined, 'nothing half-configured is served');
  const ok = resolveWebhooks(c.webhooks, { AM_TOKEN: 'a', CI_SECRET: 'b' });
  assert.deepEqual(ok.options?.alertmanager, { bearerToken: 'a', maxAlerts: 5000 });
  assert.equal(ok.options?.webhooks?.ci.secret, 'b');
});

test('the audit key and witness: paths resolved against the file, the interval read', () => {
  const { dir, file } = configFile([
    '  store:',
    '    auditKeyFile: /etc/kubemend/audit-key/audit-key.pem',
    '    requireAuditKey: true',
    '    auditWitness: { file: ./witness/heads.jsonl, configMap: kubemend-audit/audit-witness, context: prod-eu, interval: 30s }',
  ]);
  const c = loadServiceConfig(file, DEFAULTS);
  assert.equal(c.store.auditKeyFile, '/etc/kubemend/audit-key/audit-key.pem');
  assert.equal(c.store.requireAuditKey, true);
  assert.deepEqual(c.store.auditWitness, { file: join(dir, 'witness/heads.jsonl'), configMap: 'kubemend-audit/audit-witness', context: 'prod-eu', interval: 30_000 });
  assert.equal(loadServiceConfig(undefined, DEFAULTS).store.auditWitness, undefined, 'no witness unless configured');
});

test('changes: expected managers and the audit tolerance; the Kubernetes audit webhook needs its token', () => {
  const defaults = loadServiceConfig(undefined, DEFAULTS);
  assert.ok(defaults.changes.expectedManagers.includes('argocd-controller') && defaults.changes.expectedManagers.includes('helm'));
  assert.equal(defaults.changes.auditTolerance, 5_000);
  assert.equal(defaults.webhooks.kubernetesAudit, undefined, 'off unless configured');
  const { file } = configFile([
    '  changes: { expectedManagers: [argocd-controller, "ci-*"], auditTolerance: 10s }',
    '  webhooks:',
    '    kubernetesAudit: { bearerTokenEnv: APISERVER_AUDIT_TOKEN, cluster: prod-eu }',
  ]);
  const c = loadServiceConfig(file, DEFAULTS);
  assert.deepEqual(c.changes, { expectedManagers: ['argocd-controller', 'ci-*'], auditTolerance: 10_000 });
  assert.deepEqual(resolveWebhooks(c.webhooks, {}), { problems: ['webhooks.kubernetesAudit.bearerTokenEnv: $APISERVER_AUDIT_TOKEN is not set'] });
  const ok = resolveWebhooks(c.webhooks, { APISERVER_AUDIT_TOKEN: 't0k' });
  assert.deepEqual(ok.kubernetesAudit, { bearerToken: 't0k', cluster: 'prod-eu', maxEvents: 1000, bodyLimit: 8 * 1024 * 1024 });
  assert.equal(ok.options?.alertmanager, false, 'the audit route alone turns the webhook receivers on');
});

test('the example config in config/ loads', () => {
  const c = loadServiceConfig(fileURLToPath(new URL('../../config/kubemend.example.yaml', import.meta.url)), DEFAULTS);
  assert.deepEqual(c.clusters.contexts, ['prod-eu', 'prod-us']);
  assert.equal(c.webhooks.generic['argo-cd'].secretEnv, 'KUBEMEND_ARGOCD_SECRET');
  assert.equal(c.webhooks.kubernetesAudit?.bearerTokenEnv, 'KUBEMEND_APISERVER_AUDIT_TOKEN');
  assert.deepEqual(c.changes.expectedManagers, loadServiceConfig(undefined, DEFAULTS).changes.expectedManagers, 'the example lists the defaults');
});

test('leaderElection: off by default with controller-runtime\'s timings; the Lease namespace is the pod\'s unless named', () => {
  assert.deepEqual(loadServiceConfig(undefined, DEFAULTS).leaderElection, { enabled: false, name: 'kubemend', leaseDuration: 15_000, renewDeadline: 10_000, retryPeriod: 2_000 });
  const c = loadServiceConfig(configFile(['  leaderElection: { enabled: true, namespace: ops, leaseDuration: 3s, renewDeadline: 2s, retryPeriod: 500ms }']).file, DEFAULTS);
  assert.deepEqual(c.leaderElection, { enabled: true, namespace: 'ops', name: 'kubemend', leaseDuration: 3_000, renewDeadline: 2_000, retryPeriod: 500 });
  assert.equal(leaseNamespace('ops', { POD_NAMESPACE: 'kubemend' }), 'ops');
  assert.equal(leaseNamespace(undefined, { POD_NAMESPACE: 'kubemend' }), 'kubemend');
  const sa = join(mkdtempSync(join(tmpdir(), 'km-sa-')), 'namespace');
  writeFileSync(sa, 'kubemend-system\n');
  assert.equal(leaseNamespace(undefined, {}, sa), 'kubemend-system');
  assert.equal(leaseNamespace(undefined, {}, join(tmpdir(), 'no-such-file')), 'default');
});

test('smoke.window: 5m by default, any duration, or off (0) for no window where no annotation sets one', () => {
  assert.equal(loadServiceConfig(undefined, DEFAULTS).smoke.window, 300_000);
  assert.equal(loadServiceConfig(configFile(['  smoke: { window: 90s }']).file, DEFAULTS).smoke.window, 90_000);
  assert.equal(loadServiceConfig(configFile(['  smoke: { window: off }']).file, DEFAULTS).smoke.window, 0);
  assert.throws(() => loadServiceConfig(configFile(['  smoke: { window: soon }']).file, DEFAULTS), /spec\.smoke\.window/);
});

test('the full notifications example in docs/notifications.md loads', { timeout: 10_000 }, () => {
  const doc = readFileSync(fileURLToPath(new URL('../../docs/notifications.md', import.meta.url)), 'utf8');
  const yaml = /```yaml\n([\s\S]*?)```/.exec(doc)![1];
  const dir = mkdtempSync(join(tmpdir(), 'km-cfg-'));
  writeFileSync(join(dir, 'kubemend.yaml'), yaml);
  const c = loadServiceConfig(join(dir, 'kubemend.yaml'), DEFAULTS);
  const n = c.notifications!;
  assert.deepEqual(n.receivers.map((r) => r.name), ['ops-slack', 'shop-mattermost', 'pagerduty-prod', 'payments-mail', 'audit-sink']);
  assert.equal(n.route.routes[0].continue, true);
  assert.equal(n.route.group_interval, 60_000);
  assert.equal(n.delivery.maxAge, 86_400_000);
  assert.equal(n.receivers[2].pagerduty?.url, 'https://events.pagerduty.com/v2/enqueue');
  assert.equal(loadServiceConfig(undefined, DEFAULTS).notifications, undefined, 'off unless configured');
});
