// The fakes and the service config of the notifications acceptance tests:
// Slack (checking Web API payloads), PagerDuty (checking Events v2), Jira
// (checking comments as Atlassian documents them), Elasticsearch (checking
// _bulk NDJSON) and a real local SMTP server, and a `kind: Config` that
// routes notifications to the first three, comments on tickets and ships the
// audit log.
import { FakeSlack } from '../chat/adapters/fake-slack.ts';
import { fakeJira, type FakeJira } from '../chat/fake-jira.ts';
import { FakePagerDuty } from './fake-pagerduty.ts';
import { FakeElasticsearch } from './fake-elasticsearch.ts';
import { smtp, SMTP_PASSWORD } from './local-smtp.ts';

const BOT = 'xoxb-acceptance-bot';
export const SIGNING = 'acceptance-signing-secret';
const PD_KEY = 'R0ACCEPTANCE0ROUTING0KEY0000001A';
const JIRA_PAT = 'jira-acceptance-pat-7Yq2';
const ES_KEY = 'ZXMta2V5LWlkOmVzLWtleS1zZWNyZXQ=';

export interface Fakes {
  slack: FakeSlack;
  pd: FakePagerDuty;
  mail: Awaited<ReturnType<typeof smtp>>;
  jira: FakeJira;
  es: FakeElasticsearch;
}

export function serviceConfig(f: Fakes, extra: string[] = []): string {
  return [
    'apiVersion: kubemend.dev/v1alpha1',
    'kind: Config',
    'spec:',
    '  server:',
    '    console: { room: ops, users: [{ name: alice, tokenEnv: ALICE_TOKEN }] }',
    '    slack:',
    '      rooms: { C0OPS: ops }',
    '      users: { U0ALICE: { name: alice }, U0BOB: { name: bob } }',
    '  chat:',
    '    defaultCluster: sandbox',
    '    approval: { groups: [sre-leads], timeout: 30m }',
    '    justification:',
    `      jira: { url: "${f.jira.url}", allowedStatuses: [Approved], tokenEnv: JIRA_TOKEN, minBackoff: 1s, maxBackoff: 5s }`,
    '  trace:',
    // The shortest cap the shipper's 1 s first back-off allows: an outage test counts retries, and each costs a second at most.
    `    elasticsearch: { url: "${f.es.url}", apiKeyEnv: ES_API_KEY, flushInterval: 1s, maxBackoff: 1s }`,
    '  incidents: { resolveAfter: 2m }',
    '  reload: { enabled: false }',
    '  notifications:',
    '    route:',
    '      receiver: ops-slack',
    '      routes:',
    '        - receiver: ops-slack',
    '          continue: true',
    '        - matchers: [\'severity="critical"\']',
    '          receiver: oncall-pagerduty',
    '          continue: true',
    '        - matchers: [\'kind="incident.opened"\']',
    '          receiver: oncall-mail',
    '          continue: true',
    '    receivers:',
    '      - name: ops-slack',
    '        slack: { channel: ops }',
    '      - name: oncall-pagerduty',
    `        pagerduty: { routingKeyEnv: PD_ROUTING_KEY, url: "${f.pd.url}" }`,
    '      - name: oncall-mail',
    '        events: [incident.opened]',
    '        email:',
    '          to: [oncall@example.com]',
    '          from: kubemend@example.com',
    `          smtp: { host: 127.0.0.1, port: ${f.mail.port}, userEnv: SMTP_USER, passwordEnv: SMTP_PASSWORD }`,
    '    delivery: { minBackoff: 1s, maxBackoff: 5s }',
    ...extra,
    '',
  ].join('\n');
}

export function serviceEnv(f: Fakes): NodeJS.ProcessEnv {
  return {
    SLACK_SIGNING_SECRET: SIGNING, SLACK_BOT_TOKEN: BOT, SLACK_API_URL: `${f.slack.url}/api/`,
    PD_ROUTING_KEY: PD_KEY, JIRA_TOKEN: JIRA_PAT, ES_API_KEY: ES_KEY, SMTP_USER: 'kubemend', SMTP_PASSWORD, ALICE_TOKEN: 'alice-acceptance-token',
  };
}

export async function startFakes(t: { after(f: () => unknown): void }): Promise<Fakes> {
  const slack = new FakeSlack(BOT);
  await slack.listen();
  const pd = await new FakePagerDuty().start();
  const mail = await smtp();
  const jira = await fakeJira({ 'OPS-1': 'Approved' }, { token: JIRA_PAT });
  const es = await FakeElasticsearch.start({ auth: `ApiKey ${ES_KEY}` });
  t.after(async () => { await slack.close(); await pd.stop(); await mail.close(); await jira.close(); await es.stop(); });
  return { slack, pd, mail, jira, es };
}

