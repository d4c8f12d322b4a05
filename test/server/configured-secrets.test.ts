// Every credential kubemend reads from its environment is told to the
// process's redactor where it is read, so it is masked in any text the
// process later keeps or shows (a log tail that prints it, a chat reply, an
// audit record), even in a shape no pattern recognises.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { redactor } from '../../src/common/redact.ts';
import { resolveAdapters, ServerSpecSchema } from '../../src/server/serve-config.ts';
import { resolveWebhooks, webhookRoutes, WebhooksConfigSchema } from '../../src/server/webhook-config.ts';
import { ticketChecker } from '../../src/chat/wiring.ts';
import { chatSettings } from '../../src/chat/settings.ts';
import { openStore } from '../../src/store/index.ts';

/** Shapes no pattern knows: only being told makes them masked. */
const VALUES = {
  SLACK_SIGNING_SECRET: 'slk-sign-Qx7Lm2Np9Rs4',
  SLACK_BOT_TOKEN: 'slk-bot-Zt5Kw8Hy3Jd6',
  MATTERMOST_TOKEN: 'mm-bot-Ab3Cd5Ef7Gh9',
  MATTERMOST_COMMAND_TOKEN: 'mm-cmd-one-Pq2Rs4, mm-cmd-two-Tu6Vw8',
  CONSOLE_ALICE: 'console-alice-Xy1Za3',
  HOOK_BEARER: 'hook-bearer-Bc4De6Fg',
  HOOK_HMAC: 'hook-hmac-Hi7Jk9Lm',
  AM_BEARER: 'am-bearer-No1Pq3Rs',
  JIRA_TOKEN: 'jira-pat-Tu5Vw7Xy',
  JIRA_USER: 'svc-kubemend',
};
const LISTEN_TOKEN = 'listen-token-Za2Yb4Xc';

const leaks = (values: string[]) => values.filter((v) => redactor.redact(`printed ${v} here`).includes(v));

test('tokens read from the environment are masked everywhere from then on', async () => {
  const all = [...Object.entries(VALUES).filter(([k]) => k !== 'JIRA_USER' && k !== 'MATTERMOST_COMMAND_TOKEN').map(([, v]) => v), 'mm-cmd-one-Pq2Rs4', 'mm-cmd-two-Tu6Vw8', LISTEN_TOKEN];
  assert.deepEqual(leaks(all), all, 'nothing is masked before the configuration is read');

  const spec = ServerSpecSchema.parse({ console: { enabled: true, users: [{ name: 'alice', groups: ['sre'], tokenEnv: 'CONSOLE_ALICE' }] } });
  const adapters = resolveAdapters(spec, { ...VALUES, MATTERMOST_URL: 'https://chat.example.com', KUBEMEND_PUBLIC_URL: 'https://km.example.com' });
  assert.deepEqual(adapters.problems, []);
  const hooks = resolveWebhooks(WebhooksConfigSchema.parse({ alertmanager: { bearerTokenEnv: 'AM_BEARER' }, generic: { deploys: { bearerTokenEnv: 'HOOK_BEARER', secretEnv: 'HOOK_HMAC' } } }), VALUES);
  assert.deepEqual(hooks.problems, []);
  webhookRoutes({ bearerToken: LISTEN_TOKEN });
  const settings = chatSettings({ defaultCluster: 'sandbox', justification: { jira: { url: 'https://jira.example.com', tokenEnv: 'JIRA_TOKEN', userEnv: 'JIRA_USER' } } });
  assert.ok(ticketChecker(settings, VALUES));

  assert.deepEqual(leaks(all), []);
  const basic = Buffer.from(`${VALUES.JIRA_USER}:${VALUES.JIRA_TOKEN}`).toString('base64');
  assert.equal(redactor.redact(`GET /rest/api/2/issue/OPS-1 with ${basic}`), 'GET /rest/api/2/issue/OPS-1 with [redacted]');
  assert.equal(redactor.redact('user svc-kubemend'), 'user svc-kubemend', 'a user name is not a secret');
});

test('the password of the PostgreSQL URL the store opens is masked', { timeout: 60_000 }, async () => {
  const password = 'pg-Pass-Qw3Er5Ty7';
  assert.deepEqual(leaks([password]), [password]);
  // Nothing listens there: the connection fails, but the URL was read first.
  await openStore({ db: `postgres://kubemend:${password}@127.0.0.1:1/kubemend`, postgres: { connectTimeoutMs: 500 } }).catch(() => {});
  assert.deepEqual(leaks([password]), []);
});
