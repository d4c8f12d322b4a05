// How fast the console paints with 1,000 detections (issue 17's bar: first
// paint under 200 ms locally). Not a test: a timing on a shared machine is a
// figure to read with its load average, not a pass/fail line.
//
//   ./node_modules/.bin/node scripts/console-paint.ts [--rounds 7] [--detections 1000]
//
// Seeds a fresh data directory with N detections (and 50 incidents) spread
// over 20 namespaces, starts `kubemend serve --sandbox` on it, signs in once
// in Debian's Chromium (playwright-core), then loads each view cold (a new
// page, the HTTP cache off) and reports, per view, the median and worst of:
// first contentful paint, and "rows": when the first page of the list is in
// the DOM and painted (the next animation frame).
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';
import { openStore, type Detection, type IncidentRecord } from '../src/store/index.ts';
import { startServe } from '../test/helpers/serve-process.ts';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '7' }, detections: { type: 'string', default: '1000' } } });
const ROUNDS = Number(values.rounds);
const N = Number(values.detections);

const dir = mkdtempSync(join(tmpdir(), 'kubemend-paint-'));
const data = join(dir, 'data');
const store = await openStore({ dataDir: data });
const now = Date.now();
for (let i = 0; i < N; i++) {
  const ns = `team-${i % 20}`;
  const subject = { cluster: 'sandbox', kind: 'Pod', namespace: ns, name: `web-${i}` };
  const d: Detection = {
    id: `seed-${String(i).padStart(5, '0')}`, rule: ['crashloop-backoff', 'oom-killed', 'pending-too-long'][i % 3], cluster: 'sandbox', subject, fingerprint: `fp-${i}`,
    severity: i % 7 === 0 ? 'critical' : 'warning', summary: `pod ${ns}/web-${i} is unwell`, labels: { rule: 'crashloop-backoff', cluster: 'sandbox', namespace: ns, kind: 'Pod', name: subject.name, severity: 'warning' },
    firstSeen: now - i * 60_000 - 1000, lastSeen: now - i * 60_000, count: 1 + (i % 5), status: i % 4 === 0 ? 'resolved' : 'open', notifications: 0,
    evidence: [{ time: now - i * 60_000, type: 'event', summary: 'Back-off restarting failed container', event: { reason: 'BackOff', message: 'Back-off restarting failed container web', type: 'Warning', count: 3, involvedObject: `Pod/${ns}/web-${i}` } }],
  };
  await store.putDetection(d);
}
for (let i = 0; i < 50; i++) {
  const ns = `team-${i % 20}`;
  const inc: IncidentRecord = {
    id: `inc-seed-${i}`, title: `crashloop-backoff on deployment/${ns}/web`, cluster: 'sandbox', status: i % 3 ? 'open' : 'acknowledged', severity: 'critical', openedAt: now - i * 600_000, detectionIds: [`seed-${i}`],
    data: { version: 1, lastActivityAt: now, entities: [`ns:${ns}`, `workload:Deployment/${ns}/web`], detections: [], changes: [], observations: [], placements: [], guardrails: [], guardrailsSkipped: [] },
  };
  await store.putIncident(inc);
}
await store.close();

const serve = await startServe(['--sandbox', '--scenario', 'crashloop', '--listen', '127.0.0.1:0', '--data-dir', data]);
const token = (await serve.waitFor(/sign in as alice with the token (\S+)/, 'the token'))[1];
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu'] });
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  const login = await context.newPage();
  await login.goto(`${serve.base}/console/`);
  await login.fill('#token', token);
  await login.click('#login button[type=submit]');
  await login.locator('#view tbody tr').first().waitFor();
  await login.close();

  // Stamps, in the page, the frame after the first list row is in the DOM (a poll from here would add its own delay).
  await context.addInitScript(`new MutationObserver((_, o) => {
    if (!document.querySelector('#view tbody tr')) return;
    o.disconnect();
    requestAnimationFrame(() => { window.__rows = performance.now(); });
  }).observe(document, { childList: true, subtree: true });`);
  const results: Record<string, { fcp: number[]; rows: number[] }> = {};
  for (const view of ['incidents', 'detections', 'detections?severity=critical']) {
    results[view] = { fcp: [], rows: [] };
    for (let r = 0; r < ROUNDS; r++) {
      const page = await context.newPage();
      const cdp = await context.newCDPSession(page);
      await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
      await page.goto(`${serve.base}/console/#/${view}`);
      await page.locator('#view tbody tr').first().waitFor();
      await page.waitForFunction('window.__rows !== undefined');
      const t = await page.evaluate(`({ fcp: performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? NaN, rows: window.__rows })`) as { fcp: number; rows: number };
      results[view].fcp.push(t.fcp);
      results[view].rows.push(t.rows);
      await page.close();
    }
  }
  const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const max = (xs: number[]) => Math.max(...xs);
  console.log(`console first paint, ${N} detections, ${ROUNDS} cold loads per view; load average ${loadavg().map((x) => x.toFixed(1)).join(' ')}; ${new Date().toISOString()}`);
  console.log('| view | first contentful paint, median (worst) ms | first page of rows painted, median (worst) ms |');
  console.log('|---|---|---|');
  for (const [view, r] of Object.entries(results)) console.log(`| #/${view} | ${med(r.fcp).toFixed(0)} (${max(r.fcp).toFixed(0)}) | ${med(r.rows).toFixed(0)} (${max(r.rows).toFixed(0)}) |`);
} finally {
  await browser.close();
  await serve.stop();
  rmSync(dir, { recursive: true, force: true });
}
