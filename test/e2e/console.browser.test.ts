// The web console in a real browser: Debian's Chromium driven by
// playwright-core signs in, types commands, presses a button and watches the
// async result arrive over Server-Sent Events; replies carrying markup must
// show as text.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { createApp } from '../../src/server/app.ts';
import { HELP, ScriptedEngine } from '../chat/adapters/scripted-engine.ts';

const CHROMIUM = '/usr/bin/chromium';
const TOKEN = 'alice-browser-token-0123456789';
const FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const skip = existsSync(CHROMIUM) ? false : `needs Debian's Chromium at ${CHROMIUM} (apt-get install -y chromium)`;

test('console in Chromium: sign in, help, confirm with a button, async result, markup shown as text', { skip, timeout: 60_000 }, async () => {
  const engine = new ScriptedEngine();
  const server = await createApp({ engine, console: { users: [{ name: 'alice', groups: ['sre'], token: TOKEN }] } });
  await server.app.listen({ host: '127.0.0.1', port: 0 });
  const base = `http://127.0.0.1:${(server.app.server.address() as { port: number }).port}`;
  const profile = mkdtempSync(join(tmpdir(), 'kubemend-chromium-'));
  let browser: BrowserContext | undefined;
  try {
    // A persistent context is how Playwright takes a fresh --user-data-dir.
    browser = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: FLAGS });
    const page = browser.pages()[0] ?? await browser.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    // The 401s are the page asking who is signed in, and the wrong token: expected.
    page.on('console', (m) => { if (m.type() === 'error' && !/status of 401/.test(m.text())) pageErrors.push(m.text()); });

    await page.goto(`${base}/console`);
    assert.equal(page.url(), `${base}/console/`);
    await page.locator('#login').waitFor();

    await page.fill('#token', 'not-a-token');
    await page.click('#login button[type=submit]');
    await page.locator('#login-error', { hasText: 'unknown access token' }).waitFor();

    await page.fill('#token', TOKEN);
    await page.click('#login button[type=submit]');
    await page.locator('#chat').waitFor();
    // A server without the service's views (no consoleServices) offers chat alone, at #/chat; `serve` opens on #/incidents.
    assert.match(page.url(), /#\/chat$/);
    assert.ok(await page.locator('#nav').isHidden(), 'no navigation with one view');
    assert.equal(await page.textContent('#who'), 'alice');
    await page.locator('#live[data-state="on"]').waitFor();

    await page.fill('#input', 'help');
    await page.press('#input', 'Enter');
    await page.locator('#log li.bot pre', { hasText: HELP }).waitFor();

    await page.fill('#input', 'restart deployment/web -n shop');
    await page.press('#input', 'Enter');
    const question = page.locator('#log li.bot', { hasText: 'Restart deployment/web -n shop?' });
    await question.waitFor();
    await question.locator('button', { hasText: 'Confirm' }).click();
    await page.locator('#log li.bot pre', { hasText: 'Restarting deployment/web -n shop…' }).waitFor();
    await page.locator('#log li.bot.async pre', { hasText: 'restarted deployment/web -n shop for alice' }).waitFor();
    assert.ok(await question.locator('button', { hasText: 'Cancel' }).isDisabled(), 'a question is answered once');
    assert.deepEqual(engine.received.map((m) => [m.room, m.user.name, m.text]), [
      ['console', 'alice', 'help'],
      ['console', 'alice', 'restart deployment/web -n shop'],
      ['console', 'alice', 'confirm r1'],
    ]);

    const evil = '<script>window.__xss = 1</script><img src=x onerror="window.__xss = 2"> & <b>bold</b>';
    await page.fill('#input', `echo ${evil}`);
    await page.press('#input', 'Enter');
    await page.locator('#log li.bot pre', { hasText: '<script>window.__xss = 1</script>' }).waitFor();
    engine.emit({ room: 'console', text: `live ${evil}`, buttons: [{ label: '<i>press</i>', value: 'help' }], mention: ['<u>sre</u>'] });
    await page.locator('#log li.bot.async pre', { hasText: `live ${evil}` }).waitFor();
    const texts = await page.locator('#log li.bot pre').allTextContents();
    assert.ok(texts.includes(evil), 'the reply is shown character for character');
    assert.equal(await page.locator('#log img, #log script, #log b, #log i, #log u').count(), 0, 'no element was created from reply text');
    assert.equal(await page.locator('#log button', { hasText: '<i>press</i>' }).count(), 1);
    assert.equal(await page.locator('#log .mention', { hasText: '@<u>sre</u>' }).count(), 1);
    assert.equal(await page.evaluate('window.__xss'), undefined, 'no script from a reply ran');

    await page.screenshot({ path: process.env.KUBEMEND_SCREENSHOT ?? join(profile, 'console.png') });
    await page.click('#logout');
    await page.locator('#login').waitFor();
    assert.deepEqual(pageErrors, []);
  } finally {
    await browser?.close();
    await server.app.close();
    rmSync(profile, { recursive: true, force: true });
  }
});
