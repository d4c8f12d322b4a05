// The console's Incidents, Detections, Silences and Changes views in Debian's
// Chromium (playwright-core) on `kubemend serve --sandbox --scenario
// crashloop` (its bad deploy made once the list shows): the demo's incident
// appears in the open list without a reload,
// its detail shows the correlated timeline; a silence created from a
// detection's page suppresses the next matching detection (a new crash-looping
// Deployment created with kubectl), and both are in the audit log. Each view's
// screenshot goes to docs/images/console-<view>.png (the README shows one).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { startServe, type ServeProcess } from '../helpers/serve-process.ts';
import { crashloopOnCue, deployBadRelease } from '../helpers/bad-deploy.ts';
import { accessibilityProblems, tabOrder } from '../helpers/a11y.ts';

const CHROMIUM = '/usr/bin/chromium';
const KUBECTL = '/usr/bin/kubectl';
const FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const BIN = fileURLToPath(new URL('../../bin/kubemend.js', import.meta.url));
// Screenshots go to a scratch directory, or — to refresh the docs' pictures — where KUBEMEND_SCREENSHOTS names
// (`KUBEMEND_SCREENSHOTS=docs/images npm test`), so a test run leaves the work tree as it found it.
const IMAGES = process.env.KUBEMEND_SCREENSHOTS ?? mkdtempSync(join(tmpdir(), 'kubemend-screenshots-'));
const skip = !existsSync(CHROMIUM) ? `needs Debian's Chromium at ${CHROMIUM}` : !existsSync(KUBECTL) ? `needs kubectl at ${KUBECTL}` : false;

/** A screenshot of the view, and its accessibility checked as it stands (labels, names, AA contrast). */
async function shot(page: Page, view: string) {
  mkdirSync(IMAGES, { recursive: true });
  await page.screenshot({ path: join(IMAGES, `console-${view}.png`) });
  assert.deepEqual(await accessibilityProblems(page), [], `the ${view} view's accessibility`);
}

test('console views in Chromium: the demo incident arrives live with its timeline; a silence made from a detection suppresses the next one', { skip, timeout: 300_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kubemend-views-'));
  let browser: BrowserContext | undefined;
  let s: ServeProcess | undefined;
  try {
    // Chromium and serve start together. The page must be showing the list before the bad deploy, which the test makes
    // then; 30x makes the virtual minutes after it (the crash loop, the rollback, the canary's crash loop) take seconds,
    // and leaves the runbook's shortest step timeout (1m) 2 s of real time.
    const launching = chromium.launchPersistentContext(join(dir, 'profile'), { executablePath: CHROMIUM, headless: true, args: FLAGS, viewport: { width: 1280, height: 860 } });
    const serving = startServe(['--sandbox', '--scenario', crashloopOnCue(dir), '--speed', '30', '--listen', '127.0.0.1:0', '--data-dir', join(dir, 'data')]);
    // Both settle before either failure is thrown, so the finally below stops whichever did start.
    const [launched, served] = await Promise.allSettled([launching, serving]);
    browser = launched.status === 'fulfilled' ? launched.value : undefined;
    s = served.status === 'fulfilled' ? served.value : undefined;
    if (!browser || !s) throw [launched, served].map((r) => (r.status === 'rejected' ? r.reason : undefined)).find(Boolean);
    const page = browser.pages()[0] ?? await browser.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    page.on('console', (m) => { if (m.type() === 'error' && !/status of 401/.test(m.text())) pageErrors.push(m.text()); });

    const token = (await s.waitFor(/sign in as alice with the token (\S+)/, 'the one-time token'))[1];
    const kubeconfig = (await s.waitFor(/export KUBECONFIG=(\S+)\)/, 'the sandbox kubeconfig'))[1];

    await page.goto(`${s.base}/console/`);
    await page.fill('#token', token);
    await page.click('#login button[type=submit]');
    await page.locator('#view h2', { hasText: 'Incidents' }).waitFor();
    assert.match(page.url(), /#\/incidents$/, 'incidents is the default view');
    await page.locator('#live[data-state="on"]').waitFor();
    await page.locator('#view td.empty').waitFor();
    assert.doesNotMatch(s.output(), /incident opened/, 'the list was shown before the incident opened (else this proves nothing)');
    await page.evaluate('window.__sameDocument = 1');
    await deployBadRelease(kubeconfig);

    const row = page.locator('#view tbody a', { hasText: 'crashloop-backoff on deployment/shop/checkout' });
    await row.waitFor({ timeout: 120_000 });
    assert.equal(await page.evaluate('window.__sameDocument'), 1, 'it arrived without a reload');
    await shot(page, 'incidents');
    // The dark scheme too (the page follows the system's).
    await page.emulateMedia({ colorScheme: 'dark' });
    assert.deepEqual(await accessibilityProblems(page), [], 'the incidents view in the dark scheme');
    await page.emulateMedia({ colorScheme: 'light' });
    // Keyboard: from the title, Tab walks the navigation in order, then sign-out, then the view's own controls;
    // the skip link comes before them all and takes the focus to the view.
    const order = await tabOrder(page, 12);
    assert.deepEqual(order.slice(0, 9), ['a Incidents', 'a Detections', 'a Runs', 'a Approvals', 'a Silences', 'a Changes', 'a Audit', 'a Chat', 'button Sign out'], order.join(' | '));
    assert.ok(order.includes('button Filter'), `Tab reaches the view's controls: ${order.join(' | ')}`);
    await page.focus('#nav a');
    await page.keyboard.press('Shift+Tab');
    assert.equal(await page.evaluate('document.activeElement.textContent'), 'Skip to content');
    await page.keyboard.press('Enter');
    assert.equal(await page.evaluate('document.activeElement.id'), 'view', 'the skip link moves the focus to the view');

    await row.click();
    await page.locator('.timeline li.tl-detection', { hasText: 'crashloop-backoff [critical] on deployment/shop/checkout' }).waitFor();
    await page.locator('.timeline li.tl-change', { hasText: 'shop/checkout:1.4.2 → shop/checkout:1.5.0' }).waitFor();
    // The rollback run and its steps join the timeline live as they happen.
    await page.locator('.timeline li.tl-step', { hasText: 'bad-deploy/rollback: succeeded' }).waitFor({ timeout: 120_000 });
    await page.click('#inc-ack');
    await page.locator('.status.ok', { hasText: 'acknowledged by alice' }).waitFor();
    await page.locator('.postmortem', { hasText: 'Post-mortem (draft)' }).waitFor();
    await shot(page, 'incident');

    await page.goto(`${s.base}/console/#/detections?rule=crashloop-backoff`);
    const det = page.locator('#view tbody tr', { hasText: 'deployment/shop/checkout' }).first();
    await det.waitFor();
    await shot(page, 'detections');
    await det.locator('a', { hasText: 'Silence…' }).click();
    await page.locator('.silence-form').waitFor();
    assert.ok(await page.isChecked('#m-rule') && await page.isChecked('#m-namespace') && !(await page.isChecked('#m-name')), 'rule, cluster and namespace proposed; not the object');
    await page.fill('#silence-comment', 'OPS-9 the canary is known bad');
    await shot(page, 'detection');
    await page.click('.silence-form button[type=submit]');
    await page.locator('#view tr.marked', { hasText: 'rule="crashloop-backoff"' }).waitFor();
    await shot(page, 'silences');
    await s.waitFor(/silences: 1 active \(from the store\)/, 'the service to pick the silence up', 60_000);

    execFileSync(KUBECTL, ['--kubeconfig', kubeconfig, 'create', 'deployment', 'checkout-canary', '--image=shop/checkout:1.5.0', '-n', 'shop']);
    await s.waitFor(/detection silenced: crashloop-backoff deployment\/shop\/checkout-canary/, 'the next crash loop detected as silenced', 180_000);
    await page.goto(`${s.base}/console/#/detections?status=silenced`);
    await page.locator('#view tbody tr', { hasText: 'deployment/shop/checkout-canary' }).locator('td', { hasText: /^silenced by [0-9a-f]{8}$/ }).waitFor();

    await page.goto(`${s.base}/console/#/changes?namespace=shop`);
    await page.locator('#view tbody tr', { hasText: 'shop/checkout:1.5.0' }).first().waitFor();
    await shot(page, 'changes');

    // One read of the whole log through the CLI (a process start each costs a second of CPU); the CLI's --action filter has its own tests.
    const log = JSON.parse(execFileSync(process.execPath, [BIN, 'audit', 'list', '--limit', '100000', '--json', '--data-dir', join(dir, 'data')], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 })) as { action: string; actor: { name: string }; data: { silenceId?: string } }[];
    const audit = (action: string) => log.filter((r) => r.action === action);
    const [created] = audit('silence.created');
    assert.equal(created.actor.name, 'alice');
    assert.ok(audit('detection.silenced').some((r) => (r.data as { silencedBy?: string }).silencedBy === created.data.silenceId), 'the suppression is audited with the silence');
    assert.ok(audit('incident.acknowledged').some((r) => r.actor.name === 'alice'));
    assert.deepEqual(pageErrors, []);
  } finally {
    await browser?.close();
    await s?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
