// The Runs, Approvals and Audit views in Debian's Chromium on `kubemend serve
// --sandbox`: the crashloop scenario's bad-deploy run (with an approval step
// added; the bad deploy made once the page shows) waits for approval; bob approves it in the console and the approval
// lands in the audit log, shown in the Audit view; the run's step graph
// renders with its taken path. Screenshots of each view go to docs/images/.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { accessibilityProblems } from '../helpers/a11y.ts';
import { chromium, type BrowserContext } from 'playwright-core';
import { startServe } from '../helpers/serve-process.ts';
import { crashloopOnCue, deployBadRelease } from '../helpers/bad-deploy.ts';
import { runbooksWithApproval } from '../helpers/approval-runbooks.ts';

const CHROMIUM = '/usr/bin/chromium';
const FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const skip = existsSync(CHROMIUM) ? false : `needs Debian's Chromium at ${CHROMIUM} (apt-get install -y chromium)`;
// Screenshots go to a scratch directory, or — to refresh the docs' pictures — where KUBEMEND_SCREENSHOTS names
// (`KUBEMEND_SCREENSHOTS=docs/images npm test`), so a test run leaves the work tree as it found it.
const IMAGES = process.env.KUBEMEND_SCREENSHOTS ?? mkdtempSync(join(tmpdir(), 'kubemend-screenshots-'));
const BOB = 'bob-console-browser-token-0123456789';

test('console in Chromium: an approval granted in the Approvals view lands in the Audit view; the run\'s step graph shows the path taken', { skip, timeout: 300_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'km-console-runs-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const runbooks = runbooksWithApproval(dir);
  const config = join(dir, 'kubemend.yaml');
  writeFileSync(config, [
    'apiVersion: kubemend.dev/v1alpha1',
    'kind: Config',
    'spec:',
    `  runbooks: ${runbooks}`,
    '  server:',
    '    console: { room: ops, users: [{ name: bob, tokenEnv: BOB_TOKEN }] }',
    '  chat:',
    '    defaultCluster: sandbox',
    '    approval: { groups: [sre-leads], timeout: 30m }',
    '  reload: { enabled: false }',
    '',
  ].join('\n'));
  // 30x: the virtual minutes after the approval (the rollout, the smoke window) take seconds; the runbook's shortest step timeout, 1m, is still 2 s.
  // Serve and Chromium start together; each is stopped even if the other failed to start.
  const serving = startServe(['--sandbox', '--scenario', crashloopOnCue(dir), '--speed', '30', '--config', config, '--listen', '127.0.0.1:0', '--data-dir', join(dir, 'data')], { BOB_TOKEN: BOB });
  t.after(async () => (await serving.catch(() => undefined))?.stop());
  mkdirSync(IMAGES, { recursive: true });
  const launching = chromium.launchPersistentContext(join(dir, 'profile'), { executablePath: CHROMIUM, headless: true, args: FLAGS, viewport: { width: 1280, height: 900 } });
  t.after(async () => (await launching.catch(() => undefined))?.close());
  const [s, browser] = await Promise.all([serving, launching]) as [Awaited<typeof serving>, BrowserContext];
  const kubeconfig = (await s.waitFor(/export KUBECONFIG=(\S+)\)/, 'the sandbox kubeconfig'))[1];
  const page = browser.pages()[0] ?? await browser.newPage();
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('console', (m) => { if (m.type() === 'error' && !/status of 401/.test(m.text())) pageErrors.push(m.text()); });

  await page.goto(`${s.base}/console/`);
  await page.fill('#token', BOB);
  await page.click('#login button[type=submit]');
  await page.locator('#nav a[data-view="approvals"]').waitFor();

  // The page is open, with nothing waiting and its live stream on, before the bad deploy: the request appears live.
  await page.goto(`${s.base}/console/#/approvals`);
  await page.locator('#view p.muted', { hasText: 'No runbook step waits for approval here.' }).waitFor();
  await page.locator('#live[data-state="on"]').waitFor();
  await deployBadRelease(kubeconfig);
  const card = page.locator('article.approval');
  await card.waitFor({ timeout: 150_000 });
  assert.match(await card.locator('pre').first().textContent() ?? '', /roll back shop\/checkout/);
  assert.match(await card.textContent() ?? '', /Approvers\s*sre-leads/);
  await page.screenshot({ path: join(IMAGES, 'console-approvals.png'), fullPage: true });
  assert.deepEqual(await accessibilityProblems(page), [], 'console-approvals: accessibility');

  await card.getByLabel('Reason').fill('the rollout broke checkout; rolling back is safe');
  await card.getByRole('button', { name: 'Approve' }).press('Enter');
  await page.locator('article.approval .result.ok', { hasText: 'approved by bob' }).waitFor();
  await s.waitFor(/run \w+ bad-deploy succeeded/, 'the run to finish after the approval', 120_000);

  await page.goto(`${s.base}/console/#/audit?action=runbook.approval.approved`);
  const row = page.locator('#view table tbody tr', { hasText: 'runbook.approval.approved' });
  await row.waitFor();
  assert.match(await row.textContent() ?? '', /user bob/);
  await page.locator('.chain .badge.succeeded', { hasText: 'chain verified' }).waitFor();
  await page.goto(`${s.base}/console/#/audit`);
  // The unfiltered log (a hash change re-renders in place: wait for rows the filtered page did not have).
  await page.locator('#view table tbody tr').filter({ hasNotText: 'runbook.approval.approved' }).first().waitFor();
  await page.locator('.chain .badge').first().waitFor();
  await page.screenshot({ path: join(IMAGES, 'console-audit.png') });
  assert.deepEqual(await accessibilityProblems(page), [], 'console-audit: accessibility');
  await page.goto(`${s.base}/console/#/audit?action=runbook.approval.approved`);
  await row.locator('a').first().click();
  await page.locator('h2', { hasText: 'runbook.approval.approved' }).waitFor();
  assert.match(await page.locator('pre.record').textContent() ?? '', /the rollout broke checkout; rolling back is safe/);

  await page.goto(`${s.base}/console/#/runs?runbook=bad-deploy`);
  const runLink = page.locator('#view table tbody tr', { hasText: 'succeeded' }).locator('a').first();
  await runLink.waitFor();
  await page.screenshot({ path: join(IMAGES, 'console-runs-list.png') });
  assert.deepEqual(await accessibilityProblems(page), [], 'console-runs-list: accessibility');
  await runLink.click();
  await page.locator('figure.graph svg').waitFor();
  const taken = await page.locator('svg g.edge.taken').evaluateAll((els) => els.map((e) => e.getAttribute('data-edge')));
  assert.deepEqual(taken, ['collect>approve', 'approve>rollback', 'rollback>waitRollout', 'waitRollout>smokeCheck', 'smokeCheck>notify', 'notify>end'].filter((e) => taken.includes(e)), 'in the graph\'s order');
  for (const e of ['approve>rollback', 'rollback>waitRollout', 'notify>end']) assert.ok(taken.includes(e), `${e} is highlighted: ${taken}`);
  assert.equal(await page.locator('svg g.node.end.reached').count(), 1);
  assert.equal(await page.locator('svg g.node.escalate.reached').count(), 0);
  const steps = await page.locator('ol.steps li').allTextContents();
  assert.ok(steps.some((l) => /^approve \(approval\): succeeded/.test(l)), steps.join('\n'));
  assert.match(await page.locator('svg desc').textContent() ?? '', /The list below says the same in words/);
  await page.screenshot({ path: join(IMAGES, 'console-runs.png'), fullPage: true });
  assert.deepEqual(await accessibilityProblems(page), [], 'console-runs: accessibility');
  assert.deepEqual(pageErrors, []);
});
