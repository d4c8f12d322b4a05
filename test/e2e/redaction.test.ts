// Issue 11, item 2: no credential reaches what kubemend keeps. A corpus of
// real-looking secrets (test/helpers/secret-corpus.ts) is printed by a
// crash-looping container, quoted in Events, held by a Secret the pod mounts
// and in a literal env var, configured as a webhook token, and pasted into
// chat reasons. The shipped rules and runbooks run on the sandbox into a
// SQLite store; then the whole database file (every byte, WAL included) and
// `kubemend audit export` from the real CLI are searched for every value.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openStore } from '../../src/store/index.ts';
import type { SqliteDb } from '../../src/store/sqlite.ts';
import { loadRules } from '../../src/rules/loader.ts';
import { loadRunbooks } from '../../src/runbooks/loader.ts';
import { ACTIONS } from '../../src/runbooks/actions/index.ts';
import { ScenarioSession } from '../../src/pipeline/index.ts';
import { resolveScenario } from '../../src/sandbox/scenarios/index.ts';
import { resolveWebhooks, WebhooksConfigSchema } from '../../src/server/webhook-config.ts';
import { k8sTime } from '../../src/common/clock.ts';
import { CONFIGURED_TOKEN, KNOWN_VALUE_CASES, MOUNTED_SECRET, SECRET_CASES } from '../helpers/secret-corpus.ts';
import { chatFixture, LINK as ALERT } from '../chat/fixture.ts';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const BIN = here('../../bin/kubemend.js');
const b64 = (s: string) => Buffer.from(s).toString('base64');

/** A literal env value under a secret-looking name: learnt from the pod spec collect already reads. */
const LITERAL_ENV = 'lit-Env-Value-5521';
const LITERAL_LINE = `warming caches with ${LITERAL_ENV} (attempt 2)`;

/** Every value that must appear nowhere, each with the case it comes from. */
const FORBIDDEN: { id: string; value: string }[] = [
  ...[...SECRET_CASES, ...KNOWN_VALUE_CASES].flatMap((c) => c.secrets.map((value) => ({ id: c.id, value }))),
  { id: 'literal-env', value: LITERAL_ENV },
];

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = { ...process.env };
  for (const k of ['KUBEMEND_DB', 'KUBEMEND_HOME', 'KUBEMEND_AUDIT_KEY', 'KUBEMEND_AUDIT_RETENTION']) delete env[k];
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

/** Every byte of every file of the store's directory (the database, its WAL), as text to search. */
function bytesOf(dir: string): string {
  return readdirSync(dir).filter((f) => f.startsWith('kubemend.db')).map((f) => readFileSync(join(dir, f)).toString('latin1')).join('\n');
}

function assertNoSecret(where: string, text: string): void {
  const found = FORBIDDEN.filter((f) => text.includes(f.value));
  assert.deepEqual(found, [], `${where} holds secrets`);
}

/** The shipped runbooks, with bad-deploy's collect step opting in to reading the mounted Secrets. */
function runbooksReadingSecrets(): ReturnType<typeof loadRunbooks> {
  const dir = mkdtempSync(join(tmpdir(), 'km-runbooks-'));
  cpSync(here('../../runbooks'), dir, { recursive: true });
  const file = join(dir, 'bad-deploy.yaml');
  const text = readFileSync(file, 'utf8');
  assert.match(text, /logTail: 50 \}/);
  writeFileSync(file, text.replace('logTail: 50 }', 'logTail: 50, readSecrets: true }'));
  return loadRunbooks(dir, { actions: ACTIONS });
}

/** crashloop, with the bad version printing the corpus, a Secret it mounts, a literal secret env var and Events quoting secrets. */
function leakyCrashloop() {
  const scenario = structuredClone(resolveScenario('crashloop').scenario) as any;
  const bad = scenario.spec.images['shop/checkout:1.5.0'];
  bad.logs = [...SECRET_CASES.map((c) => c.line), ...KNOWN_VALUE_CASES.map((c) => c.line), LITERAL_LINE, ...(bad.logs ?? [])];
  const first = scenario.spec.steps[0];
  const dep = first.apply.find((o: any) => o.kind === 'Deployment');
  dep.spec.template.spec.containers[0].env = [
    { name: 'SESSION_SEED', valueFrom: { secretKeyRef: { name: 'checkout-creds', key: 'session-seed' } } },
    { name: 'CACHE_TOKEN', value: LITERAL_ENV },
  ];
  first.apply.splice(1, 0, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'checkout-creds', namespace: 'shop' }, type: 'Opaque', data: { 'session-seed': b64(MOUNTED_SECRET) } });
  const quoted = SECRET_CASES.filter((c) => !c.line.includes('\n')).map((c) => c.line).join(' | ');
  const event = (name: string, kind: string, obj: string, reason: string) => ({
    apiVersion: 'v1', kind: 'Event', metadata: { name, namespace: 'shop' },
    involvedObject: { kind, namespace: 'shop', name: obj }, type: 'Warning', reason, count: 1,
    message: `${reason}: ${quoted}`, source: { component: 'kubelet' },
  });
  scenario.spec.steps.push({
    at: 30_000,
    name: 'Events quote the secrets',
    apply: [event('checkout.leak', 'Deployment', 'checkout', 'ConfigCheckFailed'), event('checkout-evicted.leak', 'Pod', 'checkout-gone', 'Evicted')],
  });
  return scenario;
}

test('the shipped rules and runbooks on the sandbox: nothing in the database file or the audit export holds a secret', { timeout: 240_000 }, async () => {
  assert.ok(FORBIDDEN.length >= 25, `${FORBIDDEN.length} values`);
  // The service reads its webhook token from the environment at start.
  assert.deepEqual(resolveWebhooks(WebhooksConfigSchema.parse({ generic: { deploys: { bearerTokenEnv: 'DEPLOYS_TOKEN' } } }), { DEPLOYS_TOKEN: CONFIGURED_TOKEN }).problems, []);
  const dataDir = mkdtempSync(join(tmpdir(), 'km-redaction-'));
  const store = await openStore({ dataDir });
  const s = await ScenarioSession.start({ scenario: leakyCrashloop(), rules: loadRules(here('../../rules')), runbooks: runbooksReadingSecrets(), store, incidents: {} });
  try {
    await s.runToEnd();
    const run = (await store.listRuns({})).find((r) => r.runbook === 'bad-deploy');
    assert.ok(run, 'bad-deploy ran');
    const collect = (run.outputs.collect as any).outputs;
    // Not vacuous: the tails were read, the Secret was read, and the masks are there.
    assert.deepEqual([collect.secretsRead, collect.secretsUnread], [['checkout-creds'], []]);
    const lines: string[] = collect.evidence.logs.flatMap((l: any) => l.lines);
    assert.ok(lines.includes('checkout 1.5.0 starting'), JSON.stringify(lines));
    assert.ok(lines.includes('seeding sessions from [redacted] (restart 3)'), 'the mounted value is masked in the log');
    assert.ok(lines.includes('warming caches with [redacted] (attempt 2)'), 'the literal env value is masked in the log');
    assert.ok(lines.includes('forwarding alerts with [redacted] to the pager'), 'the configured token is masked in the log');
    assert.ok(lines.filter((l) => l.includes('[redacted]')).length >= FORBIDDEN.length / 2, JSON.stringify(lines));
    assert.ok(collect.evidence.events.some((e: any) => e.reason === 'ConfigCheckFailed' && e.message.includes('DB_PASSWORD=[redacted]')), `collected Events are masked: ${JSON.stringify(collect.evidence.events)}`);
    const transitions = await store.transitions(run.id);
    assert.ok(transitions.some((t) => t.stepId === 'collect' && t.status === 'succeeded'));
    const evicted = (await store.listDetections({})).find((d) => d.rule === 'pod-evicted');
    assert.ok(evicted, 'the Evicted Event became a detection');
    assert.match(evicted.summary, /DB_PASSWORD=\[redacted\]/);

    const incidents = await store.listIncidents({});
    assert.ok(JSON.stringify(incidents).includes('ConfigCheckFailed'), `the incident kept the Event as an observation: ${JSON.stringify(incidents).slice(0, 2000)}`);
    for (const [where, value] of [['runs', await store.listRuns({})], ['transitions', transitions], ['detections', await store.listDetections({})], ['incidents', incidents], ['audit', await store.audit.list()]] as const) {
      assert.ok((value as unknown[]).length > 0, `${where} is not empty`);
      assertNoSecret(where, JSON.stringify(value));
    }
    assert.equal((await store.audit.verify()).ok, true);
  } finally {
    await s.stop();
    await store.close();
  }

  const bytes = bytesOf(dataDir);
  assert.ok(bytes.includes('checkout 1.5.0 starting') && bytes.includes('[redacted]'), 'the file holds the evidence, masked');
  assertNoSecret('the SQLite file', bytes);
  const exported = await cli(['audit', 'export', '--data-dir', dataDir]);
  assert.equal(exported.code, 0, exported.stderr);
  assert.ok(exported.stdout.split('\n').filter(Boolean).length > 10);
  assert.ok(exported.stdout.includes('runbook.step.succeeded') && exported.stdout.includes('[redacted]'));
  assertNoSecret('audit export', exported.stdout);
});

test('chat: reasons, confirmations, status replies and Events shown in chat, and the stored requests, hold no secret', { timeout: 120_000 }, async () => {
  const f = await chatFixture();
  try {
    const now = k8sTime(f.sandbox.clock.now());
    const oneLine = SECRET_CASES.filter((c) => !c.line.includes('\n'));
    f.sandbox.apply([{
      apiVersion: 'v1', kind: 'Event', metadata: { name: 'web.leak', namespace: 'shop' },
      involvedObject: { kind: 'Deployment', namespace: 'shop', name: 'web', apiVersion: 'apps/v1' },
      type: 'Warning', reason: 'ConfigCheckFailed', count: 1, firstTimestamp: now, lastTimestamp: now,
      message: oneLine.map((c) => c.line).join(' | '), source: { component: 'config-checker' },
    }]);
    const replies = [];
    const status = await f.say('alice', `status deployment/web -n shop --reason "checking after the alert" --link ${ALERT}`);
    assert.match(status[0].text, /ConfigCheckFailed/);
    replies.push(...status);
    // Each credential pasted into a reason, as its own request; quotes inside would end the argument.
    for (const c of oneLine) {
      const reason = c.line.replaceAll('"', "'");
      const shown = await f.say('alice', `scale deployment/web -n shop --replicas 4 --reason "rotate: ${reason}" --link ${ALERT}`);
      assert.ok(shown.some((r) => /scale deployment shop\/web/.test(r.text)), `${c.id}: ${JSON.stringify(shown)}`);
      replies.push(...shown);
    }
    const last = replies.at(-1)!;
    replies.push(...(await f.say('alice', `confirm ${f.idOf([last])}`)));
    await f.waitAsync(/ done: | failed: /);
    replies.push(...f.async);
    assertNoSecret('chat replies', JSON.stringify(replies));
    const requests = await f.store.listChatRequests({});
    assert.ok(requests.length >= oneLine.length, `${requests.length} requests`);
    assert.ok(JSON.stringify(requests).includes('[redacted]'));
    assertNoSecret('chat requests', JSON.stringify(requests));
    assertNoSecret('audit', JSON.stringify(await f.store.audit.list()));
  } finally {
    await f.close();
  }
  const dir = dirname((f.store.sql as SqliteDb).path);
  assertNoSecret('the SQLite file', bytesOf(dir));
  const exported = await cli(['audit', 'export', '--data-dir', dir]);
  assert.equal(exported.code, 0, exported.stderr);
  assert.ok(exported.stdout.includes('chat.scale.'), exported.stdout.slice(0, 500));
  assertNoSecret('audit export', exported.stdout);
});
